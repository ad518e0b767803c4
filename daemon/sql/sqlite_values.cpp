#include "sql/sqlite_values.h"

#include <cstdint>
#include <variant>

namespace troupe::sql {

int bindValue(sqlite3_stmt* stmt, int index, const Value& value) {
    struct Binder {
        sqlite3_stmt* stmt;
        int index;
        int operator()(std::monostate) const { return sqlite3_bind_null(stmt, index); }
        int operator()(std::int64_t v) const { return sqlite3_bind_int64(stmt, index, v); }
        int operator()(double v) const { return sqlite3_bind_double(stmt, index, v); }
        int operator()(const std::string& v) const {
            return sqlite3_bind_text64(stmt, index, v.data(), v.size(), SQLITE_TRANSIENT,
                                       SQLITE_UTF8);
        }
        int operator()(const Blob& v) const {
            return sqlite3_bind_blob64(stmt, index, v.bytes.data(), v.bytes.size(),
                                       SQLITE_TRANSIENT);
        }
    };
    return std::visit(Binder{stmt, index}, value);
}

Value columnValue(sqlite3_stmt* stmt, int column) {
    switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_INTEGER:
        return std::int64_t(sqlite3_column_int64(stmt, column));
    case SQLITE_FLOAT:
        return sqlite3_column_double(stmt, column);
    case SQLITE_TEXT: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
        return std::string(text, std::size_t(sqlite3_column_bytes(stmt, column)));
    }
    case SQLITE_BLOB: {
        const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, column));
        return Blob{std::string(data ? data : "", std::size_t(sqlite3_column_bytes(stmt, column)))};
    }
    default:
        return std::monostate{};
    }
}

std::string columnText(sqlite3_stmt* stmt, int column) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
    return text ? std::string(text, std::size_t(sqlite3_column_bytes(stmt, column))) : "";
}

} // namespace troupe::sql
