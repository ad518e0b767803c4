#pragma once

// The stored form of one 4 KiB SQLite page (the value of the `pages` LMDB database):
//
//   byte 0      format: 0 = raw (4096 bytes follow), 1 = LZ4 block (compressed bytes follow),
//                       2 = all zero (nothing follows)
//   bytes 1..   payload
//
// Pages that LZ4 cannot shrink by at least kMinSaving bytes are stored raw. Documented in
// resources/docs/formats.md. Thread-safe (the LZ4 compression state is per thread).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace troupe::storage {

inline constexpr std::size_t kPageSize = 4096;
// A page is stored compressed only when LZ4 saves at least this many bytes.
inline constexpr std::size_t kMinSaving = 64;

enum class PageFormat : std::uint8_t { Raw = 0, Lz4 = 1, Zero = 2 };

// Appends the stored form of `page` (kPageSize bytes) to `out`.
void encodePage(const std::uint8_t* page, std::string& out);

// Decodes a stored page into `page` (kPageSize bytes). Corrupt or truncated input is a
// Corruption error, never a crash or an over-read.
Status decodePage(std::string_view stored, std::uint8_t* page);

} // namespace troupe::storage
