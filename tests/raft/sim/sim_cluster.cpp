#include "sim_cluster.h"

#include <algorithm>

#include "linearizability.h"

namespace troupe::raft::sim {
namespace {

// The simulated group is group 1; group 0 carries the node-level "I am alive" signal.
constexpr GroupId kNodeLevelGroup = 0;

} // namespace

SimCluster::SimCluster(const SimOptions& options)
    : m_options(options), m_rng(options.seed * 0x2545f4914f6cdd1dULL + 17),
      m_network(m_rng, options.network), m_trace(options.traceSize) {
    ConfState conf;
    for (int i = 1; i <= options.nodes; ++i)
        conf.voters.push_back(static_cast<NodeId>(i));
    // One spare server beyond the initial voters: membership faults add it as a learner and
    // promote it; it starts like a new server joining (initial conf without itself).
    int servers = options.nodes + (options.membership ? 1 : 0);
    m_servers.resize(static_cast<std::size_t>(servers));
    for (int i = 0; i < servers; ++i) {
        Server& s = m_servers[static_cast<std::size_t>(i)];
        s.id = static_cast<NodeId>(i + 1);
        s.storage = std::make_unique<MemoryLogStorage>();
        Snapshot initial;
        initial.meta.conf = conf;
        if (Status st = s.storage->applySnapshot(initial); !st)
            m_checker.fail("initial storage: " + st.toString());
        // A clock rate in [1 - d, 1 + d]: the tick period is the nominal one divided by it.
        double rate = 1.0 + options.maxDrift * (2.0 * m_rng.unit() - 1.0);
        s.period = static_cast<SimTime>(static_cast<double>(options.tickPeriod) / rate);
    }
}

SimCluster::~SimCluster() = default;

Config SimCluster::nodeConfig(const Server& server) const {
    Config c;
    c.id = server.id;
    c.group = 1;
    c.electionTicks = m_options.electionTicks;
    c.heartbeatTicks = m_options.heartbeatTicks;
    c.leaseReads = m_options.leaseReads;
    c.leaseDriftTicks = m_options.leaseDriftTicks;
    c.maxAppendBytes = m_options.maxAppendBytes;
    c.maxInflightMessages = m_options.maxInflightMessages;
    c.maxInflightBytes = 4096;
    c.snapshotThreshold = m_options.snapshotThreshold;
    c.snapshotChunkBytes = m_options.snapshotChunkBytes;
    c.quiesce = m_options.quiesce;
    c.randomSeed = m_options.seed * 1000003 + server.id * 101 + server.restarts;
    return c;
}

void SimCluster::schedule(SimTime at, Event event) {
    m_agenda.emplace(std::make_pair(at, m_sequence++), event);
}

void SimCluster::trace(TraceEvent::Kind kind, NodeId node, std::uint64_t a, Index index,
                       NodeId peer) {
    TraceEvent e;
    e.time = m_now;
    e.kind = kind;
    e.node = node;
    e.a = a;
    e.index = index;
    e.peer = peer;
    m_trace.add(e);
}

NodeId SimCluster::randomUp() {
    std::vector<NodeId> up;
    for (const Server& s : m_servers) {
        if (s.node)
            up.push_back(s.id);
    }
    return up.empty() ? kNoNode : up[m_rng.below(up.size())];
}

NodeId SimCluster::leaderHint() const {
    NodeId best = kNoNode;
    Term bestTerm = 0;
    for (const Server& s : m_servers) {
        if (s.node && s.node->role() == Role::Leader && s.node->term() >= bestTerm) {
            best = s.id;
            bestTerm = s.node->term();
        }
    }
    return best;
}

void SimCluster::afterInput(Server& s) {
    if (s.node && !s.readyScheduled && s.node->hasReady()) {
        s.readyScheduled = true;
        SimTime delay = m_options.maxDiskDelay ? m_rng.range(0, m_options.maxDiskDelay) : 0;
        schedule(m_now + delay, Event{EventKind::Ready, s.id, s.incarnation});
    }
}

void SimCluster::handleReady(Server& s) {
    Ready ready = s.node->ready();

    // 1. Persist: snapshot, entries, hard state (raft::persist), checking log matching on the
    //    way; the terms the entries replace tell whether a leader overwrote its own log.
    std::vector<Term> before;
    before.reserve(ready.entries.size());
    for (const Entry& e : ready.entries) {
        auto t = ready.snapshot || e.index > s.storage->lastIndex() ? Result<Term>(Term{0})
                                                                    : s.storage->term(e.index);
        before.push_back(t ? *t : 0);
    }
    if (Status st = persist(*s.storage, ready); !st) {
        m_checker.fail("n" + std::to_string(s.id) + " persist: " + st.toString());
        return;
    }
    if (ready.snapshot)
        m_checker.onSnapshot(s.id, ready.snapshot->meta);
    // Leader throughout this Ready (a node cannot step down and win again within one Ready:
    // winning needs its vote requests sent, which needs the Ready executed).
    bool leaderThroughout =
        s.soft.role == Role::Leader && (!ready.softState || ready.softState->role == Role::Leader);
    m_checker.onPersist(s.id, ready.entries, *s.storage, leaderThroughout, before);
    if (ready.softState && ready.softState->role == Role::Leader && s.soft.role != Role::Leader)
        m_checker.onLeaderLog(s.id, s.node->term(), *s.storage);
    if (ready.softState)
        s.soft = *ready.softState;

    // 2. Send.
    for (const Message& m : ready.messages) {
        if (m.from != s.id)
            m_checker.fail("n" + std::to_string(s.id) + " sent a message from n" +
                           std::to_string(m.from));
        m_network.send(m, m_now);
    }

    // 3. Apply the snapshot, then the committed entries.
    applyCommitted(s, ready);

    // 4. Read states: served once the machine has applied their index.
    for (const ReadState& rs : ready.readStates) {
        auto it = s.readsByContext.find(rs.context);
        if (it == s.readsByContext.end())
            continue; // a duplicate, or a read from before a crash
        s.waitingReads.push_back(WaitingRead{rs.index, it->second});
        s.readsByContext.erase(it);
    }
    serveReads(s);

    TraceEvent e;
    e.time = m_now;
    e.kind = TraceEvent::Kind::Ready;
    e.node = s.id;
    e.a = ready.entries.size();
    e.b = ready.messages.size();
    e.c = s.machine.applied();
    e.commit = s.node->commitIndex();
    m_trace.add(e);

    s.node->advance(ready);

    if (ready.wantSnapshot && s.machine.applied() > s.storage->snapshotMeta().index) {
        Index at = s.machine.applied();
        if (Status st = s.storage->compact(at, s.machine.conf(), s.machine.encode()); !st) {
            m_checker.fail("n" + std::to_string(s.id) + " compact: " + st.toString());
            return;
        }
        s.node->compacted(at);
        m_checker.onSnapshot(s.id, s.storage->snapshotMeta());
        ++m_stats.snapshots;
        trace(TraceEvent::Kind::Snapshot, s.id, 0, at);
    }
}

void SimCluster::applyCommitted(Server& s, const Ready& ready) {
    if (ready.snapshot) {
        if (Status st = s.machine.restore(*ready.snapshot); !st) {
            m_checker.fail("n" + std::to_string(s.id) + " snapshot: " + st.toString());
            return;
        }
    }
    for (const Entry& entry : ready.committed) {
        if (entry.index <= s.machine.applied() && ready.snapshot)
            continue; // covered by the snapshot just installed
        auto applied = s.machine.apply(entry);
        if (!applied) {
            m_checker.fail("n" + std::to_string(s.id) + " apply: " + applied.status().toString());
            return;
        }
        m_checker.onApply(s.id, entry, s.node->term());
        if (entry.type == EntryType::ConfChange) {
            auto change = decodeConfChange(entry.data);
            if (!change) {
                m_checker.fail("n" + std::to_string(s.id) + " bad ConfChange at " +
                               std::to_string(entry.index));
                return;
            }
            s.node->applyConfChange(*change);
            if (change->kind == ConfChange::Kind::RemoveNode)
                m_removed.insert(change->node);
        }
        const auto& write = *applied;
        if (!write)
            continue;
        auto it = s.writes.find(write->proposal);
        if (it != s.writes.end()) {
            m_history.respond(it->second);
            ++m_stats.writesAcked;
            trace(TraceEvent::Kind::Ack, s.id, write->proposal, entry.index);
            s.writes.erase(it);
        }
    }
}

void SimCluster::serveReads(Server& s) {
    auto ready = std::stable_partition(
        s.waitingReads.begin(), s.waitingReads.end(), [&](const WaitingRead& r) {
            return !m_options.serveReadsEarly && r.index > s.machine.applied();
        });
    for (auto it = ready; it != s.waitingReads.end(); ++it) {
        const Operation& op = m_history.op(it->op);
        std::string value = s.machine.get(op.key);
        m_checker.onReadServed(s.id, it->index, m_readFloor[it->op],
                               "read #" + std::to_string(op.id) + " of " + op.key);
        m_history.respond(it->op, value);
        ++m_stats.readsServed;
        trace(TraceEvent::Kind::ReadServed, s.id, it->op, it->index);
    }
    s.waitingReads.erase(ready, s.waitingReads.end());
}

void SimCluster::deliver(const Message& message) {
    if (message.to == kNoNode || message.to > m_servers.size())
        return;
    Server& s = server(message.to);
    if (!s.node)
        return; // it is down: the message is lost
    if (message.group == kNodeLevelGroup) {
        s.lastHeard[message.from] = s.ticks;
        return;
    }
    m_trace.addMessage(m_now, message);
    s.node->step(message);
    afterInput(s);
}

// After every event: role changes, election safety, the commit high-water mark.
void SimCluster::observe() {
    for (Server& s : m_servers) {
        if (!s.node)
            continue;
        Role role = s.node->role();
        Term term = s.node->term();
        m_checker.onRole(s.id, term, role);
        m_checker.onCommitIndex(s.node->commitIndex());
        if (term != s.term || role != s.seenRole) {
            if (role == Role::Leader)
                ++m_stats.leaderChanges;
            TraceEvent e;
            e.time = m_now;
            e.kind = TraceEvent::Kind::Role;
            e.node = s.id;
            e.a = static_cast<std::uint64_t>(role);
            e.term = term;
            m_trace.add(e);
            s.term = term;
            s.seenRole = role;
        }
        m_stats.maxTerm = std::max(m_stats.maxTerm, term);
    }
}

bool SimCluster::step() {
    std::optional<SimTime> due = m_network.nextDue();
    bool agendaFirst = !m_agenda.empty() && (!due || m_agenda.begin()->first.first <= *due);
    if (!agendaFirst && !due)
        return false;
    if (!agendaFirst) {
        m_now = *due;
        if (auto message = m_network.popDue(m_now))
            deliver(*message);
        observe();
        return true;
    }
    auto it = m_agenda.begin();
    m_now = it->first.first;
    Event event = it->second;
    m_agenda.erase(it);
    switch (event.kind) {
    case EventKind::Tick: {
        Server& s = server(event.node);
        if (!s.node || s.incarnation != event.incarnation)
            break;
        ++s.ticks;
        if (m_options.quiesce) {
            // MultiRaft's behaviour: a quiet group is not ticked; every tick each server tells
            // every peer it is alive (a group-0 message the network may lose or delay like any
            // other), and a quiet follower whose leader's server has been silent for
            // electionTicks is woken so that it can campaign.
            for (const Server& peer : m_servers) {
                if (peer.id == s.id)
                    continue;
                Message alive;
                alive.type = MessageType::Heartbeat;
                alive.group = kNodeLevelGroup;
                alive.from = s.id;
                alive.to = peer.id;
                m_network.send(alive, m_now);
            }
            if (s.node->quiescent()) {
                NodeId leader = s.node->leader();
                if (leader != s.id && leader != kNoNode &&
                    s.ticks - s.lastHeard[leader] >= std::uint64_t(m_options.electionTicks))
                    s.node->wake();
            }
        }
        if (!s.node->quiescent())
            s.node->tick();
        afterInput(s);
        schedule(m_now + s.period, event);
        break;
    }
    case EventKind::Ready: {
        Server& s = server(event.node);
        if (!s.node || s.incarnation != event.incarnation)
            break;
        s.readyScheduled = false;
        if (s.node->hasReady())
            handleReady(s);
        afterInput(s);
        break;
    }
    case EventKind::Client:
        if (m_healing)
            break;
        clientOperation();
        schedule(m_now + m_rng.range(1, 2 * m_options.clientGap), event);
        break;
    case EventKind::Fault:
        if (m_healing)
            break;
        fault();
        schedule(m_now + m_rng.range(1, 2 * m_options.faultGap), event);
        break;
    }
    observe();
    // A server whose removal has been applied somewhere is shut down for good.
    for (NodeId id : m_removed) {
        Server& gone = server(id);
        if (gone.node) {
            crash(gone);
            --m_stats.crashes;
            ++m_stats.decommissioned;
            trace(TraceEvent::Kind::Decommission, id);
        }
    }
    return true;
}

SimResult SimCluster::run() {
    SimResult result;
    result.seed = m_options.seed;
    for (Server& s : m_servers) {
        restart(s);
    }
    schedule(m_rng.range(1, m_options.clientGap), Event{EventKind::Client, kNoNode, 0});
    schedule(m_rng.range(1, m_options.faultGap), Event{EventKind::Fault, kNoNode, 0});

    std::uint64_t events = 0;
    while (m_checker.ok() && events < m_options.steps && step())
        ++events;
    // The faulty phase's last events, kept for a failure found later (a copy of the ring
    // buffer, formatted only on failure).
    Trace faultyPhase(0);
    bool healed = m_checker.ok();
    if (healed) {
        faultyPhase = m_trace;
        startHealPhase();
        SimTime deadline = m_now + m_options.healTime;
        while (m_checker.ok() && !converged()) {
            if (m_now > deadline || !step()) {
                m_checker.fail("liveness: the cluster did not converge within " +
                               std::to_string(m_options.healTime / 1000) +
                               " ms of simulated time after the faults stopped");
                break;
            }
            ++events;
        }
    }
    if (m_checker.ok())
        finalChecks();

    m_stats.events = events;
    m_stats.simTime = m_now;
    m_stats.committed = m_checker.maxApplied();
    m_stats.messages = m_network.sent();
    m_stats.dropped = m_network.dropped();
    result.stats = m_stats;
    if (!m_checker.ok()) {
        result.ok = false;
        result.failure = m_checker.failure();
        result.trace = m_trace.format();
        if (healed)
            result.faultyPhaseTrace = faultyPhase.format();
    }
    return result;
}

SimResult runSimulation(const SimOptions& options) {
    SimCluster cluster(options);
    SimResult result = cluster.run();
    if (!result.ok)
        result.failure += "\noptions: " + options.describe();
    return result;
}

} // namespace troupe::raft::sim
