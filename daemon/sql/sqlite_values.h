#pragma once

// Moving Values (value.h) in and out of SQLite statements: the one mapping between SQLite's
// storage classes and Value, used by actor connections and the config scratch database. Plain
// functions over a statement the caller owns; they touch nothing else.

#include <string>

#include <sqlite3.h>

#include "sql/value.h"

namespace troupe::sql {

// Binds value to parameter `index` (1-based) as its storage class; text and blobs are copied.
// Returns SQLite's result code.
int bindValue(sqlite3_stmt* stmt, int index, const Value& value);
// The value of a column of the current row, as its storage class.
Value columnValue(sqlite3_stmt* stmt, int column);
// The column of the current row as text; empty for NULL.
std::string columnText(sqlite3_stmt* stmt, int column);

} // namespace troupe::sql
