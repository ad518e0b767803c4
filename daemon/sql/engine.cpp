#include "sql/engine.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>

#include <sqlite3.h>
#include <thread>

#include "core/log.h"
#include "sql/executor.h"
#include "sql/vfs.h"
#include "storage/catalog.h"
#include "storage/log_store.h"
#include "storage/writer.h"

namespace troupe::sql {

class Engine::Impl {
public:
    EngineOptions options;
    MetricsRegistry* metrics = nullptr;
    std::unique_ptr<storage::Environment> env;
    std::unique_ptr<storage::Writer> writer;
    std::unique_ptr<storage::LocalLog> log;
    std::unique_ptr<ActorVfs> vfs;
    std::unique_ptr<Executor> executor;
    std::atomic<bool> shutDown{false};

    ~Impl() {
        shutdown();
        executor.reset();
    }

    void shutdown() {
        if (shutDown.exchange(true))
            return;
        // Order matters: requests finish (their commits need the writer), then the writer
        // drains and syncs, then no connection is left when the VFS and LMDB close.
        if (executor) {
            executor->interruptAll(); // a statement that never ends must not hold shutdown up
            executor->stop();
        }
        if (writer)
            writer->stop();
        // The stopped executor stays: late calls get ShuttingDown from it.
        vfs.reset();
        writer.reset();
        if (env)
            (void)env->sync();
        env.reset();
        log::get("engine")->info("storage closed");
    }
};

Engine::Engine(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Engine::~Engine() {
    shutdown();
}

namespace {

// Process-wide SQLite settings, before SQLite initialises. Without this every connection
// preallocates 20 page-cache lines (~87 KB) when it first reads its schema: with a thousand
// open actors that was three quarters of the heap (massif).
void configureSqliteOnce() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0) != SQLITE_OK)
            log::get("engine")->warn("SQLite was initialised before the engine: connections "
                                     "keep SQLite's default page-cache preallocation");
    });
}

// LMDB reader slots when the options leave it to the engine. A snapshot is held by an actor
// connection inside a transaction; an actor has at most two connections (writer and committed
// reader) and the executors keep maxOpenActors open, so this covers every open actor even
// without sharing (Environment::shareRead) and leaves room for catalog and metrics reads.
// Actors locked by transactions stay open beyond the limit: running out is still possible,
// and is a retryable Busy. Slots cost 64 bytes of lock.mdb each.
unsigned readerSlotsFor(std::size_t maxOpenActors) {
    const std::size_t slots = 2 * maxOpenActors + 128;
    return unsigned(std::clamp<std::size_t>(slots, storage::kDefaultMaxReaders, 1u << 16));
}

} // namespace

Result<std::unique_ptr<Engine>> Engine::open(const EngineOptions& options) {
    configureSqliteOnce();
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->metrics = options.metrics ? options.metrics : &MetricsRegistry::global();
    auto logger = log::get("engine");

    std::error_code ec;
    std::filesystem::create_directories(options.dataDir, ec);
    if (ec)
        return Status(ErrorCode::IoError, "cannot create data directory '" +
                                              options.dataDir.string() + "': " + ec.message());
    storage::EnvironmentOptions storageOptions = options.storage;
    if (storageOptions.maxReaders == 0)
        storageOptions.maxReaders = readerSlotsFor(options.maxOpenActors);
    storageOptions.metrics = impl->metrics; // troupe_corruption_detected_total
    auto env = storage::Environment::open(options.dataDir, storageOptions);
    if (!env)
        return env.status().withContext("opening " + options.dataDir.string());
    impl->env = std::move(*env);

    storage::WriterOptions writerOptions;
    writerOptions.fsyncInterval = options.fsyncInterval;
    impl->writer = std::make_unique<storage::Writer>(*impl->env, *impl->metrics, writerOptions);

    auto recovered = storage::recoverLog(*impl->env, *impl->writer);
    if (!recovered)
        return recovered.status().withContext("crash recovery");
    if (*recovered > 0)
        logger->info("recovery applied {} committed log entries", *recovered);
    impl->writer->start();
    impl->log = std::make_unique<storage::LocalLog>(*impl->writer);
    impl->vfs = std::make_unique<ActorVfs>(*impl->env);

    std::uint64_t maxId = 0;
    {
        auto txn = impl->env->beginRead();
        if (!txn)
            return txn.status();
        auto id = storage::Catalog::maxActorId(*impl->env, txn->get());
        if (!id)
            return id.status();
        maxId = *id;
    }

    ExecutorOptions exec;
    exec.threads = options.executorThreads ? options.executorThreads
                                           : std::max(2u, std::thread::hardware_concurrency());
    exec.maxOpenActors = options.maxOpenActors;
    exec.pageCacheKiB = options.pageCacheKiB;
    exec.migrations = options.migrations;
    exec.spillDir = options.dataDir / "tmp";
    std::error_code spillError; // spill files of an earlier run (normally gone with it already)
    std::filesystem::remove_all(exec.spillDir, spillError);
    impl->executor =
        std::make_unique<Executor>(*impl->env, *impl->log, *impl->vfs, *impl->metrics, exec, maxId);

    storage::Environment* envPtr = impl->env.get();
    impl->metrics->callbackGauge("troupe_actors_total", "Actors in the catalog", [envPtr] {
        auto txn = envPtr->beginRead();
        if (!txn)
            return 0.0;
        auto n = storage::Catalog::count(*envPtr, txn->get(), "");
        return n ? double(*n) : 0.0;
    });
    impl->metrics->callbackGauge("troupe_lmdb_map_size_bytes", "Current LMDB map size",
                                 [envPtr] { return double(envPtr->mapSize()); });
    logger->info("storage open in {} ({} executor threads, up to {} open actors)",
                 options.dataDir.string(), exec.threads, exec.maxOpenActors);
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

void Engine::executeAsync(std::string type, std::string name, std::string sql,
                          std::vector<Value> params, ExecFlags flags, Callback done) {
    if (m_impl->shutDown) {
        done(Status(ErrorCode::ShuttingDown, "the server is shutting down"));
        return;
    }
    ActorTask task;
    task.type = std::move(type);
    task.name = std::move(name);
    task.sql = std::move(sql);
    task.params = std::move(params);
    task.flags = flags;
    task.done = std::move(done);
    m_impl->executor->submit(std::move(task));
}

namespace {

template <typename Submit> Result<ExecResult> waitFor(Submit submit) {
    auto promise = std::make_shared<std::promise<Result<ExecResult>>>();
    auto future = promise->get_future();
    submit([promise](Result<ExecResult> r) { promise->set_value(std::move(r)); });
    return future.get();
}

} // namespace

Result<ExecResult> Engine::execute(std::string_view type, std::string_view name,
                                   std::string_view sql, std::vector<Value> params,
                                   ExecFlags flags) {
    return waitFor([&](Callback cb) {
        executeAsync(std::string(type), std::string(name), std::string(sql), std::move(params),
                     flags, std::move(cb));
    });
}

Result<bool> Engine::exists(std::string_view type, std::string_view name) {
    TROUPE_RETURN_IF_ERROR(storage::validateActorKey(type, name));
    auto txn = m_impl->env->beginRead();
    if (!txn)
        return txn.status();
    auto found = storage::Catalog::find(*m_impl->env, txn->get(), type, name);
    if (found)
        return true;
    if (found.status().code() == ErrorCode::NotFound)
        return false;
    return found.status();
}

Result<std::vector<std::string>> Engine::list(std::string_view type, std::string_view prefix,
                                              std::string_view afterName, std::size_t limit) {
    auto txn = m_impl->env->beginRead();
    if (!txn)
        return txn.status();
    auto records = storage::Catalog::list(*m_impl->env, txn->get(), type, prefix, afterName, limit);
    if (!records)
        return records.status();
    std::vector<std::string> names;
    names.reserve(records->size());
    for (auto& r : *records)
        names.push_back(std::move(r.name));
    return names;
}

Result<std::uint64_t> Engine::count(std::string_view type) {
    auto txn = m_impl->env->beginRead();
    if (!txn)
        return txn.status();
    return storage::Catalog::count(*m_impl->env, txn->get(), type);
}

Status Engine::remove(std::string_view type, std::string_view name) {
    if (m_impl->shutDown)
        return Status(ErrorCode::ShuttingDown, "the server is shutting down");
    auto r = waitFor([&](Callback cb) {
        ActorTask task;
        task.kind = ActorTask::Kind::Delete;
        task.type = std::string(type);
        task.name = std::string(name);
        task.done = std::move(cb);
        m_impl->executor->submit(std::move(task));
    });
    return r.status();
}

Result<std::string> Engine::readMeta(std::string_view key) {
    auto txn = m_impl->env->beginRead();
    if (!txn)
        return txn.status();
    return m_impl->env->readMeta(txn->get(), key);
}

Status Engine::writeMeta(std::vector<storage::MetaOp> ops) {
    if (m_impl->shutDown)
        return Status(ErrorCode::ShuttingDown, "the server is shutting down");
    storage::LogEntry entry;
    entry.metaOps = std::move(ops);
    auto promise = std::make_shared<std::promise<Status>>();
    auto future = promise->get_future();
    m_impl->log->submit(std::move(entry), true,
                        [promise](Status s) { promise->set_value(std::move(s)); });
    return future.get();
}

Executor& Engine::executor() {
    return *m_impl->executor;
}

Health Engine::health(Heartbeat::Clock::time_point now, Heartbeat::Clock::duration timeout) const {
    Health h = Health::check(m_impl->writer->heartbeat(), "storage writer", now, timeout);
    return h.stalled ? h : m_impl->executor->health(now, timeout);
}

storage::Environment& Engine::environment() {
    return *m_impl->env;
}

void Engine::shutdown() {
    if (m_impl)
        m_impl->shutdown();
}

} // namespace troupe::sql
