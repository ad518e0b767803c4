#pragma once

// HTTP/1.1 request and response values for the small status server (daemon/http): what the
// parser produces and what a handler returns. Plain values, no I/O; any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace troupe::http {

struct HttpRequest {
    std::string method;   // as sent, case-sensitive ("GET")
    std::string target;   // request-target as sent ("/metrics?x=1")
    std::string path;     // target without query, absolute-form reduced to its path ("/metrics")
    int versionMinor = 1; // HTTP/1.<versionMinor>
    std::vector<std::pair<std::string, std::string>> headers; // in order, names as sent
    std::string body;      // Content-Length bytes (status endpoints ignore it)
    bool keepAlive = true; // after the Connection header and the version's default

    // The first header of that name (case-insensitive), if any.
    std::optional<std::string_view> header(std::string_view name) const;
};

struct HttpResponse {
    int status = 200;
    std::string contentType = "text/plain; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers; // extra headers ("Allow", ...)

    static HttpResponse text(int status, std::string body);
};

// The standard reason phrase of a status code ("Not Found"), or "Unknown".
std::string_view reasonPhrase(int status);

// Case-insensitive ASCII comparison, for header names and tokens.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

// The wire form of `response`: status line, Date-less headers (Content-Type, Content-Length,
// Connection, extras), blank line, body (omitted when headOnly, Content-Length kept).
std::string serializeResponse(const HttpResponse& response, bool keepAlive, bool headOnly);

} // namespace troupe::http
