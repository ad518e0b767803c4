// Script text of the schema module: splitting a `USE schema` script into statements and
// sections, and comparing statements for the append-only rule (syntax and rules in schema.h).

#include <algorithm>
#include <utility>

#include "sql/schema_internal.h"
#include "sql/sql_text.h"

namespace troupe::sql::schema_detail {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

bool isQuoteOpen(char c) {
    return isQuote(c) || c == '[';
}

// The statement reduced for append-only comparison: comments dropped, whitespace kept only as
// one space between two word characters; quoted text unchanged.
std::string normalized(std::string_view text) {
    std::string out;
    bool pendingSpace = false;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const char c = text[pos];
        if (const std::size_t end = skipComment(text, pos, LineCommentEnd::AtNewline); end != pos) {
            pendingSpace = true;
            pos = end;
            continue;
        }
        if (isSpace(c)) {
            pendingSpace = true;
            ++pos;
            continue;
        }
        if (pendingSpace && !out.empty() && isWordChar(out.back()) && isWordChar(c))
            out += ' ';
        pendingSpace = false;
        const std::size_t end =
            isQuoteOpen(c) ? std::min(skipQuoted(text, pos), text.size()) : pos + 1;
        out.append(text.substr(pos, end - pos));
        pos = end;
    }
    return out;
}

// Splits a script into statements with the line each starts on (rules in schema.h). A
// statement ends at `;` (outside quotes, comments and trigger bodies) or at the end of a line
// where it is finished.
class StatementSplitter {
public:
    explicit StatementSplitter(std::string_view text) : m_text(text) {}

    Result<std::vector<ScriptStatement>> run() {
        while (m_pos < m_text.size())
            TROUPE_RETURN_IF_ERROR(step());
        if (m_start != kNpos) {
            if (m_depth > 0)
                return lineError(ErrorCode::InvalidArgument, m_startLine,
                                 "unbalanced parentheses at the end of the script", current());
            if (m_trigger.isTrigger() && !m_trigger.bodyDone())
                return lineError(ErrorCode::InvalidArgument, m_startLine,
                                 "CREATE TRIGGER without END at the end of the script", current());
            endStatement();
        }
        return std::move(m_out);
    }

private:
    Status step() {
        const char c = m_text[m_pos];
        if (c == '\n') {
            if (m_start != kNpos && m_depth <= 0 &&
                (!m_trigger.isTrigger() || m_trigger.bodyDone()))
                endStatement();
            ++m_line;
            ++m_pos;
        } else if (isSpace(c)) {
            ++m_pos;
        } else if (const std::size_t afterComment =
                       skipComment(m_text, m_pos, LineCommentEnd::AtNewline);
                   afterComment != m_pos) {
            advanceTo(afterComment);
        } else if (isQuoteOpen(c)) {
            const std::size_t close = skipQuoted(m_text, m_pos);
            if (close == kNpos) {
                mark(m_pos, m_text.size());
                return lineError(ErrorCode::InvalidArgument, m_startLine,
                                 "unterminated " + std::string(1, c) + " quote", current());
            }
            mark(m_pos, close);
            advanceTo(close);
        } else if (isWordChar(c)) {
            const std::size_t end = wordEnd(m_text, m_pos);
            mark(m_pos, end);
            onWord(upper(m_text.substr(m_pos, end - m_pos)));
            m_pos = end;
        } else if (c == ';' && !m_trigger.inBody()) {
            if (m_start != kNpos)
                endStatement();
            ++m_pos;
        } else {
            if (c == '(')
                ++m_depth;
            else if (c == ')')
                --m_depth;
            mark(m_pos, m_pos + 1);
            ++m_pos;
        }
        return Status::ok();
    }

    // Moves past a comment or quote, counting the lines it spans.
    void advanceTo(std::size_t end) {
        m_line += int(std::count(m_text.begin() + std::ptrdiff_t(m_pos),
                                 m_text.begin() + std::ptrdiff_t(end), '\n'));
        m_pos = end;
    }

    // Records significant text [begin, end) of the current statement.
    void mark(std::size_t begin, std::size_t end) {
        if (m_start == kNpos) {
            m_start = begin;
            m_startLine = m_line;
        }
        m_end = end;
    }

    // A CREATE TRIGGER is unfinished until the END of its body. A trigger has one body: a
    // BEGIN after that END opens none (SQLite reports the statement).
    void onWord(const std::string& word) {
        if (!(m_trigger.bodyDone() && word == "BEGIN"))
            m_trigger.onWord(word);
    }

    std::string_view current() const { return m_text.substr(m_start, m_end - m_start); }

    void endStatement() {
        m_out.push_back(ScriptStatement{std::string(current()), m_startLine});
        m_start = kNpos;
        m_depth = 0;
        m_trigger = TriggerTracker();
    }

    std::string_view m_text;
    std::size_t m_pos = 0;
    int m_line = 1;
    std::vector<ScriptStatement> m_out;

    // The current statement: its significant text is [m_start, m_end); kNpos when none yet.
    std::size_t m_start = kNpos;
    std::size_t m_end = 0;
    int m_startLine = 0;
    int m_depth = 0; // open parentheses
    TriggerTracker m_trigger;
};

// `ACTOR name [KV]`.
Result<Section> parseActorLine(const ScriptStatement& stmt) {
    std::vector<std::string_view> words;
    std::string_view text = stmt.text;
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (isSpace(text[pos])) {
            ++pos;
            continue;
        }
        std::size_t end = pos;
        while (end < text.size() && !isSpace(text[end]))
            ++end;
        words.push_back(text.substr(pos, end - pos));
        pos = end;
    }
    const bool kv = words.size() == 3 && upper(words[2]) == "KV";
    if (words.size() < 2 || (words.size() == 3 && !kv) || words.size() > 3)
        return lineError(ErrorCode::InvalidType, stmt.line, "expected ACTOR name [KV]", stmt.text);
    if (!isTypeName(words[1]))
        return lineError(ErrorCode::InvalidType, stmt.line,
                         "invalid actor type \"" + std::string(words[1]) +
                             "\" (letters, digits, _ and $ only)",
                         stmt.text);
    return Section{std::string(words[1]), kv, stmt.line, {}};
}

} // namespace

Result<std::vector<Section>> parseScript(std::string_view script) {
    auto statements = StatementSplitter(script).run();
    if (!statements)
        return statements.status();
    std::vector<Section> sections;
    for (ScriptStatement& stmt : *statements) {
        const std::string word = firstWord(stmt.text);
        if (word == "ACTOR") {
            auto section = parseActorLine(stmt);
            if (!section)
                return section.status();
            sections.push_back(std::move(*section));
        } else if (upper(stmt.text) == "COMMIT") {
            continue;
        } else if (sections.empty()) {
            return lineError(ErrorCode::InvalidArgument, stmt.line,
                             "a schema script must start with an ACTOR line", stmt.text);
        } else {
            sections.back().statements.push_back(std::move(stmt));
        }
    }
    return sections;
}

bool isTypeName(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), isWordChar);
}

std::string firstWord(std::string_view text) {
    return upper(text.substr(0, wordEnd(text, 0)));
}

std::string excerpt(std::string_view text) {
    constexpr std::size_t kMax = 120;
    std::string out;
    for (char c : text) {
        if (isSpace(c)) {
            if (!out.empty() && out.back() != ' ')
                out += ' ';
        } else {
            out += c;
        }
    }
    if (out.size() > kMax)
        out = out.substr(0, kMax) + "...";
    return out;
}

Status lineError(ErrorCode code, int line, std::string_view message, std::string_view statement) {
    return Status(code, "line " + std::to_string(line) + ": " + std::string(message) + " (in \"" +
                            excerpt(statement) + "\")");
}

Result<std::map<std::string, Section>> mergeSections(std::vector<Section> sections) {
    std::map<std::string, Section> merged;
    for (Section& section : sections) {
        auto [it, inserted] = merged.try_emplace(section.type);
        Section& into = it->second;
        if (inserted) {
            into = std::move(section);
            continue;
        }
        if (into.kv != section.kv)
            return lineError(ErrorCode::InvalidArgument, section.line,
                             "type " + section.type + " is declared both KV and not KV",
                             "ACTOR " + section.type);
        for (ScriptStatement& stmt : section.statements)
            into.statements.push_back(std::move(stmt));
    }
    return merged;
}

Result<std::vector<ScriptStatement>> newStatements(const ActorType& saved, const Section& section) {
    const auto& script = section.statements;
    const auto& old = saved.statements;
    if (script.empty())
        return std::vector<ScriptStatement>();
    if (normalized(script[0].text) != normalized(old[0])) // a fresh list: all appended
        return script;
    for (std::size_t i = 1; i < std::min(script.size(), old.size()); ++i) {
        if (normalized(script[i].text) != normalized(old[i]))
            return lineError(ErrorCode::InvalidArgument, script[i].line,
                             "schema is append-only: statement " + std::to_string(i + 1) +
                                 " of type " + saved.name + " differs from the saved \"" +
                                 excerpt(old[i]) + "\"",
                             script[i].text);
    }
    if (script.size() <= old.size())
        return std::vector<ScriptStatement>();
    return std::vector<ScriptStatement>(script.begin() + std::ptrdiff_t(old.size()), script.end());
}

} // namespace troupe::sql::schema_detail
