#pragma once

// The query-facade section of troupe-storage-bench: requests in the ActorDB dialect through
// sql::Database::query, in-process, with the engine's default durability (fsync=always).
//   a. point reads and durable single-row writes per second at 1, 16 and 64 client threads,
//      each thread on its own actors;
//   b. the first query to an actor that is not open (a fresh Database on the existing
//      directory; evicted because more actors were used than maxOpenActors) vs an open one;
//   c. one 10-actor transaction vs 10 single-actor writes one after another.
// Runs on the caller's thread and starts its own client threads; owns the Database it opens.

#include <cstdint>
#include <filesystem>
#include <vector>

#include "bench_sections.h"
#include "bench_support.h"
#include "sql/engine.h"

namespace troupe::bench {

struct SqlSettings {
    std::vector<unsigned> threadCounts{1, 16, 64};
    unsigned actorsPerThread = 4; // a client thread cycles through its own actors
    unsigned rowsPerActor = 100;  // rows every actor starts with (reads pick one of them)
    std::uint64_t coldSamples = 400;
    unsigned multiActors = 10;
    unsigned multiSamples = 200;
};

// Read and write cells at one client-thread count.
struct SqlCell {
    unsigned threads = 0;
    CellResult reads;      // the median repetition
    CellResult writes;     // the median repetition
    WriterActivity writer; // during the write cells, summed over every repetition
};

struct SqlColdResult {
    std::uint64_t actors = 0;    // actors created for this part
    std::uint64_t samples = 0;   // actors queried in every pass
    std::uint64_t openLimit = 0; // maxOpenActors
    unsigned createThreads = 0;
    double createSeconds = 0; // creating `actors` with createThreads client threads
    double reopenSeconds = 0; // Database::open on the existing directory
    CellResult reopened;      // first query per actor after the reopen
    CellResult evicted;       // first query per actor after it was evicted from the LRU
    CellResult warm;          // the same actors, open
};

struct SqlMultiResult {
    unsigned actors = 0;
    unsigned samples = 0;
    unsigned warmupSamples = 0;
    CellResult blocks;  // one request: `actors` ACTOR blocks, one INSERT each
    CellResult list;    // one request: ACTOR bench(x1,...,xN) with one INSERT
    CellResult singles; // `actors` single-actor requests one after another (the whole sequence)
    WriterActivity blocksWriter, listWriter, singlesWriter; // all samples, warm-up included
};

struct SqlResult {
    SqlSettings settings;
    unsigned executorThreads = 0;
    double setupSeconds = 0; // open + config + schema + populating the actors of the cells
    std::vector<SqlCell> cells;
    SqlColdResult cold;
    SqlMultiResult multi;
};

// Runs the three parts in dir/sql (a fresh directory).
SqlResult runSqlSection(const std::filesystem::path& dir, const sql::EngineOptions& engineOptions,
                        const SqlSettings& settings, const Durations& durations);

} // namespace troupe::bench
