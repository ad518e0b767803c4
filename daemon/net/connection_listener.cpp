#include "net/connection_listener.h"

namespace troupe::net {

// One accepted connection, shared by its thread (which owns the socket's use) and stop(), which
// only shuts it down.
struct ConnectionListener::Open {
    explicit Open(asio::ip::tcp::socket s) : socket(std::move(s)) {}
    void shutdown() {
        asio::error_code ec;
        socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    }
    asio::ip::tcp::socket socket;
};

ConnectionListener::ConnectionListener(std::string what, Handler handler)
    : m_what(std::move(what)), m_handler(std::move(handler)) {}

ConnectionListener::~ConnectionListener() {
    stop();
}

Status ConnectionListener::start(const std::string& address, std::uint16_t port,
                                 std::size_t maxConnections) {
    m_maxConnections = maxConnections;
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

void ConnectionListener::serve(asio::ip::tcp::socket socket) {
    auto open = std::make_shared<Open>(std::move(socket));
    bool refused = false;
    {
        std::lock_guard lock(m_mutex);
        refused = m_active.load() >= m_maxConnections;
        ++m_active;
        m_open.remove_if([](const std::weak_ptr<Open>& w) { return w.expired(); });
        m_open.push_back(open);
    }
    const std::uint64_t id = ++m_nextId;
    std::thread([this, open, id, refused]() mutable {
        m_handler(open->socket, id, refused);
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
