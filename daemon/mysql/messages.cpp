#include "mysql/messages.h"

#include <algorithm>

#include "mysql/errors.h"
#include "mysql/wire.h"

namespace troupe::mysql {

namespace {

constexpr std::uint8_t kHeaderOk = 0x00;
constexpr std::uint8_t kHeaderEof = 0xFE;
constexpr std::uint8_t kHeaderErr = 0xFF;
constexpr std::uint8_t kHeaderAuthMoreData = 0x01;
constexpr std::size_t kSaltPart1 = 8;

} // namespace

std::uint32_t serverCapabilities(bool ssl) {
    std::uint32_t caps = cap::kLongPassword | cap::kFoundRows | cap::kLongFlag |
                         cap::kConnectWithDb | cap::kProtocol41 | cap::kTransactions |
                         cap::kSecureConnection | cap::kMultiStatements | cap::kMultiResults |
                         cap::kPsMultiResults | cap::kPluginAuth | cap::kConnectAttrs |
                         cap::kPluginAuthLenencClientData | cap::kDeprecateEof;
    if (ssl)
        caps |= cap::kSsl;
    return caps;
}

// Protocol::HandshakeV10:
//   int<1> 0x0A, string<NUL> server version, int<4> connection id,
//   string<8> salt part 1, int<1> 0x00, int<2> capabilities (low 16 bits),
//   int<1> charset, int<2> status flags, int<2> capabilities (high 16 bits),
//   int<1> auth data length (salt + NUL = 21) or 0 without PLUGIN_AUTH, string<10> zeros,
//   [SECURE_CONNECTION] salt part 2 (12 bytes) + NUL (max(13, length - 8) bytes),
//   [PLUGIN_AUTH] string<NUL> auth plugin name
std::string buildHandshakeV10(const HandshakeV10& h) {
    std::string salt = h.salt;
    salt.resize(kSaltSize, '\0');
    std::string out;
    putInt1(out, 0x0A);
    putNulString(out, h.serverVersion);
    putInt4(out, h.connectionId);
    out.append(salt, 0, kSaltPart1);
    putInt1(out, 0);
    putInt2(out, std::uint16_t(h.capabilities));
    putInt1(out, h.charset);
    putInt2(out, h.statusFlags);
    putInt2(out, std::uint16_t(h.capabilities >> 16));
    putInt1(out, (h.capabilities & cap::kPluginAuth) ? std::uint8_t(kSaltSize + 1) : 0);
    out.append(10, '\0');
    if (h.capabilities & cap::kSecureConnection) {
        out.append(salt, kSaltPart1, std::string::npos);
        putInt1(out, 0);
    }
    if (h.capabilities & cap::kPluginAuth)
        putNulString(out, h.authPlugin);
    return out;
}

Result<HandshakeV10> parseHandshakeV10(std::string_view payload) {
    WireReader r(payload);
    HandshakeV10 h;
    if (r.int1() != 0x0A)
        r.fail();
    h.serverVersion = std::string(r.nulString());
    h.connectionId = r.int4();
    h.salt = std::string(r.bytes(kSaltPart1));
    r.int1(); // filler
    h.capabilities = r.int2();
    // Only the 4.1 form (with everything after the low capability bits) is accepted.
    h.charset = r.int1();
    h.statusFlags = r.int2();
    h.capabilities |= std::uint32_t(r.int2()) << 16;
    std::uint8_t authLength = r.int1();
    r.bytes(10);
    if (h.capabilities & cap::kSecureConnection) {
        std::size_t n = std::max<std::size_t>(13, authLength > 8 ? authLength - 8u : 0u);
        std::string_view part2 = r.bytes(n);
        if (!part2.empty() && part2.back() == '\0')
            part2.remove_suffix(1);
        h.salt.append(part2);
    }
    if (h.capabilities & cap::kPluginAuth)
        h.authPlugin = std::string(r.nulString());
    TROUPE_RETURN_IF_ERROR(r.status("handshake"));
    return h;
}

// Protocol::HandshakeResponse41 (SSLRequest: only the first 32 bytes):
//   int<4> capabilities, int<4> max packet size, int<1> charset, string<23> zeros,
//   string<NUL> user,
//   auth response: string<lenenc> [PLUGIN_AUTH_LENENC_CLIENT_DATA]
//                | int<1> length + bytes [SECURE_CONNECTION] | string<NUL>,
//   [CONNECT_WITH_DB] string<NUL> database, [PLUGIN_AUTH] string<NUL> plugin name,
//   [CONNECT_ATTRS] int<lenenc> length of the attributes, then lenenc key/value pairs.
// Like MySQL's server, a packet that ends right before an optional trailing field (database,
// plugin, attributes) is accepted without it; a field that starts and is cut short is not.
Result<HandshakeResponse> parseHandshakeResponse(std::string_view payload) {
    WireReader r(payload);
    HandshakeResponse resp;
    resp.capabilities = r.int4();
    resp.maxPacket = r.int4();
    resp.charset = r.int1();
    r.bytes(23);
    TROUPE_RETURN_IF_ERROR(r.status("handshake response"));
    if (!(resp.capabilities & cap::kProtocol41))
        return Status(ErrorCode::InvalidArgument, "client does not speak protocol 4.1");
    if (r.atEnd()) {
        if (!(resp.capabilities & cap::kSsl))
            return Status(ErrorCode::InvalidArgument, "malformed handshake response packet");
        resp.sslRequest = true;
        return resp;
    }
    resp.user = std::string(r.nulString());
    if (resp.capabilities & cap::kPluginAuthLenencClientData) {
        resp.authResponse = std::string(r.lenencString());
    } else if (resp.capabilities & cap::kSecureConnection) {
        std::uint8_t n = r.int1();
        resp.authResponse = std::string(r.bytes(n));
    } else {
        resp.authResponse = std::string(r.nulString());
    }
    if ((resp.capabilities & cap::kConnectWithDb) && r.ok() && !r.atEnd()) {
        resp.hasDatabase = true;
        resp.database = std::string(r.nulString());
    }
    if ((resp.capabilities & cap::kPluginAuth) && r.ok() && !r.atEnd())
        resp.authPlugin = std::string(r.nulString());
    if ((resp.capabilities & cap::kConnectAttrs) && r.ok() && !r.atEnd()) {
        std::uint64_t n = r.lenencInt();
        if (n > r.remaining())
            r.fail();
        WireReader attrs(r.bytes(std::size_t(n)));
        while (r.ok() && attrs.ok() && !attrs.atEnd()) {
            std::string key(attrs.lenencString());
            std::string value(attrs.lenencString());
            resp.connectAttrs.emplace_back(std::move(key), std::move(value));
        }
        if (!attrs.ok())
            r.fail();
    }
    TROUPE_RETURN_IF_ERROR(r.status("handshake response"));
    return resp;
}

// COM_CHANGE_USER: string<NUL> user; with SECURE_CONNECTION int<1> length + auth response,
// else string<NUL>; string<NUL> database; then, if there is more, int<2> charset, with
// PLUGIN_AUTH string<NUL> plugin, and with CONNECT_ATTRS the attributes (ignored).
Result<ChangeUser> parseChangeUser(std::string_view body, std::uint32_t capabilities) {
    WireReader r(body);
    ChangeUser c;
    c.user = std::string(r.nulString());
    if (capabilities & cap::kSecureConnection) {
        const std::uint8_t n = r.int1();
        c.authResponse = std::string(r.bytes(n));
    } else {
        c.authResponse = std::string(r.nulString());
    }
    c.database = std::string(r.nulString());
    if (r.ok() && !r.atEnd()) {
        r.int2(); // charset
        if ((capabilities & cap::kPluginAuth) && r.ok() && !r.atEnd())
            c.authPlugin = std::string(r.nulString());
    }
    TROUPE_RETURN_IF_ERROR(r.status("COM_CHANGE_USER"));
    return c;
}

std::string buildChangeUser(const ChangeUser& c, std::uint32_t capabilities) {
    std::string out;
    putNulString(out, c.user);
    if (capabilities & cap::kSecureConnection) {
        putInt1(out, std::uint8_t(std::min<std::size_t>(c.authResponse.size(), 255)));
        out.append(c.authResponse.substr(0, 255));
    } else {
        putNulString(out, c.authResponse);
    }
    putNulString(out, c.database);
    putInt2(out, kCharsetUtf8mb4);
    if (capabilities & cap::kPluginAuth)
        putNulString(out, c.authPlugin);
    return out;
}

std::string buildHandshakeResponse(const HandshakeResponse& resp) {
    std::string out;
    putInt4(out, resp.capabilities);
    putInt4(out, resp.maxPacket);
    putInt1(out, resp.charset);
    out.append(23, '\0');
    if (resp.sslRequest)
        return out;
    putNulString(out, resp.user);
    if (resp.capabilities & cap::kPluginAuthLenencClientData) {
        putLenencString(out, resp.authResponse);
    } else if (resp.capabilities & cap::kSecureConnection) {
        putInt1(out, std::uint8_t(std::min<std::size_t>(resp.authResponse.size(), 255)));
        out.append(resp.authResponse, 0, 255);
    } else {
        putNulString(out, resp.authResponse);
    }
    if (resp.capabilities & cap::kConnectWithDb)
        putNulString(out, resp.database);
    if (resp.capabilities & cap::kPluginAuth)
        putNulString(out, resp.authPlugin);
    if (resp.capabilities & cap::kConnectAttrs) {
        std::string attrs;
        for (const auto& [key, value] : resp.connectAttrs) {
            putLenencString(attrs, key);
            putLenencString(attrs, value);
        }
        putLenencString(out, attrs);
    }
    return out;
}

// OK_Packet: int<1> 0x00 (0xFE when it ends a result set under DEPRECATE_EOF),
//   int<lenenc> affected rows, int<lenenc> last insert id, int<2> status flags,
//   int<2> warnings, string<EOF> info (we never announce CLIENT_SESSION_TRACK).
std::string buildOk(const OkPacket& ok, bool asEof) {
    std::string out;
    putInt1(out, asEof ? kHeaderEof : kHeaderOk);
    putLenencInt(out, ok.affectedRows);
    putLenencInt(out, ok.lastInsertId);
    putInt2(out, ok.statusFlags);
    putInt2(out, ok.warnings);
    out.append(ok.info);
    return out;
}

Result<OkPacket> parseOk(std::string_view payload) {
    WireReader r(payload);
    OkPacket ok;
    std::uint8_t header = r.int1();
    if (header != kHeaderOk && header != kHeaderEof)
        r.fail();
    ok.affectedRows = r.lenencInt();
    ok.lastInsertId = r.lenencInt();
    ok.statusFlags = r.int2();
    ok.warnings = r.int2();
    ok.info = std::string(r.rest());
    TROUPE_RETURN_IF_ERROR(r.status("OK"));
    return ok;
}

// ERR_Packet: int<1> 0xFF, int<2> error code, '#', string<5> SQLSTATE, string<EOF> message.
std::string buildErr(const ErrPacket& err) {
    std::string out;
    putInt1(out, kHeaderErr);
    putInt2(out, err.code);
    out.push_back('#');
    out.append(err.sqlState.size() == 5 ? std::string_view(err.sqlState) : "HY000");
    out.append(err.message);
    return out;
}

std::string buildErr(const Status& st) {
    MysqlError e = mysqlErrorFor(st);
    return buildErr(ErrPacket{e.code, std::string(e.sqlState), st.message()});
}

Result<ErrPacket> parseErr(std::string_view payload) {
    WireReader r(payload);
    ErrPacket err;
    if (r.int1() != kHeaderErr)
        r.fail();
    err.code = r.int2();
    if (r.int1() != '#')
        r.fail();
    err.sqlState = std::string(r.bytes(5));
    err.message = std::string(r.rest());
    TROUPE_RETURN_IF_ERROR(r.status("ERR"));
    return err;
}

// EOF_Packet: int<1> 0xFE, int<2> warnings, int<2> status flags.
std::string buildEof(std::uint16_t statusFlags, std::uint16_t warnings) {
    std::string out;
    putInt1(out, kHeaderEof);
    putInt2(out, warnings);
    putInt2(out, statusFlags);
    return out;
}

std::string buildResultSetEnd(std::uint32_t clientCapabilities, std::uint16_t statusFlags,
                              std::uint16_t warnings) {
    if (clientCapabilities & cap::kDeprecateEof) {
        OkPacket ok;
        ok.statusFlags = statusFlags;
        ok.warnings = warnings;
        return buildOk(ok, true);
    }
    return buildEof(statusFlags, warnings);
}

// AuthSwitchRequest: int<1> 0xFE, string<NUL> plugin name, string<EOF> plugin data.
std::string buildAuthSwitchRequest(std::string_view plugin, std::string_view data) {
    std::string out;
    putInt1(out, kHeaderEof);
    putNulString(out, plugin);
    putNulString(out, data);
    return out;
}

// AuthMoreData: int<1> 0x01, string<EOF> data.
std::string buildAuthMoreData(std::string_view data) {
    std::string out;
    putInt1(out, kHeaderAuthMoreData);
    out.append(data);
    return out;
}

} // namespace troupe::mysql
