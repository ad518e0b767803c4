#include "trace.h"

namespace troupe::raft::sim {

void Trace::add(const TraceEvent& event) {
    ++m_total;
    if (m_capacity == 0)
        return;
    if (m_ring.size() < m_capacity) {
        m_ring.push_back(event);
        return;
    }
    m_ring[m_next] = event;
    m_next = (m_next + 1) % m_capacity;
}

void Trace::addMessage(std::uint64_t time, const Message& message) {
    TraceEvent e;
    e.time = time;
    e.kind = TraceEvent::Kind::Deliver;
    e.node = message.to;
    e.peer = message.from;
    e.message = message.type;
    e.term = message.term;
    e.index = message.index;
    e.commit = message.commit;
    e.a = message.entries.size();
    e.b = message.logTerm;
    e.reject = message.reject;
    add(e);
}

namespace {

std::string formatEvent(const TraceEvent& e) {
    using K = TraceEvent::Kind;
    std::string s = "t=" + std::to_string(e.time / 1000) + "ms ";
    auto node = [](NodeId id) { return "n" + std::to_string(id); };
    switch (e.kind) {
    case K::Deliver:
        s += node(e.peer) + "->" + node(e.node) + " " + messageTypeName(e.message) +
             " term=" + std::to_string(e.term) + " index=" + std::to_string(e.index) +
             " logTerm=" + std::to_string(e.b) + " commit=" + std::to_string(e.commit) +
             " entries=" + std::to_string(e.a) + (e.reject ? " REJECT" : "");
        break;
    case K::Ready:
        s += node(e.node) + " ready: persisted " + std::to_string(e.a) + " entries, sent " +
             std::to_string(e.b) + ", applied up to " + std::to_string(e.c) +
             " commit=" + std::to_string(e.commit);
        break;
    case K::Role:
        s += node(e.node) + " is " + roleName(static_cast<Role>(e.a)) + " in term " +
             std::to_string(e.term);
        break;
    case K::Propose:
        s += node(e.node) + " proposed p" + std::to_string(e.a) + " at index " +
             std::to_string(e.index);
        break;
    case K::ProposeFail:
        s += node(e.node) + " refused a proposal (not leader)";
        break;
    case K::Read:
        s += node(e.node) + " read #" + std::to_string(e.a) + " started";
        break;
    case K::ReadServed:
        s += node(e.node) + " read #" + std::to_string(e.a) + " served at read index " +
             std::to_string(e.index);
        break;
    case K::Ack:
        s += node(e.node) + " acknowledged p" + std::to_string(e.a) + " (applied at " +
             std::to_string(e.index) + ")";
        break;
    case K::Crash:
        s += node(e.node) + " CRASHED";
        break;
    case K::Restart:
        s += node(e.node) + " restarted";
        break;
    case K::Partition: {
        s += "partition {";
        for (int i = 0; i < 64; ++i) {
            if (e.a & (std::uint64_t{1} << i))
                s += " n" + std::to_string(i + 1);
        }
        s += " } from the rest";
        break;
    }
    case K::CutOneWay:
        s += "link " + node(e.node) + "->" + node(e.peer) + " cut (one way)";
        break;
    case K::Heal:
        s += "network healed";
        break;
    case K::Transfer:
        s += node(e.node) + " transfers leadership to " + node(e.peer);
        break;
    case K::Snapshot:
        s += node(e.node) + " took a snapshot at " + std::to_string(e.index);
        break;
    case K::Membership: {
        static const char* kinds[] = {"?", "add-learner", "promote", "remove"};
        s += node(e.node) + " proposes " + kinds[e.a < 4 ? e.a : 0] + " " + node(e.peer) +
             (e.b ? "" : " (refused)");
        break;
    }
    case K::Decommission:
        s += node(e.node) + " decommissioned (its removal was applied)";
        break;
    case K::Phase:
        s += "--- heal phase: network healed and lossless, every node up, no more faults ---";
        break;
    }
    return s;
}

} // namespace

std::string Trace::format() const {
    std::string out;
    std::size_t n = m_ring.size();
    for (std::size_t k = 0; k < n; ++k)
        out += "  " + formatEvent(m_ring[(m_next + k) % n]) + "\n";
    return out;
}

} // namespace troupe::raft::sim
