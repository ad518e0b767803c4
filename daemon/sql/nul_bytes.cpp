#include "sql/nul_bytes.h"

#include "sql/sql_text.h"

namespace troupe::sql {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

Status nulAt(std::size_t offset, std::string_view where) {
    return Status(ErrorCode::SqlError, "NUL byte at offset " + std::to_string(offset) + " " +
                                           std::string(where) +
                                           " (a NUL is only allowed inside a '...' string)");
}

// The offset of the first NUL in sql[from, to), or npos.
std::size_t findNul(std::string_view sql, std::size_t from, std::size_t to) {
    const std::size_t i = sql.substr(from, to - from).find('\0');
    return i == kNpos ? kNpos : from + i;
}

// X'...' or x'...': the quote at pos opens a blob literal.
bool opensBlob(std::string_view sql, std::size_t pos) {
    if (pos == 0 || (sql[pos - 1] != 'x' && sql[pos - 1] != 'X'))
        return false;
    return pos == 1 || !isWordChar(sql[pos - 2]);
}

// A string literal (quotes included) as an expression of the same TEXT value.
std::string textExpression(std::string_view literal) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    const std::string bytes = unquote(literal);
    std::string out = "(CAST(X'";
    for (unsigned char c : bytes) {
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
    out += "' AS TEXT))";
    return out;
}

} // namespace

Result<std::string> rewriteNulBytes(std::string_view sql) {
    std::size_t nul = sql.find('\0');
    if (nul == kNpos)
        return std::string(sql);
    std::string out;
    out.reserve(sql.size() + 16);
    std::size_t pos = 0;
    while (pos < sql.size()) {
        const char c = sql[pos];
        if (c == '\0')
            return nulAt(pos, "between tokens");
        std::size_t end = skipComment(sql, pos, LineCommentEnd::AfterNewline);
        if (end != pos) {
            if (nul = findNul(sql, pos, end); nul != kNpos)
                return nulAt(nul, "in a comment");
        } else if (isQuote(c) || c == '[') {
            end = skipQuoted(sql, pos);
            nul = findNul(sql, pos, end); // end may be npos: to the end of the text
            if (end == kNpos)
                return nul == kNpos ? Status(ErrorCode::SqlError,
                                             "unterminated quote at offset " + std::to_string(pos))
                                    : nulAt(nul, "in an unterminated quote");
            if (nul != kNpos) {
                if (c != '\'')
                    return nulAt(nul, "in a quoted name");
                if (opensBlob(sql, pos))
                    return nulAt(nul, "in a blob literal");
                out += textExpression(sql.substr(pos, end - pos));
                pos = end;
                continue;
            }
        } else {
            end = pos + 1;
        }
        out.append(sql.substr(pos, end - pos));
        pos = end;
    }
    return out;
}

} // namespace troupe::sql
