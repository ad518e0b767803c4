#include "core/status.h"

namespace troupe {

std::string_view errorCodeName(ErrorCode code) {
    switch (code) {
    case ErrorCode::Ok:
        return "ok";
    case ErrorCode::NotLoggedIn:
        return "not_logged_in";
    case ErrorCode::EmptyActorName:
        return "empty_actor_name";
    case ErrorCode::InvalidActorName:
        return "invalid_actor_name";
    case ErrorCode::InvalidType:
        return "invalid_type";
    case ErrorCode::NotPermitted:
        return "not_permitted";
    case ErrorCode::SqlError:
        return "sql_error";
    case ErrorCode::ConsensusTimeout:
        return "consensus_timeout";
    case ErrorCode::ConsensusImpossibleAtm:
        return "consensus_impossible_atm";
    case ErrorCode::NoCreate:
        return "no_create";
    case ErrorCode::Error:
        return "error";
    case ErrorCode::NotLeader:
        return "not_leader";
    case ErrorCode::TooManyAttempts:
        return "too_many_attempts";
    case ErrorCode::InvalidArgument:
        return "invalid_argument";
    case ErrorCode::NotFound:
        return "not_found";
    case ErrorCode::Corruption:
        return "corruption";
    case ErrorCode::IoError:
        return "io_error";
    case ErrorCode::DiskFull:
        return "disk_full";
    case ErrorCode::Busy:
        return "busy";
    case ErrorCode::ShuttingDown:
        return "shutting_down";
    case ErrorCode::TooLarge:
        return "too_large";
    case ErrorCode::ReadOnly:
        return "read_only";
    case ErrorCode::Internal:
        return "internal";
    case ErrorCode::Exists:
        return "exists";
    case ErrorCode::NotInitialized:
        return "not_initialized";
    case ErrorCode::Timeout:
        return "timeout";
    case ErrorCode::Interrupted:
        return "interrupted";
    }
    return "unknown";
}

Status::Status(ErrorCode code, std::string message) {
    if (code != ErrorCode::Ok)
        m_state = std::make_shared<const State>(State{code, std::move(message)});
}

const std::string& Status::message() const {
    static const std::string empty;
    return m_state ? m_state->message : empty;
}

std::string Status::toString() const {
    if (isOk())
        return "ok";
    std::string out(errorCodeName(m_state->code));
    if (!m_state->message.empty()) {
        out += ": ";
        out += m_state->message;
    }
    return out;
}

Status Status::withContext(std::string_view context) const {
    if (isOk())
        return *this;
    std::string message(context);
    message += ": ";
    message += m_state->message;
    return Status(m_state->code, std::move(message));
}

} // namespace troupe
