#pragma once

// ActorConnection: the one SQLite connection of an open actor (resources/docs/architecture.md,
// "Page capture": one writer connection per actor), opened through the ActorVfs with the settings
// page capture needs, and an authorizer that keeps SQL inside its actor (no ATTACH, no pragmas that
// would change journaling, locking or the page size) and inside the reviewed SQL of sql/lockdown.h
// (resources/docs/security.md "sql lockdown").
//
// Owned by the executor worker that owns the actor; used only on that thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sqlite3.h>

#include "core/status.h"
#include "sql/value.h"
#include "sql/vfs.h"

namespace troupe::sql {

class CancelToken;

// Where the rows of a large result go (ActorConnection::run).
struct SpillPolicy {
    std::size_t above = 0; // bytes of rows kept in memory; 0: all of them
    std::filesystem::path dir;
};

class ActorConnection {
public:
    static Result<std::unique_ptr<ActorConnection>> open(ActorVfs& vfs, std::uint64_t actorId,
                                                         std::size_t pageCacheKiB);
    ~ActorConnection();
    ActorConnection(const ActorConnection&) = delete;
    ActorConnection& operator=(const ActorConnection&) = delete;

    // Runs the statements of `sql` in the current transaction, binding `params` to each
    // statement's parameters by position (?1 is params[0] in every statement). The prepared
    // statements of the last few distinct requests are kept and reused when the same text
    // comes again (applications repeat their queries; preparing was ~7% of a write's CPU).
    // With `spill.above` > 0, the rows of a statement beyond about that many bytes go to a
    // temporary file in `spill.dir` (StatementResult::spilled) instead of memory.
    Result<ExecResult> run(std::string_view sql, const std::vector<Value>& params,
                           const SpillPolicy& spill = SpillPolicy());

    static constexpr std::size_t kCachedRequests = 8;
    static constexpr std::size_t kMaxCachedSqlBytes = 4096;

    // Runs an internal statement past the authorizer (setup pragmas, schema migration).
    Status exec(const char* sql);
    // The first column of the first row of an internal query ("PRAGMA user_version").
    Result<std::int64_t> queryInt(const char* sql);

    // The transaction statements the executor runs around every request, prepared once per
    // connection (parsing BEGIN/COMMIT for every request cost ~12% of a write's CPU).
    enum class Txn { Begin, Commit, Rollback, Savepoint, Release, RollbackToSavepoint, Count };
    Status exec(Txn statement);

    // The rights of the user whose request runs next (ExecFlags::admin): admin-only SQL such
    // as dbstat is allowed while it is set. The connection is shared by every user of the
    // actor, so the executor sets it before each request.
    void setAdmin(bool admin) { m_admin = admin; }

    bool inTransaction() const { return sqlite3_get_autocommit(m_db) == 0; }
    ActorFile* file() const { return m_file; }
    sqlite3* db() const { return m_db; }

    // Page cache hits and misses since the last call.
    void takeCacheStats(std::uint64_t& hits, std::uint64_t& misses);

    // Interrupting SQL (issue 13; resources/docs/security.md "time limits"). Between
    // armInterrupt() and disarmInterrupt() SQLite calls a progress handler every
    // kProgressSteps virtual-machine steps (a clock read and two atomic loads: cheap). It stops
    // the running statement with SQLITE_INTERRUPT once the deadline has passed, `cancel` is
    // cancelled or `stopping` is set. The executor arms it around a request's own SQL only:
    // BEGIN, COMMIT, schema migrations and internal statements are never interrupted.
    struct InterruptCheck {
        std::chrono::steady_clock::time_point deadline =
            std::chrono::steady_clock::time_point::max();
        std::chrono::milliseconds limit{0};          // the time limit, for the error message
        const CancelToken* cancel = nullptr;         // the request's token
        const std::atomic<bool>* stopping = nullptr; // the executor's "interrupt everything"
    };
    static constexpr int kProgressSteps = 1000;
    void armInterrupt(const InterruptCheck& check);
    // Removes the handler. Returns why it stopped the SQL since armInterrupt(): Timeout,
    // Interrupted or ShuttingDown; OK when it did not.
    Status disarmInterrupt();

private:
    ActorConnection() = default;
    static int authorize(void* self, int action, const char* a, const char* b, const char* database,
                         const char* inner);
    int authorizeRead(const char* table, const char* inner);
    int deny(std::string what); // SQLITE_DENY, remembering what for the error message
    Status sqlError(int rc, std::string_view statement);
    Status runStatement(sqlite3_stmt* stmt, const std::vector<Value>& params,
                        const SpillPolicy& spill, StatementResult& result);
    // Runs one statement of a request, resets it and adds its result to `result`.
    Status runInto(sqlite3_stmt* stmt, const std::vector<Value>& params, const SpillPolicy& spill,
                   ExecResult& result);
    static void finish(ExecResult& result);

    struct CachedRequest {
        std::string sql;
        std::vector<sqlite3_stmt*> statements;
        bool needsAdmin = false; // prepared with an admin-only right: not for other users
    };
    void cache(std::string_view sql, std::vector<sqlite3_stmt*> statements, bool needsAdmin);

    sqlite3_stmt* m_txn[int(Txn::Count)] = {};
    std::vector<CachedRequest> m_cache; // most recently used last
    sqlite3* m_db = nullptr;
    ActorFile* m_file = nullptr;
    bool m_internal = false;       // an internal statement is running: the authorizer lets it pass
    bool m_admin = false;          // setAdmin()
    bool m_usedAdminRight = false; // the authorizer allowed admin-only SQL since run() began
    std::string m_denied;          // what the authorizer last refused, for sqlError()

    static int onProgress(void* self);
    Status interruption() const;
    enum class StoppedBy { Nothing, Deadline, Token, Stopping };
    InterruptCheck m_interrupt;
    StoppedBy m_stoppedBy = StoppedBy::Nothing;
};

} // namespace troupe::sql
