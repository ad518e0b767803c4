#include "sql/actor_txn.h"

#include <future>
#include <memory>

#include "sql/executor.h"
#include "storage/log_entry.h"

namespace troupe::sql {

namespace {

using Kind = ActorTask::Kind;

ActorTask makeTask(Kind kind, std::uint64_t txn, const ActorRef& actor) {
    ActorTask task;
    task.kind = kind;
    task.txn = txn;
    task.type = actor.type;
    task.name = actor.name;
    return task;
}

// Submits tasks to their workers all at once and waits for every answer, in order.
std::vector<Result<ExecResult>> runAll(Executor& executor, std::vector<ActorTask> tasks) {
    std::vector<std::future<Result<ExecResult>>> futures;
    futures.reserve(tasks.size());
    for (ActorTask& task : tasks) {
        auto promise = std::make_shared<std::promise<Result<ExecResult>>>();
        futures.push_back(promise->get_future());
        task.done = [promise](Result<ExecResult> r) { promise->set_value(std::move(r)); };
        executor.submit(std::move(task));
    }
    std::vector<Result<ExecResult>> results;
    results.reserve(futures.size());
    for (auto& f : futures)
        results.push_back(f.get());
    return results;
}

Result<ExecResult> runOne(Executor& executor, ActorTask task) {
    std::vector<ActorTask> one;
    one.push_back(std::move(task));
    return std::move(runAll(executor, std::move(one))[0]);
}

} // namespace

ActorTxn::ActorTxn(Executor& executor, std::size_t maxActors)
    : m_executor(executor), m_id(executor.allocateTxnId()), m_maxActors(maxActors) {}

Status ActorTxn::checkRoom(std::size_t more) const {
    if (m_held.size() + more <= m_maxActors)
        return Status::ok();
    return Status(ErrorCode::TooLarge,
                  "the request uses more than " + std::to_string(m_maxActors) +
                      " actors (max_actors_per_request): split it into smaller requests");
}

ActorTxn::~ActorTxn() {
    abort();
}

Status ActorTxn::lock(const ActorRef& actor, bool create, bool tryLock) {
    if (m_finished)
        return Status(ErrorCode::Internal, "transaction already finished");
    if (holds(actor))
        return Status::ok();
    TROUPE_RETURN_IF_ERROR(checkRoom(1));
    ActorTask task = makeTask(Kind::TxnLock, m_id, actor);
    task.flags.create = create;
    task.tryLock = tryLock;
    Result<ExecResult> r = runOne(m_executor, std::move(task));
    if (!r)
        return r.status();
    m_held.insert(actor);
    return Status::ok();
}

Status ActorTxn::lockAllNoWait(const std::map<ActorRef, bool>& actors) {
    if (m_finished)
        return Status(ErrorCode::Internal, "transaction already finished");
    std::vector<ActorTask> tasks;
    std::vector<ActorRef> order;
    for (const auto& [actor, create] : actors) {
        if (holds(actor))
            continue;
        ActorTask task = makeTask(Kind::TxnLock, m_id, actor);
        task.flags.create = create;
        task.tryLock = true;
        tasks.push_back(std::move(task));
        order.push_back(actor);
    }
    TROUPE_RETURN_IF_ERROR(checkRoom(tasks.size()));
    std::vector<Result<ExecResult>> results = runAll(m_executor, std::move(tasks));
    Status failure;
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (results[i])
            m_held.insert(order[i]);
        else if (failure.isOk() || failure.code() == ErrorCode::Busy)
            failure = results[i].status().code() == ErrorCode::Busy
                          ? results[i].status()
                          : results[i].status().withContext("actor " + order[i].describe());
    }
    if (failure.isOk())
        return failure;
    release(Status(ErrorCode::Busy, "released to lock in order"));
    return failure;
}

Status ActorTxn::runParallel(std::vector<Work> work, const std::vector<Value>& params) {
    std::vector<ActorTask> tasks;
    for (Work& w : work) {
        if (!holds(w.actor))
            return Status(ErrorCode::Internal, "actor " + w.actor.describe() + " is not locked");
        ActorTask task = makeTask(Kind::TxnRun, m_id, w.actor);
        task.sql = std::move(w.sql);
        task.params = params;
        task.flags = m_limits;
        tasks.push_back(std::move(task));
    }
    std::vector<Result<ExecResult>> results = runAll(m_executor, std::move(tasks));
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (!results[i])
            return results[i].status().withContext("actor " + work[i].label);
    }
    return Status::ok();
}

void ActorTxn::release(const Status& outcome) {
    std::vector<ActorTask> ends;
    for (const ActorRef& actor : m_held) {
        ActorTask task = makeTask(Kind::TxnEnd, m_id, actor);
        task.outcome = outcome;
        ends.push_back(std::move(task));
    }
    (void)runAll(m_executor, std::move(ends));
    m_held.clear();
}

Result<ExecResult> ActorTxn::run(const ActorRef& actor, std::string sql,
                                 std::vector<Value> params) {
    if (!holds(actor))
        return Status(ErrorCode::Internal, "actor " + actor.describe() + " is not locked");
    ActorTask task = makeTask(Kind::TxnRun, m_id, actor);
    task.sql = std::move(sql);
    task.params = std::move(params);
    task.flags = m_limits;
    return runOne(m_executor, std::move(task));
}

Result<ActorTxn::Outcome> ActorTxn::commit(bool forceSync) {
    if (m_finished)
        return Status(ErrorCode::Internal, "transaction already finished");
    // Phase 1: every actor ends its SQLite transaction and hands over its write set.
    std::vector<storage::LogEntry> parts(m_held.size());
    std::vector<ActorTask> commits;
    std::size_t i = 0;
    for (const ActorRef& actor : m_held) {
        ActorTask task = makeTask(Kind::TxnCommit, m_id, actor);
        task.deleteActor = m_deletes.count(actor) != 0;
        if (auto copy = m_copies.find(actor); copy != m_copies.end())
            task.copyFrom = copy->second;
        task.prepared = &parts[i++];
        commits.push_back(std::move(task));
    }
    std::vector<Result<ExecResult>> prepared = runAll(m_executor, std::move(commits));
    Status failure;
    Outcome outcome;
    for (auto& r : prepared) {
        if (!r && failure.isOk())
            failure = r.status();
        else if (r && r->wrote)
            ++outcome.actorsChanged;
    }

    // Phase 2: one entry with everything, durable before anyone is answered.
    storage::LogEntry entry;
    if (failure.isOk()) {
        for (storage::LogEntry& part : parts) {
            for (auto& op : part.catalogOps)
                entry.catalogOps.push_back(std::move(op));
            for (auto& ws : part.writeSets)
                entry.writeSets.push_back(std::move(ws));
        }
        if (!entry.catalogOps.empty() || !entry.writeSets.empty()) {
            auto promise = std::make_shared<std::promise<Status>>();
            auto future = promise->get_future();
            m_executor.log().submit(std::move(entry), forceSync,
                                    [promise](Status s) { promise->set_value(std::move(s)); });
            failure = future.get();
        }
    }

    // Release: the actors apply the outcome (pages kept, or dropped and rolled back).
    release(failure);
    m_finished = true;
    if (!failure.isOk())
        return failure;
    return outcome;
}

void ActorTxn::abort() {
    if (m_finished)
        return;
    m_finished = true;
    release(Status(ErrorCode::Error, "transaction aborted"));
}

} // namespace troupe::sql
