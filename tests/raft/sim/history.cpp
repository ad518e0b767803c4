#include "history.h"

#include <cassert>

namespace troupe::raft::sim {

std::uint64_t History::add(Operation op) {
    op.id = m_ops.size() + 1;
    op.invoke = ++m_clock;
    m_ops.push_back(std::move(op));
    return m_ops.back().id;
}

std::uint64_t History::invokeWrite(std::string key, std::string value, NodeId node,
                                   std::uint64_t simTime) {
    Operation op;
    op.kind = Operation::Kind::Write;
    op.key = std::move(key);
    op.value = std::move(value);
    op.node = node;
    op.simTime = simTime;
    return add(std::move(op));
}

std::uint64_t History::invokeRead(std::string key, NodeId node, std::uint64_t simTime) {
    Operation op;
    op.kind = Operation::Kind::Read;
    op.key = std::move(key);
    op.node = node;
    op.simTime = simTime;
    return add(std::move(op));
}

void History::respond(std::uint64_t id, std::string value) {
    Operation& op = m_ops[id - 1];
    assert(op.response == kPending);
    op.response = ++m_clock;
    if (op.kind == Operation::Kind::Read)
        op.value = std::move(value);
}

void History::forget(std::uint64_t id) {
    m_ops[id - 1].removed = true;
}

std::vector<Operation> History::operations() const {
    std::vector<Operation> out;
    out.reserve(m_ops.size());
    for (const Operation& op : m_ops) {
        if (!op.removed)
            out.push_back(op);
    }
    return out;
}

std::string describe(const Operation& op) {
    std::string s = "#" + std::to_string(op.id) + " n" + std::to_string(op.node) + " ";
    s += op.kind == Operation::Kind::Write ? "write " + op.key + "=" + op.value
                                           : "read " + op.key + " -> '" + op.value + "'";
    s += " [" + std::to_string(op.invoke) + ", ";
    s += op.response == kPending ? std::string("pending") : std::to_string(op.response);
    s += "] t=" + std::to_string(op.simTime);
    return s;
}

} // namespace troupe::raft::sim
