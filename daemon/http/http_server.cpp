#include "http/http_server.h"

#include <array>
#include <future>

#include "core/log.h"

namespace troupe::http {

namespace {

using asio::ip::tcp;
using namespace std::chrono_literals;

constexpr std::size_t kReadChunk = 4096;
constexpr std::size_t kMaxLingerBytes = 64 * 1024;
constexpr std::chrono::milliseconds kLingerTimeout = 1000ms;

std::shared_ptr<spdlog::logger> logger() {
    static auto l = log::get("http");
    return l;
}

// The answer to a connection the server cannot take (net::Acceptor::refuse).
constexpr std::string_view kBusyResponse = "HTTP/1.1 503 Service Unavailable\r\n"
                                           "Content-Type: text/plain\r\n"
                                           "Content-Length: 5\r\n"
                                           "Retry-After: 1\r\n"
                                           "Connection: close\r\n\r\n"
                                           "busy\n";

net::AcceptorOptions acceptorOptions(const HttpServerOptions& options) {
    net::AcceptorOptions accept;
    accept.what = "HTTP";
    accept.metric = "http";
    accept.address = options.address;
    accept.port = options.port;
    accept.refusal = std::string(kBusyResponse);
    return accept;
}

} // namespace

// One connection. Shared ownership between the server's session set and the pending
// asynchronous operations; everything runs on the server's strand. Once m_phase is Closed the
// session no longer touches the server, so handlers that run late are harmless.
class HttpServer::Session : public std::enable_shared_from_this<Session> {
public:
    Session(HttpServer& server, tcp::socket socket)
        : m_server(server), m_socket(std::move(socket)), m_timer(server.m_strand) {}

    void start() { process(); }

    // The server is stopping: fail a request still being received, let a response being
    // written finish, close an idle or lingering connection.
    void stop() {
        if (m_phase == Phase::Reading || m_phase == Phase::Lingering)
            close();
    }

    // Waiting for (the rest of) a request since waitingSince(): may be evicted at the cap.
    bool waiting() const { return m_phase == Phase::Reading || m_phase == Phase::Lingering; }
    std::chrono::steady_clock::time_point waitingSince() const { return m_since; }

    void close() {
        if (m_phase == Phase::Closed)
            return;
        m_phase = Phase::Closed;
        asio::error_code ignored;
        m_socket.shutdown(tcp::socket::shutdown_both, ignored);
        m_socket.close(ignored);
        m_timer.cancel();
        m_server.sessionClosed(this);
    }

private:
    enum class Phase { Reading, Writing, Lingering, Closed };

    void process() {
        if (m_phase == Phase::Closed)
            return;
        m_phase = Phase::Reading;
        ParseResult parsed = parseRequest(m_in, m_server.m_options.limits);
        switch (parsed.state) {
        case ParseResult::State::NeedMore:
            if (m_server.m_stopping) {
                close();
                return;
            }
            if (!m_requestStarted) {
                m_since = std::chrono::steady_clock::now();
                if (m_in.empty() && m_served > 0) { // keep-alive: waiting for the next request
                    armTimer(m_server.m_options.idleTimeout);
                } else { // the first request is due from the accept: no silent connections
                    m_requestStarted = true;
                    armTimer(m_server.m_options.requestTimeout);
                }
            }
            read();
            return;
        case ParseResult::State::Error:
            logger()->debug("bad request from {}: {} {}", peer(), parsed.errorStatus,
                            parsed.errorMessage);
            respond(HttpResponse::text(parsed.errorStatus, parsed.errorMessage + "\n"), false,
                    false);
            return;
        case ParseResult::State::Complete:
            break;
        }
        m_in.erase(0, parsed.consumed);
        m_requestStarted = false;
        ++m_served;
        const HttpRequest& request = parsed.request;
        HttpResponse response;
        try {
            response = m_server.m_handler(request);
        } catch (const std::exception& e) {
            logger()->error("handler failed for {} {}: {}", request.method, request.target,
                            e.what());
            response = HttpResponse::text(500, "internal error\n");
        }
        bool keepAlive = request.keepAlive && !m_server.m_stopping;
        respond(std::move(response), keepAlive, request.method == "HEAD");
    }

    void read() {
        m_socket.async_read_some(
            asio::buffer(m_chunk),
            [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                self->onRead(ec, n);
            });
    }

    void onRead(const asio::error_code& ec, std::size_t n) {
        if (m_phase == Phase::Closed)
            return;
        if (ec) {
            close(); // EOF, reset, or the timer closed the socket
            return;
        }
        m_in.append(m_chunk.data(), n);
        process();
    }

    void respond(HttpResponse response, bool keepAlive, bool headOnly) {
        m_phase = Phase::Writing;
        m_keepAlive = keepAlive;
        m_out = serializeResponse(response, keepAlive, headOnly);
        armTimer(m_server.m_options.writeTimeout);
        asio::async_write(m_socket, asio::buffer(m_out),
                          [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                              self->onWrite(ec);
                          });
    }

    void onWrite(const asio::error_code& ec) {
        if (m_phase == Phase::Closed)
            return;
        if (ec) {
            close();
            return;
        }
        m_out.clear();
        if (m_keepAlive && !m_server.m_stopping) {
            process(); // the next (possibly pipelined) request
            return;
        }
        linger();
    }

    // Half-close and discard what the client still sends, briefly, so that unread input does
    // not turn our close into a reset that destroys the response in flight.
    void linger() {
        if (m_server.m_stopping) {
            close();
            return;
        }
        m_phase = Phase::Lingering;
        asio::error_code ignored;
        m_socket.shutdown(tcp::socket::shutdown_send, ignored);
        m_lingered = 0;
        armTimer(kLingerTimeout);
        discard();
    }

    void discard() {
        m_socket.async_read_some(
            asio::buffer(m_chunk),
            [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                if (self->m_phase == Phase::Closed)
                    return;
                self->m_lingered += n;
                if (ec || self->m_lingered > kMaxLingerBytes)
                    self->close();
                else
                    self->discard();
            });
    }

    void armTimer(std::chrono::milliseconds timeout) {
        m_timer.expires_after(timeout);
        m_timer.async_wait([self = shared_from_this()](const asio::error_code& ec) {
            if (ec || self->m_phase == Phase::Closed)
                return; // cancelled or re-armed
            logger()->debug("closing connection from {}: timeout", self->peer());
            self->close();
        });
    }

    std::string peer() const {
        asio::error_code ec;
        auto endpoint = m_socket.remote_endpoint(ec);
        if (ec)
            return "?";
        return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    }

    HttpServer& m_server;
    tcp::socket m_socket;
    asio::steady_timer m_timer;
    std::array<char, kReadChunk> m_chunk{};
    std::string m_in;  // received, not yet consumed
    std::string m_out; // response being written
    Phase m_phase = Phase::Reading;
    bool m_requestStarted = false; // a request is due; request timer armed
    std::size_t m_served = 0;      // requests answered
    std::chrono::steady_clock::time_point m_since = std::chrono::steady_clock::now();
    bool m_keepAlive = true;
    std::size_t m_lingered = 0;
};

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, Handler handler)
    : m_options(std::move(options)), m_handler(std::move(handler)), m_strand(asio::make_strand(io)),
      m_acceptor(m_strand, acceptorOptions(m_options),
                 [this](tcp::socket socket) { onAccepted(std::move(socket)); }),
      m_drainTimer(m_strand) {}

HttpServer::~HttpServer() = default;

Status HttpServer::start() {
    TROUPE_RETURN_IF_ERROR(m_acceptor.open());
    m_port = m_acceptor.port();
    m_acceptor.start();
    return Status::ok();
}

// On the strand, for each accepted connection.
void HttpServer::onAccepted(tcp::socket socket) {
    if (m_stopping) {
        asio::error_code ignored;
        socket.close(ignored);
        return;
    }
    if (m_sessions.size() >= m_options.maxConnections && !evictOneWaiting()) {
        logger()->warn("refusing a connection with 503: {} connections open, all busy",
                       m_sessions.size());
        m_acceptor.refuse(socket);
        return;
    }
    auto session = std::make_shared<Session>(*this, std::move(socket));
    m_sessions.insert(session);
    m_count = m_sessions.size();
    session->start();
}

// At the cap: closes the session that has waited longest for a request. false when every
// session is writing a response.
bool HttpServer::evictOneWaiting() {
    Session* oldest = nullptr;
    for (const auto& session : m_sessions)
        if (session->waiting() && (!oldest || session->waitingSince() < oldest->waitingSince()))
            oldest = session.get();
    if (!oldest)
        return false;
    logger()->debug("{} connections open: closing the one waiting longest for a request",
                    m_sessions.size());
    oldest->close();
    return true;
}

void HttpServer::sessionClosed(Session* session) {
    for (auto it = m_sessions.begin(); it != m_sessions.end(); ++it) {
        if (it->get() == session) {
            m_sessions.erase(it);
            break;
        }
    }
    m_count = m_sessions.size();
    checkStopped();
}

void HttpServer::stopAndWait() {
    std::call_once(m_stopOnce, [this] {
        std::promise<void> stopped;
        asio::post(m_strand, [this, &stopped] { beginStop([&stopped] { stopped.set_value(); }); });
        stopped.get_future().wait();
    });
}

void HttpServer::beginStop(std::function<void()> done) {
    m_stopping = true;
    m_stopped = std::move(done);
    m_acceptor.close([this] { checkStopped(); });
    // Copy: stop() may close the session, which erases it from m_sessions.
    auto sessions = m_sessions;
    for (const auto& session : sessions)
        session->stop();
    if (!m_sessions.empty()) {
        m_drainPending = true;
        m_drainTimer.expires_after(m_options.drainTimeout);
        m_drainTimer.async_wait([this](const asio::error_code& ec) {
            m_drainPending = false;
            if (!ec) {
                logger()->warn("closing {} connections still busy after {} ms", m_sessions.size(),
                               m_options.drainTimeout.count());
                auto left = m_sessions;
                for (const auto& session : left)
                    session->close();
            }
            checkStopped();
        });
    }
    checkStopped();
}

void HttpServer::checkStopped() {
    if (!m_stopping || !m_stopped)
        return;
    if (m_sessions.empty() && m_drainPending) {
        m_drainTimer.cancel();
        return; // its handler calls checkStopped() again
    }
    if (m_sessions.empty() && !m_acceptor.pending() && !m_drainPending) {
        // Posted: the caller of stopAndWait() may destroy us as soon as `done` runs, so it must
        // run after the handler we are in has finished touching this object.
        asio::post(m_strand, std::move(m_stopped));
        m_stopped = nullptr;
    }
}

} // namespace troupe::http
