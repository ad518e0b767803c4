// Linearizable reads without a log entry (thesis §6.4). The leader records its commit index as
// the read index, then confirms it is still the leader: by a heartbeat round a quorum answers
// (read-index), or at once while it holds a lease (§6.4.1) — check-quorum makes followers
// ignore votes for electionTicks after hearing from it, so no other leader can exist until
// electionTicks (minus a clock-drift margin) after the start of the last round a quorum
// acknowledged. Either way the leader must first have committed an entry of its own term,
// otherwise its commit index may lag the previous leader's.

#include <algorithm>

#include "raft/node_state.h"

namespace troupe::raft {

bool Node::State::leaseValid() const {
    if (!cfg.leaseReads || !cfg.checkQuorum || leaseDisabled || transferee != kNoNode)
        return false;
    std::vector<std::int64_t> acks;
    for (NodeId id : conf.voters) {
        if (id == cfg.id) {
            acks.push_back(now);
            continue;
        }
        auto it = progress.find(id);
        acks.push_back(it == progress.end() ? -1 : it->second.ackTick);
    }
    std::sort(acks.begin(), acks.end(), std::greater<std::int64_t>());
    std::int64_t start = acks[quorum() - 1];
    if (start < 0)
        return false;
    return now < start + cfg.electionTicks - cfg.leaseDriftTicks;
}

void Node::State::answerRead(const PendingRead& read) {
    if (read.from == kNoNode || read.from == cfg.id) {
        readStates.push_back(ReadState{read.index, read.context});
        return;
    }
    Message r;
    r.type = MessageType::ReadIndexResponse;
    r.to = read.from;
    r.index = read.index;
    r.context = read.context;
    send(std::move(r));
}

void Node::State::leaderRead(PendingRead read) {
    if (!committedInTerm()) {
        readsAwaitingCommit.push_back(std::move(read));
        return;
    }
    read.index = committed;
    if (conf.voters.size() == 1 && isVoter(cfg.id)) {
        answerRead(read);
        return;
    }
    if (leaseValid()) {
        answerRead(read);
        return;
    }
    read.acks = {cfg.id};
    std::string context = read.context;
    pendingReads.push_back(std::move(read));
    broadcastHeartbeat(context, false);
}

void Node::State::releaseReadsAwaitingCommit() {
    if (readsAwaitingCommit.empty() || !committedInTerm())
        return;
    auto reads = std::move(readsAwaitingCommit);
    readsAwaitingCommit.clear();
    for (auto& read : reads)
        leaderRead(std::move(read));
}

// A heartbeat answer carrying a read's context confirms leadership as of that read and every
// read queued before it (they were all recorded while this node was already leader).
void Node::State::ackRead(NodeId from, const std::string& context) {
    if (!isVoter(from))
        return;
    auto it = std::find_if(pendingReads.begin(), pendingReads.end(),
                           [&](const PendingRead& r) { return r.context == context; });
    if (it == pendingReads.end())
        return;
    if (std::find(it->acks.begin(), it->acks.end(), from) == it->acks.end())
        it->acks.push_back(from);
    std::size_t votersAcked = 0;
    for (NodeId id : it->acks)
        votersAcked += isVoter(id) ? 1 : 0;
    if (votersAcked < quorum())
        return;
    auto end = std::next(it);
    for (auto r = pendingReads.begin(); r != end; ++r)
        answerRead(*r);
    pendingReads.erase(pendingReads.begin(), end);
}

void Node::State::handleReadIndex(const Message& m) {
    PendingRead read;
    read.context = m.context;
    read.from = m.from;
    leaderRead(std::move(read));
}

void Node::State::handleReadIndexResponse(const Message& m) {
    readStates.push_back(ReadState{m.index, m.context});
}

Status Node::readIndex(std::string context) {
    State& s = *m_state;
    s.wake();
    if (s.role == Role::Leader) {
        State::PendingRead read;
        read.context = std::move(context);
        s.leaderRead(std::move(read));
        return Status::ok();
    }
    if (s.role == Role::Follower && s.lead != kNoNode) {
        Message m;
        m.type = MessageType::ReadIndex;
        m.to = s.lead;
        m.context = std::move(context);
        s.send(std::move(m));
        return Status::ok();
    }
    return Status(ErrorCode::NotLeader, "no known leader for a read");
}

} // namespace troupe::raft
