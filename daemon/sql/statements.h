#pragma once

// Recognises the statements of the ActorDB dialect that are not SQLite's (MISSION §2): the
// actor pragmas, SHOW, named prepared statements, and the {{...}} statement forms. Pure text
// functions, any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sql/value.h"

namespace troupe::sql {

struct SpecialStatement {
    enum class Kind {
        Sql,           // plain SQL for SQLite
        PragmaList,    // PRAGMA list [LIMIT n] [OFFSET m]
        PragmaCount,   // PRAGMA count
        PragmaExists,  // PRAGMA exists
        PragmaDelete,  // PRAGMA delete
        PragmaCopy,    // PRAGMA copy=source: `name`
        Show,          // SHOW schema|tables|status|queries|shards: `name` (lower case)
        Prepare,       // PREPARE name (types) FOR type AS sql: name, argTypes, type, sql
        PrepareDelete, // PREPARE DELETE name
        Execute,       // EXECUTE name (args): name, args
        Capture,       // {{NAME}}sql: name, sql
        Assign,        // {{X.col=INFO.col2}}: variable, column, name (INFO), sourceColumn
    };
    Kind kind = Kind::Sql;
    std::string name;
    std::string sql;
    std::string type;
    std::vector<std::string> argTypes; // lower case: int, text, real, blob
    std::vector<Value> args;
    std::int64_t limit = -1;
    std::int64_t offset = 0;
    std::string variable;
    std::string column;
    std::string sourceColumn;
};

// Classifies one statement (as the segmenter returns it). Errors (InvalidArgument, SqlError)
// name the statement: a malformed PRAGMA list, EXECUTE with a bad literal, ...
Result<SpecialStatement> classifyStatement(std::string_view statement);

// True when the statement only reads (SELECT, VALUES, EXPLAIN, WITH without a write, the
// allowed read pragmas). Used for permission checks before SQLite sees the statement; SQLite's
// own read-only check still applies when it runs.
bool isReadOnlyStatement(std::string_view statement);

// Parses an SQL literal: integer, real, 'text' (with '' escapes), NULL, X'hex'.
Result<Value> parseLiteral(std::string_view text);
// The SQL literal for a value ('it''s', 12, 1.5, 2.0, NULL, X'00ff') that SQLite reads as the
// same type and value: a REAL always has a '.' or an exponent, +-Inf is 9e999/-9e999, NaN NULL.
std::string sqlLiteral(const Value& value);
// A value's text form ('it''s' inside quotes becomes it''s): what goes between '...'.
std::string quotedTextBody(const Value& value);
// A value as plain text (NULL -> "", blobs raw): actor names taken from result rows.
std::string valueText(const Value& value);

} // namespace troupe::sql
