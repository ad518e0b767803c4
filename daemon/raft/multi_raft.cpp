#include "raft/multi_raft.h"

#include <algorithm>

namespace troupe::raft {

MultiRaft::MultiRaft(NodeId self, int electionTicks)
    : m_self(self), m_electionTicks(electionTicks) {}

MultiRaft::~MultiRaft() = default;

MultiRaft::Group* MultiRaft::find(GroupId group) {
    auto it = m_groups.find(group);
    return it == m_groups.end() ? nullptr : &it->second;
}

const Node* MultiRaft::group(GroupId group) const {
    auto it = m_groups.find(group);
    return it == m_groups.end() ? nullptr : it->second.node.get();
}

Status MultiRaft::createGroup(Config config, LogStorage& storage) {
    if (m_groups.count(config.group))
        return Status(ErrorCode::Exists, "raft group " + std::to_string(config.group));
    config.id = m_self;
    config.quiesce = true;
    auto node = Node::create(config, storage);
    if (!node)
        return node.status();
    Group& g = m_groups[config.group];
    g.node = std::move(node.value());
    g.storage = &storage;
    updateMembers(g);
    touch(config.group, g);
    return Status::ok();
}

Status MultiRaft::removeGroup(GroupId group) {
    Group* g = find(group);
    if (!g)
        return Status(ErrorCode::NotFound, "raft group " + std::to_string(group));
    setPeers(*g, {});
    if (g->quiet)
        m_quietByLeader[g->quietLeader].erase(group);
    m_active.erase(group);
    m_dirty.erase(group);
    m_groups.erase(group);
    return Status::ok();
}

void MultiRaft::touch(GroupId id, Group& g) {
    m_dirty.insert(id);
    if (!g.node->quiescent())
        activate(id, g);
}

void MultiRaft::activate(GroupId id, Group& g) {
    if (g.quiet) {
        auto it = m_quietByLeader.find(g.quietLeader);
        if (it != m_quietByLeader.end()) {
            it->second.erase(id);
            if (it->second.empty())
                m_quietByLeader.erase(it);
        }
        g.quiet = false;
    }
    m_active.insert(id);
}

void MultiRaft::quiesce(GroupId id, Group& g) {
    if (g.quiet)
        return;
    g.quiet = true;
    g.quietLeader = g.node->leader();
    m_quietByLeader[g.quietLeader].insert(id);
    m_active.erase(id);
}

void MultiRaft::setPeers(Group& g, std::vector<NodeId> members) {
    for (NodeId id : g.members) {
        if (--m_peerRefs[id] == 0)
            m_peerRefs.erase(id);
    }
    g.members = std::move(members);
    for (NodeId id : g.members) {
        if (m_peerRefs[id]++ == 0)
            m_liveness[id] = Liveness{m_now, true};
    }
}

void MultiRaft::updateMembers(Group& g) {
    const ConfState& conf = g.node->conf();
    std::vector<NodeId> members;
    for (NodeId id : conf.voters)
        if (id != m_self)
            members.push_back(id);
    for (NodeId id : conf.learners)
        if (id != m_self)
            members.push_back(id);
    std::sort(members.begin(), members.end());
    if (members != g.members)
        setPeers(g, std::move(members));
}

Result<Index> MultiRaft::propose(GroupId group, std::string data) {
    Group* g = find(group);
    if (!g)
        return Status(ErrorCode::NotFound, "raft group " + std::to_string(group));
    auto r = g->node->propose(std::move(data));
    touch(group, *g);
    return r;
}

Status MultiRaft::readIndex(GroupId group, std::string context) {
    Group* g = find(group);
    if (!g)
        return Status(ErrorCode::NotFound, "raft group " + std::to_string(group));
    Status s = g->node->readIndex(std::move(context));
    touch(group, *g);
    return s;
}

Result<Index> MultiRaft::changeMembership(GroupId group, const ConfChange& change) {
    Group* g = find(group);
    if (!g)
        return Status(ErrorCode::NotFound, "raft group " + std::to_string(group));
    auto r = g->node->changeMembership(change);
    touch(group, *g);
    return r;
}

Status MultiRaft::transferLeadership(GroupId group, NodeId to) {
    Group* g = find(group);
    if (!g)
        return Status(ErrorCode::NotFound, "raft group " + std::to_string(group));
    Status s = g->node->transferLeadership(to);
    touch(group, *g);
    return s;
}

Status MultiRaft::campaign(GroupId group) {
    Group* g = find(group);
    if (!g)
        return Status(ErrorCode::NotFound, "raft group " + std::to_string(group));
    g->node->campaign();
    touch(group, *g);
    return Status::ok();
}

void MultiRaft::receive(const Batch& batch) {
    auto live = m_liveness.find(batch.from);
    if (live != m_liveness.end()) {
        live->second.lastHeard = m_now;
        live->second.alive = true;
    } else {
        m_liveness[batch.from] = Liveness{m_now, true};
    }
    for (const Message& m : batch.messages) {
        Group* g = find(m.group);
        if (!g) {
            ++m_dropped;
            continue;
        }
        g->node->step(m);
        touch(m.group, *g);
    }
}

void MultiRaft::tick() {
    ++m_now;
    m_ticked = true;
    for (GroupId id : m_active) {
        m_groups.at(id).node->tick();
        m_dirty.insert(id);
        ++m_groupTicks;
    }
    // Per server, not per group: a silent server's quiet followers wake up and will campaign.
    for (auto& [node, live] : m_liveness) {
        if (!live.alive || m_now - live.lastHeard <= m_electionTicks)
            continue;
        live.alive = false;
        auto it = m_quietByLeader.find(node);
        if (it == m_quietByLeader.end())
            continue;
        std::set<GroupId> woken = std::move(it->second);
        m_quietByLeader.erase(it);
        for (GroupId id : woken) {
            Group& g = m_groups.at(id);
            g.quiet = false; // already out of the index
            g.node->wake();
            m_active.insert(id);
        }
    }
}

Status MultiRaft::persistAll(const std::vector<PersistItem>& items) {
    if (m_persister)
        return m_persister->persist(items);
    for (const PersistItem& item : items)
        TROUPE_RETURN_IF_ERROR(persist(*item.storage, *item.ready));
    return Status::ok();
}

Result<std::vector<MultiRaft::Batch>> MultiRaft::process(Applier* applier) {
    std::map<NodeId, Batch> out;
    std::set<GroupId> dirty;
    dirty.swap(m_dirty);
    // Rounds: every group's pending Ready is persisted together (one call to the Persister, so
    // one fsync for all of them), then its messages go out and it is applied and advanced. A
    // group has another Ready only when its committed entries were split (maxApplyBytes).
    std::vector<GroupId> pending(dirty.begin(), dirty.end());
    while (!pending.empty()) {
        std::vector<std::pair<GroupId, Ready>> readies;
        for (GroupId id : pending) {
            Group* g = find(id);
            if (g && g->node->hasReady())
                readies.emplace_back(id, g->node->ready());
        }
        pending.clear();
        if (readies.empty())
            break;
        std::vector<PersistItem> items;
        items.reserve(readies.size());
        for (auto& [id, r] : readies)
            items.push_back(PersistItem{id, m_groups.at(id).storage, &r});
        TROUPE_RETURN_IF_ERROR(persistAll(items));
        for (auto& [id, r] : readies) {
            Group& g = m_groups.at(id);
            for (Message& m : r.messages)
                out[m.to].messages.push_back(std::move(m));
            if (applier)
                applier->apply(id, r);
            for (const Entry& e : r.committed) {
                if (e.type != EntryType::ConfChange)
                    continue;
                if (auto cc = decodeConfChange(e.data))
                    g.node->applyConfChange(*cc);
            }
            g.node->advance(r);
            if (g.node->hasReady())
                pending.push_back(id);
        }
    }
    for (GroupId id : dirty) {
        Group* g = find(id);
        if (!g)
            continue;
        // Membership changes on append (and reverts on truncation): keep the peer set exact.
        updateMembers(*g);
        if (g->node->quiescent())
            quiesce(id, *g);
        else
            activate(id, *g);
    }
    if (m_ticked) {
        for (auto& [peer, refs] : m_peerRefs)
            out[peer];
        m_ticked = false;
    }
    std::vector<Batch> batches;
    batches.reserve(out.size());
    for (auto& [to, batch] : out) {
        batch.from = m_self;
        batch.to = to;
        batches.push_back(std::move(batch));
    }
    return batches;
}

} // namespace troupe::raft
