#pragma once

// ConnectionTransport: the Thrift transport of one server connection, over a blocking byte
// stream (a TCP socket, or TLS on it). It speaks both of ActorDB's transports on one port and
// tells them apart from the first byte a client sends:
//
//   0x80        unframed ("buffered"): a strict binary-protocol message starts with its version
//               word 0x80 0x01 0x00 <type>, and messages simply follow each other;
//   otherwise   framed: each message is preceded by its length, a 4-byte big-endian integer.
//               A frame length with the top bit set (0x80...) would be over 2 GiB, so the two
//               can never be confused.
//
// Limits: a frame longer than maxMessage, and an unframed message that reads more than
// maxMessage bytes, fail with a TTransportException; Thrift's protocol checks container and
// string lengths against the bytes that remain of the message (TTransport's message-size
// accounting), so a forged length cannot make the server allocate more than that.
//
// Threads: one connection's thread only.

#include <cstdint>
#include <string>

#include <thrift/transport/TVirtualTransport.h>

namespace troupe::thrift {

// Blocking reads and writes of one connection. Errors are thrown as TTransportException.
class ByteStream {
public:
    virtual ~ByteStream() = default;
    // At least one byte; 0 only at a clean end of stream.
    virtual std::size_t readSome(std::uint8_t* buffer, std::size_t size) = 0;
    virtual void writeAll(const std::uint8_t* data, std::size_t size) = 0;
};

class ConnectionTransport
    : public apache::thrift::transport::TVirtualTransport<ConnectionTransport> {
public:
    enum class Mode { Unknown, Framed, Unframed };

    ConnectionTransport(ByteStream& stream, std::size_t maxMessage);

    // Waits for the next request. false: the client closed the connection between messages.
    // Detects the mode on the first call. Throws TTransportException on a bad frame length.
    bool beginMessage();
    // After the processor read one message: skips what is left of its frame.
    void endMessage();
    Mode mode() const { return m_mode; }

    // TVirtualTransport
    std::uint32_t read(std::uint8_t* buffer, std::uint32_t size);
    void write(const std::uint8_t* data, std::uint32_t size);
    void flush() override;
    bool isOpen() const override { return true; }
    bool peek() override;

private:
    // Reads more bytes from the stream into m_in; false at end of stream.
    bool fill();
    std::uint32_t readFrameLength();

    ByteStream& m_stream;
    std::size_t m_maxMessage;
    Mode m_mode = Mode::Unknown;
    std::string m_in; // bytes read from the stream, not yet consumed from m_inPos
    std::size_t m_inPos = 0;
    std::uint64_t m_frameLeft = 0; // framed: bytes of the current frame not yet read
    std::string m_out;             // the reply being built, sent by flush()
};

} // namespace troupe::thrift
