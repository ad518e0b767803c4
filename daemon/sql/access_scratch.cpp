// The scratch database of config scripts (declared in access_internal.h).

#include <algorithm>

#include "sql/access_internal.h"
#include "sql/sql_text.h"
#include "sql/sqlite_values.h"

namespace troupe::sql::access_detail {
namespace {

struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

constexpr const char* kScratchSchema =
    "CREATE TABLE groups(name TEXT PRIMARY KEY NOT NULL, type TEXT NOT NULL DEFAULT 'cluster');"
    "CREATE TABLE nodes(name TEXT PRIMARY KEY NOT NULL,"
    "  group_name TEXT NOT NULL REFERENCES groups(name));"
    "CREATE TABLE users(name TEXT PRIMARY KEY NOT NULL);"
    "CREATE TABLE grants(user TEXT NOT NULL, actor_type TEXT NOT NULL, rights TEXT NOT NULL,"
    "  PRIMARY KEY(user, actor_type));";

} // namespace

template <typename... Args> Status Scratch::insert(const char* sql, const Args&... args) {
    sqlite3_stmt* raw = nullptr;
    sqlite3_prepare_v2(m_db.get(), sql, -1, &raw, nullptr);
    StmtPtr stmt(raw);
    int index = 0;
    auto bind = [&](std::string_view v) {
        sqlite3_bind_text64(stmt.get(), ++index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    };
    if (stmt)
        (bind(args), ...);
    if (!stmt || sqlite3_step(stmt.get()) != SQLITE_DONE)
        return Status(ErrorCode::Internal,
                      std::string("config scratch database: ") + sqlite3_errmsg(m_db.get()));
    return Status::ok();
}

template <typename F> Status Scratch::select(const char* sql, F onRow) {
    sqlite3_stmt* raw = nullptr;
    sqlite3_prepare_v2(m_db.get(), sql, -1, &raw, nullptr);
    StmtPtr stmt(raw);
    int rc = SQLITE_ERROR;
    while (stmt && (rc = sqlite3_step(stmt.get())) == SQLITE_ROW)
        onRow(stmt.get());
    if (rc != SQLITE_DONE)
        return Status(ErrorCode::Internal,
                      std::string("config scratch database: ") + sqlite3_errmsg(m_db.get()));
    return Status::ok();
}

Status Scratch::open(const std::vector<GroupRecord>& groups, const std::vector<NodeRecord>& nodes) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    m_db.reset(db);
    if (rc != SQLITE_OK)
        return Status(ErrorCode::Internal, "opening the config scratch database failed");
    sqlite3_set_authorizer(m_db.get(), &Scratch::authorize, this);
    TROUPE_RETURN_IF_ERROR(exec(kScratchSchema));
    for (const GroupRecord& g : groups)
        TROUPE_RETURN_IF_ERROR(insert("INSERT INTO groups VALUES (?,?)", g.name, g.type));
    for (const NodeRecord& n : nodes)
        TROUPE_RETURN_IF_ERROR(insert("INSERT INTO nodes VALUES (?,?)", n.name, n.group));
    return Status::ok();
}

Status Scratch::loadUsers(const std::vector<UserRecord>& users) {
    TROUPE_RETURN_IF_ERROR(exec("DELETE FROM users; DELETE FROM grants;"));
    for (const UserRecord& u : users) {
        TROUPE_RETURN_IF_ERROR(insert("INSERT INTO users VALUES (?)", u.name));
        for (const Grant& g : u.grants) {
            const char* rights = g.read && g.write ? "read,write" : g.read ? "read" : "write";
            TROUPE_RETURN_IF_ERROR(
                insert("INSERT INTO grants VALUES (?,?,?)", u.name, g.actorType, rights));
        }
    }
    return Status::ok();
}

Status Scratch::run(const std::string& stmt, ExecResult& result, bool& wrote) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    // Enforced until the statement is done: SQLite may prepare inner statements while
    // stepping (pragma table-valued functions).
    m_enforce = true;
    m_denied = false;
    int rc = sqlite3_prepare_v2(m_db.get(), stmt.c_str(), int(stmt.size()), &raw, &tail);
    StmtPtr prepared(raw);
    const int columns = prepared ? sqlite3_column_count(prepared.get()) : 0;
    std::vector<std::vector<Value>> rows;
    while (rc == SQLITE_OK && prepared) {
        if ((rc = sqlite3_step(prepared.get())) != SQLITE_ROW)
            break;
        rc = SQLITE_OK;
        std::vector<Value>& row = rows.emplace_back();
        for (int i = 0; i < columns; ++i)
            row.push_back(columnValue(prepared.get(), i));
    }
    m_enforce = false;
    if (m_denied || rc == SQLITE_AUTH)
        return Status(ErrorCode::NotPermitted,
                      quotedExcerpt(stmt) +
                          " is not permitted in config: only INSERT, UPDATE and "
                          "DELETE on groups and nodes and SELECT on groups, nodes, "
                          "users and grants");
    if (rc != SQLITE_OK && rc != SQLITE_DONE)
        return sqlError(stmt);
    if (!prepared)
        return Status::ok();
    wrote = sqlite3_stmt_readonly(prepared.get()) == 0;
    if (columns > 0) {
        result.columns.clear();
        for (int i = 0; i < columns; ++i)
            result.columns.emplace_back(sqlite3_column_name(prepared.get(), i));
        result.rows = std::move(rows);
    }
    if (wrote)
        result.rowsChanged += sqlite3_changes(m_db.get());
    return Status::ok();
}

Status Scratch::readBack(std::vector<GroupRecord>& groups, std::vector<NodeRecord>& nodes) {
    groups.clear();
    nodes.clear();
    TROUPE_RETURN_IF_ERROR(
        select("SELECT name, type FROM groups ORDER BY name", [&](sqlite3_stmt* s) {
            groups.push_back({columnText(s, 0), columnText(s, 1)});
        }));
    return select("SELECT name, group_name FROM nodes ORDER BY name", [&](sqlite3_stmt* s) {
        nodes.push_back({columnText(s, 0), columnText(s, 1)});
    });
}

int Scratch::authorize(void* self, int action, const char* arg1, const char*, const char*,
                       const char*) {
    auto* scratch = static_cast<Scratch*>(self);
    if (!scratch->m_enforce)
        return SQLITE_OK;
    const int verdict = decide(action, arg1);
    scratch->m_denied = scratch->m_denied || verdict != SQLITE_OK;
    return verdict;
}

int Scratch::decide(int action, const char* arg1) {
    auto table = [&](std::initializer_list<std::string_view> names) {
        return arg1 && std::any_of(names.begin(), names.end(),
                                   [&](std::string_view n) { return iequals(n, arg1); });
    };
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_READ:
        return table({"groups", "nodes", "users", "grants"}) ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
        return table({"groups", "nodes"}) ? SQLITE_OK : SQLITE_DENY;
    default:
        return SQLITE_DENY;
    }
}

Status Scratch::sqlError(const std::string& stmt) const {
    return Status(ErrorCode::SqlError,
                  std::string(sqlite3_errmsg(m_db.get())) + " in " + quotedExcerpt(stmt));
}

Status Scratch::exec(const char* sql) {
    if (sqlite3_exec(m_db.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK)
        return Status(ErrorCode::Internal,
                      std::string("config scratch database: ") + sqlite3_errmsg(m_db.get()));
    return Status::ok();
}

} // namespace troupe::sql::access_detail
