#pragma once

// NUL bytes in the SQL of a request (resources/docs/security.md "malformed requests").
// SQLite reads SQL text only up to a NUL byte, whatever length it is given: a NUL inside a
// string literal cuts the literal ("unrecognized token"), and a NUL between statements leaves
// sqlite3_prepare with nothing to prepare and its tail at the NUL, which is how one
// `SELECT 1\0` once held an executor thread forever.
//
// The rule: a NUL inside a '...' string literal is data; a NUL anywhere else (between tokens,
// in a quoted name, a blob literal X'...' or a comment) is an error that names its offset.
// Pure function: any thread may call it.

#include <string>
#include <string_view>

#include "core/status.h"

namespace troupe::sql {

// The SQL that SQLite should prepare for `sql`: each '...' literal that holds NUL bytes is
// replaced by (CAST(X'<hex>' AS TEXT)), the same bytes as TEXT, NULs included (the ''
// escape already collapsed). Text without NUL bytes comes back unchanged. SqlError for a NUL
// outside a string literal, naming its byte offset in `sql`.
Result<std::string> rewriteNulBytes(std::string_view sql);

} // namespace troupe::sql
