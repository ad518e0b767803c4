#include "slt_file.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

namespace troupe::slt {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

bool isBlank(std::string_view s) {
    return trim(s).empty();
}

std::vector<std::string> splitLines(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        lines.emplace_back(line);
        start = end + 1;
    }
    if (!lines.empty() && lines.back().empty())
        lines.pop_back();
    return lines;
}

std::vector<std::string> splitWords(std::string_view s) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
            ++i;
        std::size_t start = i;
        while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i])))
            ++i;
        if (i > start)
            words.emplace_back(s.substr(start, i - start));
    }
    return words;
}

std::optional<std::int64_t> parseInt(std::string_view s) {
    std::int64_t value = 0;
    if (!s.empty() && s.front() == '+')
        s.remove_prefix(1);
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size())
        return std::nullopt;
    return value;
}

std::optional<Target> targetFromWord(std::string_view word) {
    if (word == "config")
        return Target::Config;
    if (word == "schema")
        return Target::Schema;
    if (word == "script")
        return Target::Script;
    if (word == "api")
        return Target::Api;
    return std::nullopt;
}

std::string camelToSnake(std::string_view camel) {
    std::string out;
    for (char c : camel) {
        if (std::isupper(static_cast<unsigned char>(c))) {
            if (!out.empty())
                out += '_';
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else {
            out += c;
        }
    }
    return out;
}

// Parses the header words of a statement-like record ("ok changed=1" / "error Code text").
// `rest` is the header after its first word. Returns an error message or an empty string.
std::string parseOutcome(std::string_view rest, Record& record) {
    std::vector<std::string> words = splitWords(rest);
    if (words.empty())
        return "expected ok or error";
    if (words[0] == "ok") {
        for (std::size_t i = 1; i < words.size(); ++i) {
            const std::string& w = words[i];
            std::optional<std::int64_t>* slot = nullptr;
            std::string_view value;
            if (w.rfind("changed=", 0) == 0) {
                slot = &record.changed;
                value = std::string_view(w).substr(8);
            } else if (w.rfind("lastid=", 0) == 0) {
                slot = &record.lastId;
                value = std::string_view(w).substr(7);
            } else {
                return "unknown option '" + w + "' (expected changed=N or lastid=N)";
            }
            *slot = parseInt(value);
            if (!*slot)
                return "bad number in '" + w + "'";
        }
        return {};
    }
    if (words[0] == "error") {
        record.expectOk = false;
        if (words.size() < 2)
            return "statement error needs an error code name (e.g. NotPermitted)";
        auto code = errorCodeFromName(words[1]);
        if (!code)
            return "unknown error code name '" + words[1] + "'";
        record.expectedCode = *code;
        // The message substring is the rest of the header, as written.
        std::string_view tail = trim(rest);
        tail = trim(tail.substr(5)); // "error"
        tail = trim(tail.substr(words[1].size()));
        record.expectedMessage = std::string(tail);
        return {};
    }
    return "expected ok or error, got '" + words[0] + "'";
}

std::string parseQueryHeader(const std::vector<std::string>& words, Record& record) {
    if (words.size() < 2)
        return "query needs column types (letters I R T B ?, or *)";
    record.types = words[1];
    for (char c : record.types == "*" ? std::string() : record.types) {
        if (c != 'I' && c != 'R' && c != 'T' && c != 'B' && c != '?')
            return "bad column type letter '" + std::string(1, c) +
                   "' (expected I R T B ?, or * alone)";
    }
    for (std::size_t i = 2; i < words.size(); ++i) {
        const std::string& w = words[i];
        if (w == "rowsort")
            record.rowsort = true;
        else if (w == "colnames")
            record.colnames = true;
        else if (w == "anyrows")
            record.anyRows = true;
        else if (auto target = targetFromWord(w))
            record.target = *target;
        else
            return "unknown query option '" + w + "'";
    }
    return {};
}

std::string parseSessionHeader(const std::vector<std::string>& words, Record& record) {
    if (words.size() < 2 || words.size() > 3)
        return "expected: session <name> [user=<u>]";
    record.sessionName = words[1];
    if (words.size() == 3) {
        if (words[2].rfind("user=", 0) != 0)
            return "expected user=<u>, got '" + words[2] + "'";
        record.user = words[2].substr(5);
    }
    return {};
}

// Parses a header line into `record`; the body is read by the caller.
std::string parseHeader(std::string_view header, Record& record) {
    std::vector<std::string> words = splitWords(header);
    const std::string& first = words.front();
    std::string_view rest = trim(header).substr(first.size());
    if (first == "statement") {
        record.kind = Record::Kind::Statement;
        return parseOutcome(rest, record);
    }
    if (auto target = targetFromWord(first)) {
        record.kind = Record::Kind::Statement;
        record.target = *target;
        return parseOutcome(rest, record);
    }
    if (first == "query") {
        record.kind = Record::Kind::Query;
        return parseQueryHeader(words, record);
    }
    if (first == "session") {
        record.kind = Record::Kind::Session;
        return parseSessionHeader(words, record);
    }
    if (first == "restart" || first == "init") {
        record.kind = first == "init" ? Record::Kind::Init : Record::Kind::Restart;
        return words.size() == 1 ? std::string() : first + " takes no arguments";
    }
    if (first == "params") {
        record.kind = Record::Kind::Params;
        auto values = parseLiterals(rest);
        if (!values)
            return "bad literal in params (expected 12, 1.5, 'text', NULL, X'00ff')";
        record.params = std::move(*values);
        return {};
    }
    return "unknown record type '" + first + "'";
}

bool hasBody(Record::Kind kind) {
    return kind == Record::Kind::Statement || kind == Record::Kind::Query;
}

} // namespace

TestFile parseTestFile(std::string_view text) {
    TestFile file;
    const std::vector<std::string> lines = splitLines(text);
    std::size_t i = 0;
    auto skipRecord = [&] {
        while (i < lines.size() && !isBlank(lines[i]))
            ++i;
    };
    while (i < lines.size()) {
        const std::string& header = lines[i];
        if (isBlank(header) || trim(header).front() == '#') {
            ++i;
            continue;
        }
        Record record;
        record.line = static_cast<int>(i) + 1;
        if (std::string error = parseHeader(header, record); !error.empty()) {
            file.errors.push_back({record.line, error});
            ++i;
            skipRecord();
            continue;
        }
        ++i;
        if (!hasBody(record.kind)) {
            file.records.push_back(std::move(record));
            continue;
        }
        bool separator = false;
        std::string body;
        for (; i < lines.size() && !isBlank(lines[i]); ++i) {
            if (record.kind == Record::Kind::Query && trim(lines[i]) == "----") {
                separator = true;
                ++i;
                break;
            }
            if (!body.empty())
                body += '\n';
            body += lines[i];
        }
        record.text = std::move(body);
        if (separator) {
            for (; i < lines.size() && !isBlank(lines[i]); ++i)
                record.expected.push_back(lines[i]);
        }
        if (record.text.empty()) {
            file.errors.push_back({record.line, "record without a request"});
            continue;
        }
        if (record.kind == Record::Kind::Query && !separator) {
            file.errors.push_back({record.line, "query without a ---- line"});
            continue;
        }
        if (record.kind == Record::Kind::Query && record.anyRows &&
            record.expected.size() > (record.colnames ? 1u : 0u)) {
            file.errors.push_back({record.line, "anyrows query must not list rows"});
            continue;
        }
        file.records.push_back(std::move(record));
    }
    return file;
}

std::optional<sql::Value> parseLiteral(std::string_view token) {
    token = trim(token);
    if (token.empty())
        return std::nullopt;
    auto unquote = [](std::string_view quoted) -> std::optional<std::string> {
        if (quoted.size() < 2 || quoted.front() != '\'' || quoted.back() != '\'')
            return std::nullopt;
        std::string out;
        for (std::size_t i = 1; i + 1 < quoted.size(); ++i) {
            if (quoted[i] == '\'') {
                if (i + 2 >= quoted.size() || quoted[i + 1] != '\'')
                    return std::nullopt;
                ++i;
            }
            out += quoted[i];
        }
        return out;
    };
    if (token.size() == 4 && (token == "NULL" || token == "null" || token == "Null"))
        return sql::Value{};
    if (token.front() == '\'') {
        auto s = unquote(token);
        if (!s)
            return std::nullopt;
        return sql::Value{std::move(*s)};
    }
    if (token.front() == 'X' || token.front() == 'x') {
        auto hex = unquote(token.substr(1));
        if (!hex || hex->size() % 2 != 0)
            return std::nullopt;
        std::string bytes;
        for (std::size_t i = 0; i < hex->size(); i += 2) {
            unsigned value = 0;
            auto [ptr, ec] = std::from_chars(hex->data() + i, hex->data() + i + 2, value, 16);
            if (ec != std::errc() || ptr != hex->data() + i + 2)
                return std::nullopt;
            bytes += static_cast<char>(value);
        }
        return sql::Value{sql::Blob{std::move(bytes)}};
    }
    if (auto integer = parseInt(token))
        return sql::Value{*integer};
    const std::string copy(token);
    char* end = nullptr;
    const double real = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size() || copy.find_first_of("0123456789") == std::string::npos)
        return std::nullopt;
    return sql::Value{real};
}

std::optional<std::vector<sql::Value>> parseLiterals(std::string_view text) {
    std::vector<sql::Value> values;
    std::size_t i = 0;
    while (i < text.size()) {
        if (std::isspace(static_cast<unsigned char>(text[i]))) {
            ++i;
            continue;
        }
        const std::size_t start = i;
        bool quoted = false;
        for (; i < text.size(); ++i) {
            if (text[i] == '\'')
                quoted = !quoted; // '' inside a string toggles twice
            else if (!quoted && std::isspace(static_cast<unsigned char>(text[i])))
                break;
        }
        if (quoted)
            return std::nullopt;
        auto value = parseLiteral(text.substr(start, i - start));
        if (!value)
            return std::nullopt;
        values.push_back(std::move(*value));
    }
    return values;
}

std::optional<ErrorCode> errorCodeFromName(std::string_view name) {
    const std::string snake = camelToSnake(name);
    for (int i = 0; i < 1000; ++i) {
        const auto code = static_cast<ErrorCode>(i);
        if (errorCodeName(code) == snake && errorCodeCamelName(code) == name)
            return code;
    }
    return std::nullopt;
}

std::string errorCodeCamelName(ErrorCode code) {
    std::string out;
    bool upper = true;
    for (char c : errorCodeName(code)) {
        if (c == '_') {
            upper = true;
            continue;
        }
        out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
        upper = false;
    }
    return out;
}

} // namespace troupe::slt
