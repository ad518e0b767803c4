#include "mysql/server.h"

#include <map>
#include <random>

#include <asio.hpp>
#include <openssl/rand.h>

#include "core/log.h"
#include "mysql/messages.h"
#include "mysql/packet.h"
#include "mysql/resultset.h"
#include "mysql/session.h"
#include "mysql/stmt_execute.h"

namespace troupe::mysql {

namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = log::get("mysql");
    return l;
}

// 20 random bytes, none of them NUL (clients read the salt as a C string).
std::string makeSalt() {
    std::string salt(kSaltSize, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), int(salt.size())) != 1) {
        std::random_device rd;
        for (char& c : salt)
            c = char(rd());
    }
    for (char& c : salt)
        c = char((static_cast<unsigned char>(c) % 94) + 33); // printable, like MySQL's
    return salt;
}

// The int<4> statement id that starts the body of the COM_STMT_* commands (4 bytes checked).
std::uint32_t statementId(std::string_view body) {
    return std::uint32_t(std::uint8_t(body[0])) | std::uint32_t(std::uint8_t(body[1])) << 8 |
           std::uint32_t(std::uint8_t(body[2])) << 16 | std::uint32_t(std::uint8_t(body[3])) << 24;
}

} // namespace

// The accept loop: an io_context on its own thread.
class MysqlServer::Listener {
public:
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor{io};
    std::thread thread;
};

// One client connection: its socket, its packet reader and its Session, used by its thread only
// (stop() may shut the socket down from another thread to wake a blocked read).
class MysqlServer::Connection {
public:
    Connection(MysqlServer& server, asio::ip::tcp::socket socket, std::uint32_t id)
        : m_server(server), m_socket(std::move(socket)), m_id(id),
          m_reader(server.m_options.maxPacket) {}

    void run();
    // Too many connections: one ERR before the handshake, then close.
    void refuse() {
        m_seq = 0;
        sendError(kErrTooManyConnections, "Too many connections");
        shutdown();
    }
    void shutdown() {
        asio::error_code ec;
        m_socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    }

private:
    Result<std::string> read();
    bool send(std::string_view payload);
    bool sendPackets(const std::vector<std::string>& payloads);
    bool sendError(MysqlError error, const std::string& message);
    bool sendResponse(const Response& response);
    bool handshake();
    bool command(const std::string& payload);
    bool sendRows(const sql::ExecResult& result, bool binary);
    bool stmtPrepare(std::string_view sql);
    bool stmtExecute(std::string_view payload);
    bool stmtLongData(std::string_view body);

    // What the binary protocol remembers per prepared statement between commands.
    struct StmtState {
        std::size_t params = 0;
        std::vector<ParamType> types;      // bound by the last execute that sent them
        std::vector<std::string> longData; // COM_STMT_SEND_LONG_DATA chunks, per parameter
        std::vector<bool> hasLongData;
    };
    std::map<std::uint32_t, StmtState> m_stmts;

    MysqlServer& m_server;
    asio::ip::tcp::socket m_socket;
    std::uint32_t m_id;
    PacketReader m_reader;
    std::uint8_t m_seq = 0; // sequence id of the next packet this side sends
    std::uint32_t m_clientCaps = 0;
    std::unique_ptr<Session> m_session;
    std::string m_peer;
};

Result<std::string> MysqlServer::Connection::read() {
    for (;;) {
        auto next = m_reader.next();
        if (!next)
            return next.status();
        if (*next) {
            m_seq = std::uint8_t((*next)->lastSequence + 1);
            return std::move((*next)->bytes);
        }
        char buffer[16384];
        asio::error_code ec;
        const std::size_t n = m_socket.read_some(asio::buffer(buffer), ec);
        if (ec)
            return Status(ErrorCode::IoError,
                          ec == asio::error::eof ? "closed by the client" : ec.message());
        m_reader.feed(std::string_view(buffer, n));
    }
}

bool MysqlServer::Connection::send(std::string_view payload) {
    std::string out;
    m_seq = appendPackets(out, payload, m_seq);
    asio::error_code ec;
    asio::write(m_socket, asio::buffer(out), ec);
    return !ec;
}

bool MysqlServer::Connection::sendPackets(const std::vector<std::string>& payloads) {
    std::string out;
    for (const std::string& p : payloads)
        m_seq = appendPackets(out, p, m_seq);
    asio::error_code ec;
    asio::write(m_socket, asio::buffer(out), ec);
    return !ec;
}

bool MysqlServer::Connection::sendError(MysqlError error, const std::string& message) {
    return send(buildErr(ErrPacket{error.code, std::string(error.sqlState), message}));
}

bool MysqlServer::Connection::sendResponse(const Response& response) {
    switch (response.kind) {
    case Response::Kind::Ok:
        return send(buildOk(
            OkPacket{std::uint64_t(std::max<std::int64_t>(0, response.result.rowsChanged)),
                     std::uint64_t(std::max<std::int64_t>(0, response.result.lastInsertRowid)),
                     status::kAutocommit,
                     0,
                     {}}));
    case Response::Kind::Error:
        return sendError(response.error, response.message);
    case Response::Kind::Rows:
        break;
    }
    return sendRows(response.result, false);
}

// A result set: column count, definitions, [EOF], rows (text or binary protocol), end. Sent in
// slices so that a large result is not held twice in memory.
bool MysqlServer::Connection::sendRows(const sql::ExecResult& result, bool binary) {
    const std::vector<ColumnDef> columns = columnDefsFor(result);
    const std::string schema = m_session ? m_session->database() : std::string();
    std::vector<std::string> batch;
    batch.push_back(buildColumnCount(columns.size()));
    for (const ColumnDef& c : columns)
        batch.push_back(buildColumnDefinition(c, schema));
    const bool deprecateEof = (m_clientCaps & cap::kDeprecateEof) != 0;
    if (!deprecateEof)
        batch.push_back(buildEof(status::kAutocommit));
    for (const auto& row : result.rows) {
        batch.push_back(binary ? buildBinaryRow(columns, row) : buildTextRow(row));
        if (batch.size() >= 256) {
            if (!sendPackets(batch))
                return false;
            batch.clear();
        }
    }
    batch.push_back(buildResultSetEnd(m_clientCaps, status::kAutocommit));
    return sendPackets(batch);
}

bool MysqlServer::Connection::stmtPrepare(std::string_view sql) {
    auto prepared = m_session->prepare(sql);
    if (!prepared)
        return sendResponse(Response::failure(prepared.status()));
    const bool deprecateEof = (m_clientCaps & cap::kDeprecateEof) != 0;
    std::vector<std::string> out;
    out.push_back(buildStmtPrepareOk(prepared->id, std::uint16_t(prepared->columns.size()),
                                     std::uint16_t(prepared->params)));
    ColumnDef any;
    any.type = ColumnType::VarString;
    any.charset = kCharsetUtf8mb4;
    for (int i = 0; i < prepared->params; ++i) {
        any.name = "?";
        out.push_back(buildColumnDefinition(any));
    }
    if (prepared->params > 0 && !deprecateEof)
        out.push_back(buildEof(status::kAutocommit));
    for (const std::string& name : prepared->columns) {
        any.name = name;
        out.push_back(buildColumnDefinition(any, m_session->database()));
    }
    if (!prepared->columns.empty() && !deprecateEof)
        out.push_back(buildEof(status::kAutocommit));
    StmtState& state = m_stmts[prepared->id];
    state.params = std::size_t(prepared->params);
    state.longData.assign(state.params, {});
    state.hasLongData.assign(state.params, false);
    return sendPackets(out);
}

bool MysqlServer::Connection::stmtExecute(std::string_view payload) {
    auto id = peekStmtExecuteId(payload);
    if (!id)
        return sendError(kErrMalformedPacket, id.status().message());
    auto found = m_stmts.find(*id);
    if (found == m_stmts.end())
        return sendError(kErrUnknownStatement,
                         "Unknown prepared statement handler (" + std::to_string(*id) + ")");
    StmtState& state = found->second;
    auto execute = parseStmtExecute(payload, state.params, state.types, state.hasLongData);
    if (!execute)
        return sendError(kErrMalformedPacket, execute.status().message());
    if (execute->newParamsBound)
        state.types = execute->types;
    for (std::size_t i = 0; i < state.params; ++i) {
        if (state.hasLongData[i]) {
            execute->params[i] = sql::Value{std::move(state.longData[i])};
            state.longData[i].clear();
            state.hasLongData[i] = false;
        }
    }
    Response r = m_session->execute(*id, std::move(execute->params));
    if (r.kind == Response::Kind::Rows)
        return sendRows(r.result, true);
    return sendResponse(r);
}

// COM_STMT_SEND_LONG_DATA: int<4> statement id, int<2> parameter, data. No reply.
bool MysqlServer::Connection::stmtLongData(std::string_view body) {
    if (body.size() < 6)
        return true; // malformed: ignored, as MySQL does (no reply is allowed)
    const std::uint32_t id = statementId(body);
    const std::size_t param =
        std::size_t(std::uint8_t(body[4])) | std::size_t(std::uint8_t(body[5])) << 8;
    auto found = m_stmts.find(id);
    if (found == m_stmts.end() || param >= found->second.params)
        return true;
    found->second.longData[param].append(body.substr(6));
    found->second.hasLongData[param] = true;
    return true;
}

bool MysqlServer::Connection::handshake() {
    const std::string salt = makeSalt();
    HandshakeV10 hello;
    hello.serverVersion = "8.0.0-TroupeDB-" TROUPE_VERSION;
    hello.connectionId = m_id;
    hello.salt = salt;
    hello.capabilities = serverCapabilities(false);
    m_seq = 0;
    if (!send(buildHandshakeV10(hello)))
        return false;
    m_reader.expectSequence(1);
    auto payload = read();
    if (!payload) {
        if (payload.status().code() == ErrorCode::IoError) {
            logger()->debug("connection {} from {}: no handshake response: {}", m_id, m_peer,
                            payload.status().message());
        } else {
            logger()->info("connection {} from {}: bad handshake: {}", m_id, m_peer,
                           payload.status().message());
            sendError(kErrBadHandshake, "Bad handshake: " + payload.status().message());
        }
        return false;
    }
    auto response = parseHandshakeResponse(*payload);
    if (!response) {
        logger()->info("connection {} from {}: bad handshake: {}", m_id, m_peer,
                       response.status().message());
        sendError(kErrBadHandshake, "Bad handshake: " + response.status().message());
        return false;
    }
    if (response->sslRequest) {
        sendError(kErrBadHandshake, "TLS is not enabled on this server");
        return false;
    }
    m_clientCaps = response->capabilities & serverCapabilities(false);
    std::string scramble = response->authResponse;
    if (!response->authPlugin.empty() && response->authPlugin != kNativePasswordPlugin) {
        // A client that prefers another plugin (MySQL 8's caching_sha2_password) is asked to
        // answer the native challenge instead.
        if (!send(buildAuthSwitchRequest(kNativePasswordPlugin, salt + std::string(1, '\0'))))
            return false;
        m_reader.expectSequence(m_seq);
        auto answer = read();
        if (!answer)
            return false;
        scramble = std::move(*answer);
    }
    const Status auth = m_server.m_db.authenticateNative(response->user, salt, scramble);
    if (!auth.isOk()) {
        logger()->info("connection {} from {}: access denied for user '{}'", m_id, m_peer,
                       response->user);
        std::string why =
            m_server.m_db.initialized()
                ? " (using password: " + std::string(scramble.empty() ? "NO" : "YES") + ")"
                : ": the node is not initialised yet";
        sendError(kErrAccessDenied, "Access denied for user '" + response->user + "'" + why);
        return false;
    }
    m_session = std::make_unique<Session>(m_server.m_db, response->user, hello.serverVersion);
    if (response->hasDatabase && !response->database.empty()) {
        Response selected = m_session->selectDatabase(response->database);
        if (selected.kind == Response::Kind::Error) {
            sendResponse(selected);
            return false;
        }
    }
    return send(buildOk(OkPacket{}));
}

// Handles one command; false ends the connection.
bool MysqlServer::Connection::command(const std::string& payload) {
    if (payload.empty())
        return sendError(kErrMalformedPacket, "empty command packet");
    const std::uint8_t code = std::uint8_t(payload[0]);
    const std::string_view body = std::string_view(payload).substr(1);
    switch (code) {
    case com::kQuit:
        return false;
    case com::kPing:
        return send(buildOk(OkPacket{}));
    case com::kInitDb:
        return sendResponse(m_session->selectDatabase(body));
    case com::kResetConnection:
        m_session->reset();
        m_stmts.clear();
        return send(buildOk(OkPacket{}));
    case com::kQuery:
        return sendResponse(m_session->query(body));
    case com::kFieldList: // deprecated; an empty column list
        return send(buildResultSetEnd(m_clientCaps, status::kAutocommit));
    case com::kStmtPrepare:
        return stmtPrepare(body);
    case com::kStmtExecute:
        return stmtExecute(payload);
    case com::kStmtSendLongData:
        return stmtLongData(body);
    case com::kStmtClose: // no reply
        if (body.size() >= 4) {
            const std::uint32_t id = statementId(body);
            m_stmts.erase(id);
            m_session->close(id);
        }
        return true;
    case com::kStmtReset:
        if (body.size() >= 4) {
            const std::uint32_t id = statementId(body);
            if (auto found = m_stmts.find(id); found != m_stmts.end()) {
                for (std::string& d : found->second.longData)
                    d.clear();
                found->second.hasLongData.assign(found->second.params, false);
                return send(buildOk(OkPacket{}));
            }
            return sendError(kErrUnknownStatement,
                             "Unknown prepared statement handler (" + std::to_string(id) + ")");
        }
        return sendError(kErrMalformedPacket, "COM_STMT_RESET without a statement id");
    default:
        return sendError(kErrUnknownCommand, "Unknown command " + std::to_string(code) +
                                                 " (not supported by TroupeDB yet)");
    }
}

void MysqlServer::Connection::run() {
    asio::error_code ec;
    auto remote = m_socket.remote_endpoint(ec);
    m_peer =
        ec ? std::string("?") : remote.address().to_string() + ":" + std::to_string(remote.port());
    if (!handshake())
        return;
    for (;;) {
        m_reader.expectSequence(0);
        auto payload = read();
        if (!payload) {
            if (payload.status().code() != ErrorCode::IoError) {
                // Out of order or oversized: say so, then close (the stream is lost).
                const MysqlError error = payload.status().code() == ErrorCode::TooLarge
                                             ? kErrPacketTooLarge
                                             : kErrPacketsOutOfOrder;
                sendError(error, payload.status().message());
                logger()->info("connection {} from {}: {}", m_id, m_peer,
                               payload.status().message());
            }
            return;
        }
        if (!command(*payload))
            return;
    }
}

MysqlServer::MysqlServer(sql::Database& db, MysqlServerOptions options)
    : m_db(db), m_options(std::move(options)) {}

MysqlServer::~MysqlServer() {
    stop();
}

Status MysqlServer::start() {
    m_listener = std::make_unique<Listener>();
    asio::error_code ec;
    auto address = asio::ip::make_address(m_options.address, ec);
    if (ec)
        return Status(ErrorCode::InvalidArgument, "bad MySQL listen address " + m_options.address);
    asio::ip::tcp::endpoint endpoint(address, m_options.port);
    auto& acceptor = m_listener->acceptor;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec)
        acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec)
        acceptor.bind(endpoint, ec);
    if (!ec)
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return Status(ErrorCode::IoError, "cannot listen for MySQL on " + m_options.address + ":" +
                                              std::to_string(m_options.port) + ": " + ec.message());
    m_port = acceptor.local_endpoint().port();
    acceptNext();
    m_listener->thread = std::thread([this] { m_listener->io.run(); });
    return Status::ok();
}

// The accept loop, on the listener's thread: each accepted socket gets a detached thread.
void MysqlServer::acceptNext() {
    m_listener->acceptor.async_accept(
        [this](const asio::error_code& error, asio::ip::tcp::socket socket) {
            if (error || m_stopping)
                return;
            asio::error_code ignored;
            socket.set_option(asio::ip::tcp::no_delay(true), ignored);
            serve(std::make_shared<Connection>(*this, std::move(socket), ++m_nextId));
            acceptNext();
        });
}

void MysqlServer::serve(std::shared_ptr<Connection> connection) {
    bool refused = false;
    {
        std::lock_guard lock(m_mutex);
        refused = m_active.load() >= m_options.maxConnections; // refused before the handshake
        ++m_active;
        m_open.remove_if([](const std::weak_ptr<Connection>& w) { return w.expired(); });
        m_open.push_back(connection);
    }
    std::thread([this, refused, connection]() mutable {
        if (refused)
            connection->refuse();
        else
            connection->run();
        connection->shutdown();
        // Gone before the count drops: once it is zero, stop() returns and the server may go.
        connection.reset();
        std::lock_guard lock(m_mutex);
        --m_active;
        m_done.notify_all();
    }).detach();
}

void MysqlServer::stop() {
    if (!m_listener || m_stopping.exchange(true))
        return;
    asio::post(m_listener->io, [this] {
        asio::error_code ec;
        m_listener->acceptor.close(ec);
    });
    if (m_listener->thread.joinable())
        m_listener->thread.join();
    std::unique_lock lock(m_mutex);
    for (auto& weak : m_open)
        if (auto c = weak.lock())
            c->shutdown();
    m_done.wait(lock, [this] { return m_active.load() == 0; });
    m_open.clear();
    logger()->info("MySQL listener stopped");
}

} // namespace troupe::mysql
