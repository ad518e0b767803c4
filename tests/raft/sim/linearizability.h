#pragma once

// A linearizability checker for a key-value register history (reads and blind writes): is there
// a total order of the operations, consistent with real time (a before b whenever a's response
// came before b's invocation), in which every read returns the latest write to its key? Pending
// operations may be placed anywhere after their invocation or left out. Values written must be
// unique per key (the simulator's are), so a read names the write it saw.
//
// Linearizability is local (Herlihy & Wing 1990): the history is linearizable iff each key's
// sub-history is, so keys are checked one at a time. Each key is the search of Wing & Gong
// (1993) — repeatedly pick an operation that no remaining operation precedes, apply it to the
// register, backtrack on a mismatch — with Lowe's memoisation (2017): a (set of linearized
// operations, register value) configuration already explored is never explored again.
// Stateless; callable from any thread.

#include <cstdint>
#include <string>
#include <vector>

#include "history.h"

namespace troupe::raft::sim {

struct LinearizabilityResult {
    bool linearizable = true;
    bool exhausted = false; // gave up after maxStates: neither proven nor refuted
    std::string key;        // the first key that failed
    std::string detail;     // the operation no linearization could place, and its key's history
    std::uint64_t states = 0;
};

LinearizabilityResult checkLinearizable(const std::vector<Operation>& ops,
                                        std::uint64_t maxStates = 2'000'000);

} // namespace troupe::raft::sim
