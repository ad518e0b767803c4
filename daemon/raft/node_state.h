#pragma once

// Node::State: the private state of one Raft group's core (node.h), shared by the files that
// implement it phase by phase: node.cpp (construction, Ready, tick, dispatch), log_view.cpp
// (the log as storage plus unpersisted entries), election.cpp, replication.cpp, reads.cpp,
// snapshot.cpp, membership.cpp. Not a public header. Single-threaded like Node.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "raft/node.h"
#include "raft/progress.h"

namespace troupe::raft {

struct Node::State {
    State(const Config& config, const LogStorage& storage);

    Config cfg;
    const LogStorage& storage;

    // --- the log (log_view.cpp): storage, then a received snapshot not yet persisted, then
    // entries not yet persisted. unstable[k].index == unstableOffset + k; entries of storage at
    // or after unstableOffset are being replaced and must not be read.
    std::optional<Snapshot> pendingSnapshot;
    std::vector<Entry> unstable;
    Index unstableOffset = 1;
    Index committed = 0;
    Index applied = 0; // handed to the driver in Ready::committed / snapshot

    Index firstIndex() const;
    Index lastIndex() const;
    Term lastTerm() const;
    std::optional<Term> termAt(Index i) const;
    bool matchTerm(Index i, Term t) const;
    // [lo, hi) within maxBytes (at least one entry); nullopt when lo was compacted.
    std::optional<std::vector<Entry>> slice(Index lo, Index hi, std::uint64_t maxBytes) const;
    // Appends after truncating any conflicting suffix at entries.front().index.
    void appendToLog(const std::vector<Entry>& entries);
    Index findConflict(const std::vector<Entry>& entries) const;
    Index findConflictByTerm(Index index, Term term) const;
    bool isUpToDate(Index index, Term term) const;
    void commitTo(Index index);

    // --- persistent and soft state
    Term term = 0;
    NodeId vote = kNoNode;
    NodeId lead = kNoNode;
    Role role = Role::Follower;
    HardState prevHard;
    SoftState prevSoft;

    // --- membership (membership.cpp): effective as soon as the entry is in the log
    ConfState baseConf;                               // the snapshot's
    std::vector<std::pair<Index, ConfState>> confLog; // after each ConfChange entry in the log
    ConfState conf;
    Index pendingConfIndex = 0; // a leader's last ConfChange entry; no new one until committed
    std::map<NodeId, Progress> progress; // leader: every member but itself

    bool isVoter(NodeId id) const;
    bool promotable() const { return isVoter(cfg.id); }
    std::size_t quorum() const { return conf.voters.size() / 2 + 1; }
    void recomputeConf();
    void syncProgress();
    void onEntriesAppended(const std::vector<Entry>& entries);
    void onLogTruncated(Index from);

    // --- timers and randomness (election.cpp)
    int electionElapsed = 0;
    int heartbeatElapsed = 0;
    int randomizedTimeout = 0;
    std::int64_t now = 0; // ticks since creation: the lease clock
    std::mt19937_64 rng;
    std::map<NodeId, bool> votes;

    void resetRandomizedTimeout();
    void reset(Term newTerm);
    void becomeFollower(Term newTerm, NodeId leader);
    void becomePreCandidate();
    void becomeCandidate();
    void becomeLeader();
    void startCampaign(bool preVote, bool transfer);
    void handleVoteRequest(const Message& m);
    void handleVoteResponse(const Message& m);
    bool stepTerm(const Message& m); // false: drop the message
    void tickElection();
    void tickHeartbeat();
    bool quorumActive() const;

    // --- replication (replication.cpp)
    std::vector<Message> msgs;
    void send(Message m);
    bool sendAppend(NodeId to, bool sendIfEmpty);
    void broadcastAppend();
    void sendHeartbeat(NodeId to, const std::string& context, bool quiesce);
    void broadcastHeartbeat(const std::string& context, bool quiesce);
    bool maybeCommit();
    Index appendNew(std::vector<Entry> entries); // leader
    void handleAppend(const Message& m);
    void handleAppendResponse(const Message& m);
    void handleHeartbeat(const Message& m);
    void handleHeartbeatResponse(const Message& m);
    bool committedInTerm() const; // the leader committed an entry of its own term

    // --- reads (reads.cpp)
    struct PendingRead {
        std::string context;
        Index index = 0;
        NodeId from = kNoNode; // kNoNode: this node's own readIndex call
        std::vector<NodeId> acks;
    };
    std::deque<PendingRead> pendingReads;         // awaiting a heartbeat round
    std::vector<PendingRead> readsAwaitingCommit; // before the leader committed in its term
    std::vector<ReadState> readStates;
    bool leaseDisabled = false; // a TimeoutNow was sent this term: no lease until the next term
    bool leaseValid() const;
    void leaderRead(PendingRead read);
    void answerRead(const PendingRead& read);
    void handleReadIndex(const Message& m);
    void handleReadIndexResponse(const Message& m);
    void ackRead(NodeId from, const std::string& context);
    void releaseReadsAwaitingCommit();

    // --- snapshots (snapshot.cpp)
    struct Incoming {
        SnapshotMeta meta;
        std::string data;
        NodeId from = kNoNode;
    };
    std::optional<Incoming> incoming;
    bool snapshotRequested = false;
    void sendSnapshot(NodeId to);
    void sendSnapshotChunk(NodeId to);
    void handleSnapshotChunk(const Message& m);
    void handleSnapshotResponse(const Message& m);
    bool restore(const Snapshot& snapshot);

    // --- leader transfer and quiescence
    NodeId transferee = kNoNode;
    int transferElapsed = 0;
    bool quiet = false;
    void abortTransfer() { transferee = kNoNode; }
    void handleTimeoutNow(const Message& m);
    bool canQuiesce() const;
    void wake();

    void step(const Message& m);
    void stepLeader(const Message& m);
    void stepFollower(const Message& m);
    void stepCandidate(const Message& m);
};

} // namespace troupe::raft
