// SimCluster's clients, faults and the end of a run (the event loop is in sim_cluster.cpp).

#include <algorithm>

#include "linearizability.h"
#include "sim_cluster.h"

namespace troupe::raft::sim {

SimOptions SimOptions::fromSeed(std::uint64_t seed, std::uint64_t steps) {
    SimRng rng(seed ^ 0x51ed27a3b4c9e1f7ULL);
    SimOptions o;
    o.seed = seed;
    o.steps = steps;
    o.nodes = rng.chance(0.3) ? 5 : 3;
    o.leaseReads = rng.chance(0.5);
    o.quiesce = rng.chance(0.5);
    o.membership = rng.chance(0.5);
    o.heartbeatTicks = rng.chance(0.7) ? 1 : 2;
    o.maxDrift = 0.04 * rng.unit();
    // Network quality: from a clean LAN to a bad day.
    o.network.minDelay = rng.range(100, 1'000);
    o.network.maxDelay = o.network.minDelay + rng.range(0, 8'000);
    o.network.dropRate = rng.chance(0.3) ? 0.0 : 0.15 * rng.unit();
    o.network.duplicateRate = rng.chance(0.5) ? 0.0 : 0.05 * rng.unit();
    o.network.slowRate = rng.chance(0.5) ? 0.0 : 0.1 * rng.unit();
    o.network.slowDelay = 60'000;
    o.maxDiskDelay = rng.range(0, 4'000);
    o.faultGap = rng.range(60'000, 600'000);
    o.clientGap = rng.range(3'000, 15'000);
    o.snapshotThreshold = rng.range(10, 80);
    return o;
}

std::string SimOptions::describe() const {
    auto ms = [](SimTime t) {
        return std::to_string(t / 1000) + "." + std::to_string(t % 1000 / 100);
    };
    return "seed=" + std::to_string(seed) + " nodes=" + std::to_string(nodes) +
           " steps=" + std::to_string(steps) + " reads=" + (leaseReads ? "lease" : "read-index") +
           " heartbeatTicks=" + std::to_string(heartbeatTicks) +
           " quiesce=" + (quiesce ? "on" : "off") + " membership=" + (membership ? "on" : "off") +
           " drift=" + std::to_string(maxDrift) + " delay=" + ms(network.minDelay) + ".." +
           ms(network.maxDelay) + "ms drop=" + std::to_string(network.dropRate) +
           " dup=" + std::to_string(network.duplicateRate) +
           " slow=" + std::to_string(network.slowRate) + " disk<=" + ms(maxDiskDelay) +
           "ms faultGap=" + ms(faultGap) +
           "ms snapshotThreshold=" + std::to_string(snapshotThreshold);
}

std::string SimResult::summary() const {
    const SimStats& s = stats;
    return "seed " + std::to_string(seed) + (ok ? " ok" : " FAILED") + ": " +
           std::to_string(s.events) + " events, " + std::to_string(s.simTime / 1000) +
           " ms simulated, committed " + std::to_string(s.committed) + ", writes acked " +
           std::to_string(s.writesAcked) + " (unknown " + std::to_string(s.writesPending) +
           "), reads " + std::to_string(s.readsServed) + ", crashes " + std::to_string(s.crashes) +
           ", snapshots " + std::to_string(s.snapshots) + ", conf changes " +
           std::to_string(s.confChanges) + " (decommissioned " + std::to_string(s.decommissioned) +
           "), leaders " + std::to_string(s.leaderChanges) + ", max term " +
           std::to_string(s.maxTerm) + ", messages " + std::to_string(s.messages) + " (dropped " +
           std::to_string(s.dropped) + "), checker states " + std::to_string(s.checkerStates);
}

void SimCluster::clientOperation() {
    // Each client sticks to the node it last found leading until that node turns it away, as
    // real clients do — which is what sends reads to a deposed leader that has not noticed yet.
    // Now and then a client asks any node (a follower forwards reads to its leader).
    std::size_t client = m_rng.below(m_clientTarget.size());
    NodeId& remembered = m_clientTarget[client];
    NodeId target = remembered;
    if (target == kNoNode || !server(target).node || m_rng.chance(0.1))
        target = randomUp();
    if (target == kNoNode)
        return;
    Server& s = server(target);
    if (s.node->role() == Role::Leader)
        remembered = target;
    else if (s.node->leader() != kNoNode)
        remembered = s.node->leader();
    std::string key = "k" + std::to_string(m_rng.below(static_cast<std::uint64_t>(m_options.keys)));
    if (m_rng.chance(m_options.readShare)) {
        std::uint64_t op = m_history.invokeRead(key, s.id, m_now);
        std::string context = "r" + std::to_string(op);
        if (Status st = s.node->readIndex(context); !st) {
            m_history.forget(op);
        } else {
            s.readsByContext[context] = op;
            m_readFloor[op] = m_checker.maxCommitted();
            trace(TraceEvent::Kind::Read, s.id, op);
        }
    } else {
        std::uint64_t proposal = m_nextProposal++;
        Write write{proposal, key, "v" + std::to_string(proposal)};
        std::uint64_t op = m_history.invokeWrite(key, write.value, s.id, m_now);
        auto index = s.node->propose(encodeWrite(write));
        if (!index) {
            m_history.forget(op);
            trace(TraceEvent::Kind::ProposeFail, s.id);
        } else {
            s.writes[proposal] = op;
            trace(TraceEvent::Kind::Propose, s.id, proposal, *index);
        }
    }
    afterInput(s);
}

void SimCluster::fault() {
    std::vector<NodeId> up, down;
    for (const Server& s : m_servers)
        (s.node ? up : down).push_back(s.id);
    // Membership changes get three shares when on, so that most such seeds see a whole
    // add-learner → promote → remove cycle.
    switch (m_rng.below(m_options.membership ? 11 : 8)) {
    case 0:
    case 1:
        if (!up.empty())
            crash(server(up[m_rng.below(up.size())]));
        break;
    case 2:
    case 3:
        if (!down.empty())
            restart(server(down[m_rng.below(down.size())]));
        break;
    case 4: {
        // A random proper subset against the rest, symmetric.
        std::uint64_t n = m_servers.size();
        std::uint64_t mask = m_rng.range(1, (std::uint64_t{1} << n) - 2);
        std::vector<NodeId> a, b;
        for (NodeId id = 1; id <= n; ++id)
            ((mask >> (id - 1)) & 1 ? a : b).push_back(id);
        m_network.heal();
        m_network.partition(a, b);
        trace(TraceEvent::Kind::Partition, kNoNode, mask);
        break;
    }
    case 5: {
        NodeId from = m_rng.range(1, m_servers.size());
        NodeId to = m_rng.range(1, m_servers.size());
        if (m_rng.chance(0.5)) {
            m_network.cutOneWay(from, to);
            trace(TraceEvent::Kind::CutOneWay, from, 0, 0, to);
        } else {
            m_network.heal();
            trace(TraceEvent::Kind::Heal, kNoNode);
        }
        break;
    }
    case 6: {
        NodeId leader = leaderHint();
        NodeId to = m_rng.range(1, m_servers.size());
        if (leader != kNoNode && to != leader) {
            Status st = server(leader).node->transferLeadership(to);
            trace(TraceEvent::Kind::Transfer, leader, st.isOk() ? 1 : 0, 0, to);
            afterInput(server(leader));
        }
        break;
    }
    case 7: {
        // The stale-leader case: the leader alone on one side (its clients keep coming).
        NodeId leader = leaderHint();
        if (leader == kNoNode)
            break;
        std::vector<NodeId> rest;
        for (const Server& s : m_servers) {
            if (s.id != leader)
                rest.push_back(s.id);
        }
        m_network.heal();
        m_network.partition({leader}, rest);
        trace(TraceEvent::Kind::Partition, kNoNode, std::uint64_t{1} << (leader - 1));
        break;
    }
    default:
        membershipChange();
        break;
    }
}

void SimCluster::membershipChange() {
    NodeId leader = leaderHint();
    if (leader == kNoNode)
        return;
    Node& node = *server(leader).node;
    const ConfState& conf = node.conf();
    auto has = [](const std::vector<NodeId>& v, NodeId id) {
        return std::find(v.begin(), v.end(), id) != v.end();
    };
    NodeId spare = static_cast<NodeId>(m_servers.size());
    ConfChange change;
    if (!has(conf.voters, spare) && !has(conf.learners, spare) && !decommissioned(spare)) {
        change = {ConfChange::Kind::AddLearner, spare};
    } else if (has(conf.learners, spare)) {
        change = {ConfChange::Kind::PromoteLearner, spare};
    } else if (conf.voters.size() > static_cast<std::size_t>(m_options.nodes)) {
        std::vector<NodeId> others;
        for (NodeId v : conf.voters) {
            if (v != leader)
                others.push_back(v);
        }
        change = {ConfChange::Kind::RemoveNode, others[m_rng.below(others.size())]};
    } else {
        return;
    }
    auto index = node.changeMembership(change);
    TraceEvent e;
    e.time = m_now;
    e.kind = TraceEvent::Kind::Membership;
    e.node = leader;
    e.peer = change.node;
    e.a = static_cast<std::uint64_t>(change.kind);
    e.b = index.isOk() ? 1 : 0;
    if (index.isOk())
        ++m_stats.confChanges;
    e.index = index.isOk() ? *index : 0;
    m_trace.add(e);
    afterInput(server(leader));
}

void SimCluster::crash(Server& s) {
    trace(TraceEvent::Kind::Crash, s.id);
    ++m_stats.crashes;
    s.node.reset();
    s.machine = RegisterMachine();
    ++s.incarnation;
    s.readyScheduled = false;
    // Reads in flight on it will never answer: they told nobody anything. Writes stay pending
    // in the history: they may yet be committed by others.
    for (const auto& [context, op] : s.readsByContext)
        m_history.forget(op);
    for (const WaitingRead& r : s.waitingReads)
        m_history.forget(r.op);
    s.readsByContext.clear();
    s.waitingReads.clear();
    s.writes.clear();
    s.soft = SoftState{};
    s.seenRole = Role::Follower;
    s.lastHeard.clear();
}

void SimCluster::restart(Server& s) {
    if (s.node || decommissioned(s.id))
        return;
    if (s.incarnation > 0)
        trace(TraceEvent::Kind::Restart, s.id);
    ++s.restarts;
    auto node = Node::create(nodeConfig(s), *s.storage);
    if (!node) {
        m_checker.fail("n" + std::to_string(s.id) + " restart: " + node.status().toString());
        return;
    }
    s.node = std::move(*node);
    ++s.incarnation;
    // The state machine is rebuilt from the snapshot; the core hands back the committed entries
    // after it (Config::applied = 0).
    auto snapshot = s.storage->snapshot();
    if (!snapshot || !s.machine.restore(*snapshot))
        m_checker.fail("n" + std::to_string(s.id) + " cannot restore its snapshot");
    s.term = s.node->term();
    SimTime phase = m_rng.range(1, s.period);
    schedule(m_now + phase, Event{EventKind::Tick, s.id, s.incarnation});
    afterInput(s);
}

void SimCluster::startHealPhase() {
    m_healing = true;
    TraceEvent e;
    e.time = m_now;
    e.kind = TraceEvent::Kind::Phase;
    m_trace.add(e);
    m_network.heal();
    NetworkConfig clean = m_network.config();
    clean.dropRate = 0;
    clean.duplicateRate = 0;
    clean.slowRate = 0;
    m_network.setConfig(clean);
    for (Server& s : m_servers)
        restart(s);
}

// One leader every member follows, the whole log committed and applied on every member
// (servers outside the configuration — a spare never added, a decommissioned one — don't count).
bool SimCluster::converged() const {
    NodeId leader = leaderHint();
    if (leader == kNoNode)
        return false;
    const Server& l = m_servers[leader - 1];
    Index last = l.node->lastIndex();
    auto lastTerm = l.storage->term(last);
    if (!lastTerm || *lastTerm != l.node->term() || l.node->commitIndex() != last)
        return false;
    for (NodeId id : members(l)) {
        const Server& s = m_servers[id - 1];
        if (!s.node || s.node->term() != l.node->term() || s.node->leader() != leader ||
            s.node->commitIndex() != last || s.machine.applied() != last || s.readyScheduled)
            return false;
    }
    return true;
}

std::vector<NodeId> SimCluster::members(const Server& leader) const {
    std::vector<NodeId> out = leader.node->conf().voters;
    const auto& learners = leader.node->conf().learners;
    out.insert(out.end(), learners.begin(), learners.end());
    return out;
}

void SimCluster::finalChecks() {
    const Server& leader = m_servers[leaderHint() - 1];
    const RegisterMachine& reference = leader.machine;
    for (NodeId id : members(leader)) {
        const Server& s = m_servers[id - 1];
        if (s.machine.values() != reference.values() ||
            s.machine.proposals() != reference.proposals() ||
            s.machine.conf() != leader.node->conf()) {
            m_checker.fail("convergence: n" + std::to_string(s.id) +
                           " ended with a different state machine or membership than leader n" +
                           std::to_string(leader.id));
            return;
        }
    }
    // Every acknowledged write is in the converged state; an unacknowledged one either is
    // (it stays pending: it took effect at some point after its invocation) or is not (it never
    // happened and leaves the history).
    std::map<std::string, std::uint64_t> proposalOf; // value → proposal id
    for (std::size_t id = 1; id <= m_history.size(); ++id) {
        const Operation& op = m_history.op(id);
        if (op.removed || op.kind != Operation::Kind::Write)
            continue;
        std::uint64_t proposal = std::stoull(op.value.substr(1));
        bool applied = reference.hasApplied(proposal);
        if (op.response != kPending && !applied) {
            m_checker.fail("durability: acknowledged write " + describe(op) +
                           " is not in the converged state");
            return;
        }
        if (op.response == kPending) {
            if (applied)
                ++m_stats.writesPending;
            else
                m_history.forget(id);
        }
    }
    // A last read of every key against the converged state: the final value must be the one a
    // linearization of everything before ends with.
    for (int k = 0; k < m_options.keys; ++k) {
        std::string key = "k" + std::to_string(k);
        std::uint64_t op = m_history.invokeRead(key, 1, m_now);
        m_history.respond(op, reference.get(key));
    }
    LinearizabilityResult lin = checkLinearizable(m_history.operations());
    m_stats.checkerStates = lin.states;
    if (!lin.linearizable)
        m_checker.fail(std::string(lin.exhausted ? "linearizability checker gave up on key "
                                                 : "linearizability: no valid order for key ") +
                       lin.key + "\n" + lin.detail);
}

} // namespace troupe::raft::sim
