#pragma once

// Executor: the worker threads that own actors (STYLE "each actor belongs to one executor
// thread"). An actor is owned by worker hash(type, name) % N; every request for it is queued
// to that worker, so an actor's requests never run concurrently and need no lock.
//
// A worker keeps an LRU of open actors (SQLite connections) bounded by the configured limit;
// an idle actor that falls out of it costs nothing beyond its catalog entry. While one commit
// of an actor is on its way to the log, the actor's next requests queue, and then run together
// as one transaction (one savepoint per request, so a failing request fails alone) and one log
// entry (DESIGN §4 "per-actor batching"). A worker never blocks on the disk: it hands the write
// set to the log and goes on with other actors. The log's completion answers the clients on the
// storage writer's thread (one hand-off fewer) and sends the actor's bookkeeping back through
// the worker's queue; request callbacks therefore run on a worker or on the writer thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/heartbeat.h"
#include "core/metrics.h"
#include "core/status.h"
#include "sql/value.h"
#include "storage/environment.h"
#include "storage/writer.h"

namespace troupe::sql {

class ActorVfs;
class ActorConnection;

struct ExecutorOptions {
    unsigned threads = 2;
    std::size_t maxOpenActors = 1024;
    std::size_t pageCacheKiB = 512;
    std::size_t maxBatchRequests = 256; // requests of one actor merged into one transaction
    MigrationSource migrations;         // empty: actors are never migrated
    std::filesystem::path spillDir;     // large results of requests that allow it (RowSpill)
};

// One request to an actor.
//
// Sql and Delete are whole requests. The Txn* kinds are the steps of a multi-actor transaction
// (see ActorTxn): TxnLock takes the actor for transaction `txn` and opens its SQLite
// transaction (queueing behind the actor's other work, or failing with Busy when `tryLock`);
// TxnRun runs SQL in it; TxnCommit ends the SQLite transaction and puts the actor's catalog op
// and write set into `*prepared` (the actor stays locked, its pages pending); TxnEnd releases
// the actor: `outcome` OK after the combined entry is durable, an error to roll back.
struct ActorTask {
    enum class Kind { Sql, Delete, TxnLock, TxnRun, TxnCommit, TxnEnd };
    Kind kind = Kind::Sql;
    std::string type;
    std::string name;
    std::string sql;
    std::vector<Value> params;
    ExecFlags flags;
    std::function<void(Result<ExecResult>)> done;
    std::uint64_t txn = 0;                 // Txn*: the transaction
    bool tryLock = false;                  // TxnLock
    bool deleteActor = false;              // TxnCommit: delete the actor instead of writing
    std::string copyFrom;                  // TxnCommit: replace the actor by a copy of this one
    storage::LogEntry* prepared = nullptr; // TxnCommit
    Status outcome;                        // TxnEnd
};

struct ExecutorMetrics {
    explicit ExecutorMetrics(MetricsRegistry& registry);
    Gauge& actorsOpen;
    Counter& writes;
    Counter& reads;
    Counter& errors;
    Counter& cacheHits;
    Counter& cacheMisses;
    Counter& committedReads;
    Counter& batchedRequests;
    Counter& evictScanSteps; // actors looked at to find one to close (linear, not quadratic)
};

class Executor {
public:
    Executor(storage::Environment& env, storage::Log& log, ActorVfs& vfs, MetricsRegistry& metrics,
             ExecutorOptions options, std::uint64_t maxActorId);
    ~Executor(); // stop()

    // Queues a task on the actor's worker. After stop(), completes with ShuttingDown.
    void submit(ActorTask task);

    // Finishes every queued and in-flight task, closes every actor, joins the workers.
    void stop();
    // Stops the SQL running on every worker now, and every request's SQL after it, with
    // ShuttingDown (the first step of shutdown: an endless statement must not hold it up).
    // Commits already on their way to the log still complete. Idempotent; any thread.
    void interruptAll() { m_interrupting.store(true); }

    // Stall detection (core/heartbeat.h): the first worker that has had events waiting and
    // finished none for `timeout`. Any thread; not during or after stop().
    Health health(Heartbeat::Clock::time_point now, Heartbeat::Clock::duration timeout) const;

    std::uint64_t allocateActorId() { return m_nextActorId.fetch_add(1) + 1; }
    std::uint64_t allocateTxnId() { return m_nextTxnId.fetch_add(1) + 1; }
    storage::Log& log() { return m_log; }

private:
    class Worker;
    friend class Worker;

    storage::Environment& m_env;
    storage::Log& m_log;
    ActorVfs& m_vfs;
    ExecutorMetrics m_metrics;
    ExecutorOptions m_options;
    std::atomic<std::uint64_t> m_nextActorId;
    std::atomic<std::uint64_t> m_nextTxnId{0};
    std::atomic<bool> m_stopped{false};
    std::atomic<bool> m_interrupting{false}; // read by every actor's progress handler
    std::vector<std::unique_ptr<Worker>> m_workers;
};

} // namespace troupe::sql
