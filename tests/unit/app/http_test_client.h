#pragma once

// A tiny blocking HTTP/1.1 client for tests of the status server (unit and integration): raw
// bytes out, parsed responses in, every wait bounded by a timeout. Uses its own io_context on
// the calling thread; one client per test, one thread.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio.hpp>

namespace troupe::test {

struct ClientResponse {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    std::string header(std::string_view name) const {
        for (const auto& [key, value] : headers) {
            if (key.size() == name.size() &&
                std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
                    return std::tolower(static_cast<unsigned char>(a)) ==
                           std::tolower(static_cast<unsigned char>(b));
                }))
                return value;
        }
        return {};
    }
};

class HttpTestClient {
public:
    // Connects to 127.0.0.1:port; connected() tells whether it worked.
    explicit HttpTestClient(std::uint16_t port,
                            std::chrono::milliseconds timeout = std::chrono::seconds(5))
        : m_socket(m_io) {
        asio::error_code ec;
        bool done = false;
        m_socket.async_connect({asio::ip::make_address("127.0.0.1"), port},
                               [&](const asio::error_code& e) {
                                   ec = e;
                                   done = true;
                               });
        runUntil(done, timeout);
        m_connected = done && !ec;
    }

    bool connected() const { return m_connected; }

    bool send(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        asio::error_code ec;
        bool done = false;
        asio::async_write(m_socket, asio::buffer(bytes.data(), bytes.size()),
                          [&](const asio::error_code& e, std::size_t) {
                              ec = e;
                              done = true;
                          });
        runUntil(done, timeout);
        return done && !ec;
    }

    // Reads one response; for a HEAD request pass expectBody = false. nullopt on EOF, error or
    // timeout before a complete response.
    std::optional<ClientResponse>
    readResponse(bool expectBody = true,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            if (auto r = takeResponse(expectBody))
                return r;
            if (!readSome(deadline))
                return std::nullopt;
        }
    }

    // True once the server has closed the connection (EOF or reset) before the deadline;
    // discards any bytes received meanwhile.
    bool waitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (readSome(deadline)) {
        }
        return m_closed;
    }

    // GET path on a fresh connection; nullopt if anything fails.
    static std::optional<ClientResponse>
    get(std::uint16_t port, std::string_view path,
        std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        HttpTestClient client(port, timeout);
        if (!client.connected())
            return std::nullopt;
        std::string request = "GET " + std::string(path) +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        if (!client.send(request, timeout))
            return std::nullopt;
        return client.readResponse(true, timeout);
    }

private:
    void runUntil(bool& done, std::chrono::milliseconds timeout) {
        m_io.restart();
        m_io.run_for(timeout);
        if (!done) {
            asio::error_code ignored;
            m_socket.cancel(ignored);
            m_io.restart();
            m_io.run();
            done = false;
        }
    }

    // One read; false on EOF/error (m_closed) or when the deadline passes.
    bool readSome(std::chrono::steady_clock::time_point deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return false;
        char chunk[4096];
        asio::error_code ec;
        std::size_t n = 0;
        bool done = false;
        m_socket.async_read_some(asio::buffer(chunk),
                                 [&](const asio::error_code& e, std::size_t got) {
                                     ec = e;
                                     n = got;
                                     done = true;
                                 });
        runUntil(done, left);
        if (!done)
            return false;
        m_in.append(chunk, n);
        if (ec) {
            m_closed = true;
            return false;
        }
        return true;
    }

    std::optional<ClientResponse> takeResponse(bool expectBody) {
        std::size_t headEnd = m_in.find("\r\n\r\n");
        if (headEnd == std::string::npos)
            return std::nullopt;
        ClientResponse r;
        std::string_view head(m_in.data(), headEnd);
        std::size_t lineEnd = head.find("\r\n");
        std::string_view statusLine = head.substr(0, lineEnd);
        if (statusLine.size() < 12)
            return std::nullopt;
        r.status = std::atoi(std::string(statusLine.substr(9, 3)).c_str());
        std::size_t pos = lineEnd == std::string_view::npos ? head.size() : lineEnd + 2;
        while (pos < head.size()) {
            std::size_t end = head.find("\r\n", pos);
            if (end == std::string_view::npos)
                end = head.size();
            std::string_view line = head.substr(pos, end - pos);
            std::size_t colon = line.find(':');
            if (colon != std::string_view::npos) {
                std::string_view value = line.substr(colon + 1);
                while (!value.empty() && value.front() == ' ')
                    value.remove_prefix(1);
                r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
            }
            pos = end + 2;
        }
        std::size_t length = expectBody ? std::stoul("0" + r.header("Content-Length")) : 0;
        if (m_in.size() < headEnd + 4 + length)
            return std::nullopt;
        r.body = m_in.substr(headEnd + 4, length);
        m_in.erase(0, headEnd + 4 + length);
        return r;
    }

    asio::io_context m_io;
    asio::ip::tcp::socket m_socket;
    std::string m_in;
    bool m_connected = false;
    bool m_closed = false;
};

} // namespace troupe::test
