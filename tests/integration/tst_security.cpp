// Security basics of issue 13 (resources/docs/security.md, "credentials") against real
// troupe-server processes on loopback:
// - the data directory: refused when others may write it, created owner-only with owner-only
//   files (data.mdb, lock.mdb, the lock file, the audit log);
// - a caching_sha2 user: over MySQL (pymysql) only with TLS, over Thrift only with the plain
//   login on TLS; a native user keeps every way;
// - the failed-login back-off: an address blocked after --max-login-failures, others not;
//   FLUSH HOSTS over MySQL and over Thrift unblocks; /metrics counts; the audit log names who;
// - introspection hides the types a user may not use (Thrift actor_types/actor_tables/
//   actor_columns, MySQL SHOW DATABASES and USE).
// A second source address is 127.0.0.2 (pymysql's bind_address; Linux routes all of 127/8 to
// loopback). Every wait is bounded.

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

#include "client/client.h"
#include "support/server_process.h"

using troupe::ErrorCode;
using troupe::client::Client;
using troupe::client::ConnectOptions;
using troupe::test::HttpTestClient;
using troupe::test::Run;
using troupe::test::runProgram;
using troupe::test::ServerProcess;

namespace {

constexpr const char* kInit =
    "USE config\n"
    "INSERT INTO groups VALUES ('grp1','cluster')\n"
    "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')\n"
    "CREATE USER 'root' IDENTIFIED BY 'rootpass'\n"
    "CREATE USER 'reader' IDENTIFIED BY 'readpass'\n"
    "GRANT read ON notes TO 'reader'\n"
    "CREATE USER 'sha' IDENTIFIED WITH caching_sha2_password BY 'sha-secret'\n"
    "GRANT read,write ON notes TO 'sha'\n"
    "COMMIT\n"
    "USE schema\n"
    "ACTOR notes\n"
    "CREATE TABLE note (id INTEGER PRIMARY KEY, txt TEXT)\n"
    "ACTOR other\n"
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)\n"
    "COMMIT\n";

// argv: port user password plain|tls bind-address|- query...; prints each query's rows and
// "ok", or "error <code> <message>".
constexpr const char* kPymysql = R"py(
import ssl, sys, pymysql
port, user, password, mode, bind = sys.argv[1:6]
kw = dict(host="127.0.0.1", port=int(port), user=user, password=password, connect_timeout=10)
if mode == "tls":
    kw["ssl"] = {"check_hostname": False, "verify_mode": ssl.CERT_NONE}
if bind != "-":
    kw["bind_address"] = bind
try:
    conn = pymysql.connect(**kw)
    cur = conn.cursor()
    for q in sys.argv[6:]:
        cur.execute(q)
        print(list(cur.fetchall()))
    print("ok")
except pymysql.err.MySQLError as e:
    print("error", e.args[0], e.args[1])
)py";

int modeOf(const QString& path) {
    struct stat st {};
    if (::stat(path.toLocal8Bit().constData(), &st) != 0)
        return -1;
    return int(st.st_mode & 0777);
}

} // namespace

class TestSecurity : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_cert, m_key;
    ServerProcess m_server; // TLS, max 3 failed logins, 60 s block

    Run pymysql(const QString& user, const QString& password, bool tls,
                const QStringList& queries = {}, const QString& bind = "-") {
        return runProgram("/usr/bin/python3",
                          QStringList{"-c", kPymysql, QString::number(m_server.ports.mysql), user,
                                      password, tls ? "tls" : "plain", bind} +
                              queries);
    }

    ConnectOptions thrift(bool tls) const {
        ConnectOptions o;
        o.port = m_server.ports.thrift;
        o.tls = tls;
        o.callTimeout = std::chrono::seconds(30);
        return o;
    }

    troupe::Status thriftLogin(Client& c, const std::string& user, const std::string& password,
                               bool tls, bool scrambled = false) {
        if (troupe::Status s = c.connect(thrift(tls)); !s)
            return s;
        return scrambled ? c.loginScrambled(user, password) : c.login(user, password);
    }

    std::string metrics() {
        auto r = HttpTestClient::get(m_server.ports.http, "/metrics", std::chrono::seconds(5));
        return r ? r->body : std::string();
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_cert = m_tmp.path() + "/cert.pem";
        m_key = m_tmp.path() + "/key.pem";
        Run made =
            runProgram("openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                                   m_key, "-out", m_cert, "-days", "2", "-subj", "/CN=127.0.0.1"});
        QVERIFY2(made.exitCode == 0, qPrintable(made.describe()));
        QFile init(m_tmp.path() + "/init.sql");
        QVERIFY(init.open(QIODevice::WriteOnly));
        init.write(kInit);
        init.close();
        QDir().mkpath(m_tmp.path() + "/a");
        std::string error =
            m_server.start(m_tmp.path() + "/a",
                           {"--init", m_tmp.path() + "/init.sql", "--tls-cert", m_cert, "--tls-key",
                            m_key, "--max-login-failures", "3", "--login-block-time", "60s"});
        QVERIFY2(error.empty(), error.c_str());
    }

    void cleanupTestCase() {
        const std::string stopped = m_server.stop();
        QVERIFY2(stopped.empty(), stopped.c_str());
    }

    // As PostgreSQL: a data directory others may write is refused, saying what is expected.
    void refusesADataDirectoryOthersMayWrite() {
        const QString dir = m_tmp.path() + "/open";
        QVERIFY(QDir().mkpath(dir + "/data"));
        QCOMPARE(::chmod((dir + "/data").toLocal8Bit().constData(), 0777), 0);
        ServerProcess server;
        const std::string error = server.start(dir, {}, 10000);
        QVERIFY2(error.find("the server exited") != std::string::npos, error.c_str());
        QVERIFY2(error.find("has invalid permissions (0777)") != std::string::npos, error.c_str());
        QVERIFY2(error.find("should be u=rwx (0700) or u=rwx,g=rx (0750)") != std::string::npos,
                 error.c_str());
        const std::string stopped = server.stop();
        QVERIFY2(stopped.find("exited early") != std::string::npos, stopped.c_str()); // exit != 0
        QVERIFY(!QFile::exists(dir + "/data/data.mdb"));
    }

    void dataIsOwnerOnly_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("mode");
        QTest::newRow("data directory") << "data" << 0700;
        QTest::newRow("data.mdb") << "data/data.mdb" << 0600;
        QTest::newRow("lock.mdb") << "data/lock.mdb" << 0600;
        QTest::newRow("troupe.lock") << "data/troupe.lock" << 0600;
        QTest::newRow("audit.log") << "data/audit.log" << 0600;
    }
    void dataIsOwnerOnly() {
        QFETCH(QString, path);
        QFETCH(int, mode);
        QCOMPARE(modeOf(m_tmp.path() + "/a/" + path), mode);
    }

    void cachingSha2UserOverMysqlNeedsTls() {
        Run r = pymysql("sha", "sha-secret", false, {"SELECT 1"});
        QVERIFY2(r.out.startsWith("error 1045"), qPrintable(r.describe()));
        QVERIFY2(r.out.contains("caching_sha2_password needs TLS"), qPrintable(r.describe()));
        r = pymysql("sha", "wrong", true, {"SELECT 1"});
        QVERIFY2(r.out.startsWith("error 1045"), qPrintable(r.describe()));
        r = pymysql("sha", "sha-secret", true,
                    {"ACTOR notes(s) create; INSERT INTO note (txt) VALUES ('sha2')",
                     "ACTOR notes(s); SELECT txt FROM note", "SELECT USER()"});
        QVERIFY2(r.exitCode == 0 && r.out.endsWith("ok\n"), qPrintable(r.describe()));
        QVERIFY2(r.out.contains("[('sha2',)]"), qPrintable(r.out));
        // A native user still logs in without TLS.
        r = pymysql("reader", "readpass", false, {"SELECT 1"});
        QVERIFY2(r.out.endsWith("ok\n"), qPrintable(r.describe()));
    }

    void cachingSha2UserOverThriftNeedsPlainLoginOnTls() {
        Client plain;
        troupe::Status s = thriftLogin(plain, "sha", "sha-secret", false);
        QCOMPARE(s.code(), ErrorCode::NotPermitted);
        QVERIFY2(s.message().find("over TLS") != std::string::npos, s.toString().c_str());
        Client scrambled;
        s = thriftLogin(scrambled, "sha", "sha-secret", true, true);
        QCOMPARE(s.code(), ErrorCode::NotPermitted);
        Client tls;
        s = thriftLogin(tls, "sha", "sha-secret", true);
        QVERIFY2(s, s.toString().c_str());
        auto rows = tls.execSingle("s", "notes", "SELECT count(*) FROM note");
        QVERIFY2(rows, rows.status().toString().c_str());
        Client native; // a native user keeps the scrambled login without TLS
        s = thriftLogin(native, "root", "rootpass", false, true);
        QVERIFY2(s, s.toString().c_str());
    }

    void introspectionHidesTypesTheUserMayNotUse() {
        Client reader;
        troupe::Status s = thriftLogin(reader, "reader", "readpass", false);
        QVERIFY2(s, s.toString().c_str());
        auto types = reader.actorTypes();
        QVERIFY2(types, types.status().toString().c_str());
        QCOMPARE(*types, std::vector<std::string>{"notes"});
        QVERIFY(reader.actorTables("notes"));
        auto other = reader.actorTables("other");
        auto missing = reader.actorTables("no_such_type");
        QCOMPARE(other.status().code(), ErrorCode::NotPermitted);
        QCOMPARE(missing.status().code(), ErrorCode::NotPermitted); // the same: nothing leaks
        QCOMPARE(reader.actorColumns("other", "t").status().code(), ErrorCode::NotPermitted);
        Client root;
        QVERIFY(thriftLogin(root, "root", "rootpass", false));
        QCOMPARE(root.actorTables("no_such_type").status().code(), ErrorCode::InvalidType);
        QCOMPARE(root.actorTypes()->size(), std::size_t(2));

        Run r = pymysql("reader", "readpass", false, {"SHOW DATABASES"});
        QVERIFY2(r.out == "[('notes',)]\nok\n", qPrintable(r.describe()));
        for (const char* type : {"other", "no_such_type"}) {
            r = pymysql("reader", "readpass", false, {QString("USE ") + type});
            QVERIFY2(r.out.startsWith("error 1044 Access denied for user 'reader' to database"),
                     qPrintable(r.describe()));
        }
    }

    // Last: it blocks 127.0.0.1 for a while.
    void loginBackOffThenFlushHosts() {
        const std::string before = metrics();
        for (int i = 0; i < 3; ++i) {
            Client c;
            QCOMPARE(thriftLogin(c, "root", "wrong", false).code(), ErrorCode::NotLoggedIn);
        }
        Client blocked;
        troupe::Status s = thriftLogin(blocked, "root", "rootpass", false);
        QCOMPARE(s.code(), ErrorCode::NotLoggedIn);
        QVERIFY2(s.message().find("host '127.0.0.1' is blocked") != std::string::npos,
                 s.toString().c_str());
        Run r = pymysql("root", "rootpass", false, {"SELECT 1"});
        QVERIFY2(r.out.startsWith("error 1129 host '127.0.0.1' is blocked"),
                 qPrintable(r.describe()));
        const std::string counted = metrics();
        QVERIFY2(counted.find("troupe_login_blocked_sources 1") != std::string::npos,
                 counted.c_str());
        QVERIFY2(counted.find("troupe_login_failures_total") != std::string::npos, counted.c_str());

        // Another address is not blocked; a non-admin may not unblock; an admin may.
        r = pymysql("reader", "readpass", false, {"FLUSH HOSTS"}, "127.0.0.2");
        QVERIFY2(r.out.startsWith("error 1142"), qPrintable(r.describe()));
        r = pymysql("root", "rootpass", false, {"FLUSH HOSTS"}, "127.0.0.2");
        QVERIFY2(r.out.endsWith("ok\n"), qPrintable(r.describe()));
        Client again;
        s = thriftLogin(again, "root", "rootpass", false);
        QVERIFY2(s, s.toString().c_str());

        // The other way round: 127.0.0.2 blocked over MySQL, unblocked by Thrift exec_config.
        for (int i = 0; i < 3; ++i) {
            r = pymysql("root", "wrong", false, {}, "127.0.0.2");
            QVERIFY2(r.out.startsWith("error 1045"), qPrintable(r.describe()));
        }
        r = pymysql("root", "rootpass", false, {}, "127.0.0.2");
        QVERIFY2(r.out.startsWith("error 1129"), qPrintable(r.describe()));
        auto flushed = again.execConfig("FLUSH HOSTS");
        QVERIFY2(flushed, flushed.status().toString().c_str());
        r = pymysql("root", "rootpass", false, {}, "127.0.0.2");
        QVERIFY2(r.out == "ok\n", qPrintable(r.describe()));

        QFile audit(m_tmp.path() + "/a/data/audit.log");
        QVERIFY(audit.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(audit.readAll());
        QVERIFY2(text.contains("\"user\":\"root\",\"peer\":\"127.0.0.2:") &&
                     text.contains("\"action\":\"flush_hosts\""),
                 qPrintable(text));
        QVERIFY2(text.contains("IDENTIFIED WITH caching_sha2_password BY '***'"), qPrintable(text));
        QVERIFY2(!text.contains("sha-secret") && !text.contains("rootpass"), qPrintable(text));
    }
};

QTEST_GUILESS_MAIN(TestSecurity)
#include "tst_security.moc"
