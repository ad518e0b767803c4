#pragma once

// AcceptBackoff: the pacing of a listener after failed accepts (net::Acceptor). A failed accept
// (out of descriptors, out of kernel memory, a connection reset while queued) is retried after a
// delay that doubles with each consecutive failure, from `first` up to `longest`, and starts over
// at the first success: a listener never stops accepting, and never spins while it cannot.
// Failures are logged at most once per `logEvery`, each line counting the failures it stands
// for, so a flood of them cannot flood the log.
//
// Pure: time is passed in, so tests drive it without waiting. Owned by one Acceptor and used on
// its executor only.

#include <chrono>
#include <cstdint>

namespace troupe::net {

class AcceptBackoff {
public:
    using Clock = std::chrono::steady_clock;

    AcceptBackoff(std::chrono::milliseconds first, std::chrono::milliseconds longest,
                  std::chrono::milliseconds logEvery)
        : m_first(first), m_longest(longest), m_logEvery(logEvery) {}

    // A failed accept: the delay before the next one.
    std::chrono::milliseconds failed() {
        const std::chrono::milliseconds delay = m_next.count() > 0 ? m_next : m_first;
        m_next = std::min(delay * 2, m_longest);
        return std::min(delay, m_longest);
    }
    // A successful accept: the next failure waits `first` again.
    void succeeded() { m_next = std::chrono::milliseconds(0); }

    // Whether a failure at `now` gets a log line; if so, `failures` is how many failures the
    // line stands for (this one and those not logged since the last line).
    bool shouldLog(Clock::time_point now, std::uint64_t& failures) {
        ++m_unlogged;
        if (m_logged && now - m_lastLog < m_logEvery)
            return false;
        m_logged = true;
        m_lastLog = now;
        failures = m_unlogged;
        m_unlogged = 0;
        return true;
    }

private:
    std::chrono::milliseconds m_first;
    std::chrono::milliseconds m_longest;
    std::chrono::milliseconds m_logEvery;
    std::chrono::milliseconds m_next{0}; // 0: no failure since the last success
    bool m_logged = false;
    Clock::time_point m_lastLog;
    std::uint64_t m_unlogged = 0;
};

} // namespace troupe::net
