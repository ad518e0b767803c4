#pragma once

// ActorTxn: one request's transaction over several actors on this node (DESIGN §7: "a request
// is one transaction"). The coordinator (a request thread) locks actors through their
// executor workers, runs SQL in each actor's open SQLite transaction, and at commit gathers
// every actor's write set into ONE log entry: on one node all of it is applied by one LMDB
// transaction, so the actors change together or not at all.
//
// Deadlock freedom (issue 3): lock() may wait for an actor only when the caller takes actors in
// the global order of ActorRef (type, then name) and holds nothing greater. An actor found
// later out of order is taken with tryLock, which never waits (Busy instead); the caller then
// aborts and starts over with the larger set locked in order. Waits therefore always point from
// smaller to greater keys and cannot form a cycle.
//
// Threads: one coordinator thread uses an ActorTxn; it blocks on the workers' answers. Not for
// use on an executor worker or the storage writer's thread.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "sql/value.h"

namespace troupe::sql {

class Executor;

struct ActorRef {
    std::string type;
    std::string name;
    auto operator<=>(const ActorRef&) const = default;
    std::string describe() const { return type + "(" + name + ")"; }
};

class ActorTxn {
public:
    // `maxActors`: how many actors it may hold at once (max_actors_per_request); lock() and
    // lockAllNoWait() past it fail with TooLarge before taking anything more.
    explicit ActorTxn(Executor& executor, std::size_t maxActors = SIZE_MAX);
    ~ActorTxn(); // abort() unless committed
    ActorTxn(const ActorTxn&) = delete;
    ActorTxn& operator=(const ActorTxn&) = delete;

    // Takes `actor` (creating it at commit if missing and `create`). Errors: NoCreate, Busy
    // (tryLock and held by someone else), anything opening the actor.
    Status lock(const ActorRef& actor, bool create, bool tryLock);
    // Takes every actor at once, waiting for none: one round trip for the whole set. If any is
    // busy, releases what it took and returns Busy (the caller then locks in order, waiting);
    // any other error (NoCreate, ...) likewise releases everything and names the actor.
    // `actors` maps each actor to its create flag.
    Status lockAllNoWait(const std::map<ActorRef, bool>& actors);
    bool holds(const ActorRef& actor) const { return m_held.count(actor) != 0; }
    const std::set<ActorRef>& held() const { return m_held; }

    // Runs SQL in a held actor's transaction.
    Result<ExecResult> run(const ActorRef& actor, std::string sql, std::vector<Value> params);

    // Runs `sql` in several held actors at once (one statement list each, as one request).
    // Returns the first error, naming its actor; the transaction should then be aborted.
    struct Work {
        ActorRef actor;
        std::string sql;
        std::string label; // how errors name it: "type(name)" as the request wrote it
    };
    Status runParallel(std::vector<Work> work, const std::vector<Value>& params);

    // The SQL runs with an administrator's rights (ExecFlags::admin).
    void setAdmin(bool admin) { m_limits.admin = admin; }
    // The time limit and cancel token of the request (ExecFlags::timeLimit, ::cancel), given to
    // the SQL it runs in every actor (run, runParallel).
    void limitSql(const ExecFlags& limits) {
        m_limits.timeLimit = limits.timeLimit;
        m_limits.cancel = limits.cancel;
    }

    // The actor is deleted when the transaction commits (PRAGMA delete).
    void deleteAtCommit(const ActorRef& actor) { m_deletes.insert(actor); }
    // The actor becomes a copy of the committed state of `source` (same type) at commit
    // (PRAGMA copy=source).
    void copyAtCommit(const ActorRef& actor, std::string source) {
        m_copies[actor] = std::move(source);
    }

    struct Outcome {
        std::size_t actorsChanged = 0; // actors whose database or catalog entry changed
    };
    // Ends every actor's transaction, writes the one combined log entry and waits until it is
    // durable (forceSync: even when the server's fsync mode is not always), then releases the
    // actors. On any error nothing of the transaction remains.
    Result<Outcome> commit(bool forceSync);

    // Rolls every actor back and releases it. Idempotent.
    void abort();

private:
    // Ends every held actor's transaction with `outcome` and forgets them.
    void release(const Status& outcome);
    // TooLarge unless `more` actors fit beside the held ones.
    Status checkRoom(std::size_t more) const;

    Executor& m_executor;
    std::uint64_t m_id;
    std::size_t m_maxActors;
    std::set<ActorRef> m_held;
    std::set<ActorRef> m_deletes;
    std::map<ActorRef, std::string> m_copies;
    bool m_finished = false;
    ExecFlags m_limits; // admin, timeLimit and cancel only
};

} // namespace troupe::sql
