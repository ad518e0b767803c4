// Node: construction from storage, the public entry points, message dispatch by role, and the
// Ready/advance protocol. The rules themselves live in election.cpp, replication.cpp, reads.cpp,
// snapshot.cpp and membership.cpp (see node_state.h).

#include <algorithm>

#include "raft/node_state.h"

namespace troupe::raft {

Node::State::State(const Config& config, const LogStorage& store)
    // Each node of a seeded test cluster draws different timeouts, still reproducibly.
    : cfg(config), storage(store), rng(config.randomSeed ^ (config.id * 0x9E3779B97F4A7C15ull)) {}

Node::Node() = default;
Node::~Node() = default;

Result<std::unique_ptr<Node>> Node::create(const Config& config, const LogStorage& storage) {
    if (config.id == kNoNode)
        return Status(ErrorCode::InvalidArgument, "raft node id 0");
    if (config.heartbeatTicks < 1 || config.electionTicks <= config.heartbeatTicks)
        return Status(ErrorCode::InvalidArgument, "need 1 <= heartbeatTicks < electionTicks");
    if (config.leaseDriftTicks < 0 || config.leaseDriftTicks >= config.electionTicks)
        return Status(ErrorCode::InvalidArgument, "need 0 <= leaseDriftTicks < electionTicks");
    std::unique_ptr<Node> node(new Node());
    node->m_state = std::make_unique<State>(config, storage);
    State& s = *node->m_state;
    HardState hs = storage.hardState();
    SnapshotMeta snap = storage.snapshotMeta();
    if (hs.commit > storage.lastIndex() || hs.commit < snap.index) {
        if (hs.commit > storage.lastIndex())
            return Status(ErrorCode::Corruption, "raft: commit index " + std::to_string(hs.commit) +
                                                     " beyond the persisted log");
        hs.commit = snap.index; // the snapshot itself is committed
    }
    s.term = hs.term;
    s.vote = hs.vote;
    s.committed = hs.commit;
    s.prevHard = storage.hardState();
    s.unstableOffset = storage.lastIndex() + 1;
    s.applied = std::clamp<Index>(config.applied, snap.index, s.committed);
    // The configuration: the snapshot's, then every ConfChange entry after it (they took effect
    // when appended, committed or not).
    s.baseConf = snap.conf;
    for (Index lo = storage.firstIndex(); lo <= storage.lastIndex();) {
        auto batch = storage.entries(lo, storage.lastIndex() + 1, 4 << 20);
        if (!batch)
            return batch.status().withContext("raft: replaying membership");
        if (batch->empty())
            break;
        s.onEntriesAppended(*batch);
        lo = batch->back().index + 1;
    }
    s.recomputeConf();
    s.becomeFollower(s.term, kNoNode);
    s.prevSoft = SoftState{kNoNode, Role::Follower};
    return node;
}

void Node::tick() {
    State& s = *m_state;
    ++s.now;
    if (s.role == Role::Leader)
        s.tickHeartbeat();
    else
        s.tickElection();
}

void Node::step(const Message& m) {
    m_state->step(m);
}

void Node::State::step(const Message& m) {
    if (m.group != cfg.group || m.from == cfg.id)
        return;
    // Answers to the quiescing heartbeat must not wake the group they put to sleep.
    if (m.type != MessageType::HeartbeatResponse)
        wake();
    if (!stepTerm(m))
        return;
    if (m.type == MessageType::PreVote || m.type == MessageType::Vote) {
        handleVoteRequest(m);
        return;
    }
    switch (role) {
    case Role::Leader:
        stepLeader(m);
        break;
    case Role::PreCandidate:
    case Role::Candidate:
        stepCandidate(m);
        break;
    case Role::Follower:
        stepFollower(m);
        break;
    }
}

void Node::State::stepLeader(const Message& m) {
    switch (m.type) {
    case MessageType::AppendResponse:
        handleAppendResponse(m);
        break;
    case MessageType::HeartbeatResponse:
        handleHeartbeatResponse(m);
        break;
    case MessageType::SnapshotResponse:
        handleSnapshotResponse(m);
        break;
    case MessageType::ReadIndex:
        handleReadIndex(m);
        break;
    default:
        break; // votes answered elsewhere; nothing else is meant for a leader
    }
}

void Node::State::stepCandidate(const Message& m) {
    switch (m.type) {
    case MessageType::Append:
    case MessageType::Heartbeat:
    case MessageType::SnapshotChunk:
        // A leader exists for our term (§5.2): concede.
        becomeFollower(term, m.from);
        stepFollower(m);
        break;
    case MessageType::PreVoteResponse:
    case MessageType::VoteResponse:
        handleVoteResponse(m);
        break;
    default:
        break;
    }
}

void Node::State::stepFollower(const Message& m) {
    switch (m.type) {
    case MessageType::Append:
        electionElapsed = 0;
        lead = m.from;
        handleAppend(m);
        break;
    case MessageType::Heartbeat:
        electionElapsed = 0;
        lead = m.from;
        handleHeartbeat(m);
        break;
    case MessageType::SnapshotChunk:
        electionElapsed = 0;
        lead = m.from;
        handleSnapshotChunk(m);
        break;
    case MessageType::TimeoutNow:
        handleTimeoutNow(m);
        break;
    case MessageType::ReadIndexResponse:
        handleReadIndexResponse(m);
        break;
    default:
        break;
    }
}

Result<Index> Node::propose(std::string data) {
    State& s = *m_state;
    if (s.role != Role::Leader)
        return Status(ErrorCode::NotLeader, "not the leader; leader is " + std::to_string(s.lead));
    if (s.transferee != kNoNode)
        return Status(ErrorCode::Busy, "leadership transfer in progress");
    s.wake();
    Entry e;
    e.data = std::move(data);
    return s.appendNew({std::move(e)});
}

Status Node::transferLeadership(NodeId to) {
    State& s = *m_state;
    if (s.role != Role::Leader)
        return Status(ErrorCode::NotLeader, "not the leader; leader is " + std::to_string(s.lead));
    if (to == s.cfg.id)
        return Status::ok();
    auto it = s.progress.find(to);
    if (it == s.progress.end() || it->second.learner)
        return Status(ErrorCode::InvalidArgument, "transfer target is not a voter");
    s.wake();
    if (s.transferee == to)
        return Status::ok();
    s.transferee = to;
    s.electionElapsed = 0; // the transfer is abandoned after one election timeout
    if (it->second.match == s.lastIndex()) {
        Message m;
        m.type = MessageType::TimeoutNow;
        m.to = to;
        s.send(std::move(m));
        s.leaseDisabled = true;
    } else {
        s.sendAppend(to, true);
    }
    return Status::ok();
}

bool Node::State::canQuiesce() const {
    if (!cfg.quiesce || role != Role::Leader || transferee != kNoNode || !pendingReads.empty() ||
        !readsAwaitingCommit.empty() || !unstable.empty() || committed != lastIndex() ||
        applied != committed)
        return false;
    for (auto& [id, pr] : progress) {
        if (pr.match != lastIndex() || pr.knownCommit < committed)
            return false;
    }
    return true;
}

void Node::State::wake() {
    if (!quiet)
        return;
    quiet = false;
    if (role == Role::Leader) {
        // The leader was not ticked while quiet: give every follower a fresh check-quorum
        // period and heartbeat on the next tick.
        electionElapsed = 0;
        heartbeatElapsed = cfg.heartbeatTicks;
        for (auto& [id, pr] : progress) {
            pr.recentActive = true;
            pr.ackTick = -1;
        }
    }
}

bool Node::quiescent() const {
    return m_state->quiet;
}

void Node::wake() {
    m_state->wake();
}

void Node::leaderNodeAlive() {
    State& s = *m_state;
    if (s.role == Role::Follower && s.lead != kNoNode)
        s.electionElapsed = 0;
}

bool Node::hasReady() const {
    const State& s = *m_state;
    return SoftState{s.lead, s.role} != s.prevSoft ||
           HardState{s.term, s.vote, s.committed} != s.prevHard || !s.unstable.empty() ||
           s.pendingSnapshot || s.committed > s.applied || !s.msgs.empty() ||
           !s.readStates.empty() ||
           (!s.snapshotRequested &&
            s.applied > s.storage.firstIndex() - 1 + s.cfg.snapshotThreshold);
}

Ready Node::ready() {
    State& s = *m_state;
    Ready r;
    SoftState soft{s.lead, s.role};
    if (soft != s.prevSoft)
        r.softState = soft;
    HardState hard{s.term, s.vote, s.committed};
    if (hard != s.prevHard)
        r.hardState = hard;
    r.entries = s.unstable;
    r.snapshot = s.pendingSnapshot;
    Index from = std::max(s.applied, s.pendingSnapshot ? s.pendingSnapshot->meta.index : 0) + 1;
    if (from <= s.committed) {
        auto ents = s.slice(from, s.committed + 1, s.cfg.maxApplyBytes);
        if (ents)
            r.committed = std::move(*ents);
    }
    r.messages = std::move(s.msgs);
    s.msgs.clear();
    r.readStates = std::move(s.readStates);
    s.readStates.clear();
    Index applied = r.committed.empty() ? s.applied : r.committed.back().index;
    if (!s.snapshotRequested && applied > s.storage.firstIndex() - 1 + s.cfg.snapshotThreshold) {
        r.wantSnapshot = true;
        s.snapshotRequested = true;
    }
    return r;
}

void Node::advance(const Ready& r) {
    State& s = *m_state;
    if (r.softState)
        s.prevSoft = *r.softState;
    if (r.hardState)
        s.prevHard = *r.hardState;
    if (r.snapshot && s.pendingSnapshot && s.pendingSnapshot->meta == r.snapshot->meta) {
        s.pendingSnapshot.reset();
        s.applied = std::max(s.applied, r.snapshot->meta.index);
    }
    if (!r.entries.empty()) {
        const Entry& last = r.entries.back();
        // Only what is still ours: entries handed out may have been replaced meanwhile.
        if (!s.unstable.empty() && last.index >= s.unstableOffset &&
            last.index <= s.unstable.back().index &&
            s.unstable[last.index - s.unstableOffset].term == last.term) {
            s.unstable.erase(s.unstable.begin(),
                             s.unstable.begin() +
                                 static_cast<std::ptrdiff_t>(last.index - s.unstableOffset + 1));
            s.unstableOffset = last.index + 1;
        }
    }
    if (!r.committed.empty())
        s.applied = std::max(s.applied, r.committed.back().index);
}

NodeId Node::id() const {
    return m_state->cfg.id;
}
Term Node::term() const {
    return m_state->term;
}
NodeId Node::leader() const {
    return m_state->lead;
}
Role Node::role() const {
    return m_state->role;
}
Index Node::commitIndex() const {
    return m_state->committed;
}
Index Node::lastIndex() const {
    return m_state->lastIndex();
}

} // namespace troupe::raft
