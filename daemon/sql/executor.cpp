#include "sql/executor.h"

#include <optional>

#include "core/log.h"
#include "core/murmur3.h"
#include "sql/actor_connection.h"
#include "sql/cancel_token.h"
#include "sql/vfs.h"
#include "storage/catalog.h"
#include "storage/page_codec.h"
#include "storage/page_store.h"

namespace troupe::sql {

ExecutorMetrics::ExecutorMetrics(MetricsRegistry& registry)
    : actorsOpen(registry.gauge("troupe_actors_open", "Actors with an open SQLite connection")),
      writes(registry.counter("troupe_writes_total", "Requests that changed an actor")),
      reads(registry.counter("troupe_reads_total", "Requests that only read an actor")),
      errors(registry.counter("troupe_request_errors_total", "Requests that failed")),
      cacheHits(registry.counter("troupe_page_cache_hits_total", "SQLite page cache hits")),
      cacheMisses(registry.counter("troupe_page_cache_misses_total",
                                   "SQLite page cache misses (pages read from LMDB)")),
      committedReads(registry.counter(
          "troupe_committed_reads_total",
          "Reads answered from an actor's committed state while a write of it was in flight")),
      batchedRequests(registry.counter(
          "troupe_batched_requests_total",
          "Requests that joined another request of the same actor in one transaction")),
      evictScanSteps(registry.counter(
          "troupe_executor_evict_scan_steps_total",
          "Open actors the executors looked at to find one to close (the LRU scan's work)")) {}

namespace {

std::string actorKey(const std::string& type, const std::string& name) {
    std::string key;
    key.reserve(type.size() + name.size() + 1);
    key += char(type.size());
    key += type;
    key += name;
    return key;
}

std::string describe(const std::string& type, const std::string& name) {
    return type + "(" + name + ")";
}

} // namespace

// One executor thread and the actors it owns. Everything but post() runs on its thread.
class Executor::Worker {
public:
    explicit Worker(Executor& executor)
        : m_executor(executor),
          m_openLimit(std::max<std::size_t>(1, executor.m_options.maxOpenActors /
                                                   executor.m_options.threads)) {
        m_thread = std::thread([this] { run(); });
    }

    // Queues an event; false once the worker has finished (after stop).
    bool post(std::function<void()> event) {
        // Notify under the lock: once the worker has seen its last event it may be destroyed,
        // and a notify after unlocking could touch a destroyed condition variable.
        std::lock_guard lock(m_mutex);
        if (m_closed)
            return false;
        m_events.push_back(std::move(event));
        m_beat.queued();
        m_cv.notify_one();
        return true;
    }

    // Events waiting and the last one finished (issue 13 stall detection). Any thread.
    const Heartbeat& heartbeat() const { return m_beat; }

    void stopAndJoin() {
        post([this] { m_stopRequested = true; });
        if (m_thread.joinable())
            m_thread.join();
    }

    void handleTask(ActorTask task);

private:
    // An actor this worker has open or is working on. Pinned (not evictable) while a commit is
    // in flight or requests wait.
    struct ActorState {
        storage::ActorRecord record;
        bool persisted = false; // its catalog entry is durable
        std::unique_ptr<ActorConnection> conn;
        bool inFlight = false;
        std::deque<ActorTask> waiting;
        std::list<ActorState*>::iterator lru; // in m_lru, or in m_parked while parked
        bool parked = false;
        std::string key;
        std::uint64_t lockedBy = 0; // the multi-actor transaction holding it (0: none)
        bool txnCommitted = false;  // lockedBy's TxnCommit ran: its pages are pending
        bool txnDelete = false;     // lockedBy deletes the actor
        bool versionKnown = false;  // schemaVersion matches the database
        bool migratedInTxn = false; // the open or in-flight transaction migrated the schema
        std::uint32_t schemaVersion = 0;
        // Reads the last committed state while the writer connection is busy (a commit in
        // flight or a transaction lock): a second connection whose file has no overlay.
        std::unique_ptr<ActorConnection> reader;
    };

    // The requests of one commit on its way to the log, answered by the log's completion.
    struct Flight {
        std::vector<ActorTask> tasks;
        std::vector<Result<ExecResult>> results; // one per task
        std::string actor;                       // "type(name)", for errors
    };

    void run();
    void submitToLog(ActorState* st, storage::LogEntry entry, bool forceSync,
                     std::shared_ptr<Flight> flight);
    ActorState* findOrCreate(ActorTask& task);
    void runBatch(ActorState* st, std::vector<ActorTask> tasks);
    void runDelete(ActorState* st, ActorTask task);
    void grantLock(ActorState* st, ActorTask task);
    bool canReadCommitted(const ActorState* st, const ActorTask& task) const;
    void runCommittedRead(ActorState* st, ActorTask task);
    SpillPolicy spillFor(const ActorTask& task) const;
    // Runs the request's own SQL with its time limit, cancel token and the executor's
    // interruptAll() watched by the connection's progress handler (issue 13).
    Result<ExecResult> runUserSql(ActorConnection& conn, const ActorTask& task,
                                  const SpillPolicy& spill);
    void txnRun(ActorState* st, ActorTask task);
    void txnCommit(ActorState* st, ActorTask task);
    void txnEnd(ActorState* st, ActorTask task);
    Result<storage::WriteSet> copyWriteSet(const storage::ActorRecord& target,
                                           const std::string& type, const std::string& source);
    // Brings the actor's tables up to its type's schema inside the open transaction.
    Status migrate(ActorState* st);
    void rollback(ActorState* st);
    void completed(ActorState* st, const Status& status, bool wasDelete);
    void processNext(ActorState* st);
    // Answers a request; any thread (it touches only atomics and the request itself).
    void reply(ActorTask& task, Result<ExecResult> result);
    Status ensureOpen(ActorState* st);
    void closeConnection(ActorState* st);
    void touch(ActorState* st);
    void erase(ActorState* st);
    static bool evictable(const ActorState* st);
    void unpark(ActorState* st);
    void evictIdle();

    Executor& m_executor;
    std::size_t m_openLimit;
    std::thread m_thread;

    std::mutex m_mutex; // guards m_events
    std::condition_variable m_cv;
    std::deque<std::function<void()>> m_events;
    bool m_closed = false;
    Heartbeat m_beat; // atomics: queued by post(), taken and progressed by run()

    // Worker thread only.
    std::unordered_map<std::string, std::unique_ptr<ActorState>> m_actors;
    std::list<ActorState*> m_lru; // front = most recently used
    // Actors evictIdle() found pinned (in flight, locked, waiting), kept out of its way until
    // they are touched or done (unpark): a request that locks N actors costs O(N) scanning,
    // not O(N^2) (issue 13).
    std::list<ActorState*> m_parked;
    std::size_t m_open = 0;
    std::size_t m_inFlight = 0;
    bool m_stopRequested = false;
};

void Executor::Worker::run() {
    for (;;) {
        std::deque<std::function<void()>> events;
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, [&] { return !m_events.empty(); });
            events.swap(m_events);
        }
        for (auto& event : events) {
            m_beat.taken();
            event();
            m_beat.progressed();
        }
        if (m_stopRequested && m_inFlight == 0) {
            std::lock_guard lock(m_mutex);
            if (m_events.empty()) {
                m_closed = true;
                break;
            }
        }
    }
    // Every actor is idle now: close the connections on the thread that used them.
    for (auto& [key, st] : m_actors)
        closeConnection(st.get());
    m_actors.clear();
    m_lru.clear();
    m_parked.clear();
}

void Executor::Worker::reply(ActorTask& task, Result<ExecResult> result) {
    const bool request = task.kind == ActorTask::Kind::Sql || task.kind == ActorTask::Kind::Delete;
    if (!request) {
        // The steps of a multi-actor transaction: its coordinator counts the request.
    } else if (!result.isOk())
        m_executor.m_metrics.errors.add();
    else if (result->wrote)
        m_executor.m_metrics.writes.add();
    else
        m_executor.m_metrics.reads.add();
    if (task.done)
        task.done(std::move(result));
}

Executor::Worker::ActorState* Executor::Worker::findOrCreate(ActorTask& task) {
    std::string key = actorKey(task.type, task.name);
    if (auto it = m_actors.find(key); it != m_actors.end())
        return it->second.get();

    if (Status st = storage::validateActorKey(task.type, task.name); !st.isOk()) {
        reply(task, st);
        return nullptr;
    }
    auto txn = m_executor.m_env.beginRead();
    if (!txn) {
        reply(task, txn.status());
        return nullptr;
    }
    auto found = storage::Catalog::find(m_executor.m_env, txn->get(), task.type, task.name);
    txn->reset();
    auto state = std::make_unique<ActorState>();
    if (found.isOk()) {
        state->record = std::move(*found);
        state->persisted = true;
    } else if (found.status().code() != ErrorCode::NotFound) {
        reply(task, found.status());
        return nullptr;
    } else if (task.kind == ActorTask::Kind::Delete) {
        reply(task, Status(ErrorCode::NotFound,
                           "actor " + describe(task.type, task.name) + " does not exist"));
        return nullptr;
    } else if (!task.flags.create) {
        reply(task,
              Status(ErrorCode::NoCreate, "actor " + describe(task.type, task.name) +
                                              " does not exist; add the create flag to create it"));
        return nullptr;
    } else {
        state->record.type = task.type;
        state->record.name = task.name;
        state->record.id = m_executor.allocateActorId();
        state->record.hash = murmur3_32(task.name);
    }
    state->key = key;
    ActorState* raw = state.get();
    m_lru.push_front(raw);
    raw->lru = m_lru.begin();
    m_actors.emplace(std::move(key), std::move(state));
    return raw;
}

void Executor::Worker::handleTask(ActorTask task) {
    using Kind = ActorTask::Kind;
    if (task.kind == Kind::TxnRun || task.kind == Kind::TxnCommit || task.kind == Kind::TxnEnd) {
        auto it = m_actors.find(actorKey(task.type, task.name));
        if (it == m_actors.end() || it->second->lockedBy != task.txn) {
            reply(task, Status(ErrorCode::Internal, "transaction " + std::to_string(task.txn) +
                                                        " does not hold actor " +
                                                        describe(task.type, task.name)));
            return;
        }
        ActorState* st = it->second.get();
        if (task.kind == Kind::TxnRun)
            txnRun(st, std::move(task));
        else if (task.kind == Kind::TxnCommit)
            txnCommit(st, std::move(task));
        else
            txnEnd(st, std::move(task));
        return;
    }
    ActorState* st = findOrCreate(task);
    if (!st)
        return;
    if (st->inFlight || st->lockedBy != 0) {
        if (canReadCommitted(st, task)) {
            runCommittedRead(st, std::move(task));
            return;
        }
        if (task.kind == Kind::TxnLock && task.tryLock) {
            reply(task,
                  Status(ErrorCode::Busy, "actor " + describe(task.type, task.name) + " is busy"));
            return;
        }
        st->waiting.push_back(std::move(task));
        return;
    }
    if (task.kind == Kind::Delete) {
        runDelete(st, std::move(task));
        return;
    }
    if (task.kind == Kind::TxnLock) {
        grantLock(st, std::move(task));
        return;
    }
    std::vector<ActorTask> tasks;
    tasks.push_back(std::move(task));
    runBatch(st, std::move(tasks));
}

void Executor::Worker::touch(ActorState* st) {
    if (st->parked)
        unpark(st);
    else
        m_lru.splice(m_lru.begin(), m_lru, st->lru);
}

void Executor::Worker::unpark(ActorState* st) {
    m_lru.splice(m_lru.begin(), m_parked, st->lru);
    st->parked = false;
}

void Executor::Worker::closeConnection(ActorState* st) {
    st->versionKnown = false;
    st->migratedInTxn = false;
    st->reader.reset();
    if (st->conn) {
        st->conn.reset();
        --m_open;
        m_executor.m_metrics.actorsOpen.add(-1);
    }
}

void Executor::Worker::erase(ActorState* st) {
    closeConnection(st);
    (st->parked ? m_parked : m_lru).erase(st->lru);
    m_actors.erase(st->key); // destroys st
}

bool Executor::Worker::evictable(const ActorState* st) {
    return !st->inFlight && !st->lockedBy && st->waiting.empty() && st->persisted && st->conn;
}

void Executor::Worker::evictIdle() {
    // Walk from the least recently used end. A pinned actor is parked, so the next walk does not
    // pass it again: every actor costs one step per time it is touched or unpinned (processNext
    // unparks it), however many actors a transaction holds.
    while (m_open >= m_openLimit && !m_lru.empty()) {
        m_executor.m_metrics.evictScanSteps.add();
        ActorState* st = m_lru.back();
        if (evictable(st)) {
            erase(st);
            continue;
        }
        m_parked.splice(m_parked.begin(), m_lru, st->lru);
        st->parked = true;
    }
}

Status Executor::Worker::ensureOpen(ActorState* st) {
    if (st->conn)
        return Status::ok();
    if (m_open >= m_openLimit)
        evictIdle();
    auto conn =
        ActorConnection::open(m_executor.m_vfs, st->record.id, m_executor.m_options.pageCacheKiB);
    if (!conn)
        return conn.status();
    st->conn = std::move(*conn);
    ++m_open;
    m_executor.m_metrics.actorsOpen.add(1);
    return Status::ok();
}

void Executor::Worker::runBatch(ActorState* st, std::vector<ActorTask> tasks) {
    touch(st);
    auto failAll = [&](const Status& error) {
        for (ActorTask& t : tasks)
            reply(t, error);
        if (!st->persisted && st->waiting.empty())
            erase(st);
        else
            processNext(st);
    };
    if (Status open = ensureOpen(st); !open.isOk()) {
        failAll(open.withContext("actor " + describe(st->record.type, st->record.name)));
        return;
    }
    ActorConnection& conn = *st->conn;
    if (Status begin = conn.exec(ActorConnection::Txn::Begin); !begin.isOk()) {
        closeConnection(st);
        failAll(begin);
        return;
    }
    if (Status migrated = migrate(st); !migrated.isOk()) {
        rollback(st);
        failAll(migrated);
        return;
    }

    std::vector<Result<ExecResult>> results;
    results.reserve(tasks.size());
    const bool single = tasks.size() == 1;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        if (!single)
            (void)conn.exec(ActorConnection::Txn::Savepoint);
        Result<ExecResult> r = runUserSql(conn, tasks[i], spillFor(tasks[i]));
        if (!conn.inTransaction()) {
            // SQLite ended the transaction itself (I/O error, ON CONFLICT ROLLBACK): the
            // requests before this one were undone too.
            Status lost =
                r.isOk() ? Status(ErrorCode::Internal, "transaction ended early") : r.status();
            results.clear();
            closeConnection(st);
            failAll(lost);
            return;
        }
        if (!single) {
            if (!r.isOk())
                (void)conn.exec(ActorConnection::Txn::RollbackToSavepoint);
            (void)conn.exec(ActorConnection::Txn::Release);
        }
        results.push_back(std::move(r));
    }
    bool anyOk = false;
    for (auto& r : results)
        anyOk = anyOk || r.isOk();
    if (!anyOk && (single || !st->persisted)) {
        // Nothing to keep: a failed request, or only failures on an actor that does not exist
        // yet (its migration must not be committed without its catalog entry).
        rollback(st);
        for (std::size_t i = 0; i < tasks.size(); ++i)
            reply(tasks[i], std::move(results[i]));
        if (!st->persisted && st->waiting.empty())
            erase(st);
        else
            processNext(st);
        return;
    }
    if (Status commit = conn.exec(ActorConnection::Txn::Commit); !commit.isOk()) {
        rollback(st);
        closeConnection(st);
        failAll(commit);
        return;
    }
    std::uint64_t hits = 0, misses = 0;
    conn.takeCacheStats(hits, misses);
    m_executor.m_metrics.cacheHits.add(hits);
    m_executor.m_metrics.cacheMisses.add(misses);
    if (!single)
        m_executor.m_metrics.batchedRequests.add(tasks.size());

    storage::LogEntry entry;
    std::optional<storage::WriteSet> captured = conn.file()->takeCaptured();
    const bool wrote = captured.has_value();
    for (auto& r : results) {
        if (r.isOk())
            r->wrote = wrote;
    }
    if (!st->persisted && anyOk) {
        storage::CatalogOp create;
        create.kind = storage::CatalogOp::Kind::Create;
        create.record = st->record;
        entry.catalogOps.push_back(std::move(create));
    }
    if (captured)
        entry.writeSets.push_back(std::move(*captured));
    if (entry.catalogOps.empty() && entry.writeSets.empty()) {
        for (std::size_t i = 0; i < tasks.size(); ++i)
            reply(tasks[i], std::move(results[i]));
        if (!st->persisted && st->waiting.empty())
            erase(st);
        else
            processNext(st);
        return;
    }

    bool forceSync = false;
    for (const ActorTask& t : tasks)
        forceSync = forceSync || t.flags.fsync;
    auto flight = std::make_shared<Flight>();
    flight->tasks = std::move(tasks);
    flight->results = std::move(results);
    submitToLog(st, std::move(entry), forceSync, std::move(flight));
}

void Executor::Worker::submitToLog(ActorState* st, storage::LogEntry entry, bool forceSync,
                                   std::shared_ptr<Flight> flight) {
    st->inFlight = true;
    ++m_inFlight;
    flight->actor = describe(st->record.type, st->record.name);
    m_executor.m_log.submit(std::move(entry), forceSync, [this, st, flight](Status status) {
        // Runs on the storage writer's thread: the clients are answered from here, one thread
        // hand-off sooner; the actor's own bookkeeping goes back to its worker. A request the
        // client sends right after its answer finds the actor still in flight and waits.
        if (status.isOk()) {
            for (std::size_t i = 0; i < flight->tasks.size(); ++i)
                reply(flight->tasks[i], std::move(flight->results[i]));
        } else {
            const Status error = status.withContext("commit of actor " + flight->actor);
            for (ActorTask& t : flight->tasks)
                reply(t, error);
        }
        const bool wasDelete =
            !flight->tasks.empty() && flight->tasks[0].kind == ActorTask::Kind::Delete;
        post([this, st, status, wasDelete] { completed(st, status, wasDelete); });
    });
}

void Executor::Worker::runDelete(ActorState* st, ActorTask task) {
    touch(st);
    closeConnection(st);
    if (!st->persisted) {
        reply(task, Status(ErrorCode::NotFound,
                           "actor " + describe(task.type, task.name) + " does not exist"));
        processNext(st);
        return;
    }
    storage::LogEntry entry;
    storage::CatalogOp del;
    del.kind = storage::CatalogOp::Kind::Delete;
    del.record = st->record;
    entry.catalogOps.push_back(std::move(del));
    auto flight = std::make_shared<Flight>();
    flight->tasks.push_back(std::move(task));
    flight->results.emplace_back(ExecResult{});
    submitToLog(st, std::move(entry), true, std::move(flight));
}

void Executor::Worker::completed(ActorState* st, const Status& status, bool wasDelete) {
    st->inFlight = false;
    st->migratedInTxn = false; // committed, or the connection closes below
    --m_inFlight;
    if (st->conn)
        st->conn->file()->finishPending();
    if (status.isOk()) {
        st->persisted = !wasDelete;
    } else {
        // The write set never reached the store: SQLite's cache may hold its pages, so the
        // connection is reopened from the store next time.
        closeConnection(st);
    }
    if (wasDelete && status.isOk()) {
        // The actor is gone: later requests start over (NoCreate, or a new actor with create).
        std::deque<ActorTask> waiting = std::move(st->waiting);
        erase(st);
        for (ActorTask& t : waiting)
            handleTask(std::move(t));
        return;
    }
    processNext(st);
}

void Executor::Worker::processNext(ActorState* st) {
    if (st->inFlight)
        return;
    if (st->parked)
        unpark(st); // it may be evictable again; evictIdle parks it anew if not
    if (st->waiting.empty()) {
        if (!st->persisted) {
            erase(st); // a create that failed: nothing of it exists
            return;
        }
        if (m_open > m_openLimit)
            evictIdle();
        return;
    }
    if (st->waiting.front().kind == ActorTask::Kind::Delete) {
        ActorTask task = std::move(st->waiting.front());
        st->waiting.pop_front();
        runDelete(st, std::move(task));
        return;
    }
    if (st->waiting.front().kind == ActorTask::Kind::TxnLock) {
        ActorTask task = std::move(st->waiting.front());
        st->waiting.pop_front();
        grantLock(st, std::move(task));
        return;
    }
    std::vector<ActorTask> batch;
    while (!st->waiting.empty() && st->waiting.front().kind == ActorTask::Kind::Sql &&
           batch.size() < m_executor.m_options.maxBatchRequests) {
        batch.push_back(std::move(st->waiting.front()));
        st->waiting.pop_front();
    }
    runBatch(st, std::move(batch));
}

void Executor::Worker::rollback(ActorState* st) {
    st->versionKnown = false; // a migration in the transaction is undone too
    st->migratedInTxn = false;
    if (st->conn && st->conn->inTransaction())
        (void)st->conn->exec(ActorConnection::Txn::Rollback);
}

bool Executor::Worker::canReadCommitted(const ActorState* st, const ActorTask& task) const {
    if (task.kind != ActorTask::Kind::Sql || !task.flags.readOnly || !st->persisted ||
        !st->versionKnown || st->migratedInTxn || st->txnDelete)
        return false;
    // The committed state must already have the type's current schema.
    const MigrationSource& source = m_executor.m_options.migrations;
    return !source || source(st->record.type, st->schemaVersion).version <= st->schemaVersion;
}

SpillPolicy Executor::Worker::spillFor(const ActorTask& task) const {
    if (m_executor.m_options.spillDir.empty())
        return {};
    return {task.flags.spillAbove, m_executor.m_options.spillDir};
}

Result<ExecResult> Executor::Worker::runUserSql(ActorConnection& conn, const ActorTask& task,
                                                const SpillPolicy& spill) {
    const ExecFlags& flags = task.flags;
    if (m_executor.m_interrupting.load())
        return Status(ErrorCode::ShuttingDown, "the server is shutting down");
    if (flags.cancel && flags.cancel->cancelled())
        return flags.cancel->status(); // cancelled while it waited in the queue
    ActorConnection::InterruptCheck check;
    check.stopping = &m_executor.m_interrupting;
    check.cancel = flags.cancel.get();
    if (flags.timeLimit.count() > 0) {
        check.limit = flags.timeLimit;
        check.deadline = std::chrono::steady_clock::now() + flags.timeLimit;
    }
    conn.setAdmin(flags.admin); // resources/docs/security.md "sql lockdown"
    conn.armInterrupt(check);
    Result<ExecResult> r = conn.run(task.sql, task.params, spill);
    Status stopped = conn.disarmInterrupt();
    if (!r && !stopped.isOk())
        return stopped; // instead of SQLite's "interrupted"
    return r;
}

void Executor::Worker::runCommittedRead(ActorState* st, ActorTask task) {
    if (!st->reader) {
        auto conn = ActorConnection::open(m_executor.m_vfs, st->record.id,
                                          m_executor.m_options.pageCacheKiB);
        Status setup = conn ? (*conn)->exec("PRAGMA query_only = 1") : conn.status();
        if (!setup.isOk()) {
            reply(task, setup.withContext("actor " + describe(st->record.type, st->record.name)));
            return;
        }
        st->reader = std::move(*conn);
    }
    ActorConnection& reader = *st->reader;
    // One read transaction: every statement sees the same committed snapshot.
    Status begin = reader.exec(ActorConnection::Txn::Begin);
    Result<ExecResult> r =
        begin.isOk() ? runUserSql(reader, task, spillFor(task)) : Result<ExecResult>(begin);
    if (reader.inTransaction())
        (void)reader.exec(ActorConnection::Txn::Rollback); // nothing to keep
    m_executor.m_metrics.committedReads.add();
    reply(task, std::move(r));
}

Status Executor::Worker::migrate(ActorState* st) {
    const MigrationSource& source = m_executor.m_options.migrations;
    if (!source)
        return Status::ok();
    ActorConnection& conn = *st->conn;
    if (!st->versionKnown) {
        Result<std::int64_t> version = conn.queryInt("PRAGMA user_version");
        if (!version)
            return version.status();
        st->schemaVersion = std::uint32_t(*version);
        st->versionKnown = true;
    }
    Migration m = source(st->record.type, st->schemaVersion);
    if (m.version <= st->schemaVersion)
        return Status::ok();
    const std::uint32_t from = st->schemaVersion;
    for (std::size_t i = 0; i < m.statements.size(); ++i) {
        if (Status s = conn.exec(m.statements[i].c_str()); !s.isOk())
            return s.withContext("migrating actor " + describe(st->record.type, st->record.name) +
                                 " to schema version " + std::to_string(from + i + 1));
    }
    TROUPE_RETURN_IF_ERROR(
        conn.exec(("PRAGMA user_version = " + std::to_string(m.version)).c_str()));
    st->schemaVersion = m.version;
    st->migratedInTxn = true;
    return Status::ok();
}

void Executor::Worker::grantLock(ActorState* st, ActorTask task) {
    touch(st);
    Status s = ensureOpen(st);
    if (s.isOk()) {
        s = st->conn->exec(ActorConnection::Txn::Begin);
        if (!s.isOk())
            closeConnection(st);
    }
    if (s.isOk()) {
        s = migrate(st);
        if (!s.isOk())
            rollback(st);
    }
    if (!s.isOk()) {
        reply(task, s.withContext("actor " + describe(st->record.type, st->record.name)));
        processNext(st); // forgets an actor that was to be created
        return;
    }
    st->lockedBy = task.txn;
    st->txnCommitted = false;
    st->txnDelete = false;
    reply(task, ExecResult{});
}

void Executor::Worker::txnRun(ActorState* st, ActorTask task) {
    touch(st);
    if (!st->conn || !st->conn->inTransaction()) {
        reply(task, Status(ErrorCode::Internal, "the transaction of actor " +
                                                    describe(st->record.type, st->record.name) +
                                                    " ended early"));
        return;
    }
    Result<ExecResult> r = runUserSql(*st->conn, task, SpillPolicy());
    if (r && !st->conn->inTransaction())
        r = Status(ErrorCode::Internal, "transaction ended early");
    reply(task, std::move(r));
}

void Executor::Worker::txnCommit(ActorState* st, ActorTask task) {
    ExecResult result;
    if (task.deleteActor) {
        rollback(st);
        closeConnection(st);
        st->txnDelete = true;
        if (st->persisted) {
            storage::CatalogOp del;
            del.kind = storage::CatalogOp::Kind::Delete;
            del.record = st->record;
            task.prepared->catalogOps.push_back(std::move(del));
            result.wrote = true;
        }
    } else if (!task.copyFrom.empty()) {
        // PRAGMA copy: the actor becomes the committed state of the source, page for page.
        rollback(st);
        closeConnection(st); // its cache holds the old pages
        auto copy = copyWriteSet(st->record, task.type, task.copyFrom);
        if (!copy) {
            reply(task, copy.status());
            return;
        }
        if (!st->persisted) {
            storage::CatalogOp create;
            create.kind = storage::CatalogOp::Kind::Create;
            create.record = st->record;
            task.prepared->catalogOps.push_back(std::move(create));
        }
        task.prepared->writeSets.push_back(std::move(*copy));
        result.wrote = true;
    } else {
        if (!st->conn || !st->conn->inTransaction()) {
            reply(task, Status(ErrorCode::Internal, "the transaction of actor " +
                                                        describe(st->record.type, st->record.name) +
                                                        " ended early"));
            return;
        }
        if (Status commit = st->conn->exec(ActorConnection::Txn::Commit); !commit.isOk()) {
            rollback(st);
            reply(task, commit.withContext("actor " + describe(st->record.type, st->record.name)));
            return;
        }
        std::uint64_t hits = 0, misses = 0;
        st->conn->takeCacheStats(hits, misses);
        m_executor.m_metrics.cacheHits.add(hits);
        m_executor.m_metrics.cacheMisses.add(misses);
        if (!st->persisted) {
            storage::CatalogOp create;
            create.kind = storage::CatalogOp::Kind::Create;
            create.record = st->record;
            task.prepared->catalogOps.push_back(std::move(create));
        }
        if (std::optional<storage::WriteSet> captured = st->conn->file()->takeCaptured()) {
            task.prepared->writeSets.push_back(std::move(*captured));
            result.wrote = true;
        }
    }
    st->txnCommitted = true;
    st->inFlight = true;
    ++m_inFlight;
    reply(task, std::move(result));
}

Result<storage::WriteSet> Executor::Worker::copyWriteSet(const storage::ActorRecord& target,
                                                         const std::string& type,
                                                         const std::string& source) {
    storage::Environment& env = m_executor.m_env;
    auto txn = env.beginRead();
    if (!txn)
        return txn.status();
    auto from = storage::Catalog::find(env, txn->get(), type, source);
    if (!from) {
        if (from.status().code() == ErrorCode::NotFound)
            return Status(ErrorCode::NotFound,
                          "PRAGMA copy: actor " + describe(type, source) + " does not exist");
        return from.status();
    }
    if (from->id == target.id)
        return Status(ErrorCode::InvalidArgument, "PRAGMA copy: an actor cannot copy itself");
    auto size = storage::PageStore::dbSize(env, txn->get(), from->id);
    if (!size)
        return size.status();
    storage::WriteSet ws;
    ws.actorId = target.id;
    ws.dbPages = *size;
    auto page = std::make_unique<std::uint8_t[]>(storage::kPageSize);
    for (std::uint32_t pgno = 1; pgno <= *size; ++pgno) {
        TROUPE_RETURN_IF_ERROR(
            storage::PageStore::readPage(env, txn->get(), from->id, pgno, page.get()));
        storage::StoredPage stored;
        stored.pgno = pgno;
        storage::encodePage(page.get(), stored.stored);
        ws.pages.push_back(std::move(stored));
    }
    return ws;
}

void Executor::Worker::txnEnd(ActorState* st, ActorTask task) {
    st->lockedBy = 0;
    if (st->txnCommitted) {
        st->txnCommitted = false;
        const bool wasDelete = st->txnDelete;
        st->txnDelete = false;
        const Status outcome = task.outcome;
        reply(task, ExecResult{});
        completed(st, outcome, wasDelete); // may erase st
        return;
    }
    rollback(st);
    st->txnDelete = false;
    reply(task, ExecResult{});
    processNext(st);
}

// ---- Executor ------------------------------------------------------------------------------

Executor::Executor(storage::Environment& env, storage::Log& log, ActorVfs& vfs,
                   MetricsRegistry& metrics, ExecutorOptions options, std::uint64_t maxActorId)
    : m_env(env), m_log(log), m_vfs(vfs), m_metrics(metrics), m_options(options),
      m_nextActorId(maxActorId) {
    if (m_options.threads == 0)
        m_options.threads = 1;
    for (unsigned i = 0; i < m_options.threads; ++i)
        m_workers.push_back(std::make_unique<Worker>(*this));
}

Executor::~Executor() {
    stop();
}

Health Executor::health(Heartbeat::Clock::time_point now,
                        Heartbeat::Clock::duration timeout) const {
    for (std::size_t i = 0; i < m_workers.size(); ++i) {
        Health h = Health::check(m_workers[i]->heartbeat(), "executor worker " + std::to_string(i),
                                 now, timeout);
        if (h.stalled)
            return h;
    }
    return {};
}

void Executor::submit(ActorTask task) {
    if (m_stopped.load()) {
        if (task.done)
            task.done(Status(ErrorCode::ShuttingDown, "the server is shutting down"));
        return;
    }
    const std::uint32_t h = murmur3_32(task.name, murmur3_32(task.type));
    Worker* worker = m_workers[h % m_workers.size()].get();
    auto done = task.done;
    if (!worker->post(
            [worker, t = std::move(task)]() mutable { worker->handleTask(std::move(t)); }))
        if (done)
            done(Status(ErrorCode::ShuttingDown, "the server is shutting down"));
}

void Executor::stop() {
    if (m_stopped.exchange(true))
        return;
    for (auto& w : m_workers)
        w->stopAndJoin();
    m_workers.clear();
}

} // namespace troupe::sql
