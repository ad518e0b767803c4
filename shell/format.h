#pragma once

// How the `troupe` shell prints results (--print). Pure functions: any thread.
//
//   table  aligned for humans, as the mysql client: borders, NULL, then "N rows"; a write prints
//          "OK, N rows changed, last insert rowid M"
//   csv    RFC 4180 rows without a header; csvh with one. Text as is (quoted when needed), NULL
//          as an empty field, a blob as x'hex'. A write: rowsChanged,lastInsertRowid
//   json   one JSON document per result: an array of objects for rows (NULL null, numbers
//          exact, a blob {"blob":"hex"}); a write {"rowsChanged":N,"lastInsertRowid":M}

#include <optional>
#include <string>
#include <string_view>

#include "client/client.h"

namespace troupe::shell {

enum class Format { Table, Csv, CsvHeader, Json };

std::optional<Format> parseFormat(std::string_view name);
// The text to print for one result (ends with a newline, or is empty).
std::string formatResult(const client::QueryResult& result, Format format);

} // namespace troupe::shell
