#pragma once

// Progress: what a leader knows about one follower's log (etcd's tracker.Progress). Owned by
// the leader's Node::State; single-threaded like the node.
//
// States: Probe — one Append at a time until the follower's match is found (after a
// rejection or on election); Replicate — pipelined Appends, optimistic `next`, bounded by the
// inflight window; Snapshot — the follower is receiving the snapshot, no Appends.

#include <cstdint>
#include <deque>

#include "raft/types.h"

namespace troupe::raft {

class Inflights {
public:
    Inflights(int maxMessages, std::uint64_t maxBytes)
        : m_maxMessages(maxMessages), m_maxBytes(maxBytes) {}

    void add(Index last, std::uint64_t bytes);
    // The follower acknowledged everything up to `index`.
    void freeTo(Index index);
    void freeFirst();
    void reset();
    bool full() const;
    int count() const { return static_cast<int>(m_items.size()); }
    std::uint64_t bytes() const { return m_bytes; }

private:
    struct Item {
        Index last;
        std::uint64_t bytes;
    };
    int m_maxMessages;
    std::uint64_t m_maxBytes;
    std::deque<Item> m_items;
    std::uint64_t m_bytes = 0;
};

struct Progress {
    enum class State : std::uint8_t { Probe, Replicate, Snapshot };

    Progress(int maxMessages, std::uint64_t maxBytes) : inflights(maxMessages, maxBytes) {}

    Index match = 0;
    Index next = 1;
    State state = State::Probe;
    bool probeSent = false;    // Probe: an Append is outstanding
    bool recentActive = false; // heard from within the last check-quorum period
    bool learner = false;
    Index knownCommit = 0;            // the follower's commit index, as it last told us
    Index sentCommit = 0;             // the highest commit index sent to it
    std::int64_t ackTick = -1;        // leader tick of the latest heartbeat it acknowledged
    Index pendingSnapshot = 0;        // Snapshot: index of the snapshot being sent
    std::uint64_t snapshotOffset = 0; // Snapshot: bytes the follower has acknowledged
    Inflights inflights;

    bool paused() const;
    void becomeProbe();
    void becomeReplicate();
    void becomeSnapshot(Index snapshotIndex);
    // An acknowledgement of `index`: returns whether match moved.
    bool maybeUpdate(Index index);
    // A rejection of the Append whose previous entry was `rejected`; `hint` is where the leader
    // should try next (after fast backtracking). False when the rejection is stale.
    bool maybeDecrTo(Index rejected, Index hint);
};

} // namespace troupe::raft
