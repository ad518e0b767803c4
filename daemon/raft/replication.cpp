// Log replication (§5.3) with flow control: a follower in Probe gets one Append at a time until
// its match is known; in Replicate, Appends are pipelined up to the inflight caps. Rejections
// carry a hint so the leader skips a whole conflicting term per round trip. Commitment counts
// replicas only for entries of the leader's own term (§5.4.2, figure 8).

#include <algorithm>

#include "raft/node_state.h"

namespace troupe::raft {

void Node::State::send(Message m) {
    m.group = cfg.group;
    m.from = cfg.id;
    // Vote-type messages carry their own term (a pre-vote asks for term+1); the rest ours.
    if (m.term == 0)
        m.term = term;
    msgs.push_back(std::move(m));
}

bool Node::State::sendAppend(NodeId to, bool sendIfEmpty) {
    auto it = progress.find(to);
    if (it == progress.end())
        return false;
    Progress& pr = it->second;
    if (pr.paused())
        return false;
    Index prev = pr.next - 1;
    auto prevTerm = termAt(prev);
    auto ents = slice(pr.next, lastIndex() + 1, cfg.maxAppendBytes);
    if (!prevTerm || !ents) {
        // The entries the follower needs were compacted away: it gets the snapshot (§7).
        sendSnapshot(to);
        return true;
    }
    if (ents->empty() && !sendIfEmpty)
        return false;
    Message m;
    m.type = MessageType::Append;
    m.to = to;
    m.index = prev;
    m.logTerm = *prevTerm;
    m.commit = committed;
    pr.sentCommit = std::max(pr.sentCommit, committed);
    std::uint64_t bytes = 0;
    for (const Entry& e : *ents)
        bytes += e.data.size();
    if (!ents->empty()) {
        Index last = ents->back().index;
        if (pr.state == Progress::State::Replicate) {
            pr.next = last + 1; // optimistic: pipeline the next Append right away
            pr.inflights.add(last, bytes);
        } else {
            pr.probeSent = true;
        }
    } else if (pr.state == Progress::State::Probe) {
        pr.probeSent = true;
    }
    m.entries = std::move(*ents);
    send(std::move(m));
    return true;
}

void Node::State::broadcastAppend() {
    for (auto& [id, pr] : progress)
        sendAppend(id, true);
}

void Node::State::sendHeartbeat(NodeId to, const std::string& context, bool quiesce) {
    auto it = progress.find(to);
    if (it == progress.end())
        return;
    Message m;
    m.type = MessageType::Heartbeat;
    m.to = to;
    // Never more than the follower is known to hold: it may not have the entries yet.
    m.commit = std::min(committed, it->second.match);
    it->second.sentCommit = std::max(it->second.sentCommit, m.commit);
    // The send tick comes back in the answer and starts the lease; a quiescing heartbeat
    // carries 0 because the lease clock stops while quiet.
    m.index = quiesce ? 0 : static_cast<Index>(now);
    m.context = context;
    m.quiesce = quiesce;
    send(std::move(m));
}

void Node::State::broadcastHeartbeat(const std::string& context, bool quiesce) {
    for (auto& [id, pr] : progress)
        sendHeartbeat(id, context, quiesce);
}

bool Node::State::committedInTerm() const {
    auto t = termAt(committed);
    return t && *t == term;
}

bool Node::State::maybeCommit() {
    std::vector<Index> matches;
    for (NodeId id : conf.voters) {
        if (id == cfg.id) {
            matches.push_back(lastIndex());
            continue;
        }
        auto it = progress.find(id);
        matches.push_back(it == progress.end() ? 0 : it->second.match);
    }
    if (matches.empty())
        return false;
    std::sort(matches.begin(), matches.end(), std::greater<Index>());
    Index candidate = matches[quorum() - 1];
    // §5.4.2: replicas are counted only for an entry of the current term.
    if (candidate <= committed || termAt(candidate) != term)
        return false;
    commitTo(candidate);
    // Entries at or below the commit index are never truncated: fold their confs into the base.
    while (!confLog.empty() && confLog.front().first <= committed) {
        baseConf = confLog.front().second;
        confLog.erase(confLog.begin());
    }
    releaseReadsAwaitingCommit();
    // A leader removed by the change it just committed hands over by stepping down; the
    // remaining voters elect a new leader.
    if (!isVoter(cfg.id) && pendingConfIndex <= committed) {
        becomeFollower(term, kNoNode);
        return false;
    }
    return true;
}

Index Node::State::appendNew(std::vector<Entry> entries) {
    Index index = lastIndex();
    for (Entry& e : entries) {
        e.index = ++index;
        e.term = term;
    }
    appendToLog(entries);
    maybeCommit(); // a single-voter group commits at once
    if (role == Role::Leader)
        broadcastAppend();
    return index;
}

void Node::State::handleAppend(const Message& m) {
    Message r;
    r.type = MessageType::AppendResponse;
    r.to = m.from;
    if (m.index < committed) {
        // Everything up to our commit index is already known to match.
        r.index = committed;
        r.commit = committed;
        send(std::move(r));
        return;
    }
    if (matchTerm(m.index, m.logTerm)) {
        Index lastNew = m.index + m.entries.size();
        Index conflict = findConflict(m.entries);
        if (conflict != 0) {
            std::vector<Entry> fresh(m.entries.begin() +
                                         static_cast<std::ptrdiff_t>(conflict - m.index - 1),
                                     m.entries.end());
            appendToLog(fresh);
        }
        commitTo(std::min(m.commit, lastNew));
        r.index = lastNew;
        r.commit = committed;
        send(std::move(r));
        return;
    }
    Index hint = findConflictByTerm(std::min(m.index, lastIndex()), m.logTerm);
    r.reject = true;
    r.index = m.index;
    r.rejectHint = hint;
    r.rejectTerm = termAt(hint).value_or(0);
    r.commit = committed;
    send(std::move(r));
}

void Node::State::handleAppendResponse(const Message& m) {
    auto it = progress.find(m.from);
    if (it == progress.end())
        return;
    Progress& pr = it->second;
    pr.recentActive = true;
    pr.knownCommit = std::max(pr.knownCommit, m.commit);
    if (m.reject) {
        Index next = m.rejectHint;
        if (m.rejectTerm > 0)
            next = findConflictByTerm(m.rejectHint, m.rejectTerm);
        if (pr.maybeDecrTo(m.index, next)) {
            if (pr.state == Progress::State::Replicate)
                pr.becomeProbe();
            sendAppend(m.from, true);
        }
        return;
    }
    bool wasPaused = pr.paused();
    if (!pr.maybeUpdate(m.index)) {
        if (wasPaused && pr.state == Progress::State::Replicate) {
            pr.inflights.freeTo(m.index);
            sendAppend(m.from, false);
        }
        return;
    }
    switch (pr.state) {
    case Progress::State::Probe:
        pr.becomeReplicate();
        break;
    case Progress::State::Snapshot:
        if (pr.match >= pr.pendingSnapshot) {
            pr.becomeProbe();
            pr.becomeReplicate();
        }
        break;
    case Progress::State::Replicate:
        pr.inflights.freeTo(m.index);
        break;
    }
    if (maybeCommit()) {
        broadcastAppend();
    } else if (role == Role::Leader) {
        // Keep the pipeline full; with nothing left to send, a follower that does not know
        // the commit index yet learns it from an empty Append.
        bool sent = false;
        while (sendAppend(m.from, false))
            sent = true;
        if (!sent && pr.knownCommit < committed && pr.sentCommit < committed)
            sendAppend(m.from, true);
    }
    if (role == Role::Leader && m.from == transferee && pr.match == lastIndex()) {
        Message t;
        t.type = MessageType::TimeoutNow;
        t.to = m.from;
        send(std::move(t));
        leaseDisabled = true;
    }
}

void Node::State::handleHeartbeat(const Message& m) {
    commitTo(m.commit);
    Message r;
    r.type = MessageType::HeartbeatResponse;
    r.to = m.from;
    r.index = m.index;
    r.context = m.context;
    r.commit = committed;
    send(std::move(r));
    if (m.quiesce && committed == m.commit && lastIndex() == m.commit)
        quiet = true;
}

void Node::State::handleHeartbeatResponse(const Message& m) {
    auto it = progress.find(m.from);
    if (it == progress.end())
        return;
    Progress& pr = it->second;
    pr.recentActive = true;
    pr.knownCommit = std::max(pr.knownCommit, m.commit);
    if (m.index > 0)
        pr.ackTick = std::max(pr.ackTick, static_cast<std::int64_t>(m.index));
    if (pr.state == Progress::State::Snapshot) {
        sendSnapshotChunk(m.from); // the chunk or its answer may have been lost
    } else {
        // A lost probe is retried once per heartbeat; a window full of lost Appends frees a slot.
        if (pr.state == Progress::State::Probe)
            pr.probeSent = false;
        else if (pr.inflights.full())
            pr.inflights.freeFirst();
        if (pr.match < lastIndex() || pr.knownCommit < committed)
            sendAppend(m.from, true);
    }
    if (!m.context.empty())
        ackRead(m.from, m.context);
}

} // namespace troupe::raft
