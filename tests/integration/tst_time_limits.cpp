// Statement time limits and cancellation against real troupe-server processes (issue 13, item
// 3; resources/docs/security.md "time limits", mysql.md "Processes, KILL and time limits"). An
// endless recursive CTE stands for any runaway statement. Both servers have ONE executor thread,
// so every actor shares it: a statement left running would stall everything after it.
// - server A, sql.statement_timeout 300ms: the endless query fails with 3024 while another actor
//   is served; SET max_execution_time; CONNECTION_ID() is the handshake's thread id; SHOW
//   PROCESSLIST and KILL as the non-admin `reader` and as root.
// - server B, no time limit: KILL QUERY stops a statement (1317); a client (MySQL or Thrift) that
//   disconnects mid-statement frees the actor; SIGTERM with endless statements running exits 0
//   within a few seconds.
// Every wait is bounded by a deadline.

#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "integration/mysql/raw_mysql_client.h"
#include "support/poll.h"
#include "support/server_process.h"

using namespace std::chrono_literals;
using troupe::test::RawMysqlClient;
using troupe::test::ServerProcess;

namespace {

constexpr std::uint8_t kComQuery = 0x03;
constexpr const char* kEndless =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

constexpr const char* kInit = "USE config\n"
                              "INSERT INTO groups VALUES ('grp1','cluster')\n"
                              "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')\n"
                              "CREATE USER 'root' IDENTIFIED BY 'rootpass'\n"
                              "CREATE USER 'reader' IDENTIFIED BY 'readerpass'\n"
                              "GRANT read ON type1 TO 'reader'\n"
                              "COMMIT\n"
                              "USE schema\n"
                              "ACTOR type1\n"
                              "CREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT)\n"
                              "COMMIT\n";

using Row = std::vector<std::optional<std::string>>;

// The answer to a COM_QUERY: an OK, an ERR or rows (text protocol, no DEPRECATE_EOF).
struct Answer {
    bool ok = false;
    std::optional<RawMysqlClient::Packet> error;
    std::vector<Row> rows;
    std::uint16_t code() const { return error ? error->errorCode() : 0; }
    std::string describe() const {
        return error ? std::to_string(error->errorCode()) + " " + error->errorMessage()
               : ok  ? "ok"
                     : "no answer";
    }
};

std::uint64_t lengthEncoded(const std::string& p, std::size_t& at) {
    const auto first = static_cast<std::uint8_t>(p[at++]);
    if (first < 0xfb)
        return first;
    const int bytes = first == 0xfc ? 2 : first == 0xfd ? 3 : 8;
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i)
        value |= std::uint64_t(static_cast<std::uint8_t>(p[at++])) << (8 * i);
    return value;
}

Answer readAnswer(RawMysqlClient& c, std::chrono::milliseconds timeout = 10s) {
    Answer a;
    auto first = c.readPacket(timeout);
    if (!first)
        return a;
    if (first->isErr()) {
        a.error = first;
        return a;
    }
    a.ok = true;
    if (first->isOk())
        return a;
    std::size_t at = 0;
    const std::uint64_t columns = lengthEncoded(first->payload, at);
    for (std::uint64_t i = 0; i <= columns; ++i) // definitions, then EOF
        if (!c.readPacket(timeout))
            return Answer{};
    for (;;) {
        auto packet = c.readPacket(timeout);
        if (!packet)
            return Answer{};
        if (packet->isErr()) {
            a.error = packet;
            return a;
        }
        if (static_cast<std::uint8_t>(packet->payload[0]) == 0xfe && packet->payload.size() < 9)
            return a;
        Row row;
        std::size_t p = 0;
        while (p < packet->payload.size()) {
            if (static_cast<std::uint8_t>(packet->payload[p]) == 0xfb) {
                ++p;
                row.emplace_back();
                continue;
            }
            const std::uint64_t n = lengthEncoded(packet->payload, p);
            row.emplace_back(packet->payload.substr(p, n));
            p += n;
        }
        a.rows.push_back(std::move(row));
    }
}

Answer query(RawMysqlClient& c, const std::string& sql, std::chrono::milliseconds timeout = 10s) {
    if (!c.sendCommand(kComQuery, sql))
        return Answer{};
    return readAnswer(c, timeout);
}

bool login(RawMysqlClient& c, const std::string& user, const std::string& password) {
    auto answer = c.connected() ? c.login(user, password) : std::nullopt;
    return answer && answer->isOk();
}

// The SHOW PROCESSLIST row of connection `id`, as `c` sees it.
std::optional<Row> processRow(RawMysqlClient& c, std::uint32_t id) {
    const Answer a = query(c, "SHOW FULL PROCESSLIST");
    for (const Row& row : a.rows)
        if (row.size() == 8 && row[0] == std::to_string(id))
            return row;
    return std::nullopt;
}

// True once connection `id` runs a query (Command "Query"), as root on `port` sees it.
bool waitRunning(std::uint16_t port, std::uint32_t id) {
    RawMysqlClient root(port);
    if (!login(root, "root", "rootpass"))
        return false;
    return troupe::test::pollUntil(
        [&] {
            auto row = processRow(root, id);
            return row && (*row)[4] == "Query";
        },
        5s);
}

} // namespace

class TestTimeLimits : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    ServerProcess m_a; // statement_timeout 300ms
    ServerProcess m_b; // no time limit

    std::string start(ServerProcess& server, const QString& name, const QString& timeout) {
        const QString dir = m_tmp.path() + "/" + name;
        QDir().mkpath(dir);
        QFile init(dir + "/init.sql");
        if (!init.open(QIODevice::WriteOnly) || init.write(kInit) < 0)
            return "cannot write init.sql";
        init.close();
        return server.start(dir, {"--init", dir + "/init.sql", "--executor-threads", "1",
                                  "--statement-timeout", timeout});
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        std::string error = start(m_a, "a", "300ms");
        QVERIFY2(error.empty(), error.c_str());
        error = start(m_b, "b", "0");
        QVERIFY2(error.empty(), error.c_str());
    }

    void cleanupTestCase() {
        std::string error = m_a.stop();
        QVERIFY2(error.empty(), error.c_str());
        error = m_b.stop(); // stopped by sigtermStopsEndlessStatements already
        QVERIFY2(error.empty(), error.c_str());
    }

    // The endless query fails with MySQL's 3024 after 300 ms; meanwhile another actor on the
    // same executor thread is answered, and the timed-out actor serves at once afterwards.
    void endlessQueryTimesOut() {
        RawMysqlClient endless(m_a.ports.mysql), other(m_a.ports.mysql);
        QVERIFY(login(endless, "root", "rootpass") && login(other, "root", "rootpass"));
        QVERIFY(endless.sendCommand(kComQuery, std::string("ACTOR type1(t1) create; ") + kEndless));
        const Answer served = query(other, "ACTOR type1(t2) create; SELECT 7");
        QVERIFY2(served.ok && served.rows.size() == 1, served.describe().c_str());
        QCOMPARE(served.rows[0][0], std::optional<std::string>("7"));
        const Answer timedOut = readAnswer(endless);
        QVERIFY2(timedOut.error, timedOut.describe().c_str());
        QCOMPARE(timedOut.code(), std::uint16_t(3024));
        QVERIFY2(timedOut.error->errorMessage().find("maximum statement execution time exceeded") !=
                     std::string::npos,
                 timedOut.describe().c_str());
        const Answer again = query(endless, "ACTOR type1(t1) create; SELECT count(*) FROM tab", 2s);
        QVERIFY2(again.ok && !again.error, again.describe().c_str());
    }

    // SET [SESSION] max_execution_time: the session's own limit, shown by @@max_execution_time.
    void sessionMaxExecutionTime() {
        RawMysqlClient c(m_a.ports.mysql);
        QVERIFY(login(c, "root", "rootpass"));
        QVERIFY(query(c, "SET SESSION max_execution_time = 150").ok);
        const Answer shown = query(c, "SELECT @@max_execution_time");
        QVERIFY2(shown.rows.size() == 1, shown.describe().c_str());
        QCOMPARE(shown.rows[0][0], std::optional<std::string>("150"));
        const Answer timedOut = query(c, std::string("ACTOR type1(s1) create; ") + kEndless);
        QVERIFY2(timedOut.error && timedOut.code() == 3024, timedOut.describe().c_str());
        QCOMPARE(query(c, "SET GLOBAL max_execution_time = 5").code(), std::uint16_t(1210));
    }

    void connectionIdIsTheHandshakeThreadId() {
        RawMysqlClient c(m_a.ports.mysql);
        QVERIFY(login(c, "root", "rootpass"));
        QVERIFY(c.connectionId() != 0);
        const Answer id = query(c, "SELECT CONNECTION_ID()");
        QVERIFY2(id.rows.size() == 1, id.describe().c_str());
        QCOMPARE(id.rows[0][0], std::optional<std::string>(std::to_string(c.connectionId())));
    }

    // `reader` sees and kills only its own sessions (1095 for root's, 1094 for unknown ids);
    // root sees and kills everyone's. KILL closes the connection.
    void processlistAndKillPermissions() {
        RawMysqlClient r1(m_a.ports.mysql), r2(m_a.ports.mysql), root(m_a.ports.mysql);
        QVERIFY(login(r1, "reader", "readerpass") && login(r2, "reader", "readerpass"));
        QVERIFY(login(root, "root", "rootpass"));
        const Answer mine = query(r1, "SHOW PROCESSLIST");
        QVERIFY2(mine.ok && !mine.error, mine.describe().c_str());
        std::vector<std::string> ids;
        for (const Row& row : mine.rows) {
            QCOMPARE(row.size(), std::size_t(8));
            QCOMPARE(row[1], std::optional<std::string>("reader"));
            ids.push_back(row[0].value_or(""));
        }
        QVERIFY(std::count(ids.begin(), ids.end(), std::to_string(r1.connectionId())) == 1);
        QVERIFY(std::count(ids.begin(), ids.end(), std::to_string(r2.connectionId())) == 1);
        QVERIFY(std::count(ids.begin(), ids.end(), std::to_string(root.connectionId())) == 0);
        auto r1Row = processRow(root, r1.connectionId());
        QVERIFY(r1Row && (*r1Row)[1] == "reader" && (*r1Row)[4] == "Sleep");
        auto self = processRow(root, root.connectionId());
        QVERIFY(self && (*self)[7] == "SHOW FULL PROCESSLIST");

        const std::string rootId = std::to_string(root.connectionId());
        QCOMPARE(query(r1, "KILL QUERY " + rootId).code(), std::uint16_t(1095));
        QCOMPARE(query(r1, "KILL " + rootId).code(), std::uint16_t(1095));
        QCOMPARE(query(r1, "KILL 4000000000").code(), std::uint16_t(1094));
        QVERIFY(query(r1, "KILL QUERY " + std::to_string(r2.connectionId())).ok);
        QVERIFY(query(r1, "KILL CONNECTION " + std::to_string(r2.connectionId())).ok);
        QVERIFY(r2.waitClosed(5s));
        QVERIFY(query(root, "KILL " + std::to_string(r1.connectionId())).ok);
        QVERIFY(r1.waitClosed(5s));
        QVERIFY(query(root, "SELECT 1").ok); // root's own connection lives on
    }

    // KILL QUERY stops a statement with no time limit: 1317, and the connection serves on.
    void killQueryStopsTheStatement() {
        RawMysqlClient victim(m_b.ports.mysql), root(m_b.ports.mysql);
        QVERIFY(login(victim, "root", "rootpass") && login(root, "root", "rootpass"));
        QVERIFY(victim.sendCommand(kComQuery, std::string("ACTOR type1(k1) create; ") + kEndless));
        QVERIFY(waitRunning(m_b.ports.mysql, victim.connectionId()));
        QVERIFY(query(root, "KILL QUERY " + std::to_string(victim.connectionId())).ok);
        const Answer killed = readAnswer(victim, 5s);
        QVERIFY2(killed.error && killed.code() == 1317, killed.describe().c_str());
        QVERIFY(query(victim, "ACTOR type1(k1) create; SELECT 1", 5s).ok);
    }

    // A client that leaves while its endless statement runs frees the actor (and the only
    // executor thread): the next query is answered at once, not never.
    void disconnectFreesTheActor_data() {
        QTest::addColumn<bool>("thrift");
        QTest::newRow("mysql") << false;
        QTest::newRow("thrift") << true;
    }
    void disconnectFreesTheActor() {
        QFETCH(bool, thrift);
        const std::string actor = thrift ? "d2" : "d1";
        if (thrift) {
            troupe::client::Client c;
            troupe::client::ConnectOptions options;
            options.port = m_b.ports.thrift;
            options.callTimeout = 500ms; // the client gives up and goes away
            QVERIFY(c.connect(options).isOk());
            QVERIFY(c.login("root", "rootpass").isOk());
            QVERIFY(!c.execSingle(actor, "type1", kEndless, {"create"}).isOk());
            c.close();
        } else {
            RawMysqlClient leaving(m_b.ports.mysql);
            QVERIFY(login(leaving, "root", "rootpass"));
            QVERIFY(leaving.sendCommand(kComQuery, "ACTOR type1(" + actor + ") create; " +
                                                       std::string(kEndless)));
            QVERIFY(waitRunning(m_b.ports.mysql, leaving.connectionId()));
            leaving.close();
        }
        RawMysqlClient next(m_b.ports.mysql);
        QVERIFY(login(next, "root", "rootpass"));
        const Answer a =
            query(next, "ACTOR type1(" + actor + ") create; SELECT count(*) FROM tab", 5s);
        QVERIFY2(a.ok && a.rows.size() == 1, a.describe().c_str());
    }

    // SIGTERM while endless statements (no time limit) run and wait: exit 0 within seconds.
    void sigtermStopsEndlessStatements() {
        std::vector<std::unique_ptr<RawMysqlClient>> clients;
        for (int i = 0; i < 3; ++i) {
            clients.push_back(std::make_unique<RawMysqlClient>(m_b.ports.mysql));
            QVERIFY(login(*clients.back(), "root", "rootpass"));
            QVERIFY(clients.back()->sendCommand(kComQuery, "ACTOR type1(e" + std::to_string(i) +
                                                               ") create; " + kEndless));
        }
        QVERIFY(waitRunning(m_b.ports.mysql, clients.front()->connectionId()));
        QElapsedTimer timer;
        timer.start();
        const std::string error = m_b.stop();
        QVERIFY2(error.empty(), error.c_str());
        QVERIFY2(timer.elapsed() < 5000, std::to_string(timer.elapsed()).c_str());
    }
};

QTEST_APPLESS_MAIN(TestTimeLimits)
#include "tst_time_limits.moc"
