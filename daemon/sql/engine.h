#pragma once

// Engine: one node's actor storage and SQL execution, and the in-process query facade that
// the MySQL, Thrift and HTTP front ends sit on. Owns the Environment, the Writer, the log and
// the executor threads. Composed by daemon/app.
//
// Threads: open() and shutdown() from the owner's thread; execute()/executeAsync() and the
// catalog calls from any thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/heartbeat.h"
#include "core/metrics.h"
#include "core/status.h"
#include "sql/value.h"
#include "storage/environment.h"
#include "storage/log_entry.h"

namespace troupe::sql {

struct EngineOptions {
    std::filesystem::path dataDir;
    storage::EnvironmentOptions storage;           // map size, fsync mode
    std::chrono::milliseconds fsyncInterval{1000}; // for FsyncMode::Interval
    unsigned executorThreads = 0;                  // 0 = number of cores (at least 2)
    std::size_t maxOpenActors = 1024;              // open SQLite connections (LRU)
    std::size_t pageCacheKiB = 512;                // SQLite page cache per open actor
    MetricsRegistry* metrics = nullptr;            // nullptr = MetricsRegistry::global()
    MigrationSource migrations;                    // schema upgrades run before requests
};

class Executor;

class Engine {
public:
    ~Engine(); // shutdown()

    // Opens the data directory's environment, runs crash recovery, starts the threads.
    static Result<std::unique_ptr<Engine>> open(const EngineOptions& options);

    using Callback = std::function<void(Result<ExecResult>)>;

    // Runs `sql` (one or more statements) in actor type(name) as one transaction. The callback
    // runs once the result is known — for a write, after it is durable — on an executor thread
    // or on the storage writer's thread: it must be quick (post the work elsewhere).
    void executeAsync(std::string type, std::string name, std::string sql,
                      std::vector<Value> params, ExecFlags flags, Callback done);
    // Blocking form of executeAsync.
    Result<ExecResult> execute(std::string_view type, std::string_view name, std::string_view sql,
                               std::vector<Value> params = {}, ExecFlags flags = {});

    // Catalog.
    Result<bool> exists(std::string_view type, std::string_view name);
    Result<std::vector<std::string>> list(std::string_view type, std::string_view prefix,
                                          std::string_view afterName, std::size_t limit);
    Result<std::uint64_t> count(std::string_view type);
    // Deletes the actor and frees its pages; durable when this returns. NotFound if missing.
    Status remove(std::string_view type, std::string_view name);

    // The node's meta database (schema, users, id leases): read from the last committed state;
    // written through the log, durable when writeMeta returns.
    Result<std::string> readMeta(std::string_view key);
    Status writeMeta(std::vector<storage::MetaOp> ops);

    // For multi-actor transactions (ActorTxn).
    Executor& executor();
    // Stall detection for /ready and the watchdog: the storage writer or an executor worker has
    // had work waiting and made no progress for `timeout` (core/heartbeat.h). Any thread;
    // not during or after shutdown().
    Health health(Heartbeat::Clock::time_point now, Heartbeat::Clock::duration timeout) const;
    // Read-only inspection of committed state (actor_inspect.h); never write through it.
    storage::Environment& environment();

    // Stops accepting requests, finishes the queued ones, flushes and closes LMDB. Idempotent.
    // Requests after it fail with ShuttingDown; the catalog calls must not race with it.
    void shutdown();

private:
    class Impl;
    explicit Engine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace troupe::sql
