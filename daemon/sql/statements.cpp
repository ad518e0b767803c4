#include "sql/statements.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "sql/sql_text.h"

namespace troupe::sql {

namespace {

// A cursor over a statement that skips whitespace and comments between tokens.
class Cursor {
public:
    explicit Cursor(std::string_view text) : m_text(text) {}

    void skip() {
        for (;;) {
            while (m_pos < m_text.size() && isSpace(m_text[m_pos]))
                ++m_pos;
            const std::size_t end = skipComment(m_text, m_pos, LineCommentEnd::AtNewline);
            if (end == m_pos)
                return;
            m_pos = end;
        }
    }
    // The next word (letters, digits, _ and $), lower-cased; empty if none.
    std::string word() {
        skip();
        const std::size_t start = m_pos;
        m_pos = wordEnd(m_text, m_pos);
        return lower(m_text.substr(start, m_pos - start));
    }
    std::string peekWord() {
        const std::size_t saved = m_pos;
        std::string w = word();
        m_pos = saved;
        return w;
    }
    bool accept(char c) {
        skip();
        if (m_pos < m_text.size() && m_text[m_pos] == c) {
            ++m_pos;
            return true;
        }
        return false;
    }
    bool atEnd() {
        skip();
        return m_pos >= m_text.size();
    }
    std::string_view rest() {
        skip();
        return m_text.substr(m_pos);
    }
    std::size_t pos() const { return m_pos; }
    void setPos(std::size_t p) { m_pos = p; }
    std::string_view text() const { return m_text; }

private:
    std::string_view m_text;
    std::size_t m_pos = 0;
};

Status bad(std::string_view statement, const std::string& why) {
    return Status(ErrorCode::InvalidArgument, why + " (in \"" + std::string(statement) + "\")");
}

Result<std::int64_t> parseInteger(std::string_view text) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size())
        return Status(ErrorCode::InvalidArgument, "not an integer: " + std::string(text));
    return v;
}

// Splits "a, 'b,c', 3" at top-level commas, outside quotes.
std::vector<std::string> splitArguments(std::string_view text) {
    std::vector<std::string> out;
    std::string current;
    char quote = 0;
    for (char c : text) {
        if (quote) {
            current += c;
            if (c == quote)
                quote = 0; // a doubled quote re-enters on the next char
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            current += c;
        } else if (c == ',') {
            out.push_back(current);
            current.clear();
        } else {
            current += c;
        }
    }
    out.push_back(current);
    for (std::string& s : out)
        s = std::string(trim(s));
    return out;
}

// The text between a '(' at `open` and its matching ')', outside quotes.
std::optional<std::size_t> matchingParen(std::string_view text, std::size_t open) {
    int depth = 0;
    char quote = 0;
    for (std::size_t i = open; i < text.size(); ++i) {
        const char c = text[i];
        if (quote) {
            if (c == quote)
                quote = 0;
            continue;
        }
        if (c == '\'' || c == '"')
            quote = c;
        else if (c == '(')
            ++depth;
        else if (c == ')' && --depth == 0)
            return i;
    }
    return std::nullopt;
}

Result<SpecialStatement> classifyPragma(std::string_view statement, Cursor& c) {
    SpecialStatement s;
    const std::size_t afterPragma = c.pos();
    const std::string name = c.word();
    if (name == "list") {
        s.kind = SpecialStatement::Kind::PragmaList;
        for (std::string w = c.word(); !w.empty(); w = c.word()) {
            const std::string number = c.word();
            auto n = parseInteger(number);
            if ((w != "limit" && w != "offset") || !n || *n < 0)
                return bad(statement, "PRAGMA list takes LIMIT n and OFFSET m");
            (w == "limit" ? s.limit : s.offset) = *n;
        }
        if (!c.atEnd())
            return bad(statement, "PRAGMA list takes LIMIT n and OFFSET m");
        return s;
    }
    if (name == "count" || name == "exists" || name == "delete") {
        if (!c.atEnd())
            return bad(statement, "PRAGMA " + name + " takes no arguments");
        s.kind = name == "count"    ? SpecialStatement::Kind::PragmaCount
                 : name == "exists" ? SpecialStatement::Kind::PragmaExists
                                    : SpecialStatement::Kind::PragmaDelete;
        return s;
    }
    if (name == "copy") {
        if (!c.accept('='))
            return bad(statement, "PRAGMA copy needs a source actor: PRAGMA copy=name");
        std::string_view source = c.rest();
        if (source.size() >= 2 && (source.front() == '\'' || source.front() == '"') &&
            source.back() == source.front())
            source = source.substr(1, source.size() - 2);
        if (source.empty())
            return Status(ErrorCode::EmptyActorName, "PRAGMA copy has an empty source actor name");
        s.kind = SpecialStatement::Kind::PragmaCopy;
        s.name = std::string(source);
        return s;
    }
    c.setPos(afterPragma);
    s.sql = std::string(statement); // a SQLite pragma: the actor's authorizer decides
    return s;
}

Result<SpecialStatement> classifyPrepare(std::string_view statement, Cursor& c) {
    SpecialStatement s;
    std::string name = c.word();
    if (name == "delete") {
        s.kind = SpecialStatement::Kind::PrepareDelete;
        s.name = c.word();
        if (s.name.empty() || !c.atEnd())
            return bad(statement, "expected PREPARE DELETE name");
        return s;
    }
    if (name.empty())
        return bad(statement, "expected PREPARE name (types) FOR type AS statement");
    s.kind = SpecialStatement::Kind::Prepare;
    s.name = name;
    c.skip();
    if (c.accept('(')) {
        const std::size_t open = c.pos() - 1;
        auto close = matchingParen(c.text(), open);
        if (!close)
            return bad(statement, "unclosed ( in PREPARE");
        std::string_view inside = c.text().substr(open + 1, *close - open - 1);
        c.setPos(*close + 1);
        for (const std::string& t : splitArguments(inside)) {
            if (t.empty() && inside.find_first_not_of(" \t\r\n") == std::string_view::npos)
                break;
            std::string type = lower(t);
            if (type == "integer" || type == "bigint" || type == "smallint")
                type = "int";
            else if (type == "varchar" || type == "string")
                type = "text";
            else if (type == "double" || type == "float")
                type = "real";
            if (type != "int" && type != "text" && type != "real" && type != "blob")
                return bad(statement,
                           "unknown parameter type '" + t + "' (use int, text, real or blob)");
            s.argTypes.push_back(type);
        }
    }
    if (c.word() != "for")
        return bad(statement, "expected PREPARE name (types) FOR type AS statement");
    s.type = c.word();
    if (s.type.empty())
        return Status(ErrorCode::InvalidType, "PREPARE " + name + " names no actor type");
    // Types keep their case: read it again from the text.
    {
        const std::size_t end = c.pos();
        std::size_t begin = end;
        while (begin > 0 && isWordChar(c.text()[begin - 1]))
            --begin;
        s.type = std::string(c.text().substr(begin, end - begin));
    }
    if (c.word() != "as")
        return bad(statement, "expected PREPARE name (types) FOR type AS statement");
    std::string_view body = c.rest();
    if (body.empty())
        return bad(statement, "PREPARE has no statement after AS");
    // $1..$n become ?1..?n outside quotes: parameters bind by number, never by pasting.
    std::string sql;
    char quote = 0;
    for (std::size_t i = 0; i < body.size(); ++i) {
        const char ch = body[i];
        if (quote) {
            if (ch == quote)
                quote = 0;
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
        } else if (ch == '$' && i + 1 < body.size() &&
                   std::isdigit(static_cast<unsigned char>(body[i + 1]))) {
            sql += '?';
            continue;
        }
        sql += ch;
    }
    s.sql = std::move(sql);
    return s;
}

Result<SpecialStatement> classifyExecute(std::string_view statement, Cursor& c) {
    SpecialStatement s;
    s.kind = SpecialStatement::Kind::Execute;
    s.name = c.word();
    if (s.name.empty())
        return bad(statement, "expected EXECUTE name (values)");
    c.skip();
    if (c.accept('(')) {
        const std::size_t open = c.pos() - 1;
        auto close = matchingParen(c.text(), open);
        if (!close)
            return bad(statement, "unclosed ( in EXECUTE");
        std::string_view inside = c.text().substr(open + 1, *close - open - 1);
        c.setPos(*close + 1);
        if (inside.find_first_not_of(" \t\r\n") != std::string_view::npos) {
            for (const std::string& a : splitArguments(inside)) {
                auto v = parseLiteral(a);
                if (!v)
                    return bad(statement, v.status().message());
                s.args.push_back(std::move(*v));
            }
        }
    }
    if (!c.atEnd())
        return bad(statement, "unexpected text after EXECUTE " + s.name + " (...)");
    return s;
}

// {{NAME}}sql or {{X.col=INFO.col}}.
std::optional<Result<SpecialStatement>> classifyMarker(std::string_view statement) {
    if (statement.substr(0, 2) != "{{")
        return std::nullopt;
    const std::size_t close = statement.find("}}");
    if (close == std::string_view::npos)
        return std::nullopt;
    const std::string_view body = statement.substr(2, close - 2);
    const std::string_view after = statement.substr(close + 2);
    SpecialStatement s;
    if (const std::size_t eq = body.find('='); eq != std::string_view::npos) {
        // {{X.new=INFO.col}}
        const std::string_view left = body.substr(0, eq);
        const std::string_view right = body.substr(eq + 1);
        const std::size_t ld = left.find('.');
        const std::size_t rd = right.find('.');
        if (ld == std::string_view::npos || rd == std::string_view::npos ||
            after.find_first_not_of(" \t\r\n") != std::string_view::npos)
            return Result<SpecialStatement>(
                bad(statement, "expected {{X.column=RESULT.column}} alone in its statement"));
        s.kind = SpecialStatement::Kind::Assign;
        s.variable = std::string(left.substr(0, ld));
        s.column = std::string(left.substr(ld + 1));
        s.name = std::string(right.substr(0, rd));
        s.sourceColumn = std::string(right.substr(rd + 1));
        return Result<SpecialStatement>(std::move(s));
    }
    for (char ch : body)
        if (!isWordChar(ch))
            return std::nullopt; // {{X.col}}, {{hash(..)}}: a value inside SQL
    const std::string name = lower(body);
    if (body.empty() || name == "curactor" || name == "uniqid")
        return std::nullopt;
    s.kind = SpecialStatement::Kind::Capture;
    s.name = std::string(body);
    std::size_t b = 0;
    while (b < after.size() && isSpace(after[b]))
        ++b;
    s.sql = std::string(after.substr(b));
    if (s.sql.empty())
        return Result<SpecialStatement>(bad(statement, "{{" + s.name + "}} captures nothing"));
    return Result<SpecialStatement>(std::move(s));
}

} // namespace

Result<SpecialStatement> classifyStatement(std::string_view statement) {
    if (auto marker = classifyMarker(statement))
        return std::move(*marker);
    Cursor c(statement);
    const std::string first = c.word();
    if (first == "pragma")
        return classifyPragma(statement, c);
    if (first == "show") {
        SpecialStatement s;
        s.kind = SpecialStatement::Kind::Show;
        s.name = c.word();
        static const char* const kWhat[] = {"schema", "tables", "status", "queries", "shards"};
        bool known = false;
        for (const char* w : kWhat)
            known = known || s.name == w;
        if (!known || !c.atEnd())
            return bad(statement, "SHOW takes schema, tables, status, queries or shards");
        return s;
    }
    if (first == "prepare")
        return classifyPrepare(statement, c);
    if (first == "execute")
        return classifyExecute(statement, c);
    SpecialStatement s;
    s.sql = std::string(statement);
    return s;
}

bool isReadOnlyStatement(std::string_view statement) {
    Cursor c(statement);
    const std::string first = c.word();
    if (first == "select" || first == "values" || first == "explain")
        return true;
    if (first == "pragma") {
        const std::string name = c.word();
        return name != "delete" && name != "copy" && c.peekWord().empty() && !c.accept('=');
    }
    if (first != "with")
        return false;
    // WITH ... : read-only unless a write keyword appears outside quotes.
    while (!c.atEnd()) {
        const std::string w = c.word();
        if (w == "insert" || w == "update" || w == "delete" || w == "replace")
            return false;
        if (w.empty()) {
            const std::string_view rest = c.rest();
            if (rest.empty())
                break;
            const char q = rest.front();
            std::size_t skip = 1;
            if (q == '\'' || q == '"' || q == '`') {
                const std::size_t end = rest.find(q, 1);
                skip = end == std::string_view::npos ? rest.size() : end + 1;
            }
            c.setPos(c.pos() + skip);
        }
    }
    return true;
}

Result<Value> parseLiteral(std::string_view text) {
    text = trim(text);
    if (text.empty())
        return Status(ErrorCode::InvalidArgument, "empty value");
    if (lower(text) == "null")
        return Value{};
    if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
        std::string out;
        for (std::size_t i = 1; i + 1 < text.size(); ++i) {
            out += text[i];
            if (text[i] == '\'') {
                if (i + 2 >= text.size() || text[i + 1] != '\'')
                    return Status(ErrorCode::InvalidArgument,
                                  "bad quoting in " + std::string(text));
                ++i;
            }
        }
        return Value{std::move(out)};
    }
    if (text.size() >= 3 && (text[0] == 'x' || text[0] == 'X') && text[1] == '\'' &&
        text.back() == '\'') {
        std::string_view hex = text.substr(2, text.size() - 3);
        if (hex.size() % 2)
            return Status(ErrorCode::InvalidArgument,
                          "odd number of hex digits in " + std::string(text));
        std::string bytes;
        for (std::size_t i = 0; i < hex.size(); i += 2) {
            unsigned v = 0;
            auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
            if (ec != std::errc() || p != hex.data() + i + 2)
                return Status(ErrorCode::InvalidArgument, "bad hex in " + std::string(text));
            bytes += char(v);
        }
        return Value{Blob{std::move(bytes)}};
    }
    if (auto i = parseInteger(text))
        return Value{*i};
    double d = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec == std::errc() && p == text.data() + text.size())
        return Value{d};
    return Status(ErrorCode::InvalidArgument, "not a value: " + std::string(text));
}

std::string quotedTextBody(const Value& value) {
    std::string text = valueText(value);
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        out += c;
        if (c == '\'')
            out += '\'';
    }
    return out;
}

std::string valueText(const Value& value) {
    if (const auto* i = std::get_if<std::int64_t>(&value))
        return std::to_string(*i);
    if (const auto* d = std::get_if<double>(&value)) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.17g", *d);
        return buffer;
    }
    if (const auto* s = std::get_if<std::string>(&value))
        return *s;
    if (const auto* b = std::get_if<Blob>(&value))
        return b->bytes;
    return {};
}

namespace {

// A REAL as SQLite reads it back: the same type (2.0, not the integer 2) and value (+-Inf as
// 9e999, which SQLite reads as Inf; NaN, which SQLite stores as NULL, as NULL).
std::string realLiteral(double d) {
    if (std::isnan(d))
        return "NULL";
    if (std::isinf(d))
        return d > 0 ? "9e999" : "-9e999";
    std::string text = valueText(Value{d});
    if (text.find_first_of(".e") == std::string::npos)
        text += ".0";
    return text;
}

} // namespace

std::string sqlLiteral(const Value& value) {
    if (std::holds_alternative<std::monostate>(value))
        return "NULL";
    if (std::holds_alternative<std::int64_t>(value))
        return valueText(value);
    if (const auto* d = std::get_if<double>(&value))
        return realLiteral(*d);
    if (const auto* b = std::get_if<Blob>(&value)) {
        static const char* const kHex = "0123456789ABCDEF";
        std::string out = "X'";
        for (unsigned char c : b->bytes) {
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
        return out + "'";
    }
    // Appended piecewise: GCC 12 warns (-Wrestrict, a false positive) on "'" + std::string.
    std::string out(1, '\'');
    out += quotedTextBody(value);
    out += '\'';
    return out;
}

} // namespace troupe::sql
