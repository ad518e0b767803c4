#pragma once

// History: what the simulated clients asked of the register store and what they were told, in
// real-time order, for the linearizability checker. Times are a logical clock that ticks at every
// invocation and response, so "a finished before b started" is a strict order with no ties even
// when both happened at the same simulated instant. An operation without a response is pending:
// it may or may not have taken effect (a write whose node crashed, for example).
// Owned by SimCluster (or a test); single-threaded.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "raft/types.h"

namespace troupe::raft::sim {

inline constexpr std::uint64_t kPending = std::numeric_limits<std::uint64_t>::max();

struct Operation {
    enum class Kind : std::uint8_t { Write, Read };
    std::uint64_t id = 0;
    Kind kind = Kind::Write;
    std::string key;
    std::string value; // a write: the value written; a read: the value returned ("" = absent)
    std::uint64_t invoke = 0;
    std::uint64_t response = kPending;
    NodeId node = kNoNode;     // where the client sent it
    std::uint64_t simTime = 0; // simulated time of the invocation, for traces
    bool removed = false;      // known not to have happened (see History::forget)
};

class History {
public:
    std::uint64_t invokeWrite(std::string key, std::string value, NodeId node,
                              std::uint64_t simTime);
    std::uint64_t invokeRead(std::string key, NodeId node, std::uint64_t simTime);
    // The operation finished; for a read, `value` is what it returned.
    void respond(std::uint64_t id, std::string value = {});
    // The operation certainly had no effect (a read that never answered, a write absent from the
    // converged log): drop it rather than leave it pending, which only costs the checker time.
    void forget(std::uint64_t id);

    const Operation& op(std::uint64_t id) const { return m_ops[id - 1]; }
    // Live (not forgotten) operations.
    std::vector<Operation> operations() const;
    std::size_t size() const { return m_ops.size(); }

private:
    std::uint64_t add(Operation op);

    std::vector<Operation> m_ops; // m_ops[id - 1]
    std::uint64_t m_clock = 0;
};

// A human-readable line for one operation ("#12 n2 write k1=v7 [40, 52]").
std::string describe(const Operation& op);

} // namespace troupe::raft::sim
