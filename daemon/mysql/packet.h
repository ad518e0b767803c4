#pragma once

// MySQL packet framing. Every message ("payload") travels as one or more packets:
//
//   int<3> payload length   (of this packet, 0 .. 0xFFFFFF)
//   int<1> sequence id      (0 for the first packet of a command, +1 per packet, mod 256,
//                            continuing across the reply)
//   bytes  payload
//
// A payload of 0xFFFFFF bytes or more is split into packets of exactly 0xFFFFFF bytes; the
// last packet is shorter, and is empty when the payload is a multiple of 0xFFFFFF. A packet
// shorter than 0xFFFFFF ends the payload.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace troupe::mysql {

inline constexpr std::size_t kMaxPacketBody = 0xFFFFFF;
inline constexpr std::size_t kPacketHeaderSize = 4;
inline constexpr std::size_t kDefaultMaxPayload = 16 * 1024 * 1024;

// Appends the packets of `payload` to `out`, the first with sequence id `seq`. Returns the
// sequence id for the next packet.
std::uint8_t appendPackets(std::string& out, std::string_view payload, std::uint8_t seq);

// One reassembled payload and the sequence id of its last packet.
struct Payload {
    std::string bytes;
    std::uint8_t lastSequence = 0;
};

// Reassembles payloads from a byte stream fed in arbitrary pieces (one per socket read).
// Owned by one connection and used by its thread only. Once it reports an error (out-of-order
// sequence id, payload over the limit) the stream cannot be resynchronised: it keeps reporting
// that error and the connection must be closed after sending an ERR.
class PacketReader {
public:
    explicit PacketReader(std::size_t maxPayload = kDefaultMaxPayload) : m_maxPayload(maxPayload) {}

    void feed(std::string_view bytes);

    // The next whole payload, nullopt while more bytes are needed, InvalidArgument for a packet
    // whose sequence id is not the expected one, TooLarge for a payload over the limit (detected
    // from the headers, before its bytes are buffered).
    Result<std::optional<Payload>> next();

    // The sequence id the next packet must carry. The server sets 0 before reading a command;
    // after a payload it is the payload's last id + 1 (the server's reply uses that one too).
    void expectSequence(std::uint8_t seq) { m_expected = seq; }
    std::uint8_t expectedSequence() const { return m_expected; }
    // After next() reported an error: the sequence id of the server's ERR reply, one past the
    // id of the packet that caused it (MySQL counts every packet of the message, so after a
    // 16 MiB packet (id 0) and an oversized one (id 1) the client expects 2; issue 13).
    std::uint8_t errorReplySequence() const { return m_errorReplySeq; }

    void setMaxPayload(std::size_t maxPayload) { m_maxPayload = maxPayload; }
    // Bytes fed but not yet returned as a payload.
    std::size_t buffered() const { return m_buffer.size() - m_pos + m_partial.size(); }
    // Removes and returns the fed bytes after the last whole payload (nothing of a payload in
    // progress). After an SSLRequest they are the start of the client's TLS handshake.
    std::string takeUnparsed();

private:
    std::string m_buffer; // fed bytes; [m_pos, end) not consumed yet
    std::size_t m_pos = 0;
    std::string m_partial; // bodies of the current payload's packets so far
    std::size_t m_maxPayload;
    std::uint8_t m_expected = 0;
    std::uint8_t m_errorReplySeq = 0;
    Status m_error;
};

} // namespace troupe::mysql
