#include "net/acceptor.h"

#include "core/log.h"

namespace troupe::net {

namespace {

using asio::ip::tcp;

std::shared_ptr<spdlog::logger> logger() {
    static auto l = log::get("net");
    return l;
}

// The process (EMFILE) or the system (ENFILE) has no descriptor left for the new socket: the
// connection stays in the backlog until one is freed, which the spare descriptor does.
bool outOfDescriptors(const asio::error_code& error) {
    return error == asio::error::no_descriptors ||
           error == std::errc::too_many_files_open_in_system;
}

} // namespace

Acceptor::Acceptor(asio::any_io_executor executor, AcceptorOptions options, Accepted accepted,
                   MetricsRegistry& metrics)
    : m_executor(executor), m_options(std::move(options)), m_accepted(std::move(accepted)),
      m_acceptor(executor), m_timer(executor), m_spare(executor),
      m_backoff(m_options.firstBackoff, m_options.longestBackoff, m_options.logEvery),
      m_failures(metrics.counter("troupe_" + m_options.metric + "_accept_errors_total",
                                 "Failed accepts on the " + m_options.what +
                                     " port (out of descriptors, ...); the listener retries")),
      m_refused(metrics.counter("troupe_" + m_options.metric + "_connections_refused_total",
                                "Connections to the " + m_options.what +
                                    " port accepted only to be refused (out of descriptors or "
                                    "threads)")) {}

Status Acceptor::open() {
    asio::error_code ec;
    const asio::ip::address ip = asio::ip::make_address(m_options.address, ec);
    if (ec)
        return Status(ErrorCode::InvalidArgument,
                      "bad listen address for " + m_options.what + ": '" + m_options.address + "'");
    const tcp::endpoint endpoint(ip, m_options.port);
    const std::string where = m_options.address + ":" + std::to_string(m_options.port);
    m_acceptor.open(endpoint.protocol(), ec);
    // SO_REUSEADDR only on POSIX, where it allows rebinding over TIME_WAIT; on Windows it would
    // let two servers share the port.
#ifndef _WIN32
    if (!ec)
        m_acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
#endif
    if (!ec)
        m_acceptor.bind(endpoint, ec);
    if (!ec)
        m_acceptor.listen(asio::socket_base::max_listen_connections, ec);
    // Non-blocking, so that the synchronous accept of refuseOneWithSpare() never waits.
    if (!ec)
        m_acceptor.non_blocking(true, ec);
    if (ec) {
        asio::error_code ignored;
        m_acceptor.close(ignored);
        return Status(ErrorCode::IoError,
                      "cannot listen on " + where + " (" + m_options.what + "): " + ec.message());
    }
    m_port = m_acceptor.local_endpoint(ec).port();
    takeSpare();
    return Status::ok();
}

void Acceptor::start() {
    asio::post(m_executor, [this] { acceptNext(); });
}

void Acceptor::acceptNext() {
    if (m_closed)
        return checkIdle();
    m_acceptPending = true;
    m_acceptor.async_accept(m_executor, [this](const asio::error_code& error, tcp::socket socket) {
        onAccept(error, std::move(socket));
    });
}

void Acceptor::onAccept(const asio::error_code& error, tcp::socket socket) {
    m_acceptPending = false;
    if (m_closed) {
        asio::error_code ignored;
        socket.close(ignored);
        return checkIdle();
    }
    if (error) {
        onFailure(error);
        return;
    }
    m_backoff.succeeded();
    asio::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    m_accepted(std::move(socket));
    acceptNext();
}

// Counts and (rate-limited) logs the failure; refuses the waiting client with the spare when
// out of descriptors and goes on at once, else waits the back-off and tries again.
void Acceptor::onFailure(const asio::error_code& error) {
    m_failures.add();
    std::uint64_t failures = 0;
    if (m_backoff.shouldLog(std::chrono::steady_clock::now(), failures))
        logger()->warn("{} listener: accept failed: {} ({} failure{} since the last line); "
                       "still accepting",
                       m_options.what, error.message(), failures, failures == 1 ? "" : "s");
    if (outOfDescriptors(error) && refuseOneWithSpare()) {
        acceptNext();
        return;
    }
    m_timerPending = true;
    m_timer.expires_after(m_backoff.failed());
    m_timer.async_wait([this](const asio::error_code&) {
        m_timerPending = false;
        acceptNext();
    });
}

// Frees the spare descriptor, accepts the waiting connection with it and refuses it, then
// takes the spare again. false when there was no spare or nothing could be accepted.
bool Acceptor::refuseOneWithSpare() {
    if (!m_spare.is_open())
        return false;
    asio::error_code ec;
    m_spare.close(ec);
    tcp::socket socket(m_executor);
    m_acceptor.accept(socket, ec);
    const bool refused = !ec;
    if (refused)
        refuse(socket);
    takeSpare();
    return refused;
}

void Acceptor::takeSpare() {
    if (!m_options.keepSpare || m_spare.is_open())
        return;
    asio::error_code ec;
    m_spare.open(asio::ip::udp::v4(), ec); // fails while out of descriptors; retried next time
}

void Acceptor::refuse(tcp::socket& socket) {
    asio::error_code ec;
    socket.non_blocking(true, ec);
    // Read what the client already sent (an HTTP request): closing with unread input would
    // reset the connection and could destroy the refusal in flight.
    char discard[4096];
    socket.read_some(asio::buffer(discard), ec);
    if (!m_options.refusal.empty())
        socket.write_some(asio::buffer(m_options.refusal), ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    m_refused.add();
}

void Acceptor::close(std::function<void()> idle) {
    m_closed = true;
    m_idle = std::move(idle);
    asio::error_code ignored;
    m_acceptor.close(ignored);
    m_spare.close(ignored);
    m_timer.cancel();
    checkIdle();
}

void Acceptor::checkIdle() {
    if (!m_closed || pending() || !m_idle)
        return;
    auto idle = std::move(m_idle);
    m_idle = nullptr;
    idle();
}

} // namespace troupe::net
