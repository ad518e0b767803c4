#pragma once

// net::Acceptor: the one accept loop of every TroupeDB listener — the thread-per-connection
// ones (MySQL, Thrift, through net::ConnectionListener) and the asynchronous HTTP server alike.
// It binds and listens, accepts forever and hands each socket to its owner; what it adds to a
// bare asio acceptor is that it never stops accepting (resources/docs/security.md,
// "connections"):
//
//  - a failed accept is counted (troupe_<protocol>_accept_errors_total in /metrics), logged at
//    most once a second, and retried after a short back-off (net::AcceptBackoff, 10 ms doubling
//    to 100 ms); it never ends the loop;
//  - a spare descriptor is held from open(): when the process is out of descriptors (EMFILE,
//    ENFILE) the acceptor closes the spare, accepts the waiting connection with it, sends the
//    protocol's refusal (a MySQL error packet, an HTTP 503; nothing for Thrift), closes it and
//    takes the spare again — so a client is told at once instead of hanging in the backlog
//    (counted in troupe_<protocol>_connections_refused_total).
//
// Ownership and threads: owned by the listener (ConnectionListener, HttpServer). open() runs on
// the owner's thread before start(); everything else — the accept handlers, the back-off timer,
// close() — on the executor given at construction (an io_context on one thread, or a strand).
// The owner keeps the Acceptor alive until pending() is false after close(); the `idle` callback
// of close() says when.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <asio.hpp>

#include "core/metrics.h"
#include "core/status.h"
#include "net/accept_backoff.h"

namespace troupe::net {

struct AcceptorOptions {
    std::string what;   // the protocol, in errors and logs: "MySQL", "Thrift", "HTTP"
    std::string metric; // metric name stem: "mysql" -> troupe_mysql_accept_errors_total
    std::string address;
    std::uint16_t port = 0; // 0: any free port
    // Sent to a connection accepted only to be refused (out of descriptors or threads), with
    // one non-blocking write; empty: just closed.
    std::string refusal;
    std::chrono::milliseconds firstBackoff{10};
    std::chrono::milliseconds longestBackoff{100};
    std::chrono::milliseconds logEvery{1000};
    bool keepSpare = true; // hold a spare descriptor for refusing when out of them
};

class Acceptor {
public:
    using Accepted = std::function<void(asio::ip::tcp::socket socket)>;

    // `metrics`: where the counters go (MetricsRegistry::global() in the daemon).
    Acceptor(asio::any_io_executor executor, AcceptorOptions options, Accepted accepted,
             MetricsRegistry& metrics = MetricsRegistry::global());
    Acceptor(const Acceptor&) = delete;
    Acceptor& operator=(const Acceptor&) = delete;

    // Binds and listens (port 0: any free port); IoError naming the address when it cannot,
    // InvalidArgument for a bad address. The owner's thread, before start().
    Status open();
    // Starts the accept loop (posted to the executor).
    void start();
    // Stops accepting: closes the listening socket and the spare, cancels the back-off. On the
    // executor. `idle` runs there once no handler of this Acceptor is pending any more (at once
    // if none is).
    void close(std::function<void()> idle = {});
    // An accept or a back-off wait is outstanding (on the executor).
    bool pending() const { return m_acceptPending || m_timerPending; }

    std::uint16_t port() const { return m_port; }

    // Sends the refusal (best effort, without blocking) and closes `socket`: for a connection
    // the owner accepted but cannot serve (no thread could be started for it). Any thread.
    void refuse(asio::ip::tcp::socket& socket);

private:
    void acceptNext();
    void onAccept(const asio::error_code& error, asio::ip::tcp::socket socket);
    void onFailure(const asio::error_code& error);
    bool refuseOneWithSpare();
    void takeSpare();
    void checkIdle();

    asio::any_io_executor m_executor;
    AcceptorOptions m_options;
    Accepted m_accepted;
    asio::ip::tcp::acceptor m_acceptor;
    asio::steady_timer m_timer;
    asio::ip::udp::socket m_spare; // an unbound socket: one descriptor, held in reserve
    AcceptBackoff m_backoff;
    Counter& m_failures;
    Counter& m_refused;
    std::uint16_t m_port = 0;
    bool m_acceptPending = false;
    bool m_timerPending = false;
    bool m_closed = false;
    std::function<void()> m_idle;
};

} // namespace troupe::net
