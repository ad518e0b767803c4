#pragma once

// LoginGuard: the per-source back-off after repeated failed logins (MySQL and Thrift), in the
// spirit of MySQL's max_connect_errors (resources/docs/security.md, "credentials").
//
// A source is the client's IP address. `maxFailures` failed logins from one source within
// `window` block it for `blockFor`; each further block of the same source (before a successful
// login) doubles that time, up to `maxBlock`. While blocked, admit() refuses at once with
// TooManyAttempts saying how long is left, before any password is checked. A successful login
// forgets the source; unblock()/unblockAll() (MySQL `FLUSH HOSTS`, Thrift exec_config
// `FLUSH HOSTS`) forget blocked sources early. maxFailures 0 turns the guard off.
//
// Memory and time are bounded: at most kMaxSources sources are tracked; past that, sources whose
// window and block have both expired are dropped, then the least recently failed tenth of the
// unblocked ones (one O(n log n) pass per n/10 new sources). Every call is O(log n) otherwise.
//
// Counted in /metrics: troupe_login_failures_total, troupe_login_refused_total (refused while
// blocked) and troupe_login_blocked_sources (a gauge).
//
// Owned by the composition root (app/server.cpp), shared with the front ends through
// sql::DatabaseOptions::security. Threads: any; one mutex guards the table. The clock is
// injectable so tests are deterministic.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "core/metrics.h"
#include "core/status.h"

namespace troupe::sql {

struct LoginGuardOptions {
    unsigned maxFailures = 10; // 0: never block
    std::chrono::seconds window{600};
    std::chrono::seconds blockFor{60};
    std::chrono::seconds maxBlock{3600};
};

class LoginGuard {
public:
    using Clock = std::chrono::steady_clock;
    using Now = std::function<Clock::time_point()>;
    static constexpr std::size_t kMaxSources = 10000;

    // `metrics` nullptr: MetricsRegistry::global(); `now` empty: Clock::now.
    explicit LoginGuard(LoginGuardOptions options, MetricsRegistry* metrics = nullptr,
                        Now now = {});

    // Before checking a login from `source`: OK, or TooManyAttempts naming the source and the
    // seconds left while it is blocked.
    Status admit(std::string_view source);
    // After a wrong user name or password from `source`.
    void failed(std::string_view source);
    // After a successful login from `source`: its failures are forgotten.
    void succeeded(std::string_view source);
    // Forgets the failures and block of one source (true if it was known) or of all (their
    // count).
    bool unblock(std::string_view source);
    std::size_t unblockAll();

    std::size_t blockedSources() const;
    const LoginGuardOptions& options() const { return m_options; }

private:
    struct Entry {
        unsigned failures = 0;          // within the current window
        Clock::time_point windowStart;  // of the first failure counted
        Clock::time_point blockedUntil; // in the past when not blocked
        unsigned blocks = 0;            // blocks so far (the back-off doubles each time)
        Clock::time_point lastFailure;
    };
    bool blocked(const Entry& e, Clock::time_point now) const { return e.blockedUntil > now; }
    void prune(Clock::time_point now);               // requires m_mutex
    void forget(Entry& e, Clock::time_point now);    // its block end leaves m_blockEnds; m_mutex
    std::size_t countBlocked(Clock::time_point now); // and sets the gauge; requires m_mutex

    const LoginGuardOptions m_options;
    const Now m_now;
    Counter& m_failures;
    Counter& m_refused;
    Gauge& m_blockedGauge;
    mutable std::mutex m_mutex;                          // guards m_sources
    std::map<std::string, Entry, std::less<>> m_sources; // by source address
    std::multiset<Clock::time_point> m_blockEnds;        // of the blocks still running
};

} // namespace troupe::sql
