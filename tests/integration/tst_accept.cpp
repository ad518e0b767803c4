// The accept loop under pressure (issue 13, item 4; resources/docs/security.md "connections"),
// against a real troupe-server:
//  - started with a descriptor limit of 100, it is flooded with more MySQL, Thrift and HTTP
//    connections than that allows; once they are closed a new client of each protocol must be
//    served at once (before, one EMFILE ended the MySQL and Thrift accept loops for good);
//  - slowloris: hundreds of idle and dribbling connections must not make /health unreachable,
//    and every connection that does not finish its handshake within --handshake-timeout is
//    closed.

#include <QTemporaryDir>
#include <QtTest>

#include <poll.h>
#include <sys/resource.h>

#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "support/server_process.h"

using namespace troupe::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

// A plain loopback TCP client: what a flood of clients does is connect, send a little or
// nothing, and wait.
class RawConnection {
public:
    explicit RawConnection(std::uint16_t port) {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        m_connected =
            m_fd >= 0 && ::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~RawConnection() {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    bool connected() const { return m_connected; }
    bool closed() const { return m_closed; }
    bool send(std::string_view bytes) {
        return ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size());
    }
    // Reads what arrives before `deadline` into received(); stops at end of stream (closed())
    // or once at least `atLeast` bytes are there.
    void readUntil(Clock::time_point deadline, std::size_t atLeast = SIZE_MAX) {
        char buffer[4096];
        while (!m_closed && m_in.size() < atLeast) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            pollfd p{m_fd, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, int(left.count())) != 1)
                return;
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n <= 0)
                m_closed = true;
            else
                m_in.append(buffer, std::size_t(n));
        }
    }
    const std::string& received() const { return m_in; }

private:
    int m_fd = -1;
    bool m_connected = false;
    bool m_closed = false;
    std::string m_in;
};

// A Thrift salt() call, framed binary protocol: what any client sends first.
std::string thriftSaltCall() {
    const std::string message = std::string("\x80\x01\x00\x01", 4) + std::string("\0\0\0\4", 4) +
                                "salt" + std::string("\0\0\0\1", 4) + std::string(1, '\0');
    std::string frame = std::string("\0\0\0", 3) + char(message.size());
    return frame + message;
}

// Polls until `once` succeeds or `within` passes: a connection the server refuses because the
// flood's connections are still closing (1040, or a Thrift close) is tried again; a listener
// that stopped accepting never succeeds.
template <typename Try> bool succeedsWithin(std::chrono::milliseconds within, Try once) {
    const auto deadline = Clock::now() + within;
    do {
        if (once(deadline))
            return true;
        std::this_thread::sleep_for(20ms);
    } while (Clock::now() < deadline);
    return false;
}

bool mysqlGreets(std::uint16_t port, std::chrono::milliseconds within) {
    return succeedsWithin(within, [port](Clock::time_point deadline) {
        RawConnection c(port);
        c.readUntil(deadline, 5);
        return c.received().size() >= 5 && c.received()[4] == '\x0a';
    });
}

bool thriftAnswers(std::uint16_t port, std::chrono::milliseconds within) {
    return succeedsWithin(within, [port](Clock::time_point deadline) {
        RawConnection c(port);
        if (!c.connected() || !c.send(thriftSaltCall()))
            return false;
        c.readUntil(deadline, 8);
        return c.received().size() >= 8 &&
               c.received().substr(4, 4) == std::string("\x80\x01\0\2", 4);
    });
}

bool healthAnswers(std::uint16_t port, std::chrono::milliseconds within) {
    auto response = HttpTestClient::get(port, "/health", within);
    return response && response->status == 200;
}

// The test process opens hundreds of sockets: its own soft limit up to the hard one.
void raiseOwnDescriptorLimit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 8192);
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

} // namespace

class TestAccept : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { raiseOwnDescriptorLimit(); }

    void keepsAcceptingAfterRunningOutOfDescriptors_data();
    void keepsAcceptingAfterRunningOutOfDescriptors();
    void slowClientsDoNotLockOutOthers();
};

void TestAccept::keepsAcceptingAfterRunningOutOfDescriptors_data() {
    QTest::addColumn<QString>("protocol");
    QTest::addColumn<int>("connections");
    QTest::newRow("mysql") << "mysql" << 110;
    QTest::newRow("thrift") << "thrift" << 150;
    QTest::newRow("http") << "http" << 150;
}

void TestAccept::keepsAcceptingAfterRunningOutOfDescriptors() {
    QFETCH(QString, protocol);
    QFETCH(int, connections);
    QTemporaryDir dir;
    ServerProcess server;
    server.setChildProcessModifier([] {
        rlimit limit{100, 100}; // `ulimit -n 100`, soft and hard
        setrlimit(RLIMIT_NOFILE, &limit);
    });
    const std::string started = server.start(dir.path(), {});
    QVERIFY2(started.empty(), started.c_str());
    const std::uint16_t port = protocol == "mysql"    ? server.ports.mysql
                               : protocol == "thrift" ? server.ports.thrift
                                                      : server.ports.http;
    {
        std::vector<std::unique_ptr<RawConnection>> flood;
        for (int i = 0; i < connections; ++i)
            flood.push_back(std::make_unique<RawConnection>(port));
        // Every connection asks something (MySQL clients wait for the greeting); wait until
        // each is answered, refused or, for those the server could not take, a deadline.
        const auto settle = Clock::now() + 3s;
        for (auto& c : flood) {
            if (protocol == "thrift")
                c->send(thriftSaltCall());
            else if (protocol == "http")
                c->send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        }
        for (auto& c : flood)
            c->readUntil(settle, 1);
    } // all closed
    const auto before = Clock::now();
    bool served = false;
    if (protocol == "mysql")
        served = mysqlGreets(port, 3s);
    else if (protocol == "thrift")
        served = thriftAnswers(port, 3s);
    else
        served = healthAnswers(port, 3s);
    QVERIFY2(served, qPrintable(protocol + " client not served after the flood; log:\n" +
                                QString::fromStdString(server.log())));
    QVERIFY(Clock::now() - before < 3s);
    // The other protocols were not starved either.
    QVERIFY2(healthAnswers(server.ports.http, 3s), server.log().c_str());
    QVERIFY2(mysqlGreets(server.ports.mysql, 3s), server.log().c_str());
    auto metrics = HttpTestClient::get(server.ports.http, "/metrics", 3s);
    QVERIFY(metrics && metrics->status == 200);
    QVERIFY(metrics->body.find("troupe_" + protocol.toStdString() + "_accept_errors_total") !=
            std::string::npos);
    const std::string stopped = server.stop();
    QVERIFY2(stopped.empty(), stopped.c_str());
}

void TestAccept::slowClientsDoNotLockOutOthers() {
    QTemporaryDir dir;
    ServerProcess server;
    const std::string started = server.start(dir.path(), {"--handshake-timeout", "1s"});
    QVERIFY2(started.empty(), started.c_str());
    const auto& ports = server.ports;
    std::vector<std::unique_ptr<RawConnection>> idle, dribbling;
    for (int i = 0; i < 150; ++i) // more than the 256 HTTP sessions, idle or dribbling
        idle.push_back(std::make_unique<RawConnection>(ports.http));
    for (int i = 0; i < 150; ++i) {
        dribbling.push_back(std::make_unique<RawConnection>(ports.http));
        dribbling.back()->send("GET /health HTTP/1.1\r\n");
    }
    for (int i = 0; i < 40; ++i) { // handshakes never answered
        idle.push_back(std::make_unique<RawConnection>(ports.mysql));
        idle.push_back(std::make_unique<RawConnection>(ports.thrift));
        dribbling.push_back(std::make_unique<RawConnection>(ports.thrift));
        dribbling.back()->send(std::string("\0\0\0\x40\x80", 5)); // a frame that never ends
    }
    const auto opened = Clock::now();
    QVERIFY2(healthAnswers(ports.http, 2s), server.log().c_str());
    // Every connection that did not finish its handshake is closed after the timeout (1 s; the
    // bound allows for the deadline checks and a loaded machine), dribbling ones included.
    const auto bound = opened + 6s;
    for (auto& c : dribbling) {
        while (!c->closed() && Clock::now() < bound) {
            c->send("X");
            c->readUntil(std::min(bound, Clock::now() + 200ms));
        }
        QVERIFY2(c->closed(), "a dribbling connection is still open");
    }
    for (auto& c : idle) {
        c->readUntil(bound);
        QVERIFY2(c->closed(), "an idle connection is still open");
    }
    QVERIFY(Clock::now() - opened >= 900ms); // not closed before the timeout
    QVERIFY2(healthAnswers(ports.http, 2s), server.log().c_str());
    QVERIFY2(mysqlGreets(ports.mysql, 2s), server.log().c_str());
    QVERIFY2(thriftAnswers(ports.thrift, 2s), server.log().c_str());
    const std::string stopped = server.stop();
    QVERIFY2(stopped.empty(), stopped.c_str());
}

QTEST_MAIN(TestAccept)
#include "tst_accept.moc"
