#pragma once

// Result sets in MySQL's text protocol (COM_QUERY) and binary protocol (COM_STMT_EXECUTE):
// the column count, ColumnDefinition41 packets, rows, and COM_STMT_PREPARE's OK.
//
// SQLite values have no declared column type, so a column's MySQL type comes from its first
// non-NULL value: INTEGER -> LONGLONG, REAL -> DOUBLE, TEXT -> VAR_STRING (utf8mb4), BLOB ->
// BLOB (binary charset); a column with only NULLs is of type NULL.
//
// Text rows carry each value's own text, whatever the column type (lossless; SQLite may mix
// storage classes in one column). Binary rows must match the declared type, so a value of
// another class is converted: to LONGLONG by truncation / decimal parsing (0 when not a
// number), to DOUBLE likewise, to strings by formatting; a value in a NULL-typed column is
// sent as NULL.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sql/value.h"

namespace troupe::mysql {

enum class ColumnType : std::uint8_t {
    Decimal = 0x00,
    Tiny = 0x01,
    Short = 0x02,
    Long = 0x03,
    Float = 0x04,
    Double = 0x05,
    Null = 0x06,
    Timestamp = 0x07,
    LongLong = 0x08,
    Int24 = 0x09,
    Date = 0x0A,
    Time = 0x0B,
    DateTime = 0x0C,
    Year = 0x0D,
    VarChar = 0x0F,
    Bit = 0x10,
    Json = 0xF5,
    NewDecimal = 0xF6,
    Enum = 0xF7,
    Set = 0xF8,
    TinyBlob = 0xF9,
    MediumBlob = 0xFA,
    LongBlob = 0xFB,
    Blob = 0xFC,
    VarString = 0xFD,
    String = 0xFE,
    Geometry = 0xFF,
};

// Column flags (*_FLAG).
namespace colflag {
inline constexpr std::uint16_t kNotNull = 1;
inline constexpr std::uint16_t kBlob = 16;
inline constexpr std::uint16_t kUnsigned = 32;
inline constexpr std::uint16_t kBinary = 128;
} // namespace colflag

struct ColumnDef {
    std::string name;
    ColumnType type = ColumnType::Null;
    std::uint16_t charset = 63;
    std::uint32_t length = 0;
    std::uint16_t flags = 0;
    std::uint8_t decimals = 0;
};

// The definition of a column whose values are of this storage class.
ColumnDef columnDefFor(std::string name, const sql::Value& sample);
// One definition per column of `result`, typed by each column's first non-NULL value.
std::vector<ColumnDef> columnDefsFor(const sql::ExecResult& result);
std::vector<ColumnDef> columnDefsFor(const std::vector<std::string>& names,
                                     const std::vector<std::vector<sql::Value>>& rows);

// The payload that starts a result set: int<lenenc> column count.
std::string buildColumnCount(std::uint64_t count);
// ColumnDefinition41; `schema` is the database name the client sees (the actor).
std::string buildColumnDefinition(const ColumnDef& column, std::string_view schema = {});
Result<ColumnDef> parseColumnDefinition(std::string_view payload);

// A text-protocol row: one string<lenenc> per value, 0xFB for NULL.
std::string buildTextRow(const std::vector<sql::Value>& row);
// A binary-protocol row: 0x00, NULL bitmap (offset 2), the non-NULL values in the columns'
// binary encodings. `row` has one value per column.
std::string buildBinaryRow(const std::vector<ColumnDef>& columns,
                           const std::vector<sql::Value>& row);

// COM_STMT_PREPARE_OK: 0x00, int<4> statement id, int<2> columns, int<2> params, 0x00,
// int<2> warnings. Followed by the parameter and column definitions (each group ended by EOF
// unless DEPRECATE_EOF), sent by the server.
std::string buildStmtPrepareOk(std::uint32_t statementId, std::uint16_t columns,
                               std::uint16_t params, std::uint16_t warnings = 0);

// A value as text: integers in decimal, reals in the shortest form that reads back the same,
// text and blobs as they are; NULL as empty.
std::string valueText(const sql::Value& v);

} // namespace troupe::mysql
