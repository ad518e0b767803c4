// libFuzzer target for the HTTP/1.1 request parser of the status server
// (daemon/http/request_parser.h), used as HttpServer's sessions use it: the bytes received so
// far are parsed; a complete request is taken off the front and parsing goes on (pipelining);
// an error ends the connection.
//
// Input: byte 0 picks the limits (bits 0-1 the head limit, bits 2-3 the body limit, bit 4 a
// small header count) and seeds where the stream is cut into reads; the rest is the stream.
// Invariants beyond "no crash, no leak, no sanitizer report":
// - fed in pieces (parsing after every read) the stream gives the same requests and ends the
//   same way (the same error status, or waiting for more) as fed at once;
// - a complete request used no more than the bytes given, its body is its Content-Length,
//   method and header names are tokens, the path starts with '/' (or is "*"), and nothing in
//   the request line or a header value is a control character (CR and LF above all);
// - the head and body stay within the limits.
//
// Built twice: troupe-fuzz-http-request with libFuzzer (the fuzz preset), and
// fuzz_http_request_replay with replay_main.cpp, which CTest runs over corpus/http_request/.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.h"
#include "http/request_parser.h"

using namespace troupe;
using namespace troupe::fuzz;
using namespace troupe::http;

namespace {

constexpr std::size_t kMaxStream = 64 * 1024;

struct Outcome {
    std::vector<std::string> requests; // each one's fields, joined
    int errorStatus = 0;               // 0: still waiting for more
    bool operator==(const Outcome&) const = default;
};

bool isCtl(char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
}

std::string describe(const HttpRequest& r) {
    std::string out = r.method + " " + r.target + " " + r.path + " 1." +
                      std::to_string(r.versionMinor) + (r.keepAlive ? " keep" : " close");
    for (const auto& [name, value] : r.headers)
        out += "\n" + name + ": " + value;
    return out + "\n\n" + r.body;
}

void checkRequest(const ParseResult& r, std::string_view data, const ParseLimits& limits) {
    const HttpRequest& req = r.request;
    TROUPE_FUZZ_CHECK(r.consumed > 0 && r.consumed <= data.size());
    TROUPE_FUZZ_CHECK(req.body.size() <= limits.maxBodyBytes);
    TROUPE_FUZZ_CHECK(r.consumed - req.body.size() <= limits.maxHeadBytes);
    TROUPE_FUZZ_CHECK(data.substr(r.consumed - req.body.size(), req.body.size()) == req.body);
    TROUPE_FUZZ_CHECK(req.headers.size() <= limits.maxHeaders);
    TROUPE_FUZZ_CHECK(!req.method.empty() && !req.target.empty());
    TROUPE_FUZZ_CHECK(req.path == "*" || (!req.path.empty() && req.path.front() == '/'));
    for (const std::string* s : {&req.method, &req.target, &req.path})
        TROUPE_FUZZ_CHECK(std::none_of(s->begin(), s->end(), isCtl));
    for (const auto& [name, value] : req.headers) {
        TROUPE_FUZZ_CHECK(!name.empty() && std::none_of(name.begin(), name.end(), isCtl));
        TROUPE_FUZZ_CHECK(
            std::none_of(value.begin(), value.end(), [](char c) { return isCtl(c) && c != '\t'; }));
    }
}

// Parses what has arrived until it needs more or fails; true while the connection lives.
bool drain(std::string& buffer, const ParseLimits& limits, Outcome& out) {
    for (;;) {
        ParseResult r = parseRequest(buffer, limits);
        switch (r.state) {
        case ParseResult::State::NeedMore:
            return true;
        case ParseResult::State::Error:
            TROUPE_FUZZ_CHECK(r.errorStatus >= 400 && r.errorStatus < 600);
            out.errorStatus = r.errorStatus;
            return false;
        case ParseResult::State::Complete:
            checkRequest(r, buffer, limits);
            out.requests.push_back(describe(r.request));
            buffer.erase(0, r.consumed);
            break;
        }
    }
}

Outcome feed(std::string_view stream, const ParseLimits& limits, std::uint32_t seed, bool pieces) {
    Outcome out;
    std::string buffer;
    Xorshift32 random(seed);
    while (!stream.empty()) {
        std::size_t n = stream.size();
        if (pieces)
            n = std::min<std::size_t>(n, 1 + random.next() % 300);
        buffer.append(stream.substr(0, n));
        stream.remove_prefix(n);
        if (!drain(buffer, limits, out))
            break;
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzInput in(data, size);
    const std::uint8_t options = in.byte();
    static constexpr std::size_t kHead[] = {8 * 1024, 64, 200, 1024};
    static constexpr std::size_t kBody[] = {8 * 1024, 0, 16, 300};
    ParseLimits limits;
    limits.maxHeadBytes = kHead[options & 3];
    limits.maxBodyBytes = kBody[(options >> 2) & 3];
    limits.maxHeaders = options & 16 ? 3 : 64;
    const std::string_view stream = in.bytes(kMaxStream);

    const Outcome whole = feed(stream, limits, options, false);
    const Outcome pieces = feed(stream, limits, options, true);
    if (!(whole == pieces))
        std::fprintf(stderr, "at once: %zu requests, status %d; in pieces: %zu, status %d\n",
                     whole.requests.size(), whole.errorStatus, pieces.requests.size(),
                     pieces.errorStatus);
    TROUPE_FUZZ_CHECK(whole == pieces);
    return 0;
}
