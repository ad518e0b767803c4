#pragma once

// Status and Result<T>: how errors cross module boundaries (LevelDB's Status, Qt Creator's
// Result). One error enum for the whole product; the Thrift and MySQL layers map it once.

#include <cassert>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace troupe {

// Values match ActorDB's Thrift ErrorCode where ActorDB has the code (1..14); TroupeDB's own
// codes start at 100. Never renumber: the values reach clients.
enum class ErrorCode : int {
    Ok = 0,
    NotLoggedIn = 1,
    EmptyActorName = 2,
    InvalidActorName = 3,
    InvalidType = 4,
    NotPermitted = 5,
    SqlError = 6,
    ConsensusTimeout = 7,
    ConsensusImpossibleAtm = 8,
    NoCreate = 9,
    Error = 10,
    NotLeader = 11,
    TooManyAttempts = 12,
    InvalidArgument = 100,
    NotFound = 101,
    Corruption = 102,
    IoError = 103,
    DiskFull = 104,
    Busy = 105,
    ShuttingDown = 106,
    TooLarge = 107,
    ReadOnly = 108,
    Internal = 109,
    Exists = 110,
    NotInitialized = 111, // the node has no config yet: only USE config statements run
    Timeout = 112,        // a request's SQL ran past its time limit and was stopped
    Interrupted = 113,    // a request was stopped: KILL QUERY, KILL, or its client went away
};

// Stable lower-case name of a code, for logs and error messages ("no_create").
std::string_view errorCodeName(ErrorCode code);

// The outcome of an operation: OK (cheap, no allocation) or a code with a message.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(ErrorCode code, std::string message);

    static Status ok() { return Status(); }

    bool isOk() const { return m_state == nullptr; }
    explicit operator bool() const { return isOk(); }
    ErrorCode code() const { return m_state ? m_state->code : ErrorCode::Ok; }
    const std::string& message() const;
    // "code_name: message", or "ok".
    std::string toString() const;

    // Prefix the message with context, keeping the code ("opening actor x: ...").
    Status withContext(std::string_view context) const;

private:
    struct State {
        ErrorCode code;
        std::string message;
    };
    std::shared_ptr<const State> m_state;
};

// A value or an error Status.
template <typename T> class [[nodiscard]] Result {
public:
    Result(T value) : m_value(std::move(value)) {}
    Result(Status status) : m_value(std::move(status)) {
        assert(!std::get<Status>(m_value).isOk());
    }

    bool isOk() const { return std::holds_alternative<T>(m_value); }
    explicit operator bool() const { return isOk(); }

    const Status& status() const {
        static const Status okStatus;
        return isOk() ? okStatus : std::get<Status>(m_value);
    }
    T& value() & { return std::get<T>(m_value); }
    const T& value() const& { return std::get<T>(m_value); }
    T&& value() && { return std::get<T>(std::move(m_value)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    std::variant<T, Status> m_value;
};

} // namespace troupe

// Return early with the Status of an expression that is not OK.
#define TROUPE_RETURN_IF_ERROR(expr)                                                               \
    do {                                                                                           \
        ::troupe::Status troupe_status_ = (expr);                                                  \
        if (!troupe_status_.isOk())                                                                \
            return troupe_status_;                                                                 \
    } while (0)
