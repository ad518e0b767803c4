// CRC-32C: slicing-by-8 tables built at compile time, and the SSE4.2 instruction on x86-64 when
// the CPU has it (see checksum.h).

#include "storage/checksum.h"

#include <array>
#include <cstring>

namespace troupe::storage {

namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78; // CRC-32C, reflected

using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr Tables makeTables() {
    Tables t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t crc = i;
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
        t[0][i] = crc;
    }
    for (std::size_t k = 1; k < 8; ++k)
        for (std::uint32_t i = 0; i < 256; ++i)
            t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
    return t;
}

constexpr Tables kTables = makeTables();

std::uint64_t loadLittle64(const unsigned char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = v << 8 | p[i];
    return v;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TROUPE_CRC32C_HW 1
__attribute__((target("sse4.2"))) std::uint32_t crc32cHardware(std::uint32_t crc, const void* data,
                                                               std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint64_t c = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        std::uint64_t word;
        std::memcpy(&word, p, 8); // x86-64 is little-endian
        c = __builtin_ia32_crc32di(c, word);
    }
    auto c32 = std::uint32_t(c);
    for (; n > 0; --n, ++p)
        c32 = __builtin_ia32_crc32qi(c32, *p);
    return ~c32;
}

bool haveHardware() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
}
#endif

} // namespace

std::uint32_t crc32cSoftware(std::uint32_t crc, const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint32_t c = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        const std::uint64_t v = loadLittle64(p) ^ c;
        c = kTables[7][v & 0xff] ^ kTables[6][(v >> 8) & 0xff] ^ kTables[5][(v >> 16) & 0xff] ^
            kTables[4][(v >> 24) & 0xff] ^ kTables[3][(v >> 32) & 0xff] ^
            kTables[2][(v >> 40) & 0xff] ^ kTables[1][(v >> 48) & 0xff] ^ kTables[0][v >> 56];
    }
    for (; n > 0; --n, ++p)
        c = (c >> 8) ^ kTables[0][(c ^ *p) & 0xff];
    return ~c;
}

std::uint32_t crc32cExtend(std::uint32_t crc, const void* data, std::size_t n) {
#ifdef TROUPE_CRC32C_HW
    static const bool hardware = haveHardware();
    if (hardware)
        return crc32cHardware(crc, data, n);
#endif
    return crc32cSoftware(crc, data, n);
}

} // namespace troupe::storage
