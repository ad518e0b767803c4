// libFuzzer target for the Thrift decoding path of the server (daemon/thrift): the bytes a client
// sends go through ConnectionTransport (framed or unframed, detected from the first byte; frame
// limits), TBinaryProtocol (strict, with the server's container and string limits) and the
// generated ActordbProcessor up to the handler, as ThriftServer::run does for a connection. The
// handler is RecordingHandler (thrift_fuzz_handler.h): no database, but it runs the conversions
// of convert.h on what it receives (parameters, flags, batch binding) and answers with values,
// so replies are encoded too.
//
// Input: byte 0 seeds where the stream is cut into socket reads; the rest is the byte stream.
// Invariants beyond "no crash, no leak, no sanitizer report":
// - the connection does the same (same handler calls, same reply bytes, same way of ending)
//   whether the stream arrives in one read or in pieces;
// - every reply is one complete binary-protocol message, and the replies (T_REPLY) name the
//   handler calls in order.
//
// Built twice: troupe-fuzz-thrift with libFuzzer (the fuzz preset), and fuzz_thrift_replay with
// replay_main.cpp, which CTest runs over corpus/thrift/. resources/docs/fuzzing.md.

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <thrift/TApplicationException.h>
#include <thrift/TOutput.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TProtocolException.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TTransportException.h>

#include "fuzz_input.h"
#include "thrift/transport.h"
#include "thrift_fuzz_handler.h"

using namespace troupe;
using namespace troupe::fuzz;
using apache::thrift::protocol::TProtocolException;
using apache::thrift::transport::TTransportException;

namespace {

// Small enough that the fuzzer reaches the frame and message limits.
constexpr std::size_t kMaxMessage = 64 * 1024;

// The client's bytes as a socket would deliver them: in one piece, or cut by a generator.
class ScriptedStream final : public thrift::ByteStream {
public:
    ScriptedStream(std::string_view data, std::uint32_t seed, bool pieces)
        : m_data(data), m_random(seed), m_pieces(pieces) {}

    std::size_t readSome(std::uint8_t* buffer, std::size_t size) override {
        std::size_t n = std::min(size, m_data.size());
        if (m_pieces && n > 1)
            n = 1 + m_random.next() % std::min<std::size_t>(n, 64);
        std::copy_n(m_data.data(), n, buffer);
        m_data.remove_prefix(n);
        return n;
    }
    void writeAll(const std::uint8_t* data, std::size_t size) override {
        m_written.append(reinterpret_cast<const char*>(data), size);
    }
    const std::string& written() const { return m_written; }

private:
    std::string_view m_data;
    Xorshift32 m_random;
    bool m_pieces;
    std::string m_written;
};

struct Outcome {
    std::vector<std::string> calls; // RecordingHandler's log
    std::string written;            // the reply bytes
    std::string end;                // how the connection ended
    thrift::ConnectionTransport::Mode mode = thrift::ConnectionTransport::Mode::Unknown;
    bool operator==(const Outcome&) const = default;
};

// The request loop of ThriftServer::run (daemon/thrift/server.cpp) without the socket, the
// timeouts and the logging: it must stay in step with that function.
Outcome serve(std::string_view data, std::uint32_t seed, bool pieces) {
    ScriptedStream stream(data, seed, pieces);
    auto transport = std::make_shared<thrift::ConnectionTransport>(stream, kMaxMessage);
    const auto limit = static_cast<std::int32_t>(kMaxMessage);
    auto protocol =
        std::make_shared<apache::thrift::protocol::TBinaryProtocolT<thrift::ConnectionTransport>>(
            transport, limit, limit, /*strictRead=*/true, /*strictWrite=*/true);
    auto handler = std::make_shared<RecordingHandler>();
    thrift::gen::ActordbProcessor processor(handler);
    Outcome out;
    try {
        for (;;) {
            if (!transport->beginMessage()) {
                out.end = "closed";
                break;
            }
            if (!processor.process(protocol, protocol, nullptr)) {
                out.end = "processor";
                break;
            }
            transport->endMessage();
        }
    } catch (const TTransportException& e) {
        out.end = "transport " + std::to_string(e.getType());
    } catch (const TProtocolException& e) {
        out.end = "protocol " + std::to_string(e.getType());
    } catch (const std::exception& e) {
        out.end = std::string("other ") + e.what();
    }
    out.calls = handler->calls();
    out.written = stream.written();
    out.mode = transport->mode();
    return out;
}

// Strips the frame headers of framed replies; empty on a malformed frame.
bool unframe(const Outcome& out, std::string& replies) {
    if (out.mode != thrift::ConnectionTransport::Mode::Framed) {
        replies = out.written;
        return true;
    }
    std::string_view rest = out.written;
    while (!rest.empty()) {
        if (rest.size() < 4)
            return false;
        const auto* p = reinterpret_cast<const std::uint8_t*>(rest.data());
        const std::uint32_t n = std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 |
                                std::uint32_t(p[2]) << 8 | std::uint32_t(p[3]);
        if (rest.size() - 4 < n)
            return false;
        replies.append(rest.substr(4, n));
        rest.remove_prefix(4 + n);
    }
    return true;
}

// Reads the replies back; the names of the T_REPLY messages, in order.
std::vector<std::string> replyNames(const Outcome& out) {
    std::string bytes;
    TROUPE_FUZZ_CHECK(unframe(out, bytes));
    auto buffer = std::make_shared<apache::thrift::transport::TMemoryBuffer>(
        reinterpret_cast<std::uint8_t*>(bytes.data()), static_cast<std::uint32_t>(bytes.size()));
    apache::thrift::protocol::TBinaryProtocol reader(buffer);
    std::vector<std::string> names;
    while (buffer->available_read() > 0) {
        std::string name;
        apache::thrift::protocol::TMessageType type{};
        std::int32_t seqid = 0;
        try {
            reader.readMessageBegin(name, type, seqid);
            reader.skip(apache::thrift::protocol::T_STRUCT);
            reader.readMessageEnd();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "unreadable reply: %s\n", e.what());
            TROUPE_FUZZ_CHECK(!"every reply is a complete message");
        }
        TROUPE_FUZZ_CHECK(type == apache::thrift::protocol::T_REPLY ||
                          type == apache::thrift::protocol::T_EXCEPTION);
        if (type == apache::thrift::protocol::T_REPLY)
            names.push_back(name);
    }
    return names;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Thrift reports some client errors on stderr as well as by exception: keep the fuzzer's
    // output readable.
    static const bool quiet = [] {
        apache::thrift::GlobalOutput.setOutputFunction([](const char*) {});
        return true;
    }();
    (void)quiet;
    FuzzInput in(data, size);
    const std::uint32_t seed = in.byte();
    const std::string_view stream = in.rest();

    const Outcome whole = serve(stream, seed, false);
    const Outcome pieces = serve(stream, seed, true);
    if (!(whole == pieces)) {
        std::fprintf(stderr, "whole: %zu calls, end %s; pieces: %zu calls, end %s\n",
                     whole.calls.size(), whole.end.c_str(), pieces.calls.size(),
                     pieces.end.c_str());
        TROUPE_FUZZ_CHECK(whole == pieces);
    }
    // A handler call that threw answers with a T_REPLY carrying the exception (declared) or a
    // T_EXCEPTION (anything else); RecordingHandler throws only the declared one.
    std::vector<std::string> called;
    for (const std::string& call : whole.calls)
        called.push_back(call.substr(0, call.find(' ')));
    TROUPE_FUZZ_CHECK(replyNames(whole) == called);
    return 0;
}
