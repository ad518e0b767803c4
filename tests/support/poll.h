#pragma once

// pollUntil: waits for a condition with a deadline (STYLE: no sleeps to wait for things), for
// tests that watch another thread or process. Returns whether the condition became true.

#include <chrono>
#include <thread>

namespace troupe::test {

template <typename F>
bool pollUntil(F condition, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

} // namespace troupe::test
