// troupe-raft-soak: the randomised Raft simulation for as many seeds as asked.
//   troupe-raft-soak --seeds N [--start S] [--steps K] [--verbose] [--no-shrink]
// Runs seeds S .. S+N-1 (default S = 1, K = 3000 events each), prints every failure, a summary
// line at the end, and exits 1 if any seed failed. A failing seed is shrunk (shrink.h) to the
// shortest faulty phase that still fails, and its report gives the seed, that step count, the
// replay commands (`troupe-raft-soak --seeds 1 --start <seed> --steps <k>` or
// TROUPE_RAFT_SEED=<seed> TROUPE_RAFT_STEPS=<k> tst_raft_sim) and that run's last events.
// --no-shrink reports the full-length run instead (when very many seeds fail).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "shrink.h"
#include "sim_cluster.h"

using namespace troupe::raft::sim;

namespace {

int usage() {
    std::fprintf(stderr, "usage: troupe-raft-soak --seeds N [--start S] [--steps K] [--verbose] "
                         "[--no-shrink]\n");
    return 2;
}

bool number(const char* text, std::uint64_t& out) {
    char* end = nullptr;
    out = std::strtoull(text, &end, 10);
    return end && *end == '\0' && end != text;
}

} // namespace

int main(int argc, char** argv) {
    std::uint64_t seeds = 0, start = 1, steps = 3000;
    bool verbose = false, shrink = true;
    for (int i = 1; i < argc; ++i) {
        const char* arg = argv[i];
        bool hasValue = i + 1 < argc;
        if (!std::strcmp(arg, "--seeds") && hasValue) {
            if (!number(argv[++i], seeds))
                return usage();
        } else if (!std::strcmp(arg, "--start") && hasValue) {
            if (!number(argv[++i], start))
                return usage();
        } else if (!std::strcmp(arg, "--steps") && hasValue) {
            if (!number(argv[++i], steps))
                return usage();
        } else if (!std::strcmp(arg, "--verbose")) {
            verbose = true;
        } else if (!std::strcmp(arg, "--no-shrink")) {
            shrink = false;
        } else {
            return usage();
        }
    }
    if (seeds == 0)
        return usage();

    auto begin = std::chrono::steady_clock::now();
    std::uint64_t failed = 0, events = 0, acked = 0, reads = 0;
    for (std::uint64_t seed = start; seed < start + seeds; ++seed) {
        auto seedStart = std::chrono::steady_clock::now();
        SimOptions options = SimOptions::fromSeed(seed, steps);
        SimResult r = runSimulation(options);
        double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - seedStart)
                .count();
        events += r.stats.events;
        acked += r.stats.writesAcked;
        reads += r.stats.readsServed;
        if (verbose || !r.ok)
            std::printf("%s; %.0f ms\n", r.summary().c_str(), ms);
        if (!r.ok) {
            ++failed;
            if (shrink)
                std::printf("%s\n\n", shrinkReport(options, r, shrinkFailure(options, r)).c_str());
            else
                std::printf("%s\nlast events:\n%sreplay: troupe-raft-soak --seeds 1 --start %llu "
                            "--steps %llu\n\n",
                            r.failure.c_str(), r.trace.c_str(),
                            static_cast<unsigned long long>(seed),
                            static_cast<unsigned long long>(steps));
            std::fflush(stdout);
        }
        std::uint64_t done = seed - start + 1;
        if (!verbose && done % 1000 == 0) {
            std::printf("... %llu seeds, %llu failed\n", static_cast<unsigned long long>(done),
                        static_cast<unsigned long long>(failed));
            std::fflush(stdout);
        }
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    std::printf("seeds %llu..%llu, %llu steps each: %llu failed; %llu events, %llu writes "
                "acknowledged, %llu reads served in %.1f s\n",
                static_cast<unsigned long long>(start),
                static_cast<unsigned long long>(start + seeds - 1),
                static_cast<unsigned long long>(steps), static_cast<unsigned long long>(failed),
                static_cast<unsigned long long>(events), static_cast<unsigned long long>(acked),
                static_cast<unsigned long long>(reads), seconds);
    return failed ? 1 : 0;
}
