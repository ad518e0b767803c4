#pragma once

// SimNetwork: the seeded network between simulated Raft nodes. Every message is dropped,
// duplicated or delayed at send time by a draw from the run's SimRng; independent random delays
// reorder messages. Partitions (symmetric or one-way link cuts) are checked when a message is sent
// and again when it would be delivered, so a partition also catches messages already in flight.
// Owned by SimCluster; single-threaded like the rest of the simulator.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "raft/types.h"
#include "sim_rng.h"

namespace troupe::raft::sim {

using SimTime = std::uint64_t; // simulated microseconds

struct NetworkConfig {
    double dropRate = 0.0;      // probability that a message is lost
    double duplicateRate = 0.0; // probability that a message is delivered twice
    SimTime minDelay = 0;       // one-way delay, uniform in [minDelay, maxDelay]
    SimTime maxDelay = 0;
    double slowRate = 0.0; // probability of an extra delay of up to slowDelay (reordering)
    SimTime slowDelay = 0;
};

class SimNetwork {
public:
    SimNetwork(SimRng& rng, NetworkConfig config) : m_rng(rng), m_config(config) {}

    const NetworkConfig& config() const { return m_config; }
    void setConfig(const NetworkConfig& config) { m_config = config; }

    // Queues `message` (from message.from to message.to) subject to loss, duplication, delay and
    // the current partitions. Returns how many copies were queued (0, 1 or 2).
    int send(const Message& message, SimTime now);

    // The delivery time of the earliest queued message.
    std::optional<SimTime> nextDue() const;
    // The earliest message due at or before `now` whose link is still up; messages whose link was
    // cut while they were in flight are discarded on the way.
    std::optional<Message> popDue(SimTime now);
    // Forgets every queued message to `node` (it crashed: its sockets are gone).
    void dropTo(NodeId node);

    // Cuts both directions between every node of `a` and every node of `b`.
    void partition(const std::vector<NodeId>& a, const std::vector<NodeId>& b);
    // Cuts only from → to; to → from keeps working.
    void cutOneWay(NodeId from, NodeId to);
    void heal();
    bool linkUp(NodeId from, NodeId to) const { return !m_cut.contains({from, to}); }
    bool partitioned() const { return !m_cut.empty(); }

    std::size_t inFlight() const { return m_queue.size(); }
    std::uint64_t sent() const { return m_sent; }
    std::uint64_t dropped() const { return m_dropped; }
    std::uint64_t duplicated() const { return m_duplicated; }

private:
    SimTime drawDelay();

    SimRng& m_rng;
    NetworkConfig m_config;
    // (delivery time, sequence) → message: the sequence keeps equal times in send order, so a
    // run never depends on container internals.
    std::map<std::pair<SimTime, std::uint64_t>, Message> m_queue;
    std::set<std::pair<NodeId, NodeId>> m_cut; // directed links that are down
    std::uint64_t m_sequence = 0;
    std::uint64_t m_sent = 0;
    std::uint64_t m_dropped = 0;
    std::uint64_t m_duplicated = 0;
};

} // namespace troupe::raft::sim
