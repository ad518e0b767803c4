// Stall detection (issue 13 item 6; resources/docs/operations.md "/ready"): a thread that has had
// work waiting and made no progress for stall_timeout makes the node unhealthy, and healthy again
// once it moves. The heartbeat on fake time; the engine with a really blocked executor worker
// and a really blocked storage writer (a completion callback that waits on a gate runs on that
// thread, which is exactly how a stuck statement or a hung fsync looks from outside); and /ready
// turning 503 with the reason.

#include <QtTest>

#include <atomic>
#include <future>

#include "core/heartbeat.h"
#include "core/metrics.h"
#include "http/status_endpoints.h"
#include "sql/engine.h"
#include "support/poll.h"

using namespace troupe;
using namespace troupe::sql;
using namespace std::chrono_literals;

namespace {

constexpr auto kTinyStallTimeout = 50ms;

// Blocks the thread that runs a callback until open() is called.
struct Gate {
    std::promise<void> promise;
    std::shared_future<void> future = promise.get_future().share();
    std::atomic<bool> entered{false};
    Engine::Callback blocker() {
        return [this](Result<ExecResult>) {
            entered = true;
            future.wait();
        };
    }
    void open() { promise.set_value(); }
};

} // namespace

class TestHealth : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<MetricsRegistry> m_metrics;

    std::unique_ptr<Engine> openEngine(unsigned threads) {
        EngineOptions options;
        options.dataDir = m_dir->path().toStdString();
        options.metrics = m_metrics.get();
        options.executorThreads = threads;
        auto engine = Engine::open(options);
        if (!engine)
            qFatal("open: %s", engine.status().toString().c_str());
        return std::move(*engine);
    }

    static Health health(const Engine& engine) {
        return engine.health(Heartbeat::Clock::now(), kTinyStallTimeout);
    }

private slots:
    void init() {
        m_dir = std::make_unique<QTemporaryDir>();
        m_metrics = std::make_unique<MetricsRegistry>();
    }
    void cleanup() { m_dir.reset(); }

    // Only waiting work makes a thread stalled: an idle one is not, however long ago it last
    // did something, and the wait starts when the queue fills, not at the last progress.
    void heartbeatStallsOnlyWithWorkWaiting() {
        Heartbeat beat;
        const auto t0 = Heartbeat::Clock::now();
        QVERIFY(!beat.stalled(t0 + 1h, 10s)); // idle
        beat.queued(1, t0 + 1h);
        QCOMPARE(beat.depth(), std::int64_t(1));
        QVERIFY(!beat.stalled(t0 + 1h + 9s, 10s));
        QVERIFY(beat.stalled(t0 + 1h + 11s, 10s));
        QVERIFY(
            Health::check(beat, "worker", t0 + 1h + 11s, 10s).reason.find("worker: 1 waiting") ==
            0);
        beat.taken();
        beat.progressed(t0 + 1h + 12s);
        QVERIFY(!beat.stalled(t0 + 2h, 10s));
        // Progress while work keeps waiting keeps it healthy.
        beat.queued(2, t0 + 2h);
        beat.taken();
        beat.progressed(t0 + 2h + 8s);
        QVERIFY(!beat.stalled(t0 + 2h + 15s, 10s));
        QVERIFY(beat.stalled(t0 + 2h + 19s, 10s));
    }

    // One executor thread, blocked inside a request's callback; a request to another actor
    // waits behind it: stalled. Unblocked: healthy, and the waiting request is answered.
    void blockedExecutorWorkerIsStalledUntilReleased() {
        auto engine = openEngine(1);
        QVERIFY(!health(*engine).stalled);
        Gate gate;
        // No such actor and no create: answered NoCreate on the worker thread, which blocks.
        engine->executeAsync("t", "blocker", "SELECT 1", {}, {}, gate.blocker());
        QVERIFY(test::pollUntil([&] { return gate.entered.load(); }));
        QVERIFY(!health(*engine).stalled); // blocked, but nothing waits yet
        std::atomic<bool> answered{false};
        engine->executeAsync("t", "waiting", "SELECT 1", {}, {},
                             [&](Result<ExecResult>) { answered = true; });
        QVERIFY(test::pollUntil([&] { return health(*engine).stalled; }));
        const Health stalled = health(*engine);
        QVERIFY2(stalled.reason.find("executor worker 0: 1 waiting") == 0, stalled.reason.c_str());
        QVERIFY(!answered);
        gate.open();
        QVERIFY(test::pollUntil([&] { return answered.load(); }));
        QVERIFY(test::pollUntil([&] { return !health(*engine).stalled; }));
    }

    // The storage writer blocked inside a commit's completion; the next commit waits: stalled.
    void blockedStorageWriterIsStalledUntilReleased() {
        auto engine = openEngine(2);
        Gate gate;
        ExecFlags create;
        create.create = true;
        engine->executeAsync("t", "first", "CREATE TABLE x (v INTEGER)", {}, create,
                             gate.blocker());
        QVERIFY(test::pollUntil([&] { return gate.entered.load(); }));
        std::atomic<bool> answered{false};
        engine->executeAsync("t", "second", "CREATE TABLE x (v INTEGER)", {}, create,
                             [&](Result<ExecResult> r) { answered = r.isOk(); });
        QVERIFY(test::pollUntil([&] { return health(*engine).stalled; }));
        const Health stalled = health(*engine);
        QVERIFY2(stalled.reason.find("storage writer: ") == 0, stalled.reason.c_str());
        gate.open();
        QVERIFY(test::pollUntil([&] { return answered.load(); }));
        QVERIFY(test::pollUntil([&] { return !health(*engine).stalled; }));
    }

    // /ready: 503 with the reason while stalled, 200 otherwise; "not ready" wins while starting.
    void readyIsServiceUnavailableWhileStalled_data() {
        QTest::addColumn<bool>("ready");
        QTest::addColumn<QString>("stalled");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("body");
        QTest::newRow("serving") << true << "" << 200 << "ready\n";
        QTest::newRow("stalled")
            << true << "storage writer: 3 waiting, no progress for 12000 ms" << 503
            << "stalled: storage writer: 3 waiting, no progress for 12000 ms\n";
        QTest::newRow("starting") << false << "" << 503 << "not ready\n";
    }
    void readyIsServiceUnavailableWhileStalled() {
        QFETCH(bool, ready);
        QFETCH(QString, stalled);
        QFETCH(int, status);
        QFETCH(QString, body);
        http::StatusSource source;
        source.ready = [ready] { return ready; };
        source.stalled = [text = stalled.toStdString()] { return text; };
        auto handler = http::makeStatusHandler(source);
        http::HttpRequest request;
        request.method = "GET";
        request.path = "/ready";
        http::HttpResponse response = handler(request);
        QCOMPARE(response.status, status);
        QCOMPARE(QString::fromStdString(response.body), body);
    }
};

QTEST_APPLESS_MAIN(TestHealth)
#include "tst_health.moc"
