#include "mysql/packet.h"

#include <algorithm>

#include "mysql/wire.h"

namespace troupe::mysql {

std::uint8_t appendPackets(std::string& out, std::string_view payload, std::uint8_t seq) {
    out.reserve(out.size() + payload.size() +
                kPacketHeaderSize * (payload.size() / kMaxPacketBody + 1));
    for (;;) {
        std::size_t n = std::min(payload.size(), kMaxPacketBody);
        putInt3(out, std::uint32_t(n));
        putInt1(out, seq++);
        out.append(payload.substr(0, n));
        payload.remove_prefix(n);
        if (n < kMaxPacketBody)
            return seq;
    }
}

void PacketReader::feed(std::string_view bytes) {
    if (!m_error.isOk())
        return;
    // Drop consumed bytes once they dominate the buffer, so it does not grow without bound.
    if (m_pos > 0 && m_pos >= m_buffer.size() / 2) {
        m_buffer.erase(0, m_pos);
        m_pos = 0;
    }
    m_buffer.append(bytes);
}

std::string PacketReader::takeUnparsed() {
    std::string rest = m_buffer.substr(m_pos);
    m_buffer.clear();
    m_pos = 0;
    return rest;
}

Result<std::optional<Payload>> PacketReader::next() {
    if (!m_error.isOk())
        return m_error;
    while (m_buffer.size() - m_pos >= kPacketHeaderSize) {
        WireReader header(std::string_view(m_buffer).substr(m_pos, kPacketHeaderSize));
        std::size_t length = header.int3();
        std::uint8_t seq = header.int1();
        m_errorReplySeq = std::uint8_t(seq + 1); // used only if this packet is refused
        if (seq != m_expected) {
            m_error = Status(ErrorCode::InvalidArgument, "packets out of order: sequence id " +
                                                             std::to_string(seq) + ", expected " +
                                                             std::to_string(m_expected));
            return m_error;
        }
        if (m_partial.size() + length > m_maxPayload) {
            m_error = Status(ErrorCode::TooLarge, "packet larger than the maximum of " +
                                                      std::to_string(m_maxPayload) + " bytes");
            return m_error;
        }
        if (m_buffer.size() - m_pos - kPacketHeaderSize < length)
            return std::optional<Payload>(); // wait for the body
        m_partial.append(m_buffer, m_pos + kPacketHeaderSize, length);
        m_pos += kPacketHeaderSize + length;
        ++m_expected;
        if (length < kMaxPacketBody) {
            Payload p{std::move(m_partial), seq};
            m_partial.clear();
            return std::optional<Payload>(std::move(p));
        }
    }
    return std::optional<Payload>();
}

} // namespace troupe::mysql
