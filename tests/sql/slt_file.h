#pragma once

// The .test files of tst_sqllogic: parsing into records (the format is described at the top of
// tst_sqllogic.cpp and in tests/sql/README.md). Pure text processing: no I/O besides reading the
// file, so malformed files become parse errors with a line number, never crashes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sql/value.h"

namespace troupe::slt {

// Which facade entry point a record runs through.
enum class Target {
    Query,  // Database::query()
    Config, // Database::config()
    Schema, // Database::schema()
    Script, // Database::script()
    Api,    // a direct facade call named by the body (actor_types, authenticate, ...)
};

struct Record {
    enum class Kind {
        Statement, // statement/config/schema/script/api ok|error
        Query,     // query <types> ... ---- rows
        Session,   // session <name> [user=<u>]
        Restart,   // restart
        Init,      // init
        Params,    // params <literal>...
    };

    Kind kind = Kind::Statement;
    int line = 0; // 1-based line of the record's header
    Target target = Target::Query;
    std::string text; // the request (body lines joined with '\n')

    // Statement records.
    bool expectOk = true;
    ErrorCode expectedCode = ErrorCode::Ok;
    std::string expectedMessage; // substring, compared case-insensitively; may be empty
    std::optional<std::int64_t> changed;
    std::optional<std::int64_t> lastId;

    // Query records.
    std::string types; // one letter per column: I R T B, or ? for any type; "*": any columns
    bool rowsort = false;
    bool colnames = false;
    bool anyRows = false;              // check columns only; rows are not compared
    std::vector<std::string> expected; // expected lines (names first with colnames)

    // Session records.
    std::string sessionName;
    std::optional<std::string> user;

    // Params records.
    std::vector<sql::Value> params;
};

struct ParseError {
    int line = 0;
    std::string message;
};

struct TestFile {
    std::vector<Record> records;
    std::vector<ParseError> errors; // a record with an error is left out
};

// Splits a file's text into records. Never throws; problems land in TestFile::errors.
TestFile parseTestFile(std::string_view text);

// One SQL literal: 12, -3, 1.5, 'it''s', NULL, X'00ff'. std::nullopt when malformed.
std::optional<sql::Value> parseLiteral(std::string_view token);

// The literals of a `params` line, split on whitespace outside quotes.
std::optional<std::vector<sql::Value>> parseLiterals(std::string_view text);

// "NotPermitted" -> ErrorCode::NotPermitted (the enumerator names of core/status.h).
std::optional<ErrorCode> errorCodeFromName(std::string_view name);
// ErrorCode::NotPermitted -> "NotPermitted".
std::string errorCodeCamelName(ErrorCode code);

} // namespace troupe::slt
