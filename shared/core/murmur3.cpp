#include "core/murmur3.h"

namespace troupe {
namespace {

constexpr std::uint32_t kC1 = 0xcc9e2d51u;
constexpr std::uint32_t kC2 = 0x1b873593u;

std::uint32_t rotl(std::uint32_t x, int r) {
    return (x << r) | (x >> (32 - r));
}

std::uint32_t scramble(std::uint32_t k) {
    k *= kC1;
    k = rotl(k, 15);
    return k * kC2;
}

} // namespace

std::uint32_t murmur3_32(std::string_view key, std::uint32_t seed) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(key.data());
    const std::size_t len = key.size();
    const std::size_t blocks = len / 4;
    std::uint32_t h = seed;

    for (std::size_t i = 0; i < blocks; ++i) {
        const unsigned char* p = bytes + i * 4;
        std::uint32_t k = std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 |
                          std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
        h ^= scramble(k);
        h = rotl(h, 13);
        h = h * 5 + 0xe6546b64u;
    }

    const unsigned char* tail = bytes + blocks * 4;
    std::uint32_t k = 0;
    switch (len & 3) {
    case 3:
        k ^= std::uint32_t(tail[2]) << 16;
        [[fallthrough]];
    case 2:
        k ^= std::uint32_t(tail[1]) << 8;
        [[fallthrough]];
    case 1:
        k ^= tail[0];
        h ^= scramble(k);
    }

    h ^= std::uint32_t(len);
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

} // namespace troupe
