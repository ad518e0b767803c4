#pragma once

// The one mapping from TroupeDB's ErrorCode to MySQL error numbers and SQLSTATEs (mapped once
// here and once for Thrift in daemon/thrift/convert.h), plus the protocol-level errors the server
// raises itself. The table, and why each code maps where it does, is in errors.cpp.

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace troupe::mysql {

struct MysqlError {
    std::uint16_t code = 0;
    std::string_view sqlState; // 5 characters, static storage
    bool operator==(const MysqlError&) const = default;
};

// Errors of the protocol layer (ER_* numbers from MySQL's mysqld_error.h).
inline constexpr MysqlError kErrAccessDenied{1045, "28000"};
inline constexpr MysqlError kErrHostBlocked{1129, "HY000"}; // ER_HOST_IS_BLOCKED (login_guard.h)
inline constexpr MysqlError kErrNoDatabase{1046, "3D000"};
inline constexpr MysqlError kErrUnknownCommand{1047, "08S01"};
inline constexpr MysqlError kErrBadHandshake{1043, "08S01"};
inline constexpr MysqlError kErrTooManyConnections{1040, "08004"};
inline constexpr MysqlError kErrPacketTooLarge{1153, "08S01"};
inline constexpr MysqlError kErrPacketsOutOfOrder{1156, "08S01"};
inline constexpr MysqlError kErrUnknownStatement{1243, "HY000"};
inline constexpr MysqlError kErrWrongArguments{1210, "HY000"};
inline constexpr MysqlError kErrMalformedPacket{1835, "HY000"};
inline constexpr MysqlError kErrSecureTransportRequired{3159, "HY000"};
inline constexpr MysqlError kErrClientInteractionTimeout{4031, "HY000"};
inline constexpr MysqlError kErrUnknown{1105, "HY000"};
inline constexpr MysqlError kErrQueryInterrupted{1317, "70100"}; // ER_QUERY_INTERRUPTED
inline constexpr MysqlError kErrQueryTimeout{3024, "HY000"};     // ER_QUERY_TIMEOUT
inline constexpr MysqlError kErrNoSuchThread{1094, "HY000"};     // ER_NO_SUCH_THREAD
inline constexpr MysqlError kErrKillDenied{1095, "HY000"};       // ER_KILL_DENIED_ERROR

// By code alone. SqlError maps to the general 1105/HY000 here; use the Status overload to
// classify SQLite's message.
MysqlError mysqlErrorFor(ErrorCode code);
// By code, and for SqlError by SQLite's message: syntax errors 1064/42000, missing table
// 1146/42S02, missing column 1054/42S22, existing table 1050/42S01, UNIQUE/PRIMARY KEY
// 1062/23000, NOT NULL 1048/23000, other constraints 4025/23000, anything else 1105/HY000.
MysqlError mysqlErrorFor(const Status& status);

} // namespace troupe::mysql
