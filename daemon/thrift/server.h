#pragma once

// ThriftServer: ActorDB's Thrift API (troupe.thrift, service Actordb) on network.thrift_port
// (33306). Binary protocol; framed and unframed transports on the same port, told apart per
// connection by the first bytes (transport.h); TLS on the same port too, when a certificate is
// configured (the same tls.cert_file/key_file as MySQL): a connection whose first byte is 0x16
// (a TLS handshake record; as a frame length it would be 370 MB, over any limit) is TLS, and
// the Thrift transport is detected again inside it.
//
// Each connection gets its own thread (net::ConnectionListener), its own ActordbHandler (the
// login state) and a Thrift processor. Bad input (not a Thrift client, an oversized frame, a
// truncated or malformed message) closes that connection with a log line naming the peer; an
// unknown method gets a TApplicationException and the connection lives on. The server keeps
// serving either way. A connection that sends nothing (or no TLS handshake) within the connect
// timeout is closed, and so is one idle past the idle timeout, when there is one.
//
// Threads: start()/stop() from the owner's thread; the listener's threads otherwise.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <asio.hpp>

#include "core/status.h"
#include "net/connection_listener.h"
#include "sql/database.h"
#include "thrift/handler.h"

namespace asio::ssl {
class context;
}

namespace troupe::thrift {

class ByteStream;

struct ThriftServerOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 33306;         // 0: any free port (tests)
    std::size_t maxConnections = 1000;  // more are closed at once, with a log line
    std::size_t maxMessage = 16u << 20; // the largest request message (frame) accepted
    std::string tlsCertFile;            // PEM; with tlsKeyFile, clients may connect with TLS
    std::string tlsKeyFile;
    // A connection must send its first byte, and finish the TLS handshake, within this time.
    std::chrono::milliseconds connectTimeout{std::chrono::seconds(10)};
    // A connection waiting this long for its next call is closed; 0: never (ActorDB's default).
    std::chrono::milliseconds idleTimeout{0};
    // For admin_cluster_info and admin_metrics; the Thrift port is added by the server.
    ServerFacts facts;
};

class ThriftServer {
public:
    ThriftServer(sql::Database& db, ThriftServerOptions options);
    ~ThriftServer(); // stop()
    ThriftServer(const ThriftServer&) = delete;
    ThriftServer& operator=(const ThriftServer&) = delete;

    // Loads the TLS certificate (InvalidArgument naming the file when it cannot), binds and
    // starts accepting (IoError naming the address when the port is taken).
    Status start();
    // Stops accepting, closes every connection (a call in progress finishes first), joins.
    void stop();

    std::uint16_t port() const;
    bool tls() const { return m_tls != nullptr; }
    std::size_t connections() const;

private:
    void serve(net::ConnectionListener::Connection& connection, bool refused);
    void run(net::ConnectionListener::Connection& connection, ByteStream& stream,
             const std::string& peer, bool tls);

    sql::Database& m_db;
    ThriftServerOptions m_options;
    std::unique_ptr<asio::ssl::context> m_tls; // null without a certificate
    std::unique_ptr<net::ConnectionListener> m_listener;
};

} // namespace troupe::thrift
