// Leader election (§5.2) with randomised timeouts, pre-vote (thesis §9.6: a node that cannot win
// does not disturb the group by raising the term) and check-quorum (thesis §6.2: a leader that
// lost touch with a quorum steps down; a node that heard from a live leader within electionTicks
// ignores (pre-)votes, so a partitioned node rejoining cannot depose it).

#include "raft/node_state.h"

namespace troupe::raft {

namespace {
const char* const kTransferContext = "transfer";
}

void Node::State::resetRandomizedTimeout() {
    // [electionTicks, 2*electionTicks): deterministic given Config::randomSeed.
    std::uniform_int_distribution<int> d(cfg.electionTicks, 2 * cfg.electionTicks - 1);
    randomizedTimeout = d(rng);
}

void Node::State::reset(Term newTerm) {
    if (term != newTerm) {
        term = newTerm;
        vote = kNoNode;
        leaseDisabled = false;
    }
    lead = kNoNode;
    electionElapsed = 0;
    heartbeatElapsed = 0;
    resetRandomizedTimeout();
    votes.clear();
    abortTransfer();
    quiet = false;
    pendingReads.clear();
    readsAwaitingCommit.clear();
}

void Node::State::becomeFollower(Term newTerm, NodeId leader) {
    reset(newTerm);
    role = Role::Follower;
    lead = leader;
    syncProgress();
}

void Node::State::becomePreCandidate() {
    // Pre-vote keeps term and vote: nothing is persisted until a real election can be won.
    votes.clear();
    lead = kNoNode;
    quiet = false;
    electionElapsed = 0;
    resetRandomizedTimeout();
    role = Role::PreCandidate;
    syncProgress();
}

void Node::State::becomeCandidate() {
    reset(term + 1);
    vote = cfg.id;
    role = Role::Candidate;
    syncProgress();
}

void Node::State::becomeLeader() {
    reset(term);
    role = Role::Leader;
    lead = cfg.id;
    syncProgress();
    for (auto& [id, pr] : progress) {
        pr.match = 0;
        pr.next = lastIndex() + 1;
        pr.recentActive = true;
        pr.knownCommit = 0;
        pr.sentCommit = 0;
        pr.ackTick = -1;
        pr.becomeProbe();
        pr.next = lastIndex() + 1;
    }
    // Any ConfChange still uncommitted in the log counts as pending (one change at a time).
    pendingConfIndex = lastIndex();
    // The empty entry of the new term (§5.4.2, §8): lets the leader commit, and learn its commit
    // index, without waiting for a client proposal.
    appendNew({Entry{}});
}

void Node::State::startCampaign(bool preVote, bool transfer) {
    if (!promotable())
        return;
    if (preVote)
        becomePreCandidate();
    else
        becomeCandidate();
    Term voteTerm = preVote ? term + 1 : term;
    votes[cfg.id] = true;
    if (votes.size() >= quorum() && isVoter(cfg.id)) {
        // A single-voter group wins at once.
        if (preVote)
            startCampaign(false, transfer);
        else
            becomeLeader();
        return;
    }
    for (NodeId id : conf.voters) {
        if (id == cfg.id)
            continue;
        Message m;
        m.type = preVote ? MessageType::PreVote : MessageType::Vote;
        m.to = id;
        m.term = voteTerm;
        m.index = lastIndex();
        m.logTerm = lastTerm();
        if (transfer)
            m.context = kTransferContext;
        send(std::move(m));
    }
}

// Handles a message's term before its type. Returns false when the message must be dropped.
bool Node::State::stepTerm(const Message& m) {
    bool voteRequest = m.type == MessageType::PreVote || m.type == MessageType::Vote;
    if (m.term > term) {
        if (voteRequest) {
            bool forced = m.context == kTransferContext;
            // A node that heard from its leader within the election timeout ignores votes: the
            // leader is alive, the candidate is the one partitioned (check-quorum's lease). A
            // leader asking for votes itself has evidently stopped leading.
            bool inLease = cfg.checkQuorum && lead != kNoNode && lead != m.from &&
                           electionElapsed < cfg.electionTicks;
            if (!forced && inLease)
                return false;
        }
        if (m.type == MessageType::PreVote) {
            // Never change the term for a pre-vote.
        } else if (m.type == MessageType::PreVoteResponse && !m.reject) {
            // Our own pre-vote at term+1, granted.
        } else {
            bool fromLeader = m.type == MessageType::Append || m.type == MessageType::Heartbeat ||
                              m.type == MessageType::SnapshotChunk;
            becomeFollower(m.term, fromLeader ? m.from : kNoNode);
        }
        return true;
    }
    if (m.term < term) {
        if ((cfg.checkQuorum || cfg.preVote) &&
            (m.type == MessageType::Append || m.type == MessageType::Heartbeat)) {
            // A stale leader (possibly cut off by our check-quorum lease) learns our term and
            // steps down instead of retrying forever.
            Message r;
            r.type = MessageType::AppendResponse;
            r.to = m.from;
            send(std::move(r));
        } else if (m.type == MessageType::PreVote) {
            Message r;
            r.type = MessageType::PreVoteResponse;
            r.to = m.from;
            r.reject = true;
            send(std::move(r));
        }
        return false;
    }
    return true;
}

void Node::State::handleVoteRequest(const Message& m) {
    bool pre = m.type == MessageType::PreVote;
    // §5.2: one vote per term (a repeat for the same candidate is fine); a pre-vote for a later
    // term does not bind.
    bool canVote = vote == m.from || (vote == kNoNode && lead == kNoNode) || (pre && m.term > term);
    Message r;
    r.type = pre ? MessageType::PreVoteResponse : MessageType::VoteResponse;
    r.to = m.from;
    if (canVote && isUpToDate(m.index, m.logTerm)) {
        // A pre-vote answer carries the candidate's term so it counts for that campaign.
        r.term = m.term;
        if (!pre) {
            electionElapsed = 0;
            vote = m.from;
        }
    } else {
        r.reject = true;
    }
    send(std::move(r));
}

void Node::State::handleVoteResponse(const Message& m) {
    bool pre = role == Role::PreCandidate;
    if ((pre && m.type != MessageType::PreVoteResponse) ||
        (!pre && m.type != MessageType::VoteResponse) || !isVoter(m.from))
        return;
    votes.emplace(m.from, !m.reject);
    std::size_t granted = 0, rejected = 0;
    for (auto& [id, ok] : votes)
        (ok ? granted : rejected) += 1;
    if (granted >= quorum()) {
        if (pre)
            startCampaign(false, false);
        else
            becomeLeader();
    } else if (rejected >= quorum()) {
        becomeFollower(term, kNoNode);
    }
}

void Node::State::tickElection() {
    ++electionElapsed;
    if (promotable() && electionElapsed >= randomizedTimeout) {
        electionElapsed = 0;
        startCampaign(cfg.preVote, false);
    }
}

bool Node::State::quorumActive() const {
    std::size_t active = 0;
    for (NodeId id : conf.voters) {
        if (id == cfg.id) {
            ++active;
            continue;
        }
        auto it = progress.find(id);
        if (it != progress.end() && it->second.recentActive)
            ++active;
    }
    return active >= quorum();
}

void Node::State::tickHeartbeat() {
    ++heartbeatElapsed;
    if (!quiet)
        ++electionElapsed;
    if (electionElapsed >= cfg.electionTicks) {
        electionElapsed = 0;
        if (cfg.checkQuorum) {
            if (!quorumActive()) {
                becomeFollower(term, kNoNode);
                return;
            }
            for (auto& [id, pr] : progress)
                pr.recentActive = false;
        }
        // A transfer that did not complete within an election timeout is abandoned.
        abortTransfer();
    }
    if (heartbeatElapsed < cfg.heartbeatTicks || quiet)
        return;
    heartbeatElapsed = 0;
    if (canQuiesce()) {
        // The lease clock stops while the group is quiet (MultiRaft no longer ticks it): the
        // lease is given up, a read after waking confirms leadership by a heartbeat round.
        for (auto& [id, pr] : progress)
            pr.ackTick = -1;
        broadcastHeartbeat("", true);
        quiet = true;
        return;
    }
    broadcastHeartbeat(pendingReads.empty() ? std::string() : pendingReads.back().context, false);
}

void Node::State::handleTimeoutNow(const Message& m) {
    (void)m;
    // Leader transfer (thesis §3.10): the leader brought us up to date; campaign at once,
    // skipping pre-vote, with a context that overrides the voters' check-quorum lease.
    if (promotable())
        startCampaign(false, true);
}

void Node::campaign() {
    m_state->wake();
    m_state->startCampaign(m_state->cfg.preVote, false);
}

} // namespace troupe::raft
