#include "net/connection_listener.h"

#include <algorithm>
#include <system_error>

#include "core/log.h"

namespace troupe::net {

namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = log::get("net");
    return l;
}

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

ConnectionListener::ConnectionListener(std::string what, std::string metric, Handler handler,
                                       std::string refusal)
    : m_what(std::move(what)), m_metric(std::move(metric)), m_handler(std::move(handler)),
      m_refusal(std::move(refusal)) {}

ConnectionListener::~ConnectionListener() {
    stop();
}

Status ConnectionListener::start(const std::string& address, std::uint16_t port,
                                 std::size_t maxConnections, std::chrono::milliseconds tick) {
    m_maxConnections = maxConnections;
    m_tick = std::max(tick, std::chrono::milliseconds(10));
    AcceptorOptions options;
    options.what = m_what;
    options.metric = m_metric;
    options.address = address;
    options.port = port;
    options.refusal = m_refusal;
    m_acceptor = std::make_unique<Acceptor>(
        m_io.get_executor(), std::move(options),
        [this](asio::ip::tcp::socket socket) { serve(std::move(socket)); });
    TROUPE_RETURN_IF_ERROR(m_acceptor->open());
    m_port = m_acceptor->port();
    m_acceptor->start();
    checkDeadlines();
    m_started = true;
    m_thread = std::thread([this] { m_io.run(); });
    return Status::ok();
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
    std::uint64_t refusals = 0;
    if (refused && m_overCapLog.shouldLog(std::chrono::steady_clock::now(), refusals))
        logger()->warn("{} listener: {} connection{} refused since the last line: {} open, the "
                       "most allowed",
                       m_what, refusals, refusals == 1 ? "" : "s", m_maxConnections);
    try {
        std::thread([this, open, refused]() mutable {
            m_handler(*open, refused);
            open->shutdown();
            open.reset(); // the socket closes before the count drops: stop() may return then
            connectionEnded();
        }).detach();
    } catch (const std::system_error& e) {
        // Out of threads (or of memory for one): refuse this client, keep accepting.
        logger()->warn("{} listener: cannot start a thread for a connection: {}", m_what, e.what());
        m_acceptor->refuse(open->socket());
        open.reset();
        connectionEnded();
    }
}

void ConnectionListener::connectionEnded() {
    std::lock_guard lock(m_mutex);
    --m_active;
    m_done.notify_all();
}

void ConnectionListener::stop() {
    if (!m_started || m_stopping.exchange(true))
        return;
    asio::post(m_io, [this] {
        m_acceptor->close();
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
