#pragma once

// RaftLogStore: the durable log, hard state and snapshot of one Raft group (one shard) in the
// Environment's `raftlog` and `raftstate` databases (layout in log_store.h and
// resources/docs/formats.md), as the Raft core reads it through raft::LogStorage.
//
// Group commit across groups: persist() hands a request (what a Ready asks to be made durable)
// to the Environment's storage Writer, which applies the pending requests of every group —
// together with the state machine's LogEntries — in ONE write transaction and ONE fsync (per the
// FsyncMode), then runs each request's completion. The driver sends a Ready's messages from that
// completion, so nothing leaves before the entries and hard state it depends on are on disk. A
// failed transaction (disk full, I/O error) fails every request of the batch and leaves nothing
// of it visible. Without a Writer (tools, tests) every write is its own transaction.
//
// Reads come from an in-memory copy of the hard state, snapshot meta, first/last index and the
// terms of the last kCachedTerms entries, refreshed when a write commits (on the writer thread),
// and from LMDB read transactions for entries and snapshot data; open() rebuilds the copy from
// disk, so reads are correct after a restart.
//
// Threads: one owner (the group's driver) calls the LogStorage methods and persist(); the
// completions run on the writer thread. The cached state is guarded by m_mutex, so the owner may
// read while a write of its group commits. The synchronous writes (append, setHardState, ...)
// wait for the writer: never call them from a Writer completion. The store must outlive its
// pending requests.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "raft/log_storage.h"
#include "raft/types.h"
#include "storage/environment.h"

namespace troupe::storage {

class Writer;

// What one group asks to make durable in one go: a Ready's snapshot, entries (an entry at an
// index that exists replaces it and everything after it) and hard state, and optionally a
// compaction the driver decided on (a snapshot it took at `index` <= applied: entries <= index
// are dropped). Applied in that order, all or nothing.
struct RaftPersist {
    struct Compaction {
        raft::Index index = 0;
        raft::ConfState conf;
        std::string data;
    };
    std::optional<raft::Snapshot> snapshot;
    std::vector<raft::Entry> entries;
    std::optional<raft::HardState> hardState;
    std::optional<Compaction> compaction;

    // Step 1 of a Ready (types.h) as one request (raft::persist would make three).
    static RaftPersist fromReady(const raft::Ready& ready);
    bool empty() const { return !snapshot && entries.empty() && !hardState && !compaction; }
    std::size_t byteSize() const;
};

class RaftLogStore final : public raft::LogStorage {
public:
    using Completion = std::function<void(Status)>;
    static constexpr std::size_t kCachedTerms = 1024;

    // Loads the shard's state from disk. `writer` (may be null) must be running while writes are
    // made and outlive the store.
    static Result<std::unique_ptr<RaftLogStore>> open(Environment& env, std::uint32_t shard,
                                                      Writer* writer);
    ~RaftLogStore() override;
    RaftLogStore(const RaftLogStore&) = delete;
    RaftLogStore& operator=(const RaftLogStore&) = delete;

    std::uint32_t shard() const { return m_shard; }

    raft::HardState hardState() const override;
    raft::SnapshotMeta snapshotMeta() const override;
    raft::Index firstIndex() const override;
    raft::Index lastIndex() const override;
    Result<raft::Term> term(raft::Index i) const override;
    Result<std::vector<raft::Entry>> entries(raft::Index lo, raft::Index hi,
                                             std::uint64_t maxBytes) const override;
    Result<raft::Snapshot> snapshot() const override;

    // Each is one persistNow().
    Status append(const std::vector<raft::Entry>& entries) override;
    Status setHardState(const raft::HardState& state) override;
    Status applySnapshot(const raft::Snapshot& snapshot) override;
    Status compact(raft::Index index, const raft::ConfState& conf, std::string data) override;

    // Queues `request` for the writer's next batch. `done` runs on the writer thread once the
    // request is durable (per the FsyncMode) and this store's reads show it, or with the error
    // (InvalidArgument for a request that does not fit the log — a gap, a stale snapshot, a
    // compaction outside the log — which then changes nothing). Without a writer, it is
    // applied and `done` runs in the calling thread.
    void persist(RaftPersist request, Completion done);
    // persist() and wait.
    Status persistNow(RaftPersist request);

    // What a committed request changed, for the in-memory copy (filled by the transaction).
    struct Effect;

private:
    RaftLogStore(Environment& env, std::uint32_t shard, Writer* writer);
    void commitEffect(const Effect& effect); // after the transaction committed
    std::optional<Result<raft::Term>> cachedTerm(raft::Index i) const;

    Environment& m_env;
    const std::uint32_t m_shard;
    Writer* const m_writer;

    mutable std::mutex m_mutex; // guards everything below
    raft::HardState m_hard;
    raft::SnapshotMeta m_snapshot;
    raft::Index m_last = 0;
    // Terms of entries [m_termsFirst, m_termsFirst + m_terms.size()), a suffix of the log that
    // may be shorter than the log (empty after open): a miss reads LMDB.
    raft::Index m_termsFirst = 1;
    std::deque<raft::Term> m_terms;
};

} // namespace troupe::storage
