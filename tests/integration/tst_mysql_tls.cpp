// TLS and authentication of the MySQL protocol server (issue 4), against real troupe-server
// processes on loopback with a self-signed certificate made by `openssl req` for this run:
// - server A offers caching_sha2_password, has TLS, a 1.5 s idle timeout and keeps 64 KiB of
//   rows per result in memory (the rest streams from a temporary file);
// - server B requires TLS (require_secure_transport).
// Clients: the `mariadb` command-line client (libmariadb), pymysql under /usr/bin/python3, and a
// raw socket client for a broken TLS handshake. Users come from a test init file: root and app,
// and app logs in only in cachingSha2FirstLoginNeedsTls (the fast-path cache is per server
// process, so that test sees app's first login). Every wait is bounded.

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <thread>

#include "support/server_process.h"

using troupe::test::RawMysqlClient;
using troupe::test::Run;
using troupe::test::runProgram;
using troupe::test::ServerProcess;

namespace {

constexpr const char* kInit = "USE config\n"
                              "INSERT INTO groups VALUES ('grp1','cluster')\n"
                              "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')\n"
                              "CREATE USER 'root' IDENTIFIED BY 'rootpass'\n"
                              "CREATE USER 'app' IDENTIFIED BY 'app-secret'\n"
                              "COMMIT\n"
                              "USE schema\n"
                              "ACTOR notes\n"
                              "CREATE TABLE note (id INTEGER PRIMARY KEY, txt TEXT)\n"
                              "COMMIT\n";

// pymysql over TLS (no certificate check: the certificate is self-signed), offered
// caching_sha2_password by the server: full authentication sends the password inside TLS.
constexpr const char* kPymysqlTls = R"py(
import ssl, sys, pymysql
conn = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="root",
                       password="rootpass", ssl={"check_hostname": False,
                                                 "verify_mode": ssl.CERT_NONE})
print("tls" if isinstance(conn._sock, ssl.SSLSocket) else "plain")
cur = conn.cursor()
cur.execute("ACTOR notes(py) create; INSERT INTO note (txt) VALUES ('over tls')")
cur.execute("ACTOR notes(py); SELECT txt FROM note")
print(cur.fetchall()[0][0])
conn.close()
)py";

// The SSLRequest and the TLS ClientHello in ONE write, as clients that do not wait for the
// server (pymysql) often produce; then the TLS handshake must complete. Standard library only.
constexpr const char* kHelloWithSslRequest = R"py(
import socket, ssl, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
def recv_exactly(n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise SystemExit("closed by the server")
        data += chunk
    return data
header = recv_exactly(4)
recv_exactly(header[0] | header[1] << 8 | header[2] << 16)  # the server's greeting
caps = (1 << 9) | (1 << 11) | (1 << 15) | (1 << 19)  # protocol 4.1, SSL, secure conn, plugin
request = struct.pack("<IIB23x", caps, 1 << 24, 45)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(incoming, outgoing)
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
s.sendall(struct.pack("<I", len(request))[:3] + b"\x01" + request + outgoing.read())
while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        s.sendall(outgoing.read())
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("closed by the server during the TLS handshake")
        incoming.write(chunk)
s.sendall(outgoing.read())
print("handshake", tls.version())
)py";

} // namespace

#define TROUPE_REQUIRE_MARIADB()                                                                   \
    if (m_mariadb.isEmpty())                                                                       \
    QSKIP("the mariadb client is missing: install Debian package mariadb-client")

class TestMysqlTls : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_mariadb;
    QString m_cert, m_key;
    ServerProcess m_a; // TLS, caching_sha2_password offered, idle timeout 1.5 s
    ServerProcess m_b; // TLS required

    Run mariadb(const ServerProcess& server, const QStringList& extra, const QString& sql,
                const QString& user = "root", const QString& password = "rootpass",
                const QByteArray& input = {}) {
        QStringList args{"--no-defaults",
                         "-h",
                         "127.0.0.1",
                         "-P",
                         QString::number(server.ports.mysql),
                         "-u",
                         user,
                         "--password=" + password,
                         "--connect-timeout=10",
                         "--batch",
                         "--raw"};
        args += extra;
        if (!sql.isEmpty())
            args << "-e" << sql;
        return runProgram(m_mariadb, args, input);
    }

    std::string startServer(ServerProcess& server, const QString& name, QStringList flags) {
        const QString dir = m_tmp.path() + "/" + name;
        QDir().mkpath(dir);
        flags << "--init" << m_tmp.path() + "/init.sql"
              << "--tls-cert" << m_cert << "--tls-key" << m_key;
        return server.start(dir, flags);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        m_mariadb = QStandardPaths::findExecutable("mariadb");
        const QString openssl = QStandardPaths::findExecutable("openssl");
        QVERIFY2(!openssl.isEmpty(), "openssl is missing: install Debian package openssl");
        m_cert = m_tmp.path() + "/cert.pem";
        m_key = m_tmp.path() + "/key.pem";
        Run made =
            runProgram(openssl, {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", m_key,
                                 "-out", m_cert, "-days", "2", "-subj", "/CN=127.0.0.1"});
        QVERIFY2(made.exitCode == 0, qPrintable(made.describe()));
        QFile init(m_tmp.path() + "/init.sql");
        QVERIFY(init.open(QIODevice::WriteOnly));
        init.write(kInit);
        init.close();
        std::string error =
            startServer(m_a, "a",
                        {"--mysql-auth-plugin", "caching_sha2_password", "--mysql-idle-timeout",
                         "1500ms", "--mysql-result-memory", "64KiB"});
        QVERIFY2(error.empty(), error.c_str());
        error = startServer(m_b, "b", {"--mysql-require-secure-transport", "true"});
        QVERIFY2(error.empty(), error.c_str());
    }

    void cleanupTestCase() {
        std::string a = m_a.stop();
        std::string b = m_b.stop();
        QVERIFY2(a.empty(), a.c_str());
        QVERIFY2(b.empty(), b.c_str());
    }

    // The client's own report of the connection names the cipher; SQL works over it.
    void tlsSessionWithMariadb() {
        TROUPE_REQUIRE_MARIADB();
        Run r = mariadb(m_a, {"--ssl"}, "status");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.contains(QRegularExpression("Cipher in use is TLS")), qPrintable(r.out));
        r = mariadb(m_a, {"--ssl", "-N", "--delimiter=//"},
                    "ACTOR notes(cli) create; INSERT INTO note (txt) VALUES ('secret');"
                    " SELECT txt FROM note//");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QString("secret\n"));
    }

    // Full authentication needs the password, which only travels inside TLS; after one TLS
    // login the fast path (scramble against the cached SHA256(SHA256(pw))) works without TLS.
    void cachingSha2FirstLoginNeedsTls() {
        TROUPE_REQUIRE_MARIADB();
        const QStringList sha2{"--default-auth=caching_sha2_password"};
        Run r = mariadb(m_a, QStringList{"--skip-ssl"} + sha2, "SELECT 1", "app", "app-secret");
        QVERIFY2(r.exitCode != 0, qPrintable(r.describe()));
        QVERIFY2(m_a.log().find("access denied for user 'app': caching_sha2_password needs TLS") !=
                     std::string::npos,
                 m_a.log().c_str());

        r = mariadb(m_a, QStringList{"--ssl"} + sha2, "SELECT 1", "app", "wrong");
        QVERIFY2(r.exitCode != 0, qPrintable(r.describe()));
        QVERIFY2(r.err.contains("ERROR 1045 (28000)"), qPrintable(r.describe()));

        r = mariadb(m_a, QStringList{"--ssl", "-N"} + sha2, "SELECT USER()", "app", "app-secret");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QString("app@%\n"));

        r = mariadb(m_a, QStringList{"--skip-ssl", "-N"} + sha2, "SELECT USER()", "app",
                    "app-secret");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QString("app@%\n"));

        // A wrong password misses the fast path and cannot do full authentication without TLS.
        r = mariadb(m_a, QStringList{"--skip-ssl"} + sha2, "SELECT 1", "app", "app-secreT");
        QVERIFY2(r.exitCode != 0, qPrintable(r.describe()));
    }

    // A client that answers with mysql_native_password is accepted although the server offered
    // caching_sha2_password, with or without TLS.
    void nativePasswordStillAccepted() {
        TROUPE_REQUIRE_MARIADB();
        for (const char* tls : {"--skip-ssl", "--ssl"}) {
            Run r =
                mariadb(m_a, {tls, "--default-auth=mysql_native_password", "-N"}, "SELECT USER()");
            QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
            QCOMPARE(r.out, QString("root@%\n"));
            r = mariadb(m_a, {tls, "--default-auth=mysql_native_password"}, "SELECT 1", "root",
                        "nope");
            QVERIFY2(r.err.contains("ERROR 1045 (28000)"), qPrintable(r.describe()));
        }
    }

    void pymysqlOverTls() {
        if (!QFileInfo::exists("/usr/bin/python3"))
            QSKIP("/usr/bin/python3 is missing: install Debian package python3-pymysql");
        Run r =
            runProgram("/usr/bin/python3", {"-c", kPymysqlTls, QString::number(m_a.ports.mysql)});
        if (r.err.contains("No module named 'pymysql'"))
            QSKIP("pymysql is missing: install Debian package python3-pymysql");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QString("tls\nover tls\n"));
    }

    // Regression: the server refused a ClientHello that arrived in the same read as the
    // SSLRequest ("data after the SSLRequest") and answered in plain text, which pymysql reported
    // as "SSL: WRONG_VERSION_NUMBER" in most runs.
    void clientHelloInTheSameWriteAsTheSslRequest() {
        if (!QFileInfo::exists("/usr/bin/python3"))
            QSKIP("/usr/bin/python3 is missing");
        Run r = runProgram("/usr/bin/python3",
                           {"-c", kHelloWithSslRequest, QString::number(m_a.ports.mysql)});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.startsWith("handshake TLSv1."), qPrintable(r.describe()));
    }

    void requireSecureTransport() {
        TROUPE_REQUIRE_MARIADB();
        Run r = mariadb(m_b, {"--skip-ssl"}, "SELECT 1");
        QVERIFY2(r.exitCode != 0, qPrintable(r.describe()));
        QVERIFY2(r.err.contains("ERROR 3159") &&
                     r.err.contains("insecure transport are prohibited"),
                 qPrintable(r.describe()));
        r = mariadb(m_b, {"--ssl", "-N"}, "SELECT USER()");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QString("root@%\n"));
    }

    // A session quiet for longer than idle_timeout is closed with error 4031; the client sees
    // it at its next statement.
    void idleConnectionIsClosed() {
        TROUPE_REQUIRE_MARIADB();
        QProcess client;
        client.start(m_mariadb,
                     {"--no-defaults", "-h", "127.0.0.1", "-P", QString::number(m_a.ports.mysql),
                      "-u", "root", "--password=rootpass", "--skip-ssl", "--batch", "-N", "-n"});
        QVERIFY(client.waitForStarted(10000));
        client.write("SELECT 5;\n");
        QVERIFY(client.waitForReadyRead(10000));
        QCOMPARE(client.readAllStandardOutput(), QByteArray("5\n"));
        std::this_thread::sleep_for(std::chrono::milliseconds(3500));
        client.write("SELECT 6;\n");
        client.closeWriteChannel();
        QVERIFY(client.waitForFinished(10000));
        const QString err = QString::fromUtf8(client.readAllStandardError());
        QVERIFY2(client.exitCode() != 0, qPrintable(err));
        QVERIFY2(err.contains("4031") || err.contains("Lost connection") ||
                     err.contains("gone away"),
                 qPrintable(err));
        QVERIFY2(m_a.log().find("ms without a command") != std::string::npos, m_a.log().c_str());
    }

    // An SSLRequest followed by bytes that are no TLS ClientHello (sent after a pause, or at
    // once, before the TLS handshake could start): that connection is logged and closed; the
    // server keeps serving.
    void brokenTlsHandshake_data() {
        QTest::addColumn<int>("pauseMs");
        QTest::addColumn<QString>("logged");
        QTest::newRow("garbage instead of a ClientHello") << 300 << "TLS handshake failed";
        QTest::newRow("garbage right after the SSLRequest")
            << 0 << "TLS handshake failed"; // the bytes go to TLS, which refuses them
    }
    void brokenTlsHandshake() {
        QFETCH(int, pauseMs);
        QFETCH(QString, logged);
        RawMysqlClient raw(m_a.ports.mysql);
        QVERIFY(raw.connected());
        auto greeting = raw.readPacket();
        QVERIFY(greeting && !greeting->payload.empty());
        std::string sslRequest;
        const std::uint32_t caps = (1u << 9) | (1u << 11) | (1u << 15) | (1u << 19); // 4.1, SSL
        for (int i = 0; i < 4; ++i)
            sslRequest += char((caps >> (8 * i)) & 0xff);
        sslRequest += std::string("\x00\x00\x00\x01", 4); // max packet
        sslRequest += char(45);                           // utf8mb4
        sslRequest += std::string(23, '\0');
        const std::string garbage(64, 'x');
        if (pauseMs > 0) {
            QVERIFY(raw.sendPacket(sslRequest, 1));
            std::this_thread::sleep_for(std::chrono::milliseconds(pauseMs));
            QVERIFY(raw.sendRaw(garbage));
        } else {
            QVERIFY(raw.sendRaw(RawMysqlClient::frame(sslRequest, 1) + garbage));
        }
        QVERIFY(raw.waitClosed());
        const std::string needle = logged.toStdString();
        QElapsedTimer waited;
        waited.start();
        while (m_a.log().find(needle) == std::string::npos && waited.elapsed() < 5000)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        QVERIFY2(m_a.log().find(needle) != std::string::npos, m_a.log().c_str());
        TROUPE_REQUIRE_MARIADB();
        Run r = mariadb(m_a, {"--ssl", "-N"}, "SELECT 7");
        QVERIFY2(r.exitCode == 0 && r.out == "7\n", qPrintable(r.describe()));
    }

    // 20,000 rows of 100 bytes (about 2 MiB on the wire) with 64 KiB of rows in memory: the rest
    // goes through a temporary file in <data_dir>/tmp, and the result arrives whole and in
    // order, over TLS; the file is gone afterwards.
    void largeResultStreamsFromATemporaryFile() {
        TROUPE_REQUIRE_MARIADB();
        Run r = mariadb(m_a, {"--ssl", "--delimiter=//"},
                        "ACTOR notes(big) create; WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
                        "SELECT x + 1 FROM c WHERE x < 20000) INSERT INTO note (id, txt) "
                        "SELECT x, printf('%0100d', x) FROM c//");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        r = mariadb(m_a, {"--ssl", "-N", "-D", "notes.big"},
                    "SELECT id, txt FROM note ORDER BY id");
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QStringList lines = r.out.split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 20000);
        for (int i : {0, 1, 4999, 19999})
            QCOMPARE(lines[i], QString("%1\t%2").arg(i + 1).arg(i + 1, 100, 10, QChar('0')));
        const QDir spillDir(m_tmp.path() + "/a/data/tmp");
        QVERIFY2(spillDir.exists(), "no spill directory: the rows were not spilled");
        QCOMPARE(spillDir.entryList(QDir::Files | QDir::NoDotAndDotDot).size(), 0);
    }

    // A certificate that cannot be read stops the server at start with a message naming it.
    void unreadableCertificateStopsTheServer() {
        ServerProcess bad;
        const QString dir = m_tmp.path() + "/bad";
        QDir().mkpath(dir);
        std::string error = bad.start(dir, {"--tls-cert", dir + "/missing.pem", "--tls-key", m_key,
                                            "--init", m_tmp.path() + "/init.sql"});
        QVERIFY2(!error.empty(), "the server started without its certificate");
        QVERIFY2(bad.log().find("cannot load TLS certificate " + dir.toStdString() +
                                "/missing.pem") != std::string::npos,
                 bad.log().c_str());
    }
};

QTEST_GUILESS_MAIN(TestMysqlTls)
#include "tst_mysql_tls.moc"
