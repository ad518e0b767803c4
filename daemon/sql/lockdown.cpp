#include "sql/lockdown.h"

#include <algorithm>
#include <array>
#include <string>

#include "sql/sql_text.h"

namespace troupe::sql::lockdown {
namespace {

using namespace std::string_view_literals;

// Every function of SQLite 3.40's library (pragma function_list) that is plain computation on
// its arguments, or reads only the actor's own tables through a virtual table the request
// names: core scalars and aggregates, window functions, date and time, math, JSON, the FTS3/4,
// FTS5 auxiliary functions and MATCH. The sqlite_rename_* and sqlite_drop_column functions are
// internal to ALTER TABLE: SQLite asks about them while it rewrites the schema, and SQL cannot
// call them directly.
constexpr std::array kAllowedFunctions = {
    "->"sv,
    "->>"sv,
    "abs"sv,
    "acos"sv,
    "acosh"sv,
    "asin"sv,
    "asinh"sv,
    "atan"sv,
    "atan2"sv,
    "atanh"sv,
    "avg"sv,
    "bm25"sv,
    "ceil"sv,
    "ceiling"sv,
    "changes"sv,
    "char"sv,
    "coalesce"sv,
    "cos"sv,
    "cosh"sv,
    "count"sv,
    "cume_dist"sv,
    "current_date"sv,
    "current_time"sv,
    "current_timestamp"sv,
    "date"sv,
    "datetime"sv,
    "degrees"sv,
    "dense_rank"sv,
    "exp"sv,
    "first_value"sv,
    "floor"sv,
    "format"sv,
    "fts5_source_id"sv,
    "glob"sv,
    "group_concat"sv,
    "hex"sv,
    "highlight"sv,
    "ifnull"sv,
    "iif"sv,
    "instr"sv,
    "json"sv,
    "json_array"sv,
    "json_array_length"sv,
    "json_extract"sv,
    "json_group_array"sv,
    "json_group_object"sv,
    "json_insert"sv,
    "json_object"sv,
    "json_patch"sv,
    "json_quote"sv,
    "json_remove"sv,
    "json_replace"sv,
    "json_set"sv,
    "json_type"sv,
    "json_valid"sv,
    "julianday"sv,
    "lag"sv,
    "last_insert_rowid"sv,
    "last_value"sv,
    "lead"sv,
    "length"sv,
    "like"sv,
    "likelihood"sv,
    "likely"sv,
    "ln"sv,
    "log"sv,
    "log10"sv,
    "log2"sv,
    "lower"sv,
    "ltrim"sv,
    "match"sv,
    "matchinfo"sv,
    "max"sv,
    "min"sv,
    "mod"sv,
    "nth_value"sv,
    "ntile"sv,
    "nullif"sv,
    "offsets"sv,
    "percent_rank"sv,
    "pi"sv,
    "pow"sv,
    "power"sv,
    "printf"sv,
    "quote"sv,
    "radians"sv,
    "random"sv,
    "randomblob"sv,
    "rank"sv,
    "replace"sv,
    "round"sv,
    "row_number"sv,
    "rtrim"sv,
    "sign"sv,
    "sin"sv,
    "sinh"sv,
    "snippet"sv,
    "soundex"sv,
    "sqlite_compileoption_get"sv,
    "sqlite_compileoption_used"sv,
    "sqlite_drop_column"sv,
    "sqlite_rename_column"sv,
    "sqlite_rename_quotefix"sv,
    "sqlite_rename_table"sv,
    "sqlite_rename_test"sv,
    "sqlite_source_id"sv,
    "sqlite_version"sv,
    "sqrt"sv,
    "strftime"sv,
    "substr"sv,
    "substring"sv,
    "sum"sv,
    "tan"sv,
    "tanh"sv,
    "time"sv,
    "total"sv,
    "trim"sv,
    "trunc"sv,
    "typeof"sv,
    "unicode"sv,
    "unixepoch"sv,
    "unlikely"sv,
    "upper"sv,
    "zeroblob"sv,
};

// Known to SQLite 3.40 and refused, with the reason:
// - fts3_tokenizer: the two-argument form installs a tokenizer from a raw pointer (a crash or
//   code execution), the one-argument form returns a library address.
// - fts5: hands out a pointer to the FTS5 API; only for C extensions.
// - load_extension: loads a shared library into the server.
// - optimize: the FTS3 function rewrites the index from inside a SELECT, a write that a read
//   request would make (INSERT INTO ft(ft) VALUES('optimize') does the same as a write).
// - rtreecheck, rtreedepth, rtreenode: R-tree debugging aids that decode raw node blobs.
// - sqlite_log: writes to the server's log.
// - subtype: a test function.
// - total_changes: counts the changes of every request on the shared connection.
constexpr std::array kRefusedFunctions = {
    "fts3_tokenizer"sv, "fts5"sv,      "load_extension"sv, "optimize"sv, "rtreecheck"sv,
    "rtreedepth"sv,     "rtreenode"sv, "sqlite_log"sv,     "subtype"sv,  "total_changes"sv,
};

// CREATE VIRTUAL TABLE: full-text search and R-trees, and the FTS vocabularies over them.
constexpr std::array kAllowedModules = {
    "fts3"sv, "fts4"sv, "fts4aux"sv, "fts5"sv, "fts5vocab"sv, "rtree"sv, "rtree_i32"sv,
};
// Refused as named tables: dbstat and sqlite_stmt (see readAccess), fts3tokenize (direct access
// to tokenizers by name), json_each and json_tree (used as table-valued functions instead).
constexpr std::array kRefusedModules = {
    "dbstat"sv, "fts3tokenize"sv, "json_each"sv, "json_tree"sv, "sqlite_stmt"sv,
};

static_assert(std::is_sorted(kAllowedFunctions.begin(), kAllowedFunctions.end()));
static_assert(std::is_sorted(kRefusedFunctions.begin(), kRefusedFunctions.end()));
static_assert(std::is_sorted(kAllowedModules.begin(), kAllowedModules.end()));
static_assert(std::is_sorted(kRefusedModules.begin(), kRefusedModules.end()));

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& sorted, std::string_view name) {
    if (name.size() > 64)
        return false; // longer than any listed name
    const std::string folded = lower(name);
    return std::binary_search(sorted.begin(), sorted.end(), std::string_view(folded));
}

struct Setting {
    int op;
    int value;
    const char* name;
};

constexpr std::array kSettings = {
    Setting{SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, "SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER"},
    Setting{SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, "SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION"},
    Setting{SQLITE_DBCONFIG_DEFENSIVE, 1, "SQLITE_DBCONFIG_DEFENSIVE"},
    Setting{SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, "SQLITE_DBCONFIG_TRUSTED_SCHEMA"},
};

} // namespace

Status apply(sqlite3* db) {
    for (const Setting& s : kSettings) {
        int now = -1;
        const int rc = sqlite3_db_config(db, s.op, s.value, &now);
        if (rc != SQLITE_OK || now != s.value)
            return Status(ErrorCode::Internal, std::string("cannot set ") + s.name + " to " +
                                                   std::to_string(s.value) + ": " +
                                                   sqlite3_errstr(rc));
    }
    return Status::ok();
}

bool functionAllowed(std::string_view name) {
    return contains(kAllowedFunctions, name);
}

bool moduleAllowed(std::string_view name) {
    return contains(kAllowedModules, name);
}

ReadAccess readAccess(std::string_view table) {
    if (iequals(table, "dbstat"))
        return ReadAccess::AdminOnly;
    // sqlite_stmt, and the raw-page tables of newer builds (sqlite_dbpage, sqlite_dbdata,
    // sqlite_dbptr). Other sqlite_ names are the schema tables, which stay readable.
    if (iequals(table, "sqlite_stmt") ||
        (table.size() > 9 && iequals(table.substr(0, 9), "sqlite_db")))
        return ReadAccess::Refused;
    return ReadAccess::Allowed;
}

std::span<const std::string_view> allowedFunctions() {
    return kAllowedFunctions;
}
std::span<const std::string_view> refusedFunctions() {
    return kRefusedFunctions;
}
std::span<const std::string_view> allowedModules() {
    return kAllowedModules;
}
std::span<const std::string_view> refusedModules() {
    return kRefusedModules;
}

} // namespace troupe::sql::lockdown
