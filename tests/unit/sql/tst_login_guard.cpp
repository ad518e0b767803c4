// The failed-login back-off (sql/login_guard.h) on a fake clock: blocking after N failures in
// the window, the window sliding, the doubling block up to its cap, success and FLUSH HOSTS
// resetting, sources kept apart, the metrics, the bound on tracked sources, and "off".

#include <QTest>

#include "core/metrics.h"
#include "sql/login_guard.h"

using namespace troupe;
using namespace troupe::sql;
using namespace std::chrono_literals;

class TestLoginGuard : public QObject {
    Q_OBJECT

    LoginGuard::Clock::time_point m_now{std::chrono::hours(1000)};
    MetricsRegistry m_metrics;

    std::unique_ptr<LoginGuard> make(unsigned maxFailures = 3) {
        LoginGuardOptions o;
        o.maxFailures = maxFailures;
        o.window = 60s;
        o.blockFor = 10s;
        o.maxBlock = 35s;
        return std::make_unique<LoginGuard>(o, &m_metrics, [this] { return m_now; });
    }
    void fail(LoginGuard& g, const char* source, int times) {
        for (int i = 0; i < times; ++i)
            g.failed(source);
    }
    std::int64_t gauge() { return m_metrics.gauge("troupe_login_blocked_sources", "").value(); }

private slots:
    void blocksAfterMaxFailures() {
        auto g = make();
        fail(*g, "10.0.0.1", 2);
        QVERIFY(g->admit("10.0.0.1").isOk());
        g->failed("10.0.0.1");
        const Status s = g->admit("10.0.0.1");
        QCOMPARE(s.code(), ErrorCode::TooManyAttempts);
        QVERIFY2(s.message().find("10.0.0.1") != std::string::npos, s.message().c_str());
        QVERIFY2(s.message().find("10 s") != std::string::npos, s.message().c_str());
        QVERIFY2(s.message().find("FLUSH HOSTS") != std::string::npos, s.message().c_str());
        QVERIFY(g->admit("10.0.0.2").isOk()); // other sources are not affected
        QCOMPARE(g->blockedSources(), std::size_t(1));
        QCOMPARE(gauge(), 1);
        m_now += 10s;
        QVERIFY(g->admit("10.0.0.1").isOk()); // the block ran out
        QCOMPARE(g->blockedSources(), std::size_t(0));
    }

    void failuresOutsideTheWindowDoNotCount() {
        auto g = make();
        fail(*g, "a", 2);
        m_now += 61s;
        fail(*g, "a", 2);
        QVERIFY(g->admit("a").isOk());
        g->failed("a");
        QVERIFY(!g->admit("a").isOk());
    }

    void blockDoublesUpToTheCap_data() {
        QTest::addColumn<int>("block");
        QTest::addColumn<int>("seconds");
        QTest::newRow("first") << 1 << 10;
        QTest::newRow("second") << 2 << 20;
        QTest::newRow("third: capped") << 3 << 35;
        QTest::newRow("fourth: capped") << 4 << 35;
    }
    void blockDoublesUpToTheCap() {
        QFETCH(int, block);
        QFETCH(int, seconds);
        auto g = make();
        for (int b = 1; b < block; ++b) {
            fail(*g, "a", 3);
            m_now += 1h;
        }
        fail(*g, "a", 3);
        m_now += std::chrono::seconds(seconds - 1);
        QVERIFY(!g->admit("a").isOk());
        m_now += 1s;
        QVERIFY(g->admit("a").isOk());
    }

    void successResets() {
        auto g = make();
        fail(*g, "a", 3);
        m_now += 10s;
        g->succeeded("a");
        fail(*g, "a", 3); // a first block again: 10 s, not 20
        m_now += 10s;
        QVERIFY(g->admit("a").isOk());
    }

    void unblock() {
        auto g = make();
        fail(*g, "a", 3);
        fail(*g, "b", 3);
        QCOMPARE(g->blockedSources(), std::size_t(2));
        QVERIFY(g->unblock("a"));
        QVERIFY(!g->unblock("nobody"));
        QVERIFY(g->admit("a").isOk());
        QVERIFY(!g->admit("b").isOk());
        QCOMPARE(g->unblockAll(), std::size_t(1));
        QVERIFY(g->admit("b").isOk());
        QCOMPARE(gauge(), 0);
    }

    void metrics() {
        auto g = make();
        Counter& failures = m_metrics.counter("troupe_login_failures_total", "");
        Counter& refused = m_metrics.counter("troupe_login_refused_total", "");
        const auto failuresBefore = failures.value();
        const auto refusedBefore = refused.value();
        fail(*g, "a", 3);
        QVERIFY(!g->admit("a").isOk());
        QVERIFY(!g->admit("a").isOk());
        QCOMPARE(failures.value() - failuresBefore, 3u);
        QCOMPARE(refused.value() - refusedBefore, 2u);
        const std::string text = m_metrics.renderPrometheus();
        QVERIFY(text.find("troupe_login_failures_total") != std::string::npos);
        QVERIFY(text.find("troupe_login_blocked_sources 1") != std::string::npos);
    }

    void offWhenMaxFailuresIsZero() {
        auto g = make(0);
        fail(*g, "a", 100);
        QVERIFY(g->admit("a").isOk());
        QCOMPARE(g->blockedSources(), std::size_t(0));
    }

    void trackedSourcesAreBounded() {
        auto g = make();
        fail(*g, "blocked", 3);
        for (std::size_t i = 0; i < LoginGuard::kMaxSources + 100; ++i)
            g->failed("10." + std::to_string(i));
        QVERIFY(!g->admit("blocked").isOk()); // blocked sources are never dropped
        QCOMPARE(g->blockedSources(), std::size_t(1));
    }
};

QTEST_APPLESS_MAIN(TestLoginGuard)
#include "tst_login_guard.moc"
