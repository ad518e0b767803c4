// Integration tests of the MySQL protocol server (issue 4) with two more real clients against a
// real troupe-server process on loopback:
// - Node.js mysql2 (mysql/node/mysql2_clients.js, version pinned by its package-lock.json):
//   query and execute, re-executed statements, a pool doing concurrent work on its own actors,
//   typed values (integers beyond 2^53, doubles, non-ASCII text, blobs, NULL), errors with their
//   numbers and SQLSTATEs, the actor chosen by the database name. The test installs the modules
//   itself with `npm ci` in the build tree (TROUPE_NODE_WORK_DIR), never in the source tree.
// - sysbench with tests/bench/sysbench/troupe_actors.lua: 4 threads, each on its own actors,
//   durable single-row inserts and point selects; sysbench must report transactions and no
//   errors, and every row it says it inserted must be there afterwards.
// The server is started once with resources/init.sql plus the `bench` type of
// tests/bench/sysbench/schema.sql and a type `typed` for the value round trips. A part is
// skipped (QSKIP naming the Debian package) only if its tool is not installed; CI installs them
// all (installers/dev/install-deps.sh). A failing `npm ci` fails the test: CI has the registry.
// Every wait is bounded by a deadline.

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <csignal>
#include <fstream>
#include <iterator>
#include <map>

#include "http_test_client.h"
#include "integration/mysql/raw_mysql_client.h"
#include "support/server_process.h"

using namespace std::chrono_literals;
using troupe::test::HttpTestClient;
using troupe::test::RawMysqlClient;
using troupe::test::Run;
using troupe::test::runProgram;
using troupe::test::serverBinary;
using troupe::test::ServerProcess;

namespace {

constexpr int kStartTimeoutMs = 20000;
constexpr int kNpmTimeoutMs = 240000; // a cold cache downloads a dozen small packages
constexpr int kNodeTimeoutMs = 120000;
constexpr int kMariadbTimeoutMs = 60000;
constexpr int kSysbenchThreads = 4;
constexpr int kSysbenchActorsPerThread = 3;
constexpr int kSysbenchSeedRows = 10;

// The type the mysql2 checks round-trip typed values through.
constexpr const char* kTypedSchema = "USE schema\n"
                                     "ACTOR typed\n"
                                     "CREATE TABLE vals (id INTEGER PRIMARY KEY, n INTEGER, d REAL,"
                                     " s TEXT, b BLOB)\n"
                                     "COMMIT\n";

QString sourcePath(const QString& relative) {
    return QStringLiteral(TROUPE_SOURCE_DIR) + "/" + relative;
}

std::string readFile(const QString& path) {
    std::ifstream in(path.toStdString(), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Copies `from` over `to` (QFile::copy never overwrites).
bool copyOver(const QString& from, const QString& to) {
    if (QFile::exists(to) && !QFile::remove(to))
        return false;
    return QFile::copy(from, to);
}

// The number after `label` in sysbench's report ("transactions:   5772   (1921.69 per sec.)"),
// -1 if the line is missing.
long long sysbenchFigure(const QString& report, const QString& label) {
    QRegularExpression re("^\\s*" + QRegularExpression::escape(label) + ":\\s+(\\d+)",
                          QRegularExpression::MultilineOption);
    auto m = re.match(report);
    return m.hasMatch() ? m.captured(1).toLongLong() : -1;
}

} // namespace

class TestMysqlTools : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    ServerProcess m_server;
    QString m_node, m_npm, m_sysbench, m_mariadb;

    std::string serverLog() const { return m_server.log(); }

    // resources/init.sql, the sysbench `bench` type and the `typed` type, in one init script.
    bool writeInitScript(const QString& path) const {
        std::ofstream out(path.toStdString(), std::ios::binary);
        out << readFile(sourcePath("resources/init.sql")) << "\n"
            << readFile(sourcePath("tests/bench/sysbench/schema.sql")) << "\n"
            << kTypedSchema;
        return static_cast<bool>(out);
    }

    // `mariadb` in batch mode as root, -N, with `sql` passed by -e.
    Run mariadb(const QString& sql) {
        return runProgram(m_mariadb,
                          {"--no-defaults", "-h", "127.0.0.1", "-P",
                           QString::number(m_server.ports.mysql), "-u", "root",
                           "--password=rootpass", "--skip-ssl", "--connect-timeout=10", "--batch",
                           "--raw", "-N", "-e", sql},
                          {}, kMariadbTimeoutMs);
    }

    // A fresh client logs in and pings: the server is still serving.
    void verifyServerStillServes() {
        QVERIFY2(m_server.running(), serverLog().c_str());
        RawMysqlClient client(m_server.ports.mysql);
        QVERIFY(client.connected());
        auto ok = client.login("root", "rootpass");
        QVERIFY2(ok && ok->isOk(), serverLog().c_str());
        QVERIFY(client.sendCommand(0x0e /* COM_PING */));
        auto pong = client.readPacket();
        QVERIFY(pong && pong->isOk());
    }

private slots:
    void initTestCase() {
        QVERIFY2(QFileInfo(serverBinary()).isExecutable(), qPrintable(serverBinary()));
        QVERIFY(m_tmp.isValid());
        m_node = QStandardPaths::findExecutable("node");
        m_npm = QStandardPaths::findExecutable("npm");
        m_sysbench = QStandardPaths::findExecutable("sysbench");
        m_mariadb = QStandardPaths::findExecutable("mariadb");
        const QString init = m_tmp.path() + "/init.sql";
        QVERIFY(writeInitScript(init));

        const std::string error = m_server.start(m_tmp.path(), {"--init", init});
        QVERIFY2(error.empty(), error.c_str());
    }

    void cleanupTestCase() {
        const std::string error = m_server.stop();
        QVERIFY2(error.empty(), error.c_str());
    }

    // --- Node.js mysql2 ------------------------------------------------------------------------

    void nodeMysql2() {
        if (m_node.isEmpty() || m_npm.isEmpty())
            QSKIP("node or npm is missing: install Debian packages nodejs npm");
        // The package files and the script go to the build tree; npm ci installs node_modules
        // next to them (it removes an earlier node_modules first).
        const QString work = QStringLiteral(TROUPE_NODE_WORK_DIR);
        QVERIFY2(QDir().mkpath(work), qPrintable(work));
        for (const char* file : {"package.json", "package-lock.json", "mysql2_clients.js"})
            QVERIFY2(copyOver(sourcePath(QString("tests/integration/mysql/node/") + file),
                              work + "/" + file),
                     file);

        QElapsedTimer timer;
        timer.start();
        Run npm = runProgram(m_npm,
                             {"ci", "--prefix", work, "--no-audit", "--no-fund", "--no-progress",
                              "--no-update-notifier", "--fetch-timeout=60000", "--fetch-retries=2"},
                             {}, kNpmTimeoutMs, work);
        QVERIFY2(npm.exitCode == 0,
                 qPrintable("npm ci failed: is the npm registry reachable (`npm config get "
                            "registry`)? mysql2 cannot be installed without it.\n" +
                            npm.describe()));
        qInfo("npm ci: %lld ms", static_cast<long long>(timer.restart()));

        Run r = runProgram(m_node,
                           {work + "/mysql2_clients.js", "--port",
                            QString::number(m_server.ports.mysql), "--actor", "node_mysql2"},
                           {}, kNodeTimeoutMs, work);
        qInfo("mysql2 checks: %lld ms", static_cast<long long>(timer.elapsed()));
        QVERIFY2(r.exitCode != 77, qPrintable("npm ci ran but mysql2 is missing\n" + r.describe()));
        QVERIFY2(
            r.exitCode == 0 && r.out.contains("mysql2: 0 of"),
            qPrintable(r.describe() + "\nserver log:\n" + QString::fromStdString(serverLog())));
        verifyServerStillServes();
    }

    // --- sysbench ------------------------------------------------------------------------------

    void sysbenchActors_data() {
        QTest::addColumn<QString>("mode");
        QTest::addColumn<int>("seconds");
        QTest::addColumn<QString>("prefix"); // actor names <prefix><thread>_<k>, fresh per row
        QTest::newRow("mix") << "mix" << 3 << "m";
        QTest::newRow("insert") << "insert" << 1 << "i";
        QTest::newRow("select") << "select" << 1 << "s";
    }

    // sysbench reports transactions and no errors; afterwards every actor holds its seed rows
    // plus exactly the rows the script says it inserted there.
    void sysbenchActors() {
        QFETCH(QString, mode);
        QFETCH(int, seconds);
        QFETCH(QString, prefix);
        if (m_sysbench.isEmpty())
            QSKIP("sysbench is missing: install Debian package sysbench");
        if (m_mariadb.isEmpty())
            QSKIP("the mariadb client is missing: install Debian package mariadb-client");
        QElapsedTimer timer;
        timer.start();
        Run r = runProgram(
            m_sysbench,
            {sourcePath("tests/bench/sysbench/troupe_actors.lua"), "--mysql-host=127.0.0.1",
             "--mysql-port=" + QString::number(m_server.ports.mysql), "--mysql-user=root",
             "--mysql-password=rootpass", "--mysql-db=bench",
             "--threads=" + QString::number(kSysbenchThreads), "--time=" + QString::number(seconds),
             "--mode=" + mode, "--actors-per-thread=" + QString::number(kSysbenchActorsPerThread),
             "--seed-rows=" + QString::number(kSysbenchSeedRows), "--actor-prefix=" + prefix,
             "--report-inserts=on", "run"},
            {}, (seconds + 60) * 1000);
        qInfo("sysbench --mode=%s --time=%d: %lld ms", qPrintable(mode), seconds,
              static_cast<long long>(timer.elapsed()));
        const QString context =
            r.describe() + "\nserver log:\n" + QString::fromStdString(serverLog());
        QVERIFY2(r.exitCode == 0, qPrintable(context));
        const long long transactions = sysbenchFigure(r.out, "transactions");
        QVERIFY2(transactions > 0, qPrintable(context));
        QVERIFY2(sysbenchFigure(r.out, "ignored errors") == 0, qPrintable(context));
        QVERIFY2(sysbenchFigure(r.out, "reconnects") == 0, qPrintable(context));
        qInfo("sysbench --mode=%s: %lld transactions", qPrintable(mode), transactions);

        // "inserted bench(m0_1) 183" per actor.
        std::map<QString, long long> inserted;
        QRegularExpression line("^inserted bench\\(([^)]+)\\) (\\d+)$",
                                QRegularExpression::MultilineOption);
        for (auto it = line.globalMatch(r.out); it.hasNext();) {
            auto m = it.next();
            inserted[m.captured(1)] = m.captured(2).toLongLong();
        }
        QCOMPARE(int(inserted.size()), kSysbenchThreads * kSysbenchActorsPerThread);
        long long total = 0;
        for (const auto& [actor, n] : inserted) {
            QVERIFY2(actor.startsWith(prefix), qPrintable(actor));
            total += n;
        }
        if (mode == "select")
            QCOMPARE(total, 0LL);
        else
            QVERIFY2(total > 0, qPrintable(context));

        // Count the rows of every actor in one client run: `ACTOR bench(x);` then a count.
        QString sql;
        for (const auto& [actor, n] : inserted)
            sql += "ACTOR bench(" + actor + "); SELECT count(*), max(id) FROM t; ";
        Run count = mariadb(sql);
        QVERIFY2(count.exitCode == 0, qPrintable(count.describe()));
        QStringList lines = count.out.split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), int(inserted.size()));
        auto expected = inserted.begin();
        for (const QString& got : lines) {
            // count(*) and max(id): the seed rows 1..N, then the inserted ones, no gap.
            const QString want = QString("%1\t%1").arg(kSysbenchSeedRows + expected->second);
            QVERIFY2(got == want, qPrintable("bench(" + expected->first + "): count and max(id) " +
                                             got + ", expected " + want));
            ++expected;
        }
        verifyServerStillServes();
    }
};

QTEST_GUILESS_MAIN(TestMysqlTools)
#include "tst_mysql_tools.moc"
