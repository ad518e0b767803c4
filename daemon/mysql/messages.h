#pragma once

// Connection-phase and generic response messages of the MySQL protocol (payloads only; framing
// is packet.h). Layouts follow the MySQL "Client/Server Protocol" documentation and are spelled
// out above each builder/parser in messages.cpp. Only protocol 4.1 is spoken: a client that does
// not set CLIENT_PROTOCOL_41 is refused.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace troupe::mysql {

// Capability flags (CLIENT_*).
namespace cap {
inline constexpr std::uint32_t kLongPassword = 1u << 0;
inline constexpr std::uint32_t kFoundRows = 1u << 1;
inline constexpr std::uint32_t kLongFlag = 1u << 2;
inline constexpr std::uint32_t kConnectWithDb = 1u << 3;
inline constexpr std::uint32_t kNoSchema = 1u << 4;
inline constexpr std::uint32_t kCompress = 1u << 5;
inline constexpr std::uint32_t kOdbc = 1u << 6;
inline constexpr std::uint32_t kLocalFiles = 1u << 7;
inline constexpr std::uint32_t kIgnoreSpace = 1u << 8;
inline constexpr std::uint32_t kProtocol41 = 1u << 9;
inline constexpr std::uint32_t kInteractive = 1u << 10;
inline constexpr std::uint32_t kSsl = 1u << 11;
inline constexpr std::uint32_t kIgnoreSigpipe = 1u << 12;
inline constexpr std::uint32_t kTransactions = 1u << 13;
inline constexpr std::uint32_t kReserved = 1u << 14;
inline constexpr std::uint32_t kSecureConnection = 1u << 15;
inline constexpr std::uint32_t kMultiStatements = 1u << 16;
inline constexpr std::uint32_t kMultiResults = 1u << 17;
inline constexpr std::uint32_t kPsMultiResults = 1u << 18;
inline constexpr std::uint32_t kPluginAuth = 1u << 19;
inline constexpr std::uint32_t kConnectAttrs = 1u << 20;
inline constexpr std::uint32_t kPluginAuthLenencClientData = 1u << 21;
inline constexpr std::uint32_t kCanHandleExpiredPasswords = 1u << 22;
inline constexpr std::uint32_t kSessionTrack = 1u << 23;
inline constexpr std::uint32_t kDeprecateEof = 1u << 24;
} // namespace cap

// Server status flags (SERVER_STATUS_*).
namespace status {
inline constexpr std::uint16_t kInTrans = 0x0001;
inline constexpr std::uint16_t kAutocommit = 0x0002;
inline constexpr std::uint16_t kMoreResultsExist = 0x0008;
inline constexpr std::uint16_t kNoGoodIndexUsed = 0x0010;
inline constexpr std::uint16_t kNoIndexUsed = 0x0020;
inline constexpr std::uint16_t kCursorExists = 0x0040;
inline constexpr std::uint16_t kLastRowSent = 0x0080;
inline constexpr std::uint16_t kNoBackslashEscapes = 0x0200;
} // namespace status

// Command bytes (COM_*), the first byte of every command payload.
namespace com {
inline constexpr std::uint8_t kQuit = 0x01;
inline constexpr std::uint8_t kInitDb = 0x02;
inline constexpr std::uint8_t kQuery = 0x03;
inline constexpr std::uint8_t kFieldList = 0x04;
inline constexpr std::uint8_t kPing = 0x0E;
inline constexpr std::uint8_t kChangeUser = 0x11;
inline constexpr std::uint8_t kStmtPrepare = 0x16;
inline constexpr std::uint8_t kStmtExecute = 0x17;
inline constexpr std::uint8_t kStmtSendLongData = 0x18;
inline constexpr std::uint8_t kStmtClose = 0x19;
inline constexpr std::uint8_t kStmtReset = 0x1A;
inline constexpr std::uint8_t kSetOption = 0x1B;
inline constexpr std::uint8_t kStmtFetch = 0x1C;
inline constexpr std::uint8_t kResetConnection = 0x1F;
} // namespace com

inline constexpr std::uint8_t kCharsetUtf8mb4 = 45; // utf8mb4_general_ci
inline constexpr std::uint8_t kCharsetBinary = 63;
inline constexpr std::string_view kNativePasswordPlugin = "mysql_native_password";
inline constexpr std::string_view kCachingSha2Plugin = "caching_sha2_password";
inline constexpr std::size_t kSaltSize = 20;

// What TroupeDB offers: protocol 4.1, secure connection, plugin auth (lenenc client data),
// connect-with-db, connect attrs, multi-statements/-results, PS multi-results, deprecate-EOF,
// transactions, and SSL when `ssl`.
std::uint32_t serverCapabilities(bool ssl);

struct HandshakeV10 {
    std::string serverVersion;
    std::uint32_t connectionId = 0;
    std::string salt; // kSaltSize bytes, none of them NUL (clients treat the salt as a C string)
    std::uint32_t capabilities = 0;
    std::uint8_t charset = kCharsetUtf8mb4;
    std::uint16_t statusFlags = status::kAutocommit;
    std::string authPlugin{kNativePasswordPlugin};
};
std::string buildHandshakeV10(const HandshakeV10& h);
// The client side (tests, fuzzing round trips).
Result<HandshakeV10> parseHandshakeV10(std::string_view payload);

// A HandshakeResponse41, or an SSLRequest (the same first 32 bytes, sent before the TLS
// handshake; then only capabilities, maxPacket and charset are set).
struct HandshakeResponse {
    bool sslRequest = false;
    std::uint32_t capabilities = 0;
    std::uint32_t maxPacket = 0;
    std::uint8_t charset = 0;
    std::string user;
    std::string authResponse;
    bool hasDatabase = false;
    std::string database;
    std::string authPlugin; // empty when the client sent none
    std::vector<std::pair<std::string, std::string>> connectAttrs;
};
Result<HandshakeResponse> parseHandshakeResponse(std::string_view payload);
// The client side (tests, fuzzing round trips). Writes the fields the capabilities call for.
std::string buildHandshakeResponse(const HandshakeResponse& r);

// COM_CHANGE_USER's body (after the command byte), as a client with `capabilities` sends it:
// the user, an auth response for the connection's old salt (not used: TroupeDB always asks
// again with a fresh salt), the database, and the plugin the response was made with.
struct ChangeUser {
    std::string user;
    std::string authResponse;
    std::string database;
    std::string authPlugin; // empty when the client sent none
};
Result<ChangeUser> parseChangeUser(std::string_view body, std::uint32_t capabilities);
std::string buildChangeUser(const ChangeUser& c, std::uint32_t capabilities); // tests

// OK packet. With `asEof` the header is 0xFE instead of 0x00: under CLIENT_DEPRECATE_EOF that
// OK ends a result set in place of the EOF packet.
struct OkPacket {
    std::uint64_t affectedRows = 0;
    std::uint64_t lastInsertId = 0;
    std::uint16_t statusFlags = status::kAutocommit;
    std::uint16_t warnings = 0;
    std::string info;
};
std::string buildOk(const OkPacket& ok, bool asEof = false);
Result<OkPacket> parseOk(std::string_view payload);

// ERR packet (protocol 4.1: with the '#' + SQLSTATE marker).
struct ErrPacket {
    std::uint16_t code = 0;
    std::string sqlState; // 5 characters
    std::string message;
};
std::string buildErr(const ErrPacket& err);
// An ERR for a TroupeDB error (errors.h maps the code, the message is the Status's).
std::string buildErr(const Status& status);
Result<ErrPacket> parseErr(std::string_view payload);

// EOF packet (clients without CLIENT_DEPRECATE_EOF).
std::string buildEof(std::uint16_t statusFlags, std::uint16_t warnings = 0);
// What ends a result set for a client with these capabilities: an OK with 0xFE header under
// DEPRECATE_EOF, an EOF packet otherwise.
std::string buildResultSetEnd(std::uint32_t clientCapabilities, std::uint16_t statusFlags,
                              std::uint16_t warnings = 0);

// AuthSwitchRequest: 0xFE, plugin name, plugin data followed by a NUL (what MySQL sends for
// mysql_native_password's 20-byte scramble).
std::string buildAuthSwitchRequest(std::string_view plugin, std::string_view data);
// AuthMoreData: 0x01 + data (caching_sha2_password's fast-auth result and key exchange).
std::string buildAuthMoreData(std::string_view data);

} // namespace troupe::mysql
