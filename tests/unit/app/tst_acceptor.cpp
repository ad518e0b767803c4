// net::Acceptor, the one accept loop of the daemon (daemon/net/acceptor.h): its back-off and
// log pacing (pure, driven with a fake clock), the descriptor budget, and — in this process,
// with its descriptor table filled up — that it keeps accepting when out of descriptors and
// refuses the waiting client through its spare descriptor.

#include <QtTest>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "net/accept_backoff.h"
#include "net/acceptor.h"
#include "net/descriptor_budget.h"

using namespace troupe;
using namespace troupe::net;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

// A client socket made before the descriptor table is full (connect needs no new descriptor).
struct Client {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ~Client() { ::close(fd); }
    bool connect(std::uint16_t port) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    // Everything the server sends until it closes, or nullopt-like "timeout" marker.
    std::string readToEnd(std::chrono::milliseconds within, bool& closed) {
        std::string in;
        const auto deadline = Clock::now() + within;
        closed = false;
        char buffer[256];
        while (Clock::now() < deadline) {
            pollfd p{fd, POLLIN, 0};
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (::poll(&p, 1, int(std::max<long>(1, left.count()))) != 1)
                continue;
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                closed = true;
                break;
            }
            in.append(buffer, std::size_t(n));
        }
        return in;
    }
};

std::size_t openDescriptors() {
    std::size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        (void)entry;
        ++n;
    }
    return n;
}

// Fills the descriptor table (under a soft limit lowered for the purpose); the destructor
// frees it and restores the limit.
class DescriptorHog {
public:
    DescriptorHog() {
        getrlimit(RLIMIT_NOFILE, &m_saved);
        rlimit low = m_saved;
        low.rlim_cur = rlim_t(openDescriptors() + 64);
        setrlimit(RLIMIT_NOFILE, &low);
        for (;;) {
            const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                break;
            m_fds.push_back(fd);
        }
        m_full = errno == EMFILE;
    }
    ~DescriptorHog() { release(); }
    void release() {
        for (int fd : m_fds)
            ::close(fd);
        m_fds.clear();
        setrlimit(RLIMIT_NOFILE, &m_saved);
    }
    bool full() const { return m_full; }

private:
    bool m_full = false;
    rlimit m_saved{};
    std::vector<int> m_fds;
};

} // namespace

class TestAcceptor : public QObject {
    Q_OBJECT

private slots:
    void backoffGrowsAndResets() {
        AcceptBackoff b(10ms, 100ms, 1s);
        const std::vector<std::chrono::milliseconds> expected{10ms, 20ms, 40ms, 80ms, 100ms, 100ms};
        for (auto e : expected)
            QCOMPARE(b.failed().count(), e.count());
        b.succeeded();
        QCOMPARE(b.failed().count(), 10);
    }

    void failuresAreLoggedOnceASecondWithTheirCount() {
        AcceptBackoff b(10ms, 100ms, 1s);
        const Clock::time_point t0{};
        std::uint64_t n = 0;
        QVERIFY(b.shouldLog(t0, n));
        QCOMPARE(n, std::uint64_t(1));
        QVERIFY(!b.shouldLog(t0 + 100ms, n));
        QVERIFY(!b.shouldLog(t0 + 999ms, n));
        QVERIFY(b.shouldLog(t0 + 1000ms, n));
        QCOMPARE(n, std::uint64_t(3)); // this one and the two not logged
    }

    void connectionCapsFitTheDescriptorLimit_data() {
        QTest::addColumn<int>("available");
        QTest::addColumn<int>("mysql");
        QTest::addColumn<int>("thrift");
        QTest::addColumn<int>("http");
        QTest::newRow("fits") << 5000 << 1000 << 1000 << 256;
        QTest::newRow("exactly") << 2256 << 1000 << 1000 << 256;
        QTest::newRow("half") << 1128 << 500 << 500 << 128;
        QTest::newRow("ulimit 100") << 53 << 23 << 23 << 6;
        QTest::newRow("nothing left") << 0 << 1 << 1 << 1;
    }
    void connectionCapsFitTheDescriptorLimit() {
        QFETCH(int, available);
        QFETCH(int, mysql);
        QFETCH(int, thrift);
        QFETCH(int, http);
        const ConnectionCaps caps = fitConnections({1000, 1000, 256}, std::uint64_t(available));
        QCOMPARE(caps.mysql, std::size_t(mysql));
        QCOMPARE(caps.thrift, std::size_t(thrift));
        QCOMPARE(caps.http, std::size_t(http));
    }

    // Out of descriptors, a waiting client is answered through the spare descriptor (or, with
    // no spare, waits); either way accepting goes on once descriptors are free.
    void keepsAcceptingWhenOutOfDescriptors_data() {
        QTest::addColumn<bool>("spare");
        QTest::newRow("with spare: refused at once") << true;
        QTest::newRow("without spare: accepted later") << false;
    }
    void keepsAcceptingWhenOutOfDescriptors() {
        QFETCH(bool, spare);
        MetricsRegistry metrics;
        asio::io_context io;
        auto work = asio::make_work_guard(io);
        std::atomic<int> accepted{0};
        AcceptorOptions options;
        options.what = "Test";
        options.metric = "test";
        options.address = "127.0.0.1";
        options.refusal = "busy\n";
        options.keepSpare = spare;
        Acceptor acceptor(
            io.get_executor(), options, [&](asio::ip::tcp::socket) { ++accepted; }, metrics);
        QVERIFY(acceptor.open().isOk());
        acceptor.start();
        std::thread runner([&] { io.run(); });
        Client first, second;
        {
            DescriptorHog hog;
            QVERIFY(hog.full());
            QVERIFY(first.connect(acceptor.port()));
            bool closed = false;
            const std::string got = first.readToEnd(spare ? 2000ms : 300ms, closed);
            if (spare) {
                QCOMPARE(got, std::string("busy\n"));
                QVERIFY(closed);
            } else {
                QVERIFY(!closed);
            }
            QCOMPARE(accepted.load(), 0);
        }
        QVERIFY(second.connect(acceptor.port()));
        const int expected = spare ? 1 : 2; // without a spare the first one waited, and is served
        const auto deadline = Clock::now() + 2s;
        while (accepted.load() < expected && Clock::now() < deadline)
            std::this_thread::sleep_for(5ms); // polled with a deadline
        QCOMPARE(accepted.load(), expected);
        const std::string text = metrics.renderPrometheus();
        QVERIFY(text.find("troupe_test_accept_errors_total") != std::string::npos);
        QCOMPARE(metrics.counter("troupe_test_connections_refused_total", "").value(),
                 std::uint64_t(spare ? 1 : 0));
        QVERIFY(metrics.counter("troupe_test_accept_errors_total", "").value() >= 1);
        asio::post(io, [&] { acceptor.close(); });
        work.reset();
        runner.join();
    }
};

QTEST_APPLESS_MAIN(TestAcceptor)
#include "tst_acceptor.moc"
