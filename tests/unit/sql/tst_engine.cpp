// The Engine facade and its executor: per-actor serialisation, many actors in parallel with
// group commit, per-actor batching where a failing request fails alone, typed errors,
// persistence across reopen, the open-actor LRU, delete/list/count.

#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "sql/engine.h"

using namespace troupe;
using namespace troupe::sql;

namespace {

std::int64_t asInt(const Value& v) {
    return std::get<std::int64_t>(v);
}

const ExecFlags kCreate{true, false, false};

} // namespace

class TestEngine : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<MetricsRegistry> m_metrics;

    std::unique_ptr<Engine> openEngine(std::size_t maxOpenActors = 1024, unsigned threads = 2) {
        EngineOptions options;
        options.dataDir = m_dir->path().toStdString();
        options.metrics = m_metrics.get();
        options.maxOpenActors = maxOpenActors;
        options.executorThreads = threads;
        auto engine = Engine::open(options);
        if (!engine)
            qFatal("open: %s", engine.status().toString().c_str());
        return std::move(*engine);
    }

    std::uint64_t metric(const char* name) {
        const std::string text = m_metrics->renderPrometheus();
        const std::string key = std::string("\n") + name + " ";
        auto pos = text.find(key);
        if (pos == std::string::npos)
            qFatal("metric %s missing", name);
        return std::stoull(text.substr(pos + key.size()));
    }

private slots:
    void init() {
        m_dir = std::make_unique<QTemporaryDir>();
        m_metrics = std::make_unique<MetricsRegistry>();
    }
    void cleanup() { m_dir.reset(); }

    void writeThenRead() {
        auto engine = openEngine();
        auto w = engine->execute("user", "alice",
                                 "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
                                 "INSERT INTO t(v) VALUES (?1);INSERT INTO t(v) VALUES (?1)",
                                 {std::string("hello")}, kCreate);
        QVERIFY2(w.isOk(), w.status().toString().c_str());
        QVERIFY(w->wrote);
        QCOMPARE(w->rowsChanged, 2);
        QCOMPARE(w->lastInsertRowid, 2);
        auto r = engine->execute("user", "alice", "SELECT id, v, NULL, 1.5, x'00ff' FROM t");
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        QVERIFY(!r->wrote);
        QCOMPARE(r->columns.size(), std::size_t(5));
        QCOMPARE(r->rows.size(), std::size_t(2));
        QCOMPARE(std::get<std::string>(r->rows[1][1]), std::string("hello"));
        QVERIFY(std::holds_alternative<std::monostate>(r->rows[0][2]));
        QCOMPARE(std::get<double>(r->rows[0][3]), 1.5);
        QCOMPARE(std::get<Blob>(r->rows[0][4]).bytes, std::string("\0\xff", 2));
        QCOMPARE(metric("troupe_writes_total"), 1u);
        QCOMPARE(metric("troupe_reads_total"), 1u);
    }

    void typedErrors() {
        auto engine = openEngine();
        auto missing = engine->execute("user", "nobody", "SELECT 1");
        QCOMPARE(missing.status().code(), ErrorCode::NoCreate);
        QVERIFY(missing.status().message().find("user(nobody)") != std::string::npos);
        QCOMPARE(engine->exists("user", "nobody").value(), false);

        auto empty = engine->execute("user", "", "SELECT 1", {}, kCreate);
        QCOMPARE(empty.status().code(), ErrorCode::EmptyActorName);
        auto badType = engine->execute("", "x", "SELECT 1", {}, kCreate);
        QCOMPARE(badType.status().code(), ErrorCode::InvalidType);

        auto bad = engine->execute("user", "bob", "SELEC 1", {}, kCreate);
        QCOMPARE(bad.status().code(), ErrorCode::SqlError);
        QVERIFY(bad.status().message().find("SELEC 1") != std::string::npos);
        // A failed create leaves no actor behind.
        QCOMPARE(engine->exists("user", "bob").value(), false);

        auto params = engine->execute("user", "bob", "SELECT ?1, ?2", {std::int64_t(1)}, kCreate);
        QCOMPARE(params.status().code(), ErrorCode::SqlError);
    }

    void createWithoutWritesStillCreates() {
        auto engine = openEngine();
        QVERIFY(engine->execute("user", "carol", "SELECT 1", {}, kCreate).isOk());
        QCOMPARE(engine->exists("user", "carol").value(), true);
        QVERIFY(engine->execute("user", "carol", "SELECT 1").isOk());
    }

    // Many threads increment one actor's counter: every increment lands exactly once.
    void perActorSerialisation() {
        auto engine = openEngine();
        QVERIFY(engine
                    ->execute("c", "one", "CREATE TABLE n(v INTEGER); INSERT INTO n VALUES (0)", {},
                              kCreate)
                    .isOk());
        constexpr int kThreads = 8, kEach = 100;
        std::atomic<int> failures{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < kEach; ++i)
                    if (!engine->execute("c", "one", "UPDATE n SET v = v + 1").isOk())
                        ++failures;
            });
        for (auto& t : threads)
            t.join();
        QCOMPARE(failures.load(), 0);
        auto r = engine->execute("c", "one", "SELECT v FROM n");
        QCOMPARE(asInt(r->rows[0][0]), kThreads * kEach);
    }

    // Requests queued behind an in-flight commit run as one transaction, and a failing one
    // fails alone.
    void batchedRequestFailsAlone() {
        auto engine = openEngine();
        QVERIFY(engine->execute("c", "b", "CREATE TABLE u(k INTEGER UNIQUE)", {}, kCreate).isOk());
        constexpr int kRequests = 400;
        std::mutex mutex;
        std::condition_variable cv;
        int done = 0, ok = 0, failed = 0;
        for (int i = 0; i < kRequests; ++i) {
            // Every fourth request repeats a key: a UNIQUE violation.
            const std::int64_t key = (i % 4 == 3) ? i - 1 : i;
            engine->executeAsync("c", "b", "INSERT INTO u VALUES (?1)", {key}, {},
                                 [&](Result<ExecResult> r) {
                                     std::lock_guard lock(mutex);
                                     (r.isOk() ? ok : failed)++;
                                     ++done;
                                     cv.notify_all();
                                 });
        }
        std::unique_lock lock(mutex);
        QVERIFY(cv.wait_for(lock, std::chrono::seconds(60), [&] { return done == kRequests; }));
        QCOMPARE(failed, kRequests / 4);
        QCOMPARE(ok, kRequests - kRequests / 4);
        auto r = engine->execute("c", "b", "SELECT count(*) FROM u");
        QCOMPARE(asInt(r->rows[0][0]), ok);
        QVERIFY(metric("troupe_batched_requests_total") > 0);
        QVERIFY(metric("troupe_commit_batches_total") < std::uint64_t(kRequests));
    }

    // Writers on distinct actors share commits: fewer LMDB transactions than writes.
    void manyActorsInParallelGroupCommit() {
        auto engine = openEngine(4096, 4);
        constexpr int kThreads = 32, kEach = 20;
        std::atomic<int> failures{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                const std::string name = "w" + std::to_string(t);
                if (!engine->execute("bench", name, "CREATE TABLE r(v)", {}, kCreate).isOk())
                    ++failures;
                for (int i = 0; i < kEach; ++i)
                    if (!engine
                             ->execute("bench", name, "INSERT INTO r VALUES (?1)",
                                       {std::int64_t(i)})
                             .isOk())
                        ++failures;
            });
        for (auto& t : threads)
            t.join();
        QCOMPARE(failures.load(), 0);
        const std::uint64_t writes = metric("troupe_writes_total");
        QCOMPARE(writes, std::uint64_t(kThreads * (kEach + 1)));
        const std::uint64_t batches = metric("troupe_commit_batches_total");
        qInfo("%llu writes in %llu commit batches", (unsigned long long)writes,
              (unsigned long long)batches);
        QVERIFY(batches < writes);
        for (int t = 0; t < kThreads; ++t) {
            auto r = engine->execute("bench", "w" + std::to_string(t), "SELECT count(*) FROM r");
            QCOMPARE(asInt(r->rows[0][0]), kEach);
        }
        QCOMPARE(engine->count("bench").value(), std::uint64_t(kThreads));
    }

    void survivesReopen() {
        {
            auto engine = openEngine();
            for (int i = 0; i < 20; ++i)
                QVERIFY(engine
                            ->execute("user", "u" + std::to_string(i),
                                      "CREATE TABLE t(v); INSERT INTO t VALUES (?1)",
                                      {std::int64_t(i)}, kCreate)
                            .isOk());
        }
        auto engine = openEngine();
        for (int i = 0; i < 20; ++i) {
            auto r = engine->execute("user", "u" + std::to_string(i),
                                     "SELECT v FROM t; PRAGMA integrity_check");
            QVERIFY2(r.isOk(), r.status().toString().c_str());
            QCOMPARE(std::get<std::string>(r->rows[0][0]), std::string("ok"));
        }
        auto r = engine->execute("user", "u7", "SELECT v FROM t");
        QCOMPARE(asInt(r->rows[0][0]), 7);
        // New actors after a restart get fresh ids: no collision with existing pages.
        QVERIFY(engine->execute("user", "new", "CREATE TABLE z(q)", {}, kCreate).isOk());
        QCOMPARE(asInt(engine->execute("user", "u3", "SELECT v FROM t")->rows[0][0]), 3);
    }

    void openActorsStayWithinLimit() {
        auto engine = openEngine(4, 2);
        for (int i = 0; i < 50; ++i)
            QVERIFY(engine
                        ->execute("lru", "a" + std::to_string(i),
                                  "CREATE TABLE t(v); INSERT INTO t VALUES (?1)", {std::int64_t(i)},
                                  kCreate)
                        .isOk());
        QVERIFY(metric("troupe_actors_open") <= 4);
        for (int i = 0; i < 50; ++i)
            QCOMPARE(
                asInt(
                    engine->execute("lru", "a" + std::to_string(i), "SELECT v FROM t")->rows[0][0]),
                i);
        QVERIFY(metric("troupe_actors_open") <= 4);
    }

    void deleteListCount() {
        auto engine = openEngine();
        for (const char* n : {"apple", "apricot", "banana", "avocado"})
            QVERIFY(engine->execute("fruit", n, "CREATE TABLE t(v)", {}, kCreate).isOk());
        QCOMPARE(engine->count("fruit").value(), 4u);
        auto page1 = engine->list("fruit", "a", "", 2);
        QCOMPARE(page1.value(), (std::vector<std::string>{"apple", "apricot"}));
        auto page2 = engine->list("fruit", "a", "apricot", 2);
        QCOMPARE(page2.value(), (std::vector<std::string>{"avocado"}));

        QVERIFY(engine->execute("fruit", "banana", "INSERT INTO t VALUES (1)").isOk());
        QVERIFY(engine->remove("fruit", "banana").isOk());
        QCOMPARE(engine->exists("fruit", "banana").value(), false);
        QCOMPARE(engine->count("fruit").value(), 3u);
        QCOMPARE(engine->remove("fruit", "banana").code(), ErrorCode::NotFound);
        QCOMPARE(engine->execute("fruit", "banana", "SELECT 1").status().code(),
                 ErrorCode::NoCreate);
        // Re-created, it starts empty.
        auto fresh =
            engine->execute("fruit", "banana", "SELECT count(*) FROM sqlite_master", {}, kCreate);
        QCOMPARE(asInt(fresh->rows[0][0]), 0);
    }

    void shutdownAnswersLateRequests() {
        auto engine = openEngine();
        QVERIFY(engine->execute("x", "y", "CREATE TABLE t(v)", {}, kCreate).isOk());
        engine->shutdown();
        QCOMPARE(engine->execute("x", "y", "SELECT 1").status().code(), ErrorCode::ShuttingDown);
    }
};

QTEST_APPLESS_MAIN(TestEngine)
#include "tst_engine.moc"
