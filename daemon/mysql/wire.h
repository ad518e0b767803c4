#pragma once

// MySQL wire-protocol primitives: little-endian fixed-width integers, length-encoded integers
// and strings, NUL-terminated strings. Writers append to a std::string; WireReader reads a
// payload with bounds checks and remembers the first failure (like core/bytes.h's ByteReader),
// so a parser reads a whole message and checks ok() once.
//
// Length-encoded integer (protocol docs "int<lenenc>"):
//   < 0xFB          one byte, the value
//   0xFC + int<2>   values up to 0xFFFF
//   0xFD + int<3>   values up to 0xFFFFFF
//   0xFE + int<8>   anything larger
//   0xFB is NULL in text result rows and 0xFF starts an ERR packet: neither is an integer.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace troupe::mysql {

void putInt1(std::string& out, std::uint8_t v);
void putInt2(std::string& out, std::uint16_t v);
void putInt3(std::string& out, std::uint32_t v);
void putInt4(std::string& out, std::uint32_t v);
void putInt8(std::string& out, std::uint64_t v);
void putLenencInt(std::string& out, std::uint64_t v);
void putLenencString(std::string& out, std::string_view s);
// Appends s and a NUL byte. s must not contain NUL (the reader would stop there).
void putNulString(std::string& out, std::string_view s);

// Bytes putLenencInt() writes for v (1, 3, 4 or 9).
std::size_t lenencIntSize(std::uint64_t v);

// Reads a payload front to back. Once a read fails (too few bytes, a missing NUL, 0xFB/0xFF
// where a length-encoded integer was expected) every later read returns 0 / empty and ok()
// stays false. Views point into the payload: it must outlive them.
class WireReader {
public:
    explicit WireReader(std::string_view data) : m_data(data) {}

    std::uint8_t int1();
    std::uint16_t int2();
    std::uint32_t int3();
    std::uint32_t int4();
    std::uint64_t int8();
    std::uint64_t lenencInt();
    std::string_view bytes(std::size_t n);
    std::string_view lenencString();
    // Up to (not including) the next NUL, which is consumed.
    std::string_view nulString();
    std::string_view rest();
    // The next byte without consuming it; 0 (and no failure) at the end.
    std::uint8_t peek() const { return m_pos < m_data.size() ? std::uint8_t(m_data[m_pos]) : 0; }

    bool ok() const { return m_ok; }
    bool atEnd() const { return m_pos == m_data.size(); }
    std::size_t remaining() const { return m_data.size() - m_pos; }
    std::size_t position() const { return m_pos; }
    // Marks the reader failed (a parser found a bad value).
    void fail() { m_ok = false; }

    // OK, or InvalidArgument "malformed <what> packet" once a read failed.
    Status status(std::string_view what) const;

private:
    bool take(std::size_t n);
    std::uint64_t littleEndian(std::size_t n);

    std::string_view m_data;
    std::size_t m_pos = 0;
    bool m_ok = true;
};

} // namespace troupe::mysql
