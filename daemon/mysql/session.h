#pragma once

// Session: what one MySQL connection means to the query facade (issue 4), without the socket —
// the connection (server.cpp) reads packets and writes the Responses this computes.
//
// It keeps the connection's state: the authenticated user and the selected actor or type. An
// actor is selected by the database name (`type.id`, as in `mysql -D user.alice`; `type` selects
// only the type), by COM_INIT_DB / USE, or by a standalone `ACTOR t(id) [create];`; a query that
// names its own actor (`ACTOR t(id); ...`) runs as written. It also answers the probe queries
// drivers and tools send at connect time (@@variables, SET, SHOW VARIABLES/DATABASES/TABLES/
// WARNINGS, SELECT DATABASE()), and the process commands of issue 13 (session_process.cpp):
// KILL [QUERY | CONNECTION] id, SHOW [FULL] PROCESSLIST, SELECT CONNECTION_ID() and
// SET [SESSION] max_execution_time = ms.
//
// Threads: one connection thread at a time.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mysql/errors.h"
#include "sql/database.h"
#include "sql/process_list.h"
#include "sql/value.h"

namespace troupe::mysql {

// One reply to a command: an OK, an error, or a result set.
struct Response {
    enum class Kind { Ok, Error, Rows };
    Kind kind = Kind::Ok;
    sql::ExecResult result; // Rows: columns and rows; Ok: rowsChanged, lastInsertRowid
    MysqlError error;       // Error
    std::string message;    // Error

    static Response ok(std::int64_t affected = 0, std::int64_t lastInsertId = 0);
    static Response rows(sql::ExecResult result);
    static Response failure(const Status& status);
    static Response failure(MysqlError error, std::string message);
};

class Session {
public:
    // `spillAbove` > 0: the rows of a result beyond about that many bytes come in a temporary
    // file (sql::ExecResult::spilled), which the connection streams.
    // `peer` ("address:port") goes into the audit log with the user's changes. `process`: the
    // connection's entry in the process list (kept by the connection, which outlives this
    // Session); each query runs as one of its commands, cancellable by KILL.
    Session(sql::Database& db, std::string user, std::string serverVersion,
            std::size_t spillAbove = 0, std::string peer = {},
            sql::ProcessList::Registration* process = nullptr);

    // COM_INIT_DB, USE and the handshake's database: `type.id` or `type` (empty: none).
    Response selectDatabase(std::string_view name);
    Response query(std::string_view text, std::vector<sql::Value> params = {});

    // Named by COM_STMT_PREPARE: the statement's text, its parameter count and result columns as
    // a fresh actor of the type would give them (described in a scratch database of the type's
    // schema, without touching an actor).
    struct Prepared {
        std::uint32_t id = 0;
        std::string sql;
        int params = 0;
        std::vector<std::string> columns;
    };
    Result<Prepared> prepare(std::string_view text);
    const Prepared* prepared(std::uint32_t id) const;
    // COM_STMT_EXECUTE: runs the statement with its parameters bound (never pasted).
    Response execute(std::uint32_t id, std::vector<sql::Value> params);
    void close(std::uint32_t id); // COM_STMT_CLOSE
    void reset();                 // COM_RESET_CONNECTION: no actor selected

    // The database name the client sees: "type.id", "type" or empty.
    const std::string& database() const { return m_database; }
    const std::string& serverVersion() const { return m_serverVersion; }

private:
    Response runQuery(std::string_view text, std::vector<sql::Value> params);
    Response probe(std::string_view text, const std::string& lower, bool& handled);
    Response selectProbe(std::string_view text, const std::string& lower, bool& handled);
    Response showVariables(const std::string& lower);
    Response showTables();
    Response flushHosts();
    // The user has a read or write grant on `type` (or on *), whether or not it exists.
    bool mayUse(const std::string& type) const;
    std::string variable(std::string_view name) const;
    Prepared remember(Prepared p);
    // session_process.cpp: KILL, SHOW PROCESSLIST, SET max_execution_time (handled = false for
    // anything else).
    Response processCommand(const std::string& lower, bool& handled);
    Response kill(std::string_view args);
    Response showProcesslist(bool full);
    Response setMaxExecutionTime(const std::string& lower);
    bool isAdmin() const;
    void showDatabase(); // the process list's db column follows the selected actor

    sql::Database& m_db;
    sql::Session m_sql;
    std::string m_serverVersion;
    std::string m_database;
    std::string m_type;  // selected type (may be without actor)
    std::string m_actor; // selected actor name, empty if none
    bool m_create = false;
    std::map<std::uint32_t, Prepared> m_prepared;
    std::uint32_t m_nextStatement = 0;
    sql::ProcessList::Registration* m_process = nullptr;
    std::string m_shownDatabase; // the db column of the process list
};

} // namespace troupe::mysql
