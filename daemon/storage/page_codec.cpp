// Page codec: the stored form of a 4 KiB SQLite page (format byte + raw / LZ4 / nothing).
// Pure functions but for a per-thread LZ4 state; layout in page_codec.h and
// resources/docs/formats.md.

#include "storage/page_codec.h"

#include <cstring>
#include <memory>
#include <string>

#include <lz4.h>

namespace troupe::storage {

namespace {

// One LZ4 compression state per thread, initialised once. LZ4_compress_default clears its
// 16 KiB state for every call (17% of the insert path's instructions, issue 5); resetting it
// with LZ4_resetStream_fast instead moves the start offset past the old hash entries, so they
// can never match, and only clears the table every ~15,000 pages (at 1 GiB of offset).
// LZ4_compress_fast_extState_fastReset would not help: for inputs of 4 KiB or more it clears
// the table anyway, and the shared liblz4 does not export it. The output is an ordinary LZ4
// block (any decoder reads it), though not byte for byte what LZ4_compress_default makes.
struct StreamDeleter {
    void operator()(LZ4_stream_t* stream) const { LZ4_freeStream(stream); }
};

LZ4_stream_t* threadStream() {
    thread_local std::unique_ptr<LZ4_stream_t, StreamDeleter> stream(LZ4_createStream());
    return stream.get();
}

bool allZero(const std::uint8_t* page) {
    // Word at a time: most pages have a non-zero byte in their first words.
    for (std::size_t i = 0; i < kPageSize; i += sizeof(std::uint64_t)) {
        std::uint64_t word;
        std::memcpy(&word, page + i, sizeof word);
        if (word != 0)
            return false;
    }
    return true;
}

} // namespace

void encodePage(const std::uint8_t* page, std::string& out) {
    if (allZero(page)) {
        out.push_back(char(PageFormat::Zero));
        return;
    }
    // Room for exactly what is worth storing compressed: LZ4 gives up (returns 0) as soon as
    // the output would not save kMinSaving bytes. A stack buffer: no zero-filled string growth.
    char compressed[kPageSize - kMinSaving];
    int n = 0;
    if (LZ4_stream_t* stream = threadStream()) {
        LZ4_resetStream_fast(stream);
        n = LZ4_compress_fast_continue(stream, reinterpret_cast<const char*>(page), compressed,
                                       int(kPageSize), int(sizeof compressed), 1);
    } else { // out of memory for the state: the stateless call still works
        n = LZ4_compress_default(reinterpret_cast<const char*>(page), compressed, int(kPageSize),
                                 int(sizeof compressed));
    }
    if (n > 0) {
        out.push_back(char(PageFormat::Lz4));
        out.append(compressed, std::size_t(n));
        return;
    }
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
