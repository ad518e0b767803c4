// The measured sections of troupe-storage-bench (see bench_sections.h).

#include "bench_sections.h"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fmt/core.h>
#include <lmdb.h>
#include <sqlite3.h>

namespace troupe::bench {

namespace {

constexpr const char* kActorType = "bench";
constexpr const char* kWriteTable = "CREATE TABLE r(id INTEGER PRIMARY KEY, v INTEGER)";
constexpr const char* kInsert = "INSERT INTO r(v) VALUES (?1)";
constexpr const char* kCreateActor = "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
                                     "INSERT INTO t(v) VALUES (?1)";
const sql::ExecFlags kCreate{true, false, false};

double mib(std::uint64_t bytes) {
    return double(bytes) / (1024.0 * 1024.0);
}

std::unique_ptr<sql::Engine> openEngine(const sql::EngineOptions& base,
                                        const std::filesystem::path& dataDir,
                                        MetricsRegistry& metrics) {
    sql::EngineOptions options = base;
    options.dataDir = dataDir;
    options.metrics = &metrics;
    auto engine = sql::Engine::open(options);
    if (!engine)
        throw std::runtime_error("opening the engine: " + engine.status().toString());
    return std::move(*engine);
}

void add(WriterActivity& sum, const WriterActivity& a) {
    sum.batches += a.batches;
    sum.fsyncs += a.fsyncs;
    sum.entries += a.entries;
    sum.bytes += a.bytes;
    sum.seconds += a.seconds;
}

void printCell(const char* what, const CellResult& r) {
    fmt::print("  {:<34} {:>3} writers: {:>9.0f} tx/s  p50 {:>8.0f} us  p99 {:>8.0f} us"
               "  ({} tx{})\n",
               what, r.threads, r.opsPerSec, r.p50Us, r.p99Us, r.ops,
               r.errors ? fmt::format(", {} errors: {}", r.errors, r.firstError) : "");
    std::fflush(stdout);
}

// ---- Durable writes -------------------------------------------------------------------------

CellResult runEngineCell(sql::Engine& engine, MetricsRegistry& metrics, unsigned writers,
                         unsigned repeat, const Durations& durations, WriterActivity& activity) {
    std::vector<std::string> names(writers);
    for (unsigned i = 0; i < writers; ++i) {
        names[i] = fmt::format("w{}-{}-{}", writers, repeat, i);
        auto r = engine.execute(kActorType, names[i], kWriteTable, {}, kCreate);
        if (!r)
            throw std::runtime_error("creating actor " + names[i] + ": " + r.status().toString());
    }
    std::vector<std::int64_t> next(writers, 0);
    const WriterActivity before = writerActivity(metrics);
    const Clock::time_point start = Clock::now();
    CellResult result = runClosedLoop(
        writers, durations.warmupSeconds, durations.measureSeconds, [&](unsigned t) -> std::string {
            auto r = engine.execute(kActorType, names[t], kInsert, {std::int64_t(++next[t])});
            return r ? std::string() : r.status().toString();
        });
    activity = since(writerActivity(metrics), before);
    activity.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
}

struct SqliteWriter {
    sqlite3* db = nullptr;
    sqlite3_stmt* insert = nullptr;
    std::int64_t next = 0;
};

void closeWriters(std::vector<SqliteWriter>& writers) {
    for (SqliteWriter& w : writers) {
        sqlite3_finalize(w.insert);
        sqlite3_close_v2(w.db);
        w = SqliteWriter{};
    }
}

void openSqliteWriter(const std::filesystem::path& file, SqliteWriter& w) {
    auto fail = [&](const std::string& what) {
        throw std::runtime_error("SQLite " + file.string() + ": " + what + ": " +
                                 (w.db ? sqlite3_errmsg(w.db) : "out of memory"));
    };
    if (sqlite3_open_v2(file.c_str(), &w.db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
        fail("open");
    std::string mode;
    auto capture = [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) = values[0] ? values[0] : "";
        return 0;
    };
    if (sqlite3_exec(w.db, "PRAGMA journal_mode=WAL", capture, &mode, nullptr) != SQLITE_OK)
        fail("journal_mode");
    if (mode != "wal")
        throw std::runtime_error("SQLite " + file.string() + ": journal_mode is " + mode);
    const std::string setup = std::string("PRAGMA synchronous=FULL; ") + kWriteTable;
    if (sqlite3_exec(w.db, setup.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
        fail("setup");
    if (sqlite3_prepare_v2(w.db, kInsert, -1, &w.insert, nullptr) != SQLITE_OK)
        fail("prepare");
}

CellResult runSqliteCell(const std::filesystem::path& dir, unsigned writerCount, unsigned repeat,
                         const Durations& durations) {
    std::vector<SqliteWriter> writers(writerCount);
    try {
        for (unsigned i = 0; i < writerCount; ++i)
            openSqliteWriter(dir / fmt::format("w{}-{}-{}.db", writerCount, repeat, i), writers[i]);
    } catch (...) {
        closeWriters(writers);
        throw;
    }
    // Autocommit: each INSERT is one transaction, made durable by the WAL sync of
    // synchronous=FULL before sqlite3_step returns.
    CellResult result = runClosedLoop(writerCount, durations.warmupSeconds,
                                      durations.measureSeconds, [&](unsigned t) -> std::string {
                                          SqliteWriter& w = writers[t];
                                          sqlite3_bind_int64(w.insert, 1, ++w.next);
                                          const int rc = sqlite3_step(w.insert);
                                          sqlite3_reset(w.insert);
                                          return rc == SQLITE_DONE
                                                     ? std::string()
                                                     : std::string(sqlite3_errmsg(w.db));
                                      });
    closeWriters(writers);
    return result;
}

} // namespace

WriterActivity writerActivity(MetricsRegistry& metrics) {
    // Registering an existing name returns the engine's own counter.
    WriterActivity a;
    a.batches = metrics.counter("troupe_commit_batches_total", "").value();
    a.fsyncs = metrics.counter("troupe_fsyncs_total", "").value();
    a.entries = metrics.counter("troupe_log_entries_total", "").value();
    a.bytes = metrics.counter("troupe_bytes_written_total", "").value();
    return a;
}

WriterActivity since(const WriterActivity& now, const WriterActivity& before) {
    return WriterActivity{now.batches - before.batches, now.fsyncs - before.fsyncs,
                          now.entries - before.entries, now.bytes - before.bytes, 0};
}

std::vector<WriteCell> runWriteSection(const std::filesystem::path& dir,
                                       const sql::EngineOptions& engineOptions,
                                       const std::vector<unsigned>& writerCounts,
                                       const Durations& durations) {
    MetricsRegistry metrics; // outlives the engine, which holds references into it
    std::unique_ptr<sql::Engine> engine = openEngine(engineOptions, dir / "engine", metrics);
    std::filesystem::create_directories(dir / "sqlite");
    std::vector<WriteCell> cells;
    // Engine and SQLite alternate per writer count, so that a burst of load from elsewhere on
    // the machine hits both sides of a comparison rather than one.
    for (unsigned writers : writerCounts) {
        WriteCell cell;
        cell.writers = writers;
        std::vector<CellResult> troupeRuns, sqliteRuns;
        for (unsigned repeat = 0; repeat < std::max(1u, durations.repeats); ++repeat) {
            WriterActivity activity;
            troupeRuns.push_back(
                runEngineCell(*engine, metrics, writers, repeat, durations, activity));
            add(cell.troupeWriter, activity);
            printCell("TroupeDB engine (fsync=always)", troupeRuns.back());
            fmt::print("  {:<34} {:>3} writers: {:.0f} LMDB commits/s, {:.1f} actor transactions "
                       "each\n",
                       "  storage writer", writers, activity.batchesPerSec(),
                       activity.entriesPerBatch());
            sqliteRuns.push_back(runSqliteCell(dir / "sqlite", writers, repeat, durations));
            printCell("SQLite WAL, synchronous=FULL", sqliteRuns.back());
        }
        cell.troupe = medianOf(std::move(troupeRuns));
        cell.sqlite = medianOf(std::move(sqliteRuns));
        cells.push_back(std::move(cell));
    }
    engine->shutdown();
    return cells;
}

// ---- Creating actors ------------------------------------------------------------------------

namespace {

void readLmdbStats(const std::filesystem::path& dataDir, CreateResult& r) {
    MDB_env* env = nullptr;
    MDB_txn* txn = nullptr;
    auto done = [&](int rc, const char* what) {
        if (rc != 0 && r.lmdbError.empty())
            r.lmdbError = std::string(what) + ": " + mdb_strerror(rc);
        if (txn)
            mdb_txn_abort(txn);
        if (env)
            mdb_env_close(env);
    };
    int rc = mdb_env_create(&env);
    if (rc != 0)
        return done(rc, "mdb_env_create");
    if ((rc = mdb_env_set_maxdbs(env, 8)) != 0 ||
        (rc = mdb_env_open(env, dataDir.c_str(), MDB_RDONLY, 0644)) != 0)
        return done(rc, "mdb_env_open");
    MDB_envinfo info;
    MDB_stat stat;
    mdb_env_info(env, &info);
    mdb_env_stat(env, &stat);
    r.lmdbPageSize = stat.ms_psize;
    r.lmdbFilePages = std::uint64_t(info.me_last_pgno) + 1;
    auto treePages = [](const MDB_stat& s) {
        return std::uint64_t(s.ms_branch_pages + s.ms_leaf_pages + s.ms_overflow_pages);
    };
    r.lmdbTreePages = treePages(stat); // the main database (names of the named ones)
    if ((rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn)) != 0)
        return done(rc, "mdb_txn_begin");
    for (const char* name : {"actors", "pages", "raftlog", "raftstate", "meta"}) {
        MDB_dbi dbi;
        if ((rc = mdb_dbi_open(txn, name, 0, &dbi)) != 0 || (rc = mdb_stat(txn, dbi, &stat)) != 0)
            return done(rc, name);
        r.lmdbTreePages += treePages(stat);
        if (std::string_view(name) == "pages")
            r.pageRecords = stat.ms_entries;
        if (std::string_view(name) == "actors")
            r.actorRecords = stat.ms_entries;
    }
    // The free list (database 0): each value is a page-number list whose first word is its
    // length. Its own tree pages count as used.
    constexpr MDB_dbi kFreeDbi = 0;
    if ((rc = mdb_stat(txn, kFreeDbi, &stat)) != 0)
        return done(rc, "free list");
    r.lmdbTreePages += treePages(stat);
    MDB_cursor* cursor = nullptr;
    if ((rc = mdb_cursor_open(txn, kFreeDbi, &cursor)) != 0)
        return done(rc, "free list cursor");
    MDB_val key, val;
    while (mdb_cursor_get(cursor, &key, &val, MDB_NEXT) == 0) {
        if (val.mv_size >= sizeof(std::size_t)) {
            std::size_t n = 0;
            std::memcpy(&n, val.mv_data, sizeof n);
            r.lmdbFreePages += n;
        }
    }
    mdb_cursor_close(cursor);
    done(0, "");
}

std::string memoryLine(const ProcessMemory& m) {
    return fmt::format("RSS {:.1f} MiB (anon {:.1f}, file {:.1f})", mib(m.rss), mib(m.rssAnon),
                       mib(m.rssFile));
}

// Creates actors [begin, end) with `threads` client threads; prints a line at every 10% of
// `total`. Returns the seconds it took.
double createRange(sql::Engine& engine, std::uint64_t begin, std::uint64_t end, std::uint64_t total,
                   unsigned threads, LatencyHistogram& latency, CreateResult& result,
                   std::uint64_t& nextProgress, double secondsBefore) {
    std::atomic<std::uint64_t> next{begin};
    std::atomic<std::uint64_t> finished{begin};
    std::atomic<std::uint64_t> errors{0};
    std::string firstError; // written by the thread that saw the first error
    std::vector<std::thread> clients;
    const Clock::time_point start = Clock::now();
    for (unsigned t = 0; t < threads; ++t) {
        clients.emplace_back([&] {
            const std::string value = "a small row";
            for (std::uint64_t i = next.fetch_add(1); i < end; i = next.fetch_add(1)) {
                const Clock::time_point t0 = Clock::now();
                auto r = engine.execute(kActorType, "a" + std::to_string(i), kCreateActor, {value},
                                        kCreate);
                latency.record(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0)
                        .count());
                if (!r && errors.fetch_add(1) == 0)
                    firstError = r.status().toString();
                finished.fetch_add(1);
            }
        });
    }
    std::uint64_t lastCount = begin;
    Clock::time_point lastTime = start;
    for (;;) {
        const std::uint64_t n = finished.load();
        if (n >= nextProgress) {
            const Clock::time_point now = Clock::now();
            const double elapsed =
                secondsBefore + std::chrono::duration<double>(now - start).count();
            const double recent =
                double(n - lastCount) /
                std::max(1e-9, std::chrono::duration<double>(now - lastTime).count());
            std::string line =
                fmt::format("  create: {:>3}%  {:>9} actors  {:>7.1f} s  {:>7.0f} actors/s (recent "
                            "{:.0f}/s)  {}",
                            n * 100 / total, n, elapsed, double(n) / std::max(1e-9, elapsed),
                            recent, memoryLine(processMemory()));
            fmt::print("{}\n", line);
            std::fflush(stdout);
            result.progress.push_back(std::move(line));
            lastCount = n;
            lastTime = now;
            while (nextProgress <= n)
                nextProgress += std::max<std::uint64_t>(1, total / 10);
        }
        if (n >= end)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (std::thread& c : clients)
        c.join();
    result.errors += errors.load();
    if (result.firstError.empty())
        result.firstError = firstError;
    return std::chrono::duration<double>(Clock::now() - start).count();
}

void recordMemory(CreateResult& r, std::string key, std::string when, std::uint64_t actors) {
    MemoryReading reading{std::move(key), std::move(when), actors, processMemory()};
    fmt::print("  memory: {:<44} {}\n", reading.when, memoryLine(reading.memory));
    std::fflush(stdout);
    r.memory.push_back(std::move(reading));
}

void sleepSeconds(double s) {
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

} // namespace

CreateResult runCreateSection(const std::filesystem::path& dir,
                              const sql::EngineOptions& engineOptions, std::uint64_t actors,
                              unsigned clientThreads, const Durations& durations) {
    CreateResult r;
    r.requested = actors;
    r.clientThreads = clientThreads;
    auto latency = std::make_unique<LatencyHistogram>(); // before the first reading
    recordMemory(r, "before_open", "before the engine opens", 0);
    const std::filesystem::path dataDir = dir / "create";
    {
        MetricsRegistry metrics;
        std::unique_ptr<sql::Engine> engine = openEngine(engineOptions, dataDir, metrics);
        recordMemory(r, "engine_open", "engine open, no actors", 0);

        const std::uint64_t first = std::min<std::uint64_t>(1000, actors);
        std::uint64_t nextProgress = std::max<std::uint64_t>(1, actors / 10);
        r.seconds =
            createRange(*engine, 0, first, actors, clientThreads, *latency, r, nextProgress, 0);
        sleepSeconds(durations.idleSeconds);
        recordMemory(r, "first_idle",
                     fmt::format("{} actors, idle {:g} s", first, durations.idleSeconds), first);
        r.seconds += createRange(*engine, first, actors, actors, clientThreads, *latency, r,
                                 nextProgress, r.seconds);
        recordMemory(r, "all_created", fmt::format("{} actors, just created", actors), actors);
        sleepSeconds(durations.idleSeconds);
        recordMemory(r, "all_idle",
                     fmt::format("{} actors, idle {:g} s", actors, durations.idleSeconds), actors);
        if (releaseFreeHeap())
            recordMemory(r, "all_trimmed",
                         fmt::format("{} actors, idle, after malloc_trim", actors), actors);

        r.actorsPerSec = r.seconds > 0 ? double(actors) / r.seconds : 0;
        latency->summarize(r.latency);
        r.latency.threads = clientThreads;
        r.latency.ops = latency->count();
        r.latency.seconds = r.seconds;
        r.latency.opsPerSec = r.actorsPerSec;
        r.writer = writerActivity(metrics);
        r.writer.seconds = r.seconds;
        auto counted = engine->count(kActorType);
        r.created = counted ? *counted : 0;
        engine->shutdown();
    }
    r.dataFile = fileSpace(dataDir / "data.mdb");
    readLmdbStats(dataDir, r);
    return r;
}

} // namespace troupe::bench
