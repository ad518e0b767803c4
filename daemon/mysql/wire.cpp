#include "mysql/wire.h"

namespace troupe::mysql {

namespace {

void putLittleEndian(std::string& out, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        out.push_back(char(std::uint8_t(v >> (8 * i))));
}

} // namespace

void putInt1(std::string& out, std::uint8_t v) {
    out.push_back(char(v));
}
void putInt2(std::string& out, std::uint16_t v) {
    putLittleEndian(out, v, 2);
}
void putInt3(std::string& out, std::uint32_t v) {
    putLittleEndian(out, v, 3);
}
void putInt4(std::string& out, std::uint32_t v) {
    putLittleEndian(out, v, 4);
}
void putInt8(std::string& out, std::uint64_t v) {
    putLittleEndian(out, v, 8);
}

void putLenencInt(std::string& out, std::uint64_t v) {
    if (v < 0xFB) {
        putInt1(out, std::uint8_t(v));
    } else if (v <= 0xFFFF) {
        putInt1(out, 0xFC);
        putInt2(out, std::uint16_t(v));
    } else if (v <= 0xFFFFFF) {
        putInt1(out, 0xFD);
        putInt3(out, std::uint32_t(v));
    } else {
        putInt1(out, 0xFE);
        putInt8(out, v);
    }
}

std::size_t lenencIntSize(std::uint64_t v) {
    if (v < 0xFB)
        return 1;
    if (v <= 0xFFFF)
        return 3;
    if (v <= 0xFFFFFF)
        return 4;
    return 9;
}

void putLenencString(std::string& out, std::string_view s) {
    putLenencInt(out, s.size());
    out.append(s);
}

void putNulString(std::string& out, std::string_view s) {
    out.append(s);
    out.push_back('\0');
}

bool WireReader::take(std::size_t n) {
    if (!m_ok || m_data.size() - m_pos < n) {
        m_ok = false;
        return false;
    }
    m_pos += n;
    return true;
}

std::uint64_t WireReader::littleEndian(std::size_t n) {
    if (!take(n))
        return 0;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
        v |= std::uint64_t(std::uint8_t(m_data[m_pos - n + i])) << (8 * i);
    return v;
}

std::uint8_t WireReader::int1() {
    return std::uint8_t(littleEndian(1));
}
std::uint16_t WireReader::int2() {
    return std::uint16_t(littleEndian(2));
}
std::uint32_t WireReader::int3() {
    return std::uint32_t(littleEndian(3));
}
std::uint32_t WireReader::int4() {
    return std::uint32_t(littleEndian(4));
}
std::uint64_t WireReader::int8() {
    return littleEndian(8);
}

std::uint64_t WireReader::lenencInt() {
    std::uint8_t first = int1();
    switch (first) {
    case 0xFB: // NULL marker
    case 0xFF: // ERR header
        m_ok = false;
        return 0;
    case 0xFC:
        return int2();
    case 0xFD:
        return int3();
    case 0xFE:
        return int8();
    default:
        return first;
    }
}

std::string_view WireReader::bytes(std::size_t n) {
    return take(n) ? m_data.substr(m_pos - n, n) : std::string_view();
}

std::string_view WireReader::lenencString() {
    std::uint64_t n = lenencInt();
    if (!m_ok || n > remaining()) {
        m_ok = false;
        return {};
    }
    return bytes(std::size_t(n));
}

std::string_view WireReader::nulString() {
    if (!m_ok)
        return {};
    std::size_t end = m_data.find('\0', m_pos);
    if (end == std::string_view::npos) {
        m_ok = false;
        return {};
    }
    std::string_view s = m_data.substr(m_pos, end - m_pos);
    m_pos = end + 1;
    return s;
}

std::string_view WireReader::rest() {
    if (!m_ok)
        return {};
    std::string_view r = m_data.substr(m_pos);
    m_pos = m_data.size();
    return r;
}

Status WireReader::status(std::string_view what) const {
    if (m_ok)
        return Status::ok();
    return Status(ErrorCode::InvalidArgument, "malformed " + std::string(what) + " packet");
}

} // namespace troupe::mysql
