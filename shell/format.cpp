#include "format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace troupe::shell {

namespace {

std::string hex(const std::string& bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// Shortest text that reads back as the same double.
std::string number(double d) {
    char buffer[40];
    for (int precision = 15; precision <= 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, d);
        if (std::strtod(buffer, nullptr) == d)
            break;
    }
    return buffer;
}

// A value as text; nullopt for NULL.
std::optional<std::string> text(const client::Value& v) {
    if (std::holds_alternative<std::monostate>(v))
        return std::nullopt;
    if (const auto* i = std::get_if<std::int64_t>(&v))
        return std::to_string(*i);
    if (const auto* d = std::get_if<double>(&v))
        return number(*d);
    if (const auto* s = std::get_if<std::string>(&v))
        return *s;
    return "x'" + hex(std::get<client::Blob>(v).bytes) + "'";
}

std::string csvField(const std::optional<std::string>& value) {
    if (!value)
        return {};
    const std::string& s = *value;
    if (s.find_first_of(",\"\r\n") == std::string::npos)
        return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"')
            out += '"';
        out += c;
    }
    return out + "\"";
}

std::string csvLine(const std::vector<std::optional<std::string>>& fields) {
    std::string out;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i > 0)
            out += ',';
        out += csvField(fields[i]);
    }
    return out + "\r\n";
}

nlohmann::ordered_json jsonValue(const client::Value& v) {
    if (const auto* i = std::get_if<std::int64_t>(&v))
        return *i;
    if (const auto* d = std::get_if<double>(&v))
        return std::isfinite(*d) ? nlohmann::ordered_json(*d) : nlohmann::ordered_json(nullptr);
    if (const auto* s = std::get_if<std::string>(&v))
        return *s;
    if (const auto* b = std::get_if<client::Blob>(&v))
        return nlohmann::ordered_json{{"blob", hex(b->bytes)}};
    return nullptr;
}

// Display width of UTF-8 text: one column per code point (good enough for a terminal table).
std::size_t width(const std::string& s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string table(const client::QueryResult& r) {
    std::vector<std::vector<std::string>> cells;
    std::vector<std::size_t> widths;
    for (const std::string& c : r.columns)
        widths.push_back(width(c));
    for (const client::Row& row : r.rows) {
        std::vector<std::string> line;
        for (std::size_t i = 0; i < r.columns.size(); ++i) {
            std::string t = i < row.size() ? text(row[i]).value_or("NULL") : "NULL";
            for (char& c : t)
                if (c == '\n' || c == '\r' || c == '\t')
                    c = ' ';
            widths[i] = std::max(widths[i], width(t));
            line.push_back(std::move(t));
        }
        cells.push_back(std::move(line));
    }
    std::string border = "+";
    for (std::size_t w : widths)
        border += std::string(w + 2, '-') + "+";
    border += "\n";
    auto renderLine = [&](const std::vector<std::string>& values, const client::Row* row) {
        std::string out = "|";
        for (std::size_t i = 0; i < values.size(); ++i) {
            const std::string pad(widths[i] - width(values[i]), ' ');
            const bool numeric = row && i < row->size() &&
                                 (std::holds_alternative<std::int64_t>((*row)[i]) ||
                                  std::holds_alternative<double>((*row)[i]));
            // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on " " + std::string.
            out += ' ';
            out += numeric ? pad : values[i];
            out += numeric ? values[i] : pad;
            out += " |";
        }
        return out + "\n";
    };
    std::string out;
    if (!r.columns.empty()) {
        out += border + renderLine(r.columns, nullptr) + border;
        for (std::size_t i = 0; i < cells.size(); ++i)
            out += renderLine(cells[i], &r.rows[i]);
        if (!cells.empty())
            out += border;
    }
    out += std::to_string(r.rows.size()) + (r.rows.size() == 1 ? " row\n" : " rows\n");
    return out;
}

} // namespace

std::optional<Format> parseFormat(std::string_view name) {
    if (name == "table")
        return Format::Table;
    if (name == "csv")
        return Format::Csv;
    if (name == "csvh")
        return Format::CsvHeader;
    if (name == "json")
        return Format::Json;
    return std::nullopt;
}

std::string formatResult(const client::QueryResult& r, Format format) {
    if (!r.batch.empty()) {
        std::string out;
        for (const client::QueryResult& part : r.batch)
            out += formatResult(part, format);
        return out;
    }
    if (!r.isRead) {
        switch (format) {
        case Format::Table:
            return "OK, " + std::to_string(r.rowsChanged) +
                   (r.rowsChanged == 1 ? " row" : " rows") + " changed, last insert rowid " +
                   std::to_string(r.lastChangeRowid) + "\n";
        case Format::CsvHeader:
            return "rowsChanged,lastInsertRowid\r\n" + std::to_string(r.rowsChanged) + "," +
                   std::to_string(r.lastChangeRowid) + "\r\n";
        case Format::Csv:
            return std::to_string(r.rowsChanged) + "," + std::to_string(r.lastChangeRowid) + "\r\n";
        case Format::Json:
            return nlohmann::ordered_json{{"rowsChanged", r.rowsChanged},
                                          {"lastInsertRowid", r.lastChangeRowid}}
                       .dump() +
                   "\n";
        }
    }
    switch (format) {
    case Format::Table:
        return table(r);
    case Format::Csv:
    case Format::CsvHeader: {
        std::string out;
        if (format == Format::CsvHeader) {
            std::vector<std::optional<std::string>> header(r.columns.begin(), r.columns.end());
            out += csvLine(header);
        }
        for (const client::Row& row : r.rows) {
            std::vector<std::optional<std::string>> fields;
            for (const client::Value& v : row)
                fields.push_back(text(v));
            out += csvLine(fields);
        }
        return out;
    }
    case Format::Json: {
        nlohmann::ordered_json rows = nlohmann::ordered_json::array();
        for (const client::Row& row : r.rows) {
            nlohmann::ordered_json object = nlohmann::ordered_json::object();
            for (std::size_t i = 0; i < r.columns.size() && i < row.size(); ++i)
                object[r.columns[i]] = jsonValue(row[i]);
            rows.push_back(std::move(object));
        }
        return rows.dump() + "\n";
    }
    }
    return {};
}

} // namespace troupe::shell
