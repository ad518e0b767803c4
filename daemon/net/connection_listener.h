#pragma once

// ConnectionListener: a blocking, thread-per-connection server's listener (the MySQL and the
// Thrift server). It accepts on one address with net::Acceptor (the accept loop shared with the
// HTTP server: it never stops accepting, see acceptor.h) and runs the owner's handler for each
// connection on a thread of its own, with a blocking socket: a slow request holds only its own
// connection's thread. A connection for which no thread can be started gets the refusal and is
// closed; the listener goes on. stop() closes the acceptor, shuts every open
// socket down (which wakes a read blocked in a handler) and waits until every handler returned.
//
// Deadlines: a handler arms its connection's deadline before it waits for the client
// (Connection::expectWithin); the accept thread checks the deadlines every tick and shuts the
// receiving side of a late connection down, which wakes the handler's blocked read with an end
// of stream; Connection::timedOut() then tells it why.
//
// Threads: start()/stop() from the owner's thread; the accept loop and the deadline checks on a
// thread of its own; each handler on its connection's (detached) thread. The handler must return
// soon after its socket is shut down.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <asio.hpp>

#include "core/status.h"
#include "net/acceptor.h"

namespace troupe::net {

class ConnectionListener {
public:
    // One accepted connection, handed to the handler on its own thread.
    class Connection {
    public:
        Connection(asio::ip::tcp::socket s, std::uint64_t id);
        asio::ip::tcp::socket& socket() { return m_socket; }
        std::uint64_t id() const { return m_id; }
        // The client must send something within `limit` (0: no limit) or the connection is
        // shut down. Call again (or with 0) once it has.
        void expectWithin(std::chrono::milliseconds limit);
        bool timedOut() const { return m_timedOut.load(); }
        // Shuts the socket down from any thread (KILL, stop()): the handler's blocked read
        // ends with an end of stream.
        void shutdown();

    private:
        friend class ConnectionListener;
        void shutdownIfLate(std::int64_t now);

        asio::ip::tcp::socket m_socket;
        std::uint64_t m_id;
        std::atomic<std::int64_t> m_deadline{0}; // steady_clock ticks; 0: none
        std::atomic<bool> m_timedOut{false};
    };

    // `refused`: the connection is over max connections; the handler should answer with an
    // error if the protocol has one, then return.
    using Handler = std::function<void(Connection& connection, bool refused)>;

    // `what` names the protocol in errors and logs ("Thrift"), `metric` in metric names
    // ("thrift"); `refusal` is what a connection that cannot be served at all (out of
    // descriptors or threads) is sent before it is closed (see AcceptorOptions).
    ConnectionListener(std::string what, std::string metric, Handler handler,
                       std::string refusal = {});
    ~ConnectionListener(); // stop()
    ConnectionListener(const ConnectionListener&) = delete;
    ConnectionListener& operator=(const ConnectionListener&) = delete;

    // Binds (port 0: any free port) and starts accepting. IoError naming the address when the
    // port is taken. Deadlines are checked every `tick`.
    Status start(const std::string& address, std::uint16_t port, std::size_t maxConnections,
                 std::chrono::milliseconds tick = std::chrono::milliseconds(1000));
    void stop();

    std::uint16_t port() const { return m_port; }
    std::size_t connections() const { return m_active.load(); }

private:
    void checkDeadlines();
    void serve(asio::ip::tcp::socket socket);
    void connectionEnded();

    std::string m_what;
    std::string m_metric;
    Handler m_handler;
    std::string m_refusal;
    std::size_t m_maxConnections = 0;
    asio::io_context m_io;
    std::unique_ptr<Acceptor> m_acceptor; // used on m_thread
    asio::steady_timer m_timer{m_io};
    std::chrono::milliseconds m_tick{1000};
    std::thread m_thread;
    std::uint16_t m_port = 0;
    std::atomic<std::uint64_t> m_nextId{0};
    std::atomic<std::size_t> m_active{0};
    std::atomic<bool> m_started{false};
    std::atomic<bool> m_stopping{false};
    // Paces the "refused over max connections" log line (on m_thread): a flood cannot flood
    // the log.
    AcceptBackoff m_overCapLog{std::chrono::milliseconds(10), std::chrono::milliseconds(100),
                               std::chrono::milliseconds(1000)};

    std::mutex m_mutex; // guards m_open; m_done is notified when a connection ends
    std::condition_variable m_done;
    std::list<std::weak_ptr<Connection>> m_open;
};

} // namespace troupe::net
