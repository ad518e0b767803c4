#pragma once

// Server: the composition root of troupe-server. Builds the node from a Config in a fixed order
// and tears it down in the reverse one:
//
//   lock the data directory -> HTTP status server (/health answers during recovery)
//   -> Engine::open (recovery) -> ready: /ready 200, READY=1 to systemd, "listening" line
//   ... until requestStop() ...
//   -> not ready: /ready 503, STOPPING=1 -> running SQL interrupted (Database::interruptAll)
//   -> HTTP stops accepting, finishes in-flight responses
//   -> Engine::shutdown (flush, close LMDB) -> unlock.
//
// Future front ends (Thrift, MySQL, node transport) start after the engine and stop before it,
// next to the HTTP server.
//
// Ownership and threads: main() (or, later, a Windows ServiceMain) owns the Server and calls
// run() on its thread; run() owns every component and one io_context thread for the network.
// requestStop() may be called from any thread (the ShutdownWatcher's, a service handler's).

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "app/config.h"
#include "core/metrics.h"
#include "core/status.h"

namespace troupe::sql {
class Database;
struct SecurityServices;
} // namespace troupe::sql

namespace troupe::app {

class Server {
public:
    explicit Server(Config config);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Starts the node, serves until requestStop(), shuts down. Returns the process exit code:
    // 0 after a clean shutdown, 1 if the node could not start.
    int run();

    // Asks run() to shut down; thread-safe and idempotent (a repeated request is only logged).
    void requestStop(std::string_view reason);

    bool ready() const { return m_ready.load(); }

private:
    struct Parts; // everything run() builds, in construction order
    void registerMetrics();
    static Gauge& readyGauge();
    Status start(Parts& parts);
    void announceReady(Parts& parts);
    Status startSecurity(sql::SecurityServices& security); // login guard, audit log
    Status runInitScript(sql::Database& database);         // --init, on an uninitialised node
    int fail(const std::string& message, Parts& parts);
    void shutdown(Parts& parts);
    void waitForStop();
    bool stopRequested();

    Config m_config;
    std::atomic<bool> m_ready{false};

    std::mutex m_mutex; // guards m_stopRequested and m_stopReason
    std::condition_variable m_stopCv;
    bool m_stopRequested = false;
    std::string m_stopReason;
};

} // namespace troupe::app
