#include "sql/login_guard.h"

#include <algorithm>
#include <iterator>
#include <vector>

namespace troupe::sql {

LoginGuard::LoginGuard(LoginGuardOptions options, MetricsRegistry* metrics, Now now)
    : m_options(options), m_now(now ? std::move(now) : Now(&Clock::now)),
      m_failures((metrics ? *metrics : MetricsRegistry::global())
                     .counter("troupe_login_failures_total",
                              "Failed MySQL and Thrift logins (wrong user name or password)")),
      m_refused((metrics ? *metrics : MetricsRegistry::global())
                    .counter("troupe_login_refused_total",
                             "Logins refused because their source was blocked after failures")),
      m_blockedGauge((metrics ? *metrics : MetricsRegistry::global())
                         .gauge("troupe_login_blocked_sources",
                                "Client addresses blocked after repeated failed logins")) {}

Status LoginGuard::admit(std::string_view source) {
    if (m_options.maxFailures == 0)
        return Status::ok();
    const Clock::time_point now = m_now();
    std::lock_guard lock(m_mutex);
    countBlocked(now);
    auto found = m_sources.find(source);
    if (found == m_sources.end() || !blocked(found->second, now))
        return Status::ok();
    m_refused.add();
    const auto left =
        std::chrono::ceil<std::chrono::seconds>(found->second.blockedUntil - now).count();
    return Status(ErrorCode::TooManyAttempts,
                  "host '" + std::string(source) + "' is blocked for " + std::to_string(left) +
                      " s after too many failed logins; an administrator can unblock it with "
                      "FLUSH HOSTS");
}

void LoginGuard::failed(std::string_view source) {
    m_failures.add();
    if (m_options.maxFailures == 0)
        return;
    const Clock::time_point now = m_now();
    std::lock_guard lock(m_mutex);
    auto found = m_sources.find(source);
    if (found == m_sources.end()) {
        if (m_sources.size() >= kMaxSources)
            prune(now);
        found = m_sources.emplace(std::string(source), Entry{}).first;
    }
    Entry& e = found->second;
    e.lastFailure = now;
    if (blocked(e, now))
        return; // a login that raced with the block; the block already runs
    if (e.failures == 0 || now - e.windowStart >= m_options.window) {
        e.failures = 0;
        e.windowStart = now;
    }
    if (++e.failures >= m_options.maxFailures) {
        // blockFor, doubled for each earlier block, at most maxBlock.
        auto length = m_options.blockFor;
        for (unsigned i = 0; i < e.blocks && length < m_options.maxBlock; ++i)
            length *= 2;
        e.blockedUntil = now + std::min(length, m_options.maxBlock);
        m_blockEnds.insert(e.blockedUntil);
        ++e.blocks;
        e.failures = 0;
    }
    countBlocked(now);
}

void LoginGuard::succeeded(std::string_view source) {
    const Clock::time_point now = m_now();
    std::lock_guard lock(m_mutex);
    if (auto found = m_sources.find(source); found != m_sources.end()) {
        forget(found->second, now);
        m_sources.erase(found);
    }
    countBlocked(now);
}

bool LoginGuard::unblock(std::string_view source) {
    const Clock::time_point now = m_now();
    std::lock_guard lock(m_mutex);
    auto found = m_sources.find(source);
    if (found == m_sources.end())
        return false;
    forget(found->second, now);
    m_sources.erase(found);
    countBlocked(now);
    return true;
}

std::size_t LoginGuard::unblockAll() {
    const Clock::time_point now = m_now();
    std::lock_guard lock(m_mutex);
    const std::size_t count = m_sources.size();
    m_sources.clear();
    m_blockEnds.clear();
    countBlocked(now);
    return count;
}

std::size_t LoginGuard::blockedSources() const {
    const Clock::time_point now = m_now();
    std::lock_guard lock(m_mutex);
    return std::size_t(std::distance(m_blockEnds.upper_bound(now), m_blockEnds.end()));
}

void LoginGuard::forget(Entry& e, Clock::time_point now) {
    if (!blocked(e, now))
        return;
    if (auto it = m_blockEnds.find(e.blockedUntil); it != m_blockEnds.end())
        m_blockEnds.erase(it);
}

std::size_t LoginGuard::countBlocked(Clock::time_point now) {
    m_blockEnds.erase(m_blockEnds.begin(), m_blockEnds.upper_bound(now));
    m_blockedGauge.set(std::int64_t(m_blockEnds.size()));
    return m_blockEnds.size();
}

void LoginGuard::prune(Clock::time_point now) {
    std::erase_if(m_sources, [&](const auto& s) {
        return !blocked(s.second, now) && now - s.second.windowStart >= m_options.window;
    });
    if (m_sources.size() < kMaxSources)
        return;
    // Drop the least recently failed tenth of the unblocked sources.
    std::vector<std::pair<Clock::time_point, std::string>> unblocked;
    for (const auto& [name, e] : m_sources)
        if (!blocked(e, now))
            unblocked.emplace_back(e.lastFailure, name);
    const std::size_t drop = std::min(unblocked.size(), kMaxSources / 10);
    std::nth_element(unblocked.begin(), unblocked.begin() + std::ptrdiff_t(drop), unblocked.end());
    for (std::size_t i = 0; i < drop; ++i)
        m_sources.erase(unblocked[i].second);
    // If every tracked source is blocked, they stay: the map grows past the bound until blocks
    // end (each needed maxFailures failed logins).
}

} // namespace troupe::sql
