#include "mysql/stmt_execute.h"

#include <cstdio>
#include <cstring>
#include <limits>

#include "mysql/messages.h"
#include "mysql/resultset.h"
#include "mysql/wire.h"

namespace troupe::mysql {

namespace {

constexpr std::uint8_t kUnsignedFlag = 0x80;

std::string twoDigits(unsigned v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02u", v % 100u);
    return buf;
}

std::string microsText(std::uint32_t micros) {
    char buf[16];
    std::snprintf(buf, sizeof buf, ".%06u", unsigned(micros % 1000000u));
    return buf;
}

// ":MM:SS". Appended piecewise: GCC 12 warns (-Wrestrict, a false positive) on
// "x" + std::string.
void appendMinutesSeconds(std::string& s, unsigned minute, unsigned second) {
    s += ':';
    s += twoDigits(minute);
    s += ':';
    s += twoDigits(second);
}

// MYSQL_TIME for DATE/DATETIME/TIMESTAMP: int<1> length (0, 4, 7 or 11), int<2> year,
// int<1> month, int<1> day, [int<1> hour, minute, second], [int<4> microseconds].
sql::Value readDateTime(WireReader& r, bool dateOnly) {
    std::uint8_t n = r.int1();
    if (n != 0 && n != 4 && n != 7 && n != 11) {
        r.fail();
        return {};
    }
    unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    std::uint32_t micros = 0;
    if (n >= 4) {
        year = r.int2();
        month = r.int1();
        day = r.int1();
    }
    if (n >= 7) {
        hour = r.int1();
        minute = r.int1();
        second = r.int1();
    }
    if (n == 11)
        micros = r.int4();
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04u", year % 10000u);
    std::string s = std::string(buf) + "-" + twoDigits(month) + "-" + twoDigits(day);
    if (dateOnly)
        return s;
    s += ' ';
    s += twoDigits(hour);
    appendMinutesSeconds(s, minute, second);
    if (micros != 0)
        s += microsText(micros);
    return s;
}

// MYSQL_TIME for TIME: int<1> length (0, 8 or 12), int<1> is_negative, int<4> days,
// int<1> hour, minute, second, [int<4> microseconds].
sql::Value readTime(WireReader& r) {
    std::uint8_t n = r.int1();
    if (n != 0 && n != 8 && n != 12) {
        r.fail();
        return {};
    }
    bool negative = false;
    std::uint64_t hours = 0;
    unsigned minute = 0, second = 0;
    std::uint32_t micros = 0;
    if (n >= 8) {
        negative = r.int1() != 0;
        hours = std::uint64_t(r.int4()) * 24;
        hours += r.int1();
        minute = r.int1();
        second = r.int1();
    }
    if (n == 12)
        micros = r.int4();
    std::string h = std::to_string(hours);
    std::string s = negative ? "-" : "";
    if (h.size() < 2)
        s += '0';
    s += h;
    appendMinutesSeconds(s, minute, second);
    if (micros != 0)
        s += microsText(micros);
    return s;
}

sql::Value readValue(WireReader& r, ParamType t) {
    switch (ColumnType(t.type)) {
    case ColumnType::Null:
        return {};
    case ColumnType::Tiny: {
        std::uint8_t v = r.int1();
        return t.isUnsigned ? std::int64_t(v) : std::int64_t(std::int8_t(v));
    }
    case ColumnType::Short:
    case ColumnType::Year: {
        std::uint16_t v = r.int2();
        return t.isUnsigned ? std::int64_t(v) : std::int64_t(std::int16_t(v));
    }
    case ColumnType::Long:
    case ColumnType::Int24: {
        std::uint32_t v = r.int4();
        return t.isUnsigned ? std::int64_t(v) : std::int64_t(std::int32_t(v));
    }
    case ColumnType::LongLong: {
        std::uint64_t v = r.int8();
        if (t.isUnsigned && v > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
            return double(v);
        return std::int64_t(v);
    }
    case ColumnType::Float: {
        std::uint32_t bits = r.int4();
        float f;
        std::memcpy(&f, &bits, sizeof f);
        return double(f);
    }
    case ColumnType::Double: {
        std::uint64_t bits = r.int8();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return d;
    }
    case ColumnType::Date:
        return readDateTime(r, true);
    case ColumnType::DateTime:
    case ColumnType::Timestamp:
        return readDateTime(r, false);
    case ColumnType::Time:
        return readTime(r);
    case ColumnType::Decimal:
    case ColumnType::NewDecimal:
    case ColumnType::VarChar:
    case ColumnType::VarString:
    case ColumnType::String:
    case ColumnType::Enum:
    case ColumnType::Set:
    case ColumnType::Json:
        return std::string(r.lenencString());
    case ColumnType::TinyBlob:
    case ColumnType::MediumBlob:
    case ColumnType::LongBlob:
    case ColumnType::Blob:
    case ColumnType::Bit:
    case ColumnType::Geometry:
        return sql::Blob{std::string(r.lenencString())};
    }
    r.fail();
    return {};
}

bool knownType(std::uint8_t t) {
    return t <= 0x10 ? t != 0x0E : t >= 0xF5; // 0x0E (NEWDATE) is server-internal
}

} // namespace

Result<std::uint32_t> peekStmtExecuteId(std::string_view payload) {
    WireReader r(payload);
    if (r.int1() != com::kStmtExecute)
        r.fail();
    std::uint32_t id = r.int4();
    TROUPE_RETURN_IF_ERROR(r.status("COM_STMT_EXECUTE"));
    return id;
}

Result<StmtExecute> parseStmtExecute(std::string_view payload, std::size_t paramCount,
                                     const std::vector<ParamType>& boundTypes,
                                     const std::vector<bool>& longData) {
    WireReader r(payload);
    StmtExecute ex;
    if (r.int1() != com::kStmtExecute)
        r.fail();
    ex.statementId = r.int4();
    ex.flags = r.int1();
    ex.iterationCount = r.int4();
    TROUPE_RETURN_IF_ERROR(r.status("COM_STMT_EXECUTE"));
    if (paramCount == 0) {
        if (!r.atEnd())
            return Status(ErrorCode::InvalidArgument, "COM_STMT_EXECUTE: unexpected parameters");
        return ex;
    }
    if (paramCount > payload.size() * 8) // the NULL bitmap alone would not fit
        return Status(ErrorCode::InvalidArgument, "malformed COM_STMT_EXECUTE packet");
    std::string_view nullBitmap = r.bytes((paramCount + 7) / 8);
    std::uint8_t bound = r.int1();
    TROUPE_RETURN_IF_ERROR(r.status("COM_STMT_EXECUTE"));
    if (bound > 1)
        return Status(ErrorCode::InvalidArgument, "COM_STMT_EXECUTE: bad new-params-bound flag");
    ex.newParamsBound = bound == 1;
    if (ex.newParamsBound) {
        ex.types.reserve(paramCount);
        for (std::size_t i = 0; i < paramCount && r.ok(); ++i) {
            std::uint8_t type = r.int1();
            std::uint8_t flags = r.int1();
            if (r.ok() && !knownType(type))
                return Status(ErrorCode::InvalidArgument,
                              "COM_STMT_EXECUTE: unknown parameter type " + std::to_string(type));
            ex.types.push_back(ParamType{type, (flags & kUnsignedFlag) != 0});
        }
        TROUPE_RETURN_IF_ERROR(r.status("COM_STMT_EXECUTE"));
    } else {
        if (boundTypes.size() != paramCount)
            return Status(ErrorCode::InvalidArgument,
                          "COM_STMT_EXECUTE: no parameter types bound for the statement");
        ex.types = boundTypes;
    }
    ex.params.resize(paramCount);
    for (std::size_t i = 0; i < paramCount; ++i) {
        bool isNull = (std::uint8_t(nullBitmap[i / 8]) >> (i % 8)) & 1u;
        bool isLong = i < longData.size() && longData[i];
        if (isNull || isLong)
            continue;
        ex.params[i] = readValue(r, ex.types[i]);
        TROUPE_RETURN_IF_ERROR(r.status("COM_STMT_EXECUTE"));
    }
    if (!r.atEnd())
        return Status(ErrorCode::InvalidArgument, "COM_STMT_EXECUTE: trailing bytes");
    return ex;
}

std::string buildStmtExecute(std::uint32_t statementId, const std::vector<ParamType>& types,
                             const std::vector<sql::Value>& values, bool newParamsBound) {
    std::string out;
    putInt1(out, com::kStmtExecute);
    putInt4(out, statementId);
    putInt1(out, 0);
    putInt4(out, 1);
    if (values.empty())
        return out;
    std::size_t bitmapAt = out.size();
    out.append((values.size() + 7) / 8, '\0');
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (std::holds_alternative<std::monostate>(values[i]))
            out[bitmapAt + i / 8] = char(std::uint8_t(out[bitmapAt + i / 8]) | (1u << (i % 8)));
    }
    putInt1(out, newParamsBound ? 1 : 0);
    if (newParamsBound) {
        for (const auto& t : types) {
            putInt1(out, t.type);
            putInt1(out, t.isUnsigned ? kUnsignedFlag : 0);
        }
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
        const sql::Value& v = values[i];
        if (std::holds_alternative<std::monostate>(v))
            continue;
        ColumnType type = i < types.size() ? ColumnType(types[i].type) : ColumnType::VarString;
        std::int64_t iv = std::holds_alternative<std::int64_t>(v) ? std::get<std::int64_t>(v) : 0;
        double dv = std::holds_alternative<double>(v) ? std::get<double>(v) : 0.0;
        switch (type) {
        case ColumnType::Null:
            break;
        case ColumnType::Tiny:
            putInt1(out, std::uint8_t(iv));
            break;
        case ColumnType::Short:
        case ColumnType::Year:
            putInt2(out, std::uint16_t(iv));
            break;
        case ColumnType::Long:
        case ColumnType::Int24:
            putInt4(out, std::uint32_t(iv));
            break;
        case ColumnType::LongLong:
            putInt8(out, std::uint64_t(iv));
            break;
        case ColumnType::Float: {
            float f = float(dv);
            std::uint32_t bits;
            std::memcpy(&bits, &f, sizeof f);
            putInt4(out, bits);
            break;
        }
        case ColumnType::Double: {
            std::uint64_t bits;
            std::memcpy(&bits, &dv, sizeof dv);
            putInt8(out, bits);
            break;
        }
        default:
            putLenencString(out, valueText(v));
            break;
        }
    }
    return out;
}

} // namespace troupe::mysql
