#pragma once

// TestCluster: a tiny deterministic in-process Raft cluster for the unit and scenario tests —
// real Nodes over MemoryLogStorage, a perfect network the test controls (messages queue until
// delivered; links can be cut), crashes that lose nothing persisted. Header-only; used by one
// test thread.

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "raft/log_storage.h"
#include "raft/node.h"

namespace troupe::raft::test {

class TestCluster {
public:
    struct Peer {
        Config cfg;
        std::unique_ptr<MemoryLogStorage> storage;
        std::unique_ptr<Node> node; // null while crashed
        std::vector<Entry> applied; // the state machine: every applied entry
        Index appliedIndex = 0;
        std::vector<ReadState> reads; // read states handed out
        bool wantSnapshot = false;
    };

    explicit TestCluster(Config base = Config()) : m_base(base) {}

    // Creates nodes `ids`; `voters` (default: all of ids) form the initial configuration.
    void addNodes(const std::vector<NodeId>& ids, std::vector<NodeId> voters = {},
                  std::vector<NodeId> learners = {}, const Config* config = nullptr) {
        if (voters.empty())
            voters = ids;
        for (NodeId id : ids) {
            Peer& p = m_peers[id];
            p.cfg = config ? *config : m_base;
            p.cfg.id = id;
            p.storage = std::make_unique<MemoryLogStorage>();
            Snapshot initial;
            initial.meta.conf = ConfState{voters, learners};
            std::sort(initial.meta.conf.voters.begin(), initial.meta.conf.voters.end());
            check(p.storage->applySnapshot(initial));
            start(id);
        }
    }

    Node& node(NodeId id) {
        Peer& p = peer(id);
        if (!p.node)
            throw std::runtime_error("node " + std::to_string(id) + " is down");
        return *p.node;
    }
    Peer& peer(NodeId id) {
        auto it = m_peers.find(id);
        if (it == m_peers.end())
            throw std::runtime_error("no node " + std::to_string(id));
        return it->second;
    }
    std::vector<NodeId> ids() const {
        std::vector<NodeId> out;
        for (auto& [id, p] : m_peers)
            out.push_back(id);
        return out;
    }
    bool up(NodeId id) { return peer(id).node != nullptr; }

    // Runs the Ready loop of one node: persist, queue messages, apply, advance.
    void process(NodeId id) {
        Peer& p = peer(id);
        while (p.node && p.node->hasReady()) {
            Ready r = p.node->ready();
            check(persist(*p.storage, r));
            for (Message& m : r.messages)
                m_inflight.push_back(std::move(m));
            if (r.snapshot) {
                p.applied.clear(); // the snapshot replaces the state machine
                p.appliedIndex = r.snapshot->meta.index;
            }
            for (const Entry& e : r.committed) {
                p.applied.push_back(e);
                p.appliedIndex = e.index;
                if (e.type == EntryType::ConfChange) {
                    auto cc = decodeConfChange(e.data);
                    if (cc)
                        p.node->applyConfChange(*cc);
                }
            }
            for (const ReadState& rs : r.readStates)
                p.reads.push_back(rs);
            if (r.wantSnapshot)
                p.wantSnapshot = true;
            p.node->advance(r);
        }
    }
    void processAll() {
        for (auto& [id, p] : m_peers)
            process(id);
    }

    // Delivers the queued messages (those on cut links or to crashed nodes are lost); returns
    // how many arrived. `filter` may hold some back (they stay queued).
    int deliver(const std::function<bool(const Message&)>& filter = {}) {
        processAll();
        std::deque<Message> batch;
        batch.swap(m_inflight);
        int delivered = 0;
        for (Message& m : batch) {
            if (filter && !filter(m)) {
                m_inflight.push_back(std::move(m));
                continue;
            }
            if (m_cut.count({m.from, m.to}) || !m_peers.count(m.to) || !peer(m.to).node) {
                ++m_dropped;
                if (m_dropObserver)
                    m_dropObserver(m);
                continue;
            }
            if (m_observer)
                m_observer(m);
            peer(m.to).node->step(m);
            ++m_delivered;
            ++delivered;
        }
        processAll();
        return delivered;
    }
    // Delivers until no message is left (bounded, so a livelock fails instead of hanging).
    void stabilize(int maxRounds = 1000) {
        for (int i = 0; i < maxRounds; ++i) {
            processAll();
            if (m_inflight.empty())
                return;
            deliver();
        }
        throw std::runtime_error("cluster did not stabilize");
    }

    void tick(NodeId id, int n = 1) {
        for (int i = 0; i < n; ++i) {
            if (peer(id).node)
                peer(id).node->tick();
        }
        process(id);
    }
    void tickAll(int n = 1) {
        for (int i = 0; i < n; ++i) {
            for (auto& [id, p] : m_peers) {
                if (p.node)
                    p.node->tick();
            }
        }
        processAll();
    }
    // Ticks everyone and delivers after each tick, until `done` or maxTicks.
    bool runUntil(const std::function<bool()>& done, int maxTicks = 1000) {
        for (int i = 0; i < maxTicks; ++i) {
            if (done())
                return true;
            tickAll();
            stabilize();
        }
        return done();
    }

    // One-way link cuts; partition() cuts both ways between the groups.
    void cut(NodeId from, NodeId to) { m_cut.insert({from, to}); }
    void isolate(NodeId id) {
        for (auto& [other, p] : m_peers) {
            if (other != id) {
                cut(id, other);
                cut(other, id);
            }
        }
    }
    void partition(const std::vector<std::vector<NodeId>>& sides) {
        for (std::size_t a = 0; a < sides.size(); ++a)
            for (std::size_t b = 0; b < sides.size(); ++b)
                if (a != b)
                    for (NodeId x : sides[a])
                        for (NodeId y : sides[b])
                            cut(x, y);
    }
    void heal() { m_cut.clear(); }

    // Loses the node's volatile state and its unsent messages; storage survives.
    void crash(NodeId id) {
        Peer& p = peer(id);
        p.node.reset();
        std::deque<Message> keep;
        for (Message& m : m_inflight)
            if (m.from != id)
                keep.push_back(std::move(m));
        m_inflight.swap(keep);
    }
    void restart(NodeId id) { start(id); }

    // The driver's snapshot: compacts the log at the applied index.
    void compact(NodeId id, Index index) {
        Peer& p = peer(id);
        std::string data = "state@" + std::to_string(index);
        check(p.storage->compact(index, node(id).conf(), data));
        node(id).compacted(index);
        p.wantSnapshot = false;
    }

    NodeId leader() const {
        NodeId found = kNoNode;
        Term best = 0;
        for (auto& [id, p] : m_peers) {
            if (p.node && p.node->role() == Role::Leader && p.node->term() >= best) {
                found = id;
                best = p.node->term();
            }
        }
        return found;
    }

    std::deque<Message>& inflight() { return m_inflight; }
    int delivered() const { return m_delivered; }
    void setObserver(std::function<void(const Message&)> f) { m_observer = std::move(f); }
    void setDropObserver(std::function<void(const Message&)> f) { m_dropObserver = std::move(f); }
    void setConfig(NodeId id, const Config& cfg) { peer(id).cfg = cfg; }

private:
    static void check(const Status& s) {
        if (!s.isOk())
            throw std::runtime_error(s.toString());
    }
    void start(NodeId id) {
        Peer& p = peer(id);
        auto created = Node::create(p.cfg, *p.storage);
        check(created.status());
        p.node = std::move(created.value());
        // The state machine is rebuilt from the snapshot and the committed log.
        p.appliedIndex = p.storage->snapshotMeta().index;
        p.applied.erase(std::remove_if(p.applied.begin(), p.applied.end(),
                                       [&](const Entry& e) { return e.index > p.appliedIndex; }),
                        p.applied.end());
    }

    Config m_base;
    std::map<NodeId, Peer> m_peers;
    std::deque<Message> m_inflight;
    std::set<std::pair<NodeId, NodeId>> m_cut;
    std::function<void(const Message&)> m_observer;
    std::function<void(const Message&)> m_dropObserver;
    int m_delivered = 0;
    int m_dropped = 0;
};

// Helpers shared by the tests.

inline Config baseConfig(bool preVote = true, bool checkQuorum = true) {
    Config c;
    c.electionTicks = 10;
    c.heartbeatTicks = 1;
    c.preVote = preVote;
    c.checkQuorum = checkQuorum;
    c.randomSeed = 42;
    return c;
}

inline Entry entry(Index i, Term t, std::string data = {}) {
    return Entry{i, t, EntryType::Normal, data};
}

inline int countMessages(const std::deque<Message>& q, MessageType type, NodeId from = kNoNode,
                         NodeId to = kNoNode) {
    int n = 0;
    for (const Message& m : q)
        n += m.type == type && (from == kNoNode || m.from == from) && (to == kNoNode || m.to == to);
    return n;
}

// Elects `id` and lets every message settle.
inline void elect(TestCluster& c, NodeId id) {
    c.node(id).campaign();
    c.stabilize();
}

inline std::vector<std::string> appliedData(TestCluster& c, NodeId id) {
    std::vector<std::string> out;
    for (const Entry& e : c.peer(id).applied)
        if (e.type == EntryType::Normal && !e.data.empty())
            out.push_back(e.data);
    return out;
}

} // namespace troupe::raft::test
