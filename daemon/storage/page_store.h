#pragma once

// PageStore: an actor's SQLite database file as stored in the `pages` database.
//
// Key:   u64 actor id | u32 pgno (big-endian; pgno 0 is the actor's header)
// Value: pgno 0:  u8 version (1) | u32 database size in pages
//        pgno >0: a stored page (page_codec)
//        each sealed with a checksum over key and value (record_seal.h; format 2)
//
// Readers call these in their own ReadTxn from any thread; apply/removeAll run in the
// Writer's write transaction.

#include <cstdint>

#include <lmdb.h>

#include "core/status.h"
#include "storage/environment.h"
#include "storage/log_entry.h"

namespace troupe::storage {

class PageStore {
public:
    // Database size in pages (0 for an actor with no pages yet).
    static Result<std::uint32_t> dbSize(const Environment& env, MDB_txn* txn,
                                        std::uint64_t actorId);

    // Reads page `pgno` into `page` (kPageSize bytes). A page inside the database size that
    // has no record reads as zeros (SQLite may extend a file without writing every page);
    // NotFound for pgno beyond the size; Corruption (naming actor and page, reported to the
    // Environment) for a record that fails its checksum or does not decode.
    static Status readPage(const Environment& env, MDB_txn* txn, std::uint64_t actorId,
                           std::uint32_t pgno, std::uint8_t* page);

    // Writes the pages of `ws`, drops pages beyond ws.dbPages, records the new size.
    // Returns the number of value bytes written (for metrics) through `bytesWritten`.
    static Status apply(const Environment& env, MDB_txn* txn, const WriteSet& ws,
                        std::uint64_t* bytesWritten = nullptr);

    // Deletes every page and the header of an actor.
    static Status removeAll(const Environment& env, MDB_txn* txn, std::uint64_t actorId);
};

} // namespace troupe::storage
