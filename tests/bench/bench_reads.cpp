// The plain-SQLite point-select baseline of troupe-storage-bench (see bench_reads.h).

#include "bench_reads.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>

#include <fmt/core.h>
#include <sqlite3.h>

namespace troupe::bench {

namespace {

constexpr const char* kTable = "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v INTEGER)";
constexpr const char* kSeed = "INSERT OR IGNORE INTO t (id, v) VALUES (?1, ?1)";
constexpr const char* kSelect = "SELECT v FROM t WHERE id = ?1";

// One actor of a client thread: its own file and connection, the point select prepared once.
struct SqliteActor {
    sqlite3* db = nullptr;
    sqlite3_stmt* select = nullptr;
};

// A client thread: its actors, the next one to query, and its random numbers (xoroshiro128+,
// the generator sysbench 1.0 uses; uniform doubles in [0, 1) from the top 53 bits).
struct ReadClient {
    std::vector<SqliteActor> actors;
    std::size_t next = 0;
    std::uint64_t s0 = 0, s1 = 0;

    double uniform() {
        const std::uint64_t a = s0;
        std::uint64_t b = s1;
        const std::uint64_t result = a + b;
        b ^= a;
        s0 = ((a << 55) | (a >> 9)) ^ b ^ (b << 14);
        s1 = (b << 36) | (b >> 28);
        return double(result >> 11) * 0x1.0p-53;
    }
};

void closeClients(std::vector<ReadClient>& clients) {
    for (ReadClient& c : clients)
        for (SqliteActor& a : c.actors) {
            sqlite3_finalize(a.select);
            sqlite3_close_v2(a.db);
            a = SqliteActor{};
        }
}

void exec(sqlite3* db, const std::filesystem::path& file, const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
        throw std::runtime_error("SQLite " + file.string() + ": " + sql + ": " +
                                 sqlite3_errmsg(db));
}

// Opens (creating) one actor's file the way the write section does, seeds ids 1..rows in one
// transaction and prepares the point select.
void openActor(const std::filesystem::path& file, unsigned rows, SqliteActor& a) {
    if (sqlite3_open_v2(file.c_str(), &a.db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
        throw std::runtime_error("SQLite " + file.string() +
                                 ": open: " + (a.db ? sqlite3_errmsg(a.db) : "out of memory"));
    exec(a.db, file, "PRAGMA journal_mode=WAL");
    exec(a.db, file, "PRAGMA synchronous=FULL");
    exec(a.db, file, kTable);
    exec(a.db, file, "BEGIN");
    sqlite3_stmt* seed = nullptr;
    if (sqlite3_prepare_v2(a.db, kSeed, -1, &seed, nullptr) != SQLITE_OK)
        throw std::runtime_error("SQLite " + file.string() + ": " + sqlite3_errmsg(a.db));
    for (unsigned id = 1; id <= rows; ++id) {
        sqlite3_bind_int64(seed, 1, id);
        const int rc = sqlite3_step(seed);
        sqlite3_reset(seed);
        if (rc != SQLITE_DONE) {
            sqlite3_finalize(seed);
            throw std::runtime_error("SQLite " + file.string() + ": seed: " + sqlite3_errmsg(a.db));
        }
    }
    sqlite3_finalize(seed);
    exec(a.db, file, "COMMIT");
    if (sqlite3_prepare_v2(a.db, kSelect, -1, &a.select, nullptr) != SQLITE_OK)
        throw std::runtime_error("SQLite " + file.string() + ": " + sqlite3_errmsg(a.db));
}

// One point select on the client's next actor; an id that is not there is an error, as in
// troupe_actors.lua.
std::string selectOne(ReadClient& c, unsigned rows) {
    SqliteActor& a = c.actors[c.next];
    c.next = (c.next + 1) % c.actors.size();
    const double rnd = c.uniform();
    const std::uint32_t id = sysbenchSpecial(1, rows, rnd, [&] { return c.uniform(); });
    sqlite3_bind_int64(a.select, 1, id);
    int rc = sqlite3_step(a.select);
    std::string error;
    if (rc != SQLITE_ROW)
        error = rc == SQLITE_DONE ? fmt::format("id {} is missing", id) : sqlite3_errmsg(a.db);
    else if (sqlite3_column_int64(a.select, 0) != std::int64_t(id))
        error = fmt::format("id {} has the wrong value", id);
    sqlite3_reset(a.select);
    return error;
}

} // namespace

std::vector<ReadCell> runReadSection(const std::filesystem::path& dir, const ReadSettings& settings,
                                     const Durations& durations) {
    if (settings.threadCounts.empty())
        return {};
    if (settings.actorsPerThread == 0 || settings.rowsPerActor == 0)
        throw std::invalid_argument("reads: actors per thread and rows per actor must be positive");
    const unsigned maxThreads =
        *std::max_element(settings.threadCounts.begin(), settings.threadCounts.end());
    const std::filesystem::path files = dir / "sqlite-reads";
    std::filesystem::remove_all(files);
    std::filesystem::create_directories(files);
    std::vector<ReadClient> clients(maxThreads);
    std::random_device seed;
    std::vector<ReadCell> cells;
    try {
        for (unsigned t = 0; t < maxThreads; ++t) {
            ReadClient& c = clients[t];
            c.s0 = (std::uint64_t(seed()) << 32) | seed();
            c.s1 = (std::uint64_t(seed()) << 32) | seed() | 1; // never both zero
            c.actors.resize(settings.actorsPerThread);
            for (unsigned k = 0; k < settings.actorsPerThread; ++k)
                openActor(files / fmt::format("t{}_{}.db", t, k), settings.rowsPerActor,
                          c.actors[k]);
        }
        for (unsigned threads : settings.threadCounts) {
            std::vector<CellResult> runs;
            for (unsigned r = 0; r < std::max(1u, durations.repeats); ++r) {
                runs.push_back(runClosedLoop(
                    threads, durations.warmupSeconds, durations.measureSeconds,
                    [&](unsigned t) { return selectOne(clients[t], settings.rowsPerActor); }));
                const CellResult& c = runs.back();
                fmt::print("  {:<34} {:>3} threads: {:>9.0f} selects/s  p50 {:>6.1f} us  p95 "
                           "{:>6.1f} us  p99 {:>6.1f} us  ({} selects{})\n",
                           "SQLite WAL, synchronous=FULL", threads, c.opsPerSec, c.p50Us, c.p95Us,
                           c.p99Us, c.ops,
                           c.errors ? fmt::format(", {} errors: {}", c.errors, c.firstError) : "");
                std::fflush(stdout);
            }
            cells.push_back(ReadCell{threads, medianOf(std::move(runs))});
        }
    } catch (...) {
        closeClients(clients);
        throw;
    }
    closeClients(clients);
    std::error_code ec;
    std::filesystem::remove_all(files, ec);
    return cells;
}

} // namespace troupe::bench
