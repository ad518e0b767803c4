// MySQL protocol edges (issue 13, resources/docs/security.md "protocol edges"), against a real
// troupe-server process started with resources/init.sql (root / rootpass, type type1):
// - a command over the packet limit gets ERR 1153 with the sequence id after the last packet the
//   client sent (pymysql reported "Packet sequence number wrong" instead);
// - COM_STMT_PREPARE with more than 65,535 placeholders gets ERR 1390 instead of a count
//   truncated to 16 bits.

#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <string>

#include "integration/mysql/raw_mysql_client.h"
#include "support/server_process.h"

using namespace std::chrono_literals;
using troupe::test::RawMysqlClient;
using troupe::test::Run;
using troupe::test::runProgram;
using troupe::test::serverBinary;
using troupe::test::ServerProcess;

namespace {

constexpr std::uint8_t kComQuery = 0x03;
constexpr std::uint8_t kComPing = 0x0e;
constexpr std::uint8_t kComStmtPrepare = 0x16;
constexpr std::size_t kMaxPacketBody = 0xFFFFFF;
constexpr std::size_t kSixteenMiB = 16u << 20; // sql.max_request_size's default

QString sourcePath(const QString& relative) {
    return QStringLiteral(TROUPE_SOURCE_DIR) + "/" + relative;
}

// `SELECT 1 WHERE 1 IN (?, ?, ...)` with n placeholders.
std::string withPlaceholders(std::size_t n) {
    std::string sql = "ACTOR type1(edges); SELECT 1 WHERE 1 IN (";
    for (std::size_t i = 0; i < n; ++i)
        sql += i ? ",?" : "?";
    return sql + ")";
}

} // namespace

class TestMysqlEdges : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    ServerProcess m_server;

    void login(RawMysqlClient& client) {
        QVERIFY(client.connected());
        auto ok = client.login("root", "rootpass");
        QVERIFY2(ok && ok->isOk(), m_server.log().c_str());
    }

    void verifyServerStillServes() {
        QVERIFY2(m_server.running(), m_server.log().c_str());
        RawMysqlClient client(m_server.ports.mysql);
        login(client);
        QVERIFY(client.sendCommand(kComPing));
        auto pong = client.readPacket();
        QVERIFY(pong && pong->isOk());
    }

private slots:
    void initTestCase() {
        QVERIFY2(QFileInfo(serverBinary()).isExecutable(), qPrintable(serverBinary()));
        QVERIFY(m_tmp.isValid());
        const std::string error =
            m_server.start(m_tmp.path(), {"--init", sourcePath("resources/init.sql")});
        QVERIFY2(error.empty(), error.c_str());
    }

    void cleanupTestCase() {
        const std::string error = m_server.stop();
        QVERIFY2(error.empty(), error.c_str());
    }

    // A COM_QUERY of 16 MiB + 10 bytes of SQL: packet 0 of 0xFFFFFF bytes, packet 1 with the
    // rest. The ERR must be 1153 with sequence id 2 (after the client's 0 and 1).
    void oversizedCommandErrorFollowsTheLastPacket() {
        RawMysqlClient client(m_server.ports.mysql);
        login(client);
        std::string payload(1, char(kComQuery));
        payload += "SELECT '" + std::string(kSixteenMiB + 10 - 10, 'x') + "'";
        QVERIFY(payload.size() > kMaxPacketBody && payload.size() < 2 * kMaxPacketBody);
        QVERIFY(client.sendPacket(std::string_view(payload).substr(0, kMaxPacketBody), 0));
        QVERIFY(client.sendPacket(std::string_view(payload).substr(kMaxPacketBody), 1));
        auto answer = client.readPacket(30s);
        QVERIFY2(answer, "no answer to the oversized command");
        QVERIFY(answer->isErr());
        QCOMPARE(answer->errorCode(), std::uint16_t(1153));
        QCOMPARE(int(answer->seq), 2);
        QVERIFY(client.waitClosed());
        verifyServerStillServes();
    }

    // The same through pymysql, which checks sequence ids, after a query with a result set
    // (whose last packet had a larger id): it must raise error 1153.
    void oversizedQueryIs1153ForPymysql() {
        const QString python = "/usr/bin/python3";
        if (!QFileInfo(python).isExecutable())
            QSKIP("/usr/bin/python3 is missing: install Debian package python3");
        const QString script = R"(
import sys
try:
    import pymysql
except ImportError:
    sys.exit(77)
conn = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="root",
                       password="rootpass", connect_timeout=10, read_timeout=30,
                       write_timeout=30)
cur = conn.cursor()
cur.execute("SELECT 1, 2")  # a result set: the server's sequence ids went past 2
cur.fetchall()
try:
    cur.execute("SELECT '" + "x" * (16 * 1024 * 1024) + "'")
    print("FAIL: the oversized query was accepted")
    sys.exit(1)
except pymysql.err.MySQLError as e:
    print(type(e).__name__, e.args)
    sys.exit(0 if e.args and e.args[0] == 1153 else 1)
)";
        Run r = runProgram(python, {"-c", script, QString::number(m_server.ports.mysql)});
        if (r.exitCode == 77)
            QSKIP("Python module pymysql is missing: install Debian package python3-pymysql");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        verifyServerStillServes();
    }

    void tooManyPlaceholders_data() {
        QTest::addColumn<int>("placeholders");
        QTest::addColumn<int>("error"); // 0: COM_STMT_PREPARE_OK with this count
        QTest::newRow("65,535 fit") << 65535 << 0;
        QTest::newRow("65,536 were reported as 0") << 65536 << 1390;
        QTest::newRow("70,000 were reported as 4,464") << 70000 << 1390;
    }
    void tooManyPlaceholders() {
        QFETCH(int, placeholders);
        QFETCH(int, error);
        RawMysqlClient client(m_server.ports.mysql);
        login(client);
        QVERIFY(client.sendCommand(kComStmtPrepare, withPlaceholders(std::size_t(placeholders))));
        auto answer = client.readPacket(30s);
        QVERIFY(answer);
        if (error) {
            QVERIFY2(answer->isErr(), "too many placeholders answered with OK");
            QCOMPARE(int(answer->errorCode()), error);
            QCOMPARE(answer->errorMessage(),
                     std::string("Prepared statement contains too many placeholders"));
            // The connection lives on.
            QVERIFY(client.sendCommand(kComPing));
            auto pong = client.readPacket();
            QVERIFY(pong && pong->isOk());
        } else {
            QVERIFY2(answer->isOk(), answer->errorMessage().c_str());
            QVERIFY(answer->payload.size() >= 9);
            const auto params = std::uint8_t(answer->payload[7]) | std::uint8_t(answer->payload[8])
                                                                       << 8; // after id and columns
            QCOMPARE(int(params), placeholders);
        }
    }
};

QTEST_GUILESS_MAIN(TestMysqlEdges)
#include "tst_mysql_edges.moc"
