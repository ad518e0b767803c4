#pragma once

// HttpServer: a small HTTP/1.1 server on asio for the status endpoints (/health, /ready,
// /metrics). One net::Acceptor (the accept loop shared with the MySQL and Thrift listeners: it
// never stops accepting, see net/acceptor.h), one Session per connection; requests are parsed
// by parseRequest() and answered by a synchronous Handler, which must be quick (no disk, no
// blocking). Robustness over features: bounded request size, an idle timeout between requests,
// a deadline for each request (the first one from the moment the connection is accepted, so a
// client that sends nothing or dribbles its headers is closed after requestTimeout), a write
// timeout, a connection cap. At the cap a new connection evicts the session that has waited
// longest for a request (idle keep-alive or slow headers), so idle or slowloris connections
// cannot lock /health out; only when every session is busy writing is it answered 503. Any
// parse error is answered with its 4xx/5xx status and the connection is closed after a
// lingering read, so the client sees the answer rather than a reset.
//
// Ownership and threads: the owner creates the server on an io_context it runs (on one or more
// threads) and keeps it alive until stop() has completed. Every handler, timer and socket
// operation runs on the server's strand, so the Handler is never called concurrently.
// start() and stopAndWait() are called from the owner's thread, never from the io_context's.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include <asio.hpp>

#include "core/status.h"
#include "http/http_message.h"
#include "http/request_parser.h"
#include "net/acceptor.h"

namespace troupe::http {

struct HttpServerOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 33380; // 0 = any free port (see HttpServer::port())
    ParseLimits limits;
    std::chrono::milliseconds idleTimeout{30000}; // keep-alive wait for the next request
    // A complete request within this time: from its first byte, or for the first request of a
    // connection from the accept (the daemon sets network.handshake_timeout).
    std::chrono::milliseconds requestTimeout{10000};
    std::chrono::milliseconds writeTimeout{10000}; // one response
    std::chrono::milliseconds drainTimeout{5000};  // stop(): in-flight responses, then cut
    std::size_t maxConnections = 256;
};

class HttpServer {
public:
    using Handler = std::function<HttpResponse(const HttpRequest&)>;

    HttpServer(asio::io_context& io, HttpServerOptions options, Handler handler);
    ~HttpServer(); // must not run while sessions are alive: call stopAndWait() first
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and listens (synchronously, so "address in use" is reported here) and starts
    // accepting. Thread: the owner's, before or while the io_context runs.
    Status start();

    // The bound port (useful when options.port was 0); 0 before start().
    std::uint16_t port() const { return m_port; }
    std::string address() const { return m_options.address; }

    // Stops accepting, closes idle connections, lets responses being written finish (up to
    // drainTimeout), then closes everything. Blocks until all sessions are gone. Idempotent.
    // Must not be called from the io_context's threads; the io_context must be running.
    void stopAndWait();

    std::size_t connectionCount() const { return m_count.load(); } // for tests

private:
    class Session;
    friend class Session;

    void onAccepted(asio::ip::tcp::socket socket);
    bool evictOneWaiting();
    void beginStop(std::function<void()> done);
    void sessionClosed(Session* session);
    void checkStopped();

    HttpServerOptions m_options;
    Handler m_handler;
    asio::strand<asio::io_context::executor_type> m_strand;
    net::Acceptor m_acceptor;
    asio::steady_timer m_drainTimer;
    std::uint16_t m_port = 0;

    // Touched only on m_strand.
    std::unordered_set<std::shared_ptr<Session>> m_sessions;
    bool m_stopping = false;
    bool m_drainPending = false;     // a drain timer handler is outstanding
    std::function<void()> m_stopped; // called once nothing of ours is pending after stop

    std::atomic<std::size_t> m_count{0}; // m_sessions.size(), readable off the strand
    std::once_flag m_stopOnce;
};

} // namespace troupe::http
