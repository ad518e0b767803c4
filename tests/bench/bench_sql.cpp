// The query-facade section of troupe-storage-bench (see bench_sql.h).

#include "bench_sql.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include <fmt/core.h>

#include "core/metrics.h"
#include "sql/database.h"

namespace troupe::bench {

namespace {

constexpr const char* kConfig = "INSERT INTO groups VALUES ('grp1','cluster');\n"
                                "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1');\n"
                                "CREATE USER 'root' IDENTIFIED BY 'rootpass';";
constexpr const char* kSchema = "ACTOR bench\nCREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)\n";
constexpr const char* kInsert = "INSERT INTO t (v) VALUES (?1)";
constexpr unsigned kSetupThreads = 64;

const sql::Session kNode; // the node itself: every right

std::string readRequest(const std::string& actor) {
    return "ACTOR bench(" + actor + "); SELECT v FROM t WHERE id = ?1";
}

std::string writeRequest(const std::string& actor) {
    return "ACTOR bench(" + actor + ") create; " + kInsert;
}

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::int64_t nanosSince(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

std::unique_ptr<sql::Database> openDatabase(const sql::EngineOptions& base,
                                            const std::filesystem::path& dataDir,
                                            MetricsRegistry& metrics) {
    sql::DatabaseOptions options;
    options.engine = base;
    options.engine.dataDir = dataDir;
    options.engine.metrics = &metrics;
    auto db = sql::Database::open(options);
    if (!db)
        throw std::runtime_error("opening the database: " + db.status().toString());
    return std::move(*db);
}

void initialise(sql::Database& db) {
    if (auto c = db.config(kNode, kConfig); !c)
        throw std::runtime_error("config: " + c.status().toString());
    if (auto s = db.schema(kNode, kSchema); !s)
        throw std::runtime_error("schema: " + s.status().toString());
}

// Runs fn(i) for i in [0, count) on `threads` threads; throws the first error fn returned.
void parallelFor(std::uint64_t count, unsigned threads,
                 const std::function<std::string(std::uint64_t)>& fn) {
    std::atomic<std::uint64_t> next{0};
    std::mutex mutex;
    std::string firstError; // guarded by mutex
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < std::max(1u, threads); ++t)
        workers.emplace_back([&] {
            for (std::uint64_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
                std::string error = fn(i);
                if (!error.empty()) {
                    std::lock_guard lock(mutex);
                    if (firstError.empty())
                        firstError = std::move(error);
                }
            }
        });
    for (std::thread& w : workers)
        w.join();
    if (!firstError.empty())
        throw std::runtime_error(firstError);
}

// Creates actors with `rows` rows each (ids 1..rows): one request per actor.
void populate(sql::Database& db, const std::vector<std::string>& actors, unsigned rows) {
    std::string values;
    for (unsigned i = 1; i <= rows; ++i)
        values += fmt::format("{}({}, {})", i > 1 ? ", " : "", i, i * 7);
    parallelFor(actors.size(), kSetupThreads, [&](std::uint64_t i) -> std::string {
        const std::string request =
            "ACTOR bench(" + actors[i] + ") create; INSERT INTO t (id, v) VALUES " + values;
        auto r = db.query(kNode, request);
        return r ? std::string() : "populating " + actors[i] + ": " + r.status().toString();
    });
}

// A point read of `id` in `actor`; an empty string on success.
std::string pointRead(sql::Database& db, const std::string& actor, std::int64_t id) {
    auto r = db.query(kNode, readRequest(actor), {id});
    if (!r)
        return r.status().toString();
    return r->rows.size() == 1 ? std::string()
                               : fmt::format("{} rows for id {}", r->rows.size(), id);
}

void printCell(const char* what, const CellResult& r, const char* unit) {
    fmt::print("  {:<34} {:>3} threads: {:>9.0f} {}/s  p50 {:>8.0f} us  p99 {:>8.0f} us  ({}{})\n",
               what, r.threads, r.opsPerSec, unit, r.p50Us, r.p99Us, r.ops,
               r.errors ? fmt::format(", {} errors: {}", r.errors, r.firstError) : "");
    std::fflush(stdout);
}

void printLatency(const char* what, const CellResult& r) {
    fmt::print("  {:<52} p50 {:>8.0f} us  p99 {:>8.0f} us  max {:>8.0f} us  ({} samples)\n", what,
               r.p50Us, r.p99Us, r.maxUs, r.ops);
    std::fflush(stdout);
}

// Latencies taken one after another by one client.
CellResult sequentialResult(std::vector<std::int64_t> nanos, double seconds) {
    CellResult c;
    c.threads = 1;
    c.ops = nanos.size();
    c.seconds = seconds;
    c.opsPerSec = seconds > 0 ? double(c.ops) / seconds : 0;
    summarizeLatencies(nanos, c);
    return c;
}

// ---- a. Point reads and durable writes ------------------------------------------------------

SqlCell runThroughput(sql::Database& db, MetricsRegistry& metrics, unsigned threads,
                      std::uint64_t& nextActor, const SqlSettings& settings,
                      const Durations& durations) {
    const unsigned perThread = std::max(1u, settings.actorsPerThread);
    const unsigned rows = std::max(1u, settings.rowsPerActor);
    // Thread t owns actors[t * perThread, (t + 1) * perThread).
    std::vector<std::string> actors;
    for (unsigned i = 0; i < threads * perThread; ++i)
        actors.push_back(fmt::format("a{}", nextActor++));
    populate(db, actors, rows);

    struct Client {
        std::uint64_t calls = 0;
    };
    SqlCell cell;
    cell.threads = threads;
    std::vector<CellResult> readRuns, writeRuns;
    for (unsigned repeat = 0; repeat < std::max(1u, durations.repeats); ++repeat) {
        std::vector<Client> clients(threads);
        readRuns.push_back(runClosedLoop(threads, durations.warmupSeconds, durations.measureSeconds,
                                         [&](unsigned t) -> std::string {
                                             Client& c = clients[t];
                                             const std::uint64_t n = c.calls++;
                                             // A different row each time: a stride coprime with
                                             // most row counts.
                                             const auto id = std::int64_t((n * 37) % rows) + 1;
                                             return pointRead(
                                                 db, actors[t * perThread + n % perThread], id);
                                         }));
        printCell("point reads", readRuns.back(), "reads");

        const WriterActivity before = writerActivity(metrics);
        const Clock::time_point start = Clock::now();
        writeRuns.push_back(runClosedLoop(
            threads, durations.warmupSeconds, durations.measureSeconds,
            [&](unsigned t) -> std::string {
                Client& c = clients[t];
                const std::uint64_t n = c.calls++;
                auto r = db.query(kNode, writeRequest(actors[t * perThread + n % perThread]),
                                  {std::int64_t(n)});
                return r ? std::string() : r.status().toString();
            }));
        WriterActivity activity = since(writerActivity(metrics), before);
        activity.seconds = secondsSince(start);
        cell.writer.batches += activity.batches;
        cell.writer.fsyncs += activity.fsyncs;
        cell.writer.entries += activity.entries;
        cell.writer.bytes += activity.bytes;
        cell.writer.seconds += activity.seconds;
        printCell("durable single-row writes", writeRuns.back(), "tx");
    }
    cell.reads = medianOf(std::move(readRuns));
    cell.writes = medianOf(std::move(writeRuns));
    return cell;
}

// ---- b. Cold actors -------------------------------------------------------------------------

// Queries every actor once, one after another; the latency of each query.
CellResult firstQueries(sql::Database& db, const std::vector<std::string>& actors,
                        std::uint64_t begin, std::uint64_t end) {
    std::vector<std::int64_t> nanos;
    nanos.reserve(end - begin);
    std::uint64_t errors = 0;
    std::string firstError;
    const Clock::time_point start = Clock::now();
    for (std::uint64_t i = begin; i < end; ++i) {
        const Clock::time_point t0 = Clock::now();
        std::string error = pointRead(db, actors[i], 1);
        nanos.push_back(nanosSince(t0));
        if (!error.empty() && errors++ == 0)
            firstError = actors[i] + ": " + error;
    }
    CellResult c = sequentialResult(std::move(nanos), secondsSince(start));
    c.errors = errors;
    c.firstError = firstError;
    return c;
}

void runCold(std::unique_ptr<sql::Database>& db, const std::filesystem::path& dataDir,
             const sql::EngineOptions& engineOptions, MetricsRegistry& metrics,
             const SqlSettings& settings, SqlColdResult& r) {
    // Samples are actors [0, S); S stays well under the open limit so that the warm pass finds
    // them all open. The actors [S, S + limit + S) opened after them evict them all: each
    // executor keeps at most limit / executors open and gets about its share of the actors.
    r.openLimit = engineOptions.maxOpenActors;
    r.samples = std::max<std::uint64_t>(1, std::min(settings.coldSamples, r.openLimit / 2));
    r.actors = r.openLimit + 2 * r.samples;
    std::vector<std::string> actors;
    for (std::uint64_t i = 0; i < r.actors; ++i)
        actors.push_back(fmt::format("c{}", i));
    r.createThreads = kSetupThreads;
    const Clock::time_point created = Clock::now();
    populate(*db, actors, std::max(1u, settings.rowsPerActor));
    r.createSeconds = secondsSince(created);
    fmt::print("  created {} actors in {:.1f} s; open limit {}\n", r.actors, r.createSeconds,
               r.openLimit);

    db.reset(); // shuts the engine down: every actor is closed
    const Clock::time_point reopen = Clock::now();
    db = openDatabase(engineOptions, dataDir, metrics);
    r.reopenSeconds = secondsSince(reopen);
    if (!db->initialized())
        throw std::runtime_error("the reopened database is not initialised");

    r.reopened = firstQueries(*db, actors, 0, r.samples);
    printLatency("cold: first query after a fresh Database::open", r.reopened);
    r.warm = firstQueries(*db, actors, 0, r.samples);
    printLatency("warm: the same actors again", r.warm);
    firstQueries(*db, actors, r.samples, r.actors); // evicts the samples
    r.evicted = firstQueries(*db, actors, 0, r.samples);
    printLatency("cold: first query after eviction from the LRU", r.evicted);
}

// ---- c. A multi-actor transaction vs single-actor writes ------------------------------------

void runMulti(sql::Database& db, MetricsRegistry& metrics, const SqlSettings& settings,
              SqlMultiResult& r) {
    r.actors = std::max(2u, settings.multiActors);
    r.samples = std::max(1u, settings.multiSamples);
    r.warmupSamples = std::min(10u, std::max(1u, r.samples / 10));
    std::vector<std::string> actors;
    std::string blocks;
    std::string list;
    for (unsigned i = 1; i <= r.actors; ++i) {
        actors.push_back(fmt::format("x{}", i));
        blocks += "ACTOR bench(" + actors.back() + ") create; " + kInsert + ";\n";
        list += (i > 1 ? "," : "") + actors.back();
    }
    list = "ACTOR bench(" + list + ") create; " + kInsert;
    std::vector<std::string> singles;
    for (const std::string& a : actors)
        singles.push_back(writeRequest(a));
    populate(db, actors, 1);

    std::vector<std::int64_t> blockNanos, listNanos, singleNanos;
    double blockSeconds = 0, listSeconds = 0, singleSeconds = 0;
    std::int64_t value = 0;
    auto measure = [&](const std::vector<std::string>& requests, std::vector<std::int64_t>& nanos,
                       double& seconds, WriterActivity& writer, bool counted) {
        const WriterActivity before = writerActivity(metrics);
        const Clock::time_point t0 = Clock::now();
        for (const std::string& request : requests) {
            auto q = db.query(kNode, request, {++value});
            if (!q)
                throw std::runtime_error("multi-actor part: " + q.status().toString());
        }
        const std::int64_t ns = nanosSince(t0);
        const WriterActivity a = since(writerActivity(metrics), before);
        writer.batches += a.batches;
        writer.fsyncs += a.fsyncs;
        writer.entries += a.entries;
        writer.bytes += a.bytes;
        writer.seconds += double(ns) / 1e9;
        if (counted) {
            nanos.push_back(ns);
            seconds += double(ns) / 1e9;
        }
    };
    // The three forms alternate, so that a slow moment of the disk hits all of them.
    for (unsigned s = 0; s < r.warmupSamples + r.samples; ++s) {
        const bool counted = s >= r.warmupSamples;
        measure({blocks}, blockNanos, blockSeconds, r.blocksWriter, counted);
        measure({list}, listNanos, listSeconds, r.listWriter, counted);
        measure(singles, singleNanos, singleSeconds, r.singlesWriter, counted);
    }
    r.blocks = sequentialResult(std::move(blockNanos), blockSeconds);
    r.list = sequentialResult(std::move(listNanos), listSeconds);
    r.singles = sequentialResult(std::move(singleNanos), singleSeconds);
    printLatency(fmt::format("one request, {} ACTOR blocks", r.actors).c_str(), r.blocks);
    printLatency(fmt::format("one request, ACTOR bench(x1,...,x{})", r.actors).c_str(), r.list);
    printLatency(fmt::format("{} single-actor requests, one after another", r.actors).c_str(),
                 r.singles);
}

} // namespace

SqlResult runSqlSection(const std::filesystem::path& dir, const sql::EngineOptions& engineOptions,
                        const SqlSettings& settings, const Durations& durations) {
    SqlResult result;
    result.settings = settings;
    result.executorThreads = engineOptions.executorThreads
                                 ? engineOptions.executorThreads
                                 : std::max(2u, std::thread::hardware_concurrency());
    const std::filesystem::path dataDir = dir / "sql";
    MetricsRegistry metrics; // outlives every Database opened on it
    const Clock::time_point setup = Clock::now();
    std::unique_ptr<sql::Database> db = openDatabase(engineOptions, dataDir, metrics);
    initialise(*db);
    result.setupSeconds = secondsSince(setup);

    fmt::print("  a. point reads and durable single-row writes, {} actors per client thread\n",
               settings.actorsPerThread);
    std::uint64_t nextActor = 0;
    for (unsigned threads : settings.threadCounts)
        result.cells.push_back(
            runThroughput(*db, metrics, threads, nextActor, settings, durations));

    fmt::print("  b. first query to an actor that is not open vs an open one, one client\n");
    runCold(db, dataDir, engineOptions, metrics, settings, result.cold);

    fmt::print("  c. a {}-actor transaction vs {} single-actor writes, one client\n",
               settings.multiActors, settings.multiActors);
    runMulti(*db, metrics, settings, result.multi);
    db->shutdown();
    return result;
}

} // namespace troupe::bench
