#include "shrink.h"

namespace troupe::raft::sim {

namespace {

std::string firstLine(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

} // namespace

ShrinkResult shrinkFailure(const SimOptions& options, const SimResult& failed, int budget) {
    ShrinkResult out;
    out.originalSteps = options.steps;
    out.steps = options.steps;
    out.result = failed;
    if (failed.ok)
        return out;
    auto rerun = [&](std::uint64_t steps) {
        SimOptions shorter = options;
        shorter.steps = steps;
        ++out.reruns;
        return runSimulation(shorter);
    };
    // A failure inside the faulty phase stops the run at the failing event: a run of exactly
    // that many steps is the same run, so the search starts there (one confirming rerun).
    std::uint64_t hi = options.steps;
    if (failed.stats.events < hi && budget > 0) {
        SimResult r = rerun(failed.stats.events);
        if (!r.ok) {
            hi = failed.stats.events;
            out.result = std::move(r);
        }
    }
    // Invariant: `hi` fails; `lo` passes or is 0 (a run with no faulty phase, assumed to pass:
    // no client ever wrote or read).
    std::uint64_t lo = 0;
    while (hi - lo > 1 && out.reruns < static_cast<std::uint64_t>(budget)) {
        std::uint64_t mid = lo + (hi - lo) / 2;
        SimResult r = rerun(mid);
        if (r.ok) {
            lo = mid;
        } else {
            hi = mid;
            out.result = std::move(r);
        }
    }
    out.steps = hi;
    out.minimal = hi - lo <= 1;
    return out;
}

std::string replayCommand(std::uint64_t seed, std::uint64_t steps) {
    return "TROUPE_RAFT_SEED=" + std::to_string(seed) +
           " TROUPE_RAFT_STEPS=" + std::to_string(steps) +
           " ctest -R tst_raft_sim --output-on-failure";
}

std::string shrinkReport(const SimOptions& options, const SimResult& original,
                         const ShrinkResult& shrunk) {
    const std::string seed = std::to_string(options.seed);
    const std::string steps = std::to_string(shrunk.steps);
    std::string out = "seed " + seed + " fails with " + std::to_string(shrunk.originalSteps) +
                      " steps: " + firstLine(original.failure) + "\n";
    std::string why = !shrunk.minimal     ? "search budget spent before the bounds met"
                      : shrunk.steps <= 1 ? "no shorter faulty phase"
                                          : std::to_string(shrunk.steps - 1) + " steps pass";
    out += "shrunk to " + steps + " steps in " + std::to_string(shrunk.reruns) + " reruns (" + why +
           ")\n";
    out += "replay: " + replayCommand(options.seed, shrunk.steps) + "\n";
    out += "replay: troupe-raft-soak --seeds 1 --start " + seed + " --steps " + steps + "\n";
    if (options.serveReadsEarly)
        out += "(this run used the deliberately broken driver, SimOptions::serveReadsEarly)\n";
    const SimResult& r = shrunk.result;
    out += r.summary() + "\n" + r.failure + "\n";
    if (!r.faultyPhaseTrace.empty())
        out += "last events of the faulty phase (it ends with step " + steps +
               (shrunk.minimal && shrunk.steps > 1 ? "; one step fewer passes" : "") + "):\n" +
               r.faultyPhaseTrace + "last events of the heal phase:\n";
    else
        out += "last events of the " + steps + "-step run:\n";
    out += r.trace;
    return out;
}

} // namespace troupe::raft::sim
