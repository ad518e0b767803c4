#include "thrift/transport.h"

#include <algorithm>
#include <cstring>

#include <thrift/transport/TTransportException.h>

namespace troupe::thrift {

using apache::thrift::transport::TTransportException;

namespace {

constexpr std::size_t kReadChunk = 16384;

} // namespace

ConnectionTransport::ConnectionTransport(ByteStream& stream, std::size_t maxMessage)
    : TVirtualTransport(std::make_shared<apache::thrift::TConfiguration>(
          static_cast<int>(std::min<std::size_t>(maxMessage, 0x7fffffff)))),
      m_stream(stream), m_maxMessage(maxMessage) {}

bool ConnectionTransport::fill() {
    if (m_inPos == m_in.size()) {
        m_in.clear();
        m_inPos = 0;
    }
    std::uint8_t buffer[kReadChunk];
    const std::size_t n = m_stream.readSome(buffer, sizeof buffer);
    if (n == 0)
        return false;
    m_in.append(reinterpret_cast<const char*>(buffer), n);
    return true;
}

bool ConnectionTransport::peek() {
    return m_inPos < m_in.size() || fill();
}

std::uint32_t ConnectionTransport::readFrameLength() {
    while (m_in.size() - m_inPos < 4)
        if (!fill())
            throw TTransportException(TTransportException::END_OF_FILE,
                                      "the connection closed inside a frame length");
    const auto* p = reinterpret_cast<const std::uint8_t*>(m_in.data() + m_inPos);
    const std::uint32_t length = std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 |
                                 std::uint32_t(p[2]) << 8 | std::uint32_t(p[3]);
    m_inPos += 4;
    return length;
}

bool ConnectionTransport::beginMessage() {
    if (m_inPos == m_in.size() && !fill())
        return false; // closed between messages
    if (m_mode == Mode::Unknown)
        m_mode = std::uint8_t(m_in[m_inPos]) == 0x80 ? Mode::Unframed : Mode::Framed;
    if (m_mode == Mode::Unframed) {
        resetConsumedMessageSize(static_cast<long>(m_maxMessage));
        return true;
    }
    const std::uint32_t length = readFrameLength();
    if (length == 0 || length > m_maxMessage)
        throw TTransportException(TTransportException::CORRUPTED_DATA,
                                  "frame of " + std::to_string(length) + " bytes (the limit is " +
                                      std::to_string(m_maxMessage) +
                                      "; not a Thrift binary-protocol client?)");
    m_frameLeft = length;
    resetConsumedMessageSize(); // back to the limit first: frames may grow from one to the next
    resetConsumedMessageSize(static_cast<long>(length));
    return true;
}

void ConnectionTransport::endMessage() {
    while (m_frameLeft > 0) {
        if (m_inPos == m_in.size() && !fill())
            return;
        const std::size_t skip = std::min<std::uint64_t>(m_frameLeft, m_in.size() - m_inPos);
        m_inPos += skip;
        m_frameLeft -= skip;
    }
}

std::uint32_t ConnectionTransport::read(std::uint8_t* buffer, std::uint32_t size) {
    if (size == 0)
        return 0;
    std::uint64_t want = size;
    if (m_mode == Mode::Framed) {
        if (m_frameLeft == 0)
            throw TTransportException(TTransportException::END_OF_FILE,
                                      "the message is longer than its frame");
        want = std::min<std::uint64_t>(want, m_frameLeft);
    }
    if (m_inPos == m_in.size() && !fill())
        throw TTransportException(TTransportException::END_OF_FILE,
                                  "the connection closed inside a message");
    const std::size_t n = std::min<std::uint64_t>(want, m_in.size() - m_inPos);
    countConsumedMessageBytes(static_cast<long>(n)); // throws past the message size limit
    std::memcpy(buffer, m_in.data() + m_inPos, n);
    m_inPos += n;
    if (m_mode == Mode::Framed)
        m_frameLeft -= n;
    return static_cast<std::uint32_t>(n);
}

void ConnectionTransport::write(const std::uint8_t* data, std::uint32_t size) {
    m_out.append(reinterpret_cast<const char*>(data), size);
}

void ConnectionTransport::flush() {
    if (m_mode == Mode::Framed) {
        const auto n = static_cast<std::uint32_t>(m_out.size());
        const std::uint8_t header[4] = {std::uint8_t(n >> 24), std::uint8_t(n >> 16),
                                        std::uint8_t(n >> 8), std::uint8_t(n)};
        m_out.insert(0, reinterpret_cast<const char*>(header), 4);
    }
    std::string out;
    out.swap(m_out);
    m_stream.writeAll(reinterpret_cast<const std::uint8_t*>(out.data()), out.size());
}

} // namespace troupe::thrift
