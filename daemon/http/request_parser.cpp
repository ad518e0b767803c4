#include "http/request_parser.h"

#include <charconv>
#include <optional>
#include <vector>

namespace troupe::http {

namespace {

using State = ParseResult::State;

ParseResult error(int status, std::string message) {
    ParseResult r;
    r.state = State::Error;
    r.errorStatus = status;
    r.errorMessage = std::move(message);
    return r;
}

bool isTchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view s) {
    if (s.empty())
        return false;
    for (char c : s) {
        if (!isTchar(c))
            return false;
    }
    return true;
}

bool isCtl(char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
}

std::string_view trimOws(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// Splits the head into lines (without CR LF). Returns the offset just past the blank line that
// ends the head, or nullopt if the head is not complete yet.
std::optional<std::size_t> splitHead(std::string_view data, std::size_t start,
                                     std::vector<std::string_view>& lines) {
    std::size_t pos = start;
    while (true) {
        std::size_t nl = data.find('\n', pos);
        if (nl == std::string_view::npos)
            return std::nullopt;
        std::string_view line = data.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        pos = nl + 1;
        if (line.empty())
            return pos;
        lines.push_back(line);
    }
}

// Reduces a request-target to its path: origin-form "/a?b" -> "/a", absolute-form
// "http://host/a" -> "/a", asterisk-form "*" -> "*". Empty on a malformed target.
std::string pathOf(std::string_view target) {
    if (target == "*")
        return "*";
    if (target.front() != '/') {
        std::size_t scheme = target.find("://");
        if (scheme == std::string_view::npos)
            return {};
        std::size_t slash = target.find('/', scheme + 3);
        target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
    std::size_t end = target.find_first_of("?#");
    return std::string(target.substr(0, end));
}

std::optional<ParseResult> parseRequestLine(std::string_view line, HttpRequest& req) {
    std::size_t sp1 = line.find(' ');
    std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return error(400, "malformed request line");
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!isToken(method))
        return error(400, "malformed method");
    if (target.empty())
        return error(400, "empty request target");
    for (char c : target) {
        if (isCtl(c))
            return error(400, "control character in request target");
    }
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
        version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
        return error(400, "malformed HTTP version");
    if (version[5] != '1')
        return error(505, "only HTTP/1.x is supported");
    req.method = std::string(method);
    req.target = std::string(target);
    req.path = pathOf(target);
    if (req.path.empty())
        return error(400, "malformed request target");
    req.versionMinor = version[7] - '0';
    return std::nullopt;
}

std::optional<ParseResult> parseHeaderLine(std::string_view line, HttpRequest& req) {
    if (line.front() == ' ' || line.front() == '\t')
        return error(400, "obsolete header line folding");
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos)
        return error(400, "header line without ':'");
    std::string_view name = line.substr(0, colon);
    if (!isToken(name))
        return error(400, "malformed header name");
    std::string_view value = trimOws(line.substr(colon + 1));
    for (char c : value) {
        if (isCtl(c) && c != '\t')
            return error(400, "control character in header value");
    }
    req.headers.emplace_back(std::string(name), std::string(value));
    return std::nullopt;
}

// Content-Length: one or more comma-separated copies of the same decimal number.
std::optional<std::size_t> parseContentLength(std::string_view value,
                                              std::optional<std::size_t> seen) {
    std::optional<std::size_t> result = seen;
    while (true) {
        std::size_t comma = value.find(',');
        std::string_view part = trimOws(value.substr(0, comma));
        std::size_t n = 0;
        auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
        if (part.empty() || ec != std::errc() || ptr != part.data() + part.size())
            return std::nullopt;
        if (result && *result != n)
            return std::nullopt;
        result = n;
        if (comma == std::string_view::npos)
            return result;
        value.remove_prefix(comma + 1);
    }
}

bool hasToken(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        std::size_t comma = list.find(',');
        if (equalsIgnoreCase(trimOws(list.substr(0, comma)), token))
            return true;
        if (comma == std::string_view::npos)
            break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

// Host, message framing (Content-Length / Transfer-Encoding, RFC 9112 §6) and Connection.
// Sets req.keepAlive and the body length, or returns the error to answer.
std::optional<ParseResult> checkFraming(HttpRequest& req, const ParseLimits& limits,
                                        std::size_t& bodyLength) {
    int hosts = 0;
    bool transferEncoding = false;
    std::optional<std::size_t> contentLength;
    bool badLength = false;
    bool close = false;
    bool keepAliveToken = false;
    for (const auto& [name, value] : req.headers) {
        if (equalsIgnoreCase(name, "host")) {
            ++hosts;
        } else if (equalsIgnoreCase(name, "transfer-encoding")) {
            transferEncoding = true;
        } else if (equalsIgnoreCase(name, "content-length")) {
            contentLength = parseContentLength(value, contentLength);
            badLength = badLength || !contentLength;
        } else if (equalsIgnoreCase(name, "connection")) {
            close = close || hasToken(value, "close");
            keepAliveToken = keepAliveToken || hasToken(value, "keep-alive");
        }
    }
    if (hosts > 1 || (hosts == 0 && req.versionMinor >= 1))
        return error(400, "HTTP/1.1 requires exactly one Host header");
    if (transferEncoding && (contentLength || badLength))
        return error(400, "both Transfer-Encoding and Content-Length");
    if (transferEncoding)
        return error(501, "Transfer-Encoding is not supported");
    if (badLength)
        return error(400, "malformed or conflicting Content-Length");
    bodyLength = contentLength.value_or(0);
    if (bodyLength > limits.maxBodyBytes)
        return error(413,
                     "request body larger than " + std::to_string(limits.maxBodyBytes) + " bytes");
    req.keepAlive = req.versionMinor >= 1 ? !close : (keepAliveToken && !close);
    return std::nullopt;
}

} // namespace

ParseResult parseRequest(std::string_view data, const ParseLimits& limits) {
    // RFC 9112 §2.2: ignore empty lines before the request line.
    std::size_t start = 0;
    while (start < data.size() && (data[start] == '\r' || data[start] == '\n'))
        ++start;
    if (start > 16)
        return error(400, "too many empty lines before the request");

    std::vector<std::string_view> lines;
    std::optional<std::size_t> headEnd = splitHead(data, start, lines);
    if (!headEnd || *headEnd > limits.maxHeadBytes) {
        if (data.size() <= limits.maxHeadBytes && !headEnd)
            return {};
        // By where the request line ends, not by what has arrived: the status must not depend
        // on how the bytes were cut into reads.
        const std::size_t lineEnd = data.find('\n', start);
        const bool inRequestLine =
            lineEnd == std::string_view::npos || lineEnd >= limits.maxHeadBytes;
        return inRequestLine ? error(414, "request line too long")
                             : error(431, "request head larger than " +
                                              std::to_string(limits.maxHeadBytes) + " bytes");
    }
    if (lines.size() - 1 > limits.maxHeaders)
        return error(431, "more than " + std::to_string(limits.maxHeaders) + " header fields");

    ParseResult result;
    HttpRequest& req = result.request;
    if (auto e = parseRequestLine(lines.front(), req))
        return std::move(*e);
    for (std::size_t i = 1; i < lines.size(); ++i) {
        if (auto e = parseHeaderLine(lines[i], req))
            return std::move(*e);
    }

    std::size_t bodyLength = 0;
    if (auto e = checkFraming(req, limits, bodyLength))
        return std::move(*e);
    if (data.size() - *headEnd < bodyLength)
        return {};

    req.body = std::string(data.substr(*headEnd, bodyLength));
    result.state = State::Complete;
    result.consumed = *headEnd + bodyLength;
    return result;
}

} // namespace troupe::http
