#include "sql/sql_text.h"

#include <cctype>

namespace troupe::sql {

namespace {
constexpr std::size_t kNpos = std::string_view::npos;
} // namespace

bool isSpace(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

bool isWordChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$';
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
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::toupper(static_cast<unsigned char>(a[i])) !=
            std::toupper(static_cast<unsigned char>(b[i])))
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

void TriggerTracker::onWord(const std::string& word) {
    if (m_lead.size() < 3) {
        m_lead.push_back(word);
        const bool temp = m_lead.size() == 3 && (m_lead[1] == "TEMP" || m_lead[1] == "TEMPORARY");
        if (m_lead[0] == "CREATE" && word == "TRIGGER" && (m_lead.size() == 2 || temp))
            m_trigger = true;
    }
    if (m_trigger && !m_inBody && word == "BEGIN") {
        m_inBody = true;
        m_caseDepth = 0;
    } else if (m_inBody && word == "CASE") {
        ++m_caseDepth;
    } else if (m_inBody && word == "END") {
        if (m_caseDepth == 0) {
            m_inBody = false;
            m_bodyDone = true;
        } else {
            --m_caseDepth;
        }
    }
}

} // namespace troupe::sql
