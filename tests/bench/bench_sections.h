#pragma once

// The measured sections of troupe-storage-bench: durable single-row writes through the engine
// and through plain SQLite, and the creation of many small actors. Each section runs on the
// caller's thread and starts its own client threads.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_support.h"
#include "sql/engine.h"

namespace troupe::bench {

struct Durations {
    double warmupSeconds = 1;
    double measureSeconds = 5;
    double idleSeconds = 3; // quiet time before an "idle" memory reading
    unsigned repeats = 1;   // runs of every throughput cell; the median one is reported
};

// What the storage writer did during a cell (from the engine's metrics registry).
struct WriterActivity {
    std::uint64_t batches = 0; // LMDB write transactions
    std::uint64_t fsyncs = 0;
    std::uint64_t entries = 0; // log entries (one per actor transaction)
    std::uint64_t bytes = 0;   // bytes of page values written
    double seconds = 0;        // wall time the activity was counted over
    double entriesPerBatch() const { return batches ? double(entries) / double(batches) : 0; }
    double batchesPerSec() const { return seconds > 0 ? double(batches) / seconds : 0; }
};

// The storage writer's counters so far (from the registry the engine was opened with), and the
// difference of two readings (`seconds` left 0).
WriterActivity writerActivity(MetricsRegistry& metrics);
WriterActivity since(const WriterActivity& now, const WriterActivity& before);

struct WriteCell {
    unsigned writers = 0;
    CellResult troupe;           // the median repetition
    WriterActivity troupeWriter; // summed over every repetition
    CellResult sqlite;
};

// Durable single-row INSERTs, one actor (engine) or one file (SQLite) per writer thread, for
// each writer count. Engine data lives in dir/engine, SQLite files in dir/sqlite.
std::vector<WriteCell> runWriteSection(const std::filesystem::path& dir,
                                       const sql::EngineOptions& engineOptions,
                                       const std::vector<unsigned>& writerCounts,
                                       const Durations& durations);

struct MemoryReading {
    std::string key;  // before_open, engine_open, first_idle, all_created, all_idle, all_trimmed
    std::string when; // for people
    std::uint64_t actors = 0;
    ProcessMemory memory;
};

struct CreateResult {
    std::uint64_t requested = 0;
    std::uint64_t created = 0; // the engine's own count at the end
    std::uint64_t errors = 0;
    std::string firstError;
    unsigned clientThreads = 0;
    double seconds = 0; // creating all actors (first thousand included, idle waits excluded)
    double actorsPerSec = 0;
    CellResult latency; // per create request; p50/p99 only
    WriterActivity writer;
    std::vector<MemoryReading> memory;
    const MemoryReading* reading(const std::string& key) const {
        for (const MemoryReading& m : memory)
            if (m.key == key)
                return &m;
        return nullptr;
    }
    std::vector<std::string> progress; // the 10% lines as printed

    // Disk, after shutdown.
    FileSpace dataFile; // data.mdb
    std::uint64_t lmdbPageSize = 0;
    std::uint64_t lmdbFilePages = 0; // pages up to the last one used (me_last_pgno + 1)
    std::uint64_t lmdbFreePages = 0; // on LMDB's free list (reusable)
    std::uint64_t lmdbTreePages = 0; // branch + leaf + overflow pages of every database
    std::uint64_t pageRecords = 0;   // entries of the `pages` database
    std::uint64_t actorRecords = 0;  // entries of the `actors` database
    std::string lmdbError;
};

// Creates `actors` actors (one small table and one row each) with `clientThreads` threads on a
// fresh engine in dir/create, reading process memory after the first thousand and at the end.
CreateResult runCreateSection(const std::filesystem::path& dir,
                              const sql::EngineOptions& engineOptions, std::uint64_t actors,
                              unsigned clientThreads, const Durations& durations);

} // namespace troupe::bench
