#include "script.h"

#include <algorithm>
#include <cctype>

namespace troupe::shell {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return out;
}

// The line without a trailing `;` and spaces, lower-cased: how commands are recognised.
std::string command(std::string_view line) {
    line = trim(line);
    while (!line.empty() && line.back() == ';')
        line = trim(line.substr(0, line.size() - 1));
    return lower(line);
}

// In ActorDB's scripts each line is a statement (`actor type1(a) create`, then an INSERT on the
// next line, no `;`). The buffered text ends a statement when a line starting with a statement
// keyword follows, unless a quote or parenthesis is still open or the text ends with a comma or
// an opening parenthesis; so a statement may still span lines.
bool startsStatement(std::string_view line) {
    static const char* const keywords[] = {"actor",   "select",  "insert",  "update", "delete",
                                           "replace", "create",  "drop",    "alter",  "pragma",
                                           "show",    "prepare", "execute", "with",   "explain"};
    std::size_t end = 0;
    while (end < line.size() && std::isalpha(static_cast<unsigned char>(line[end])))
        ++end;
    const std::string word = lower(line.substr(0, end));
    if (line.substr(0, 2) == "{{")
        return true;
    return std::any_of(std::begin(keywords), std::end(keywords),
                       [&](const char* k) { return word == k; });
}

bool endsStatement(const std::string& buffer) {
    int depth = 0;
    char quote = 0;
    for (char c : buffer) {
        if (quote) {
            if (c == quote)
                quote = 0;
        } else if (c == '\'' || c == '"' || c == '`') {
            quote = c;
        } else if (c == '(') {
            ++depth;
        } else if (c == ')') {
            --depth;
        }
    }
    const std::string_view t = trim(buffer);
    return quote == 0 && depth <= 0 && !t.empty() && t.back() != ';' && t.back() != ',' &&
           t.back() != '(';
}

} // namespace

std::string_view modeName(Mode mode) {
    switch (mode) {
    case Mode::Config:
        return "config";
    case Mode::Schema:
        return "schema";
    case Mode::Actordb:
        break;
    }
    return "actordb";
}

std::optional<Mode> parseMode(std::string_view name) {
    const std::string n = lower(trim(name));
    if (n == "actordb")
        return Mode::Actordb;
    if (n == "config")
        return Mode::Config;
    if (n == "schema")
        return Mode::Schema;
    return std::nullopt;
}

std::optional<Request> ScriptReader::take() {
    if (trim(m_buffer).empty()) {
        m_buffer.clear();
        return std::nullopt;
    }
    Request r{m_mode, std::move(m_buffer)};
    m_buffer.clear();
    return r;
}

std::vector<Request> ScriptReader::line(std::string_view text, bool autocommit) {
    std::vector<Request> out;
    const std::string_view t = trim(text);
    if (t.empty() || t.substr(0, 2) == "--" || t.substr(0, 2) == "//" || t.front() == '%')
        return out;
    const std::string cmd = command(t);
    if (cmd == "commit" || cmd == "c") {
        if (auto r = take())
            out.push_back(std::move(*r));
        return out;
    }
    if (cmd == "rollback" || cmd == "r") {
        clear();
        return out;
    }
    if (cmd.rfind("use ", 0) == 0) {
        if (auto mode = parseMode(cmd.substr(4))) {
            if (auto r = take())
                out.push_back(std::move(*r));
            m_mode = *mode;
            return out;
        }
    }
    if (m_mode == Mode::Actordb && startsStatement(t) && endsStatement(m_buffer))
        m_buffer.insert(m_buffer.end() - 1, ';'); // before the previous line's newline
    m_buffer.append(text);
    m_buffer += '\n';
    if (autocommit) {
        if (auto r = take())
            out.push_back(std::move(*r));
    }
    return out;
}

std::optional<Request> ScriptReader::finish() {
    return take();
}

} // namespace troupe::shell
