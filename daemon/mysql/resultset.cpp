#include "mysql/resultset.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

#include "mysql/messages.h"
#include "mysql/wire.h"

namespace troupe::mysql {

namespace {

constexpr std::uint8_t kNotFixedDecimals = 0x1F;
constexpr std::uint8_t kNullInRow = 0xFB;
constexpr std::size_t kBinaryBitmapOffset = 2;

std::int64_t toInt64(const sql::Value& v) {
    if (const auto* i = std::get_if<std::int64_t>(&v))
        return *i;
    if (const auto* d = std::get_if<double>(&v)) {
        if (std::isnan(*d))
            return 0;
        if (*d >= 9223372036854775807.0)
            return std::numeric_limits<std::int64_t>::max();
        if (*d <= -9223372036854775808.0)
            return std::numeric_limits<std::int64_t>::min();
        return std::int64_t(*d);
    }
    std::string_view s;
    if (const auto* t = std::get_if<std::string>(&v))
        s = *t;
    else if (const auto* b = std::get_if<sql::Blob>(&v))
        s = b->bytes;
    std::int64_t out = 0;
    std::from_chars(s.data(), s.data() + s.size(), out);
    return out;
}

double toDouble(const sql::Value& v) {
    if (const auto* d = std::get_if<double>(&v))
        return *d;
    if (const auto* i = std::get_if<std::int64_t>(&v))
        return double(*i);
    std::string_view s;
    if (const auto* t = std::get_if<std::string>(&v))
        s = *t;
    else if (const auto* b = std::get_if<sql::Blob>(&v))
        s = b->bytes;
    double out = 0;
    std::from_chars(s.data(), s.data() + s.size(), out);
    return out;
}

} // namespace

std::string valueText(const sql::Value& v) {
    if (const auto* i = std::get_if<std::int64_t>(&v))
        return std::to_string(*i);
    if (const auto* d = std::get_if<double>(&v)) {
        char buf[64];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
        return ec == std::errc() ? std::string(buf, end) : std::string();
    }
    if (const auto* t = std::get_if<std::string>(&v))
        return *t;
    if (const auto* b = std::get_if<sql::Blob>(&v))
        return b->bytes;
    return {};
}

ColumnDef columnDefFor(std::string name, const sql::Value& sample) {
    ColumnDef c;
    c.name = std::move(name);
    switch (sample.index()) {
    case 1: // integer
        c.type = ColumnType::LongLong;
        c.charset = kCharsetBinary;
        c.length = 20;
        c.flags = colflag::kBinary;
        break;
    case 2: // real
        c.type = ColumnType::Double;
        c.charset = kCharsetBinary;
        c.length = 22;
        c.flags = colflag::kBinary;
        c.decimals = kNotFixedDecimals;
        break;
    case 3: // text
        c.type = ColumnType::VarString;
        c.charset = kCharsetUtf8mb4;
        c.length = 65535 * 4; // VARCHAR(65535) in utf8mb4
        break;
    case 4: // blob
        c.type = ColumnType::Blob;
        c.charset = kCharsetBinary;
        c.length = 0xFFFFFFFF; // LONGBLOB
        c.flags = colflag::kBlob | colflag::kBinary;
        break;
    default:
        c.type = ColumnType::Null;
        c.charset = kCharsetBinary;
        c.flags = colflag::kBinary;
        break;
    }
    return c;
}

std::vector<ColumnDef> columnDefsFor(const std::vector<std::string>& names,
                                     const std::vector<std::vector<sql::Value>>& rows) {
    std::vector<ColumnDef> defs;
    defs.reserve(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        sql::Value sample;
        for (const auto& row : rows) {
            if (i < row.size() && !std::holds_alternative<std::monostate>(row[i])) {
                sample = row[i];
                break;
            }
        }
        defs.push_back(columnDefFor(names[i], sample));
    }
    return defs;
}

std::vector<ColumnDef> columnDefsFor(const sql::ExecResult& result) {
    return columnDefsFor(result.columns, result.rows);
}

std::string buildColumnCount(std::uint64_t count) {
    std::string out;
    putLenencInt(out, count);
    return out;
}

// ColumnDefinition41: string<lenenc> catalog ("def"), schema, table, org_table, name,
// org_name; int<lenenc> 0x0C (length of the fixed fields), int<2> charset, int<4> column
// length, int<1> type, int<2> flags, int<1> decimals, int<2> filler.
std::string buildColumnDefinition(const ColumnDef& column, std::string_view schema) {
    std::string out;
    putLenencString(out, "def");
    putLenencString(out, schema);
    putLenencString(out, "");
    putLenencString(out, "");
    putLenencString(out, column.name);
    putLenencString(out, column.name);
    putLenencInt(out, 0x0C);
    putInt2(out, column.charset);
    putInt4(out, column.length);
    putInt1(out, std::uint8_t(column.type));
    putInt2(out, column.flags);
    putInt1(out, column.decimals);
    putInt2(out, 0);
    return out;
}

Result<ColumnDef> parseColumnDefinition(std::string_view payload) {
    WireReader r(payload);
    ColumnDef c;
    if (r.lenencString() != "def")
        r.fail();
    r.lenencString(); // schema
    r.lenencString(); // table
    r.lenencString(); // org_table
    c.name = std::string(r.lenencString());
    r.lenencString(); // org_name
    if (r.lenencInt() != 0x0C)
        r.fail();
    c.charset = r.int2();
    c.length = r.int4();
    c.type = ColumnType(r.int1());
    c.flags = r.int2();
    c.decimals = r.int1();
    r.int2();
    TROUPE_RETURN_IF_ERROR(r.status("column definition"));
    return c;
}

std::string buildTextRow(const std::vector<sql::Value>& row) {
    std::string out;
    for (const auto& v : row) {
        if (std::holds_alternative<std::monostate>(v))
            putInt1(out, kNullInRow);
        else if (const auto* t = std::get_if<std::string>(&v))
            putLenencString(out, *t);
        else if (const auto* b = std::get_if<sql::Blob>(&v))
            putLenencString(out, b->bytes);
        else
            putLenencString(out, valueText(v));
    }
    return out;
}

// ProtocolBinary::ResultsetRow: int<1> 0x00, NULL bitmap of (columns + 7 + 2) / 8 bytes in
// which column i is bit (i + 2), then each non-NULL value: LONGLONG int<8>, DOUBLE the IEEE
// bits as int<8>, strings and blobs string<lenenc>.
std::string buildBinaryRow(const std::vector<ColumnDef>& columns,
                           const std::vector<sql::Value>& row) {
    std::string out;
    putInt1(out, 0x00);
    std::size_t bitmapAt = out.size();
    out.append((columns.size() + 7 + kBinaryBitmapOffset) / 8, '\0');
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const sql::Value none;
        const sql::Value& v = i < row.size() ? row[i] : none;
        if (std::holds_alternative<std::monostate>(v) || columns[i].type == ColumnType::Null) {
            std::size_t bit = i + kBinaryBitmapOffset;
            out[bitmapAt + bit / 8] =
                char(std::uint8_t(out[bitmapAt + bit / 8]) | (1u << (bit % 8)));
            continue;
        }
        switch (columns[i].type) {
        case ColumnType::LongLong:
            putInt8(out, std::uint64_t(toInt64(v)));
            break;
        case ColumnType::Double: {
            double d = toDouble(v);
            std::uint64_t bits;
            static_assert(sizeof bits == sizeof d);
            std::memcpy(&bits, &d, sizeof d);
            putInt8(out, bits);
            break;
        }
        default:
            if (const auto* t = std::get_if<std::string>(&v))
                putLenencString(out, *t);
            else if (const auto* b = std::get_if<sql::Blob>(&v))
                putLenencString(out, b->bytes);
            else
                putLenencString(out, valueText(v));
            break;
        }
    }
    return out;
}

std::string buildStmtPrepareOk(std::uint32_t statementId, std::uint16_t columns,
                               std::uint16_t params, std::uint16_t warnings) {
    std::string out;
    putInt1(out, 0x00);
    putInt4(out, statementId);
    putInt2(out, columns);
    putInt2(out, params);
    putInt1(out, 0x00);
    putInt2(out, warnings);
    return out;
}

} // namespace troupe::mysql
