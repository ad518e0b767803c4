#pragma once

// The plain-SQLite point-select baseline of troupe-storage-bench (section "reads"): the load of
// the sysbench point-select workload that tests/bench/run.sh drives against TroupeDB
// (tests/bench/sysbench/troupe_actors.lua --mode=select), done by plain SQLite in-process. Each
// client thread has its own actors, here one SQLite file each (WAL, synchronous=FULL, as in the
// write section) holding t(id INTEGER PRIMARY KEY, v INTEGER) with ids 1..rowsPerActor; the
// thread cycles through its actors, one `SELECT v FROM t WHERE id = ?1` each, the id drawn as
// sysbench 1.0's default "special" distribution draws it. Runs on the caller's thread and
// starts its own client threads; owns the connections it opens.

#include <cstdint>
#include <filesystem>
#include <vector>

#include "bench_sections.h"
#include "bench_support.h"

namespace troupe::bench {

struct ReadSettings {
    std::vector<unsigned> threadCounts{1, 16, 64};
    unsigned actorsPerThread = 10; // run.sh: actors_per_thread
    unsigned rowsPerActor = 10;    // troupe_actors.lua: --seed-rows (default 10)
};

struct ReadCell {
    unsigned threads = 0;
    CellResult sqlite; // the median repetition
};

// sysbench 1.0's sb_rand_special(a, b) with its defaults (--rand-spec-iter=12,
// --rand-spec-pct=1, --rand-spec-res=75), given the uniform doubles in [0, 1) it would draw:
// `rnd` first, then `next()` twelve times when the draw falls in the bell-shaped part. 75% of
// the draws land on the 1% of the range around its middle.
template <typename NextUniform>
std::uint32_t sysbenchSpecial(std::uint32_t a, std::uint32_t b, double rnd, NextUniform&& next) {
    constexpr unsigned kIter = 12;
    constexpr double kPct = 1, kRes = 75;
    const double t = double(b - a);
    const double res = rnd * t * (100.0 / (100.0 - kRes));
    if (res < t) {
        double sum = 0;
        for (unsigned i = 0; i < kIter; ++i)
            sum += next();
        return a + std::uint32_t(sum * t / kIter);
    }
    const double d = t * kPct / 100.0;
    return a + std::uint32_t(rnd * (d + 1) + t / 2 - t * kPct / 200.0);
}

// Creates threadCounts' largest count x actorsPerThread files in dir/sqlite-reads (fresh), then
// measures each thread count on the first files. Files are removed afterwards.
std::vector<ReadCell> runReadSection(const std::filesystem::path& dir, const ReadSettings& settings,
                                     const Durations& durations);

} // namespace troupe::bench
