#pragma once

// COM_STMT_EXECUTE, decoded into query-facade values:
//
//   int<1> 0x17, int<4> statement id, int<1> flags (cursor type), int<4> iteration count (1),
//   if params > 0:
//     NULL bitmap of (params + 7) / 8 bytes (bit i = parameter i, no offset),
//     int<1> new-params-bound flag,
//     if the flag is 1: params x (int<1> type, int<1> flags; 0x80 = unsigned),
//     each parameter that is neither NULL nor sent as long data, in its binary encoding.
//
// A client sends the types with its first execute and may omit them later: the server keeps
// the last bound types per statement and passes them back in here.
//
// Values: TINY/SHORT/YEAR/LONG/INT24/LONGLONG (signed or unsigned) -> integer (an unsigned
// 64-bit value above INT64_MAX -> real, as SQLite reads such a literal); FLOAT/DOUBLE -> real;
// DECIMAL/NEWDECIMAL, VARCHAR/VAR_STRING/STRING, ENUM/SET/JSON -> text; TINY/MEDIUM/LONG BLOB,
// BLOB, BIT and GEOMETRY -> blob; DATE -> "YYYY-MM-DD"; DATETIME/TIMESTAMP ->
// "YYYY-MM-DD HH:MM:SS[.ffffff]"; TIME -> "[-]HH:MM:SS[.ffffff]" (hours include days); NULL
// type or NULL bit -> NULL.

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sql/value.h"

namespace troupe::mysql {

struct ParamType {
    std::uint8_t type = 0; // a ColumnType value
    bool isUnsigned = false;
    bool operator==(const ParamType&) const = default;
};

struct StmtExecute {
    std::uint32_t statementId = 0;
    std::uint8_t flags = 0;
    std::uint32_t iterationCount = 0;
    bool newParamsBound = false;
    std::vector<ParamType> types;   // the types these values were decoded with
    std::vector<sql::Value> params; // one per parameter; NULL where long data was sent
};

// The statement id of a COM_STMT_EXECUTE payload (to look up its parameter count first).
Result<std::uint32_t> peekStmtExecuteId(std::string_view payload);

// Decodes a COM_STMT_EXECUTE payload (command byte included) for a statement with
// `paramCount` parameters. `boundTypes` are the types from the previous execute (used when the
// new-params-bound flag is 0); `longData[i]` marks parameters whose value came by
// COM_STMT_SEND_LONG_DATA and is absent here. InvalidArgument for anything malformed: truncated
// or trailing bytes, unknown types, no types bound, bad lengths.
Result<StmtExecute> parseStmtExecute(std::string_view payload, std::size_t paramCount,
                                     const std::vector<ParamType>& boundTypes,
                                     const std::vector<bool>& longData = {});

// The client side (tests, fuzzing): encodes `values` with `types` (sent when newParamsBound).
// Integers are written in the width of their type, reals as FLOAT/DOUBLE, text/blob values
// as string<lenenc>; date and time types are not supported here (sent as strings instead).
std::string buildStmtExecute(std::uint32_t statementId, const std::vector<ParamType>& types,
                             const std::vector<sql::Value>& values, bool newParamsBound = true);

} // namespace troupe::mysql
