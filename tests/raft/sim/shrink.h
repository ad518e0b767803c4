#pragma once

// Shrinking a failing seed: the smallest faulty phase (SimOptions::steps) of the same seed that
// still fails, and the report that names it. A run is deterministic and its faulty phase is a
// prefix of the longer run's event stream (only the start of the heal phase moves), so a shorter
// run of a failing seed replays the same events up to its cut; the shorter the faulty phase, the
// fewer events to read before the failure. Used by tst_raft_sim and troupe-raft-soak.
// Stateless functions; each rerun builds its own SimCluster.

#include <cstdint>
#include <string>

#include "sim_cluster.h"

namespace troupe::raft::sim {

struct ShrinkResult {
    std::uint64_t originalSteps = 0;
    std::uint64_t steps = 0;  // the smallest failing step count found
    bool minimal = false;     // steps - 1 was run and passed (else the budget ran out first)
    std::uint64_t reruns = 0; // simulations run while shrinking
    SimResult result;         // the run with `steps`: still failing, with its own trace
};

// `failed` is the failing result of `options` (the caller has already run it). Binary search
// over the step count with at most `budget` reruns: a failing count lowers the upper bound, a
// passing one raises the lower bound. Any failure counts (an invariant, linearizability,
// durability, convergence or liveness); the shorter run's failure may name another property
// than the original's, and the report prints both. Failure is not strictly monotone in the step
// count, so the result is the smallest count with a passing count just below it that the search
// met, not necessarily the global minimum.
ShrinkResult shrinkFailure(const SimOptions& options, const SimResult& failed, int budget = 20);

// The report of a shrunk failure: seed, original and minimal step counts, the commands that
// replay the short run (tst_raft_sim through TROUPE_RAFT_SEED/TROUPE_RAFT_STEPS, and
// troupe-raft-soak), its failure with options, and its last events.
std::string shrinkReport(const SimOptions& options, const SimResult& original,
                         const ShrinkResult& shrunk);

// The replay line alone: "TROUPE_RAFT_SEED=<n> TROUPE_RAFT_STEPS=<k> ...".
std::string replayCommand(std::uint64_t seed, std::uint64_t steps);

} // namespace troupe::raft::sim
