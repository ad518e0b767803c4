#pragma once

// Values and results of the in-process query facade, shared by every front end (MySQL,
// Thrift, the shell through Thrift).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace troupe::sql {

struct Blob {
    std::string bytes;
    bool operator==(const Blob&) const = default;
};

// NULL, INTEGER, REAL, TEXT, BLOB: SQLite's storage classes.
using Value = std::variant<std::monostate, std::int64_t, double, std::string, Blob>;

class RowSpill;    // row_spill.h
class CancelToken; // cancel_token.h

struct ExecFlags {
    bool create = false; // create the actor if it does not exist (otherwise NoCreate)
    bool fsync = false;  // make this write durable even when the server's fsync mode is not always
    bool safe = false;   // reads confirmed by a quorum (meaningful with Raft)
    bool admin = false;  // the user is an administrator: admin-only SQL (dbstat) is allowed
    // Set by the query facade when every statement only reads: such a request may run against
    // the actor's last committed state instead of waiting behind its in-flight write.
    bool readOnly = false;
    // > 0: a front end that can read rows from a file (RowSpill) takes results larger than
    // about this many bytes of rows that way: the rows beyond it go to a temporary file.
    std::size_t spillAbove = 0;
    // > 0: the request's own SQL is stopped with Timeout once it has run this long in the
    // actor, counted from when its executor worker starts it (not while it waits in the queue,
    // nor while its commit becomes durable). 0: no limit (administrative work; the query facade
    // sets the configured limit on every client request). resources/docs/security.md.
    std::chrono::milliseconds timeLimit{0};
    // Set: the request stops with the token's error once it is cancelled (KILL QUERY, the
    // client went away, shutdown).
    std::shared_ptr<const CancelToken> cancel = nullptr;
};

// What one SQL statement gave: columns and rows if it returns rows (even none), otherwise the
// rows it changed.
struct StatementResult {
    bool returnsRows = false;
    std::vector<std::string> columns;
    std::vector<std::vector<Value>> rows;
    std::shared_ptr<RowSpill> spilled; // the rows after `rows`, when there were too many
    std::int64_t lastInsertRowid = 0;
    std::int64_t rowsChanged = 0;
};

struct ExecResult {
    std::vector<std::string> columns; // of the last statement that returned columns
    std::vector<std::vector<Value>> rows;
    // The rows after `rows`, in a temporary file, when the request allowed it
    // (ExecFlags::spillAbove) and they were too many to keep in memory.
    std::shared_ptr<RowSpill> spilled;
    std::int64_t lastInsertRowid = 0;
    std::int64_t rowsChanged = 0; // sum over the request's statements
    bool wrote = false;           // the request changed the actor's database
    // Each statement's own result, in order, when a single-actor request ran more than one
    // SQL statement (the MySQL protocol's multi-results); empty otherwise.
    std::vector<StatementResult> statements;
};

// What the schema says an actor of `type` at version `from` must run before its next request
// (DESIGN §1 "actors migrate lazily"). version <= from: nothing to do.
struct Migration {
    std::uint32_t version = 0;
    std::vector<std::string> statements;
};
using MigrationSource = std::function<Migration(const std::string& type, std::uint32_t from)>;

} // namespace troupe::sql
