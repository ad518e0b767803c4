#include "sql/segmenter.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "sql/sql_text.h"

namespace troupe::sql {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

// A short quoted excerpt of text for error messages.
std::string quoted(std::string_view text) {
    return quotedExcerpt(trim(text));
}

// The first n keywords of a statement, upper-cased, skipping comments; stops at anything else.
std::vector<std::string> leadingWords(std::string_view text, std::size_t n) {
    std::vector<std::string> words;
    std::size_t pos = skipBlank(text, 0);
    while (words.size() < n && pos < text.size() && isWordChar(text[pos])) {
        const std::size_t end = wordEnd(text, pos);
        words.push_back(upper(text.substr(pos, end - pos)));
        pos = skipBlank(text, end);
    }
    return words;
}

// The first keyword of a statement as written (comments skipped), without a copy.
std::string_view firstWord(std::string_view text) {
    const std::size_t pos = skipBlank(text, 0);
    return text.substr(pos, wordEnd(text, pos) - pos);
}

bool isActorStatement(std::string_view stmt) {
    return iequals(firstWord(stmt), "ACTOR");
}

// Splits a request into raw statements (see the rules in segmenter.h).
class Splitter {
public:
    explicit Splitter(std::string_view text) : m_text(text) {}

    Result<std::vector<std::string>> run() {
        while (m_pos < m_text.size()) {
            Status st = step();
            if (!st.isOk())
                return st;
        }
        endStatement(m_text.size());
        return std::move(m_out);
    }

private:
    Status step() {
        const char c = m_text[m_pos];
        if (isQuote(c) || c == '[') {
            std::size_t end = skipQuoted(m_text, m_pos);
            if (end == kNpos && isActorStatement(m_text.substr(m_start, m_pos - m_start)))
                end = m_pos + 1; // a stray quote in an actor name: the ACTOR parser reports it
            if (end == kNpos)
                return Status(ErrorCode::SqlError, "unterminated " + std::string(1, c) +
                                                       " quote in " +
                                                       quoted(m_text.substr(m_start)));
            m_pos = end;
        } else if (c == '{' && startsWith(m_text, m_pos, "{{")) {
            std::size_t end = m_text.find("}}", m_pos + 2);
            if (end == kNpos)
                return Status(ErrorCode::InvalidArgument,
                              "unterminated {{ in " + quoted(m_text.substr(m_pos)));
            m_pos = end + 2;
        } else if (std::size_t afterComment =
                       c == '-' || c == '/'
                           ? skipComment(m_text, m_pos, LineCommentEnd::AfterNewline)
                           : m_pos;
                   afterComment != m_pos) {
            m_pos = afterComment;
        } else if (isWordChar(c)) {
            const std::size_t end = wordEnd(m_text, m_pos);
            m_trigger.onWord(m_text.substr(m_pos, end - m_pos));
            m_pos = end;
        } else {
            if (c == ';' && !m_trigger.inBody()) // `;` inside a trigger body does not end it
                endStatement(m_pos);
            ++m_pos;
        }
        return Status::ok();
    }

    void endStatement(std::size_t end) {
        std::string_view stmt = m_text.substr(m_start, end - m_start);
        if (skipBlank(stmt, 0) < stmt.size())
            m_out.emplace_back(trim(stmt));
        m_start = end + 1;
        m_trigger = TriggerTracker();
    }

    std::string_view m_text;
    std::size_t m_pos = 0;
    std::size_t m_start = 0;
    std::vector<std::string> m_out;
    TriggerTracker m_trigger; // CREATE TRIGGER bodies of the current statement
};

bool isClientTransaction(std::string_view stmt) {
    static constexpr std::array<std::string_view, 6> kWords = {"BEGIN",    "COMMIT",    "END",
                                                               "ROLLBACK", "SAVEPOINT", "RELEASE"};
    const std::string_view word = firstWord(stmt);
    return std::any_of(kWords.begin(), kWords.end(),
                       [&](std::string_view k) { return iequals(word, k); });
}

// The statement with comments replaced by spaces (quoted text kept).
std::string stripComments(std::string_view text) {
    if (text.find("--") == kNpos && text.find("/*") == kNpos)
        return std::string(text); // the usual ACTOR statement: nothing to strip
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = skipComment(text, pos, LineCommentEnd::AfterNewline);
        if (end != pos) {
            out += ' ';
        } else {
            end = isQuote(text[pos]) ? skipQuoted(text, pos) : pos + 1;
            end = std::min(end, text.size());
            out += text.substr(pos, end - pos);
        }
        pos = end;
    }
    return out;
}

// Reads a keyword or identifier at pos (after blanks); empty when there is none.
std::string_view readWord(std::string_view text, std::size_t& pos) {
    while (pos < text.size() && isSpace(text[pos]))
        ++pos;
    const std::size_t start = pos;
    pos = wordEnd(text, pos);
    return text.substr(start, pos - start);
}

bool readKeyword(std::string_view text, std::size_t& pos, std::string_view keyword) {
    return iequals(readWord(text, pos), keyword);
}

// `* WHERE id LIKE 'pattern'`, text after the `*`.
Status parseWhere(std::string_view rest, ActorTarget& target) {
    const Status bad(ErrorCode::InvalidActorName, "invalid actor filter " +
                                                      quoted(std::string("*").append(rest)) +
                                                      ", expected * WHERE id LIKE 'pattern'");
    std::size_t pos = 0;
    if (!readKeyword(rest, pos, "WHERE") || !readKeyword(rest, pos, "ID") ||
        !readKeyword(rest, pos, "LIKE"))
        return bad;
    std::string_view tail = trim(rest.substr(pos));
    if (tail.empty() || tail.front() != '\'' || skipQuoted(tail, 0) != tail.size())
        return bad;
    target.kind = ActorTarget::Kind::AllWhere;
    target.likePattern = unquote(tail);
    return Status::ok();
}

// `FOR X.col IN NAME`.
Status parseForEach(std::string_view inner, ActorTarget& target) {
    const Status bad(ErrorCode::InvalidActorName,
                     "invalid actor target " + quoted(inner) + ", expected FOR X.col IN NAME");
    std::size_t pos = 0;
    if (!readKeyword(inner, pos, "FOR"))
        return bad;
    std::string_view var = readWord(inner, pos);
    while (pos < inner.size() && isSpace(inner[pos]))
        ++pos;
    if (var.empty() || pos >= inner.size() || inner[pos] != '.')
        return bad;
    ++pos;
    std::string_view col = readWord(inner, pos);
    if (col.empty() || !readKeyword(inner, pos, "IN"))
        return bad;
    std::string_view name = readWord(inner, pos);
    if (name.empty() || !trim(inner.substr(pos)).empty())
        return bad;
    target.kind = ActorTarget::Kind::ForEach;
    target.variable = var;
    target.column = col;
    target.result = name;
    return Status::ok();
}

Status checkBareName(std::string_view name, std::string_view list) {
    if (name.empty())
        return Status(ErrorCode::EmptyActorName, "empty actor name in " + quoted(list));
    TROUPE_RETURN_IF_ERROR(checkActorName(name));
    for (char c : name) {
        if (isSpace(c) || isQuote(c) || c == '(' || c == ')' || c == '*')
            return Status(ErrorCode::InvalidActorName,
                          "invalid actor name " + quoted(name) + " (quote names with " +
                              (isSpace(c) ? "spaces" : "special characters") + ")");
    }
    return Status::ok();
}

// Reads one list item at pos, quoted or bare, and moves pos past its `,`.
Result<std::string> readName(std::string_view list, std::size_t& pos) {
    while (pos < list.size() && isSpace(list[pos]))
        ++pos;
    if (pos < list.size() && isQuote(list[pos])) {
        std::size_t end = skipQuoted(list, pos);
        if (end == kNpos)
            return Status(ErrorCode::InvalidActorName,
                          "unterminated quoted actor name in " + quoted(list));
        std::string name = unquote(list.substr(pos, end - pos));
        pos = end;
        while (pos < list.size() && isSpace(list[pos]))
            ++pos;
        if (pos < list.size() && list[pos] != ',')
            return Status(ErrorCode::InvalidActorName,
                          "unexpected text after quoted actor name in " + quoted(list));
        ++pos;
        if (name.empty())
            return Status(ErrorCode::EmptyActorName, "empty actor name in " + quoted(list));
        TROUPE_RETURN_IF_ERROR(checkActorName(name));
        return name;
    }
    std::size_t comma = std::min(list.find(',', pos), list.size());
    std::string_view bare = trim(list.substr(pos, comma - pos));
    pos = comma + 1;
    TROUPE_RETURN_IF_ERROR(checkBareName(bare, list));
    return std::string(bare);
}

// The text between the parentheses of `ACTOR type(...)`.
Status parseNames(std::string_view inner, ActorTarget& target) {
    inner = trim(inner);
    if (inner.empty())
        return Status(ErrorCode::EmptyActorName, "empty actor name in ()");
    if (inner == "*") {
        target.kind = ActorTarget::Kind::All;
        return Status::ok();
    }
    if (inner.front() == '*' && inner.size() > 1 && isSpace(inner[1]))
        return parseWhere(inner.substr(1), target);
    auto words = leadingWords(inner, 2);
    if (words.size() == 2 && words[0] == "FOR")
        return parseForEach(inner, target);
    std::size_t pos = 0;
    do {
        auto name = readName(inner, pos);
        if (!name)
            return name.status();
        target.names.push_back(std::move(*name));
    } while (pos <= inner.size());
    target.kind = target.names.size() == 1 ? ActorTarget::Kind::Single : ActorTarget::Kind::List;
    return Status::ok();
}

// `create`, `safe`, `fsync` in any case and order, separated by spaces or commas.
Status parseFlags(std::string_view text, ActorTarget& target) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (isSpace(text[pos]) || text[pos] == ',') {
            ++pos;
            continue;
        }
        std::size_t end = pos;
        while (end < text.size() && !isSpace(text[end]) && text[end] != ',')
            ++end;
        std::string_view flag = text.substr(pos, end - pos);
        if (iequals(flag, "CREATE"))
            target.create = true;
        else if (iequals(flag, "SAFE"))
            target.safe = true;
        else if (iequals(flag, "FSYNC"))
            target.fsync = true;
        else
            return Status(
                ErrorCode::InvalidArgument,
                "unknown ACTOR flag " + quoted(flag) +
                    " (expected create, safe, fsync; is a ';' missing after the ACTOR statement?)");
        pos = end;
    }
    return Status::ok();
}

// Reads the type after ACTOR; pos ends at the `(` or the end.
Result<std::string> readType(std::string_view text, std::size_t& pos, std::string_view stmt) {
    while (pos < text.size() && isSpace(text[pos]))
        ++pos;
    std::size_t start = pos;
    while (pos < text.size() && text[pos] != '(' && !isSpace(text[pos]))
        ++pos;
    std::string_view type = text.substr(start, pos - start);
    if (type.empty())
        return Status(ErrorCode::InvalidType, "missing actor type in " + quoted(stmt));
    if (!std::all_of(type.begin(), type.end(), isWordChar))
        return Status(ErrorCode::InvalidType, "invalid actor type " + quoted(type));
    while (pos < text.size() && isSpace(text[pos]))
        ++pos;
    return std::string(type);
}

} // namespace

Status checkActorName(std::string_view name) {
    if (name.empty())
        return Status(ErrorCode::EmptyActorName, "actor name is empty");
    for (std::size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c < 0x20 || c == 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02X", unsigned(c));
            return Status(ErrorCode::InvalidActorName,
                          "actor name holds the control character " + std::string(hex) +
                              " at byte " + std::to_string(i) +
                              " (control characters are not allowed in names)");
        }
    }
    return Status::ok();
}

Result<ActorTarget> parseActorStatement(std::string_view statement) {
    const std::string clean = stripComments(statement);
    const std::string_view text = trim(clean);
    std::size_t pos = 0;
    if (!readKeyword(text, pos, "ACTOR"))
        return Status(ErrorCode::InvalidArgument, "not an ACTOR statement: " + quoted(statement));
    ActorTarget target;
    auto type = readType(text, pos, statement);
    if (!type)
        return type.status();
    target.type = std::move(*type);
    if (pos >= text.size() || text[pos] != '(')
        return Status(ErrorCode::EmptyActorName,
                      "missing (name) after actor type " + quoted(target.type));
    const std::size_t close = text.rfind(')');
    if (close == std::string_view::npos || close < pos)
        return Status(ErrorCode::InvalidActorName, "missing ) in " + quoted(statement));
    TROUPE_RETURN_IF_ERROR(parseNames(text.substr(pos + 1, close - pos - 1), target));
    TROUPE_RETURN_IF_ERROR(parseFlags(text.substr(close + 1), target));
    return target;
}

Result<std::vector<Block>> segment(std::string_view request, std::size_t maxBytes) {
    if (request.size() > maxBytes)
        return Status(ErrorCode::TooLarge, "request of " + std::to_string(request.size()) +
                                               " bytes exceeds the limit of " +
                                               std::to_string(maxBytes) + " bytes");
    auto statements = Splitter(request).run();
    if (!statements)
        return statements.status();
    std::vector<Block> blocks;
    std::vector<std::string> loose; // statements before the first ACTOR
    for (std::string& stmt : *statements) {
        if (isClientTransaction(stmt))
            continue;
        if (isActorStatement(stmt)) {
            if (!loose.empty())
                return Status(ErrorCode::InvalidArgument,
                              "a request must start with ACTOR; found " + quoted(loose.front()));
            auto target = parseActorStatement(stmt);
            if (!target)
                return target.status();
            blocks.push_back(Block{std::move(*target), {}});
        } else if (blocks.empty()) {
            loose.push_back(std::move(stmt));
        } else {
            blocks.back().statements.push_back(std::move(stmt));
        }
    }
    if (!loose.empty())
        blocks.push_back(Block{ActorTarget{}, std::move(loose)});
    return blocks;
}

} // namespace troupe::sql
