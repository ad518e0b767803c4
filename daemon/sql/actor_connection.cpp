#include "sql/actor_connection.h"

#include <algorithm>
#include <array>
#include <string>

#include "sql/cancel_token.h"
#include "sql/lockdown.h"
#include "sql/nul_bytes.h"
#include "sql/row_spill.h"
#include "sql/sql_text.h"
#include "sql/sqlite_values.h"

namespace troupe::sql {
namespace {

// The SQLite pragmas SQL may use in an actor: ActorDB's five (MISSION §2) plus the two
// read-only integrity checks operators need. Every other pragma is refused; journaling,
// locking and the page size belong to page capture.
constexpr std::array<const char*, 7> kAllowedPragmas = {
    "freelist_count", "page_count",      "table_info",  "index_list",
    "index_xinfo",    "integrity_check", "quick_check",
};
// Pragmas SQL may read but not set: the ones FTS5 (data_version) and the R-tree (page_size)
// run inside their CREATE VIRTUAL TABLE and queries.
constexpr std::array<const char*, 2> kReadablePragmas = {"data_version", "page_size"};

bool pragmaAllowed(const char* name, const char* value) {
    if (!name)
        return false;
    auto is = [&](const char* allowed) { return iequals(name, allowed); };
    return std::any_of(kAllowedPragmas.begin(), kAllowedPragmas.end(), is) ||
           (!value && std::any_of(kReadablePragmas.begin(), kReadablePragmas.end(), is));
}

} // namespace

Result<std::unique_ptr<ActorConnection>> ActorConnection::open(ActorVfs& vfs, std::uint64_t actorId,
                                                               std::size_t pageCacheKiB) {
    std::unique_ptr<ActorConnection> conn(new ActorConnection());
    const std::string token = vfs.expectOpen(actorId);
    int rc = sqlite3_open_v2(token.c_str(), &conn->m_db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                 SQLITE_OPEN_EXRESCODE,
                             vfs.name());
    vfs.forgetOpen(token);
    const std::string vfsError = ActorVfs::takeThreadError(); // e.g. a damaged page 1
    if (rc != SQLITE_OK) {
        std::string message = conn->m_db ? sqlite3_errmsg(conn->m_db) : sqlite3_errstr(rc);
        if (!vfsError.empty())
            message += ": " + vfsError;
        return Status((rc & 0xff) == SQLITE_CORRUPT ? ErrorCode::Corruption : ErrorCode::IoError,
                      "opening actor " + std::to_string(actorId) + ": " + message);
    }
    conn->m_file = ActorVfs::mainFile(conn->m_db);
    if (!conn->m_file)
        return Status(ErrorCode::Internal, "actor database is not served by the actor VFS");

    // architecture.md "Page capture": journal in memory (per open), no syncs, fast secure delete.
    // The page size is SQLite's default, 4096, which the VFS enforces. Foreign keys are on
    // (ActorDB).
    sqlite3_db_config(conn->m_db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, nullptr);
    // resources/docs/security.md "sql lockdown": no tokenizer pointers, no extensions,
    // defensive mode, an untrusted schema; the authorizer below does the rest.
    TROUPE_RETURN_IF_ERROR(lockdown::apply(conn->m_db));
    const std::string setup = "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF; "
                              "PRAGMA secure_delete=FAST; PRAGMA temp_store=MEMORY; "
                              "PRAGMA cache_size=-" +
                              std::to_string(pageCacheKiB) + ";";
    TROUPE_RETURN_IF_ERROR(conn->exec(setup.c_str()));
    // VACUUM needs one attached slot; the authorizer refuses ATTACH from SQL.
    sqlite3_limit(conn->m_db, SQLITE_LIMIT_ATTACHED, 1);
    sqlite3_set_authorizer(conn->m_db, &ActorConnection::authorize, conn.get());
    return conn;
}

ActorConnection::~ActorConnection() {
    for (sqlite3_stmt* stmt : m_txn)
        sqlite3_finalize(stmt);
    for (CachedRequest& request : m_cache) {
        for (sqlite3_stmt* stmt : request.statements)
            sqlite3_finalize(stmt);
    }
    if (m_db)
        sqlite3_close_v2(m_db);
}

int ActorConnection::authorize(void* self, int action, const char* a, const char* b,
                               const char* database, const char* inner) {
    auto* conn = static_cast<ActorConnection*>(self);
    if (conn->m_internal)
        return SQLITE_OK;
    switch (action) {
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        return conn->deny("ATTACH and DETACH");
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        // The request is already one transaction; clients' BEGIN/COMMIT must not end it.
        return conn->deny("transaction control (a request is one transaction)");
    case SQLITE_PRAGMA:
        if (pragmaAllowed(a, b))
            return SQLITE_OK;
        return conn->deny(std::string("PRAGMA ") + (a ? a : "?") + (b ? " with a value" : ""));
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
        // The temp schema lives in the connection, which every user of the actor shares: a
        // temp table or view would shadow the actor's own, a temp trigger would run in other
        // users' requests.
        return conn->deny("TEMP objects (the connection is shared by every user of the actor)");
    case SQLITE_FUNCTION:
        if (b && lockdown::functionAllowed(b))
            return SQLITE_OK;
        return conn->deny(std::string("the function ") + (b ? b : "?") + "()");
    case SQLITE_CREATE_VTABLE:
        if (database && iequals(database, "temp"))
            return conn->deny("TEMP objects (the connection is shared by every user of the actor)");
        if (b && lockdown::moduleAllowed(b))
            return SQLITE_OK;
        return conn->deny(std::string("the virtual table module ") + (b ? b : "?"));
    case SQLITE_READ:
        return conn->authorizeRead(a, inner);
    default:
        return SQLITE_OK;
    }
}

int ActorConnection::authorizeRead(const char* table, const char* inner) {
    switch (lockdown::readAccess(table ? table : "")) {
    case lockdown::ReadAccess::Allowed:
        return SQLITE_OK;
    case lockdown::ReadAccess::AdminOnly:
        // Only in the request's own SQL, never from a view or trigger someone else wrote.
        if (m_admin && !inner) {
            m_usedAdminRight = true;
            return SQLITE_OK;
        }
        return deny(std::string(table) + " (administrators only)");
    case lockdown::ReadAccess::Refused:
        break;
    }
    return deny(std::string(table));
}

int ActorConnection::deny(std::string what) {
    m_denied = std::move(what);
    return SQLITE_DENY;
}

Status ActorConnection::exec(const char* sql) {
    m_internal = true;
    char* error = nullptr;
    int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, &error);
    m_internal = false;
    if (rc == SQLITE_OK)
        return Status::ok();
    std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    Status st = sqlError(rc, sql);
    return Status(st.code(), message + " (in \"" + sql + "\")");
}

Result<std::int64_t> ActorConnection::queryInt(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    m_internal = true;
    int rc = sqlite3_prepare_v2(m_db, sql, -1, &stmt, nullptr);
    std::int64_t value = 0;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            value = sqlite3_column_int64(stmt, 0);
            rc = SQLITE_DONE;
        }
    }
    m_internal = false;
    Status st = rc == SQLITE_DONE ? Status::ok() : sqlError(rc, sql);
    sqlite3_finalize(stmt);
    if (!st.isOk())
        return st;
    return value;
}

Status ActorConnection::exec(Txn statement) {
    static const char* const kText[int(Txn::Count)] = {
        "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT req", "RELEASE req", "ROLLBACK TO req",
    };
    const int i = int(statement);
    m_internal = true; // also while stepping: SQLite re-prepares after a schema change
    int rc = SQLITE_OK;
    if (!m_txn[i])
        rc = sqlite3_prepare_v3(m_db, kText[i], -1, SQLITE_PREPARE_PERSISTENT, &m_txn[i], nullptr);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(m_txn[i]);
        sqlite3_reset(m_txn[i]);
    }
    m_internal = false;
    if (rc == SQLITE_OK || rc == SQLITE_DONE)
        return Status::ok();
    return sqlError(rc, kText[i]);
}

Status ActorConnection::sqlError(int rc, std::string_view statement) {
    std::string message = sqlite3_errmsg(m_db);
    const int primary = rc & 0xff;
    ErrorCode code = ErrorCode::SqlError;
    if (primary == SQLITE_IOERR || primary == SQLITE_CORRUPT || primary == SQLITE_CANTOPEN) {
        code = primary == SQLITE_CORRUPT ? ErrorCode::Corruption : ErrorCode::IoError;
        if (m_file && !m_file->lastError().empty())
            message += ": " + m_file->lastError();
    } else if (primary == SQLITE_BUSY) {
        // From the VFS: no LMDB reader slot for the actor's snapshot. Retryable (MySQL 1205).
        code = ErrorCode::Busy;
        if (m_file && !m_file->lastError().empty())
            message += ": " + m_file->lastError();
    } else if (primary == SQLITE_FULL) {
        code = ErrorCode::DiskFull;
    } else if (primary == SQLITE_AUTH || !m_denied.empty()) {
        // The authorizer refused (SQLite reports a refused function as SQLITE_ERROR).
        code = ErrorCode::NotPermitted;
        message = "not permitted in an actor: " + (m_denied.empty() ? message : m_denied);
        m_denied.clear();
    }
    if (!statement.empty())
        message += " (in \"" + std::string(statement) + "\")";
    return Status(code, message);
}

Status ActorConnection::runStatement(sqlite3_stmt* stmt, const std::vector<Value>& params,
                                     const SpillPolicy& spill, StatementResult& result) {
    const int needed = sqlite3_bind_parameter_count(stmt);
    if (std::size_t(needed) > params.size())
        return Status(ErrorCode::SqlError, "statement needs " + std::to_string(needed) +
                                               " parameters, got " + std::to_string(params.size()) +
                                               " (in \"" + sqlite3_sql(stmt) + "\")");
    for (int i = 1; i <= needed; ++i) {
        if (int rc = bindValue(stmt, i, params[std::size_t(i - 1)]); rc != SQLITE_OK)
            return sqlError(rc, sqlite3_sql(stmt));
    }
    int rc = sqlite3_step(stmt);
    // Counted after the first step: a statement re-prepared after a schema change (SELECT *
    // after ALTER TABLE) only then has its new columns.
    const int columns = sqlite3_column_count(stmt);
    std::size_t inMemory = 0;
    std::vector<Value> row;
    for (; rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
        row.clear();
        row.reserve(std::size_t(columns));
        for (int c = 0; c < columns; ++c)
            row.push_back(columnValue(stmt, c));
        if (result.spilled) {
            TROUPE_RETURN_IF_ERROR(result.spilled->append(row));
            continue;
        }
        if (spill.above > 0) {
            inMemory += RowSpill::memoryEstimate(row);
            if (inMemory > spill.above) {
                auto file = RowSpill::create(spill.dir);
                if (!file)
                    return file.status();
                result.spilled = std::move(*file);
                TROUPE_RETURN_IF_ERROR(result.spilled->append(row));
                continue;
            }
        }
        result.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE)
        return sqlError(rc, sqlite3_sql(stmt));
    result.returnsRows = columns > 0;
    for (int c = 0; c < columns; ++c)
        result.columns.emplace_back(sqlite3_column_name(stmt, c));
    if (!sqlite3_stmt_readonly(stmt)) {
        result.rowsChanged = sqlite3_changes64(m_db);
        result.lastInsertRowid = sqlite3_last_insert_rowid(m_db);
    }
    return Status::ok();
}

Status ActorConnection::runInto(sqlite3_stmt* stmt, const std::vector<Value>& params,
                                const SpillPolicy& spill, ExecResult& result) {
    StatementResult& one = result.statements.emplace_back();
    Status st = runStatement(stmt, params, spill, one);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (!st.isOk())
        return st;
    result.rowsChanged += one.rowsChanged;
    if (!sqlite3_stmt_readonly(stmt))
        result.lastInsertRowid = one.lastInsertRowid;
    return Status::ok();
}

// The request's result: the sum of the changes, the last statement with columns as the rows,
// and each statement's own result when there were several (moved when there was only one).
void ActorConnection::finish(ExecResult& result) {
    for (auto it = result.statements.rbegin(); it != result.statements.rend(); ++it) {
        if (!it->returnsRows)
            continue;
        result.columns = it->columns;
        if (result.statements.size() == 1)
            result.rows = std::move(it->rows);
        else
            result.rows = it->rows;
        result.spilled = it->spilled; // read once: by whoever reads this result
        break;
    }
    if (result.statements.size() == 1)
        result.statements.clear();
}

Result<ExecResult> ActorConnection::run(std::string_view sql, const std::vector<Value>& params,
                                        const SpillPolicy& spill) {
    ExecResult result;
    m_denied.clear();
    for (auto it = m_cache.begin(); it != m_cache.end(); ++it) {
        if (it->sql != sql || (it->needsAdmin && !m_admin))
            continue;
        std::rotate(it, it + 1, m_cache.end()); // most recently used last
        for (sqlite3_stmt* stmt : m_cache.back().statements) {
            if (Status st = runInto(stmt, params, spill, result); !st.isOk())
                return st;
        }
        finish(result);
        return result;
    }

    // First time: prepare one statement at a time, each after the previous one ran (a
    // request may create a table and then use it).
    std::vector<sqlite3_stmt*> prepared;
    auto finalizeAll = [&] {
        for (sqlite3_stmt* stmt : prepared)
            sqlite3_finalize(stmt);
    };
    auto fail = [&](Status st) {
        finalizeAll();
        return st;
    };
    // SQLite stops reading at a NUL byte (nul_bytes.h): literals with NULs are rewritten,
    // any other NUL is an error.
    std::string withoutNuls;
    if (sql.find('\0') != std::string_view::npos) {
        auto rewritten = rewriteNulBytes(sql);
        if (!rewritten)
            return rewritten.status();
        withoutNuls = std::move(*rewritten);
    }
    const std::string_view text = withoutNuls.empty() ? sql : std::string_view(withoutNuls);
    m_usedAdminRight = false;
    const char* cursor = text.data();
    const char* end = text.data() + text.size();
    while (cursor < end) {
        sqlite3_stmt* stmt = nullptr;
        const char* tail = nullptr;
        int rc = sqlite3_prepare_v3(m_db, cursor, int(end - cursor), SQLITE_PREPARE_PERSISTENT,
                                    &stmt, &tail);
        if (rc != SQLITE_OK) {
            // The tail is not reliable after a failed prepare: quote the rest of the request.
            std::string_view rest(cursor, std::size_t(end - cursor));
            return fail(sqlError(rc, rest.substr(0, 300)));
        }
        if (!stmt && (!tail || tail <= cursor)) // never loop on text SQLite does not read
            return fail(Status(ErrorCode::SqlError,
                               "unreadable SQL at offset " + std::to_string(cursor - text.data())));
        cursor = tail ? tail : end;
        if (!stmt)
            continue; // whitespace or a comment
        prepared.push_back(stmt);
        if (Status st = runInto(stmt, params, spill, result); !st.isOk())
            return fail(st);
    }
    finish(result);
    if (sql.size() <= kMaxCachedSqlBytes && !prepared.empty())
        cache(sql, std::move(prepared), m_usedAdminRight);
    else
        finalizeAll();
    return result;
}

void ActorConnection::cache(std::string_view sql, std::vector<sqlite3_stmt*> statements,
                            bool needsAdmin) {
    if (m_cache.size() >= kCachedRequests) {
        for (sqlite3_stmt* stmt : m_cache.front().statements)
            sqlite3_finalize(stmt);
        m_cache.erase(m_cache.begin());
    }
    m_cache.push_back(CachedRequest{std::string(sql), std::move(statements), needsAdmin});
}

void ActorConnection::takeCacheStats(std::uint64_t& hits, std::uint64_t& misses) {
    int current = 0, high = 0;
    sqlite3_db_status(m_db, SQLITE_DBSTATUS_CACHE_HIT, &current, &high, 1);
    hits = std::uint64_t(current);
    sqlite3_db_status(m_db, SQLITE_DBSTATUS_CACHE_MISS, &current, &high, 1);
    misses = std::uint64_t(current);
}

void ActorConnection::armInterrupt(const InterruptCheck& check) {
    m_interrupt = check;
    m_stoppedBy = StoppedBy::Nothing;
    sqlite3_progress_handler(m_db, kProgressSteps, &ActorConnection::onProgress, this);
}

Status ActorConnection::disarmInterrupt() {
    sqlite3_progress_handler(m_db, 0, nullptr, nullptr);
    Status why = interruption();
    m_interrupt = InterruptCheck();
    m_stoppedBy = StoppedBy::Nothing;
    return why;
}

int ActorConnection::onProgress(void* self) {
    auto* conn = static_cast<ActorConnection*>(self);
    const InterruptCheck& check = conn->m_interrupt;
    if (conn->m_stoppedBy != StoppedBy::Nothing)
        return 1; // keep stopping: SQLite may call again while it unwinds
    if (check.stopping && check.stopping->load(std::memory_order_relaxed))
        conn->m_stoppedBy = StoppedBy::Stopping;
    else if (check.cancel && check.cancel->cancelled())
        conn->m_stoppedBy = StoppedBy::Token;
    else if (std::chrono::steady_clock::now() >= check.deadline)
        conn->m_stoppedBy = StoppedBy::Deadline;
    return conn->m_stoppedBy == StoppedBy::Nothing ? 0 : 1;
}

Status ActorConnection::interruption() const {
    switch (m_stoppedBy) {
    case StoppedBy::Nothing:
        break;
    case StoppedBy::Deadline:
        return Status(ErrorCode::Timeout,
                      "Query execution was interrupted, maximum statement execution time "
                      "exceeded (" +
                          std::to_string(m_interrupt.limit.count()) +
                          " ms: sql.statement_timeout, or max_execution_time on MySQL)");
    case StoppedBy::Token:
        if (m_interrupt.cancel)
            return m_interrupt.cancel->status();
        break;
    case StoppedBy::Stopping:
        return Status(ErrorCode::ShuttingDown,
                      "the server is shutting down: the query was interrupted");
    }
    return Status::ok();
}

} // namespace troupe::sql
