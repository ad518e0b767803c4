#pragma once

// LogStore: Raft's persistent log and hard state per shard, in the `raftlog` and `raftstate`
// databases (DESIGN §5). The Raft issue builds replication on it; on one node it serves crash
// recovery: entries in (applied, commit] are applied again at start (recover()).
//
// raftlog key:   u32 shard | u64 index      value: u64 term | u8 entry type | payload
// raftstate key: u32 shard                  value: u8 version (1) | u64 term | u64 vote |
//                                                  u64 commit | u64 applied

#include <cstdint>
#include <string>
#include <vector>

#include <lmdb.h>

#include "core/status.h"
#include "storage/environment.h"

namespace troupe::storage {

struct HardState {
    std::uint64_t term = 0;
    std::uint64_t vote = 0;
    std::uint64_t commit = 0;
    std::uint64_t applied = 0;
};

struct RaftLogRecord {
    std::uint64_t index = 0;
    std::uint64_t term = 0;
    std::uint8_t type = 0; // 0 = LogEntry payload (log_entry.h); others belong to Raft
    std::string payload;
};

class LogStore {
public:
    static Status append(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                         const RaftLogRecord& record);
    static Result<std::vector<RaftLogRecord>> read(const Environment& env, MDB_txn* txn,
                                                   std::uint32_t shard, std::uint64_t from,
                                                   std::uint64_t to); // inclusive
    // Removes entries with index <= upTo.
    static Status truncatePrefix(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                                 std::uint64_t upTo);
    static Result<HardState> hardState(const Environment& env, MDB_txn* txn, std::uint32_t shard);
    static Status setHardState(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                               const HardState& state);
    static Result<std::vector<std::uint32_t>> shards(const Environment& env, MDB_txn* txn);
};

class Writer;

// Crash recovery: for every shard, applies the LogEntries in (applied, commit] and records the
// new applied index, in one transaction per shard. Returns how many entries were applied.
Result<std::uint64_t> recoverLog(Environment& env, Writer& writer);

} // namespace troupe::storage
