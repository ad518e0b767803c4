#include "sql/schema.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include <sqlite3.h>

#include "core/bytes.h"

namespace troupe::sql {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;
constexpr std::uint8_t kFormatVersion = 1;
constexpr std::uint8_t kFlagKv = 0x01;

bool isSpace(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

bool isWordChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$';
}

bool isQuoteOpen(char c) {
    return c == '\'' || c == '"' || c == '`' || c == '[';
}

bool isTypeName(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), isWordChar);
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

bool startsWith(std::string_view text, std::size_t pos, std::string_view prefix) {
    return text.substr(pos, prefix.size()) == prefix;
}

// End of the quoted run opening at pos; a doubled closing char is an escape except in [...].
// kNpos when unterminated.
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

// End of the comment starting at pos (a `--` comment ends before its newline; an unterminated
// block comment runs to the end, as in SQLite), or pos when there is none.
std::size_t skipComment(std::string_view text, std::size_t pos) {
    if (startsWith(text, pos, "--"))
        return std::min(text.find('\n', pos), text.size());
    if (startsWith(text, pos, "/*")) {
        const std::size_t end = text.find("*/", pos + 2);
        return end == kNpos ? text.size() : end + 2;
    }
    return pos;
}

bool isBlank(std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (isSpace(text[pos])) {
            ++pos;
            continue;
        }
        const std::size_t next = skipComment(text, pos);
        if (next == pos)
            return false;
        pos = next;
    }
    return true;
}

// The leading word of a statement that starts with a significant character, upper-cased.
std::string firstWord(std::string_view text) {
    std::size_t end = 0;
    while (end < text.size() && isWordChar(text[end]))
        ++end;
    return upper(text.substr(0, end));
}

// The statement for error messages: whitespace runs collapsed, long text cut.
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

// The statement reduced for append-only comparison: comments dropped, whitespace kept only as
// one space between two word characters; quoted text unchanged.
std::string normalized(std::string_view text) {
    std::string out;
    bool pendingSpace = false;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const char c = text[pos];
        if (const std::size_t end = skipComment(text, pos); end != pos) {
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

// ---- Script parsing ------------------------------------------------------------------------

struct ScriptStatement {
    std::string text;
    int line = 0;
};

struct Section {
    std::string type;
    bool kv = false;
    int line = 0;
    std::vector<ScriptStatement> statements;
};

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
            if (m_trigger && !m_bodyDone)
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
            if (m_start != kNpos && m_depth <= 0 && (!m_trigger || m_bodyDone))
                endStatement();
            ++m_line;
            ++m_pos;
        } else if (isSpace(c)) {
            ++m_pos;
        } else if (const std::size_t afterComment = skipComment(m_text, m_pos);
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
            std::size_t wordEnd = m_pos;
            while (wordEnd < m_text.size() && isWordChar(m_text[wordEnd]))
                ++wordEnd;
            mark(m_pos, wordEnd);
            onWord(upper(m_text.substr(m_pos, wordEnd - m_pos)));
            m_pos = wordEnd;
        } else if (c == ';' && !m_inBody) {
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

    // Tracks CREATE [TEMP] TRIGGER ... BEGIN ... END, which is unfinished until its END;
    // CASE ... END pairs in the body are counted so their END does not close it.
    void onWord(const std::string& word) {
        if (m_lead.size() < 3) {
            m_lead.push_back(word);
            const bool temp =
                m_lead.size() == 3 && (m_lead[1] == "TEMP" || m_lead[1] == "TEMPORARY");
            if (m_lead[0] == "CREATE" && word == "TRIGGER" && (m_lead.size() == 2 || temp))
                m_trigger = true;
        }
        if (m_trigger && !m_inBody && !m_bodyDone && word == "BEGIN") {
            m_inBody = true;
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

    std::string_view current() const { return m_text.substr(m_start, m_end - m_start); }

    void endStatement() {
        m_out.push_back(ScriptStatement{std::string(current()), m_startLine});
        m_start = kNpos;
        m_depth = 0;
        m_lead.clear();
        m_trigger = false;
        m_inBody = false;
        m_bodyDone = false;
        m_caseDepth = 0;
    }

    std::string_view m_text;
    std::size_t m_pos = 0;
    int m_line = 1;
    std::vector<ScriptStatement> m_out;

    // The current statement: its significant text is [m_start, m_end); kNpos when none yet.
    std::size_t m_start = kNpos;
    std::size_t m_end = 0;
    int m_startLine = 0;
    int m_depth = 0;                 // open parentheses
    std::vector<std::string> m_lead; // first keywords
    bool m_trigger = false;
    bool m_inBody = false;
    bool m_bodyDone = false;
    int m_caseDepth = 0;
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

// Joins the sections of each type, in order of type name.
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

// ---- Scratch databases ---------------------------------------------------------------------

// A private in-memory SQLite database that builds one actor type, with an authorizer that
// refuses what would break the actor model. Lives on the stack of one call.
class ScratchDb {
public:
    ScratchDb() = default;
    ScratchDb(const ScratchDb&) = delete;
    ScratchDb& operator=(const ScratchDb&) = delete;
    ~ScratchDb() {
        if (m_db)
            sqlite3_close_v2(m_db);
    }

    Status open() {
        const int rc =
            sqlite3_open_v2(":memory:", &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
        if (rc != SQLITE_OK)
            return Status(ErrorCode::Internal,
                          std::string("cannot open a scratch database: ") + sqlite3_errstr(rc));
        if (sqlite3_exec(m_db, "PRAGMA foreign_keys=ON", nullptr, nullptr, nullptr) != SQLITE_OK)
            return Status(ErrorCode::Internal, "cannot enable foreign keys on a scratch database");
        sqlite3_set_authorizer(m_db, &ScratchDb::authorize, this);
        return Status::ok();
    }

    // Runs one statement of a schema; `where` names it in errors ("line 4").
    Status run(std::string_view sql, std::string_view where) {
        if (firstWord(sql) == "VACUUM")
            return fail(ErrorCode::NotPermitted, where, "VACUUM is not permitted in a schema", sql);
        m_denied.clear();
        m_enforce = true;
        Status st = execute(sql, where);
        m_enforce = false;
        return st;
    }

    // Rows of an internal query, every column as text; `param` is bound to ?1 when not empty.
    Result<std::vector<std::vector<std::string>>> query(const char* sql, std::string_view param) {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(m_db, sql, -1, &stmt, nullptr) != SQLITE_OK)
            return Status(ErrorCode::Internal,
                          std::string(sqlite3_errmsg(m_db)) + " (in \"" + sql + "\")");
        if (!param.empty())
            sqlite3_bind_text(stmt, 1, param.data(), int(param.size()), SQLITE_TRANSIENT);
        std::vector<std::vector<std::string>> rows;
        int rc = SQLITE_ROW;
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            auto& row = rows.emplace_back();
            for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
                const auto* text = sqlite3_column_text(stmt, i);
                row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
            }
        }
        sqlite3_finalize(stmt);
        if (rc != SQLITE_DONE)
            return Status(ErrorCode::Internal,
                          std::string(sqlite3_errmsg(m_db)) + " (in \"" + sql + "\")");
        return rows;
    }

private:
    Status execute(std::string_view sql, std::string_view where) {
        sqlite3_stmt* stmt = nullptr;
        const char* tail = nullptr;
        int rc = sqlite3_prepare_v2(m_db, sql.data(), int(sql.size()), &stmt, &tail);
        if (rc != SQLITE_OK)
            return sqlFailure(rc, where, sql);
        const std::string_view rest = sql.substr(std::size_t(tail - sql.data()));
        if (!isBlank(rest)) {
            sqlite3_finalize(stmt);
            return fail(ErrorCode::SqlError, where,
                        "trailing text after the statement: \"" + excerpt(rest) + "\"", sql);
        }
        if (!stmt)
            return fail(ErrorCode::SqlError, where, "not a statement", sql);
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        }
        if (rc != SQLITE_DONE) {
            // The error is reported by sqlite3_finalize with the extended code.
            rc = sqlite3_finalize(stmt);
            return sqlFailure(rc, where, sql);
        }
        sqlite3_finalize(stmt);
        return Status::ok();
    }

    Status sqlFailure(int rc, std::string_view where, std::string_view sql) const {
        if (!m_denied.empty() || (rc & 0xff) == SQLITE_AUTH)
            return fail(ErrorCode::NotPermitted, where,
                        (m_denied.empty() ? std::string("this statement") : m_denied) +
                            " is not permitted in a schema",
                        sql);
        return fail(ErrorCode::SqlError, where, sqlite3_errmsg(m_db), sql);
    }

    static Status fail(ErrorCode code, std::string_view where, std::string_view message,
                       std::string_view sql) {
        return Status(code, std::string(where) + ": " + std::string(message) + " (in \"" +
                                excerpt(sql) + "\")");
    }

    static int authorize(void* self, int action, const char* a, const char*, const char*,
                         const char*) {
        auto* db = static_cast<ScratchDb*>(self);
        if (!db->m_enforce)
            return SQLITE_OK;
        std::string denied;
        switch (action) {
        case SQLITE_ATTACH:
            denied = "ATTACH";
            break;
        case SQLITE_DETACH:
            denied = "DETACH";
            break;
        case SQLITE_TRANSACTION:
            denied = a ? a : "transaction control"; // BEGIN, COMMIT or ROLLBACK
            break;
        case SQLITE_SAVEPOINT:
            denied = "SAVEPOINT/RELEASE";
            break;
        case SQLITE_PRAGMA:
            denied = std::string("PRAGMA ") + (a ? a : "");
            break;
        case SQLITE_CREATE_TEMP_TABLE:
        case SQLITE_CREATE_TEMP_INDEX:
        case SQLITE_CREATE_TEMP_TRIGGER:
        case SQLITE_CREATE_TEMP_VIEW:
            denied = "a TEMP object (gone when the actor closes)";
            break;
        default:
            return SQLITE_OK;
        }
        if (db->m_denied.empty())
            db->m_denied = std::move(denied);
        return SQLITE_DENY;
    }

    sqlite3* m_db = nullptr;
    bool m_enforce = false; // a schema statement is running: the authorizer checks it
    std::string m_denied;   // what the authorizer refused in the current statement
};

std::string savedLabel(std::size_t index, std::string_view type) {
    return "saved statement " + std::to_string(index + 1) + " of type " + std::string(type);
}

// Builds the type's saved statements in `db`.
Status buildSaved(ScratchDb& db, const ActorType& type) {
    TROUPE_RETURN_IF_ERROR(db.open());
    for (std::size_t i = 0; i < type.statements.size(); ++i)
        TROUPE_RETURN_IF_ERROR(db.run(type.statements[i], savedLabel(i, type.name)));
    return Status::ok();
}

// Runs a type's saved and new statements in a scratch database and checks the KV rule.
Status validateType(const ActorType& saved, const Section& section,
                    const std::vector<ScriptStatement>& fresh) {
    ScratchDb db;
    TROUPE_RETURN_IF_ERROR(buildSaved(db, saved));
    for (const ScriptStatement& stmt : fresh)
        TROUPE_RETURN_IF_ERROR(db.run(stmt.text, "line " + std::to_string(stmt.line)));
    if (!section.kv)
        return Status::ok();
    auto columns = db.query("SELECT lower(c.name) FROM sqlite_master AS t, "
                            "pragma_table_info(t.name) AS c WHERE t.type = 'table' AND "
                            "t.name = 'actors' COLLATE NOCASE",
                            {});
    if (!columns)
        return columns.status();
    auto has = [&](const char* name) {
        return std::any_of(columns->begin(), columns->end(),
                           [&](const auto& row) { return row.at(0) == name; });
    };
    if (!has("id") || !has("hash"))
        return Status(ErrorCode::InvalidArgument, "line " + std::to_string(section.line) +
                                                      ": KV type " + section.type +
                                                      " must have a table actors(id, hash)");
    return Status::ok();
}

// The statements of `section` that are new for a type saved as `saved` (append-only rule in
// schema.h).
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

// Builds a scratch database holding a fresh actor of the type.
Status buildFresh(ScratchDb& db, const Schema& schema, std::string_view type) {
    const ActorType* found = schema.find(type);
    if (!found)
        return Status(ErrorCode::InvalidType, "unknown actor type \"" + std::string(type) + "\"");
    return buildSaved(db, *found);
}

} // namespace

// ---- Schema --------------------------------------------------------------------------------

const ActorType* Schema::find(std::string_view type) const {
    auto it = m_types.find(type);
    return it == m_types.end() ? nullptr : it->second.get();
}

std::vector<std::string> Schema::typeNames() const {
    std::vector<std::string> names;
    names.reserve(m_types.size());
    for (const auto& entry : m_types)
        names.push_back(entry.first);
    return names;
}

std::uint32_t Schema::version(std::string_view type) const {
    const ActorType* found = find(type);
    return found ? std::uint32_t(found->statements.size()) : 0;
}

std::vector<std::string> Schema::migration(std::string_view type, std::uint32_t fromVersion) const {
    const ActorType* found = find(type);
    if (!found || fromVersion >= found->statements.size())
        return {};
    return std::vector<std::string>(found->statements.begin() + fromVersion,
                                    found->statements.end());
}

bool Schema::operator==(const Schema& other) const {
    return m_revision == other.m_revision &&
           std::equal(m_types.begin(), m_types.end(), other.m_types.begin(), other.m_types.end(),
                      [](const auto& a, const auto& b) { return *a.second == *b.second; });
}

Result<SchemaChange> applySchemaScript(const Schema& current, std::string_view script) {
    auto sections = parseScript(script);
    if (!sections)
        return sections.status();
    auto merged = mergeSections(std::move(*sections));
    if (!merged)
        return merged.status();

    Schema::Types types = current.m_types;
    std::vector<ChangedType> changed;
    for (const auto& [name, section] : *merged) {
        const ActorType* saved = current.find(name);
        const ActorType empty{name, section.kv, {}};
        std::vector<ScriptStatement> fresh;
        if (saved) {
            if (saved->kv != section.kv)
                return lineError(ErrorCode::InvalidArgument, section.line,
                                 "cannot change whether existing type " + name + " is KV",
                                 "ACTOR " + name + (section.kv ? " KV" : ""));
            auto added = newStatements(*saved, section);
            if (!added)
                return added.status();
            fresh = std::move(*added);
        } else if (section.statements.empty()) {
            return lineError(ErrorCode::InvalidArgument, section.line,
                             "new type " + name + " has no statements", "ACTOR " + name);
        } else {
            fresh = section.statements;
        }
        if (fresh.empty())
            continue;
        TROUPE_RETURN_IF_ERROR(validateType(saved ? *saved : empty, section, fresh));
        auto type = std::make_shared<ActorType>(saved ? *saved : empty);
        changed.push_back(ChangedType{name, std::uint32_t(type->statements.size())});
        for (ScriptStatement& stmt : fresh)
            type->statements.push_back(std::move(stmt.text));
        types[name] = std::move(type);
    }
    if (changed.empty())
        return SchemaChange{current, {}};
    return SchemaChange{Schema(std::move(types), current.m_revision + 1), std::move(changed)};
}

// ---- Persistence ---------------------------------------------------------------------------

std::string encodeSchema(const Schema& schema) {
    std::string out;
    out.push_back(char(kFormatVersion));
    putBigEndian64(out, schema.revision());
    const std::vector<std::string> names = schema.typeNames();
    putBigEndian32(out, std::uint32_t(names.size()));
    for (const std::string& name : names) {
        const ActorType& type = *schema.find(name);
        putBigEndian32(out, std::uint32_t(name.size()));
        out += name;
        out.push_back(char(type.kv ? kFlagKv : 0));
        putBigEndian32(out, std::uint32_t(type.statements.size()));
        for (const std::string& stmt : type.statements) {
            putBigEndian32(out, std::uint32_t(stmt.size()));
            out += stmt;
        }
    }
    return out;
}

Result<Schema> decodeSchema(std::string_view data) {
    auto corrupt = [](const std::string& what) {
        return Status(ErrorCode::Corruption, "schema record: " + what);
    };
    ByteReader in(data);
    const std::uint8_t format = in.u8();
    if (!in.ok())
        return corrupt("empty");
    if (format != kFormatVersion)
        return corrupt("unknown format version " + std::to_string(format));
    const std::uint64_t revision = in.u64();
    const std::uint32_t typeCount = in.u32();
    Schema::Types types;
    for (std::uint32_t t = 0; t < typeCount && in.ok(); ++t) {
        auto type = std::make_shared<ActorType>();
        type->name = in.bytes(in.u32());
        const std::uint8_t flags = in.u8();
        const std::uint32_t count = in.u32();
        if (!in.ok())
            break;
        if (!isTypeName(type->name))
            return corrupt("invalid type name \"" + excerpt(type->name) + "\"");
        if (!types.empty() && types.rbegin()->first >= type->name)
            return corrupt("types out of order at \"" + type->name + "\"");
        if ((flags & ~kFlagKv) != 0)
            return corrupt("unknown flags of type " + type->name);
        if (count == 0)
            return corrupt("type " + type->name + " has no statements");
        type->kv = (flags & kFlagKv) != 0;
        for (std::uint32_t s = 0; s < count && in.ok(); ++s) {
            std::string_view stmt = in.bytes(in.u32());
            if (in.ok())
                type->statements.emplace_back(stmt);
        }
        types.emplace(type->name, std::move(type));
    }
    if (!in.ok())
        return corrupt("truncated");
    if (!in.atEnd())
        return corrupt("trailing bytes");
    return Schema(std::move(types), revision);
}

std::string scriptOf(const Schema& schema) {
    std::string out;
    for (const std::string& name : schema.typeNames()) {
        const ActorType& type = *schema.find(name);
        if (!out.empty())
            out += '\n';
        out += "ACTOR " + name + (type.kv ? " KV\n" : "\n");
        for (const std::string& stmt : type.statements)
            out += stmt + ";\n";
    }
    return out;
}

// ---- Introspection -------------------------------------------------------------------------

Result<std::vector<std::string>> tablesOf(const Schema& schema, std::string_view type) {
    ScratchDb db;
    TROUPE_RETURN_IF_ERROR(buildFresh(db, schema, type));
    auto rows = db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                         "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                         {});
    if (!rows)
        return rows.status();
    std::vector<std::string> tables;
    for (auto& row : *rows)
        tables.push_back(std::move(row.at(0)));
    return tables;
}

Result<std::vector<ColumnInfo>> columnsOf(const Schema& schema, std::string_view type,
                                          std::string_view table) {
    ScratchDb db;
    TROUPE_RETURN_IF_ERROR(buildFresh(db, schema, type));
    const std::string notFound =
        "no table \"" + std::string(table) + "\" in actor type " + std::string(type);
    if (table.empty())
        return Status(ErrorCode::NotFound, notFound);
    auto found = db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                          "name = ?1 COLLATE NOCASE AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                          table);
    if (!found)
        return found.status();
    if (found->empty())
        return Status(ErrorCode::NotFound, notFound);
    auto rows =
        db.query("SELECT name, type, pk, \"notnull\" FROM pragma_table_info(?1) ORDER BY cid",
                 found->front().at(0));
    if (!rows)
        return rows.status();
    std::vector<ColumnInfo> columns;
    for (const auto& row : *rows)
        columns.push_back(ColumnInfo{row.at(0), row.at(1), row.at(2) != "0", row.at(3) != "0"});
    return columns;
}

} // namespace troupe::sql
