// troupe-storage-bench: what the storage engine costs on this machine's disk, measured in one
// run (resources/docs/benchmarks.md):
//   1. the disk floor: 4 KiB appends + fdatasync, 1 and 16 threads;
//   2. durable single-row write transactions at 1, 16 and 64 writers through the engine
//      (fsync=always) and through plain SQLite (WAL, synchronous=FULL), one actor/file each;
//   3. creating N small actors with 64 client threads: rate, disk per actor, process memory
//      with a thousand vs N idle actors;
//   4. the query facade (sql::Database::query, ActorDB dialect): point reads and durable writes
//      at 1, 16 and 64 client threads, cold vs warm first queries, a 10-actor transaction vs 10
//      single-actor writes;
//   5. plain SQLite point selects at 1, 16 and 64 client threads, the baseline of the
//      point-select workload of tests/bench/run.sh (same row shape, rows and actors per thread).
// Prints Markdown tables and writes every figure as JSON. A benchmark, never a pass/fail test:
// the goals are reported as met / not met and the exit status ignores them.
//
// Usually started by tests/bench/storage-bench.sh, which builds it and picks the directory.

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <lmdb.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "bench_report.h"
#include "bench_sections.h"
#include "bench_support.h"
#include "core/log.h"

using namespace troupe;
using namespace troupe::bench;

namespace {

const char* kUsage = R"(usage: troupe-storage-bench --dir DIR [options]
  --dir DIR            where the data goes: an empty directory on the disk under test
  --out DIR            where the JSON and Markdown results go (default: current directory)
  --quick              short run: 2 s cells, 0.5 s warm-up, one repetition, 100,000 actors
  --actors N           actors to create (default 1,000,000; 100,000 with --quick)
  --duration S         measured seconds per cell (default 5; 2 with --quick)
  --warmup S           warm-up seconds per cell, not measured (default 1; 0.5 with --quick)
  --idle S             quiet seconds before an idle memory reading (default 3; 1 with --quick)
  --repeat N           runs of every throughput cell, the median is reported (default 3;
                       1 with --quick)
  --writers LIST       writer counts for the write cells (default 1,16,64)
  --fsync-threads N    threads of the second disk-floor cell, 0 to skip (default 16)
  --create-threads N   client threads creating actors (default 64)
  --sections LIST      any of fsync,writes,create,sql,reads (default all five)
  --read-threads LIST  client threads of the plain-SQLite point-select cells (default 1,16,64)
  --read-actors N      SQLite files (actors) per client thread in those cells (default 10)
  --read-rows N        rows per file; selects pick one id of 1..N (default 10)
  --sql-threads LIST   client threads of the query-facade cells (default 1,16,64)
  --cold-samples N     actors queried cold and warm in the query-facade section (default 400;
                       100 with --quick; at most --max-open-actors / 2)
  --multi-samples N    10-actor transactions and 10-write sequences timed (default 200; 30
                       with --quick)
  --executor-threads N engine executor threads (default 0 = number of cores, at least 2)
  --max-open-actors N  engine LRU of open SQLite connections (default 1024)
  --revision TEXT      the source revision, for the report (the script passes git describe)
  --allow-memory-fs    run even if DIR is on tmpfs/ramfs (durability figures are then meaningless)
)";

std::vector<std::string> splitList(const std::string& text) {
    std::vector<std::string> items;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ','))
        if (!item.empty())
            items.push_back(item);
    return items;
}

BenchOptions parseOptions(int argc, char** argv) {
    BenchOptions o;
    bool actorsSet = false, durationSet = false, warmupSet = false, idleSet = false,
         repeatSet = false, coldSet = false, multiSet = false;
    auto value = [&](int& i) -> std::string {
        if (i + 1 >= argc)
            throw std::invalid_argument(std::string(argv[i]) + " needs a value");
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--dir")
            o.dir = value(i);
        else if (arg == "--out")
            o.out = value(i);
        else if (arg == "--quick")
            o.quick = true;
        else if (arg == "--actors")
            o.actors = std::stoull(value(i)), actorsSet = true;
        else if (arg == "--duration")
            o.durations.measureSeconds = std::stod(value(i)), durationSet = true;
        else if (arg == "--warmup")
            o.durations.warmupSeconds = std::stod(value(i)), warmupSet = true;
        else if (arg == "--idle")
            o.durations.idleSeconds = std::stod(value(i)), idleSet = true;
        else if (arg == "--repeat")
            o.durations.repeats = unsigned(std::stoul(value(i))), repeatSet = true;
        else if (arg == "--writers") {
            o.writerCounts.clear();
            for (const std::string& w : splitList(value(i)))
                o.writerCounts.push_back(unsigned(std::stoul(w)));
        } else if (arg == "--fsync-threads")
            o.fsyncThreads = unsigned(std::stoul(value(i)));
        else if (arg == "--create-threads")
            o.createThreads = unsigned(std::stoul(value(i)));
        else if (arg == "--sections")
            o.sections = splitList(value(i));
        else if (arg == "--read-threads") {
            o.reads.threadCounts.clear();
            for (const std::string& t : splitList(value(i)))
                o.reads.threadCounts.push_back(unsigned(std::stoul(t)));
        } else if (arg == "--read-actors")
            o.reads.actorsPerThread = unsigned(std::stoul(value(i)));
        else if (arg == "--read-rows")
            o.reads.rowsPerActor = unsigned(std::stoul(value(i)));
        else if (arg == "--sql-threads") {
            o.sqlBench.threadCounts.clear();
            for (const std::string& t : splitList(value(i)))
                o.sqlBench.threadCounts.push_back(unsigned(std::stoul(t)));
        } else if (arg == "--cold-samples")
            o.sqlBench.coldSamples = std::stoull(value(i)), coldSet = true;
        else if (arg == "--multi-samples")
            o.sqlBench.multiSamples = unsigned(std::stoul(value(i))), multiSet = true;
        else if (arg == "--executor-threads")
            o.engine.executorThreads = unsigned(std::stoul(value(i)));
        else if (arg == "--max-open-actors")
            o.engine.maxOpenActors = std::stoull(value(i));
        else if (arg == "--revision")
            o.revision = value(i);
        else if (arg == "--allow-memory-fs")
            o.allowMemoryFs = true;
        else if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else
            throw std::invalid_argument("unknown option " + arg);
    }
    if (o.dir.empty())
        throw std::invalid_argument("--dir is required");
    if (!actorsSet)
        o.actors = o.quick ? 100'000 : 1'000'000;
    if (!durationSet)
        o.durations.measureSeconds = o.quick ? 2 : 5;
    if (!warmupSet)
        o.durations.warmupSeconds = o.quick ? 0.5 : 1;
    if (!idleSet)
        o.durations.idleSeconds = o.quick ? 1 : 3;
    if (!repeatSet)
        o.durations.repeats = o.quick ? 1 : 3;
    if (!coldSet)
        o.sqlBench.coldSamples = o.quick ? 100 : 400;
    if (!multiSet)
        o.sqlBench.multiSamples = o.quick ? 30 : 200;
    for (const std::string& s : o.sections)
        if (s != "fsync" && s != "writes" && s != "create" && s != "sql" && s != "reads")
            throw std::invalid_argument("unknown section " + s);
    if (o.actors == 0 || o.createThreads == 0)
        throw std::invalid_argument("--actors and --create-threads must be positive");
    for (unsigned t : o.sqlBench.threadCounts)
        if (t == 0)
            throw std::invalid_argument("--sql-threads must be positive");
    for (unsigned t : o.reads.threadCounts)
        if (t == 0)
            throw std::invalid_argument("--read-threads must be positive");
    if (o.reads.actorsPerThread == 0 || o.reads.rowsPerActor == 0)
        throw std::invalid_argument("--read-actors and --read-rows must be positive");
    return o;
}

std::string timestamp(const char* format) {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
#if defined(_WIN32)
    gmtime_s(&tm, &now);
#else
    gmtime_r(&now, &tm);
#endif
    char buffer[64];
    std::strftime(buffer, sizeof buffer, format, &tm);
    return buffer;
}

} // namespace

int main(int argc, char** argv) {
    BenchRun run;
    try {
        run.options = parseOptions(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "troupe-storage-bench: %s\n%s", e.what(), kUsage);
        return 2;
    }
    const BenchOptions& o = run.options;
    (void)log::setup("warn"); // the engine's info lines would interleave with the progress

    std::filesystem::create_directories(o.dir);
    run.options.dir = std::filesystem::weakly_canonical(o.dir);
    run.startedUtc = timestamp("%Y-%m-%dT%H:%M:%SZ");
    run.machine = describeMachine();
    run.filesystem = describeFilesystem(o.dir);
    run.sqliteVersion = sqlite3_libversion();
    int major = 0, minor = 0, patch = 0;
    mdb_version(&major, &minor, &patch);
    run.lmdbVersion = fmt::format("{}.{}.{}", major, minor, patch);
    fmt::print("troupe-storage-bench: data in {} ({} on {}, mounted at {})\n", o.dir.string(),
               run.filesystem.type, run.filesystem.device, run.filesystem.mountPoint);
    fmt::print("machine: {}\n", machineLine(run));
    if (run.filesystem.inMemory) {
        fmt::print(stderr, "{} is on {}, which is memory, not a disk{}\n", o.dir.string(),
                   run.filesystem.type, o.allowMemoryFs ? "; going on as asked" : "");
        if (!o.allowMemoryFs)
            return 2;
    }
    std::fflush(stdout);

    try {
        // The creation section runs before the write cells so that its memory readings start
        // from a fresh process; the report keeps the logical order.
        if (o.has("fsync")) {
            fmt::print("\n[1/5] disk floor: 4 KiB writes + {}\n", durableSyncCall());
            auto floorCell = [&](const char* what, unsigned threads, WritePattern pattern) {
                std::vector<CellResult> runs;
                for (unsigned r = 0; r < std::max(1u, o.durations.repeats); ++r)
                    runs.push_back(measureDurableWrites(o.dir / "fsync", threads, pattern,
                                                        o.durations.warmupSeconds,
                                                        o.durations.measureSeconds));
                CellResult c = medianOf(std::move(runs));
                fmt::print("  {:<30} {:>9.0f} ops/s  p50 {:>6.0f} us  p99 {:>6.0f} us{}\n", what,
                           c.opsPerSec, c.p50Us, c.p99Us,
                           c.firstError.empty() ? "" : "  error: " + c.firstError);
                std::fflush(stdout);
                return c;
            };
            run.fsync1 = floorCell("append, 1 thread", 1, WritePattern::Append);
            if (o.fsyncThreads > 0)
                run.fsyncN = floorCell(fmt::format("append, {} threads", o.fsyncThreads).c_str(),
                                       o.fsyncThreads, WritePattern::Append);
            run.fsyncOverwrite =
                floorCell("overwrite in place, 1 thread", 1, WritePattern::Overwrite);
        }
        if (o.has("create")) {
            fmt::print("\n[3/5] creating {} actors with {} client threads\n", o.actors,
                       o.createThreads);
            std::fflush(stdout);
            run.create = runCreateSection(o.dir, o.engine, o.actors, o.createThreads, o.durations);
        }
        if (o.has("writes")) {
            fmt::print("\n[2/5] durable single-row writes ({:.1f} s warm-up + {:.1f} s per cell)\n",
                       o.durations.warmupSeconds, o.durations.measureSeconds);
            std::fflush(stdout);
            run.writes = runWriteSection(o.dir / "writes", o.engine, o.writerCounts, o.durations);
        }
        if (o.has("sql")) {
            fmt::print("\n[4/5] query facade, sql::Database::query (fsync={}; {:.1f} s warm-up + "
                       "{:.1f} s per cell)\n",
                       storage::fsyncModeName(o.engine.storage.fsync), o.durations.warmupSeconds,
                       o.durations.measureSeconds);
            std::fflush(stdout);
            run.sqlResult = runSqlSection(o.dir, o.engine, o.sqlBench, o.durations);
        }
        if (o.has("reads")) {
            fmt::print("\n[5/5] plain SQLite point selects, {} files per thread of {} rows "
                       "({:.1f} s warm-up + {:.1f} s per cell)\n",
                       o.reads.actorsPerThread, o.reads.rowsPerActor, o.durations.warmupSeconds,
                       o.durations.measureSeconds);
            std::fflush(stdout);
            run.reads = runReadSection(o.dir, o.reads, o.durations);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "troupe-storage-bench: %s\n", e.what());
        return 1;
    }
    run.finishedUtc = timestamp("%Y-%m-%dT%H:%M:%SZ");
    run.loadAverageEnd = loadAverage();

    const std::string markdown = renderMarkdown(run);
    fmt::print("\n{}", markdown);
    std::filesystem::create_directories(o.out);
    const std::string stem = "storage-bench-" + timestamp("%Y%m%d-%H%M%S");
    const std::filesystem::path jsonFile = o.out / (stem + ".json");
    const std::filesystem::path mdFile = o.out / (stem + ".md");
    std::ofstream(jsonFile) << renderJson(run).dump(2) << "\n";
    std::ofstream(mdFile) << markdown;
    fmt::print("\nresults: {}\n         {}\n", jsonFile.string(), mdFile.string());
    return 0;
}
