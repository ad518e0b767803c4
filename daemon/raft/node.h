#pragma once

// Node: one Raft group's consensus state machine on one server, in the manner of etcd's raft —
// no threads, sockets, clocks or disk inside. Inputs are tick(), step(message), propose(...),
// readIndex(...), transferLeadership(...), changeMembership(...); outputs come back as a Ready
// (types.h) that the driver executes and then acknowledges with advance(). Owned by one driver;
// not thread-safe.
//
// Rules implemented (paper = Ongaro & Ousterhout 2014, thesis = Ongaro 2014):
//  - elections with randomised timeouts in [electionTicks, 2*electionTicks), pre-vote (thesis
//    §9.6) and check-quorum (a leader that has not heard from a quorum for electionTicks steps
//    down); a node that heard from a live leader within electionTicks ignores (pre-)votes;
//  - replication with pipelining (up to maxInflightMessages appends and maxInflightBytes
//    unacknowledged per follower), probe mode after a rejection, fast backtracking by term;
//  - a leader commits only entries of its own term by counting replicas (§5.4.2, figure 8);
//    it appends an empty entry on election;
//  - reads: readIndex(ctx) yields a ReadState once safe — by a heartbeat round confirming
//    leadership (read-index, thesis §6.4), or at once under a lease (thesis §6.4.1) when
//    Config::leaseReads is on: the lease runs until electionTicks - leaseDriftTicks after the
//    start of the last heartbeat round a quorum acknowledged;
//  - snapshots: wantSnapshot when the log outgrows snapshotThreshold; a follower whose next
//    entry was compacted receives the snapshot in chunks of snapshotChunkBytes;
//  - membership: one server at a time (ConfChange), effective when appended, one uncommitted
//    change at a time; leader transfer by TimeoutNow once the target is caught up;
//  - quiescence (Config::quiesce, see quiescent() below) for drivers that track server
//    liveness, like MultiRaft.
// resources/docs/raft.md ("The core") describes each rule, the message fields and defaults.

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "raft/log_storage.h"
#include "raft/types.h"

namespace troupe::raft {

struct Config {
    NodeId id = kNoNode;
    GroupId group = 0;
    int electionTicks = 10;
    int heartbeatTicks = 1;
    bool preVote = true;
    bool checkQuorum = true;
    bool leaseReads = true;
    int leaseDriftTicks = 2;                   // clock-drift margin taken off the lease
    std::uint64_t maxAppendBytes = 1 << 20;    // per Append message
    int maxInflightMessages = 256;             // pipelined Appends per follower
    std::uint64_t maxInflightBytes = 32 << 20; // unacknowledged bytes per follower
    std::uint64_t snapshotThreshold = 10000;   // entries beyond the last snapshot
    std::uint64_t snapshotChunkBytes = 1 << 20;
    // Entry data per Ready::committed (at least one entry): a node catching up applies in
    // bounded steps instead of holding the whole backlog in one Ready.
    std::uint64_t maxApplyBytes = 64 << 20;
    std::uint64_t randomSeed = 0; // seeds the election-timeout randomiser
    // Let the group go quiet (see Node::quiescent). Only for drivers that report the leader's
    // node as alive (MultiRaft does): a plain driver that just ticks must leave it off, or the
    // followers of a quiet leader would time out.
    bool quiesce = false;
    // The driver's applied index at start-up (its state machine survived the restart);
    // 0 = the snapshot's index, so committed entries after the snapshot are delivered again.
    Index applied = 0;
};

std::string encodeConfChange(const ConfChange& change);
Result<ConfChange> decodeConfChange(std::string_view data);

class Node {
public:
    // Restores from storage (hard state, snapshot, log). For a new group, the storage holds a
    // snapshot at index 0 whose conf lists the initial voters. `storage` outlives the node.
    static Result<std::unique_ptr<Node>> create(const Config& config, const LogStorage& storage);
    ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    void tick();
    // A message for this group from another node. Messages of older terms, unknown senders and
    // duplicates are handled per the rules above (ignored or answered), never an error.
    void step(const Message& message);

    // Leader only: appends data as a new entry and returns its index; NotLeader otherwise (the
    // message names the leader if known, see leader()).
    Result<Index> propose(std::string data);
    Result<Index> changeMembership(const ConfChange& change);
    // Called by the driver when it applies a committed ConfChange entry.
    void applyConfChange(const ConfChange& change);
    Status readIndex(std::string context);
    Status transferLeadership(NodeId to);
    // Starts an election now (tests; leader transfer uses TimeoutNow internally).
    void campaign();

    bool hasReady() const;
    Ready ready();
    // The driver did everything the Ready asked (persisted, sent, applied up to `applied`).
    void advance(const Ready& ready);
    // The driver took a snapshot at `index` and compacted storage; the core forgets entries.
    void compacted(Index index);

    // Quiescence (Config::quiesce): a leader whose followers have all acknowledged the whole
    // log and the commit index, with nothing pending (no reads, transfer, unpersisted or
    // unapplied entries), sends one last heartbeat marked `quiesce` and then stops sending
    // heartbeats and checking the quorum; its lease ends (its tick clock stops). A follower
    // whose log and commit match that heartbeat goes quiet too. The driver then stops ticking
    // quiet groups (MultiRaft does) and wakes a follower when the leader's node goes silent
    // (wake()); any proposal, read, transfer, membership change or message other than a
    // heartbeat answer wakes a group by itself. true while quiet.
    bool quiescent() const;
    // Followers of a quiet group: the leader's node was heard from (keeps the election timer).
    // A driver that does not tick quiet groups at all (MultiRaft) need not call it.
    void leaderNodeAlive();
    // Leaves quiescence without a message: the driver learned that the leader's node went
    // silent (MultiRaft's node-level heartbeat stopped), so the follower must tick again and,
    // after its election timeout, campaign.
    void wake();

    NodeId id() const;
    Term term() const;
    NodeId leader() const;
    Role role() const;
    Index commitIndex() const;
    Index lastIndex() const;
    const ConfState& conf() const;

private:
    Node();
    struct State;
    std::unique_ptr<State> m_state;
};

} // namespace troupe::raft
