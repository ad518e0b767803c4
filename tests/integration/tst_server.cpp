// Integration tests of troupe-server as a real process on loopback (QProcess, free ports, a
// temporary data directory): health/readiness/metrics after start, clean exit 0 on SIGTERM and
// SIGINT, the data-directory lock against a second server, systemd notifications (READY=1,
// STOPPING=1) over a unix datagram socket, and clear failures for a busy port and a bad config.
// Every wait is a poll with a deadline.

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <memory>
#include <thread>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <asio.hpp>

#include "http_test_client.h"
#include "support/server_ports.h"

using namespace std::chrono_literals;
using troupe::test::freePorts;
using troupe::test::HttpTestClient;
using troupe::test::Ports;
using troupe::test::serverBinary;

namespace {

constexpr int kStartTimeoutMs = 20000;
constexpr int kStopTimeoutMs = 10000;

// One troupe-server process with its output captured in files.
class ServerProcess {
public:
    ServerProcess(const QString& workDir, const QString& name) {
        m_stdout = workDir + "/" + name + ".out";
        m_stderr = workDir + "/" + name + ".err";
        m_process.setStandardOutputFile(m_stdout);
        m_process.setStandardErrorFile(m_stderr);
        m_process.setProcessEnvironment(QProcessEnvironment::systemEnvironment());
    }
    ~ServerProcess() {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(kStopTimeoutMs);
        }
    }

    void setEnv(const QString& key, const QString& value) {
        QProcessEnvironment env = m_process.processEnvironment();
        env.insert(key, value);
        m_process.setProcessEnvironment(env);
    }

    bool start(const QString& dataDir, const Ports& ports, QStringList extra = {}) {
        m_httpPort = ports.http;
        QStringList args{"--data-dir",         dataDir,
                         "--thrift-port",      QString::number(ports.thrift),
                         "--mysql-port",       QString::number(ports.mysql),
                         "--node-port",        QString::number(ports.node),
                         "--http-port",        QString::number(ports.http),
                         "--initial-map-size", "16MiB"};
        args += extra;
        m_process.start(serverBinary(), args);
        return m_process.waitForStarted(kStartTimeoutMs);
    }

    // Polls GET /ready until 200; false if the process exits or the deadline passes.
    bool waitReady(int timeoutMs = kStartTimeoutMs) {
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
            if (m_process.state() == QProcess::NotRunning)
                return false;
            auto r = HttpTestClient::get(m_httpPort, "/ready", 1s);
            if (r && r->status == 200)
                return true;
            m_process.waitForFinished(20); // returns at once if it exits; else a short poll step
        }
        return false;
    }

    bool waitExit(int timeoutMs = kStopTimeoutMs) {
        return m_process.state() == QProcess::NotRunning || m_process.waitForFinished(timeoutMs);
    }

    void signal(int sig) { ::kill(static_cast<pid_t>(m_process.processId()), sig); }
    qint64 pid() const { return m_process.processId(); }
    int exitCode() const { return m_process.exitCode(); }
    QProcess::ExitStatus exitStatus() const { return m_process.exitStatus(); }
    std::string errorOutput() const { return readAll(m_stderr); }
    std::string standardOutput() const { return readAll(m_stdout); }

private:
    static std::string readAll(const QString& path) {
        std::ifstream in(path.toStdString(), std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    QProcess m_process;
    QString m_stdout;
    QString m_stderr;
    std::uint16_t m_httpPort = 0;
};

// A unix datagram socket standing in for systemd's NOTIFY_SOCKET.
class NotifyReceiver {
public:
    explicit NotifyReceiver(const std::string& name) {
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, name.data(), name.size());
        bool abstract = name.front() == '@';
        if (abstract)
            addr.sun_path[0] = '\0';
        auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                          (abstract ? 0 : 1));
        m_bound = ::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), len) == 0;
    }
    ~NotifyReceiver() { ::close(m_fd); }
    bool bound() const { return m_bound; }

    // Waits for a datagram containing the line `state`; false after the deadline.
    bool waitFor(const std::string& state, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                return false;
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) != 1)
                return false;
            char buf[1024];
            ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
            if (n <= 0)
                continue;
            std::string message(buf, static_cast<std::size_t>(n));
            received.push_back(message);
            if (("\n" + message + "\n").find("\n" + state + "\n") != std::string::npos)
                return true;
        }
    }

    std::vector<std::string> received;

private:
    int m_fd = -1;
    bool m_bound = false;
};

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

} // namespace

class TestServer : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QVERIFY2(QFileInfo(serverBinary()).isExecutable(), qPrintable(serverBinary()));
    }

    void healthReadyMetricsAndSigterm() {
        QTemporaryDir tmp;
        Ports ports = freePorts();
        ServerProcess server(tmp.path(), "server");
        QVERIFY(server.start(tmp.path() + "/data", ports));
        QVERIFY2(server.waitReady(), server.errorOutput().c_str());

        auto health = HttpTestClient::get(ports.http, "/health");
        QVERIFY(health);
        QCOMPARE(health->status, 200);
        auto ready = HttpTestClient::get(ports.http, "/ready");
        QVERIFY(ready);
        QCOMPARE(ready->status, 200);
        auto metrics = HttpTestClient::get(ports.http, "/metrics");
        QVERIFY(metrics);
        QCOMPARE(metrics->status, 200);
        QCOMPARE(metrics->header("Content-Type"),
                 std::string("text/plain; version=0.0.4; charset=utf-8"));
        for (const char* name :
             {"troupe_up 1", "troupe_ready 1", "troupe_process_start_time_seconds",
              "troupe_lmdb_map_size_bytes", "troupe_fsyncs_total", "troupe_commit_batches_total",
              "troupe_actors_total"})
            QVERIFY2(contains(metrics->body, name), name);
        auto missing = HttpTestClient::get(ports.http, "/nothing");
        QVERIFY(missing);
        QCOMPARE(missing->status, 404);

        std::string log = server.errorOutput();
        QVERIFY2(contains(log, "listening on http://127.0.0.1:" + std::to_string(ports.http)),
                 log.c_str());
        QVERIFY(contains(log, " info [app] "));
        QVERIFY(std::filesystem::exists(tmp.path().toStdString() + "/data/troupe.lock"));

        QElapsedTimer stopping;
        stopping.start();
        server.signal(SIGTERM);
        QVERIFY(server.waitExit());
        QVERIFY2(stopping.elapsed() < 5000, "SIGTERM should stop the server promptly");
        QCOMPARE(server.exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.exitCode(), 0);
        log = server.errorOutput();
        QVERIFY2(contains(log, "shutting down (SIGTERM)"), log.c_str());
        QVERIFY2(contains(log, "storage closed"), log.c_str());
        QVERIFY(!HttpTestClient::get(ports.http, "/health", 500ms));
    }

    // --init runs the checked-in example (resources/init.sql) on a fresh node, is skipped on an
    // initialised one, and a bad script stops the server with the script's error.
    void initScriptRunsOnceAndABadOneFails() {
        QTemporaryDir tmp;
        const QString data = tmp.path() + "/data";
        const QString init = QStringLiteral(TROUPE_SOURCE_DIR) + "/resources/init.sql";
        const QString withActor = tmp.path() + "/with_actor.sql";
        {
            std::ifstream in(init.toStdString());
            std::ofstream out(withActor.toStdString());
            out << in.rdbuf() << "\nUSE actordb\nACTOR type1(music) create;\n"
                << "INSERT INTO tab (txt) VALUES ('hello');\n";
        }
        Ports ports = freePorts();
        for (int run = 0; run < 2; ++run) {
            ServerProcess server(tmp.path(), "init" + QString::number(run));
            QVERIFY(server.start(data, ports, {"--init", withActor}));
            QVERIFY2(server.waitReady(), server.errorOutput().c_str());
            auto metrics = HttpTestClient::get(ports.http, "/metrics");
            QVERIFY(metrics);
            QVERIFY2(contains(metrics->body, "troupe_actors_total 1\n"), metrics->body.c_str());
            server.signal(SIGTERM);
            QVERIFY(server.waitExit());
            QCOMPARE(server.exitCode(), 0);
            const std::string log = server.errorOutput();
            QVERIFY2(contains(log, run == 0 ? "node initialised by" : "already initialised"),
                     log.c_str());
        }

        const QString bad = tmp.path() + "/bad.sql";
        {
            std::ofstream out(bad.toStdString());
            out << "USE config\nINSERT INTO groups VALUES ('grp1','cluster')\n"
                   "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')\n";
        }
        ServerProcess failing(tmp.path(), "bad");
        QVERIFY(failing.start(tmp.path() + "/fresh", ports, {"--init", bad}));
        QVERIFY(failing.waitExit());
        QCOMPARE(failing.exitCode(), 1);
        QVERIFY2(contains(failing.errorOutput(), "MissingRootUser"), failing.errorOutput().c_str());
    }

    void sigintStopsCleanlyAndTheDirectoryCanBeReused() {
        QTemporaryDir tmp;
        QString data = tmp.path() + "/data";
        Ports ports = freePorts();
        {
            ServerProcess first(tmp.path(), "first");
            QVERIFY(first.start(data, ports));
            QVERIFY2(first.waitReady(), first.errorOutput().c_str());
            first.signal(SIGINT);
            QVERIFY(first.waitExit());
            QCOMPARE(first.exitStatus(), QProcess::NormalExit);
            QCOMPARE(first.exitCode(), 0);
        }
        ServerProcess second(tmp.path(), "second");
        QVERIFY(second.start(data, ports));
        QVERIFY2(second.waitReady(), second.errorOutput().c_str());
        second.signal(SIGTERM);
        QVERIFY(second.waitExit());
        QCOMPARE(second.exitCode(), 0);
    }

    void secondServerOnTheSameDataDirFails() {
        QTemporaryDir tmp;
        QString data = tmp.path() + "/data";
        ServerProcess first(tmp.path(), "first");
        Ports firstPorts = freePorts();
        QVERIFY(first.start(data, firstPorts));
        QVERIFY2(first.waitReady(), first.errorOutput().c_str());

        ServerProcess second(tmp.path(), "second");
        QVERIFY(second.start(data, freePorts()));
        QVERIFY(second.waitExit());
        QCOMPARE(second.exitStatus(), QProcess::NormalExit);
        QVERIFY(second.exitCode() != 0);
        std::string expected = "data directory " + data.toStdString() +
                               " is in use by another troupe-server (pid " +
                               std::to_string(first.pid()) + ")";
        QVERIFY2(contains(second.errorOutput(), expected), second.errorOutput().c_str());

        // The first one is unaffected.
        auto ready = HttpTestClient::get(firstPorts.http, "/ready");
        QVERIFY(ready);
        QCOMPARE(ready->status, 200);
        first.signal(SIGTERM);
        QVERIFY(first.waitExit());
        QCOMPARE(first.exitCode(), 0);
    }

    void systemdNotify_data() {
        QTest::addColumn<bool>("abstract");
        QTest::newRow("socket path") << false;
        QTest::newRow("abstract namespace") << true;
    }

    void systemdNotify() {
        QFETCH(bool, abstract);
        QTemporaryDir tmp;
        std::string name = abstract ? "@troupe-tst-server-" + std::to_string(::getpid())
                                    : tmp.path().toStdString() + "/notify.sock";
        NotifyReceiver receiver(name);
        QVERIFY(receiver.bound());

        Ports ports = freePorts();
        ServerProcess server(tmp.path(), "server");
        server.setEnv("NOTIFY_SOCKET", QString::fromStdString(name));
        server.setEnv("WATCHDOG_USEC", "200000"); // expects WATCHDOG=1 every 100 ms
        QVERIFY(server.start(tmp.path() + "/data", ports));
        QVERIFY2(receiver.waitFor("READY=1", 20s), server.errorOutput().c_str());
        QVERIFY(receiver.waitFor("WATCHDOG=1", 5s));
        QVERIFY(receiver.waitFor("WATCHDOG=1", 5s));
        // READY=1 is sent once the engine is open: /ready agrees.
        auto ready = HttpTestClient::get(ports.http, "/ready");
        QVERIFY(ready);
        QCOMPARE(ready->status, 200);

        server.signal(SIGTERM);
        QVERIFY(receiver.waitFor("STOPPING=1", 10s));
        QVERIFY(server.waitExit());
        QCOMPARE(server.exitCode(), 0);
    }

    void logFileGetsTheLogAndStdoutTheListenLine() {
        QTemporaryDir tmp;
        Ports ports = freePorts();
        QString logFile = tmp.path() + "/troupe.log";
        ServerProcess server(tmp.path(), "server");
        QVERIFY(server.start(tmp.path() + "/data", ports,
                             {"--log-file", logFile, "--log-level", "debug"}));
        QVERIFY2(server.waitReady(), server.errorOutput().c_str());
        std::string listen = "listening on http://127.0.0.1:" + std::to_string(ports.http);
        QVERIFY2(contains(server.standardOutput(), listen), server.standardOutput().c_str());
        server.signal(SIGTERM);
        QVERIFY(server.waitExit());
        QCOMPARE(server.exitCode(), 0);
        std::ifstream in(logFile.toStdString());
        std::string log((std::istreambuf_iterator<char>(in)), {});
        QVERIFY2(contains(log, listen), log.c_str());
        QVERIFY(contains(log, "shutting down (SIGTERM)"));
        QVERIFY2(server.errorOutput().empty(), server.errorOutput().c_str());
    }

    void busyPortFailsClearly() {
        asio::io_context io;
        asio::ip::tcp::acceptor blocker(
            io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        Ports ports = freePorts();
        ports.http = blocker.local_endpoint().port();

        QTemporaryDir tmp;
        ServerProcess server(tmp.path(), "server");
        QVERIFY(server.start(tmp.path() + "/data", ports));
        QVERIFY(server.waitExit());
        QCOMPARE(server.exitCode(), 1);
        std::string expected =
            "cannot listen on 127.0.0.1:" + std::to_string(ports.http) + " (HTTP)";
        QVERIFY2(contains(server.errorOutput(), expected), server.errorOutput().c_str());
    }

    void dataDirThatIsAFileFailsClearly() {
        QTemporaryDir tmp;
        QString file = tmp.path() + "/not-a-dir";
        std::ofstream(file.toStdString()) << "x";
        ServerProcess server(tmp.path(), "server");
        QVERIFY(server.start(file, freePorts()));
        QVERIFY(server.waitExit());
        QCOMPARE(server.exitCode(), 1);
        QVERIFY2(contains(server.errorOutput(), file.toStdString() + " is not a directory"),
                 server.errorOutput().c_str());
    }

    void badConfigExitsWithCode2() {
        QTemporaryDir tmp;
        std::string conf = tmp.path().toStdString() + "/troupe.conf";
        std::ofstream(conf) << "[storage]\nfsync = \"always\"\nfsync_every = \"1s\"\n";
        ServerProcess server(tmp.path(), "server");
        QVERIFY(server.start(tmp.path() + "/data", freePorts(),
                             {"--config", QString::fromStdString(conf)}));
        QVERIFY(server.waitExit());
        QCOMPARE(server.exitCode(), 2);
        QVERIFY2(contains(server.errorOutput(), conf + ":3: unknown key 'storage.fsync_every'"),
                 server.errorOutput().c_str());
        QVERIFY(!std::filesystem::exists(tmp.path().toStdString() + "/data"));
    }
};

QTEST_GUILESS_MAIN(TestServer)
#include "tst_server.moc"
