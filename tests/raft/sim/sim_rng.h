#pragma once

// SimRng: the simulator's only source of randomness. splitmix64 rather than <random>'s
// distributions, whose output differs between standard libraries: a seed must replay the same
// run on every platform and compiler. Owned by whoever draws from it; not thread-safe.

#include <cstdint>

namespace troupe::raft::sim {

class SimRng {
public:
    explicit SimRng(std::uint64_t seed) : m_state(seed) {}

    std::uint64_t next() {
        std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    // Uniform in [0, n); n > 0. The modulo bias is irrelevant at simulator scales.
    std::uint64_t below(std::uint64_t n) { return next() % n; }
    // Uniform in [lo, hi].
    std::uint64_t range(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
    // Uniform in [0, 1).
    double unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
    bool chance(double p) { return unit() < p; }

private:
    std::uint64_t m_state;
};

} // namespace troupe::raft::sim
