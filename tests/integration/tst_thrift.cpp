// The Thrift API (issue 6) against real troupe-server processes on loopback, through the C++
// client library (shared/client) and a raw socket for malformed input:
// - server A: initialised by a test init file, TLS with a certificate made by `openssl req`;
//   every method on both transports, with and without TLS; login failures; each error code the
//   API can give; bad input that must close only its own connection;
// - server B: not initialised; exec_config before login sets it up over Thrift.
// Every wait is bounded.

#include <QDir>
#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <thread>

#include "client/client.h"
#include "integration/thrift/python_client.h"
#include "support/server_process.h"

using troupe::ErrorCode;
using troupe::client::Blob;
using troupe::client::Client;
using troupe::client::ConnectOptions;
using troupe::client::QueryResult;
using troupe::client::Row;
using troupe::client::Value;
using troupe::test::generatePythonClient;
using troupe::test::Run;
using troupe::test::runDocExample;
using troupe::test::runProgram;
using troupe::test::ServerProcess;
using troupe::test::startQuickstartNode;
using troupe::test::thriftDocPython;

namespace {

constexpr const char* kInit =
    "USE config\n"
    "INSERT INTO groups VALUES ('grp1','cluster')\n"
    "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')\n"
    "CREATE USER 'root' IDENTIFIED BY 'rootpass'\n"
    "CREATE USER 'reader' IDENTIFIED BY 'readpass'\n"
    "GRANT read ON notes TO 'reader'\n"
    "COMMIT\n"
    "USE schema\n"
    "ACTOR notes\n"
    "CREATE TABLE note (id INTEGER PRIMARY KEY, txt TEXT, n REAL, b BLOB)\n"
    "ACTOR other\n"
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)\n"
    "COMMIT\n";

std::string describe(const troupe::Status& s) {
    return s.toString();
}

// A raw TCP connection for bytes no client library would send.
class RawSocket {
public:
    explicit RawSocket(std::uint16_t port) : m_socket(m_io) {
        asio::error_code ec;
        m_socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
        m_ok = !ec;
    }
    bool ok() const { return m_ok; }
    void send(const std::string& bytes) {
        asio::error_code ec;
        asio::write(m_socket, asio::buffer(bytes), ec);
    }
    // The client is done sending (what it sent may be cut short).
    void shutdownSend() {
        asio::error_code ec;
        m_socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    }
    // Everything the server sends until it closes the connection or `ms` pass; `closed` says
    // whether it closed.
    std::string readUntilClosed(int ms, bool& closed) {
        std::string got;
        closed = false;
        m_socket.non_blocking(true);
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < ms) {
            char buffer[4096];
            asio::error_code ec;
            std::size_t n = m_socket.read_some(asio::buffer(buffer), ec);
            if (ec == asio::error::would_block) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
                continue;
            }
            if (ec) {
                closed = true;
                break;
            }
            got.append(buffer, n);
        }
        return got;
    }

private:
    asio::io_context m_io;
    asio::ip::tcp::socket m_socket;
    bool m_ok = false;
};

std::string be32(std::uint32_t v) {
    return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

// A strict binary-protocol CALL of `method` with an empty argument struct.
std::string callMessage(const std::string& method, std::uint32_t seqid) {
    return std::string("\x80\x01\x00\x01", 4) + be32(std::uint32_t(method.size())) + method +
           be32(seqid) + std::string(1, '\0');
}

} // namespace

class TestThrift : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_cert, m_key;
    ServerProcess m_a; // initialised, TLS
    ServerProcess m_b; // not initialised

    ConnectOptions options(const ServerProcess& server, bool framed, bool tls) const {
        ConnectOptions o;
        o.port = server.ports.thrift;
        o.framed = framed;
        o.tls = tls;
        o.callTimeout = std::chrono::seconds(30);
        return o;
    }

    // A client of server A logged in as root.
    bool rootClient(Client& c, bool framed = true, bool tls = false) {
        troupe::Status s = c.connect(options(m_a, framed, tls));
        if (s)
            s = c.login("root", "rootpass");
        if (!s)
            qWarning("%s", describe(s).c_str());
        return s.isOk();
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
        QFile init(m_tmp.path() + "/init.sql");
        QVERIFY(init.open(QIODevice::WriteOnly));
        init.write(kInit);
        init.close();
        QDir().mkpath(m_tmp.path() + "/a");
        QDir().mkpath(m_tmp.path() + "/b");
        std::string error =
            m_a.start(m_tmp.path() + "/a", {"--init", m_tmp.path() + "/init.sql", "--tls-cert",
                                            m_cert, "--tls-key", m_key});
        QVERIFY2(error.empty(), error.c_str());
        error = m_b.start(m_tmp.path() + "/b", {});
        QVERIFY2(error.empty(), error.c_str());
    }

    void cleanupTestCase() {
        std::string a = m_a.stop();
        std::string b = m_b.stop();
        QVERIFY2(a.empty(), a.c_str());
        QVERIFY2(b.empty(), b.c_str());
    }

    // Every method of the service, on each transport, with and without TLS.
    void everyMethod_data() {
        QTest::addColumn<bool>("framed");
        QTest::addColumn<bool>("tls");
        QTest::newRow("framed") << true << false;
        QTest::newRow("unframed") << false << false;
        QTest::newRow("framed over TLS") << true << true;
        QTest::newRow("unframed over TLS") << false << true;
    }
    void everyMethod() {
        QFETCH(bool, framed);
        QFETCH(bool, tls);
        const std::string actor =
            std::string(framed ? "f" : "u") + (tls ? "t" : "p"); // one actor per row
        Client c;
        QVERIFY2(c.connect(options(m_a, framed, tls)).isOk(), "connect");
        auto version = c.protocolVersion();
        QVERIFY2(version.isOk(), describe(version.status()).c_str());
        QCOMPARE(*version, std::string("1.4.0"));
        troupe::Status s = c.loginScrambled("root", "rootpass");
        QVERIFY2(s.isOk(), describe(s).c_str());

        auto w = c.execSingle(actor, "notes", "INSERT INTO note (txt, n) VALUES ('one', 1.5)",
                              {"create"});
        QVERIFY2(w.isOk(), describe(w.status()).c_str());
        QVERIFY(!w->isRead);
        QCOMPARE(w->rowsChanged, std::int64_t(1));
        QCOMPARE(w->lastChangeRowid, std::int64_t(1));

        // Two rows of parameters: the insert runs twice in one transaction.
        auto p =
            c.execSingle(actor, "notes", "INSERT INTO note (txt, n, b) VALUES (?1, ?2, ?3)", {},
                         {Row{std::string("two"), 2.0, Blob{std::string("\0\1", 2)}},
                          Row{std::string("three"), std::int64_t(3), Value{}}});
        QVERIFY2(p.isOk(), describe(p.status()).c_str());
        QCOMPARE(p->rowsChanged, std::int64_t(2));
        QCOMPARE(p->lastChangeRowid, std::int64_t(3));

        auto r = c.execSingle(actor, "notes", "SELECT id, txt, n, b FROM note ORDER BY id");
        QVERIFY2(r.isOk(), describe(r.status()).c_str());
        QVERIFY(r->isRead);
        QCOMPARE(r->columns, (std::vector<std::string>{"id", "txt", "n", "b"}));
        QCOMPARE(r->rows.size(), std::size_t(3));
        QCOMPARE(r->rows[0][1], Value(std::string("one")));
        QCOMPARE(r->rows[0][2], Value(1.5));
        QCOMPARE(r->rows[1][3], Value(Blob{std::string("\0\1", 2)}));
        QCOMPARE(r->rows[2][2], Value(3.0)); // an INTEGER parameter in a REAL column
        QCOMPARE(r->rows[2][3], Value{});

        // A read that finds nothing still names its columns.
        auto none = c.execSingle(actor, "notes", "SELECT id FROM note WHERE id < 0");
        QVERIFY2(none.isOk(), describe(none.status()).c_str());
        QVERIFY(none->isRead);
        QCOMPARE(none->rows.size(), std::size_t(0));

        // Batch: statement 1 twice, statement 2 once; one result per statement.
        auto b = c.execSingleBatch(
            actor, "notes",
            "INSERT INTO note (txt) VALUES (?1); SELECT count(*) AS c FROM note WHERE txt = ?1", {},
            {{Row{std::string("x")}, Row{std::string("x")}}, {Row{std::string("x")}}});
        QVERIFY2(b.isOk(), describe(b.status()).c_str());
        QCOMPARE(b->batch.size(), std::size_t(2));
        QCOMPARE(b->batch[0].rowsChanged, std::int64_t(2));
        QVERIFY(b->batch[1].isRead);
        QCOMPARE(b->batch[1].rows[0][0], Value(std::int64_t(2)));

        // exec_multi and exec_all with {{RESULT}}.
        const std::string second = actor + "2";
        auto m = c.execMulti({actor, second}, "notes", "INSERT INTO note (txt) VALUES ('multi')",
                             {"create"});
        QVERIFY2(m.isOk(), describe(m.status()).c_str());
        auto all = c.execAll("notes", "{{RESULT}}SELECT count(*) AS c FROM note WHERE txt='multi'");
        QVERIFY2(all.isOk(), describe(all.status()).c_str());
        QVERIFY(all->isRead);
        QVERIFY(std::find(all->columns.begin(), all->columns.end(), "actor") != all->columns.end());
        QVERIFY(all->rows.size() >= 2);

        auto sql = c.execSql("ACTOR notes(" + actor + "); SELECT txt FROM note WHERE id = ?1",
                             {Row{std::int64_t(1)}});
        QVERIFY2(sql.isOk(), describe(sql.status()).c_str());
        QCOMPARE(sql->rows.at(0).at(0), Value(std::string("one")));

        auto types = c.actorTypes();
        QVERIFY2(types.isOk(), describe(types.status()).c_str());
        QCOMPARE(*types, (std::vector<std::string>{"notes", "other"}));
        auto tables = c.actorTables("notes");
        QVERIFY2(tables.isOk(), describe(tables.status()).c_str());
        QCOMPARE(*tables, (std::vector<std::string>{"note"}));
        auto columns = c.actorColumns("notes", "note");
        QVERIFY2(columns.isOk(), describe(columns.status()).c_str());
        QCOMPARE(columns->size(), std::size_t(4));
        QCOMPARE(columns->at(1), (std::pair<std::string, std::string>{"id", "INTEGER"}));
        auto id1 = c.uniqid();
        auto id2 = c.uniqid();
        QVERIFY2(id1.isOk() && id2.isOk(), "uniqid");
        QVERIFY(*id2 != *id1);

        auto schema = c.execSchema("ACTOR other\nCREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY "
                                   "KEY, v TEXT)\n");
        QVERIFY2(schema.isOk(), describe(schema.status()).c_str());
    }

    // Named parameters with several rows of binding values: each row binds them by position
    // (SQLite's numbering: first appearance), once per row, in one transaction.
    void namedParametersSeveralRows() {
        Client c;
        QVERIFY(rootClient(c));
        auto w = c.execSingle("named", "notes",
                              "INSERT INTO note (txt, n) VALUES (:txt, :n); "
                              "UPDATE note SET b = :txt WHERE txt = :txt",
                              {"create"},
                              {Row{std::string("a"), 1.0}, Row{std::string("b"), 2.0},
                               Row{std::string("c"), std::int64_t(3)}});
        QVERIFY2(w.isOk(), describe(w.status()).c_str());
        QCOMPARE(w->rowsChanged, std::int64_t(6));
        auto r = c.execSingle("named", "notes", "SELECT txt, n, b FROM note ORDER BY id");
        QVERIFY2(r.isOk(), describe(r.status()).c_str());
        QCOMPARE(r->rows.size(), std::size_t(3));
        QCOMPARE(r->rows[1], (Row{std::string("b"), 2.0, std::string("b")}));
        QCOMPARE(r->rows[2], (Row{std::string("c"), 3.0, std::string("c")}));
        // exec_sql_param too, with @ and $ names, the same name used twice.
        auto sql = c.execSql(
            "ACTOR notes(named); INSERT INTO note (txt, n) VALUES (@t || $u, "
            "length(@t))",
            {Row{std::string("xy"), std::string("!")}, Row{std::string("z"), std::string("?")}});
        QVERIFY2(sql.isOk(), describe(sql.status()).c_str());
        auto check = c.execSingle("named", "notes", "SELECT txt, n FROM note WHERE id > 3");
        QVERIFY2(check.isOk(), describe(check.status()).c_str());
        QCOMPARE(check->rows.size(), std::size_t(2));
        QCOMPARE(check->rows[0], (Row{std::string("xy!"), 2.0}));
        QCOMPARE(check->rows[1], (Row{std::string("z?"), 1.0}));
    }

    void notLoggedIn() {
        Client c;
        QVERIFY(c.connect(options(m_a, true, false)).isOk());
        auto r = c.execSql("ACTOR notes(x) create; SELECT 1");
        QCOMPARE(r.status().code(), ErrorCode::NotLoggedIn);
        QCOMPARE(c.actorTypes().status().code(), ErrorCode::NotLoggedIn);
        QCOMPARE(c.uniqid().status().code(), ErrorCode::NotLoggedIn);
        QVERIFY(c.connected()); // an error, not a dropped connection
        QVERIFY(c.protocolVersion().isOk());
    }

    void loginFailures_data() {
        QTest::addColumn<QString>("user");
        QTest::addColumn<QString>("password");
        QTest::addColumn<bool>("scrambled");
        QTest::newRow("wrong password") << "root"
                                        << "nope" << false;
        QTest::newRow("wrong password, scrambled") << "root"
                                                   << "nope" << true;
        QTest::newRow("no such user") << "ghost"
                                      << "rootpass" << false;
        QTest::newRow("no such user, scrambled") << "ghost"
                                                 << "rootpass" << true;
        QTest::newRow("empty") << ""
                               << "" << false;
    }
    void loginFailures() {
        QFETCH(QString, user);
        QFETCH(QString, password);
        QFETCH(bool, scrambled);
        Client c;
        QVERIFY(c.connect(options(m_a, true, false)).isOk());
        troupe::Status s = scrambled ? c.loginScrambled(user.toStdString(), password.toStdString())
                                     : c.login(user.toStdString(), password.toStdString());
        QCOMPARE(s.code(), ErrorCode::NotLoggedIn);
        QCOMPARE(c.execSql("ACTOR notes(x); SELECT 1").status().code(), ErrorCode::NotLoggedIn);
        // The right password still works on the same connection.
        QVERIFY(c.login("root", "rootpass").isOk());
        QVERIFY(c.execSql("ACTOR notes(x) create; SELECT 1").isOk());
    }

    void errorCodes() {
        Client c;
        QVERIFY(rootClient(c));
        QCOMPARE(c.execSingle("a", "nosuchtype", "SELECT 1").status().code(),
                 ErrorCode::InvalidType);
        QCOMPARE(c.execSingle("never-created", "notes", "SELECT 1").status().code(),
                 ErrorCode::NoCreate);
        auto bad = c.execSingle("e", "notes", "SELEKT 1", {"create"});
        QCOMPARE(bad.status().code(), ErrorCode::SqlError);
        QVERIFY2(bad.status().message().find("syntax") != std::string::npos,
                 describe(bad.status()).c_str());
        QCOMPARE(c.execSql("ACTOR notes(a b) create; SELECT 1").status().code(),
                 ErrorCode::InvalidActorName);
        QCOMPARE(c.execMulti({"a", ""}, "notes", "SELECT 1").status().code(),
                 ErrorCode::EmptyActorName);
        QCOMPARE(c.execSingle("a", "notes", "SELECT 1", {"bogus"}).status().code(),
                 ErrorCode::SqlError);
        QCOMPARE(c.actorTables("nosuchtype").status().code(), ErrorCode::InvalidType);

        Client reader;
        QVERIFY(reader.connect(options(m_a, false, false)).isOk());
        QVERIFY(reader.login("reader", "readpass").isOk());
        auto denied = reader.execSingle("shared", "notes", "INSERT INTO note (txt) VALUES ('no')",
                                        {"create"});
        QCOMPARE(denied.status().code(), ErrorCode::NotPermitted);
        QCOMPARE(reader.execSchema("ACTOR x\nCREATE TABLE y (id INTEGER)\n").status().code(),
                 ErrorCode::NotPermitted);
    }

    // Server B has no config: only exec_config works, and it initialises the node.
    void initialiseOverThrift() {
        Client c;
        QVERIFY(c.connect(options(m_b, true, false)).isOk());
        QCOMPARE(c.execSql("ACTOR notes(x) create; SELECT 1").status().code(),
                 ErrorCode::NotLoggedIn);
        QVERIFY(c.login("anyone", "anything").isOk()); // nobody to check yet
        QCOMPARE(c.execSql("ACTOR notes(x) create; SELECT 1").status().code(),
                 ErrorCode::NotInitialized);
        auto init = c.execConfig("INSERT INTO groups VALUES ('grp1','cluster');"
                                 "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1');"
                                 "CREATE USER 'root' IDENTIFIED BY 'secret'");
        QVERIFY2(init.isOk(), describe(init.status()).c_str());
        Client root;
        QVERIFY(root.connect(options(m_b, false, false)).isOk());
        QCOMPARE(root.login("root", "wrong").code(), ErrorCode::NotLoggedIn);
        QVERIFY(root.loginScrambled("root", "secret").isOk());
        auto schema = root.execSchema("ACTOR kv1\nCREATE TABLE t (id INTEGER PRIMARY KEY)\n");
        QVERIFY2(schema.isOk(), describe(schema.status()).c_str());
        QVERIFY(root.execSingle("one", "kv1", "INSERT INTO t VALUES (1)", {"create"}).isOk());
    }

    // Bad bytes close their own connection (or get an exception); the server keeps serving.
    void badInput_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<bool>("expectClose");
        QTest::addColumn<bool>("thenHangUp"); // the client stops sending after the bytes
        QTest::newRow("HTTP request")
            << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r\n") << true << false;
        QTest::newRow("frame over the limit")
            << QByteArray::fromStdString(be32(200u << 20) + "xxxx") << true << false;
        QTest::newRow("empty frame") << QByteArray::fromStdString(be32(0)) << true << false;
        QTest::newRow("truncated frame")
            << QByteArray::fromStdString(be32(100) + callMessage("exec_sql", 1).substr(0, 10))
            << true << true;
        QTest::newRow("wrong version bytes")
            << QByteArray::fromStdString(std::string("\x80\x07\x00\x01", 4) + be32(3) + "abc")
            << true << false;
        QTest::newRow("garbage inside a frame")
            << QByteArray::fromStdString(be32(8) + "\x80\x01zzzzzz") << true << false;
        QTest::newRow("huge string length, unframed")
            << QByteArray::fromStdString(std::string("\x80\x01\x00\x01", 4) + be32(0x7ffffff0))
            << true << false;
        QTest::newRow("unknown method, framed")
            << QByteArray::fromStdString(be32(std::uint32_t(callMessage("nosuch", 7).size())) +
                                         callMessage("nosuch", 7))
            << false << false;
        QTest::newRow("unknown method, unframed")
            << QByteArray::fromStdString(callMessage("nosuch", 7)) << false << false;
        QTest::newRow("TLS handshake on a plain connection")
            << QByteArray("\x16\x03\x01\x00\x05hello", 10) << true << false;
    }
    void badInput() {
        QFETCH(QByteArray, bytes);
        QFETCH(bool, expectClose);
        QFETCH(bool, thenHangUp);
        {
            RawSocket raw(m_b.ports.thrift); // server B has no TLS
            QVERIFY(raw.ok());
            raw.send(bytes.toStdString());
            if (thenHangUp)
                raw.shutdownSend();
            bool closed = false;
            const std::string answer = raw.readUntilClosed(expectClose ? 10000 : 1500, closed);
            if (expectClose) {
                QVERIFY2(closed, "the server should close this connection");
            } else {
                QVERIFY2(!closed, "the connection should live on");
                // A reply of type EXCEPTION (3) naming the method.
                QVERIFY(answer.find("nosuch") != std::string::npos);
                QVERIFY(answer.find(std::string("\x80\x01\x00\x03", 4)) != std::string::npos);
            }
        }
        QVERIFY(m_b.running());
        Client c;
        QVERIFY(c.connect(options(m_b, true, false)).isOk());
        auto v = c.protocolVersion();
        QVERIFY2(v.isOk(), describe(v.status()).c_str());
    }

    // The console runs its calls on worker threads: one client per thread.
    void clientsOnWorkerThreads() {
        std::vector<std::thread> threads;
        std::atomic<int> ok{0};
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([this, t, &ok] {
                Client c;
                if (!rootClient(c, t % 2 == 0, t >= 2))
                    return;
                for (int i = 0; i < 20; ++i) {
                    auto r = c.execSingle("worker" + std::to_string(t), "notes",
                                          "INSERT INTO note (txt) VALUES ('w')", {"create"});
                    if (!r.isOk())
                        return;
                }
                ++ok;
            });
        }
        for (auto& th : threads)
            th.join();
        QCOMPARE(ok.load(), 4);
    }

    // ActorDB's getting-started flow from Python code generated from troupe.thrift at test time
    // (thrift --gen py) and Debian's python3-thrift, on a fresh, uninitialised server per row.
    void pythonActordbFlow_data() {
        QTest::addColumn<QString>("transport");
        QTest::newRow("framed") << "framed";
        QTest::newRow("unframed") << "unframed";
    }
    void pythonActordbFlow() {
        QFETCH(QString, transport);
        Run probe = runProgram("/usr/bin/python3", {"-c", "import thrift"});
        if (probe.exitCode != 0)
            QSKIP("python3-thrift is missing: install Debian package python3-thrift");
        const QString gen = m_tmp.path() + "/gen-py";
        if (!QFile::exists(gen + "/actordb/Actordb.py")) {
            Run made = generatePythonClient(gen);
            QVERIFY2(made.exitCode == 0, qPrintable(made.describe()));
        }
        const QString dir = m_tmp.path() + "/py-" + transport;
        QDir().mkpath(dir);
        ServerProcess fresh;
        std::string error = fresh.start(dir, {});
        QVERIFY2(error.empty(), error.c_str());
        Run flow = runProgram("/usr/bin/python3",
                              {TROUPE_SOURCE_DIR "/tests/integration/thrift/actordb_flow.py", gen,
                               QString::number(fresh.ports.thrift), transport});
        error = fresh.stop();
        QVERIFY2(flow.exitCode == 0 && flow.out.contains("FLOW OK"), qPrintable(flow.describe()));
        QVERIFY2(error.empty(), error.c_str());
    }

    // The Python example of resources/docs/thrift.md, run as written against a node initialised
    // like quickstart's (resources/init.sql), with only its port and code directory replaced.
    void docPythonExample() {
        Run probe = runProgram("/usr/bin/python3", {"-c", "import thrift"});
        if (probe.exitCode != 0)
            QSKIP("python3-thrift is missing: install Debian package python3-thrift");
        const QString code = thriftDocPython();
        QVERIFY(!code.isEmpty());
        const QString gen = m_tmp.path() + "/gen-py-doc";
        Run made = generatePythonClient(gen);
        QVERIFY2(made.exitCode == 0, qPrintable(made.describe()));
        ServerProcess quick;
        std::string error = startQuickstartNode(quick, m_tmp.path() + "/doc");
        QVERIFY2(error.empty(), error.c_str());
        Run run = runDocExample(code, gen, quick.ports.thrift);
        error = quick.stop();
        QVERIFY2(run.exitCode == 0, qPrintable(run.describe()));
        QVERIFY2(run.out.startsWith("hello\n{'music': 1}"), qPrintable(run.describe()));
        QVERIFY2(error.empty(), error.c_str());
    }

    // SIGTERM with clients connected (idle, logged in, mid-TLS, and a half-sent frame): the
    // server closes them and exits cleanly.
    void stopsWithClientsConnected() {
        const QString dir = m_tmp.path() + "/stop";
        QDir().mkpath(dir);
        ServerProcess server;
        std::string error = server.start(
            dir, {"--init", m_tmp.path() + "/init.sql", "--tls-cert", m_cert, "--tls-key", m_key});
        QVERIFY2(error.empty(), error.c_str());
        Client plain, secure;
        QVERIFY(plain.connect(options(server, true, false)).isOk());
        QVERIFY(plain.login("root", "rootpass").isOk());
        QVERIFY(secure.connect(options(server, false, true)).isOk());
        QVERIFY(secure.loginScrambled("root", "rootpass").isOk());
        RawSocket idle(server.ports.thrift);
        RawSocket half(server.ports.thrift);
        QVERIFY(idle.ok() && half.ok());
        half.send(be32(64) + "\x80\x01");
        error = server.stop();
        QVERIFY2(error.empty(), error.c_str());
        QCOMPARE(plain.protocolVersion().status().code(), ErrorCode::IoError);
        QVERIFY(!plain.connected());
    }

    // thrift.idle_timeout closes a connection that makes no call; one that never sends a byte
    // is closed after the connect timeout (10 s) even without an idle timeout.
    void idleAndSilentConnectionsClose() {
        const QString dir = m_tmp.path() + "/idle";
        QDir().mkpath(dir);
        ServerProcess server;
        std::string error = server.start(
            dir, {"--init", m_tmp.path() + "/init.sql", "--thrift-idle-timeout", "1500ms"});
        QVERIFY2(error.empty(), error.c_str());
        RawSocket silent(server.ports.thrift);
        QVERIFY(silent.ok());
        Client c;
        QVERIFY(c.connect(options(server, true, false)).isOk());
        QVERIFY(c.login("root", "rootpass").isOk());
        QVERIFY(c.execSingle("i", "notes", "SELECT 1", {"create"}).isOk());
        QElapsedTimer timer;
        timer.start();
        bool closed = false;
        silent.readUntilClosed(15000, closed);
        QVERIFY2(closed, "a connection that sends nothing must be closed");
        QVERIFY2(timer.elapsed() >= 5000, "closed before the connect timeout");
        // Long past the idle timeout: the client's next call finds the connection closed.
        QCOMPARE(c.protocolVersion().status().code(), ErrorCode::IoError);
        error = server.stop();
        QVERIFY2(error.empty(), error.c_str());
        const std::string log = server.log();
        QVERIFY2(log.find("without a call") != std::string::npos, log.c_str());
        QVERIFY2(log.find("nothing sent within") != std::string::npos, log.c_str());
    }

    // The server's log names the listener.
    void listenLine() {
        const std::string log = m_a.log();
        QVERIFY2(log.find("thrift://127.0.0.1:" + std::to_string(m_a.ports.thrift)) !=
                     std::string::npos,
                 log.c_str());
    }
};

QTEST_APPLESS_MAIN(TestThrift)
#include "tst_thrift.moc"
