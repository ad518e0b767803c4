#pragma once

// Process-wide metrics: named counters and gauges that any module bumps without locking, and a
// renderer for the Prometheus text exposition format (served by daemon/http on /metrics).
//
// Registration takes a mutex; the returned references stay valid for the registry's lifetime
// and are updated with relaxed atomics from any thread.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

namespace troupe {

class Counter {
public:
    void add(std::uint64_t n = 1) { m_value.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return m_value.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> m_value{0};
};

class Gauge {
public:
    void set(std::int64_t v) { m_value.store(v, std::memory_order_relaxed); }
    void add(std::int64_t n) { m_value.fetch_add(n, std::memory_order_relaxed); }
    std::int64_t value() const { return m_value.load(std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> m_value{0};
};

class MetricsRegistry {
public:
    // Names follow Prometheus conventions ("troupe_writes_total"); registering a name twice
    // returns the existing metric.
    Counter& counter(const std::string& name, const std::string& help);
    Gauge& gauge(const std::string& name, const std::string& help);
    // A gauge computed when scraped; `read` runs on the scraping thread and must be thread-safe.
    void callbackGauge(const std::string& name, const std::string& help,
                       std::function<double()> read);

    std::string renderPrometheus() const;

    // The registry the daemon uses; tests may create their own.
    static MetricsRegistry& global();

private:
    struct Entry {
        std::string name;
        std::string help;
        enum class Kind { Counter, Gauge, Callback } kind;
        Counter counter;
        Gauge gauge;
        std::function<double()> read;
    };
    Entry* find(const std::string& name);

    mutable std::mutex m_mutex; // guards m_entries (the deque; metric values are atomics)
    std::deque<Entry> m_entries;
};

} // namespace troupe
