#include "mysql/server.h"

#include <map>
#include <random>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <openssl/rand.h>

#include "core/log.h"
#include "mysql/messages.h"
#include "mysql/packet.h"
#include "mysql/resultset.h"
#include "mysql/session.h"
#include "mysql/stmt_execute.h"
#include "net/peer_watch.h"
#include "net/tls_context.h"
#include "sql/access.h"
#include "sql/login_guard.h"
#include "sql/process_list.h"
#include "sql/row_spill.h"

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

// What a client gets instead of the greeting when the server is out of descriptors or threads
// (net::Acceptor): error 1040 as packet 0, as MySQL sends it.
std::string outOfResourcesRefusal() {
    std::string out;
    appendPackets(out,
                  buildErr(ErrPacket{kErrTooManyConnections.code,
                                     std::string(kErrTooManyConnections.sqlState),
                                     "Too many connections (the server is out of file "
                                     "descriptors or threads; try again)"}),
                  0);
    return out;
}

// caching_sha2_password's one-byte AuthMoreData answers.
constexpr std::string_view kFastAuthSuccess = "\x03";
constexpr std::string_view kPerformFullAuth = "\x04";

// COM_STMT_PREPARE_OK's 16-bit counts of parameters and columns.
constexpr std::size_t kMaxStmtCount = 0xFFFF;
constexpr MysqlError kErrPsManyParams{1390, "HY000"}; // ER_PS_MANY_PARAM

} // namespace

// One client connection's protocol state: its packet reader, its TLS stream and its Session,
// on the connection's thread (made and destroyed there by MysqlServer::serve). The socket and
// the read deadlines are the listener's (`m_link`): when a deadline passes, the listener shuts
// the receiving side down, the blocked read ends and m_link.timedOut() says why; stop() shuts
// the socket down from another thread the same way.
class MysqlServer::Connection {
public:
    Connection(MysqlServer& server, net::ConnectionListener::Connection& link)
        : m_server(server), m_link(link), m_socket(link.socket()),
          m_id(static_cast<std::uint32_t>(link.id())), m_reader(server.m_options.maxPacket) {}

    void run();
    // Too many connections: one ERR before the handshake, then close.
    void refuse() {
        m_seq = 0;
        sendError(kErrTooManyConnections, "Too many connections");
    }

private:
    // The transport under TLS: the socket, but first the bytes the packet reader had already
    // read from it. A client sends its TLS ClientHello right after the SSLRequest without waiting
    // for an answer, so one read often returns both (pymysql does this).
    class PrefixedSocket {
    public:
        using lowest_layer_type = asio::ip::tcp::socket::lowest_layer_type;
        PrefixedSocket(asio::ip::tcp::socket& socket, std::string prefix)
            : m_socket(socket), m_prefix(std::move(prefix)) {}
        lowest_layer_type& lowest_layer() { return m_socket.lowest_layer(); }
        const lowest_layer_type& lowest_layer() const { return m_socket.lowest_layer(); }
        template <typename Buffers>
        std::size_t read_some(const Buffers& buffers, asio::error_code& ec) {
            if (m_taken == m_prefix.size())
                return m_socket.read_some(buffers, ec);
            ec = {};
            const std::size_t n = asio::buffer_copy(buffers, asio::buffer(m_prefix) + m_taken);
            m_taken += n;
            return n;
        }
        template <typename Buffers>
        std::size_t write_some(const Buffers& buffers, asio::error_code& ec) {
            return m_socket.write_some(buffers, ec);
        }

    private:
        asio::ip::tcp::socket& m_socket;
        std::string m_prefix;
        std::size_t m_taken = 0;
    };
    using TlsStream = asio::ssl::stream<PrefixedSocket>;

    // What is left of the time for the handshake (at least 1 ms): the handshake response, TLS
    // and the authentication round trips share one connectTimeout (network.handshake_timeout).
    // After login (COM_CHANGE_USER), a full connectTimeout for each round trip.
    std::chrono::milliseconds handshakeLeft() const {
        if (m_session)
            return m_server.m_options.connectTimeout;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            m_handshakeEnd - std::chrono::steady_clock::now());
        return std::max(left, std::chrono::milliseconds(1));
    }
    // Reads with a deadline (0: none) enforced by the listener.
    Result<std::string> readWithin(std::chrono::milliseconds limit);
    Status authenticate(const HandshakeResponse& response, const std::string& salt);
    Status checkAnswer(const HandshakeResponse& response, const std::string& salt);
    bool sha2Only(const std::string& user) const;
    Status cachingSha2(const std::string& user, const std::string& salt,
                       const std::string& scramble);
    bool startTls();
    bool changeUser(std::string_view body);
    Result<std::string> read();
    bool send(std::string_view payload);
    bool sendPackets(const std::vector<std::string>& payloads);
    bool sendError(MysqlError error, const std::string& message);
    bool sendResponse(const Response& response);
    bool handshake();
    bool command(const std::string& payload);
    // While a query runs, a watcher cancels it if the client closes the connection (issue 13).
    net::PeerWatch::Guard watchPeer();
    bool sendRows(const std::vector<std::string>& names,
                  const std::vector<std::vector<sql::Value>>& rows, sql::RowSpill* spilled,
                  bool binary, std::uint16_t endFlags = status::kAutocommit);
    bool sendEachStatement(const std::vector<sql::StatementResult>& parts);
    bool stmtPrepare(std::string_view sql);
    bool stmtExecute(std::string_view payload);
    bool stmtLongData(std::string_view body);

    // What the binary protocol remembers per prepared statement between commands.
    struct StmtState {
        std::size_t params = 0;
        std::vector<ParamType> types;      // bound by the last execute that sent them
        std::vector<std::string> longData; // COM_STMT_SEND_LONG_DATA chunks, per parameter
        std::vector<bool> hasLongData;
        std::size_t longDataBytes = 0; // over all parameters, at most maxPacket
        bool longDataTooLarge = false; // then dropped, and the next execute fails
        void clearLongData() {
            for (std::string& d : longData)
                std::string().swap(d);
            hasLongData.assign(params, false);
            longDataBytes = 0;
            longDataTooLarge = false;
        }
    };
    std::map<std::uint32_t, StmtState> m_stmts;

    MysqlServer& m_server;
    net::ConnectionListener::Connection& m_link;
    asio::ip::tcp::socket& m_socket; // m_link's
    std::uint32_t m_id;
    PacketReader m_reader;
    std::uint8_t m_seq = 0; // sequence id of the next packet this side sends
    std::uint32_t m_clientCaps = 0;
    std::unique_ptr<Session> m_session;
    std::string m_peer;
    std::string m_address;            // the peer's IP address: the login guard's source
    std::unique_ptr<TlsStream> m_tls; // after the client's SSLRequest
    std::string m_salt;               // of the handshake; COM_CHANGE_USER answers it too
    std::chrono::steady_clock::time_point m_handshakeEnd; // see handshakeLeft()
    // This connection in the node's process list (its id is the handshake's connection id);
    // destroyed first, so KILL never shuts a destroyed socket down.
    std::unique_ptr<sql::ProcessList::Registration> m_process;
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
        const std::size_t n = m_tls ? m_tls->read_some(asio::buffer(buffer), ec)
                                    : m_socket.read_some(asio::buffer(buffer), ec);
        if (m_link.timedOut())
            return Status(ErrorCode::IoError, "timed out"); // see m_link.timedOut()
        if (ec)
            return Status(ErrorCode::IoError,
                          ec == asio::error::eof ? "closed by the client" : ec.message());
        m_reader.feed(std::string_view(buffer, n));
    }
}

Result<std::string> MysqlServer::Connection::readWithin(std::chrono::milliseconds limit) {
    m_link.expectWithin(limit);
    auto payload = read();
    m_link.expectWithin(std::chrono::milliseconds(0));
    return payload;
}

bool MysqlServer::Connection::send(std::string_view payload) {
    return sendPackets({std::string(payload)});
}

bool MysqlServer::Connection::sendPackets(const std::vector<std::string>& payloads) {
    std::string out;
    for (const std::string& p : payloads)
        m_seq = appendPackets(out, p, m_seq);
    asio::error_code ec;
    if (m_tls)
        asio::write(*m_tls, asio::buffer(out), ec);
    else
        asio::write(m_socket, asio::buffer(out), ec);
    return !ec;
}

bool MysqlServer::Connection::sendError(MysqlError error, const std::string& message) {
    return send(buildErr(ErrPacket{error.code, std::string(error.sqlState), message}));
}

bool MysqlServer::Connection::sendResponse(const Response& response) {
    if (response.kind != Response::Kind::Error && response.result.statements.size() > 1 &&
        (m_clientCaps & cap::kMultiResults) != 0)
        return sendEachStatement(response.result.statements);
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
    return sendRows(response.result.columns, response.result.rows, response.result.spilled.get(),
                    false);
}

// A query of several statements, to a client that reads multi-results: one OK or result set
// per statement, each but the last flagged SERVER_MORE_RESULTS_EXISTS.
bool MysqlServer::Connection::sendEachStatement(const std::vector<sql::StatementResult>& parts) {
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const sql::StatementResult& part = parts[i];
        const std::uint16_t flags =
            status::kAutocommit | (i + 1 < parts.size() ? status::kMoreResultsExist : 0);
        bool sent = false;
        if (part.returnsRows) {
            sent = sendRows(part.columns, part.rows, part.spilled.get(), false, flags);
        } else {
            sent = send(
                buildOk(OkPacket{std::uint64_t(std::max<std::int64_t>(0, part.rowsChanged)),
                                 std::uint64_t(std::max<std::int64_t>(0, part.lastInsertRowid)),
                                 flags,
                                 0,
                                 {}}));
        }
        if (!sent)
            return false;
    }
    return true;
}

// A result set: column count, definitions, [EOF], rows (text or binary protocol), end. Sent in
// slices so that a large result is not held twice in memory; rows that were spilled to a file
// (sql::RowSpill) follow the in-memory ones, read back a slice at a time.
bool MysqlServer::Connection::sendRows(const std::vector<std::string>& names,
                                       const std::vector<std::vector<sql::Value>>& rows,
                                       sql::RowSpill* spilled, bool binary,
                                       std::uint16_t endFlags) {
    const std::vector<ColumnDef> columns = columnDefsFor(names, rows);
    const std::string schema = m_session ? m_session->database() : std::string();
    std::vector<std::string> batch;
    batch.push_back(buildColumnCount(columns.size()));
    for (const ColumnDef& c : columns)
        batch.push_back(buildColumnDefinition(c, schema));
    const bool deprecateEof = (m_clientCaps & cap::kDeprecateEof) != 0;
    if (!deprecateEof)
        batch.push_back(buildEof(status::kAutocommit));
    auto add = [&](const std::vector<sql::Value>& row) {
        batch.push_back(binary ? buildBinaryRow(columns, row) : buildTextRow(row));
        if (batch.size() < 256)
            return true;
        const bool sent = sendPackets(batch);
        batch.clear();
        return sent;
    };
    for (const auto& row : rows)
        if (!add(row))
            return false;
    if (spilled) {
        std::vector<sql::Value> row;
        for (;;) {
            auto more = spilled->next(row);
            if (!more) {
                // The client has the column definitions already: an ERR ends the result set.
                logger()->error("connection {} from {}: {}", m_id, m_peer, more.status().message());
                batch.push_back(buildErr(more.status()));
                sendPackets(batch);
                return false;
            }
            if (!*more)
                break;
            if (!add(row))
                return false;
        }
    }
    batch.push_back(buildResultSetEnd(m_clientCaps, endFlags));
    return sendPackets(batch);
}

bool MysqlServer::Connection::stmtPrepare(std::string_view sql) {
    auto prepared = m_session->prepare(sql);
    if (!prepared)
        return sendResponse(Response::failure(prepared.status()));
    // COM_STMT_PREPARE_OK counts both in 16 bits: more must be refused, not truncated (70,000
    // placeholders were reported as 4,464, 65,536 as none; issue 13).
    const bool manyParams = std::size_t(prepared->params) > kMaxStmtCount;
    if (manyParams || prepared->columns.size() > kMaxStmtCount) {
        m_session->close(prepared->id);
        return manyParams
                   ? sendError(kErrPsManyParams,
                               "Prepared statement contains too many placeholders")
                   : sendError(kErrWrongArguments, "Prepared statement returns more than " +
                                                       std::to_string(kMaxStmtCount) + " columns");
    }
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
    if (!execute) {
        logger()->info("connection {} from {}: bad COM_STMT_EXECUTE: {}", m_id, m_peer,
                       execute.status().message());
        return sendError(kErrWrongArguments, "Incorrect arguments to mysqld_stmt_execute: " +
                                                 execute.status().message());
    }
    if (execute->newParamsBound)
        state.types = execute->types;
    if (state.longDataTooLarge) {
        state.clearLongData();
        return sendError(kErrPacketTooLarge,
                         "Parameter of prepared statement which is set through "
                         "mysql_send_long_data() is longer than max_allowed_packet (" +
                             std::to_string(m_server.m_options.maxPacket) + " bytes)");
    }
    for (std::size_t i = 0; i < state.params; ++i) {
        if (!state.hasLongData[i])
            continue;
        // Long data for a BLOB parameter is a BLOB; for any other type it is text.
        const std::uint8_t type = i < state.types.size() ? state.types[i].type : 0;
        const bool blob =
            type >= std::uint8_t(ColumnType::TinyBlob) && type <= std::uint8_t(ColumnType::Blob);
        if (blob)
            execute->params[i] = sql::Blob{std::move(state.longData[i])};
        else
            execute->params[i] = sql::Value{std::move(state.longData[i])};
    }
    state.clearLongData();
    const net::PeerWatch::Guard watching = watchPeer();
    Response r = m_session->execute(*id, std::move(execute->params));
    if (r.kind == Response::Kind::Rows)
        return sendRows(r.result.columns, r.result.rows, r.result.spilled.get(), true);
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
    StmtState& state = found->second;
    const std::string_view chunk = body.substr(6);
    state.hasLongData[param] = true;
    if (state.longDataTooLarge)
        return true;
    if (state.longDataBytes + chunk.size() > m_server.m_options.maxPacket) {
        logger()->info("connection {} from {}: long data of statement {} over {} bytes, dropped",
                       m_id, m_peer, id, m_server.m_options.maxPacket);
        state.longDataTooLarge = true;
        for (std::string& d : state.longData)
            std::string().swap(d);
        return true;
    }
    state.longData[param].append(chunk);
    state.longDataBytes += chunk.size();
    return true;
}

bool MysqlServer::Connection::handshake() {
    const MysqlServerOptions& options = m_server.m_options;
    const bool tlsOffered = m_server.m_tls != nullptr;
    m_salt = makeSalt();
    const std::string& salt = m_salt;
    m_process = m_server.m_db.processes().add(m_peer, [this] { m_link.shutdown(); });
    m_id = std::uint32_t(m_process->id()); // CONNECTION_ID(), SHOW PROCESSLIST, KILL
    HandshakeV10 hello;
    hello.serverVersion = "8.0.0-TroupeDB-" TROUPE_VERSION;
    hello.connectionId = m_id;
    hello.salt = salt;
    hello.capabilities = serverCapabilities(tlsOffered);
    hello.authPlugin = options.authPlugin;
    m_seq = 0;
    if (!send(buildHandshakeV10(hello)))
        return false;
    m_reader.expectSequence(1);
    auto badHandshake = [&](const std::string& why) {
        logger()->info("connection {} from {}: bad handshake: {}", m_id, m_peer, why);
        sendError(kErrBadHandshake, "Bad handshake: " + why);
        return false;
    };
    m_handshakeEnd = std::chrono::steady_clock::now() + options.connectTimeout;
    auto payload = readWithin(handshakeLeft());
    if (!payload) {
        if (m_link.timedOut())
            return badHandshake("no handshake response within " +
                                std::to_string(options.connectTimeout.count()) + " ms");
        if (payload.status().code() == ErrorCode::IoError) {
            logger()->debug("connection {} from {}: no handshake response: {}", m_id, m_peer,
                            payload.status().message());
            return false;
        }
        return badHandshake(payload.status().message());
    }
    auto response = parseHandshakeResponse(*payload);
    if (!response)
        return badHandshake(response.status().message());
    if (response->sslRequest) {
        if (!tlsOffered)
            return badHandshake("TLS is not enabled on this server (no tls.cert_file)");
        if (!startTls())
            return false;
        m_reader.expectSequence(m_seq);
        payload = readWithin(handshakeLeft());
        if (!payload) {
            logger()->info("connection {} from {}: no handshake response after TLS: {}", m_id,
                           m_peer, payload.status().message());
            return false;
        }
        response = parseHandshakeResponse(*payload);
        if (!response)
            return badHandshake(response.status().message());
        if (response->sslRequest)
            return badHandshake("a second SSLRequest inside TLS");
    } else if (options.requireSecureTransport) {
        logger()->info("connection {} from {}: refused, TLS is required", m_id, m_peer);
        sendError(kErrSecureTransportRequired,
                  "Connections using insecure transport are prohibited while "
                  "require_secure_transport=ON");
        return false;
    }
    m_clientCaps = response->capabilities & serverCapabilities(tlsOffered);
    const Status auth = authenticate(*response, salt);
    if (!auth.isOk()) {
        if (auth.code() == ErrorCode::IoError)
            return false;
        logger()->info("connection {} from {}: access denied for user '{}': {}", m_id, m_peer,
                       response->user, auth.message());
        if (auth.code() == ErrorCode::TooManyAttempts) {
            sendError(kErrHostBlocked, auth.message());
            return false;
        }
        std::string why = !m_server.m_db.initialized() ? ": the node is not initialised yet"
                          : auth.code() == ErrorCode::NotPermitted
                              ? " (" + auth.message() + ")"
                              : " (using password: " +
                                    std::string(response->authResponse.empty() ? "NO" : "YES") +
                                    ")";
        sendError(kErrAccessDenied, "Access denied for user '" + response->user + "'" + why);
        return false;
    }
    m_process->setUser(response->user);
    m_session = std::make_unique<Session>(m_server.m_db, response->user, hello.serverVersion,
                                          options.resultMemory, m_peer, m_process.get());
    if (response->hasDatabase && !response->database.empty()) {
        Response selected = m_session->selectDatabase(response->database);
        if (selected.kind == Response::Kind::Error) {
            sendResponse(selected);
            return false;
        }
    }
    return send(buildOk(OkPacket{}));
}

bool MysqlServer::Connection::startTls() {
    m_tls = std::make_unique<TlsStream>(PrefixedSocket(m_socket, m_reader.takeUnparsed()),
                                        *m_server.m_tls);
    m_link.expectWithin(handshakeLeft());
    asio::error_code ec;
    m_tls->handshake(asio::ssl::stream_base::server, ec);
    m_link.expectWithin(std::chrono::milliseconds(0));
    if (ec) {
        logger()->info("connection {} from {}: TLS handshake failed: {}", m_id, m_peer,
                       m_link.timedOut() ? std::string("timed out") : ec.message());
        return false;
    }
    logger()->debug("connection {} from {}: TLS {} {}", m_id, m_peer,
                    SSL_get_version(m_tls->native_handle()),
                    SSL_get_cipher_name(m_tls->native_handle()));
    return true;
}

// Checks the client's answer, first asking the login guard (sql/login_guard.h) whether its
// address may try: TooManyAttempts while it is blocked. A wrong password counts against the
// address, a success clears it.
Status MysqlServer::Connection::authenticate(const HandshakeResponse& response,
                                             const std::string& salt) {
    sql::LoginGuard* guard = m_server.m_db.options().security.loginGuard.get();
    if (guard)
        TROUPE_RETURN_IF_ERROR(guard->admit(m_address));
    Status checked = checkAnswer(response, salt);
    if (guard && checked.code() == ErrorCode::NotLoggedIn)
        guard->failed(m_address);
    else if (guard && checked.isOk())
        guard->succeeded(m_address);
    return checked;
}

// A caching_sha2 user (sql/access.h): one without a mysql_native_password hash.
bool MysqlServer::Connection::sha2Only(const std::string& user) const {
    const auto access = m_server.m_db.currentAccess();
    const sql::UserRecord* record = access ? access->findUser(user) : nullptr;
    return record && record->kind == sql::PasswordKind::CachingSha2;
}

// Checks the client's answer with the plugin it used. A client that answered with a plugin
// TroupeDB does not know (or sent none) is asked to switch to the configured one, and one that
// answered the native way for a caching_sha2 user to caching_sha2_password (as MySQL does).
// IoError: the client went away; NotLoggedIn or NotPermitted (saying why): access denied.
Status MysqlServer::Connection::checkAnswer(const HandshakeResponse& response,
                                            const std::string& salt) {
    std::string plugin = response.authPlugin;
    if ((m_clientCaps & cap::kPluginAuth) == 0)
        plugin = kNativePasswordPlugin; // a pre-plugin client answers the native way
    std::string scramble = response.authResponse;
    logger()->debug("connection {} from {}: user '{}' answers with {} ({} bytes)", m_id, m_peer,
                    response.user, plugin.empty() ? std::string("no plugin") : plugin,
                    scramble.size());
    const bool known = plugin == kNativePasswordPlugin || plugin == kCachingSha2Plugin;
    std::string target = known ? plugin : m_server.m_options.authPlugin;
    if (target == kNativePasswordPlugin && sha2Only(response.user))
        target = kCachingSha2Plugin; // it has no SHA1(SHA1(pw)) to check a native answer with
    // A client that chose another plugin than the one offered may answer with nothing, waiting
    // to be asked again with a challenge for its plugin (libmariadb does).
    if (target != plugin || (scramble.empty() && plugin != m_server.m_options.authPlugin)) {
        plugin = target;
        if (!send(buildAuthSwitchRequest(plugin, salt)))
            return Status(ErrorCode::IoError, "closed");
        m_reader.expectSequence(m_seq);
        auto answer = readWithin(handshakeLeft());
        if (!answer)
            return Status(ErrorCode::IoError, answer.status().message());
        scramble = std::move(*answer);
    }
    if (plugin == kCachingSha2Plugin)
        return cachingSha2(response.user, salt, scramble);
    return m_server.m_db.authenticateNative(response.user, salt, scramble);
}

// caching_sha2_password (auth.h): the fast path when the user's stage 2 is cached, otherwise
// full authentication with the password, which the client sends in clear only inside TLS.
Status MysqlServer::Connection::cachingSha2(const std::string& user, const std::string& salt,
                                            const std::string& scramble) {
    std::string tag;
    if (const auto access = m_server.m_db.currentAccess()) {
        if (const sql::UserRecord* record = access->findUser(user))
            tag = record->salt + record->sha256Hash;
    }
    if (!tag.empty() && m_server.m_sha2Cache.verify(user, tag, salt, scramble)) {
        if (!send(buildAuthMoreData(kFastAuthSuccess)))
            return Status(ErrorCode::IoError, "closed");
        return Status::ok();
    }
    if (scramble.empty())
        return Status(ErrorCode::NotLoggedIn, "no password");
    if (!send(buildAuthMoreData(kPerformFullAuth)))
        return Status(ErrorCode::IoError, "closed");
    m_reader.expectSequence(m_seq);
    auto answer = readWithin(handshakeLeft());
    if (!answer)
        return Status(ErrorCode::IoError, answer.status().message());
    if (!m_tls) // the client asks for an RSA key (0x02) or sent the password encrypted with one
        return Status(ErrorCode::NotPermitted,
                      "caching_sha2_password needs TLS the first time a user logs in after the "
                      "server started; connect with TLS" +
                          std::string(sha2Only(user) ? "" : ", or use mysql_native_password"));
    std::string password = std::move(*answer);
    if (!password.empty() && password.back() == '\0')
        password.pop_back();
    Status st = m_server.m_db.authenticate(user, password);
    if (st.isOk() && !tag.empty())
        m_server.m_sha2Cache.remember(user, tag, password);
    return st;
}

// COM_CHANGE_USER: the client answers the connection's first salt again (libmariadb does so
// even when asked to switch), with the plugin it names; a plugin TroupeDB does not know is
// switched to the configured one. On success the connection starts over as that user (no
// actor, no prepared statements); on failure it gets 1045 and is closed.
bool MysqlServer::Connection::changeUser(std::string_view body) {
    auto request = parseChangeUser(body, m_clientCaps);
    if (!request) {
        logger()->info("connection {} from {}: bad COM_CHANGE_USER: {}", m_id, m_peer,
                       request.status().message());
        sendError(kErrMalformedPacket, request.status().message());
        return false;
    }
    HandshakeResponse again;
    again.user = request->user;
    again.authResponse = request->authResponse;
    again.authPlugin = request->authPlugin;
    const Status auth = authenticate(again, m_salt);
    if (!auth.isOk()) {
        if (auth.code() != ErrorCode::IoError) {
            logger()->info("connection {} from {}: change to user '{}' denied: {}", m_id, m_peer,
                           request->user, auth.message());
            if (auth.code() == ErrorCode::TooManyAttempts)
                sendError(kErrHostBlocked, auth.message());
            else
                sendError(kErrAccessDenied, "Access denied for user '" + request->user + "'");
        }
        return false;
    }
    m_stmts.clear();
    m_process->setUser(request->user);
    m_session = std::make_unique<Session>(m_server.m_db, request->user, m_session->serverVersion(),
                                          m_server.m_options.resultMemory, m_peer, m_process.get());
    if (!request->database.empty()) {
        Response selected = m_session->selectDatabase(request->database);
        if (selected.kind == Response::Kind::Error)
            return sendResponse(selected);
    }
    return send(buildOk(OkPacket{}));
}

net::PeerWatch::Guard MysqlServer::Connection::watchPeer() {
    sql::ProcessList::Registration* process = m_process.get();
    return net::PeerWatch::shared().watch(net::PeerWatch::NativeSocket(m_socket.native_handle()),
                                          [process] { process->clientGone(); });
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
    case com::kChangeUser:
        return changeUser(body);
    case com::kResetConnection:
        m_session->reset();
        m_stmts.clear();
        return send(buildOk(OkPacket{}));
    case com::kQuery: {
        const net::PeerWatch::Guard watching = watchPeer();
        return sendResponse(m_session->query(body));
    }
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
                found->second.clearLongData();
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
    m_address = ec ? std::string("?") : remote.address().to_string();
    m_peer = ec ? m_address : m_address + ":" + std::to_string(remote.port());
    if (!handshake())
        return;
    for (;;) {
        m_reader.expectSequence(0);
        auto payload = readWithin(m_server.m_options.idleTimeout);
        if (!payload) {
            if (m_link.timedOut()) {
                logger()->info("connection {} from {}: closed after {} ms without a command", m_id,
                               m_peer, m_server.m_options.idleTimeout.count());
                m_seq = 0;
                sendError(kErrClientInteractionTimeout,
                          "The client was disconnected by the server because of inactivity");
            } else if (payload.status().code() != ErrorCode::IoError) {
                // Out of order or oversized: say so, then close (the stream is lost). The ERR
                // follows the last packet received, or the client sees the wrong sequence id.
                m_seq = m_reader.errorReplySequence();
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

std::uint16_t MysqlServer::port() const {
    return m_listener ? m_listener->port() : 0;
}

std::size_t MysqlServer::connections() const {
    return m_listener ? m_listener->connections() : 0;
}

Status MysqlServer::start() {
    if (!m_options.tlsCertFile.empty() || !m_options.tlsKeyFile.empty()) {
        auto tls = net::makeServerTlsContext(m_options.tlsCertFile, m_options.tlsKeyFile);
        if (!tls)
            return tls.status();
        m_tls = std::move(*tls);
    }
    m_listener = std::make_unique<net::ConnectionListener>(
        "MySQL", "mysql",
        [this](net::ConnectionListener::Connection& link, bool refused) { serve(link, refused); },
        outOfResourcesRefusal());
    // Deadlines are checked every quarter of the shortest timeout, at most every second.
    auto tick = std::chrono::milliseconds(1000);
    for (auto limit : {m_options.idleTimeout, m_options.connectTimeout})
        if (limit.count() > 0)
            tick = std::clamp(limit / 4, std::chrono::milliseconds(20), tick);
    return m_listener->start(m_options.address, m_options.port, m_options.maxConnections, tick);
}

// On the connection's thread; the listener closes the socket when this returns.
void MysqlServer::serve(net::ConnectionListener::Connection& link, bool refused) {
    Connection connection(*this, link);
    if (refused) // over max connections: refused before the handshake
        connection.refuse();
    else
        connection.run();
}

void MysqlServer::stop() {
    if (!m_listener)
        return;
    m_listener->stop(); // connections closed after their query in progress
    m_listener.reset();
    logger()->info("MySQL listener stopped");
}

} // namespace troupe::mysql
