// Integration tests of the MySQL protocol server (issue 4) with real clients against a real
// troupe-server process on loopback, started once for the whole test with resources/init.sql
// (user root / rootpass; types type1, thread, user, counters):
// - the `mariadb` command-line client in batch mode: ACTOR requests, `-D type.id`, `USE`,
//   errors with their numbers and SQLSTATEs, access denied, the probes drivers send, typed rows;
// - Python drivers pymysql (pure Python) and MySQLdb (libmariadb), run by
//   mysql/python_clients.py with Debian's /usr/bin/python3;
// - a raw socket client (mysql/raw_mysql_client.h) for COM_PING/COM_QUIT/unknown commands and
//   for malformed input (garbage, truncated and oversized frames, a client leaving mid-result),
//   after each of which the server must still serve a new client.
// Each test uses its own actors, so the order of the tests does not matter. A part is skipped
// (QSKIP naming the Debian package) only if its client is not installed; CI installs them all
// (installers/dev/install-deps.sh). Every wait is bounded by a deadline.

#include <QElapsedTimer>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <csignal>
#include <fstream>
#include <memory>

#include <asio.hpp>

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
constexpr int kClientTimeoutMs = 60000;
constexpr std::uint8_t kComQuit = 0x01;
constexpr std::uint8_t kComQuery = 0x03;
constexpr std::uint8_t kComPing = 0x0e;

QString sourcePath(const QString& relative) {
    return QStringLiteral(TROUPE_SOURCE_DIR) + "/" + relative;
}

} // namespace

// Skips the calling test when the mariadb client is not installed (QSKIP must be in the test).
#define TROUPE_REQUIRE_MARIADB()                                                                   \
    if (m_mariadb.isEmpty())                                                                       \
    QSKIP("the mariadb client is missing: install Debian package mariadb-client")

class TestMysql : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    ServerProcess m_server;
    QString m_mariadb;

    std::string serverLog() const { return m_server.log(); }

    // `mariadb` in batch mode as root (or as given) with `sql` passed by -e, or on stdin when
    // `viaStdin`. --no-defaults keeps ~/.my.cnf out; TLS is not served yet (--skip-ssl).
    Run mariadb(const QStringList& extra, const QString& sql, const QString& user = "root",
                const QString& password = "rootpass", bool viaStdin = false) {
        QStringList args{"--no-defaults",
                         "-h",
                         "127.0.0.1",
                         "-P",
                         QString::number(m_server.ports.mysql),
                         "-u",
                         user,
                         "--password=" + password,
                         "--skip-ssl",
                         "--connect-timeout=10",
                         "--batch",
                         "--raw"};
        args += extra;
        if (viaStdin)
            return runProgram(m_mariadb, args, sql.toUtf8());
        args << "-e" << sql;
        return runProgram(m_mariadb, args);
    }

    // A fresh client logs in and pings: the server is still serving.
    void verifyServerStillServes() {
        QVERIFY2(m_server.running(), serverLog().c_str());
        RawMysqlClient client(m_server.ports.mysql);
        QVERIFY(client.connected());
        auto ok = client.login("root", "rootpass");
        QVERIFY2(ok && ok->isOk(), serverLog().c_str());
        QVERIFY(client.sendCommand(kComPing));
        auto pong = client.readPacket();
        QVERIFY(pong && pong->isOk());
    }

    // Logs a raw client in as root; false (with a warning saying why) if that fails.
    static bool rawLogin(RawMysqlClient& client) {
        if (!client.connected()) {
            qWarning("cannot connect");
            return false;
        }
        auto answer = client.login("root", "rootpass");
        if (!answer || !answer->isOk()) {
            qWarning("login failed: %s", answer ? answer->errorMessage().c_str() : "no answer");
            return false;
        }
        return true;
    }

private slots:
    void initTestCase() {
        QVERIFY2(QFileInfo(serverBinary()).isExecutable(), qPrintable(serverBinary()));
        QVERIFY(m_tmp.isValid());
        m_mariadb = QStandardPaths::findExecutable("mariadb");
        const std::string error =
            m_server.start(m_tmp.path(), {"--init", sourcePath("resources/init.sql")});
        QVERIFY2(error.empty(), error.c_str());
    }

    void cleanupTestCase() {
        const std::string error = m_server.stop();
        QVERIFY2(error.empty(), error.c_str());
    }

    // --- the mariadb command-line client -----------------------------------------------------

    // The client sends each `;`-separated statement on its own: the standalone ACTOR makes the
    // actor sticky for the statements after it.
    void mariadbActorCreateInsertSelect() {
        TROUPE_REQUIRE_MARIADB();
        Run r =
            mariadb({"-N"}, "ACTOR type1(cli) create; INSERT INTO tab (txt, i) VALUES ('hi', 1);"
                            " INSERT INTO tab (txt, i) VALUES ('there', 2);"
                            " SELECT id, txt, i FROM tab ORDER BY id");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QString("1\thi\t1\n2\tthere\t2\n"));
    }

    // With another delimiter the whole ACTOR request is one COM_QUERY.
    void mariadbWholeRequestInOneQuery() {
        TROUPE_REQUIRE_MARIADB();
        Run r = mariadb({"-N", "--delimiter=//"},
                        "ACTOR type1(cli_one) create; INSERT INTO tab (txt) VALUES ('a');"
                        " INSERT INTO tab (txt) VALUES ('b'); SELECT count(*) FROM tab//");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QString("2\n"));
        r = mariadb({"-N", "--delimiter=//"}, "ACTOR type1(cli_one); SELECT txt FROM tab"
                                              " ORDER BY id//");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QString("a\nb\n"));
    }

    void mariadbDatabaseOptionSelectsTheActor() {
        TROUPE_REQUIRE_MARIADB();
        Run r = mariadb({"-N"}, "ACTOR type1(cli_db) create; INSERT INTO tab (txt) VALUES ('x')");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        r = mariadb({"-N", "-D", "type1.cli_db"}, "SELECT txt FROM tab; SELECT DATABASE()");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QString("x\ntype1.cli_db\n"));
        r = mariadb({"-N", "-D", "type1"}, "SELECT DATABASE()");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QString("type1\n"));
    }

    // The client turns `USE` into COM_INIT_DB.
    void mariadbUseSelectsTheActor() {
        TROUPE_REQUIRE_MARIADB();
        Run r = mariadb({"-N"}, "ACTOR type1(cli_use) create; INSERT INTO tab (txt) VALUES ('u')");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        r = mariadb({"-N"}, "USE type1.cli_use; SELECT txt FROM tab; SELECT DATABASE()");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QString("u\ntype1.cli_use\n"));
    }

    void mariadbErrors_data() {
        QTest::addColumn<QString>("database");
        QTest::addColumn<QString>("sql");
        QTest::addColumn<QString>("error");
        QTest::newRow("no such table") << "type1.cli_err"
                                       << "SELECT * FROM nosuch"
                                       << "ERROR 1146 (42S02)";
        QTest::newRow("syntax") << "type1.cli_err"
                                << "SELEC 1"
                                << "ERROR 1064 (42000)";
        QTest::newRow("duplicate key") << "type1.cli_err"
                                       << "INSERT INTO tab (id, txt) VALUES (1, 'dup')"
                                       << "ERROR 1062 (23000)";
        QTest::newRow("missing actor without create")
            << ""
            << "ACTOR type1(cli_missing); SELECT * FROM tab"
            << "ERROR 1049 (42000)";
        QTest::newRow("unknown type") << ""
                                      << "ACTOR nosuchtype(x) create; SELECT 1"
                                      << "ERROR 1049 (42000)";
        QTest::newRow("unknown type as database") << "nosuchtype.x"
                                                  << "SELECT count(*) FROM tab"
                                                  << "ERROR 1049 (42000)";
        QTest::newRow("no actor named") << ""
                                        << "SELECT * FROM tab"
                                        << "ERROR ";
    }

    void mariadbErrors() {
        QFETCH(QString, database);
        QFETCH(QString, sql);
        QFETCH(QString, error);
        TROUPE_REQUIRE_MARIADB();
        Run setup = mariadb({}, "ACTOR type1(cli_err) create; INSERT OR IGNORE INTO tab (id, txt)"
                                " VALUES (1, 'one')");
        QVERIFY2(setup.exitCode == 0, qPrintable(setup.describe()));
        QStringList args;
        if (!database.isEmpty())
            args << "-D" << database;
        Run r = mariadb(args, sql);
        QVERIFY2(r.exitCode != 0, qPrintable(r.describe()));
        QVERIFY2(r.err.contains(error), qPrintable(r.describe()));
        if (QByteArray(QTest::currentDataTag()) == "no actor named")
            QVERIFY2(r.err.contains("ACTOR"), qPrintable(r.describe()));
    }

    // --force goes on after an error on the same connection: the next statement works.
    void mariadbConnectionSurvivesErrors() {
        TROUPE_REQUIRE_MARIADB();
        Run setup =
            mariadb({}, "ACTOR type1(cli_force) create; INSERT INTO tab (txt) VALUES ('k')");
        QVERIFY2(setup.exitCode == 0, qPrintable(setup.describe()));
        Run r = mariadb({"-N", "--force", "-D", "type1.cli_force"},
                        "SELECT * FROM nosuch;\nSELECT 'after 1146';\nSELEC 1;\n"
                        "SELECT txt FROM tab;\nSELECT * FROM tab WHERE;\nSELECT 'end';\n",
                        "root", "rootpass", /*viaStdin=*/true);
        QCOMPARE(r.out, QString("after 1146\nk\nend\n"));
        QVERIFY2(r.err.contains("ERROR 1146 (42S02)"), qPrintable(r.describe()));
        QVERIFY2(r.err.contains("ERROR 1064 (42000)"), qPrintable(r.describe()));
    }

    void mariadbAccessDenied_data() {
        QTest::addColumn<QString>("user");
        QTest::addColumn<QString>("password");
        QTest::newRow("wrong password") << "root"
                                        << "wrongpass";
        QTest::newRow("empty password") << "root"
                                        << "";
        QTest::newRow("unknown user") << "nobody"
                                      << "rootpass";
    }

    void mariadbAccessDenied() {
        QFETCH(QString, user);
        QFETCH(QString, password);
        TROUPE_REQUIRE_MARIADB();
        Run r = mariadb({}, "SELECT 1", user, password);
        QVERIFY2(r.exitCode != 0, qPrintable(r.describe()));
        QVERIFY2(r.err.contains("ERROR 1045 (28000)"), qPrintable(r.describe()));
        QVERIFY2(r.err.contains("Access denied for user '" + user + "'"), qPrintable(r.describe()));
        verifyServerStillServes();
    }

    // libmariadb's mysql_stmt_* API: every common parameter type, NULL, long data,
    // re-execution, binary result rows, an error at prepare, close.
    void preparedStatementsWithLibmariadb() {
#ifdef TROUPE_STMT_CLIENT
        Run r =
            runProgram(QStringLiteral(TROUPE_STMT_CLIENT), {QString::number(m_server.ports.mysql)});
        QVERIFY2(r.exitCode == 0 && r.out.contains("ok"), qPrintable(r.describe()));
        verifyServerStillServes();
#else
        QSKIP("libmariadb is missing: install Debian package libmariadb-dev");
#endif
    }

    void mariadbProbes_data() {
        QTest::addColumn<QString>("database");
        QTest::addColumn<QString>("sql");
        QTest::addColumn<QString>("outputPattern"); // a regular expression over stdout (-N)
        QTest::newRow("version_comment") << ""
                                         << "SELECT @@version_comment LIMIT 1"
                                         << "\\A[^\\n]+\\n\\z";
        QTest::newRow("version_comment, as the client sends it")
            << ""
            << "select @@version_comment limit 1"
            << "\\A[^\\n]+\\n\\z";
        QTest::newRow("version") << ""
                                 << "SELECT @@version"
                                 << "\\A[0-9][^\\n]*\\n\\z";
        QTest::newRow("DATABASE() with none") << ""
                                              << "SELECT DATABASE()"
                                              << "\\ANULL\\n\\z";
        QTest::newRow("SET NAMES") << ""
                                   << "SET NAMES utf8mb4"
                                   << "\\A\\z";
        QTest::newRow("SET autocommit") << ""
                                        << "SET autocommit=1"
                                        << "\\A\\z";
        QTest::newRow("SHOW WARNINGS") << ""
                                       << "SHOW WARNINGS"
                                       << "\\A\\z";
        QTest::newRow("SHOW VARIABLES LIKE") << ""
                                             << "SHOW VARIABLES LIKE 'x'"
                                             << "\\A(x\\t[^\\n]*\\n)?\\z";
        QTest::newRow("SHOW DATABASES")
            << ""
            << "SHOW DATABASES"
            << "(?ms)(?=.*^type1$)(?=.*^thread$)(?=.*^user$)(?=.*^counters$)";
        QTest::newRow("SHOW TABLES in the actor") << "type1.cli_probe"
                                                  << "SHOW TABLES"
                                                  << "(?ms)(?=.*^tab$)(?=.*^tabx$)";
    }

    void mariadbProbes() {
        QFETCH(QString, database);
        QFETCH(QString, sql);
        QFETCH(QString, outputPattern);
        TROUPE_REQUIRE_MARIADB();
        if (!database.isEmpty()) {
            Run setup = mariadb({}, "ACTOR type1(cli_probe) create; SELECT count(*) FROM tab");
            QVERIFY2(setup.exitCode == 0, qPrintable(setup.describe()));
        }
        QStringList args{"-N"};
        if (!database.isEmpty())
            args << "-D" << database;
        Run r = mariadb(args, sql);
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QRegularExpression re(outputPattern);
        QVERIFY2(re.match(r.out).hasMatch(), qPrintable(outputPattern + "\n" + r.describe()));
    }

    void mariadbTypedRowsWithNulls() {
        TROUPE_REQUIRE_MARIADB();
        Run r = mariadb({}, "ACTOR type1(cli_types) create;"
                            " INSERT INTO tab (id, txt, i) VALUES (1, 'one', 3);"
                            " INSERT INTO tab (id, txt, i) VALUES (2, NULL, NULL);"
                            " INSERT INTO tab (id, txt, i) VALUES (3, 'three', -5);"
                            " SELECT id, txt, i, i * 0.5 AS half FROM tab ORDER BY id");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QString("id\ttxt\ti\thalf\n"
                                "1\tone\t3\t1.5\n"
                                "2\tNULL\tNULL\tNULL\n"
                                "3\tthree\t-5\t-2.5\n"));
    }

    // The client prints each column definition it received (in table output only).
    void mariadbColumnTypes() {
        TROUPE_REQUIRE_MARIADB();
        Run setup = mariadb({}, "ACTOR type1(cli_coltypes) create; SELECT count(*) FROM tab");
        QVERIFY2(setup.exitCode == 0, qPrintable(setup.describe()));
        Run r = mariadb({"-D", "type1.cli_coltypes", "--column-type-info", "--table"},
                        "SELECT 7 AS a, 2.5 AS b, 'x' AS c, x'00ff' AS d, NULL AS e");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QStringList types, collations;
        for (const QString& line : r.out.split('\n')) {
            if (line.startsWith("Type:"))
                types << line.mid(5).trimmed();
            if (line.startsWith("Collation:"))
                collations << line.mid(10).trimmed();
        }
        QCOMPARE(types, QStringList({"LONGLONG", "DOUBLE", "VAR_STRING", "BLOB", "NULL"}));
        QCOMPARE(collations.size(), 5);
        // Text in a character set (drivers return str), blobs binary (drivers return bytes).
        QVERIFY2(collations[2].startsWith("utf8mb4"), qPrintable(r.out));
        QVERIFY2(collations[3].startsWith("binary"), qPrintable(r.out));
    }

    // --- Python drivers ----------------------------------------------------------------------

    void pythonDrivers_data() {
        QTest::addColumn<QString>("driver");
        QTest::addColumn<QString>("package");
        QTest::newRow("pymysql") << "pymysql"
                                 << "python3-pymysql";
        QTest::newRow("MySQLdb") << "MySQLdb"
                                 << "python3-mysqldb";
    }

    void pythonDrivers() {
        QFETCH(QString, driver);
        QFETCH(QString, package);
        // Debian's interpreter: the python3 first on PATH may lack Debian's packages.
        const QString python = "/usr/bin/python3";
        if (!QFileInfo(python).isExecutable())
            QSKIP("/usr/bin/python3 is missing: install Debian package python3");
        Run r =
            runProgram(python, {sourcePath("tests/integration/mysql/python_clients.py"), "--driver",
                                driver, "--port", QString::number(m_server.ports.mysql), "--actor",
                                "py_" + driver.toLower()});
        if (r.exitCode == 77)
            QSKIP(qPrintable("Python module " + driver + " is missing: install Debian package " +
                             package));
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        verifyServerStillServes();
    }

    // --- raw protocol: commands and malformed input --------------------------------------------

    void rawPingUnknownCommandAndQuit() {
        RawMysqlClient client(m_server.ports.mysql);
        QVERIFY(rawLogin(client));
        QVERIFY(client.sendCommand(kComPing));
        auto pong = client.readPacket();
        QVERIFY(pong);
        QVERIFY2(pong->isOk(), pong->errorMessage().c_str());

        for (std::uint8_t unknown : {std::uint8_t{0x0d} /* COM_DEBUG */, std::uint8_t{0xee}}) {
            QVERIFY(client.sendCommand(unknown, "xyz"));
            auto answer = client.readPacket();
            QVERIFY2(answer, "no answer to an unknown command");
            QVERIFY2(answer->isErr(), "an unknown command must get ERR, never OK");
            QCOMPARE(answer->errorCode(), std::uint16_t{1047});
            QCOMPARE(answer->sqlState(), std::string("08S01"));
        }
        // Still usable, and a query without an actor says how to name one.
        QVERIFY(client.sendCommand(kComQuery, "SELECT * FROM tab"));
        auto noActor = client.readPacket();
        QVERIFY(noActor && noActor->isErr());
        QVERIFY2(noActor->errorMessage().find("ACTOR") != std::string::npos,
                 noActor->errorMessage().c_str());
        QVERIFY(client.sendCommand(kComPing));
        pong = client.readPacket();
        QVERIFY(pong && pong->isOk());

        QVERIFY(client.sendCommand(kComQuit));
        QVERIFY2(client.waitClosed(), "COM_QUIT should close the connection");
    }

    void rawWrongPassword() {
        RawMysqlClient client(m_server.ports.mysql);
        QVERIFY(client.connected());
        auto answer = client.login("root", "not-the-password");
        QVERIFY2(answer, "no answer to the login");
        QVERIFY(answer->isErr());
        QCOMPARE(answer->errorCode(), std::uint16_t{1045});
        QCOMPARE(answer->sqlState(), std::string("28000"));
        QVERIFY(client.waitClosed());
        verifyServerStillServes();
    }

    void malformedInput_data() {
        QTest::addColumn<bool>("loginFirst");
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<bool>("halfClose"); // else an abrupt close right after sending
        const QByteArray http = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
        auto framed = [](const QByteArray& payload, std::uint8_t seq) {
            return QByteArray::fromStdString(RawMysqlClient::frame(payload.toStdString(), seq));
        };
        QTest::newRow("HTTP request instead of a handshake") << false << http << true;
        QTest::newRow("framed garbage as handshake response")
            << false << framed("\x13\x37garbage-garbage-garbage", 1) << true;
        QTest::newRow("empty handshake response") << false << framed("", 1) << true;
        QTest::newRow("handshake response with sequence id 9")
            << false << framed(QByteArray(40, '\x01'), 9) << true;
        QTest::newRow("truncated handshake response") << false
                                                      << QByteArray("\x64\x00\x00\x01"
                                                                    "0123456789",
                                                                    14)
                                                      << true;
        QTest::newRow("oversized length") << false
                                          << QByteArray("\xff\xff\xff\x01"
                                                        "abc",
                                                        7)
                                          << true;
        QTest::newRow("truncated handshake response, abrupt close") << false
                                                                    << QByteArray("\x64\x00\x00\x01"
                                                                                  "0123456789",
                                                                                  14)
                                                                    << false;
        QTest::newRow("garbage after login") << true << http << true;
        QTest::newRow("truncated COM_QUERY after login")
            << true << QByteArray("\xe8\x03\x00\x00\x03SELECT", 11) << true;
        QTest::newRow("truncated COM_QUERY after login, abrupt close")
            << true << QByteArray("\xe8\x03\x00\x00\x03SELECT", 11) << false;
        QTest::newRow("empty command packet after login") << true << framed("", 0) << true;
    }

    // Whatever the bytes, the server never answers OK to them, closes the connection once the
    // client is done, and goes on serving others.
    void malformedInput() {
        QFETCH(bool, loginFirst);
        QFETCH(QByteArray, bytes);
        QFETCH(bool, halfClose);
        {
            RawMysqlClient client(m_server.ports.mysql);
            QVERIFY(client.connected());
            if (loginFirst)
                QVERIFY(rawLogin(client));
            else if (!bytes.startsWith("GET"))
                QVERIFY(client.readPacket()); // the greeting
            QVERIFY(client.sendRaw(bytes.toStdString()));
            if (halfClose) {
                client.shutdownWrite();
                auto answer = client.readPacket(5s);
                if (answer && !bytes.startsWith("GET"))
                    QVERIFY2(!answer->isOk(), "malformed input answered with OK");
                QVERIFY2(client.waitClosed(),
                         "the server should close the connection after end of input");
            }
        }
        verifyServerStillServes();
    }

    // A client that asks for a large result and leaves after the first packet.
    void disconnectMidResult() {
        for (int round = 0; round < 3; ++round) {
            RawMysqlClient client(m_server.ports.mysql);
            QVERIFY(rawLogin(client));
            QVERIFY(client.sendCommand(
                kComQuery, "ACTOR type1(raw_big) create; WITH RECURSIVE c(x) AS (SELECT 1 UNION"
                           " ALL SELECT x + 1 FROM c WHERE x < 200000) SELECT x, 'padding text to"
                           " make the rows longer ' || x FROM c"));
            auto first = client.readPacket();
            QVERIFY(first);
            QVERIFY2(!first->isErr(), first->errorMessage().c_str());
        }
        verifyServerStillServes();
    }

    // Many connections that come and go while another keeps working.
    void connectionsComeAndGo() {
        RawMysqlClient steady(m_server.ports.mysql);
        QVERIFY(rawLogin(steady));
        for (int i = 0; i < 50; ++i) {
            RawMysqlClient brief(m_server.ports.mysql);
            QVERIFY(brief.connected());
            if (i % 2 == 0)
                QVERIFY(brief.readPacket());
        }
        QVERIFY(steady.sendCommand(kComPing));
        auto pong = steady.readPacket();
        QVERIFY(pong && pong->isOk());
        verifyServerStillServes();
    }
};

QTEST_GUILESS_MAIN(TestMysql)
#include "tst_mysql.moc"
