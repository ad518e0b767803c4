#include "app/server.h"

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <asio.hpp>

#include "app/platform/platform.h"
#include "core/heartbeat.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/http_server.h"
#include "http/status_endpoints.h"
#include "mysql/server.h"
#include "net/descriptor_budget.h"
#include "sql/audit.h"
#include "sql/database.h"
#include "sql/login_guard.h"
#include "thrift/server.h"

namespace troupe::app {

namespace {

std::shared_ptr<spdlog::logger> logger() {
    return log::get("app");
}

std::string hostPort(const std::string& address, std::uint16_t port) {
    bool v6 = address.find(':') != std::string::npos;
    return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

// The connection caps, lowered (with a warning) where the descriptor limit cannot hold them all
// (net/descriptor_budget.h): a flood of MySQL or Thrift connections must not take the
// descriptors that /health and the storage need.
net::ConnectionCaps connectionCaps(const Config& c) {
    const net::ConnectionCaps wanted{c.mysqlMaxConnections, c.thriftMaxConnections,
                                     c.httpMaxConnections};
    const std::uint64_t inUse = net::descriptorsInUse();
    const std::uint64_t reserved = inUse + net::kReservedDescriptors;
    const std::uint64_t limit =
        net::raiseDescriptorLimit(reserved + wanted.mysql + wanted.thrift + wanted.http);
    if (limit == 0 || inUse == 0)
        return wanted; // unknown here (Windows)
    const net::ConnectionCaps caps =
        net::fitConnections(wanted, limit > reserved ? limit - reserved : 0);
    if (caps != wanted)
        logger()->warn("the descriptor limit ({}, {} in use) cannot hold every connection: "
                       "serving at most {} MySQL, {} Thrift and {} HTTP connections instead of "
                       "{}, {} and {}; raise the limit (ulimit -n, LimitNOFILE=) to serve more",
                       limit, inUse, caps.mysql, caps.thrift, caps.http, wanted.mysql,
                       wanted.thrift, wanted.http);
    return caps;
}

void notify(std::string_view state) {
    if (Status s = platform::notifyServiceManager(state); !s)
        logger()->warn("service manager notification {} failed: {}", state, s.message());
}

// StallWatch: the one stall check of the node (issue 13): /ready, the troupe_stalled gauge and
// (later) the systemd watchdog call check(). Shared by Server::Parts and the gauge's callback,
// which outlives the engine: shutdown detaches the engine first. Any thread.
class StallWatch {
public:
    explicit StallWatch(std::chrono::milliseconds timeout) : m_timeout(timeout) {}

    void attach(sql::Engine* engine) {
        std::lock_guard lock(m_mutex);
        m_engine = engine;
    }

    // Healthy while no engine is attached (starting, stopped). Logs when the state changes.
    Health check() {
        Health h;
        {
            std::lock_guard lock(m_mutex);
            if (m_engine)
                h = m_engine->health(Heartbeat::Clock::now(), m_timeout);
        }
        if (m_stalled.exchange(h.stalled) != h.stalled) {
            if (h.stalled)
                logger()->error("stalled, /ready says 503: {}", h.reason);
            else
                logger()->info("no longer stalled: /ready says 200 again");
        }
        return h;
    }

private:
    const std::chrono::milliseconds m_timeout;
    std::mutex m_mutex; // guards m_engine
    sql::Engine* m_engine = nullptr;
    std::atomic<bool> m_stalled{false};
};

} // namespace

struct Server::Parts {
    std::unique_ptr<platform::DataDirLock> lock;
    asio::io_context io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::thread ioThread;
    std::unique_ptr<http::HttpServer> http;
    std::unique_ptr<sql::Database> database;
    std::unique_ptr<mysql::MysqlServer> mysql;
    std::unique_ptr<thrift::ThriftServer> thrift;
    std::shared_ptr<StallWatch> stall;
    std::optional<asio::steady_timer> watchdog;
    std::chrono::microseconds watchdogPeriod{0};

    void kickWatchdog() {
        notify("WATCHDOG=1");
        watchdog->expires_after(watchdogPeriod);
        watchdog->async_wait([this](const asio::error_code& ec) {
            if (!ec)
                kickWatchdog();
        });
    }
};

Server::Server(Config config) : m_config(std::move(config)) {}

Server::~Server() = default;

void Server::requestStop(std::string_view reason) {
    std::lock_guard lock(m_mutex);
    if (m_stopRequested) {
        logger()->warn("{}: shutdown already in progress", reason);
        return;
    }
    m_stopRequested = true;
    m_stopReason = std::string(reason);
    m_stopCv.notify_all();
}

bool Server::stopRequested() {
    std::lock_guard lock(m_mutex);
    return m_stopRequested;
}

void Server::waitForStop() {
    std::unique_lock lock(m_mutex);
    m_stopCv.wait(lock, [this] { return m_stopRequested; });
}

int Server::run() {
    const Config& c = m_config;
    registerMetrics();
    logger()->info("troupe-server {} starting: pid {}, data directory {}, config {}",
                   TROUPE_VERSION, platform::currentProcessId(), c.dataDir.string(),
                   c.configFile.empty() ? std::string("(none)") : c.configFile.string());
    Parts parts;
    if (Status s = start(parts); !s)
        return fail(s.message(), parts);
    if (stopRequested()) {
        shutdown(parts); // a signal arrived during recovery: never report ready
        return 0;
    }
    announceReady(parts);
    waitForStop();
    shutdown(parts);
    return 0;
}

void Server::registerMetrics() {
    MetricsRegistry& metrics = MetricsRegistry::global();
    metrics.gauge("troupe_up", "1 while troupe-server runs").set(1);
    metrics.gauge("troupe_process_start_time_seconds", "Start time of the process, Unix seconds")
        .set(std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count());
    readyGauge().set(0);
}

Gauge& Server::readyGauge() {
    return MetricsRegistry::global().gauge("troupe_ready", "1 while the node serves requests");
}

Status Server::start(Parts& parts) {
    const Config& c = m_config;
    const auto started = std::chrono::steady_clock::now(); // uptime in admin_cluster_info
    // Like PostgreSQL: never on a directory others may write (resources/docs/security.md).
    Result<std::string> permissions = platform::checkDataDirectoryPermissions(c.dataDir);
    if (!permissions)
        return permissions.status();
    if (!permissions->empty())
        logger()->warn("{}", *permissions);
    Result<std::unique_ptr<platform::DataDirLock>> lock = platform::DataDirLock::acquire(c.dataDir);
    if (!lock)
        return lock.status();
    parts.lock = std::move(*lock);
    const net::ConnectionCaps caps = connectionCaps(c);

    parts.work.emplace(parts.io.get_executor());
    parts.ioThread = std::thread([&parts] { parts.io.run(); });

    // HTTP before the engine: /health answers and /ready says 503 during recovery.
    http::HttpServerOptions httpOptions;
    httpOptions.address = c.listenAddress;
    httpOptions.port = c.httpPort;
    httpOptions.requestTimeout = c.handshakeTimeout;
    httpOptions.maxConnections = caps.http;
    parts.stall = std::make_shared<StallWatch>(c.stallTimeout);
    MetricsRegistry::global().callbackGauge(
        "troupe_stalled",
        "1 while the storage writer or an executor thread has had work waiting and made no "
        "progress for stall_timeout",
        [stall = parts.stall] { return stall->check().stalled ? 1.0 : 0.0; });
    http::StatusSource source;
    source.ready = [this] { return m_ready.load(); };
    source.stalled = [stall = parts.stall] { return stall->check().reason; };
    source.metrics = [] { return MetricsRegistry::global().renderPrometheus(); };
    parts.http = std::make_unique<http::HttpServer>(parts.io, httpOptions,
                                                    http::makeStatusHandler(std::move(source)));
    TROUPE_RETURN_IF_ERROR(parts.http->start());

    notify("STATUS=opening storage and recovering");
    auto opening = std::chrono::steady_clock::now();
    sql::DatabaseOptions databaseOptions = toDatabaseOptions(c);
    TROUPE_RETURN_IF_ERROR(startSecurity(databaseOptions.security));
    Result<std::unique_ptr<sql::Database>> database = sql::Database::open(databaseOptions);
    if (!database)
        return database.status().withContext("cannot open data directory " + c.dataDir.string());
    parts.database = std::move(*database);
    parts.stall->attach(&parts.database->engine());
    logger()->info("storage open in {} ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - opening)
                                                .count());
    TROUPE_RETURN_IF_ERROR(runInitScript(*parts.database));

    mysql::MysqlServerOptions mysqlOptions;
    mysqlOptions.address = c.listenAddress;
    mysqlOptions.port = c.mysqlPort;
    mysqlOptions.maxPacket = static_cast<std::size_t>(c.maxRequestSize) + 1;
    mysqlOptions.maxConnections = caps.mysql;
    mysqlOptions.resultMemory = static_cast<std::size_t>(c.mysqlResultMemory);
    mysqlOptions.idleTimeout = c.mysqlIdleTimeout;
    mysqlOptions.connectTimeout = c.handshakeTimeout;
    mysqlOptions.authPlugin = c.mysqlAuthPlugin;
    mysqlOptions.requireSecureTransport = c.mysqlRequireSecureTransport;
    mysqlOptions.tlsCertFile = c.tlsCertFile.string();
    mysqlOptions.tlsKeyFile = c.tlsKeyFile.string();
    parts.mysql = std::make_unique<mysql::MysqlServer>(*parts.database, mysqlOptions);
    TROUPE_RETURN_IF_ERROR(parts.mysql->start());

    thrift::ThriftServerOptions thriftOptions;
    thriftOptions.address = c.listenAddress;
    thriftOptions.port = c.thriftPort;
    thriftOptions.maxMessage = static_cast<std::size_t>(c.maxRequestSize) + 1024;
    thriftOptions.tlsCertFile = c.tlsCertFile.string();
    thriftOptions.tlsKeyFile = c.tlsKeyFile.string();
    thriftOptions.maxConnections = caps.thrift;
    thriftOptions.idleTimeout = c.thriftIdleTimeout;
    thriftOptions.connectTimeout = c.handshakeTimeout;
    thriftOptions.facts.startedAt = started;
    thriftOptions.facts.ports = {
        {"mysql", parts.mysql->port()}, {"http", parts.http->port()}, {"node", c.nodePort}};
    parts.thrift = std::make_unique<thrift::ThriftServer>(*parts.database, thriftOptions);
    return parts.thrift->start();
}

// The failed-login guard and the audit log, shared with the front ends through the database's
// options (resources/docs/security.md, "credentials").
Status Server::startSecurity(sql::SecurityServices& security) {
    const Config& c = m_config;
    sql::LoginGuardOptions guard;
    guard.maxFailures = c.maxLoginFailures;
    guard.window = std::chrono::ceil<std::chrono::seconds>(c.loginFailureWindow);
    guard.blockFor = std::chrono::ceil<std::chrono::seconds>(c.loginBlockTime);
    guard.maxBlock = std::chrono::ceil<std::chrono::seconds>(c.loginBlockMax);
    security.loginGuard = std::make_shared<sql::LoginGuard>(guard);
    auto audit = sql::AuditLog::open(auditLogPath(c));
    if (!audit)
        return audit.status();
    security.audit = std::move(*audit);
    logger()->info("audit log {}", auditLogPath(c).string());
    return Status::ok();
}

Status Server::runInitScript(sql::Database& database) {
    const Config& c = m_config;
    if (c.initFile.empty())
        return Status::ok();
    if (database.initialized()) {
        logger()->info("node already initialised; init script {} not run", c.initFile.string());
        return Status::ok();
    }
    std::ifstream in(c.initFile, std::ios::binary);
    if (!in)
        return Status(ErrorCode::IoError, "cannot read init script " + c.initFile.string());
    std::ostringstream text;
    text << in.rdbuf();
    notify("STATUS=running the init script");
    auto done = database.script(sql::Session{}, text.str());
    if (!done)
        return done.status().withContext("init script " + c.initFile.string());
    logger()->info("node initialised by {} ({} actor types)", c.initFile.string(),
                   database.actorTypes().size());
    return Status::ok();
}

void Server::announceReady(Parts& parts) {
    const Config& c = m_config;
    m_ready = true;
    readyGauge().set(1);
    notify("READY=1");
    notify("STATUS=serving");
    std::string line = "listening on http://" + hostPort(c.listenAddress, parts.http->port()) +
                       " (/health /ready /metrics) and mysql://" +
                       hostPort(c.listenAddress, parts.mysql->port()) + " and thrift://" +
                       hostPort(c.listenAddress, parts.thrift->port()) +
                       (parts.thrift->tls() ? " (TLS optional)" : "") + "; node port " +
                       std::to_string(c.nodePort) + " is not served by this build yet";
    logger()->info("{}", line);
    // The listen line must reach the console even when the log does not show it.
    if (!c.logFile.empty() || spdlog::level::from_str(c.logLevel) > spdlog::level::info)
        std::cout << "troupe-server " TROUPE_VERSION " " << line << std::endl;
    if (auto period = platform::watchdogInterval()) {
        parts.watchdogPeriod = *period / 2;
        parts.watchdog.emplace(parts.io);
        asio::post(parts.io, [&parts] { parts.kickWatchdog(); });
    }
}

int Server::fail(const std::string& message, Parts& parts) {
    logger()->critical("{}", message);
    if (!m_config.logFile.empty())
        std::cerr << "troupe-server: " << message << std::endl;
    shutdown(parts);
    return 1;
}

void Server::shutdown(Parts& parts) {
    std::string reason;
    {
        std::lock_guard lock(m_mutex);
        reason = m_stopRequested ? m_stopReason : std::string("start failed");
    }
    bool wasReady = m_ready.exchange(false);
    readyGauge().set(0);
    if (wasReady) {
        logger()->info("shutting down ({})", reason);
        notify("STOPPING=1");
    }
    auto started = std::chrono::steady_clock::now();
    // First stop every running statement (and any a client still sends) with ShuttingDown: a
    // statement that never ends must not hold up the front ends, which wait for their calls.
    if (parts.database)
        parts.database->interruptAll();
    if (parts.http)
        parts.http->stopAndWait(); // no new requests; in-flight ones answered
    if (parts.thrift) {
        parts.thrift->stop(); // connections closed after their call in progress
        parts.thrift.reset();
    }
    if (parts.mysql) {
        parts.mysql->stop(); // connections closed after their query in progress
        parts.mysql.reset();
    }
    if (parts.stall)
        parts.stall->attach(nullptr); // before the engine goes
    if (parts.database) {
        parts.database->shutdown(); // flush, close LMDB
        parts.database.reset();
    }
    if (parts.watchdog)
        asio::post(parts.io, [&parts] { parts.watchdog->cancel(); });
    parts.work.reset();
    if (parts.ioThread.joinable())
        parts.ioThread.join();
    parts.http.reset();
    parts.lock.reset();
    if (wasReady)
        logger()->info("stopped in {} ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::steady_clock::now() - started)
                                               .count());
}

} // namespace troupe::app
