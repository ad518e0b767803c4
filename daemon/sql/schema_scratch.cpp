// Scratch databases of the schema module: building actor types in private in-memory SQLite
// databases, to validate schema scripts and to answer introspection (tablesOf, columnsOf).

#include <algorithm>

#include <sqlite3.h>

#include "sql/schema_internal.h"
#include "sql/sql_text.h"

namespace troupe::sql {
namespace schema_detail {
namespace {

// A private in-memory SQLite database that builds one actor type, with an authorizer that
// refuses what would break the actor model. Lives on the stack of one call.
class ScratchDb {
public:
    ScratchDb() = default;
    ScratchDb(const ScratchDb&) = delete;
    ScratchDb& operator=(const ScratchDb&) = delete;
    ~ScratchDb() {
        if (m_db)
            sqlite3_close_v2(m_db);
    }

    Status open() {
        const int rc =
            sqlite3_open_v2(":memory:", &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
        if (rc != SQLITE_OK)
            return Status(ErrorCode::Internal,
                          std::string("cannot open a scratch database: ") + sqlite3_errstr(rc));
        if (sqlite3_exec(m_db, "PRAGMA foreign_keys=ON", nullptr, nullptr, nullptr) != SQLITE_OK)
            return Status(ErrorCode::Internal, "cannot enable foreign keys on a scratch database");
        sqlite3_set_authorizer(m_db, &ScratchDb::authorize, this);
        return Status::ok();
    }

    // Runs one statement of a schema; `where` names it in errors ("line 4").
    Status run(std::string_view sql, std::string_view where) {
        if (firstWord(sql) == "VACUUM")
            return fail(ErrorCode::NotPermitted, where, "VACUUM is not permitted in a schema", sql);
        m_denied.clear();
        m_enforce = true;
        Status st = execute(sql, where);
        m_enforce = false;
        return st;
    }

    // Prepares one statement without running it: its parameter count and result columns.
    Result<StatementShape> describe(std::string_view sql) {
        sqlite3_stmt* stmt = nullptr;
        const char* tail = nullptr;
        if (sqlite3_prepare_v2(m_db, sql.data(), int(sql.size()), &stmt, &tail) != SQLITE_OK)
            return Status(ErrorCode::SqlError,
                          std::string(sqlite3_errmsg(m_db)) + " (in \"" + std::string(sql) + "\")");
        StatementShape shape;
        if (stmt) {
            shape.params = sqlite3_bind_parameter_count(stmt);
            for (int c = 0; c < sqlite3_column_count(stmt); ++c)
                shape.columns.emplace_back(sqlite3_column_name(stmt, c));
            sqlite3_finalize(stmt);
        }
        return shape;
    }

    // Rows of an internal query, every column as text; `param` is bound to ?1 when not empty.
    Result<std::vector<std::vector<std::string>>> query(const char* sql, std::string_view param) {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(m_db, sql, -1, &stmt, nullptr) != SQLITE_OK)
            return Status(ErrorCode::Internal,
                          std::string(sqlite3_errmsg(m_db)) + " (in \"" + sql + "\")");
        if (!param.empty())
            sqlite3_bind_text(stmt, 1, param.data(), int(param.size()), SQLITE_TRANSIENT);
        std::vector<std::vector<std::string>> rows;
        int rc = SQLITE_ROW;
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            auto& row = rows.emplace_back();
            for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
                const auto* text = sqlite3_column_text(stmt, i);
                row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
            }
        }
        sqlite3_finalize(stmt);
        if (rc != SQLITE_DONE)
            return Status(ErrorCode::Internal,
                          std::string(sqlite3_errmsg(m_db)) + " (in \"" + sql + "\")");
        return rows;
    }

private:
    Status execute(std::string_view sql, std::string_view where) {
        sqlite3_stmt* stmt = nullptr;
        const char* tail = nullptr;
        int rc = sqlite3_prepare_v2(m_db, sql.data(), int(sql.size()), &stmt, &tail);
        if (rc != SQLITE_OK)
            return sqlFailure(rc, where, sql);
        const std::string_view rest = sql.substr(std::size_t(tail - sql.data()));
        if (skipBlank(rest, 0) < rest.size()) { // only blanks and comments may follow
            sqlite3_finalize(stmt);
            return fail(ErrorCode::SqlError, where,
                        "trailing text after the statement: \"" + excerpt(rest) + "\"", sql);
        }
        if (!stmt)
            return fail(ErrorCode::SqlError, where, "not a statement", sql);
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        }
        if (rc != SQLITE_DONE) {
            // The error is reported by sqlite3_finalize with the extended code.
            rc = sqlite3_finalize(stmt);
            return sqlFailure(rc, where, sql);
        }
        sqlite3_finalize(stmt);
        return Status::ok();
    }

    Status sqlFailure(int rc, std::string_view where, std::string_view sql) const {
        if (!m_denied.empty() || (rc & 0xff) == SQLITE_AUTH)
            return fail(ErrorCode::NotPermitted, where,
                        (m_denied.empty() ? std::string("this statement") : m_denied) +
                            " is not permitted in a schema",
                        sql);
        return fail(ErrorCode::SqlError, where, sqlite3_errmsg(m_db), sql);
    }

    static Status fail(ErrorCode code, std::string_view where, std::string_view message,
                       std::string_view sql) {
        return Status(code, std::string(where) + ": " + std::string(message) + " (in \"" +
                                excerpt(sql) + "\")");
    }

    static int authorize(void* self, int action, const char* a, const char*, const char*,
                         const char*) {
        auto* db = static_cast<ScratchDb*>(self);
        if (!db->m_enforce)
            return SQLITE_OK;
        std::string denied;
        switch (action) {
        case SQLITE_ATTACH:
            denied = "ATTACH";
            break;
        case SQLITE_DETACH:
            denied = "DETACH";
            break;
        case SQLITE_TRANSACTION:
            denied = a ? a : "transaction control"; // BEGIN, COMMIT or ROLLBACK
            break;
        case SQLITE_SAVEPOINT:
            denied = "SAVEPOINT/RELEASE";
            break;
        case SQLITE_PRAGMA:
            denied = std::string("PRAGMA ") + (a ? a : "");
            break;
        case SQLITE_CREATE_TEMP_TABLE:
        case SQLITE_CREATE_TEMP_INDEX:
        case SQLITE_CREATE_TEMP_TRIGGER:
        case SQLITE_CREATE_TEMP_VIEW:
            denied = "a TEMP object (gone when the actor closes)";
            break;
        default:
            return SQLITE_OK;
        }
        if (db->m_denied.empty())
            db->m_denied = std::move(denied);
        return SQLITE_DENY;
    }

    sqlite3* m_db = nullptr;
    bool m_enforce = false; // a schema statement is running: the authorizer checks it
    std::string m_denied;   // what the authorizer refused in the current statement
};

std::string savedLabel(std::size_t index, std::string_view type) {
    return "saved statement " + std::to_string(index + 1) + " of type " + std::string(type);
}

// Builds the type's saved statements in `db`.
Status buildSaved(ScratchDb& db, const ActorType& type) {
    TROUPE_RETURN_IF_ERROR(db.open());
    for (std::size_t i = 0; i < type.statements.size(); ++i)
        TROUPE_RETURN_IF_ERROR(db.run(type.statements[i], savedLabel(i, type.name)));
    return Status::ok();
}

// Builds a scratch database holding a fresh actor of the type.
Status buildFresh(ScratchDb& db, const Schema& schema, std::string_view type) {
    const ActorType* found = schema.find(type);
    if (!found)
        return Status(ErrorCode::InvalidType, "unknown actor type \"" + std::string(type) + "\"");
    return buildSaved(db, *found);
}

} // namespace

// Runs a type's saved and new statements in a scratch database and checks the KV rule.
Status validateType(const ActorType& saved, const Section& section,
                    const std::vector<ScriptStatement>& fresh) {
    ScratchDb db;
    TROUPE_RETURN_IF_ERROR(buildSaved(db, saved));
    for (const ScriptStatement& stmt : fresh)
        TROUPE_RETURN_IF_ERROR(db.run(stmt.text, "line " + std::to_string(stmt.line)));
    if (!section.kv)
        return Status::ok();
    auto columns = db.query("SELECT lower(c.name) FROM sqlite_master AS t, "
                            "pragma_table_info(t.name) AS c WHERE t.type = 'table' AND "
                            "t.name = 'actors' COLLATE NOCASE",
                            {});
    if (!columns)
        return columns.status();
    auto has = [&](const char* name) {
        return std::any_of(columns->begin(), columns->end(),
                           [&](const auto& row) { return row.at(0) == name; });
    };
    if (!has("id") || !has("hash"))
        return Status(ErrorCode::InvalidArgument, "line " + std::to_string(section.line) +
                                                      ": KV type " + section.type +
                                                      " must have a table actors(id, hash)");
    return Status::ok();
}

} // namespace schema_detail

using schema_detail::buildFresh;
using schema_detail::ScratchDb;

Result<std::vector<std::string>> tablesOf(const Schema& schema, std::string_view type) {
    ScratchDb db;
    TROUPE_RETURN_IF_ERROR(buildFresh(db, schema, type));
    auto rows = db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                         "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                         {});
    if (!rows)
        return rows.status();
    std::vector<std::string> tables;
    for (auto& row : *rows)
        tables.push_back(std::move(row.at(0)));
    return tables;
}

Result<std::vector<ColumnInfo>> columnsOf(const Schema& schema, std::string_view type,
                                          std::string_view table) {
    ScratchDb db;
    TROUPE_RETURN_IF_ERROR(buildFresh(db, schema, type));
    const std::string notFound =
        "no table \"" + std::string(table) + "\" in actor type " + std::string(type);
    if (table.empty())
        return Status(ErrorCode::NotFound, notFound);
    auto found = db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                          "name = ?1 COLLATE NOCASE AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                          table);
    if (!found)
        return found.status();
    if (found->empty())
        return Status(ErrorCode::NotFound, notFound);
    auto rows =
        db.query("SELECT name, type, pk, \"notnull\" FROM pragma_table_info(?1) ORDER BY cid",
                 found->front().at(0));
    if (!rows)
        return rows.status();
    std::vector<ColumnInfo> columns;
    for (const auto& row : *rows)
        columns.push_back(ColumnInfo{row.at(0), row.at(1), row.at(2) != "0", row.at(3) != "0"});
    return columns;
}

Result<StatementShape> describeStatement(const Schema& schema, std::string_view type,
                                         std::string_view sql) {
    ScratchDb db;
    TROUPE_RETURN_IF_ERROR(buildFresh(db, schema, type));
    return db.describe(sql);
}

} // namespace troupe::sql
