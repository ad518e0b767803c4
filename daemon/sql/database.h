#pragma once

// Database: the in-process query facade of one node (issue 3) — the ActorDB dialect over the
// Engine. The MySQL and Thrift servers and `troupe-server --init` are thin layers over it.
//
// It owns the Engine and the node's SQL-level state: the schema (actor types and their
// statements), users and grants, groups and nodes, named prepared statements and the uniqid
// lease. That state lives in the `meta` database and changes through the same log as actor
// pages (storage::MetaOp), so it is durable before a change is acknowledged.
//
//   query()   a request in the ActorDB dialect: ACTOR blocks, {{variables}}, pragmas, SHOW,
//             PREPARE/EXECUTE. One transaction, however many actors it touches.
//   config()  a `USE config` script (groups, nodes, users, grants).
//   schema()  a `USE schema` script (append-only; validated before it is saved).
//   script()  an ActorDB init file: `USE config` / `USE schema` / `USE actordb` sections.
//
// Before the node is initialised (no config yet) only config() and script() work; everything
// else fails with NotInitialized.
//
// Threads: every method may be called from any thread, concurrently. Calls block until the
// answer is known (a write: until it is durable); front ends call them off their I/O threads.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sql/engine.h"
#include "sql/segmenter.h"
#include "sql/value.h"

namespace troupe::sql {

class Schema;
class AccessConfig;
class AuditLog;
class LoginGuard;
class ProcessList;

// Shared with the front ends through options() (resources/docs/security.md, "credentials");
// null members are off (tests).
struct SecurityServices {
    std::shared_ptr<LoginGuard> loginGuard; // failed-login back-off (login_guard.h)
    std::shared_ptr<AuditLog> audit;        // config and schema changes are recorded (audit.h)
};

struct DatabaseOptions {
    EngineOptions engine;
    std::string nodeName = "node1@127.0.0.1"; // this node in `nodes` (ActorDB's node names)
    unsigned kvShards = 4;                    // local shards per KV type, fixed at init
    std::size_t maxRequestBytes = 16u << 20;  // larger requests fail with TooLarge
    SecurityServices security;
    // The time a request's SQL may run in an actor before it fails with Timeout (MySQL 3024);
    // 0: no limit. Sessions may lower it (Session::timeLimit). resources/docs/security.md.
    std::chrono::milliseconds statementTimeout{std::chrono::seconds(60)};
    // Actors one request may hold in its transaction (each keeps an open SQLite connection
    // until the request ends); more fail with TooLarge. resources/docs/security.md.
    std::size_t maxActorsPerRequest = 10000;
};

// Who is asking. Front ends authenticate, then pass the user with every call.
struct Session {
    std::string user;      // empty: the node itself (init scripts, tests) with every right
    std::string peer = {}; // the client's "address:port", for the audit log; empty: no client
    // > 0: this front end reads ExecResult::spilled, so a single-actor request's rows beyond
    // about this many bytes go to a temporary file instead of memory (ExecFlags::spillAbove).
    std::size_t spillAbove = 0;
    // > 0: this session's time limit instead of DatabaseOptions::statementTimeout (MySQL's
    // max_execution_time); only an admin may set one above the configured limit.
    std::chrono::milliseconds timeLimit{0};
    // The running request's token (ProcessList::Registration::begin): KILL QUERY, a client that
    // went away or shutdown stop the request through it. Null: not cancellable.
    std::shared_ptr<const CancelToken> cancel = {};
};

// One row per result column of SHOW/introspection calls.
struct ColumnDescription {
    std::string name;
    std::string declType;
    bool primaryKey = false;
    bool notNull = false;
};

class Database {
public:
    static Result<std::unique_ptr<Database>> open(const DatabaseOptions& options);
    ~Database(); // shutdown()

    // A request in the ActorDB dialect. `params` bind to ?1.. / ? in every statement.
    Result<ExecResult> query(const Session& session, std::string_view request,
                             std::vector<Value> params = {});
    // The same for a request the caller has already split with segment(request) (a front end
    // that looks at the blocks first): `blocks` must be exactly what segment() returned for
    // `request`, which is kept for the list of running queries and error messages.
    Result<ExecResult> query(const Session& session, std::string_view request,
                             std::vector<Block> blocks, std::vector<Value> params);
    // One actor, as Thrift's exec_single: `sql` runs in type(name) with the given flags.
    Result<ExecResult> querySingle(const Session& session, std::string_view type,
                                   std::string_view name, std::string_view sql, ExecFlags flags,
                                   std::vector<Value> params = {});
    // config() and schema() record every change, and every failed attempt, in the audit log
    // (options().security.audit) with the session's user and peer.
    Result<ExecResult> config(const Session& session, std::string_view script);
    Result<ExecResult> schema(const Session& session, std::string_view script);
    // An ActorDB init file: `USE config|schema|actordb` lines switch the mode (initially
    // actordb); `COMMIT` lines end a section. Returns the last section's result.
    Result<ExecResult> script(const Session& session, std::string_view text);

    bool initialized() const;
    // Checks a plain password (Thrift login, MySQL over TLS). NotLoggedIn on failure.
    Status authenticate(std::string_view user, std::string_view password) const;
    // mysql_native_password: `scramble` = SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw))).
    Status authenticateNative(std::string_view user, std::string_view salt,
                              std::string_view scramble) const;

    // Introspection (Thrift actor_types / actor_tables / actor_columns).
    std::vector<std::string> actorTypes() const;
    Result<std::vector<std::string>> actorTables(std::string_view type) const;
    Result<std::vector<ColumnDescription>> actorColumns(std::string_view type,
                                                        std::string_view table) const;

    // A cluster-unique id (Thrift uniqid, {{uniqid}}): never repeats, across restarts too.
    Result<std::int64_t> uniqid();

    std::shared_ptr<const Schema> currentSchema() const;
    std::shared_ptr<const AccessConfig> currentAccess() const;
    const DatabaseOptions& options() const;
    Engine& engine();

    // The client sessions of the front ends (SHOW PROCESSLIST, KILL).
    ProcessList& processes();
    // The first step of shutdown: stops every running request now, and every later one, with
    // ShuttingDown (an endless statement must not hold shutdown up). Idempotent; any thread.
    void interruptAll();
    // Stops the engine (see Engine::shutdown). Idempotent.
    void shutdown();

    class Impl; // database_impl.h, internal to daemon/sql

private:
    explicit Database(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace troupe::sql
