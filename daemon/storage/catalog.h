#pragma once

// The actor catalog: (type, name) -> ActorRecord, in the `actors` database, plus per-type
// actor counts in `meta`. Reads run in a caller's ReadTxn from any thread; changes are
// CatalogOps carried in a LogEntry and applied by the Writer (so that creating an actor and
// its first pages commit together).
//
// Key:   u8 type length | type bytes | name bytes
// Value: u8 record version (1) | u64 actor id | u32 shard hash | u8 flags, sealed with a
//        checksum over key and value (record_seal.h; format 2)

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <lmdb.h>

#include "core/status.h"
#include "storage/environment.h"

namespace troupe::storage {

inline constexpr std::size_t kMaxTypeLength = 64;
inline constexpr std::size_t kMaxNameLength = 400; // LMDB keys are at most 511 bytes

struct ActorRecord {
    std::string type;
    std::string name;
    std::uint64_t id = 0;
    std::uint32_t hash = 0; // murmur3_32(name): the shard position
    std::uint8_t flags = 0;
};

// Checks a type or name against the catalog's limits (non-empty, length). The error is
// InvalidType / EmptyActorName / InvalidActorName with the reason.
Status validateActorKey(std::string_view type, std::string_view name);

std::string encodeCatalogKey(std::string_view type, std::string_view name);

class Catalog {
public:
    // Looks up an actor; NotFound when it does not exist.
    static Result<ActorRecord> find(const Environment& env, MDB_txn* txn, std::string_view type,
                                    std::string_view name);

    // Actors of `type` whose name starts with `prefix`, in name order, starting after
    // `afterName` (empty = from the beginning), at most `limit`.
    static Result<std::vector<ActorRecord>> list(const Environment& env, MDB_txn* txn,
                                                 std::string_view type, std::string_view prefix,
                                                 std::string_view afterName, std::size_t limit);

    // Number of actors of `type` (kept as a counter, O(1)); of every type when type is empty.
    static Result<std::uint64_t> count(const Environment& env, MDB_txn* txn, std::string_view type);

    // The largest actor id ever allocated (0 on a fresh environment).
    static Result<std::uint64_t> maxActorId(const Environment& env, MDB_txn* txn);

    // Writer side, inside a write transaction.
    // Creates or replaces a record. A new record bumps the counts of its type and the total;
    // replacing one with a different id frees the old id's pages. Raises maxActorId if needed.
    static Status put(const Environment& env, MDB_txn* txn, const ActorRecord& record);
    // Removes the record and every page of the actor. NotFound if it does not exist.
    static Status remove(const Environment& env, MDB_txn* txn, std::string_view type,
                         std::string_view name);
};

} // namespace troupe::storage
