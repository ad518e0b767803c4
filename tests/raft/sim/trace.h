#pragma once

// Trace: the last N events of a simulated run in a ring buffer, formatted only when a run fails
// (formatting every event of every seed would cost more than the simulation). Owned by
// SimCluster; single-threaded.

#include <cstdint>
#include <string>
#include <vector>

#include "raft/types.h"

namespace troupe::raft::sim {

struct TraceEvent {
    enum class Kind : std::uint8_t {
        Deliver, // a message arrived (message fields below)
        Ready,   // a node handled a Ready: a = entries persisted, b = messages sent, c = applied
        Role,    // a node's role or term changed: a = role, term
        Propose, // a = proposal id, index
        ProposeFail,
        Read,       // a = history op id
        ReadServed, // a = history op id, index = read index
        Ack,        // a write was acknowledged: a = proposal id, index
        Crash,
        Restart,
        Partition, // a = bitmask of one side
        CutOneWay, // node → peer
        Heal,
        Transfer,     // peer = target
        Snapshot,     // index = snapshot index taken
        Phase,        // a = 1: heal phase started
        Membership,   // a = ConfChange kind, peer = its node, b = accepted
        Decommission, // its removal was applied: stopped for good
    };
    std::uint64_t time = 0;
    Kind kind = Kind::Deliver;
    NodeId node = kNoNode;
    NodeId peer = kNoNode;
    MessageType message = MessageType::Append;
    Term term = 0;
    Index index = 0;
    Index commit = 0;
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::uint64_t c = 0;
    bool reject = false;
};

class Trace {
public:
    explicit Trace(std::size_t capacity) : m_capacity(capacity) {}
    void add(const TraceEvent& event);
    void addMessage(std::uint64_t time, const Message& message);
    // The retained events, oldest first, one per line.
    std::string format() const;
    std::uint64_t total() const { return m_total; }

private:
    std::size_t m_capacity;
    std::vector<TraceEvent> m_ring;
    std::size_t m_next = 0;
    std::uint64_t m_total = 0;
};

} // namespace troupe::raft::sim
