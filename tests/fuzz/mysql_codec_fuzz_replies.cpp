// The MySQL codec fuzz target's modes for what a server sends: result sets built from values a
// client controls (through statement parameters), checked by reading them back, and the
// client-side parsers of the handshake, OK, ERR and column definitions (see mysql_codec_fuzz.h).

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "mysql/messages.h"
#include "mysql/resultset.h"
#include "mysql/wire.h"
#include "mysql_codec_fuzz.h"

namespace troupe::fuzz {

using namespace troupe::mysql;

namespace {

sql::Value readValue(FuzzInput& in) {
    switch (in.byte() % 5) {
    case 1: {
        std::uint64_t bits = 0;
        for (char c : in.bytes(8))
            bits = bits << 8 | std::uint8_t(c);
        return std::int64_t(bits);
    }
    case 2: {
        std::uint64_t bits = 0;
        for (char c : in.bytes(8))
            bits = bits << 8 | std::uint8_t(c);
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return d;
    }
    case 3:
        return std::string(in.bytes(in.byte()));
    case 4:
        return sql::Blob{std::string(in.bytes(in.byte()))};
    default:
        return {};
    }
}

void checkTextRow(const std::vector<sql::Value>& row) {
    const std::string text = buildTextRow(row);
    WireReader r(text);
    for (const sql::Value& v : row) {
        if (std::holds_alternative<std::monostate>(v)) {
            TROUPE_FUZZ_CHECK(r.int1() == 0xFB);
        } else {
            const std::string expected = valueText(v);
            TROUPE_FUZZ_CHECK(r.lenencString() == expected);
            // Reals are written in the shortest form that reads back the same.
            if (const auto* d = std::get_if<double>(&v); d && std::isfinite(*d)) {
                double back = 0;
                auto [end, ec] =
                    std::from_chars(expected.data(), expected.data() + expected.size(), back);
                TROUPE_FUZZ_CHECK(ec == std::errc() && end == expected.data() + expected.size());
                TROUPE_FUZZ_CHECK(back == *d);
            }
        }
    }
    TROUPE_FUZZ_CHECK(r.ok() && r.atEnd());
}

void checkBinaryRow(const std::vector<ColumnDef>& defs, const std::vector<sql::Value>& row) {
    const std::string binary = buildBinaryRow(defs, row);
    WireReader r(binary);
    TROUPE_FUZZ_CHECK(r.int1() == 0x00);
    const std::string_view bitmap = r.bytes((defs.size() + 9) / 8);
    TROUPE_FUZZ_CHECK(r.ok());
    for (std::size_t bit = 0; bit < bitmap.size() * 8; ++bit) {
        const bool set = (std::uint8_t(bitmap[bit / 8]) >> (bit % 8)) & 1u;
        if (bit < 2 || bit >= defs.size() + 2) {
            TROUPE_FUZZ_CHECK(!set);
            continue;
        }
        const sql::Value& v = row[bit - 2];
        const ColumnDef& def = defs[bit - 2];
        TROUPE_FUZZ_CHECK(
            set == (std::holds_alternative<std::monostate>(v) || def.type == ColumnType::Null));
        if (set)
            continue;
        if (def.type == ColumnType::LongLong || def.type == ColumnType::Double) {
            const std::uint64_t bits = r.int8();
            if (const auto* i = std::get_if<std::int64_t>(&v);
                i && def.type == ColumnType::LongLong)
                TROUPE_FUZZ_CHECK(std::int64_t(bits) == *i);
            if (const auto* d = std::get_if<double>(&v); d && def.type == ColumnType::Double)
                TROUPE_FUZZ_CHECK(std::memcmp(&bits, d, sizeof bits) == 0);
        } else {
            const std::string_view s = r.lenencString();
            if (const auto* t = std::get_if<std::string>(&v))
                TROUPE_FUZZ_CHECK(s == *t);
            if (const auto* b = std::get_if<sql::Blob>(&v))
                TROUPE_FUZZ_CHECK(s == b->bytes);
        }
    }
    TROUPE_FUZZ_CHECK(r.ok() && r.atEnd());
}

} // namespace

// Input: which parser (HandshakeV10, OK, ERR, ColumnDefinition41, by value modulo 4), payload.
void fuzzClientParsers(FuzzInput& in) {
    const std::uint8_t which = in.byte() % 4;
    const std::string_view payload = in.rest();
    if (which == 0) {
        auto h = parseHandshakeV10(payload);
        if (!h)
            return;
        TROUPE_FUZZ_CHECK(h->serverVersion.size() + h->salt.size() <= payload.size());
        auto again = parseHandshakeV10(buildHandshakeV10(*h));
        TROUPE_FUZZ_CHECK(again.isOk());
        TROUPE_FUZZ_CHECK(again->serverVersion == h->serverVersion);
        TROUPE_FUZZ_CHECK(again->connectionId == h->connectionId);
        TROUPE_FUZZ_CHECK(again->capabilities == h->capabilities);
        TROUPE_FUZZ_CHECK(again->charset == h->charset && again->statusFlags == h->statusFlags);
        std::string salt = h->salt; // the builder sends exactly kSaltSize bytes
        salt.resize((h->capabilities & cap::kSecureConnection) ? kSaltSize : 8, '\0');
        TROUPE_FUZZ_CHECK(again->salt == salt);
        if (h->capabilities & cap::kPluginAuth)
            TROUPE_FUZZ_CHECK(again->authPlugin == h->authPlugin);
    } else if (which == 1) {
        auto ok = parseOk(payload);
        if (!ok)
            return;
        auto again = parseOk(buildOk(*ok, payload[0] != 0));
        TROUPE_FUZZ_CHECK(again.isOk() && again->affectedRows == ok->affectedRows &&
                          again->lastInsertId == ok->lastInsertId &&
                          again->statusFlags == ok->statusFlags &&
                          again->warnings == ok->warnings && again->info == ok->info);
    } else if (which == 2) {
        auto err = parseErr(payload);
        if (!err)
            return;
        TROUPE_FUZZ_CHECK(err->sqlState.size() == 5);
        auto again = parseErr(buildErr(*err));
        TROUPE_FUZZ_CHECK(again.isOk() && again->code == err->code &&
                          again->sqlState == err->sqlState && again->message == err->message);
    } else {
        auto c = parseColumnDefinition(payload);
        if (!c)
            return;
        TROUPE_FUZZ_CHECK(c->name.size() <= payload.size());
        auto again = parseColumnDefinition(buildColumnDefinition(*c, "schema"));
        TROUPE_FUZZ_CHECK(again.isOk() && again->name == c->name && again->type == c->type &&
                          again->charset == c->charset && again->length == c->length &&
                          again->flags == c->flags && again->decimals == c->decimals);
    }
}

// Input: the column count (value % 9), the row count (value % 5), then the values row by row,
// each a tag (value % 5: NULL, integer int<8>, real (IEEE bits) int<8>, text or blob of a
// one-byte length); values past the end of the input are NULL.
void fuzzRows(FuzzInput& in) {
    sql::ExecResult result;
    const std::size_t columns = in.byte() % 9;
    const std::size_t rowCount = in.byte() % 5;
    for (std::size_t c = 0; c < columns; ++c)
        result.columns.push_back("c" + std::to_string(c));
    for (std::size_t i = 0; i < rowCount; ++i) {
        auto& row = result.rows.emplace_back();
        for (std::size_t c = 0; c < columns; ++c)
            row.push_back(readValue(in));
    }

    const std::vector<ColumnDef> defs = columnDefsFor(result);
    TROUPE_FUZZ_CHECK(defs.size() == columns);
    const std::string countPayload = buildColumnCount(columns);
    WireReader count(countPayload);
    TROUPE_FUZZ_CHECK(count.lenencInt() == columns && count.ok() && count.atEnd());
    for (const ColumnDef& def : defs) {
        auto back = parseColumnDefinition(buildColumnDefinition(def, "user.alice"));
        TROUPE_FUZZ_CHECK(back.isOk() && back->name == def.name && back->type == def.type &&
                          back->charset == def.charset && back->length == def.length &&
                          back->flags == def.flags && back->decimals == def.decimals);
    }
    for (const auto& row : result.rows) {
        checkTextRow(row);
        checkBinaryRow(defs, row);
    }
}

} // namespace troupe::fuzz
