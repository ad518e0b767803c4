#pragma once

// SimCluster: N simulated servers running the real Raft core (daemon/raft) against
// MemoryLogStorage, driven by a discrete-event loop from one seed. Everything random — clock
// rates, message fates, client operations, faults — comes from one SimRng, so a seed replays
// exactly (TROUPE_RAFT_SEED=<n>). Each server follows the Ready protocol of types.h with a
// simulated disk delay between the core producing a Ready and the driver executing it; a crash
// in that window loses everything the Ready had not yet persisted, which is the state a real
// crash loses. A run has a faulty phase (crashes, restarts, partitions, lossy network, leader
// transfers, clients writing and reading) and then a heal phase (everything up, network whole)
// that must converge; the invariants (invariants.h) are checked after every event and the
// clients' history must be linearizable (linearizability.h). Single-threaded; one per run.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "history.h"
#include "invariants.h"
#include "raft/log_storage.h"
#include "raft/node.h"
#include "register_machine.h"
#include "sim_network.h"
#include "sim_rng.h"
#include "trace.h"

namespace troupe::raft::sim {

struct SimOptions {
    std::uint64_t seed = 1;
    int nodes = 3;
    std::uint64_t steps = 3000;  // events in the faulty phase (ticks, deliveries, ...)
    SimTime tickPeriod = 10'000; // 10 ms per tick at the nominal clock rate
    // Each node's clock runs at a fixed rate in [1 - maxDrift, 1 + maxDrift]. The lease margin
    // must cover it: (E - D + 1) / (1 - d) < (E - 1) / (1 + d) for E = electionTicks,
    // D = leaseDriftTicks, d = maxDrift (one tick of phase on each side).
    double maxDrift = 0.04;
    int electionTicks = 10;
    int heartbeatTicks = 1;
    int leaseDriftTicks = 3;
    bool leaseReads = true;
    bool quiesce = false; // Config::quiesce, driven the way MultiRaft drives it
    // Membership faults: add a spare server as a learner, promote it, remove a voter (one
    // server at a time); a removed server is decommissioned (stopped for good).
    bool membership = false;
    // A deliberately broken driver, to prove the checks can fail: serve a read as soon as its
    // read state arrives, before the state machine has applied the read index.
    bool serveReadsEarly = false;
    std::uint64_t snapshotThreshold = 40; // small, so snapshots and installs happen often
    std::uint64_t snapshotChunkBytes = 64;
    std::uint64_t maxAppendBytes = 256;
    int maxInflightMessages = 4;
    NetworkConfig network;
    SimTime maxDiskDelay = 3'000; // between a Ready being produced and the driver executing it
    SimTime clientGap = 8'000;    // mean time between client operations
    double readShare = 0.5;
    int keys = 3;
    SimTime faultGap = 250'000; // mean time between faults
    SimTime healTime = 30'000'000;
    std::size_t traceSize = 60;

    // The options of seed `seed`: cluster size, network quality, lease or read-index reads and
    // fault rate all vary with the seed.
    static SimOptions fromSeed(std::uint64_t seed, std::uint64_t steps = 3000);
    std::string describe() const;
};

struct SimStats {
    std::uint64_t events = 0;
    SimTime simTime = 0;
    std::uint64_t writesAcked = 0;
    std::uint64_t writesPending = 0; // unknown outcome at the end (applied or not)
    std::uint64_t readsServed = 0;
    std::uint64_t crashes = 0;
    std::uint64_t snapshots = 0;
    std::uint64_t leaderChanges = 0;
    std::uint64_t confChanges = 0; // membership changes a leader accepted
    std::uint64_t decommissioned = 0;
    Term maxTerm = 0;
    Index committed = 0;
    std::uint64_t messages = 0;
    std::uint64_t dropped = 0;
    std::uint64_t checkerStates = 0;
};

struct SimResult {
    bool ok = true;
    std::uint64_t seed = 0;
    std::string failure; // the first violated property, empty when ok
    std::string trace;   // the last events before the failure
    // When the failure came in the heal phase or at the end (convergence, durability,
    // linearizability): the last events of the faulty phase, where the cause usually is.
    std::string faultyPhaseTrace;
    SimStats stats;
    std::string summary() const;
};

SimResult runSimulation(const SimOptions& options);

class SimCluster {
public:
    explicit SimCluster(const SimOptions& options);
    ~SimCluster();
    SimResult run();

private:
    struct WaitingRead {
        Index index = 0;
        std::uint64_t op = 0;
    };
    struct Server {
        NodeId id = kNoNode;
        std::unique_ptr<MemoryLogStorage> storage; // survives crashes: it is the disk
        std::unique_ptr<Node> node;                // null while crashed
        RegisterMachine machine;                   // lost on a crash
        SimTime period = 0;                        // tick period of this node's clock
        std::uint64_t incarnation = 0;
        bool readyScheduled = false;
        SoftState soft;                 // as the last Ready reported it
        Role seenRole = Role::Follower; // as observe() last saw it, for the trace
        Term term = 0;
        std::map<std::string, std::uint64_t> readsByContext; // read context → history op
        std::vector<WaitingRead> waitingReads;         // read states waiting for the apply index
        std::map<std::uint64_t, std::uint64_t> writes; // proposal id → history op
        std::uint64_t restarts = 0;
        std::uint64_t ticks = 0;                   // this server's clock, in its own ticks
        std::map<NodeId, std::uint64_t> lastHeard; // peer → our tick when last heard (quiesce)
    };
    enum class EventKind : std::uint8_t { Tick, Ready, Client, Fault };
    struct Event {
        EventKind kind = EventKind::Tick;
        NodeId node = kNoNode;
        std::uint64_t incarnation = 0;
    };

    Config nodeConfig(const Server& server) const;
    void schedule(SimTime at, Event event);
    bool step();
    void afterInput(Server& server);
    void handleReady(Server& server);
    void applyCommitted(Server& server, const Ready& ready);
    void serveReads(Server& server);
    void deliver(const Message& message);
    void observe();
    void trace(TraceEvent::Kind kind, NodeId node, std::uint64_t a = 0, Index index = 0,
               NodeId peer = kNoNode);
    Server& server(NodeId id) { return m_servers[id - 1]; }
    NodeId randomUp();
    NodeId leaderHint() const;

    // sim_workload.cpp: clients, faults, the end of a run.
    void clientOperation();
    void fault();
    void crash(Server& server);
    void membershipChange();
    bool decommissioned(NodeId id) const { return m_removed.contains(id); }
    void restart(Server& server);
    void startHealPhase();
    bool converged() const;
    std::vector<NodeId> members(const Server& leader) const;
    void finalChecks();

    SimOptions m_options;
    SimRng m_rng;
    SimNetwork m_network;
    InvariantChecker m_checker;
    History m_history;
    Trace m_trace;
    SimStats m_stats;
    std::vector<Server> m_servers;
    std::map<std::pair<SimTime, std::uint64_t>, Event> m_agenda;
    std::uint64_t m_sequence = 0;
    SimTime m_now = 0;
    bool m_healing = false;
    std::uint64_t m_nextProposal = 1;
    std::map<std::uint64_t, Index> m_readFloor; // read op → commit high-water mark at start
    std::set<NodeId> m_removed;                 // committed removals: decommissioned once noticed
    std::vector<NodeId> m_clientTarget = std::vector<NodeId>(4, kNoNode); // per client
};

} // namespace troupe::raft::sim
