#pragma once

// Fixed-width big-endian encoding for LMDB keys (so that keys sort numerically) and values.
// Every persistent format documents its layout in resources/docs/formats.md.

#include <cstdint>
#include <string>
#include <string_view>

namespace troupe {

inline void putBigEndian32(std::string& out, std::uint32_t v) {
    char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
    out.append(b, 4);
}

inline void putBigEndian64(std::string& out, std::uint64_t v) {
    putBigEndian32(out, std::uint32_t(v >> 32));
    putBigEndian32(out, std::uint32_t(v));
}

inline std::uint32_t getBigEndian32(const void* p) {
    const auto* b = static_cast<const unsigned char*>(p);
    return std::uint32_t(b[0]) << 24 | std::uint32_t(b[1]) << 16 | std::uint32_t(b[2]) << 8 |
           std::uint32_t(b[3]);
}

inline std::uint64_t getBigEndian64(const void* p) {
    const auto* b = static_cast<const unsigned char*>(p);
    return std::uint64_t(getBigEndian32(b)) << 32 | getBigEndian32(b + 4);
}

// Reads big-endian fields from a byte string, remembering whether it ran out of bytes.
class ByteReader {
public:
    explicit ByteReader(std::string_view data) : m_data(data) {}

    std::uint8_t u8() { return take(1) ? std::uint8_t(m_data[m_pos - 1]) : 0; }
    std::uint32_t u32() { return take(4) ? getBigEndian32(m_data.data() + m_pos - 4) : 0; }
    std::uint64_t u64() { return take(8) ? getBigEndian64(m_data.data() + m_pos - 8) : 0; }
    std::string_view bytes(std::size_t n) {
        return take(n) ? m_data.substr(m_pos - n, n) : std::string_view();
    }
    std::string_view rest() {
        std::string_view r = m_data.substr(m_pos);
        m_pos = m_data.size();
        return r;
    }

    bool ok() const { return m_ok; }
    bool atEnd() const { return m_pos == m_data.size(); }

private:
    bool take(std::size_t n) {
        if (!m_ok || m_data.size() - m_pos < n) {
            m_ok = false;
            return false;
        }
        m_pos += n;
        return true;
    }

    std::string_view m_data;
    std::size_t m_pos = 0;
    bool m_ok = true;
};

} // namespace troupe
