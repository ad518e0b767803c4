#include "sql/sql_text.h"

namespace troupe::sql {

namespace {
constexpr std::size_t kNpos = std::string_view::npos;

char asciiUpper(char c) {
    return c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c;
}

char asciiLower(char c) {
    return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}
} // namespace

// ASCII classes by comparison: these run for every character of every request, and the
// <cctype> calls (locale lookups) were a visible part of segmenting one (issue 5).
bool isSpace(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r'); // \t \n \v \f \r, as isspace in "C"
}

bool isWordChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$';
}

bool isQuote(char c) {
    return c == '\'' || c == '"' || c == '`';
}

std::size_t wordEnd(std::string_view text, std::size_t pos) {
    while (pos < text.size() && isWordChar(text[pos]))
        ++pos;
    return pos;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = asciiUpper(c);
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = asciiLower(c);
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (asciiUpper(a[i]) != asciiUpper(b[i]))
            return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && isSpace(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back()))
        s.remove_suffix(1);
    return s;
}

bool startsWith(std::string_view text, std::size_t pos, std::string_view prefix) {
    return text.substr(pos, prefix.size()) == prefix;
}

std::size_t skipQuoted(std::string_view text, std::size_t pos) {
    const char close = text[pos] == '[' ? ']' : text[pos];
    for (std::size_t i = pos + 1; i < text.size(); ++i) {
        if (text[i] != close)
            continue;
        if (close != ']' && i + 1 < text.size() && text[i + 1] == close) {
            ++i;
            continue;
        }
        return i + 1;
    }
    return kNpos;
}

std::string unquote(std::string_view quotedRun) {
    std::string out;
    const char quote = quotedRun.front();
    for (std::size_t i = 1; i + 1 < quotedRun.size(); ++i) {
        out += quotedRun[i];
        if (quotedRun[i] == quote)
            ++i;
    }
    return out;
}

std::size_t skipComment(std::string_view text, std::size_t pos, LineCommentEnd lineEnd) {
    if (startsWith(text, pos, "--")) {
        const std::size_t nl = text.find('\n', pos);
        if (nl == kNpos)
            return text.size();
        return lineEnd == LineCommentEnd::AfterNewline ? nl + 1 : nl;
    }
    if (startsWith(text, pos, "/*")) {
        const std::size_t end = text.find("*/", pos + 2);
        return end == kNpos ? text.size() : end + 2;
    }
    return pos;
}

std::size_t skipBlank(std::string_view text, std::size_t pos) {
    while (pos < text.size()) {
        if (isSpace(text[pos])) {
            ++pos;
            continue;
        }
        const std::size_t next = skipComment(text, pos, LineCommentEnd::AfterNewline);
        if (next == pos)
            break;
        pos = next;
    }
    return pos;
}

std::string quotedExcerpt(std::string_view text) {
    constexpr std::size_t kMax = 60;
    // Appended piecewise: GCC 12 warns (-Wrestrict, a false positive) on "'" + std::string.
    std::string out(1, '\'');
    out.append(text.substr(0, kMax));
    out.append(text.size() <= kMax ? "'" : "...'");
    return out;
}

void TriggerTracker::onWord(std::string_view word) {
    // Case-insensitive comparisons in place: no upper-cased copy per word.
    if (m_words < 3) {
        ++m_words;
        if (m_words == 1)
            m_create = iequals(word, "CREATE");
        else if (m_words == 2)
            m_temp = iequals(word, "TEMP") || iequals(word, "TEMPORARY");
        if (m_create && iequals(word, "TRIGGER") && (m_words == 2 || (m_words == 3 && m_temp)))
            m_trigger = true;
    }
    if (m_trigger && !m_inBody && iequals(word, "BEGIN")) {
        m_inBody = true;
        m_caseDepth = 0;
    } else if (m_inBody && iequals(word, "CASE")) {
        ++m_caseDepth;
    } else if (m_inBody && iequals(word, "END")) {
        if (m_caseDepth == 0) {
            m_inBody = false;
            m_bodyDone = true;
        } else {
            --m_caseDepth;
        }
    }
}

} // namespace troupe::sql
