// Unit tests for daemon/app/platform (POSIX implementation): the data-directory lock, systemd
// notifications over a unix datagram socket (path and abstract namespace), WATCHDOG_USEC, and the
// shutdown watcher turning SIGTERM/SIGINT into callbacks.

#include <QTemporaryDir>
#include <QTest>

#include "support/poll.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "app/platform/platform.h"

using namespace troupe;
using namespace troupe::app::platform;
using namespace std::chrono_literals;

namespace {

// A bound unix datagram socket standing in for systemd's notification socket.
class NotifyReceiver {
public:
    // `name` is a file path, or "@name" for the abstract namespace.
    explicit NotifyReceiver(const std::string& name) : m_name(name) {
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, name.data(), name.size());
        if (name.front() == '@')
            addr.sun_path[0] = '\0';
        auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                          (name.front() == '@' ? 0 : 1));
        m_bound = ::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), len) == 0;
    }
    ~NotifyReceiver() { ::close(m_fd); }
    bool bound() const { return m_bound; }

    // The next datagram, or empty after `timeout`.
    std::string receive(std::chrono::milliseconds timeout = 5s) {
        pollfd p{m_fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1)
            return {};
        char buf[512];
        ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    }

private:
    std::string m_name;
    int m_fd = -1;
    bool m_bound = false;
};

using troupe::test::pollUntil;

} // namespace

class TestPlatform : public QObject {
    Q_OBJECT
private slots:
    void cleanup() {
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
        ::unsetenv("WATCHDOG_PID");
    }

    void defaultPaths() {
        QVERIFY(!defaultDataDir().empty());
        QCOMPARE(defaultConfigFile().string(), std::string("/etc/troupe/troupe.conf"));
        if (::geteuid() == 0)
            QCOMPARE(defaultDataDir().string(), std::string("/var/lib/troupe"));
    }

    void lockCreatesDirectoryAndWritesPid() {
        QTemporaryDir tmp;
        std::filesystem::path dir = tmp.path().toStdString() + "/a/b/data";
        auto lock = DataDirLock::acquire(dir);
        QVERIFY2(lock.isOk(), lock.status().toString().c_str());
        QCOMPARE((*lock)->path(), dir / "troupe.lock");
        std::ifstream in(dir / "troupe.lock");
        long pid = 0;
        in >> pid;
        QCOMPARE(pid, currentProcessId());
    }

    void secondLockIsBusyAndNamesTheHolder() {
        QTemporaryDir tmp;
        std::filesystem::path dir = tmp.path().toStdString();
        auto first = DataDirLock::acquire(dir);
        QVERIFY(first.isOk());
        auto second = DataDirLock::acquire(dir);
        QVERIFY(!second.isOk());
        QCOMPARE(second.status().code(), ErrorCode::Busy);
        std::string expected = "data directory " + dir.string() +
                               " is in use by another troupe-server (pid " +
                               std::to_string(currentProcessId()) + ")";
        QCOMPARE(second.status().message(), expected);

        first = Status(ErrorCode::Internal, "released");
        auto third = DataDirLock::acquire(dir);
        QVERIFY2(third.isOk(), third.status().toString().c_str());
    }

    void lockOnAFileFails() {
        QTemporaryDir tmp;
        std::filesystem::path file = tmp.path().toStdString() + "/plain";
        std::ofstream(file) << "x";
        auto lock = DataDirLock::acquire(file);
        QVERIFY(!lock.isOk());
        QCOMPARE(lock.status().code(), ErrorCode::IoError);
        QVERIFY(lock.status().message().find(file.string()) != std::string::npos);
    }

    void notifyWithoutSocketIsNoOp() { QVERIFY(notifyServiceManager("READY=1").isOk()); }

    void notifySendsDatagrams_data() {
        QTest::addColumn<bool>("abstract");
        QTest::newRow("path") << false;
        QTest::newRow("abstract") << true;
    }

    void notifySendsDatagrams() {
        QFETCH(bool, abstract);
        QTemporaryDir tmp;
        std::string name = abstract ? "@troupe-tst-platform-" + std::to_string(::getpid())
                                    : tmp.path().toStdString() + "/notify.sock";
        NotifyReceiver receiver(name);
        QVERIFY(receiver.bound());
        ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
        QVERIFY(notifyServiceManager("READY=1").isOk());
        QVERIFY(notifyServiceManager("STOPPING=1").isOk());
        QCOMPARE(receiver.receive(), std::string("READY=1"));
        QCOMPARE(receiver.receive(), std::string("STOPPING=1"));
    }

    void notifyErrorsAreReported() {
        ::setenv("NOTIFY_SOCKET", "relative/path", 1);
        QVERIFY(!notifyServiceManager("READY=1").isOk());
        ::setenv("NOTIFY_SOCKET", "/nonexistent/troupe/notify.sock", 1);
        Status s = notifyServiceManager("READY=1");
        QVERIFY(!s.isOk());
        QVERIFY(s.message().find("/nonexistent/troupe/notify.sock") != std::string::npos);
    }

    void watchdog() {
        QVERIFY(!watchdogInterval());
        ::setenv("WATCHDOG_USEC", "2000000", 1);
        QCOMPARE(watchdogInterval().value_or(0us), std::chrono::microseconds(2'000'000));
        ::setenv("WATCHDOG_PID", std::to_string(currentProcessId()).c_str(), 1);
        QVERIFY(watchdogInterval());
        ::setenv("WATCHDOG_PID", "1", 1);
        QVERIFY(!watchdogInterval());
        ::unsetenv("WATCHDOG_PID");
        ::setenv("WATCHDOG_USEC", "soon", 1);
        QVERIFY(!watchdogInterval());
    }

    void signalsBecomeCallbacks() {
        struct sigaction before {};
        ::sigaction(SIGTERM, nullptr, &before); // QtTest's own handler, restored afterwards
        std::mutex mutex;
        std::vector<std::string> reasons;
        auto watcher = ShutdownWatcher::install([&](std::string_view reason) {
            std::lock_guard lock(mutex);
            reasons.emplace_back(reason);
        });
        QVERIFY(watcher.isOk());
        auto count = [&] {
            std::lock_guard lock(mutex);
            return reasons.size();
        };
        ::raise(SIGTERM);
        QVERIFY(pollUntil([&] { return count() == 1; }));
        ::raise(SIGINT);
        QVERIFY(pollUntil([&] { return count() == 2; }));
        (*watcher)->trigger("test");
        QCOMPARE(count(), std::size_t(3));
        QCOMPARE(reasons[0], std::string("SIGTERM"));
        QCOMPARE(reasons[1], std::string("SIGINT"));
        QCOMPARE(reasons[2], std::string("test"));

        watcher = Status(ErrorCode::Internal, "uninstalled");
        struct sigaction current {};
        ::sigaction(SIGTERM, nullptr, &current);
        QVERIFY(current.sa_handler == before.sa_handler);
        QVERIFY(current.sa_sigaction == before.sa_sigaction);
    }
};

QTEST_APPLESS_MAIN(TestPlatform)
#include "tst_platform.moc"
