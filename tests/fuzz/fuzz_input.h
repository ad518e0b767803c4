#pragma once

// Helpers shared by the fuzz targets: FuzzInput hands out the fuzzer's bytes as small decisions
// and payloads (like LLVM's FuzzedDataProvider, which is clang-only: the replay driver is built
// with g++ too), and TROUPE_FUZZ_CHECK stops the process when an invariant breaks, so that
// libFuzzer records the input as a crash and the corpus replay fails.
//
// One FuzzInput per call of LLVMFuzzerTestOneInput, on the fuzzer's thread.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define TROUPE_FUZZ_CHECK(cond)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                          \
        }                                                                                          \
    } while (false)

namespace troupe::fuzz {

class FuzzInput {
public:
    FuzzInput(const std::uint8_t* data, std::size_t size)
        : m_data(reinterpret_cast<const char*>(data), size) {}

    // The next byte, 0 once the input is used up.
    std::uint8_t byte() {
        if (m_data.empty())
            return 0;
        const auto b = std::uint8_t(m_data.front());
        m_data.remove_prefix(1);
        return b;
    }
    // Up to n bytes (fewer at the end of the input).
    std::string_view bytes(std::size_t n) {
        std::string_view s = m_data.substr(0, n);
        m_data.remove_prefix(s.size());
        return s;
    }
    // Everything not consumed yet.
    std::string_view rest() {
        std::string_view s = m_data;
        m_data = {};
        return s;
    }
    bool empty() const { return m_data.empty(); }

private:
    std::string_view m_data;
};

// A tiny deterministic generator (xorshift32) for decisions that need not cost input bytes,
// such as where a byte stream is cut into socket reads.
class Xorshift32 {
public:
    explicit Xorshift32(std::uint32_t seed) : m_state(seed | 1u) {}
    std::uint32_t next() {
        m_state ^= m_state << 13;
        m_state ^= m_state >> 17;
        m_state ^= m_state << 5;
        return m_state;
    }

private:
    std::uint32_t m_state;
};

} // namespace troupe::fuzz
