#include "sim_network.h"

namespace troupe::raft::sim {

SimTime SimNetwork::drawDelay() {
    SimTime delay = m_config.maxDelay > m_config.minDelay
                        ? m_rng.range(m_config.minDelay, m_config.maxDelay)
                        : m_config.minDelay;
    if (m_config.slowDelay > 0 && m_rng.chance(m_config.slowRate))
        delay += m_rng.range(1, m_config.slowDelay);
    return delay;
}

int SimNetwork::send(const Message& message, SimTime now) {
    ++m_sent;
    if (!linkUp(message.from, message.to) || m_rng.chance(m_config.dropRate)) {
        ++m_dropped;
        return 0;
    }
    int copies = 1;
    if (m_rng.chance(m_config.duplicateRate)) {
        ++m_duplicated;
        copies = 2;
    }
    for (int i = 0; i < copies; ++i)
        m_queue.emplace(std::make_pair(now + drawDelay(), m_sequence++), message);
    return copies;
}

std::optional<SimTime> SimNetwork::nextDue() const {
    if (m_queue.empty())
        return std::nullopt;
    return m_queue.begin()->first.first;
}

std::optional<Message> SimNetwork::popDue(SimTime now) {
    while (!m_queue.empty() && m_queue.begin()->first.first <= now) {
        auto it = m_queue.begin();
        Message message = std::move(it->second);
        m_queue.erase(it);
        if (linkUp(message.from, message.to))
            return message;
        ++m_dropped;
    }
    return std::nullopt;
}

void SimNetwork::dropTo(NodeId node) {
    for (auto it = m_queue.begin(); it != m_queue.end();) {
        if (it->second.to == node) {
            it = m_queue.erase(it);
            ++m_dropped;
        } else {
            ++it;
        }
    }
}

void SimNetwork::partition(const std::vector<NodeId>& a, const std::vector<NodeId>& b) {
    for (NodeId x : a) {
        for (NodeId y : b) {
            if (x == y)
                continue;
            m_cut.insert({x, y});
            m_cut.insert({y, x});
        }
    }
}

void SimNetwork::cutOneWay(NodeId from, NodeId to) {
    if (from != to)
        m_cut.insert({from, to});
}

void SimNetwork::heal() {
    m_cut.clear();
}

} // namespace troupe::raft::sim
