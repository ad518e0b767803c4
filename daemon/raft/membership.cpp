// Membership, one server at a time (thesis §4.1): a configuration takes effect on each server as
// soon as its ConfChange entry is in that server's log, committed or not, and reverts if the
// entry is truncated away. A leader accepts a change only after it has committed an entry of its
// own term (the fix for the single-server change bug, raft-dev 2015) and only when no other
// change is uncommitted.

#include <algorithm>

#include "core/bytes.h"
#include "raft/node_state.h"

namespace troupe::raft {

namespace {

bool contains(const std::vector<NodeId>& v, NodeId id) {
    return std::find(v.begin(), v.end(), id) != v.end();
}

void erase(std::vector<NodeId>& v, NodeId id) {
    v.erase(std::remove(v.begin(), v.end(), id), v.end());
}

// The configuration after `change`; nullopt when the change does not apply to `conf`.
std::optional<ConfState> applyChange(ConfState conf, const ConfChange& change) {
    bool voter = contains(conf.voters, change.node);
    bool learner = contains(conf.learners, change.node);
    switch (change.kind) {
    case ConfChange::Kind::AddLearner:
        if (voter || learner)
            return std::nullopt;
        conf.learners.push_back(change.node);
        break;
    case ConfChange::Kind::PromoteLearner:
        if (!learner)
            return std::nullopt;
        erase(conf.learners, change.node);
        conf.voters.push_back(change.node);
        break;
    case ConfChange::Kind::RemoveNode:
        if (!voter && !learner)
            return std::nullopt;
        if (voter && conf.voters.size() == 1)
            return std::nullopt; // a group keeps at least one voter
        erase(conf.voters, change.node);
        erase(conf.learners, change.node);
        break;
    }
    std::sort(conf.voters.begin(), conf.voters.end());
    std::sort(conf.learners.begin(), conf.learners.end());
    return conf;
}

} // namespace

// Format: one byte kind, then the node id as 8 bytes big-endian. Stored in Raft log entries,
// so never change it (resources/docs/raft.md).
std::string encodeConfChange(const ConfChange& change) {
    std::string out(1, static_cast<char>(change.kind));
    putBigEndian64(out, change.node);
    return out;
}

Result<ConfChange> decodeConfChange(std::string_view data) {
    if (data.size() != 9)
        return Status(ErrorCode::Corruption,
                      "conf change of " + std::to_string(data.size()) + " bytes (expected 9)");
    auto kind = static_cast<std::uint8_t>(data[0]);
    if (kind < 1 || kind > 3)
        return Status(ErrorCode::Corruption, "unknown conf change kind " + std::to_string(kind));
    ConfChange change;
    change.kind = static_cast<ConfChange::Kind>(kind);
    change.node = getBigEndian64(data.data() + 1);
    if (change.node == kNoNode)
        return Status(ErrorCode::Corruption, "conf change for node 0");
    return change;
}

bool Node::State::isVoter(NodeId id) const {
    return contains(conf.voters, id);
}

void Node::State::recomputeConf() {
    conf = confLog.empty() ? baseConf : confLog.back().second;
    syncProgress();
}

// The leader's progress map follows the configuration: new members start probing at the end of
// the log, removed ones are forgotten.
void Node::State::syncProgress() {
    if (role != Role::Leader) {
        progress.clear();
        return;
    }
    std::map<NodeId, Progress> next;
    auto keep = [&](NodeId id, bool learner) {
        if (id == cfg.id)
            return;
        auto it = progress.find(id);
        if (it != progress.end()) {
            it->second.learner = learner;
            next.emplace(id, std::move(it->second));
            return;
        }
        Progress pr(cfg.maxInflightMessages, cfg.maxInflightBytes);
        pr.next = lastIndex() + 1;
        pr.learner = learner;
        pr.recentActive = true; // a new member gets a check-quorum period to answer
        next.emplace(id, std::move(pr));
    };
    for (NodeId id : conf.voters)
        keep(id, false);
    for (NodeId id : conf.learners)
        keep(id, true);
    progress = std::move(next);
}

void Node::State::onEntriesAppended(const std::vector<Entry>& entries) {
    bool changed = false;
    for (const Entry& e : entries) {
        if (e.type != EntryType::ConfChange)
            continue;
        auto change = decodeConfChange(e.data);
        if (!change)
            continue; // a corrupt change is ignored by every member alike
        const ConfState& current = confLog.empty() ? baseConf : confLog.back().second;
        auto next = applyChange(current, *change);
        if (!next)
            continue; // not applicable (e.g. a duplicate): a no-op everywhere
        confLog.emplace_back(e.index, std::move(*next));
        changed = true;
    }
    if (changed)
        recomputeConf();
}

void Node::State::onLogTruncated(Index from) {
    bool changed = false;
    while (!confLog.empty() && confLog.back().first >= from) {
        confLog.pop_back();
        changed = true;
    }
    if (changed)
        recomputeConf();
}

Result<Index> Node::changeMembership(const ConfChange& change) {
    State& s = *m_state;
    if (s.role != Role::Leader)
        return Status(ErrorCode::NotLeader, "not the leader; leader is " + std::to_string(s.lead));
    if (s.transferee != kNoNode)
        return Status(ErrorCode::Busy, "leadership transfer in progress");
    if (!s.committedInTerm())
        return Status(ErrorCode::Busy, "the leader has not yet committed an entry of its term");
    if (s.pendingConfIndex > s.committed)
        return Status(ErrorCode::Busy, "a membership change is still uncommitted");
    if (!applyChange(s.conf, change))
        return Status(ErrorCode::InvalidArgument, "membership change does not apply");
    s.wake();
    Entry e;
    e.type = EntryType::ConfChange;
    e.data = encodeConfChange(change);
    Index index = s.appendNew({std::move(e)});
    s.pendingConfIndex = index;
    return index;
}

// The configuration already took effect when the entry was appended; this only records that
// the driver applied it, so the entries before it need no longer be replayable for a revert.
void Node::applyConfChange(const ConfChange&) {
    State& s = *m_state;
    while (!s.confLog.empty() && s.confLog.front().first <= s.committed) {
        s.baseConf = s.confLog.front().second;
        s.confLog.erase(s.confLog.begin());
    }
}

const ConfState& Node::conf() const {
    return m_state->conf;
}

} // namespace troupe::raft
