#pragma once

// A pure, stateless HTTP/1.1 request parser (RFC 9112) for the status server: give it the bytes
// received so far on a connection; it says whether a complete request is there, how many bytes it
// used, or which error status to answer with. Strict where leniency has caused request smuggling
// (obs-fold, Transfer-Encoding, conflicting Content-Length), limited in size everywhere.
// No state and no I/O: callable from any thread.

#include <cstddef>
#include <string>
#include <string_view>

#include "http/http_message.h"

namespace troupe::http {

struct ParseLimits {
    std::size_t maxHeadBytes = 8 * 1024; // request line + headers + blank line
    std::size_t maxBodyBytes = 8 * 1024; // Content-Length
    std::size_t maxHeaders = 64;
};

struct ParseResult {
    enum class State {
        NeedMore, // no complete request yet and no limit exceeded
        Complete, // `request` is valid; `consumed` bytes of the input belong to it
        Error,    // answer `errorStatus` and close the connection
    };
    State state = State::NeedMore;
    HttpRequest request;
    std::size_t consumed = 0;
    int errorStatus = 0;
    std::string errorMessage; // for the response body and the debug log
};

ParseResult parseRequest(std::string_view data, const ParseLimits& limits = {});

} // namespace troupe::http
