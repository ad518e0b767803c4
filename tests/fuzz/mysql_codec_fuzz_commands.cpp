// The MySQL codec fuzz target's modes for what a client sends: HandshakeResponse41 (and its
// SSLRequest form), COM_CHANGE_USER and COM_STMT_EXECUTE (see mysql_codec_fuzz.h).

#include <cmath>
#include <iterator>
#include <string>
#include <vector>

#include "mysql/messages.h"
#include "mysql/resultset.h"
#include "mysql/stmt_execute.h"
#include "mysql_codec_fuzz.h"

namespace troupe::fuzz {

using namespace troupe::mysql;

namespace {

constexpr ColumnType kTypes[] = {
    ColumnType::Decimal,   ColumnType::Tiny,       ColumnType::Short,    ColumnType::Long,
    ColumnType::Float,     ColumnType::Double,     ColumnType::Null,     ColumnType::Timestamp,
    ColumnType::LongLong,  ColumnType::Int24,      ColumnType::Date,     ColumnType::Time,
    ColumnType::DateTime,  ColumnType::Year,       ColumnType::VarChar,  ColumnType::Bit,
    ColumnType::Json,      ColumnType::NewDecimal, ColumnType::Enum,     ColumnType::Set,
    ColumnType::TinyBlob,  ColumnType::MediumBlob, ColumnType::LongBlob, ColumnType::Blob,
    ColumnType::VarString, ColumnType::String,     ColumnType::Geometry,
};

bool isTemporal(std::uint8_t t) {
    const auto c = ColumnType(t);
    return c == ColumnType::Date || c == ColumnType::Time || c == ColumnType::DateTime ||
           c == ColumnType::Timestamp;
}

bool sameValue(const sql::Value& a, const sql::Value& b) {
    const auto* x = std::get_if<double>(&a);
    const auto* y = std::get_if<double>(&b);
    if (x && y && std::isnan(*x) && std::isnan(*y))
        return true;
    return a == b;
}

std::size_t pickParamCount(std::uint8_t b) {
    constexpr std::size_t kLarge[] = {32, 64, 255, 256, 1000, 4096, 65535, 65536};
    return b >= 0xF8 ? kLarge[b - 0xF8] : b % 17;
}

} // namespace

// Input: a HandshakeResponse41 or SSLRequest payload.
void fuzzHandshakeResponse(FuzzInput& in) {
    const std::string_view payload = in.rest();
    auto r = parseHandshakeResponse(payload);
    if (!r)
        return;
    TROUPE_FUZZ_CHECK(r->capabilities & cap::kProtocol41);
    if (r->sslRequest) {
        TROUPE_FUZZ_CHECK(payload.size() == 32 && (r->capabilities & cap::kSsl));
        TROUPE_FUZZ_CHECK(r->user.empty() && r->authResponse.empty());
    }
    std::size_t fields =
        r->user.size() + r->authResponse.size() + r->database.size() + r->authPlugin.size();
    for (const auto& [key, value] : r->connectAttrs)
        fields += key.size() + value.size();
    TROUPE_FUZZ_CHECK(fields <= payload.size());
    TROUPE_FUZZ_CHECK(r->user.find('\0') == std::string::npos);
    TROUPE_FUZZ_CHECK(r->database.find('\0') == std::string::npos);
    TROUPE_FUZZ_CHECK(r->authPlugin.find('\0') == std::string::npos);
    if (!(r->capabilities & cap::kConnectWithDb))
        TROUPE_FUZZ_CHECK(!r->hasDatabase);
    if (!(r->capabilities & cap::kPluginAuthLenencClientData) &&
        (r->capabilities & cap::kSecureConnection))
        TROUPE_FUZZ_CHECK(r->authResponse.size() <= 255);

    // The client-side builder writes every field its capabilities name (an absent database as
    // an empty one), so only hasDatabase may change on the way back.
    auto again = parseHandshakeResponse(buildHandshakeResponse(*r));
    TROUPE_FUZZ_CHECK(again.isOk());
    TROUPE_FUZZ_CHECK(again->sslRequest == r->sslRequest);
    TROUPE_FUZZ_CHECK(again->capabilities == r->capabilities);
    TROUPE_FUZZ_CHECK(again->maxPacket == r->maxPacket && again->charset == r->charset);
    TROUPE_FUZZ_CHECK(again->user == r->user && again->authResponse == r->authResponse);
    TROUPE_FUZZ_CHECK(again->hasDatabase || !r->hasDatabase);
    TROUPE_FUZZ_CHECK(again->database == r->database && again->authPlugin == r->authPlugin);
    TROUPE_FUZZ_CHECK(again->connectAttrs == r->connectAttrs);
}

// Input: the connection's capabilities (bit 0: SECURE_CONNECTION, bit 1: PLUGIN_AUTH), then
// a COM_CHANGE_USER body (after the command byte).
void fuzzChangeUser(FuzzInput& in) {
    const std::uint8_t options = in.byte();
    std::uint32_t caps = cap::kProtocol41;
    if (options & 1)
        caps |= cap::kSecureConnection;
    if (options & 2)
        caps |= cap::kPluginAuth;
    const std::string_view body = in.rest();
    auto c = parseChangeUser(body, caps);
    if (!c)
        return;
    const std::size_t fields =
        c->user.size() + c->authResponse.size() + c->database.size() + c->authPlugin.size();
    TROUPE_FUZZ_CHECK(fields <= body.size());
    TROUPE_FUZZ_CHECK(c->user.find('\0') == std::string::npos);
    TROUPE_FUZZ_CHECK(c->database.find('\0') == std::string::npos);
    TROUPE_FUZZ_CHECK(c->authPlugin.find('\0') == std::string::npos);
    if (caps & cap::kSecureConnection)
        TROUPE_FUZZ_CHECK(c->authResponse.size() <= 255);
    else
        TROUPE_FUZZ_CHECK(c->authResponse.find('\0') == std::string::npos);
    if (!(caps & cap::kPluginAuth))
        TROUPE_FUZZ_CHECK(c->authPlugin.empty());

    auto again = parseChangeUser(buildChangeUser(*c, caps), caps);
    TROUPE_FUZZ_CHECK(again.isOk());
    TROUPE_FUZZ_CHECK(again->user == c->user && again->authResponse == c->authResponse);
    TROUPE_FUZZ_CHECK(again->database == c->database && again->authPlugin == c->authPlugin);
}

// Input: the statement's parameter count (pickParamCount), options (bit 0: types bound by an
// earlier execute follow, one byte per parameter: an index into kTypes, 0x80 = unsigned;
// bit 1: a mask of parameters sent as long data follows, one bit per parameter), the payload.
void fuzzStmtExecute(FuzzInput& in) {
    const std::size_t count = pickParamCount(in.byte());
    const std::uint8_t options = in.byte();
    std::vector<ParamType> bound;
    if (options & 1) {
        for (std::size_t i = 0; i < count; ++i) {
            const std::uint8_t b = in.byte();
            bound.push_back({std::uint8_t(kTypes[(b & 0x7F) % std::size(kTypes)]), b >= 0x80});
        }
    }
    std::vector<bool> longData;
    if (options & 2) {
        for (std::size_t i = 0; i < count; i += 8) {
            const std::uint8_t b = in.byte();
            for (std::size_t j = i; j < count && j < i + 8; ++j)
                longData.push_back((b >> (j - i)) & 1);
        }
    }
    const std::string_view payload = in.rest();

    auto id = peekStmtExecuteId(payload);
    TROUPE_FUZZ_CHECK(id.isOk() == (payload.size() >= 5 && payload[0] == com::kStmtExecute));
    auto ex = parseStmtExecute(payload, count, bound, longData);
    if (!ex)
        return;
    TROUPE_FUZZ_CHECK(id.isOk() && *id == ex->statementId);
    TROUPE_FUZZ_CHECK(ex->params.size() == count && ex->types.size() == count);
    if (!ex->newParamsBound)
        TROUPE_FUZZ_CHECK(ex->types == bound);
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const sql::Value& v = ex->params[i];
        const bool isNull = (std::uint8_t(payload[10 + i / 8]) >> (i % 8)) & 1u;
        if (isNull || (i < longData.size() && longData[i]))
            TROUPE_FUZZ_CHECK(std::holds_alternative<std::monostate>(v));
        if (const auto* s = std::get_if<std::string>(&v); s && !isTemporal(ex->types[i].type))
            bytes += s->size();
        if (const auto* b = std::get_if<sql::Blob>(&v))
            bytes += b->bytes.size();
    }
    TROUPE_FUZZ_CHECK(bytes <= payload.size());

    // The client-side encoder writes integers in their type's width, reals as FLOAT/DOUBLE and
    // strings as strings: decoded values of those types come back unchanged. (It sends dates
    // and times as strings, and an unsigned LONGLONG above INT64_MAX was decoded as a real.)
    for (std::size_t i = 0; i < count; ++i) {
        if (isTemporal(ex->types[i].type) ||
            (ex->types[i].type == std::uint8_t(ColumnType::LongLong) &&
             std::holds_alternative<double>(ex->params[i])))
            return;
    }
    auto again =
        parseStmtExecute(buildStmtExecute(ex->statementId, ex->types, ex->params), count, {});
    TROUPE_FUZZ_CHECK(again.isOk());
    TROUPE_FUZZ_CHECK(again->statementId == ex->statementId && again->types == ex->types);
    for (std::size_t i = 0; i < count; ++i)
        TROUPE_FUZZ_CHECK(sameValue(again->params[i], ex->params[i]));
}

} // namespace troupe::fuzz
