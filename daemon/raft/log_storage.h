#pragma once

// LogStorage: the durable side of one Raft group as the core sees it — the persisted log, hard
// state, membership and the latest snapshot. The core only reads through this interface; the
// driver writes (from Ready) before calling Node::advance. MemoryLogStorage is the in-memory
// implementation used by the simulator and the unit tests; the LMDB implementation lives in
// daemon/storage (raftlog/raftstate of DESIGN §5).
//
// Indexes: entries (snapshot.index, lastIndex()] are present. firstIndex() = snapshot.index + 1.
// term(snapshot.index) is answerable (snapshot.term). Not thread-safe: one owner at a time.

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "raft/types.h"

namespace troupe::raft {

class LogStorage {
public:
    virtual ~LogStorage() = default;

    // State at start-up: the persisted hard state and the membership (from the snapshot and any
    // ConfChange entries after it the core replays itself; conf() is the snapshot's).
    virtual HardState hardState() const = 0;
    virtual SnapshotMeta snapshotMeta() const = 0;

    virtual Index firstIndex() const = 0;
    virtual Index lastIndex() const = 0;
    // Term of entry i for snapshotMeta().index <= i <= lastIndex(); an error otherwise
    // (NotFound when compacted away or beyond the end).
    virtual Result<Term> term(Index i) const = 0;
    // Entries [lo, hi), at least one when lo < hi, and no more than maxBytes of data beyond the
    // first. NotFound when lo < firstIndex().
    virtual Result<std::vector<Entry>> entries(Index lo, Index hi,
                                               std::uint64_t maxBytes) const = 0;
    // The latest snapshot (meta and data), for sending to a follower that is too far behind.
    virtual Result<Snapshot> snapshot() const = 0;

    // Writes, called by the driver (never by the core):
    // Appends entries; an entry at an index that already exists replaces it and every later one.
    virtual Status append(const std::vector<Entry>& entries) = 0;
    virtual Status setHardState(const HardState& state) = 0;
    // Installs a snapshot received from the leader: drops the whole log.
    virtual Status applySnapshot(const Snapshot& snapshot) = 0;
    // Records a snapshot the driver took at `index` (<= applied) and drops entries <= index.
    virtual Status compact(Index index, const ConfState& conf, std::string data) = 0;
};

class MemoryLogStorage final : public LogStorage {
public:
    HardState hardState() const override { return m_hardState; }
    SnapshotMeta snapshotMeta() const override { return m_snapshot.meta; }
    Index firstIndex() const override;
    Index lastIndex() const override;
    Result<Term> term(Index i) const override;
    Result<std::vector<Entry>> entries(Index lo, Index hi, std::uint64_t maxBytes) const override;
    Result<Snapshot> snapshot() const override { return m_snapshot; }

    Status append(const std::vector<Entry>& entries) override;
    Status setHardState(const HardState& state) override;
    Status applySnapshot(const Snapshot& snapshot) override;
    Status compact(Index index, const ConfState& conf, std::string data) override;

private:
    HardState m_hardState;
    Snapshot m_snapshot;
    std::vector<Entry> m_entries; // m_entries[k].index == m_snapshot.meta.index + 1 + k
};

// Driver step 1 of a Ready (types.h), the same for every driver (tests, simulator, server):
// the snapshot first (it drops the log), then the entries, then the hard state — so a crash in
// between never leaves a hard state whose commit index points past the persisted log.
Status persist(LogStorage& storage, const Ready& ready);

} // namespace troupe::raft
