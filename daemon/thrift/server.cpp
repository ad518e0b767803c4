#include "thrift/server.h"

#include <algorithm>

#include <asio/ssl.hpp>
#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TProtocolException.h>
#include <thrift/transport/TTransportException.h>

#include "core/log.h"
#include "net/peer_watch.h"
#include "net/tls_context.h"
#include "sql/process_list.h"
#include "thrift/handler.h"
#include "thrift/transport.h"

namespace troupe::thrift {

namespace {

using apache::thrift::transport::TTransportException;

std::shared_ptr<spdlog::logger> logger() {
    static auto l = log::get("thrift");
    return l;
}

constexpr std::uint8_t kTlsHandshakeRecord = 0x16;

// The connection's socket, or TLS over it; errors become TTransportException so that Thrift's
// code and ours see one kind of failure.
template <typename Stream> class AsioByteStream final : public ByteStream {
public:
    explicit AsioByteStream(Stream& stream) : m_stream(stream) {}

    std::size_t readSome(std::uint8_t* buffer, std::size_t size) override {
        asio::error_code ec;
        const std::size_t n = m_stream.read_some(asio::buffer(buffer, size), ec);
        if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
            return 0;
        if (ec)
            throw TTransportException(TTransportException::NOT_OPEN, ec.message());
        return n;
    }
    void writeAll(const std::uint8_t* data, std::size_t size) override {
        asio::error_code ec;
        asio::write(m_stream, asio::buffer(data, size), ec);
        if (ec)
            throw TTransportException(TTransportException::NOT_OPEN, ec.message());
    }

private:
    Stream& m_stream;
};

// The connection's stream as the transport reads it, ending the connection's handshake deadline
// once the first frame has arrived whole: a client that sends a frame length and then dribbles
// (or withholds) the frame is closed like one that sends nothing. The connection's thread only.
class FirstFrameDeadline final : public ByteStream {
public:
    FirstFrameDeadline(ByteStream& stream, net::ConnectionListener::Connection& connection)
        : m_stream(stream), m_connection(connection) {}

    std::size_t readSome(std::uint8_t* buffer, std::size_t size) override {
        const std::size_t n = m_stream.readSome(buffer, size);
        for (std::size_t i = 0; i < n && m_read + i < 4; ++i)
            m_length = m_length << 8 | buffer[i];
        m_read += n;
        if (m_armed && m_read >= m_frameEnd) {
            m_armed = false;
            m_connection.expectWithin(std::chrono::milliseconds(0));
        }
        return n;
    }
    void writeAll(const std::uint8_t* data, std::size_t size) override {
        m_stream.writeAll(data, size);
    }
    // After the first beginMessage(): framed, the deadline ends when its frame is read whole;
    // unframed (no length to wait for), now.
    void firstMessageBegun(bool framed) {
        m_frameEnd = 4 + std::uint64_t(m_length);
        m_armed = framed && m_read < m_frameEnd;
        if (!m_armed)
            m_connection.expectWithin(std::chrono::milliseconds(0));
    }

private:
    ByteStream& m_stream;
    net::ConnectionListener::Connection& m_connection;
    std::uint64_t m_read = 0;
    std::uint32_t m_length = 0; // the first four bytes, big-endian: the first frame's length
    std::uint64_t m_frameEnd = 0;
    bool m_armed = false;
};

std::string peerOf(const asio::ip::tcp::socket& socket, std::uint64_t id) {
    asio::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    std::string who = ec ? std::string("?")
                         : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    return "connection " + std::to_string(id) + " from " + who;
}

} // namespace

ThriftServer::ThriftServer(sql::Database& db, ThriftServerOptions options)
    : m_db(db), m_options(std::move(options)) {}

ThriftServer::~ThriftServer() {
    stop();
}

std::uint16_t ThriftServer::port() const {
    return m_listener ? m_listener->port() : 0;
}

std::size_t ThriftServer::connections() const {
    return m_listener ? m_listener->connections() : 0;
}

Status ThriftServer::start() {
    if (!m_options.tlsCertFile.empty() || !m_options.tlsKeyFile.empty()) {
        auto tls = net::makeServerTlsContext(m_options.tlsCertFile, m_options.tlsKeyFile);
        if (!tls)
            return tls.status();
        m_tls = std::move(*tls);
    }
    m_listener = std::make_unique<net::ConnectionListener>(
        "Thrift", "thrift", [this](net::ConnectionListener::Connection& connection, bool refused) {
            serve(connection, refused);
        });
    auto tick = std::chrono::milliseconds(1000);
    for (auto limit : {m_options.idleTimeout, m_options.connectTimeout})
        if (limit.count() > 0)
            tick = std::clamp(limit / 4, std::chrono::milliseconds(20), tick);
    return m_listener->start(m_options.address, m_options.port, m_options.maxConnections, tick);
}

void ThriftServer::stop() {
    if (!m_listener)
        return;
    m_listener->stop();
    m_listener.reset();
    logger()->info("Thrift listener stopped");
}

// Runs requests until the client goes away, stays idle too long or sends something that is not
// a Thrift message.
void ThriftServer::run(net::ConnectionListener::Connection& connection, ByteStream& raw,
                       const std::string& peer, bool tls) {
    FirstFrameDeadline stream(raw, connection);
    auto transport = std::make_shared<ConnectionTransport>(stream, m_options.maxMessage);
    const auto limit =
        static_cast<std::int32_t>(std::min<std::size_t>(m_options.maxMessage, 0x7fffffff));
    auto protocol =
        std::make_shared<apache::thrift::protocol::TBinaryProtocolT<ConnectionTransport>>(
            transport, limit, limit, /*strictRead=*/true, /*strictWrite=*/true);
    ServerFacts facts = m_options.facts;
    facts.ports["thrift"] = port();
    ClientFacts client;
    client.tls = tls;
    asio::ip::tcp::socket& socket = connection.socket();
    asio::error_code ec;
    if (const auto remote = socket.remote_endpoint(ec); !ec) {
        client.address = remote.address().to_string();
        client.peer = client.address + ":" + std::to_string(remote.port());
    }
    // In SHOW PROCESSLIST and KILL's reach (MySQL), with its calls cancelled when it goes away.
    auto process = m_db.processes().add(client.peer.empty() ? std::string("?") : client.peer,
                                        [&connection] { connection.shutdown(); });
    sql::ProcessList::Registration* registration = process.get();
    auto handler =
        std::make_shared<ActordbHandler>(m_db, peer, std::move(facts), client, registration);
    gen::ActordbProcessor processor(handler);
    try {
        for (bool first = true;; first = false) {
            if (!first)
                connection.expectWithin(m_options.idleTimeout);
            if (!transport->beginMessage())
                break;
            if (first) // the handshake deadline runs until the first frame is in
                stream.firstMessageBegun(transport->mode() == ConnectionTransport::Mode::Framed);
            else
                connection.expectWithin(std::chrono::milliseconds(0)); // a call may take its time
            bool served = false;
            {
                const net::PeerWatch::Guard watching = net::PeerWatch::shared().watch(
                    net::PeerWatch::NativeSocket(socket.native_handle()),
                    [registration] { registration->clientGone(); });
                served = processor.process(protocol, protocol, nullptr);
            }
            registration->end();
            if (!served)
                break;
            transport->endMessage();
        }
        if (connection.timedOut())
            logger()->info("{}: closed after {} ms without a call", peer,
                           m_options.idleTimeout.count());
        else
            logger()->debug("{}: closed by the client", peer);
    } catch (const TTransportException& e) {
        if (connection.timedOut())
            logger()->info("{}: closed: no complete call in time", peer);
        else if (e.getType() == TTransportException::NOT_OPEN)
            logger()->debug("{}: {}", peer, e.what());
        else
            logger()->warn("{}: closing: {}", peer, e.what());
    } catch (const apache::thrift::protocol::TProtocolException& e) {
        logger()->warn("{}: closing: not a Thrift binary-protocol message: {}", peer, e.what());
    } catch (const std::exception& e) {
        logger()->warn("{}: closing: {}", peer, e.what());
    }
}

void ThriftServer::serve(net::ConnectionListener::Connection& connection, bool refused) {
    asio::ip::tcp::socket& socket = connection.socket();
    const std::string peer = peerOf(socket, connection.id());
    if (refused) {
        // The listener logs refusals, at most once a second.
        logger()->debug("{}: refused: {} connections already open", peer, m_options.maxConnections);
        return;
    }
    // The first byte says whether the client starts TLS; it stays in the socket for the
    // handshake or the Thrift transport to read.
    connection.expectWithin(m_options.connectTimeout); // until the first call arrives
    std::uint8_t first = 0;
    asio::error_code ec;
    const std::size_t n =
        socket.receive(asio::buffer(&first, 1), asio::socket_base::message_peek, ec);
    if (ec || n == 0) {
        if (connection.timedOut())
            logger()->info("{}: closed: nothing sent within {} ms", peer,
                           m_options.connectTimeout.count());
        return;
    }
    if (first != kTlsHandshakeRecord) {
        AsioByteStream<asio::ip::tcp::socket> plain(socket);
        run(connection, plain, peer, false);
        return;
    }
    if (!m_tls) {
        logger()->warn("{}: closing: the client starts TLS but no tls.cert_file is configured",
                       peer);
        return;
    }
    asio::ssl::stream<asio::ip::tcp::socket&> tls(socket, *m_tls);
    tls.handshake(asio::ssl::stream_base::server, ec);
    if (ec) {
        logger()->warn("{}: closing: TLS handshake failed: {}", peer,
                       connection.timedOut() ? std::string("timed out") : ec.message());
        return;
    }
    AsioByteStream<asio::ssl::stream<asio::ip::tcp::socket&>> secure(tls);
    run(connection, secure, peer + " (TLS)", true);
    tls.shutdown(ec);
}

} // namespace troupe::thrift
