// What one request may cost (issue 13 item 5, resources/docs/security.md "request bounds"): a
// request of many actor blocks does work linear in its actors (the executor's LRU scan used to
// restart from the end for every actor it opened while the request's actors were all locked),
// holds at most max_actors_per_request actors, and gives the open connections back afterwards.

#include <QtTest>

#include <string>

#include "core/metrics.h"
#include "sql/database.h"

using namespace troupe;
using namespace troupe::sql;

namespace {

const char* str(const Status& s) {
    static thread_local std::string text;
    text = s.toString();
    return text.c_str();
}

std::int64_t asInt(const Value& v) {
    if (const auto* i = std::get_if<std::int64_t>(&v))
        return *i;
    qFatal("not an integer");
}

// N blocks `ACTOR type1(<prefix>i) create; INSERT ...`, as in the issue.
std::string manyBlocks(const std::string& prefix, int n) {
    std::string sql;
    for (int i = 0; i < n; ++i)
        sql += "ACTOR type1(" + prefix + std::to_string(i) + ") create; INSERT INTO tab VALUES (" +
               std::to_string(i) + ");\n";
    return sql;
}

} // namespace

class TestRequestBounds : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_run = 0;
    Session m_node; // every right

    struct Opened {
        std::unique_ptr<MetricsRegistry> metrics;
        std::unique_ptr<Database> db;
    };

    Opened open(std::size_t maxOpenActors, std::size_t maxActorsPerRequest) {
        Opened o;
        o.metrics = std::make_unique<MetricsRegistry>();
        DatabaseOptions options;
        options.maxActorsPerRequest = maxActorsPerRequest;
        options.engine.metrics = o.metrics.get();
        options.engine.dataDir = (m_dir.path() + "/db" + QString::number(++m_run)).toStdString();
        options.engine.executorThreads = 2;
        options.engine.maxOpenActors = maxOpenActors;
        options.engine.storage.fsync = storage::FsyncMode::Off; // durability is not the point
        auto db = Database::open(options);
        if (!db)
            qFatal("open: %s", db.status().toString().c_str());
        o.db = std::move(*db);
        auto c = o.db->config(m_node, "INSERT INTO groups VALUES ('grp1','cluster');\n"
                                      "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1');\n"
                                      "CREATE USER 'root' IDENTIFIED BY 'rootpass';");
        if (!c)
            qFatal("config: %s", c.status().toString().c_str());
        auto s = o.db->schema(m_node, "ACTOR type1\nCREATE TABLE tab (i INTEGER)\n");
        if (!s)
            qFatal("schema: %s", s.status().toString().c_str());
        return o;
    }

    static std::uint64_t scanSteps(MetricsRegistry& m) {
        return m.counter("troupe_executor_evict_scan_steps_total", "").value();
    }
    static std::int64_t openActors(MetricsRegistry& m) {
        return m.gauge("troupe_actors_open", "").value();
    }

private slots:
    // Counting the executor's work, not timing it: N and 4N blocks with a small LRU, so that
    // nearly every actor is opened while the LRU is full of the request's locked actors. Linear
    // work gives a ratio near 4, the old rescan gave 16.
    void manyActorBlocksCostLinearWork() {
        constexpr std::size_t kOpenLimit = 16;
        constexpr int kN = 250;
        Opened o = open(kOpenLimit, 100000);
        const std::uint64_t before = scanSteps(*o.metrics);
        auto small = o.db->query(m_node, manyBlocks("a", kN));
        QVERIFY2(small, str(small.status()));
        const std::uint64_t mid = scanSteps(*o.metrics);
        auto large = o.db->query(m_node, manyBlocks("b", 4 * kN));
        QVERIFY2(large, str(large.status()));
        const std::uint64_t after = scanSteps(*o.metrics);
        const double n = double(mid - before), n4 = double(after - mid);
        qInfo("LRU scan steps: %.0f for %d blocks, %.0f for %d blocks (ratio %.2f)", n, kN, n4,
              4 * kN, n4 / std::max(1.0, n));
        QVERIFY(n > 0);
        QVERIFY2(n4 / n < 8.0, "the LRU scan is not linear in the request's actors");
        // Per actor, a small constant (a scan step per park and per eviction).
        QVERIFY2(n4 < 10.0 * 4 * kN, "more than 10 scan steps per actor");

        // The connections go back under the LRU limit once the request is over.
        QVERIFY2(openActors(*o.metrics) <= std::int64_t(kOpenLimit),
                 qPrintable(QString::number(openActors(*o.metrics))));
        auto count = o.db->query(m_node, "ACTOR type1(*); PRAGMA count");
        QVERIFY2(count, str(count.status()));
        QCOMPARE(asInt(count->rows[0][0]), 5 * kN);
    }

    // max_actors_per_request: refused with TooLarge naming the limit, before anything is
    // created, however the actors are named (blocks, a list, `*`, FOR over a result).
    void requestsOverTheActorLimitAreRefused_data() {
        QTest::addColumn<QString>("request");
        QTest::addColumn<bool>("fits");
        QTest::newRow("blocks at the limit") << QString::fromStdString(manyBlocks("x", 10)) << true;
        QTest::newRow("blocks past the limit")
            << QString::fromStdString(manyBlocks("x", 11)) << false;
        QTest::newRow("list past the limit")
            << "ACTOR type1(l0,l1,l2,l3,l4,l5,l6,l7,l8,l9,l10) create; INSERT INTO tab VALUES (1)"
            << false;
        QTest::newRow("all past the limit")
            << "ACTOR type1(*); INSERT INTO tab VALUES (1)" << false;
        QTest::newRow("for past the limit")
            << "ACTOR type1(e0); {{R}}WITH RECURSIVE c(v) AS (SELECT 0 UNION ALL SELECT v + 1 "
               "FROM c WHERE v < 10) SELECT 'f' || v AS n FROM c;"
               "ACTOR type1(for x.n in R) create; INSERT INTO tab VALUES (2)"
            << false;
    }
    void requestsOverTheActorLimitAreRefused() {
        QFETCH(QString, request);
        QFETCH(bool, fits);
        Opened o = open(1024, 10);
        // 12 actors exist already for `*`.
        for (const char* some : {"e0,e1,e2,e3,e4,e5", "e6,e7,e8,e9,e10,e11"})
            QVERIFY(o.db->query(m_node, std::string("ACTOR type1(") + some +
                                            ") create; INSERT INTO tab VALUES (0)"));
        auto r = o.db->query(m_node, request.toStdString());
        if (fits) {
            QVERIFY2(r, str(r.status()));
        } else {
            QCOMPARE(r.status().code(), ErrorCode::TooLarge);
            QVERIFY2(r.status().message().find("max_actors_per_request") != std::string::npos,
                     str(r.status()));
            QVERIFY2(r.status().message().find("10") != std::string::npos, str(r.status()));
        }
        auto count = o.db->query(m_node, "ACTOR type1(*); PRAGMA count");
        QVERIFY2(count, str(count.status()));
        QCOMPARE(asInt(count->rows[0][0]), fits ? 22 : 12); // nothing created when refused
    }
};

QTEST_APPLESS_MAIN(TestRequestBounds)
#include "tst_request_bounds.moc"
