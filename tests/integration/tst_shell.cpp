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
