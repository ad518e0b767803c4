#include "thrift/convert.h"

#include <algorithm>
#include <cstdlib>

#include "sql/sql_text.h"

namespace troupe::thrift {

gen::ErrorCode::type thriftErrorCode(ErrorCode code) {
    switch (code) {
    case ErrorCode::NotLoggedIn:
        return gen::ErrorCode::NotLoggedIn;
    case ErrorCode::EmptyActorName:
        return gen::ErrorCode::EmptyActorName;
    case ErrorCode::InvalidActorName:
        return gen::ErrorCode::InvalidActorName;
    case ErrorCode::InvalidType:
        return gen::ErrorCode::InvalidType;
    case ErrorCode::NotPermitted:
        return gen::ErrorCode::NotPermitted;
    case ErrorCode::SqlError:
    case ErrorCode::InvalidArgument: // a request the dialect or SQLite rejects
        return gen::ErrorCode::SqlError;
    case ErrorCode::ConsensusTimeout:
        return gen::ErrorCode::ConsensusTimeout;
    case ErrorCode::ConsensusImpossibleAtm:
    case ErrorCode::NotLeader:
        return gen::ErrorCode::ConsensusImpossibleAtm;
    case ErrorCode::NoCreate:
        return gen::ErrorCode::NoCreate;
    case ErrorCode::NotInitialized:
        return gen::ErrorCode::NotInitialized;
    case ErrorCode::Timeout:     // ActorDB has no code for these: Error, with info
    case ErrorCode::Interrupted: // "timeout: ..." / "interrupted: ..." (resources/docs/thrift.md)
        return gen::ErrorCode::Error;
    default:
        return gen::ErrorCode::Error;
    }
}

gen::InvalidRequestException invalidRequest(const Status& status) {
    gen::InvalidRequestException e;
    e.code = thriftErrorCode(status.code());
    e.info = e.code == gen::ErrorCode::Error ? status.toString() : status.message();
    return e;
}

Result<sql::Value> fromVal(const gen::Val& val) {
    const auto& set = val.__isset;
    if (set.bigint)
        return sql::Value(std::int64_t(val.bigint));
    if (set.integer)
        return sql::Value(std::int64_t(val.integer));
    if (set.smallint)
        return sql::Value(std::int64_t(val.smallint));
    if (set.real)
        return sql::Value(val.real);
    if (set.bval)
        return sql::Value(std::int64_t(val.bval ? 1 : 0));
    if (set.text)
        return sql::Value(val.text);
    if (set.blob)
        return sql::Value(sql::Blob{val.blob});
    if (set.isnull)
        return sql::Value(std::monostate{});
    return Status(ErrorCode::InvalidArgument, "a parameter Val has no member set");
}

gen::Val toVal(const sql::Value& value) {
    gen::Val v;
    if (std::holds_alternative<std::int64_t>(value))
        v.__set_bigint(std::get<std::int64_t>(value));
    else if (std::holds_alternative<double>(value))
        v.__set_real(std::get<double>(value));
    else if (std::holds_alternative<std::string>(value))
        v.__set_text(std::get<std::string>(value));
    else if (std::holds_alternative<sql::Blob>(value))
        v.__set_blob(std::get<sql::Blob>(value).bytes);
    else
        v.__set_isnull(true);
    return v;
}

Result<sql::ExecFlags> parseFlags(const std::vector<std::string>& flags) {
    sql::ExecFlags out;
    for (const std::string& f : flags) {
        const std::string name = sql::lower(sql::trim(f));
        if (name == "create")
            out.create = true;
        else if (name == "safe")
            out.safe = true;
        else if (name == "fsync")
            out.fsync = true;
        else if (!name.empty())
            return Status(ErrorCode::InvalidArgument,
                          "unknown flag '" + f + "' (expected create, safe or fsync)");
    }
    return out;
}

gen::ReadResult readResult(const std::vector<std::string>& columns,
                           const std::vector<std::vector<sql::Value>>& rows) {
    gen::ReadResult r;
    r.hasMore = false;
    r.columns = columns;
    r.rows.reserve(rows.size());
    for (const auto& row : rows) {
        std::map<std::string, gen::Val> m;
        for (std::size_t i = 0; i < row.size() && i < columns.size(); ++i)
            m.emplace(columns[i], toVal(row[i]));
        r.rows.push_back(std::move(m));
    }
    return r;
}

gen::Result toResult(const sql::ExecResult& result) {
    gen::Result out;
    if (!result.columns.empty()) {
        out.__set_rdRes(readResult(result.columns, result.rows));
    } else {
        gen::WriteResult w;
        w.lastChangeRowid = result.lastInsertRowid;
        w.rowsChanged = result.rowsChanged;
        out.__set_wrRes(w);
    }
    return out;
}

namespace {

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

} // namespace

Result<Renumbered> renumberParameters(std::string_view sql, int offset) {
    Renumbered out;
    out.sql.reserve(sql.size() + 16);
    int anonymous = 0; // SQLite numbers a bare ? one past the highest number used so far
    std::map<std::string, int, std::less<>> named;
    std::size_t i = 0;
    while (i < sql.size()) {
        const char c = sql[i];
        if (sql::isQuote(c) || c == '[') {
            std::size_t end = sql::skipQuoted(sql, i);
            if (end == std::string_view::npos)
                end = sql.size();
            out.sql.append(sql.substr(i, end - i));
            i = end;
            continue;
        }
        const std::size_t afterComment =
            sql::skipComment(sql, i, sql::LineCommentEnd::AfterNewline);
        if (afterComment != i) {
            out.sql.append(sql.substr(i, afterComment - i));
            i = afterComment;
            continue;
        }
        if (c == '?') {
            std::size_t end = i + 1;
            while (end < sql.size() && isDigit(sql[end]))
                ++end;
            int number = 0;
            if (end > i + 1) {
                const std::string digits(sql.substr(i + 1, end - i - 1));
                if (digits.size() > 6)
                    return Status(ErrorCode::InvalidArgument,
                                  "parameter number ?" + digits + " is out of range");
                number = std::stoi(digits);
            } else {
                number = std::max(anonymous, out.highest) + 1;
            }
            anonymous = std::max(anonymous, number);
            out.highest = std::max(out.highest, number);
            out.sql += '?';
            out.sql += std::to_string(number + offset);
            i = end;
            continue;
        }
        if ((c == ':' || c == '@' || c == '$') && i + 1 < sql.size() &&
            sql::isWordChar(sql[i + 1]) && (i == 0 || !sql::isWordChar(sql[i - 1]))) {
            // A named parameter takes the number SQLite would give it (one past the highest so
            // far, at its first use; the same number at every use; `:a` and `@a` differ), so
            // each repetition binds its row by position exactly as a single row would.
            const std::size_t end = sql::wordEnd(sql, i + 1);
            const std::string name(sql.substr(i, end - i));
            auto [it, added] = named.emplace(name, 0);
            if (added) {
                it->second = std::max(anonymous, out.highest) + 1;
                anonymous = std::max(anonymous, it->second);
                out.highest = std::max(out.highest, it->second);
            }
            out.sql += '?';
            out.sql += std::to_string(it->second + offset);
            i = end;
            continue;
        }
        out.sql += c;
        ++i;
    }
    return out;
}

namespace {

// Appends `sql` bound to `row` as the next repetition: its parameters numbered past `offset`,
// which moves past them.
Status appendBound(BoundSql& out, std::string_view sql, const std::vector<gen::Val>* row,
                   int& offset) {
    auto renumbered = renumberParameters(sql, offset);
    if (!renumbered)
        return renumbered.status();
    if (!out.sql.empty())
        out.sql += "\n;\n"; // a newline first: a trailing -- comment must not hide the ;
    out.sql += renumbered->sql;
    const int given = row ? static_cast<int>(row->size()) : 0;
    if (row) {
        for (const gen::Val& v : *row) {
            auto value = fromVal(v);
            if (!value)
                return value.status();
            out.params.push_back(std::move(*value));
        }
    }
    // Each repetition binds exactly its own row: numbers it does not use are NULL.
    const int width = std::max(renumbered->highest, given);
    for (int k = given; k < width; ++k)
        out.params.emplace_back(std::monostate{});
    offset += width;
    return Status::ok();
}

} // namespace

Result<BoundSql> bindRows(std::string_view sql, const std::vector<std::vector<gen::Val>>& rows) {
    BoundSql out;
    if (rows.size() <= 1) {
        out.sql = std::string(sql);
        for (const auto& row : rows)
            for (const gen::Val& v : row) {
                auto value = fromVal(v);
                if (!value)
                    return value.status();
                out.params.push_back(std::move(*value));
            }
        return out;
    }
    int offset = 0;
    for (const auto& row : rows)
        TROUPE_RETURN_IF_ERROR(appendBound(out, sql, &row, offset));
    return out;
}

Result<BoundSql> bindStatements(const std::vector<std::string>& statements,
                                const std::vector<std::vector<std::vector<gen::Val>>>& rows,
                                std::vector<std::size_t>& repeats) {
    if (rows.size() > statements.size())
        return Status(ErrorCode::InvalidArgument,
                      std::to_string(rows.size()) + " lists of binding values for " +
                          std::to_string(statements.size()) + " statements");
    BoundSql out;
    int offset = 0;
    repeats.clear();
    for (std::size_t i = 0; i < statements.size(); ++i) {
        const bool hasRows = i < rows.size() && !rows[i].empty();
        if (!hasRows) {
            TROUPE_RETURN_IF_ERROR(appendBound(out, statements[i], nullptr, offset));
            repeats.push_back(1);
            continue;
        }
        for (const auto& row : rows[i])
            TROUPE_RETURN_IF_ERROR(appendBound(out, statements[i], &row, offset));
        repeats.push_back(rows[i].size());
    }
    return out;
}

std::map<std::string, double> parsePrometheusText(std::string_view text) {
    std::map<std::string, double> out;
    while (!text.empty()) {
        const std::size_t end = std::min(text.find('\n'), text.size());
        const std::string line(sql::trim(text.substr(0, end)));
        text.remove_prefix(std::min(end + 1, text.size()));
        if (line.empty() || line.front() == '#')
            continue;
        // The value follows the name (and its labels, which may hold spaces inside quotes):
        // it is the last field but for an optional timestamp; TroupeDB writes none.
        const std::size_t space = line.rfind(' ');
        if (space == std::string::npos)
            continue;
        const std::string number = line.substr(space + 1);
        char* parsed = nullptr;
        const double value = std::strtod(number.c_str(), &parsed);
        if (parsed == number.c_str() || *parsed != '\0')
            continue;
        out[std::string(sql::trim(line.substr(0, space)))] = value;
    }
    return out;
}

} // namespace troupe::thrift
