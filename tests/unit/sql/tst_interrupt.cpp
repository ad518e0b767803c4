// Stopping SQL that runs too long or is no longer wanted (issue 13, item 3): the per-request
// time limit (ExecFlags::timeLimit, DatabaseOptions::statementTimeout, Session::timeLimit), the
// cancel token (KILL QUERY, a client that went away), interruptAll at shutdown, and the process
// list behind SHOW PROCESSLIST / KILL. An endless recursive CTE stands for any runaway statement;
// limits are ~200 ms so the test stays fast. The actor must be usable right after, with the
// interrupted request rolled back, and the other actors of the same executor thread served.

#include <QtTest>

#include <chrono>
#include <future>

#include "core/metrics.h"
#include "sql/cancel_token.h"
#include "sql/database.h"
#include "sql/engine.h"
#include "sql/executor.h"
#include "sql/process_list.h"

using namespace troupe;
using namespace troupe::sql;
using namespace std::chrono_literals;

namespace {

constexpr const char* kEndless =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

const char* str(const Status& s) {
    static thread_local std::string text;
    text = s.toString();
    return text.c_str();
}

std::int64_t asInt(const Value& v) {
    return std::get<std::int64_t>(v);
}

std::chrono::milliseconds since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
}

// Starts `sql` on type(name) and returns its future answer.
std::future<Result<ExecResult>> startAsync(Engine& engine, const std::string& name,
                                           const std::string& sql, ExecFlags flags) {
    auto promise = std::make_shared<std::promise<Result<ExecResult>>>();
    auto future = promise->get_future();
    engine.executeAsync("x", name, sql, {}, std::move(flags),
                        [promise](Result<ExecResult> r) { promise->set_value(std::move(r)); });
    return future;
}

} // namespace

class TestInterrupt : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    MetricsRegistry m_metrics;
    Session m_node;

    // One executor thread: every actor shares it, as the actors of a busy server do.
    std::unique_ptr<Engine> openEngine() {
        EngineOptions options;
        options.dataDir = (m_dir->path() + "/engine").toStdString();
        options.metrics = &m_metrics;
        options.executorThreads = 1;
        auto engine = Engine::open(options);
        if (!engine)
            qFatal("open: %s", engine.status().toString().c_str());
        return std::move(*engine);
    }

    std::unique_ptr<Database> openDatabase(std::chrono::milliseconds timeout) {
        DatabaseOptions options;
        options.engine.dataDir = (m_dir->path() + "/db").toStdString();
        options.engine.metrics = &m_metrics;
        options.engine.executorThreads = 1;
        options.statementTimeout = timeout;
        auto db = Database::open(options);
        if (!db)
            qFatal("open: %s", db.status().toString().c_str());
        auto c = (*db)->config(m_node, "INSERT INTO groups VALUES ('grp1','cluster');\n"
                                       "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1');\n"
                                       "CREATE USER 'root' IDENTIFIED BY 'rootpass';\n"
                                       "CREATE USER 'reader' IDENTIFIED BY 'readerpass';\n"
                                       "GRANT read ON t TO 'reader';");
        if (!c)
            qFatal("config: %s", str(c.status()));
        auto s = (*db)->schema(m_node, "ACTOR t\nCREATE TABLE v (i INTEGER)\n");
        if (!s)
            qFatal("schema: %s", str(s.status()));
        return std::move(*db);
    }

private slots:
    void init() { m_dir = std::make_unique<QTemporaryDir>(); }
    void cleanup() { m_dir.reset(); }

    // An endless statement fails with Timeout after its limit; the write before it in the same
    // request is rolled back and the actor answers at once afterwards.
    void timeLimitStopsEndlessStatement() {
        auto engine = openEngine();
        ExecFlags create;
        create.create = true;
        QVERIFY(engine->execute("x", "a", "CREATE TABLE t(v)", {}, create).isOk());
        ExecFlags limited;
        limited.timeLimit = 200ms;
        const auto start = std::chrono::steady_clock::now();
        auto r = engine->execute("x", "a", std::string("INSERT INTO t VALUES (1); ") + kEndless, {},
                                 limited);
        QCOMPARE(r.status().code(), ErrorCode::Timeout);
        QVERIFY2(r.status().message().find("maximum statement execution time exceeded") !=
                     std::string::npos,
                 str(r.status()));
        QVERIFY2(since(start) >= 200ms && since(start) < 5s,
                 std::to_string(since(start).count()).c_str());
        auto count = engine->execute("x", "a", "SELECT count(*) FROM t", {}, limited);
        QVERIFY2(count, str(count.status()));
        QCOMPARE(asInt(count->rows[0][0]), 0); // the INSERT went with the interrupted request
        auto write = engine->execute("x", "a", "INSERT INTO t VALUES (2)", {}, limited);
        QVERIFY2(write, str(write.status()));
    }

    // While one actor's endless statement runs, the others on the same (only) executor thread
    // wait for at most its limit, then are served.
    void otherActorsOnTheThreadAreServed() {
        auto engine = openEngine();
        ExecFlags limited;
        limited.create = true;
        limited.timeLimit = 200ms;
        auto endless = startAsync(*engine, "a", kEndless, limited);
        const auto start = std::chrono::steady_clock::now();
        auto other = engine->execute("x", "b", "SELECT 42", {}, limited);
        QVERIFY2(other, str(other.status()));
        QCOMPARE(asInt(other->rows[0][0]), 42);
        QVERIFY(since(start) < 5s);
        QCOMPARE(endless.get().status().code(), ErrorCode::Timeout);
    }

    // A cancelled token stops the running statement with Interrupted (and one cancelled before
    // its request starts stops it before it runs).
    void cancelTokenStopsRunningStatement_data() {
        QTest::addColumn<bool>("beforeStart");
        QTest::newRow("while running") << false;
        QTest::newRow("before it starts") << true;
    }
    void cancelTokenStopsRunningStatement() {
        QFETCH(bool, beforeStart);
        auto engine = openEngine();
        auto token = std::make_shared<CancelToken>();
        ExecFlags flags; // no time limit: only the token stops it
        flags.create = true;
        flags.cancel = token;
        if (beforeStart)
            token->cancel(CancelToken::Reason::Killed);
        auto endless = startAsync(*engine, "a", kEndless, flags);
        if (!beforeStart) {
            QCOMPARE(endless.wait_for(100ms), std::future_status::timeout); // it runs
            token->cancel(CancelToken::Reason::Disconnected);
        }
        QCOMPARE(endless.wait_for(5s), std::future_status::ready);
        auto r = endless.get();
        QCOMPARE(r.status().code(), ErrorCode::Interrupted);
        ExecFlags create;
        create.create = true;
        QVERIFY(engine->execute("x", "a", "SELECT 1", {}, create).isOk());
    }

    // interruptAll (the first step of shutdown) stops a statement with no limit at all, and
    // shutdown itself does not wait for it.
    void shutdownInterruptsEndlessStatements() {
        auto engine = openEngine();
        ExecFlags flags;
        flags.create = true;
        auto first = startAsync(*engine, "a", kEndless, flags);
        auto second = startAsync(*engine, "b", kEndless, flags);
        QCOMPARE(first.wait_for(100ms), std::future_status::timeout);
        const auto start = std::chrono::steady_clock::now();
        engine->shutdown();
        QVERIFY(since(start) < 5s);
        QCOMPARE(first.get().status().code(), ErrorCode::ShuttingDown);
        QCOMPARE(second.get().status().code(), ErrorCode::ShuttingDown);
    }

    // The query facade gives every request the configured limit; a session may lower it, and
    // only an admin may raise it. Multi-actor requests are limited too.
    void databaseAppliesConfiguredAndSessionLimits_data() {
        QTest::addColumn<QString>("user");
        QTest::addColumn<int>("sessionMs");
        QTest::addColumn<QString>("request");
        QTest::addColumn<int>("expectedMs"); // the limit the error names
        const QString single = QString("ACTOR t(a); ") + kEndless;
        const QString multi = QString("ACTOR t(a, b); ") + kEndless;
        QTest::newRow("configured") << "root" << 0 << single << 300;
        QTest::newRow("session lowers") << "reader" << 100 << single << 100;
        QTest::newRow("reader cannot raise") << "reader" << 5000 << single << 300;
        QTest::newRow("admin raises") << "root" << 600 << single << 600;
        QTest::newRow("multi-actor") << "root" << 0 << multi << 300;
    }
    void databaseAppliesConfiguredAndSessionLimits() {
        QFETCH(QString, user);
        QFETCH(int, sessionMs);
        QFETCH(QString, request);
        QFETCH(int, expectedMs);
        auto db = openDatabase(300ms);
        QVERIFY(db->query(m_node, "ACTOR t(a) create; ACTOR t(b) create; SELECT 1").isOk());
        Session session;
        session.user = user.toStdString();
        session.timeLimit = std::chrono::milliseconds(sessionMs);
        const auto start = std::chrono::steady_clock::now();
        auto r = db->query(session, request.toStdString());
        const auto took = since(start).count();
        QCOMPARE(r.status().code(), ErrorCode::Timeout);
        const std::string limit = "(" + std::to_string(expectedMs) + " ms";
        QVERIFY2(r.status().message().find(limit) != std::string::npos, str(r.status()));
        QVERIFY2(took >= expectedMs && took < 10000, std::to_string(took).c_str());
        QVERIFY(db->query(m_node, "ACTOR t(a); SELECT count(*) FROM v").isOk());
    }

    // KILL QUERY through the process list stops the session's running request; KILL of
    // someone else's session needs admin; unknown ids are NotFound.
    void processListKills() {
        auto db = openDatabase(0ms); // no limit: only KILL stops it
        QVERIFY(db->query(m_node, "ACTOR t(a) create; SELECT 1").isOk());
        ProcessList& list = db->processes();
        bool closed = false;
        auto reader = list.add("127.0.0.1:1", [&closed] { closed = true; });
        reader->setUser("reader");
        auto other = list.add("127.0.0.1:2", {});
        other->setUser("someone");
        Session session;
        session.user = "reader";
        session.cancel = reader->begin("Query", kEndless);
        auto running = std::async(std::launch::async, [&] {
            return db->query(session, std::string("ACTOR t(a); ") + kEndless);
        });
        QCOMPARE(running.wait_for(100ms), std::future_status::timeout);
        const auto rows = list.list();
        QCOMPARE(rows.size(), std::size_t(2));
        QCOMPARE(rows[0].command, std::string("Query"));
        QCOMPARE(rows[0].info, std::string(kEndless));
        QCOMPARE(list.kill(reader->id(), false, "someone", false).code(), ErrorCode::NotPermitted);
        QCOMPARE(list.kill(999, false, "root", true).code(), ErrorCode::NotFound);
        QVERIFY(list.kill(reader->id(), false, "reader", false).isOk());
        QCOMPARE(running.wait_for(5s), std::future_status::ready);
        QCOMPARE(running.get().status().code(), ErrorCode::Interrupted);
        reader->end();
        QVERIFY(!closed);
        QVERIFY(list.kill(reader->id(), true, "root", true).isOk()); // admin: KILL CONNECTION
        QVERIFY(closed);
        QVERIFY(reader->begin("Query", "SELECT 1")->cancelled()); // a killed session runs nothing
        other.reset();
        QCOMPARE(list.list().size(), std::size_t(1));
    }
};

QTEST_APPLESS_MAIN(TestInterrupt)
#include "tst_interrupt.moc"
