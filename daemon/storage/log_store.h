#pragma once

// LogStore: Raft's persistent log and hard state per shard, in the `raftlog` and `raftstate`
// databases (DESIGN §5). The Raft issue builds replication on it; on one node it serves crash
// recovery: entries in (applied, commit] are applied again at start (recover()).
//
// raftlog key:   u32 shard | u64 index      value: u64 term | u8 entry type | payload
// raftstate key: u32 shard                  value: u8 version (2) | u64 term | u64 vote |
//                                                  u64 commit | u64 applied | u64 snapshot index
//                                                  | u64 snapshot term | u32 n | n x u64 voter
//                                                  | u32 m | m x u64 learner
//                (version 1, still read: the first five fields only, no snapshot)
// raftstate key: u32 shard | u8 1           value: the snapshot's data blob (absent = empty)
// All integers big-endian. Entries (snapshot index, last index] of a shard are present.
// Every value is sealed with a checksum over its key and bytes (record_seal.h; format 2).

#include <cstdint>
#include <string>
#include <string_view>
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

// The latest snapshot of a shard (RaftLogStore): the log holds only entries after `index`.
struct RaftSnapshotInfo {
    std::uint64_t index = 0;
    std::uint64_t term = 0;
    std::vector<std::uint64_t> voters;
    std::vector<std::uint64_t> learners;

    bool operator==(const RaftSnapshotInfo&) const = default;
};

// Everything under a shard's raftstate key.
struct RaftState {
    HardState hard;
    RaftSnapshotInfo snapshot;
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
    static Status append(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                         std::uint64_t index, std::uint64_t term, std::uint8_t type,
                         std::string_view payload);
    // Records from..to (inclusive) that exist, in order. With maxBytes, stops before a record
    // whose payload would take the total past it (the first record is always returned).
    static Result<std::vector<RaftLogRecord>> read(const Environment& env, MDB_txn* txn,
                                                   std::uint32_t shard, std::uint64_t from,
                                                   std::uint64_t to,
                                                   std::uint64_t maxBytes = UINT64_MAX);
    // The term of record `index`; NotFound when it does not exist.
    static Result<std::uint64_t> term(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                                      std::uint64_t index);
    // Removes entries with index <= upTo.
    static Status truncatePrefix(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                                 std::uint64_t upTo);
    // Removes entries with index >= from (a conflicting suffix).
    static Status truncateSuffix(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                                 std::uint64_t from);
    // Index of the shard's last log record; 0 when it has none.
    static Result<std::uint64_t> lastIndex(const Environment& env, MDB_txn* txn,
                                           std::uint32_t shard);
    static Result<HardState> hardState(const Environment& env, MDB_txn* txn, std::uint32_t shard);
    // Replaces the hard state and keeps the snapshot info already stored.
    static Status setHardState(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                               const HardState& state);
    static Result<RaftState> raftState(const Environment& env, MDB_txn* txn, std::uint32_t shard);
    static Status setRaftState(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                               const RaftState& state);
    static Result<std::string> snapshotData(const Environment& env, MDB_txn* txn,
                                            std::uint32_t shard);
    static Status setSnapshotData(const Environment& env, MDB_txn* txn, std::uint32_t shard,
                                  std::string_view data);
    static Result<std::vector<std::uint32_t>> shards(const Environment& env, MDB_txn* txn);
};

class Writer;

// Crash recovery: for every shard, applies the LogEntries in (applied, commit] and records the
// new applied index, in one transaction per shard. Returns how many entries were applied.
// Entries up to the snapshot index count as applied (the snapshot holds their effect).
Result<std::uint64_t> recoverLog(Environment& env, Writer& writer);

} // namespace troupe::storage
