#pragma once

// Heartbeat: the progress of one thread that serves a queue (the storage writer, an executor
// worker), read by stall detection: /ready answers 503 and the troupe_stalled gauge says 1 when
// a thread has had work waiting and made no progress for stall_timeout (issue 13;
// resources/docs/operations.md). The systemd watchdog is to use the same signal.
//
// Owned by the thread's object (storage::Writer, an Executor worker). The queue's producers call
// queued(), the serving thread taken() and progressed(); stalled() and the getters from any
// thread. Atomics only, so it costs a few relaxed operations per item and never blocks.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace troupe {

class Heartbeat {
public:
    using Clock = std::chrono::steady_clock;

    // `n` items joined the queue. The wait of a queue that was empty starts now, not at the
    // last progress (an idle thread is not a stalled one).
    void queued(std::int64_t n = 1, Clock::time_point now = Clock::now()) {
        if (m_depth.fetch_add(n, std::memory_order_acq_rel) == 0)
            m_lastProgress.store(ticks(now), std::memory_order_release);
    }
    // The serving thread took `n` items off the queue to work on them.
    void taken(std::int64_t n = 1) { m_depth.fetch_sub(n, std::memory_order_acq_rel); }
    // The serving thread finished an item (or a batch).
    void progressed(Clock::time_point now = Clock::now()) {
        m_lastProgress.store(ticks(now), std::memory_order_release);
    }

    // Items waiting (queued, not yet taken).
    std::int64_t depth() const { return std::max<std::int64_t>(0, m_depth.load()); }
    Clock::time_point lastProgress() const {
        return Clock::time_point(Clock::duration(m_lastProgress.load(std::memory_order_acquire)));
    }
    // Work has waited, and the thread has not progressed, for longer than `timeout`.
    bool stalled(Clock::time_point now, Clock::duration timeout) const {
        return depth() > 0 && now - lastProgress() > timeout;
    }

private:
    static std::int64_t ticks(Clock::time_point t) { return t.time_since_epoch().count(); }

    std::atomic<std::int64_t> m_depth{0};
    std::atomic<std::int64_t> m_lastProgress{ticks(Clock::now())};
};

// What stall detection found: healthy, or which thread is stuck and how.
struct Health {
    bool stalled = false;
    std::string reason; // e.g. "storage writer: 3 waiting, no progress for 12 s"

    // Describes `beat` as the stalled `what`, if it is.
    static Health check(const Heartbeat& beat, const std::string& what,
                        Heartbeat::Clock::time_point now, Heartbeat::Clock::duration timeout) {
        if (!beat.stalled(now, timeout))
            return {};
        const auto idle =
            std::chrono::duration_cast<std::chrono::milliseconds>(now - beat.lastProgress());
        return {true, what + ": " + std::to_string(beat.depth()) + " waiting, no progress for " +
                          std::to_string(idle.count()) + " ms"};
    }
};

} // namespace troupe
