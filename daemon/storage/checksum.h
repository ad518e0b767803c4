#pragma once

// CRC-32C (Castagnoli, the polynomial of iSCSI, ext4 and LevelDB): the checksum that seals every
// record TroupeDB stores (record_seal.h, resources/docs/formats.md "Record checksums").
//
// Software slicing-by-8 everywhere, and the SSE4.2 crc32 instruction on x86-64 when the CPU has
// it (chosen once at start-up; both give the same values). Pure functions, any thread.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace troupe::storage {

// Extends `crc` (0 to start) over `n` bytes. crc32c(crc32c(0, a), b) == crc32c(0, a + b).
std::uint32_t crc32cExtend(std::uint32_t crc, const void* data, std::size_t n);

inline std::uint32_t crc32c(std::string_view bytes) {
    return crc32cExtend(0, bytes.data(), bytes.size());
}

// The portable implementation alone (tests compare it with the hardware one).
std::uint32_t crc32cSoftware(std::uint32_t crc, const void* data, std::size_t n);

} // namespace troupe::storage
