#include "mysql/errors.h"

namespace troupe::mysql {

// Choices, where MySQL has no exact counterpart:
// - Actors play the part of databases: an unknown actor type (InvalidType) and an actor that
//   does not exist without `create` (NoCreate) are ER_BAD_DB_ERROR 1049, a bad actor name is
//   ER_WRONG_DB_NAME 1102, no actor named at all is ER_NO_DB_ERROR 1046, and an actor or user
//   that already exists (Exists) is ER_DB_CREATE_EXISTS 1007.
// - Conditions a client should retry (a busy actor, a consensus round that timed out) are
//   ER_LOCK_WAIT_TIMEOUT 1205, which drivers and ORMs already treat as retryable.
// - Conditions only TroupeDB has (no leader, consensus impossible, too many attempts, not
//   initialised, corruption, internal errors) are the general ER_UNKNOWN_ERROR 1105/HY000
//   with TroupeDB's message.
// - A request stopped by its time limit is MySQL's max_execution_time error 3024, one stopped by
//   KILL QUERY (or because its client left) MySQL's 1317 (resources/docs/security.md).
MysqlError mysqlErrorFor(ErrorCode code) {
    switch (code) {
    case ErrorCode::Ok:
        return {0, "00000"};
    case ErrorCode::NotLoggedIn:
        return kErrAccessDenied;
    case ErrorCode::EmptyActorName:
        return kErrNoDatabase;
    case ErrorCode::InvalidActorName:
        return {1102, "42000"}; // ER_WRONG_DB_NAME
    case ErrorCode::InvalidType:
    case ErrorCode::NoCreate:
        return {1049, "42000"}; // ER_BAD_DB_ERROR
    case ErrorCode::NotPermitted:
        return {1142, "42000"}; // ER_TABLEACCESS_DENIED_ERROR
    case ErrorCode::SqlError:
        return kErrUnknown;
    case ErrorCode::ConsensusTimeout:
    case ErrorCode::Busy:
        return {1205, "HY000"}; // ER_LOCK_WAIT_TIMEOUT
    case ErrorCode::ConsensusImpossibleAtm:
    case ErrorCode::Error:
    case ErrorCode::NotLeader:
    case ErrorCode::TooManyAttempts:
    case ErrorCode::NotFound:
    case ErrorCode::Corruption:
    case ErrorCode::Internal:
    case ErrorCode::NotInitialized:
        return kErrUnknown;
    case ErrorCode::InvalidArgument:
        return kErrWrongArguments;
    case ErrorCode::IoError:
        return {1030, "HY000"}; // ER_GET_ERRNO
    case ErrorCode::DiskFull:
        return {1021, "HY000"}; // ER_DISK_FULL
    case ErrorCode::ShuttingDown:
        return {1053, "08S01"}; // ER_SERVER_SHUTDOWN
    case ErrorCode::TooLarge:
        return kErrPacketTooLarge;
    case ErrorCode::ReadOnly:
        return {1290, "HY000"}; // ER_OPTION_PREVENTS_STATEMENT
    case ErrorCode::Exists:
        return {1007, "HY000"}; // ER_DB_CREATE_EXISTS
    case ErrorCode::Timeout:
        return kErrQueryTimeout;
    case ErrorCode::Interrupted:
        return kErrQueryInterrupted;
    }
    return kErrUnknown;
}

MysqlError mysqlErrorFor(const Status& status) {
    if (status.code() != ErrorCode::SqlError)
        return mysqlErrorFor(status.code());
    std::string_view m = status.message();
    auto has = [m](std::string_view s) { return m.find(s) != std::string_view::npos; };
    if (has("syntax error") || has("incomplete input") || has("unrecognized token"))
        return {1064, "42000"}; // ER_PARSE_ERROR
    if (has("no such table"))
        return {1146, "42S02"}; // ER_NO_SUCH_TABLE
    if (has("no such column"))
        return {1054, "42S22"}; // ER_BAD_FIELD_ERROR
    if (has("already exists"))
        return {1050, "42S01"}; // ER_TABLE_EXISTS_ERROR
    if (has("UNIQUE constraint failed") || has("PRIMARY KEY"))
        return {1062, "23000"}; // ER_DUP_ENTRY
    if (has("NOT NULL constraint failed"))
        return {1048, "23000"}; // ER_BAD_NULL_ERROR
    if (has("constraint failed"))
        return {4025, "23000"}; // ER_CONSTRAINT_FAILED
    return kErrUnknown;
}

} // namespace troupe::mysql
