#pragma once

// CancelToken: asks one running request to stop (issue 13; resources/docs/security.md, "time
// limits"). A front end makes one per request (ProcessList::Registration::begin) and hands it to
// the executor in ExecFlags::cancel. KILL QUERY, KILL CONNECTION, a client that went away and
// shutdown cancel it from any thread; the actor connection's progress handler reads it on the
// executor worker every few thousand SQLite VM steps (ActorConnection::armInterrupt), and the
// worker checks it before it starts a request that waited in its queue. The first reason wins.
//
// Shared (shared_ptr) by the session that made it and the requests that carry it.

#include <atomic>
#include <string>

#include "core/status.h"

namespace troupe::sql {

class CancelToken {
public:
    enum class Reason : int { None = 0, Killed, ConnectionKilled, Disconnected, ShuttingDown };

    void cancel(Reason reason) noexcept {
        int none = 0;
        m_reason.compare_exchange_strong(none, int(reason), std::memory_order_relaxed);
    }
    bool cancelled() const noexcept { return m_reason.load(std::memory_order_relaxed) != 0; }
    Reason reason() const noexcept { return Reason(m_reason.load(std::memory_order_relaxed)); }

    // The error of a request this token stopped (MySQL 1317, or 1053 at shutdown).
    Status status() const {
        switch (reason()) {
        case Reason::None:
            break;
        case Reason::Killed:
            return Status(ErrorCode::Interrupted, "Query execution was interrupted (KILL QUERY)");
        case Reason::ConnectionKilled:
            return Status(ErrorCode::Interrupted, "Query execution was interrupted (KILL)");
        case Reason::Disconnected:
            return Status(ErrorCode::Interrupted,
                          "Query execution was interrupted: the client disconnected");
        case Reason::ShuttingDown:
            return Status(ErrorCode::ShuttingDown,
                          "the server is shutting down: the query was interrupted");
        }
        return Status::ok();
    }

private:
    std::atomic<int> m_reason{0};
};

} // namespace troupe::sql
