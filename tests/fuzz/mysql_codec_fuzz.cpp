// libFuzzer target for the MySQL wire-protocol codec (daemon/mysql): everything in it that
// parses bytes from a client, the client-side parsers used by tests, and the result-set
// builders that answer with values a client controls. The first input byte picks a mode
// (Mode below); the rest is that mode's input, laid out as described above each mode.
//
// Besides "no crash, no leak, no sanitizer report", every mode checks cheap invariants: parsed
// lengths never exceed the input, a stream reassembles the same whether it arrives at once or
// in pieces, and what a parser accepts survives a round trip through the matching builder.
// This file: the entry point, packet framing and the wire primitives; mysql_codec_fuzz.h says
// where the other modes are.
//
// Built twice: troupe-fuzz-mysql-codec with libFuzzer (the fuzz preset), and
// fuzz_mysql_codec_replay with replay_main.cpp, which CTest runs over corpus/mysql_codec/.

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mysql/packet.h"
#include "mysql/wire.h"
#include "mysql_codec_fuzz.h"

using namespace troupe;
using namespace troupe::fuzz;
using namespace troupe::mysql;

namespace {

enum class Mode : std::uint8_t {
    PacketStream,
    PacketRoundTrip,
    HandshakeResponse,
    StmtExecute,
    Wire,
    ClientParsers,
    Rows,
    ChangeUser,
    Count
};

// A packet of 0xFFFFFF bytes costs a third of a second under the sanitizers (every reader
// copies it twice); one per input reaches every split-packet path (a continued payload, its
// empty last packet, a payload over 16 MiB) without slowing the fuzzer to a crawl.
constexpr int kMaxBigPackets = 1;
constexpr std::uint8_t kBigPacketMark = 0xB1;

// ---- Packet framing: one stream, fed whole and in pieces -----------------------------------

struct StreamEvent {
    bool isError = false;
    ErrorCode code = ErrorCode::Ok;
    std::string bytes;
    std::uint8_t lastSequence = 0;
    bool operator==(const StreamEvent&) const = default;
};

// A PacketReader with what the checks need to know about it.
struct Reassembly {
    PacketReader reader;
    bool resetAfterPayload = false; // as the server between commands: expect sequence id 0
    std::size_t limit = 0;
    std::uint8_t payloadStart = 0; // the sequence id the current payload started with
    std::size_t consumed = 0;      // header and body bytes of the payloads returned
    std::vector<StreamEvent> events;
    std::optional<Status> error;

    Reassembly(std::size_t maxPayload, std::uint8_t firstSequence, bool reset)
        : reader(maxPayload), resetAfterPayload(reset), limit(maxPayload),
          payloadStart(firstSequence) {
        reader.expectSequence(firstSequence);
    }

    // Takes payloads until the reader needs more bytes or fails.
    void drain() {
        for (;;) {
            auto next = reader.next();
            if (!next) {
                if (error) { // an error is final: the same one again
                    TROUPE_FUZZ_CHECK(next.status().code() == error->code());
                    TROUPE_FUZZ_CHECK(next.status().message() == error->message());
                    return;
                }
                TROUPE_FUZZ_CHECK(next.status().code() == ErrorCode::InvalidArgument ||
                                  next.status().code() == ErrorCode::TooLarge);
                error = next.status();
                events.push_back(StreamEvent{true, next.status().code(), {}, 0});
                return;
            }
            if (!*next)
                return;
            Payload& p = **next;
            // Every packet but the last carries exactly kMaxPacketBody bytes.
            const std::size_t packets = p.bytes.size() / kMaxPacketBody + 1;
            TROUPE_FUZZ_CHECK(p.bytes.size() <= limit);
            TROUPE_FUZZ_CHECK(p.lastSequence == std::uint8_t(payloadStart + packets - 1));
            TROUPE_FUZZ_CHECK(reader.expectedSequence() == std::uint8_t(p.lastSequence + 1));
            consumed += p.bytes.size() + packets * kPacketHeaderSize;
            events.push_back(StreamEvent{false, ErrorCode::Ok, std::move(p.bytes), p.lastSequence});
            if (resetAfterPayload)
                reader.expectSequence(0);
            payloadStart = reader.expectedSequence();
        }
    }
};

std::size_t pickLimit(std::uint8_t choice, FuzzInput& in) {
    switch (choice % 4) {
    case 0:
        return kDefaultMaxPayload;
    case 1:
        return 4 * kDefaultMaxPayload;
    case 2:
        return std::size_t(in.byte()) * 16;
    default:
        return kMaxPacketBody;
    }
}

// Input: options (bits 0-1 the payload limit: 16 MiB, 64 MiB, 16 x the next byte, 0xFFFFFF;
// bit 2: expect sequence id 0 after each payload, as between commands), the first expected
// sequence id, a seed for where the stream is cut into reads, then the stream as segments:
//   0xFF 0xB1 n s a packet of 0xFFFFFF - n body bytes with sequence id s (body generated; the
//                 second byte keeps a stray 0xFF from making every mutant slow). After a 0xFF
//                 the byte is used up even when it is not 0xB1 (or a big packet was made)
//                 and the segment is then 32 bytes as they are.
//   0xFE n s ...  a packet of n body bytes with sequence id s, the body from the input
//   t ...         the next t % 32 + 1 input bytes as they are
void packetStream(FuzzInput& in) {
    const std::uint8_t options = in.byte();
    const std::size_t limit = pickLimit(options, in);
    const bool reset = (options & 4) != 0;
    const std::uint8_t first = in.byte();
    Xorshift32 cuts(in.byte());

    std::string stream;
    int bigPackets = 0;
    while (!in.empty()) {
        const std::uint8_t tag = in.byte();
        if (tag == 0xFF && in.byte() == kBigPacketMark && bigPackets < kMaxBigPackets) {
            ++bigPackets;
            const std::size_t length = kMaxPacketBody - in.byte();
            putInt3(stream, std::uint32_t(length));
            putInt1(stream, in.byte());
            stream.append(length, char('a' + bigPackets));
        } else if (tag == 0xFE) {
            const std::uint8_t length = in.byte();
            putInt3(stream, length);
            putInt1(stream, in.byte());
            stream.append(in.bytes(length));
        } else {
            stream.append(in.bytes(tag % 32 + 1));
        }
    }

    Reassembly whole(limit, first, reset);
    whole.reader.feed(stream);
    whole.drain();
    TROUPE_FUZZ_CHECK(whole.consumed <= stream.size());
    if (!whole.error)
        TROUPE_FUZZ_CHECK(whole.reader.buffered() <= stream.size() - whole.consumed);

    Reassembly pieces(limit, first, reset);
    std::string_view rest = stream;
    while (!rest.empty()) {
        const std::uint32_t r = cuts.next();
        const std::size_t n = (r & 7) == 0 ? (r >> 3) % (8u << 20) + 1 : (r >> 3) % 64 + 1;
        pieces.reader.feed(rest.substr(0, n));
        rest.remove_prefix(std::min(n, rest.size()));
        pieces.drain();
    }
    TROUPE_FUZZ_CHECK(pieces.events == whole.events);
    TROUPE_FUZZ_CHECK(pieces.consumed == whole.consumed);
}

// Input: the first sequence id, the size (kBigPacketMark then n: 0xFFFFFE, 0xFFFFFF or
// 0x1000000 bytes by n % 3, the rest of the input repeated; any other byte: the rest of the
// input itself), a seed for the reads, the payload.
void packetRoundTrip(FuzzInput& in) {
    const std::uint8_t seq = in.byte();
    const bool big = in.byte() == kBigPacketMark;
    const std::uint8_t bigSize = big ? in.byte() % 3 : 0;
    Xorshift32 cuts(in.byte());
    const std::string_view data = in.rest();
    std::string payload;
    if (big) {
        constexpr std::size_t kSizes[] = {kMaxPacketBody - 1, kMaxPacketBody, kMaxPacketBody + 1};
        payload = data.empty() ? std::string_view("x") : data;
        while (payload.size() < kSizes[bigSize])
            payload += payload;
        payload.resize(kSizes[bigSize]);
    } else {
        payload = data;
    }

    std::string out;
    const std::size_t packets = payload.size() / kMaxPacketBody + 1;
    TROUPE_FUZZ_CHECK(appendPackets(out, payload, seq) == std::uint8_t(seq + packets));
    TROUPE_FUZZ_CHECK(out.size() == payload.size() + packets * kPacketHeaderSize);

    PacketReader reader(payload.size());
    reader.expectSequence(seq);
    std::string_view rest = out;
    std::optional<Payload> got;
    while (!got) {
        TROUPE_FUZZ_CHECK(!rest.empty());
        const std::uint32_t r = cuts.next();
        const std::size_t n = (r & 3) == 0 ? (r >> 2) % (8u << 20) + 1 : (r >> 2) % 16 + 1;
        reader.feed(rest.substr(0, n));
        rest.remove_prefix(std::min(n, rest.size()));
        auto next = reader.next();
        TROUPE_FUZZ_CHECK(next.isOk());
        got = std::move(*next);
    }
    TROUPE_FUZZ_CHECK(rest.empty());
    TROUPE_FUZZ_CHECK(got->bytes == payload);
    TROUPE_FUZZ_CHECK(got->lastSequence == std::uint8_t(seq + packets - 1));
    TROUPE_FUZZ_CHECK(reader.buffered() == 0);
    auto after = reader.next();
    TROUPE_FUZZ_CHECK(after.isOk() && !*after);

    if (!payload.empty()) { // one byte over the limit is refused from the headers
        PacketReader small(payload.size() - 1);
        small.expectSequence(seq);
        small.feed(out);
        auto refused = small.next();
        TROUPE_FUZZ_CHECK(!refused.isOk() && refused.status().code() == ErrorCode::TooLarge);
    }
}

// ---- Wire primitives -----------------------------------------------------------------------

enum class Read : std::uint8_t {
    Int1,
    Int2,
    Int3,
    Int4,
    Int8,
    LenencInt,
    Bytes,
    LenencString,
    NulString,
    Rest,
    Peek,
    Fail,
    Count
};

// One read of `op` on `r` over `data`, checked against the reader's contract.
void checkedRead(WireReader& r, std::string_view data, Read op, FuzzInput& in) {
    const bool wasOk = r.ok();
    const std::size_t before = r.position();
    std::uint64_t value = 0;
    std::string_view view;
    std::size_t width = 0; // bytes a successful fixed-width read consumes
    switch (op) {
    case Read::Int1:
        value = r.int1();
        width = 1;
        break;
    case Read::Int2:
        value = r.int2();
        width = 2;
        break;
    case Read::Int3:
        value = r.int3();
        width = 3;
        break;
    case Read::Int4:
        value = r.int4();
        width = 4;
        break;
    case Read::Int8:
        value = r.int8();
        width = 8;
        break;
    case Read::LenencInt:
        value = r.lenencInt();
        break;
    case Read::Bytes: {
        const std::size_t n = in.byte();
        view = r.bytes(n);
        if (r.ok())
            TROUPE_FUZZ_CHECK(view.size() == n && view.data() == data.data() + before);
        break;
    }
    case Read::LenencString:
        view = r.lenencString();
        break;
    case Read::NulString:
        view = r.nulString();
        if (r.ok()) {
            TROUPE_FUZZ_CHECK(r.position() == before + view.size() + 1);
            TROUPE_FUZZ_CHECK(view.find('\0') == std::string_view::npos);
            TROUPE_FUZZ_CHECK(data[r.position() - 1] == '\0');
        }
        break;
    case Read::Rest:
        view = r.rest();
        if (wasOk)
            TROUPE_FUZZ_CHECK(r.atEnd() && view.size() == data.size() - before);
        break;
    case Read::Peek:
        value = r.peek();
        TROUPE_FUZZ_CHECK(r.position() == before);
        TROUPE_FUZZ_CHECK(value == (before < data.size() ? std::uint8_t(data[before]) : 0u));
        break;
    case Read::Fail:
        r.fail();
        TROUPE_FUZZ_CHECK(!r.ok() && !r.status("fuzz").isOk());
        break;
    case Read::Count:
        break;
    }

    TROUPE_FUZZ_CHECK(r.position() <= data.size());
    TROUPE_FUZZ_CHECK(r.remaining() == data.size() - r.position());
    TROUPE_FUZZ_CHECK(r.atEnd() == (r.position() == data.size()));
    TROUPE_FUZZ_CHECK(r.status("fuzz").isOk() == r.ok());
    TROUPE_FUZZ_CHECK(within(view, data));
    if (!wasOk) { // a failed reader stays failed and reads nothing
        TROUPE_FUZZ_CHECK(!r.ok() && r.position() == before && view.empty());
        TROUPE_FUZZ_CHECK(value == 0 || op == Read::Peek);
        return;
    }
    if (!r.ok()) {
        TROUPE_FUZZ_CHECK(view.empty() && (value == 0 || op == Read::Peek));
        return;
    }
    const std::size_t used = r.position() - before;
    if (width != 0)
        TROUPE_FUZZ_CHECK(used == width);
    if (op == Read::LenencInt) {
        // Non-canonical encodings (a small value in 9 bytes) are read, never shorter ones.
        TROUPE_FUZZ_CHECK(used == 1 || used == 3 || used == 4 || used == 9);
        TROUPE_FUZZ_CHECK(used >= lenencIntSize(value));
        std::string encoded;
        putLenencInt(encoded, value);
        WireReader back(encoded);
        TROUPE_FUZZ_CHECK(back.lenencInt() == value && back.ok() && back.atEnd());
    }
    if (op == Read::LenencString)
        TROUPE_FUZZ_CHECK(view.data() + view.size() == data.data() + r.position() &&
                          used >= view.size() + lenencIntSize(view.size()));
}

// Input: the length n of the data read, n bytes of data, then one byte per read (Read, by
// value modulo Read::Count; Bytes takes its count from the following byte).
void wire(FuzzInput& in) {
    const std::string data(in.bytes(in.byte()));
    WireReader r(data);
    while (!in.empty())
        checkedRead(r, data, Read(in.byte() % std::uint8_t(Read::Count)), in);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzInput in(data, size);
    switch (Mode(in.byte() % std::uint8_t(Mode::Count))) {
    case Mode::PacketStream:
        packetStream(in);
        break;
    case Mode::PacketRoundTrip:
        packetRoundTrip(in);
        break;
    case Mode::HandshakeResponse:
        fuzzHandshakeResponse(in);
        break;
    case Mode::StmtExecute:
        fuzzStmtExecute(in);
        break;
    case Mode::Wire:
        wire(in);
        break;
    case Mode::ClientParsers:
        fuzzClientParsers(in);
        break;
    case Mode::Rows:
        fuzzRows(in);
        break;
    case Mode::ChangeUser:
        fuzzChangeUser(in);
        break;
    case Mode::Count:
        break;
    }
    return 0;
}
