// Page codec: the stored form of a 4 KiB SQLite page (format byte + raw / LZ4 / nothing).
// Pure functions; layout in page_codec.h and resources/docs/formats.md.

#include "storage/page_codec.h"

#include <algorithm>
#include <cstring>
#include <string>

#include <lz4.h>

namespace troupe::storage {

void encodePage(const std::uint8_t* page, std::string& out) {
    const auto* begin = page;
    const auto* end = page + kPageSize;
    if (std::all_of(begin, end, [](std::uint8_t b) { return b == 0; })) {
        out.push_back(char(PageFormat::Zero));
        return;
    }
    const std::size_t start = out.size();
    const int bound = LZ4_compressBound(int(kPageSize));
    out.resize(start + 1 + std::size_t(bound));
    const int n = LZ4_compress_default(reinterpret_cast<const char*>(page), out.data() + start + 1,
                                       int(kPageSize), bound);
    if (n > 0 && std::size_t(n) + kMinSaving <= kPageSize) {
        out[start] = char(PageFormat::Lz4);
        out.resize(start + 1 + std::size_t(n));
        return;
    }
    out.resize(start);
    out.push_back(char(PageFormat::Raw));
    out.append(reinterpret_cast<const char*>(page), kPageSize);
}

Status decodePage(std::string_view stored, std::uint8_t* page) {
    if (stored.empty())
        return Status(ErrorCode::Corruption, "stored page is empty");
    const auto format = std::uint8_t(stored[0]);
    const std::string_view payload = stored.substr(1);
    switch (format) {
    case std::uint8_t(PageFormat::Raw):
        if (payload.size() != kPageSize)
            return Status(ErrorCode::Corruption, "raw page has " + std::to_string(payload.size()) +
                                                     " bytes, expected " +
                                                     std::to_string(kPageSize));
        std::memcpy(page, payload.data(), kPageSize);
        return Status::ok();
    case std::uint8_t(PageFormat::Zero):
        if (!payload.empty())
            return Status(ErrorCode::Corruption, "zero page carries a payload");
        std::memset(page, 0, kPageSize);
        return Status::ok();
    case std::uint8_t(PageFormat::Lz4): {
        if (payload.empty() || payload.size() >= kPageSize)
            return Status(ErrorCode::Corruption,
                          "LZ4 page has an impossible length " + std::to_string(payload.size()));
        const int n = LZ4_decompress_safe(payload.data(), reinterpret_cast<char*>(page),
                                          int(payload.size()), int(kPageSize));
        if (n < 0)
            return Status(ErrorCode::Corruption, "LZ4 page does not decompress");
        if (std::size_t(n) != kPageSize)
            return Status(ErrorCode::Corruption, "LZ4 page decompresses to " + std::to_string(n) +
                                                     " bytes, expected " +
                                                     std::to_string(kPageSize));
        return Status::ok();
    }
    default:
        return Status(ErrorCode::Corruption,
                      "unknown stored page format " + std::to_string(unsigned(format)));
    }
}

} // namespace troupe::storage
