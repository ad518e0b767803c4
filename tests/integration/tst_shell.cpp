// The `troupe` shell (issue 6) against real troupe-server processes: a fresh node
// initialised by `troupe -f resources/init.sql` (ActorDB's init-file syntax), requests with -q
// in every print format, scripts from -f and from stdin (one statement per line, commit,
// rollback, use), the password prompt, TLS and the unframed transport, the exit status and
// message of each kind of failure, and the interactive mode through a pseudo-terminal.

#include <QDir>
#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "support/server_process.h"

using troupe::test::Run;
using troupe::test::runProgram;
using troupe::test::ServerProcess;

class TestShell : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_cert, m_key;
    ServerProcess m_server;

    Run troupe(const QStringList& args, const QByteArray& input = {}) {
        return runProgram(TROUPE_SHELL,
                          args + QStringList{QString(":%1").arg(m_server.ports.thrift)}, input);
    }
    Run root(QStringList args, const QByteArray& input = {}) {
        return troupe(QStringList{"-prootpass"} + args, input);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        const QString openssl = QStandardPaths::findExecutable("openssl");
        QVERIFY2(!openssl.isEmpty(), "openssl is missing: install Debian package openssl");
        m_cert = m_tmp.path() + "/cert.pem";
        m_key = m_tmp.path() + "/key.pem";
        Run made =
            runProgram(openssl, {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", m_key,
                                 "-out", m_cert, "-days", "2", "-subj", "/CN=127.0.0.1"});
        QVERIFY2(made.exitCode == 0, qPrintable(made.describe()));
        std::string error =
            m_server.start(m_tmp.path(), {"--tls-cert", m_cert, "--tls-key", m_key});
        QVERIFY2(error.empty(), error.c_str());
        // A fresh node: the shell's init file sets it up (config, then schema sections).
        Run init = root({"-f", TROUPE_SOURCE_DIR "/resources/init.sql"});
        QVERIFY2(init.exitCode == 0, qPrintable(init.describe()));
        Run data = root({"-q", "ACTOR type1(music) create; INSERT INTO tab (txt, i) VALUES "
                               "('hello, \"you\"', 1), ('second', NULL)"});
        QVERIFY2(data.exitCode == 0, qPrintable(data.describe()));
        QCOMPARE(data.out, QString("OK, 2 rows changed, last insert rowid 2\n"));
    }

    void cleanupTestCase() {
        std::string error = m_server.stop();
        QVERIFY2(error.empty(), error.c_str());
    }

    void printFormats_data() {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("expected");
        QTest::newRow("table") << "table"
                               << "+----+--------------+------+\n"
                                  "| id | txt          | i    |\n"
                                  "+----+--------------+------+\n"
                                  "|  1 | hello, \"you\" |    1 |\n"
                                  "|  2 | second       | NULL |\n"
                                  "+----+--------------+------+\n"
                                  "2 rows\n";
        QTest::newRow("csv") << "csv"
                             << "1,\"hello, \"\"you\"\"\",1\r\n2,second,\r\n";
        QTest::newRow("csvh") << "csvh"
                              << "id,txt,i\r\n1,\"hello, \"\"you\"\"\",1\r\n2,second,\r\n";
        QTest::newRow("json") << "json"
                              << "[{\"id\":1,\"txt\":\"hello, \\\"you\\\"\",\"i\":1},"
                                 "{\"id\":2,\"txt\":\"second\",\"i\":null}]\n";
    }
    void printFormats() {
        QFETCH(QString, format);
        QFETCH(QString, expected);
        Run q =
            root({"--print", format, "-q", "ACTOR type1(music); SELECT * FROM tab ORDER BY id"});
        QVERIFY2(q.exitCode == 0, qPrintable(q.describe()));
        QCOMPARE(q.out, expected);
        // The same through a script file.
        const QString path = m_tmp.path() + "/select-" + format + ".sql";
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("-- ActorDB style: one statement per line\nactor type1(music)\n"
                "select * from tab order by id\ncommit\n");
        f.close();
        Run script = root({"--print", format, "-f", path});
        QVERIFY2(script.exitCode == 0, qPrintable(script.describe()));
        QCOMPARE(script.out, expected);
    }

    void scriptFromStdin() {
        Run r = root({"--print", "csv"}, "actor type1(piped) create\n"
                                         "insert into tab (txt) values ('a')\n"
                                         "rollback\n"
                                         "actor type1(piped) create\n"
                                         "insert into tab (txt) values ('b')\n"
                                         "insert into tab (txt)\n"
                                         "  values ('c')\n"
                                         "c\n"
                                         "use schema\n"
                                         "actor extra\n"
                                         "create table e (id integer primary key)\n"
                                         "commit\n"
                                         "use actordb\n"
                                         "actor type1(piped)\n"
                                         "select group_concat(txt) from tab\n");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.endsWith("\"b,c\"\r\n"), qPrintable(r.describe()));
        Run types = root({"--use", "actordb", "--print", "csv", "-q", "SHOW schema"});
        QVERIFY2(types.exitCode == 0, qPrintable(types.describe()));
        QVERIFY2(types.out.contains("extra"), qPrintable(types.describe()));
    }

    // The admin commands (shell/admin_commands.h) over the admin calls of the Thrift API.
    void adminCommands() {
        Run cluster = root({"--print", "csv", "-q", "show cluster"});
        QVERIFY2(cluster.exitCode == 0, qPrintable(cluster.describe()));
        QVERIFY2(cluster.out.startsWith("node,node1@127.0.0.1\r\nversion,"),
                 qPrintable(cluster.describe()));
        QVERIFY2(cluster.out.contains(QString("thrift_port,%1\r\n").arg(m_server.ports.thrift)),
                 qPrintable(cluster.describe()));
        QVERIFY2(cluster.out.contains("node1@127.0.0.1,grp1,cluster\r\n"),
                 qPrintable(cluster.describe()));
        QVERIFY2(cluster.out.contains(",node1@127.0.0.1,node1@127.0.0.1,leader\r\n"),
                 qPrintable(cluster.describe()));

        QVERIFY(root({"-q", "ACTOR type1(musicbox) create; INSERT INTO tab (txt) VALUES ('x');"
                            "ACTOR type1(zebra) create; INSERT INTO tab (txt) VALUES ('x')"})
                    .exitCode == 0);
        Run actors = root({"--print", "csvh", "-q", "show actors type1 like 'music%'"});
        QVERIFY2(actors.exitCode == 0, qPrintable(actors.describe()));
        QCOMPARE(actors.out, QString("actor\r\nmusic\r\nmusicbox\r\n"));

        Run actor = root({"--print", "json", "-q", "show actor type1(music)"});
        QVERIFY2(actor.exitCode == 0, qPrintable(actor.describe()));
        QVERIFY2(actor.out.startsWith("[{\"type\":\"type1\",\"actor\":\"music\",\"pages\":"),
                 qPrintable(actor.describe()));
        QVERIFY2(actor.out.contains("\"schema_version\":3,\"type_schema_version\":3"),
                 qPrintable(actor.describe()));

        Run history = root({"--print", "csv", "-q", "show schema history type1"});
        QVERIFY2(history.exitCode == 0, qPrintable(history.describe()));
        QVERIFY2(history.out.startsWith(
                     "type1,actor,1,\"CREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT)\"\r\n"),
                 qPrintable(history.describe()));
        QVERIFY2(history.out.contains("type1,actor,2,ALTER TABLE tab ADD i INTEGER\r\n"),
                 qPrintable(history.describe()));

        Run metrics = root({"--print", "csv", "-q", "show metrics like 'troupe_up%'"});
        QVERIFY2(metrics.exitCode == 0, qPrintable(metrics.describe()));
        QCOMPARE(metrics.out, QString("troupe_up,1\r\n"));

        // In a script an admin command runs at once and leaves the buffer alone.
        Run script = root({"--print", "csv"}, "actor type1(scripted) create\n"
                                              "insert into tab (txt) values ('s')\n"
                                              "show actors type1 like 'scr%'\n"
                                              "commit\n"
                                              "show actors type1 like 'scr%'\n");
        QVERIFY2(script.exitCode == 0, qPrintable(script.describe()));
        QCOMPARE(script.out, QString("1,1\r\nscripted\r\n"));

        Run unknown = root({"-q", "show actors nosuch"});
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY2(unknown.err.contains("ERROR invalid_type"), qPrintable(unknown.describe()));
        Run missing = root({"-q", "show actor type1(nobody)"});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.contains("ERROR no_create"), qPrintable(missing.describe()));
        Run usage = root({"-q", "show actor type1"});
        QCOMPARE(usage.exitCode, 1);
        QVERIFY2(usage.err.contains("usage: show actor <type>(<name>)"),
                 qPrintable(usage.describe()));
    }

    // What quickstart.sh does on a fresh node: the probe `show cluster` says not_initialized,
    // `troupe -f resources/init.sql` initialises it, and the probe then answers.
    void quickstartInitialisation() {
        const QString dir = m_tmp.path() + "/quick";
        QDir().mkpath(dir);
        ServerProcess fresh;
        std::string error = fresh.start(dir, {});
        QVERIFY2(error.empty(), error.c_str());
        const QString where = QString("127.0.0.1:%1").arg(fresh.ports.thrift);
        Run probe =
            runProgram(TROUPE_SHELL, {"-u", "root", "-prootpass", "-q", "show cluster", where});
        QCOMPARE(probe.exitCode, 1);
        QVERIFY2(probe.err.contains("not_initialized"), qPrintable(probe.describe()));
        Run init = runProgram(TROUPE_SHELL,
                              {"-u", "root", "-f", TROUPE_SOURCE_DIR "/resources/init.sql", where});
        QVERIFY2(init.exitCode == 0, qPrintable(init.describe()));
        Run again = runProgram(TROUPE_SHELL, {"-u", "root", "-prootpass", "--print", "csv", "-q",
                                              "show cluster", where});
        QVERIFY2(again.exitCode == 0 && again.err.isEmpty(), qPrintable(again.describe()));
        QVERIFY2(again.out.startsWith("node,node1@127.0.0.1\r\n"), qPrintable(again.describe()));
        // The connection line quickstart prints works: the shell writes and reads a row.
        Run row = runProgram(TROUPE_SHELL,
                             {"-prootpass", "--print", "csv", "-q",
                              "ACTOR type1(music) create; INSERT INTO tab (txt) VALUES ('hello');"
                              "SELECT txt FROM tab",
                              where});
        QVERIFY2(row.exitCode == 0 && row.out == "hello\r\n", qPrintable(row.describe()));
        error = fresh.stop();
        QVERIFY2(error.empty(), error.c_str());
    }

    void passwordPrompt() {
        Run r =
            troupe({"-p", "--print", "csv", "-q", "ACTOR type1(music); SELECT count(*) FROM tab"},
                   "rootpass\n");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QString("2\r\n"));
        QVERIFY(r.err.contains("Password:"));
    }

    void tlsAndUnframed_data() {
        QTest::addColumn<QStringList>("flags");
        QTest::newRow("tls") << QStringList{"--tls"};
        QTest::newRow("tls checking the certificate") << QStringList{"--tls-ca", m_cert};
        QTest::newRow("unframed") << QStringList{"--unframed"};
        QTest::newRow("unframed over tls") << QStringList{"--unframed", "--tls"};
    }
    void tlsAndUnframed() {
        QFETCH(QStringList, flags);
        Run r = root(flags + QStringList{"--print", "csv", "-q",
                                         "ACTOR type1(music); SELECT txt FROM tab WHERE id = 2"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QString("second\r\n"));
    }

    void failures_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        QTest::newRow("wrong password") << QStringList{"-pnope", "-q", "SELECT 1"} << QByteArray()
                                        << 1 << "login as 'root' failed";
        QTest::newRow("sql error")
            << QStringList{"-prootpass", "-q", "ACTOR type1(music); SELEKT 1"} << QByteArray() << 1
            << "ERROR sql_error";
        QTest::newRow("no create") << QStringList{"-prootpass", "-q", "ACTOR type1(nope); SELECT 1"}
                                   << QByteArray() << 1 << "ERROR no_create";
        QTest::newRow("script stops at the first error")
            << QStringList{"-prootpass"}
            << QByteArray("actor nosuch(a) create\nselect 1\ncommit\nactor type1(x) create\n"
                          "insert into tab (txt) values ('never')\n")
            << 1 << "ERROR invalid_type";
        QTest::newRow("bad --print")
            << QStringList{"-prootpass", "--print", "xml", "-q", "SELECT 1"} << QByteArray() << 2
            << "--print takes";
        QTest::newRow("missing file") << QStringList{"-prootpass", "-f", "/nonexistent/x.sql"}
                                      << QByteArray() << 1 << "cannot read";
    }
    void failures() {
        QFETCH(QStringList, args);
        QFETCH(QByteArray, input);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        Run r = troupe(args, input);
        QCOMPARE(r.exitCode, exitCode);
        QVERIFY2(r.err.contains(message), qPrintable(r.describe()));
    }

    // The interactive mode through a pseudo-terminal (Python's pty module): buffering, commit,
    // rollback, use, help, quit, history.
    void interactiveThroughPty() {
        const QString home = m_tmp.path() + "/home";
        QDir().mkpath(home);
        Run r = runProgram("/usr/bin/python3",
                           {TROUPE_SOURCE_DIR "/tests/integration/shell/interactive.py",
                            TROUPE_SHELL, QString::number(m_server.ports.thrift), home});
        QVERIFY2(r.exitCode == 0 && r.out.contains("INTERACTIVE OK"), qPrintable(r.describe()));
    }

    void serverDown() {
        Run r = runProgram(TROUPE_SHELL, {"-prootpass", "-q", "SELECT 1", "127.0.0.1:1"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("cannot connect to 127.0.0.1:1"), qPrintable(r.describe()));
    }
};

QTEST_APPLESS_MAIN(TestShell)
#include "tst_shell.moc"
