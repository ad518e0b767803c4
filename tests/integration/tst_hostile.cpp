// The hostile suite (issue 13, CTest label `hostile`): a real troupe-server on loopback with
// short limits, attacked by tests/integration/hostile/hostile.py as a user granted only `read`
// — the SQLite features that crashed the server, NUL bytes, endless statements and clients
// that leave, a request over too many actors, an oversized packet, idle and dribbling
// connections, repeated failed logins. The script checks each attack gets a clear error within
// a bound and that another client is still served after it; this test then checks the server
// is still ready and stops on SIGTERM with exit code 0 (ServerProcess::stop). Each attack also
// has its own regression test next to the code that defends against it (security.md).

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "support/server_process.h"

using troupe::test::HttpTestClient;
using troupe::test::Run;
using troupe::test::runProgram;
using troupe::test::ServerProcess;

namespace {

constexpr const char* kInit = "USE config\n"
                              "INSERT INTO groups VALUES ('grp1','cluster')\n"
                              "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')\n"
                              "CREATE USER 'root' IDENTIFIED BY 'rootpass'\n"
                              "CREATE USER 'reader' IDENTIFIED BY 'readpass'\n"
                              "GRANT read ON type1 TO 'reader'\n"
                              "COMMIT\n"
                              "USE schema\n"
                              "ACTOR type1\n"
                              "CREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT)\n"
                              "COMMIT\n";

// What the attacks read: three rows in type1(hostile_ok), an fts4 table in type1(hostile_fts),
// and the actors the endless statements run in (a reader cannot create them).
constexpr const char* kSetup =
    "ACTOR type1(hostile_ok) create; INSERT INTO tab (txt) VALUES ('a'), ('b'), ('c');"
    "ACTOR type1(hostile_fts) create; CREATE VIRTUAL TABLE ft USING fts4(x);"
    "INSERT INTO ft (x) VALUES ('hello world');"
    "ACTOR type1(hostile_loop0) create; INSERT INTO tab (txt) VALUES ('x');"
    "ACTOR type1(hostile_loop1) create; INSERT INTO tab (txt) VALUES ('x');"
    "ACTOR type1(hostile_loop2) create; INSERT INTO tab (txt) VALUES ('x');";

} // namespace

class TestHostile : public QObject {
    Q_OBJECT

private slots:
    void attacksAsReaderLeaveTheServerServing() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        QFile init(tmp.path() + "/init.sql");
        QVERIFY(init.open(QIODevice::WriteOnly));
        init.write(kInit);
        init.close();

        ServerProcess server;
        const std::string error = server.start(
            tmp.path(), {"--init", init.fileName(), "--executor-threads", "2",
                         "--statement-timeout", "8s", "--max-actors-per-request", "10000",
                         "--max-login-failures", "5", "--handshake-timeout", "5s"});
        QVERIFY2(error.empty(), error.c_str());

        troupe::test::RawMysqlClient root(server.ports.mysql);
        auto login = root.login("root", "rootpass");
        QVERIFY2(login && login->isOk(), login ? login->errorMessage().c_str() : "no answer");
        QVERIFY(root.sendCommand(0x03, kSetup));
        auto setup = root.readPacket();
        QVERIFY2(setup && setup->isOk(), setup ? setup->errorMessage().c_str() : "no answer");

        Run run =
            runProgram("/usr/bin/python3",
                       {QStringLiteral(TROUPE_SOURCE_DIR "/tests/integration/hostile/hostile.py"),
                        "--mysql-port", QString::number(server.ports.mysql), "--http-port",
                        QString::number(server.ports.http), "--reader", "reader:readpass", "--root",
                        "root:rootpass", "--time-limit", "8", "--session-limit", "1.5", "--endless",
                        "6", "--many-actors", "10001", "--login-failures", "5"},
                       {}, 240000);
        qInfo().noquote() << run.out;
        QVERIFY2(run.exitCode == 0, qPrintable(run.describe() + "\nserver log:\n" +
                                               QString::fromStdString(server.log())));

        auto ready = HttpTestClient::get(server.ports.http, "/ready", std::chrono::seconds(5));
        QVERIFY(ready && ready->status == 200);
        const std::string stopped = server.stop();
        QVERIFY2(stopped.empty(), stopped.c_str());
    }
};

QTEST_APPLESS_MAIN(TestHostile)
#include "tst_hostile.moc"
