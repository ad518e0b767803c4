#pragma once

// ConnectionListener: the accept loop of a blocking, thread-per-connection server (the Thrift
// server; the MySQL server follows the same pattern). It accepts on one address and runs the
// owner's handler for each connection on a thread of its own, with a blocking socket: a slow
// request holds only its own connection's thread. stop() closes the acceptor, shuts every open
// socket down (which wakes a read blocked in a handler) and waits until every handler returned.
//
// Threads: start()/stop() from the owner's thread; the accept loop on a thread of its own; each
// handler on its connection's (detached) thread. The handler must return soon after its socket
// is shut down.

#include <atomic>
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

namespace troupe::net {

class ConnectionListener {
public:
    // `refused`: the connection is over max connections; the handler should answer with an
    // error if the protocol has one, then return.
    using Handler =
        std::function<void(asio::ip::tcp::socket& socket, std::uint64_t id, bool refused)>;

    // `what` names the protocol in errors and logs ("Thrift").
    ConnectionListener(std::string what, Handler handler);
    ~ConnectionListener(); // stop()
    ConnectionListener(const ConnectionListener&) = delete;
    ConnectionListener& operator=(const ConnectionListener&) = delete;

    // Binds (port 0: any free port) and starts accepting. IoError naming the address when the
    // port is taken.
    Status start(const std::string& address, std::uint16_t port, std::size_t maxConnections);
    void stop();

    std::uint16_t port() const { return m_port; }
    std::size_t connections() const { return m_active.load(); }

private:
    struct Open;
    void acceptNext();
    void serve(asio::ip::tcp::socket socket);

    std::string m_what;
    Handler m_handler;
    std::size_t m_maxConnections = 0;
    asio::io_context m_io;
    asio::ip::tcp::acceptor m_acceptor{m_io};
    std::thread m_thread;
    std::uint16_t m_port = 0;
    std::atomic<std::uint64_t> m_nextId{0};
    std::atomic<std::size_t> m_active{0};
    std::atomic<bool> m_started{false};
    std::atomic<bool> m_stopping{false};

    std::mutex m_mutex; // guards m_open; m_done is notified when a connection ends
    std::condition_variable m_done;
    std::list<std::weak_ptr<Open>> m_open;
};

} // namespace troupe::net
