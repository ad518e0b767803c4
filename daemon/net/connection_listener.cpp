#include "net/connection_listener.h"

#include <algorithm>

namespace troupe::net {

namespace {

std::int64_t ticks(std::chrono::steady_clock::time_point t) {
    return std::int64_t(t.time_since_epoch().count());
}

} // namespace

ConnectionListener::Connection::Connection(asio::ip::tcp::socket s, std::uint64_t id)
    : m_socket(std::move(s)), m_id(id) {}

void ConnectionListener::Connection::expectWithin(std::chrono::milliseconds limit) {
    m_deadline = limit.count() > 0 ? ticks(std::chrono::steady_clock::now() + limit) : 0;
}

// From stop() or the accept thread; the connection's thread keeps using the socket, whose
// reads then end.
void ConnectionListener::Connection::shutdown() {
    asio::error_code ec;
    m_socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
}

void ConnectionListener::Connection::shutdownIfLate(std::int64_t now) {
    const std::int64_t deadline = m_deadline.load();
    if (deadline == 0 || now < deadline || m_timedOut.exchange(true))
        return;
    asio::error_code ec;
    m_socket.shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
}

ConnectionListener::ConnectionListener(std::string what, Handler handler)
    : m_what(std::move(what)), m_handler(std::move(handler)) {}

ConnectionListener::~ConnectionListener() {
    stop();
}

Status ConnectionListener::start(const std::string& address, std::uint16_t port,
                                 std::size_t maxConnections, std::chrono::milliseconds tick) {
    m_maxConnections = maxConnections;
    m_tick = std::max(tick, std::chrono::milliseconds(10));
    asio::error_code ec;
    const asio::ip::address ip = asio::ip::make_address(address, ec);
    if (ec)
        return Status(ErrorCode::InvalidArgument,
                      "bad listen address for " + m_what + ": '" + address + "'");
    const asio::ip::tcp::endpoint endpoint(ip, port);
    const std::string where = address + ":" + std::to_string(port);
    m_acceptor.open(endpoint.protocol(), ec);
    if (!ec)
        m_acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec)
        m_acceptor.bind(endpoint, ec);
    if (!ec)
        m_acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return Status(ErrorCode::IoError,
                      "cannot listen for " + m_what + " on " + where + ": " + ec.message());
    m_port = m_acceptor.local_endpoint().port();
    acceptNext();
    checkDeadlines();
    m_started = true;
    m_thread = std::thread([this] { m_io.run(); });
    return Status::ok();
}

void ConnectionListener::acceptNext() {
    m_acceptor.async_accept([this](const asio::error_code& error, asio::ip::tcp::socket socket) {
        if (error || m_stopping)
            return;
        asio::error_code ignored;
        socket.set_option(asio::ip::tcp::no_delay(true), ignored);
        serve(std::move(socket));
        acceptNext();
    });
}

void ConnectionListener::checkDeadlines() {
    if (m_stopping)
        return;
    {
        const std::int64_t now = ticks(std::chrono::steady_clock::now());
        std::lock_guard lock(m_mutex);
        for (auto& weak : m_open)
            if (auto c = weak.lock())
                c->shutdownIfLate(now);
    }
    m_timer.expires_after(m_tick);
    m_timer.async_wait([this](const asio::error_code& error) {
        if (!error)
            checkDeadlines();
    });
}

void ConnectionListener::serve(asio::ip::tcp::socket socket) {
    auto open = std::make_shared<Connection>(std::move(socket), ++m_nextId);
    bool refused = false;
    {
        std::lock_guard lock(m_mutex);
        refused = m_active.load() >= m_maxConnections;
        ++m_active;
        m_open.remove_if([](const std::weak_ptr<Connection>& w) { return w.expired(); });
        m_open.push_back(open);
    }
    std::thread([this, open, refused]() mutable {
        m_handler(*open, refused);
        open->shutdown();
        open.reset(); // the socket closes before the count drops: stop() may return then
        std::lock_guard lock(m_mutex);
        --m_active;
        m_done.notify_all();
    }).detach();
}

void ConnectionListener::stop() {
    if (!m_started || m_stopping.exchange(true))
        return;
    asio::post(m_io, [this] {
        asio::error_code ec;
        m_acceptor.close(ec);
        m_timer.cancel();
    });
    if (m_thread.joinable())
        m_thread.join();
    std::unique_lock lock(m_mutex);
    for (auto& weak : m_open)
        if (auto open = weak.lock())
            open->shutdown();
    m_done.wait(lock, [this] { return m_active.load() == 0; });
    m_open.clear();
}

} // namespace troupe::net
