#include "sql/variables.h"

#include <cctype>
#include <optional>

#include "sql/statements.h"

namespace troupe::sql {

bool hasVariables(std::string_view sql) {
    return sql.find("{{") != std::string_view::npos;
}

namespace {

// The index just past the "}}" that closes the "{{" at `open`, counting nested markers.
std::optional<std::size_t> markerEnd(std::string_view sql, std::size_t open) {
    int depth = 0;
    for (std::size_t i = open; i + 1 < sql.size(); ++i) {
        if (sql[i] == '{' && sql[i + 1] == '{') {
            ++depth;
            ++i;
        } else if (sql[i] == '}' && sql[i + 1] == '}') {
            ++i;
            if (--depth == 0)
                return i + 1;
        }
    }
    return std::nullopt;
}

} // namespace

Result<std::string> substituteVariables(std::string_view sql, const VariableResolver& resolve) {
    std::string out;
    out.reserve(sql.size() + 16);
    bool inString = false; // inside '...'
    for (std::size_t i = 0; i < sql.size();) {
        const char c = sql[i];
        if (!inString && c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            const std::size_t end = sql.find('\n', i);
            const std::size_t stop = end == std::string_view::npos ? sql.size() : end;
            out.append(sql.substr(i, stop - i));
            i = stop;
            continue;
        }
        if (c == '\'') {
            inString = !inString; // '' inside a string toggles twice
            out += c;
            ++i;
            continue;
        }
        if (c == '{' && i + 1 < sql.size() && sql[i + 1] == '{') {
            auto end = markerEnd(sql, i);
            if (!end)
                return Status(ErrorCode::InvalidArgument,
                              "unterminated {{ in \"" + std::string(sql) + "\"");
            std::string_view body = sql.substr(i + 2, *end - i - 4);
            std::string inner(body);
            if (hasVariables(body)) {
                auto substituted = substituteVariables(body, resolve);
                if (!substituted)
                    return substituted.status();
                inner = std::move(*substituted);
            }
            Result<Value> value = resolve(inner);
            if (!value)
                return value.status();
            out += inString ? quotedTextBody(*value) : sqlLiteral(*value);
            i = *end;
            continue;
        }
        out += c;
        ++i;
    }
    return out;
}

std::optional<std::string> hashArgument(std::string_view body) {
    std::size_t b = 0;
    while (b < body.size() && std::isspace(static_cast<unsigned char>(body[b])))
        ++b;
    body = body.substr(b);
    if (body.size() < 6 || (body.substr(0, 4) != "hash" && body.substr(0, 4) != "HASH"))
        return std::nullopt;
    std::string_view rest = body.substr(4);
    const std::size_t open = rest.find('(');
    const std::size_t close = rest.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
        rest.substr(0, open).find_first_not_of(" \t") != std::string_view::npos)
        return std::nullopt;
    std::string_view arg = rest.substr(open + 1, close - open - 1);
    auto literal = parseLiteral(arg);
    if (literal && std::holds_alternative<std::string>(*literal))
        return std::get<std::string>(*literal);
    std::size_t s = 0, e = arg.size();
    while (s < e && std::isspace(static_cast<unsigned char>(arg[s])))
        ++s;
    while (e > s && std::isspace(static_cast<unsigned char>(arg[e - 1])))
        --e;
    return std::string(arg.substr(s, e - s));
}

} // namespace troupe::sql
