#pragma once

// MysqlServer: the MySQL wire-protocol listener (issue 4). Every connection gets its own thread
// with a blocking socket: handshake, TLS if the client asks and a certificate is configured,
// authentication (mysql_native_password or caching_sha2_password, whichever the client answers
// with; others are switched to the configured plugin), then commands until COM_QUIT, the idle
// timeout or the connection drops. Queries go to the Session (session.h), which calls the
// blocking query facade; a slow query therefore holds only its own connection's thread.
//
// Bad input (garbage, a wrong sequence id, an oversized packet, a truncated message) gets an
// ERR packet where the protocol allows and closes that connection, with a log line naming the
// peer; the server keeps serving.
//
// Accepting, the connection threads, the deadlines and the TLS context are the shared ones of
// daemon/net (net::ConnectionListener, net::makeServerTlsContext), as for the Thrift server.
//
// Threads: start()/stop() from the owner's thread; the listener's accept thread, which also
// closes idle connections; one thread per connection.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "mysql/auth.h"
#include "net/connection_listener.h"
#include "sql/database.h"

namespace asio::ssl {
class context;
}

namespace troupe::mysql {

struct MysqlServerOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 33307;        // 0: any free port (tests)
    std::size_t maxConnections = 1000; // more are refused with ERR 1040
    std::size_t maxPacket = 16u << 20; // the largest command payload accepted
    // A connection waiting this long for its next command is closed (error 4031); 0: never.
    std::chrono::milliseconds idleTimeout{std::chrono::hours(8)};
    // A client must send its handshake response within this time.
    std::chrono::milliseconds connectTimeout{std::chrono::seconds(10)};
    std::string authPlugin = "mysql_native_password"; // or caching_sha2_password
    std::string tlsCertFile; // PEM; with tlsKeyFile, clients may switch to TLS
    std::string tlsKeyFile;
    bool requireSecureTransport = false; // clients without TLS get error 3159
    // Rows of one result kept in memory; the rest wait in a temporary file and are streamed
    // from it (0: every row in memory).
    std::size_t resultMemory = 8u << 20;
};

class MysqlServer {
public:
    MysqlServer(sql::Database& db, MysqlServerOptions options);
    ~MysqlServer(); // stop()
    MysqlServer(const MysqlServer&) = delete;
    MysqlServer& operator=(const MysqlServer&) = delete;

    // Loads the TLS certificate (InvalidArgument naming the file when it cannot), binds and
    // starts accepting. IoError naming the address when the port is taken.
    Status start();
    // Stops accepting, closes every connection (a query in progress finishes first), joins.
    void stop();

    std::uint16_t port() const;
    std::size_t connections() const;

private:
    class Connection;
    // On the connection's own thread (net::ConnectionListener::Handler).
    void serve(net::ConnectionListener::Connection& link, bool refused);

    sql::Database& m_db;
    MysqlServerOptions m_options;
    std::unique_ptr<asio::ssl::context> m_tls; // null without a certificate
    std::unique_ptr<net::ConnectionListener> m_listener;
    Sha2Cache m_sha2Cache;
};

} // namespace troupe::mysql
