#include "sql/access.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <set>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "core/bytes.h"

namespace troupe::sql {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kSha1Bytes = 20;
constexpr std::size_t kSha256Bytes = 32;
constexpr std::string_view kStar = "*";

// ---- digests --------------------------------------------------------------------------------

// Digest of the concatenated parts; empty if OpenSSL fails (every comparison then fails).
std::string digest(const EVP_MD* md, std::initializer_list<std::string_view> parts) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
        return {};
    for (std::string_view part : parts) {
        if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1)
            return {};
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(ctx.get(), out.data(), &size) != 1)
        return {};
    return std::string(reinterpret_cast<const char*>(out.data()), size);
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string xorBytes(std::string_view a, std::string_view b) {
    std::string out(a);
    for (std::size_t i = 0; i < out.size() && i < b.size(); ++i)
        out[i] = static_cast<char>(out[i] ^ b[i]);
    return out;
}

// ---- text -----------------------------------------------------------------------------------

bool isSpace(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// Bare words of config scripts: identifiers, and host names such as 127.0.0.1 or %.
bool isWordChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$' || c == '.' ||
           c == '-' || c == '%';
}

bool isQuote(char c) {
    return c == '\'' || c == '"' || c == '`';
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return upper(a) == upper(b);
}

std::string quoted(std::string_view text) {
    constexpr std::size_t kMax = 60;
    std::string out(1, '\'');
    out.append(text.substr(0, kMax));
    out.append(text.size() <= kMax ? "'" : "...'");
    return out;
}

// End of the quoted run opening at pos (doubled quote = escape), npos when unterminated.
std::size_t skipQuoted(std::string_view text, std::size_t pos) {
    for (std::size_t i = pos + 1; i < text.size(); ++i) {
        if (text[i] != text[pos])
            continue;
        if (i + 1 < text.size() && text[i + 1] == text[pos]) {
            ++i;
            continue;
        }
        return i + 1;
    }
    return std::string_view::npos;
}

// The upper-cased bare word at pos (after whitespace), and where it ends.
std::string wordAt(std::string_view text, std::size_t& pos) {
    while (pos < text.size() && isSpace(text[pos]))
        ++pos;
    std::size_t start = pos;
    while (pos < text.size() && isWordChar(text[pos]))
        ++pos;
    return upper(text.substr(start, pos - start));
}

// The first words of a statement, for messages that must not echo quoted text (passwords).
std::string leadingWords(std::string_view stmt, std::size_t n) {
    std::string out;
    std::size_t pos = 0;
    for (std::size_t i = 0; i < n; ++i) {
        std::string word = wordAt(stmt, pos);
        if (word.empty())
            break;
        out += (out.empty() ? "" : " ") + word;
    }
    return out.empty() ? std::string("statement") : out;
}

// Does the text after a newline start a new statement? (see access.h)
bool startsStatement(std::string_view text, std::size_t pos) {
    static const std::set<std::string> kLeading = {"INSERT", "DELETE", "UPDATE", "SELECT",
                                                   "CREATE", "DROP",   "GRANT",  "REVOKE",
                                                   "ALTER",  "COMMIT", "BEGIN",  "USE"};
    std::string first = wordAt(text, pos);
    return kLeading.count(first) != 0 || (first == "SET" && wordAt(text, pos) == "PASSWORD");
}

// Splits a script into statements without comments (rules in access.h).
Result<std::vector<std::string>> splitScript(std::string_view text) {
    std::vector<std::string> out;
    std::string current;
    int depth = 0;
    auto finish = [&] {
        std::size_t b = 0, e = current.size();
        while (b < e && isSpace(current[b]))
            ++b;
        while (e > b && isSpace(current[e - 1]))
            --e;
        if (e > b)
            out.push_back(current.substr(b, e - b));
        current.clear();
        depth = 0;
    };
    for (std::size_t pos = 0; pos < text.size();) {
        const char c = text[pos];
        if (isQuote(c)) {
            std::size_t end = skipQuoted(text, pos);
            if (end == std::string_view::npos)
                return Status(ErrorCode::SqlError,
                              "unterminated " + std::string(1, c) + " quote in the config script");
            current.append(text.substr(pos, end - pos));
            pos = end;
        } else if (text.substr(pos, 2) == "--") {
            std::size_t nl = text.find('\n', pos);
            pos = nl == std::string_view::npos ? text.size() : nl;
        } else if (text.substr(pos, 2) == "/*") {
            std::size_t end = text.find("*/", pos + 2);
            pos = end == std::string_view::npos ? text.size() : end + 2;
            current.push_back(' ');
        } else if (c == ';' || (c == '\n' && depth == 0 && startsStatement(text, pos + 1))) {
            finish();
            ++pos;
        } else {
            depth += c == '(' ? 1 : c == ')' && depth > 0 ? -1 : 0;
            current.push_back(c);
            ++pos;
        }
    }
    finish();
    return out;
}

// ---- user statements --------------------------------------------------------------------------

struct Token {
    enum class Kind { Word, String, Punct, End };
    Kind kind = Kind::End;
    std::string text; // unquoted for strings
};

std::vector<Token> tokenize(std::string_view stmt) {
    std::vector<Token> out;
    for (std::size_t pos = 0; pos < stmt.size();) {
        const char c = stmt[pos];
        if (isSpace(c)) {
            ++pos;
        } else if (isQuote(c)) {
            std::size_t end = skipQuoted(stmt, pos); // terminated: checked by splitScript
            std::string text;
            for (std::size_t i = pos + 1; i + 1 < end; ++i) {
                text.push_back(stmt[i]);
                if (stmt[i] == c)
                    ++i;
            }
            out.push_back({Token::Kind::String, std::move(text)});
            pos = end;
        } else if (isWordChar(c)) {
            std::size_t end = pos;
            while (end < stmt.size() && isWordChar(stmt[end]))
                ++end;
            out.push_back({Token::Kind::Word, std::string(stmt.substr(pos, end - pos))});
            pos = end;
        } else {
            out.push_back({Token::Kind::Punct, std::string(1, c)});
            ++pos;
        }
    }
    out.push_back({Token::Kind::End, {}});
    return out;
}

struct Rights {
    bool read = false;
    bool write = false;
};

// Recursive-descent reader over the tokens of one user statement. Messages name the statement
// (m_what) and the expected part, never the text of a quoted token.
class UserParser {
public:
    UserParser(std::string_view stmt, std::string what)
        : m_tokens(tokenize(stmt)), m_what(std::move(what)) {}

    bool keyword(std::string_view word) {
        if (peek().kind != Token::Kind::Word || !iequals(peek().text, word))
            return false;
        ++m_pos;
        return true;
    }
    bool punct(char c) {
        if (peek().kind != Token::Kind::Punct || peek().text[0] != c)
            return false;
        ++m_pos;
        return true;
    }
    Status expectKeywords(std::initializer_list<std::string_view> words) {
        for (std::string_view w : words) {
            if (!keyword(w))
                return error("expected " + std::string(w));
        }
        return Status::ok();
    }
    // 'u', "u", `u` or a bare word, optionally followed by @host (ignored).
    Result<std::string> userName() {
        const Token& t = peek();
        if ((t.kind != Token::Kind::Word && t.kind != Token::Kind::String) || t.text.empty())
            return error("expected a user name");
        std::string name = t.text;
        ++m_pos;
        if (punct('@')) {
            if (peek().kind != Token::Kind::Word && peek().kind != Token::Kind::String)
                return error("expected a host after @");
            ++m_pos;
        }
        return name;
    }
    Result<std::string> password() {
        if (peek().kind != Token::Kind::String)
            return error("expected a quoted password");
        if (peek().text.empty())
            return error("the password must not be empty");
        return m_tokens[m_pos++].text;
    }
    // read | write | all [privileges], comma-separated.
    Result<Rights> rights() {
        Rights r;
        do {
            if (keyword("read")) {
                r.read = true;
            } else if (keyword("write")) {
                r.write = true;
            } else if (keyword("all")) {
                keyword("privileges");
                r.read = r.write = true;
            } else {
                return error("expected read, write or all");
            }
        } while (punct(','));
        return r;
    }
    // An actor type or * (every type).
    Result<std::string> actorType() {
        if (punct('*'))
            return std::string(kStar);
        const Token& t = peek();
        if ((t.kind != Token::Kind::Word && t.kind != Token::Kind::String) || t.text.empty())
            return error("expected an actor type or *");
        return m_tokens[m_pos++].text;
    }
    Status end() {
        return peek().kind == Token::Kind::End ? Status::ok() : error("unexpected text at the end");
    }
    Status error(const std::string& message) const {
        return Status(ErrorCode::InvalidArgument, m_what + ": " + message);
    }

private:
    const Token& peek() const { return m_tokens[m_pos]; }

    std::vector<Token> m_tokens;
    std::size_t m_pos = 0;
    std::string m_what;
};

UserRecord* findIn(std::vector<UserRecord>& users, std::string_view name) {
    auto it = std::find_if(users.begin(), users.end(),
                           [&](const UserRecord& u) { return u.name == name; });
    return it == users.end() ? nullptr : &*it;
}

// Adds or removes rights on one type; true when something changed.
bool applyRights(UserRecord& user, const std::string& type, Rights rights, bool revoke) {
    auto it = std::find_if(user.grants.begin(), user.grants.end(),
                           [&](const Grant& g) { return g.actorType == type; });
    if (it == user.grants.end()) {
        if (revoke)
            return false;
        it = user.grants.insert(it, Grant{type, false, false});
    }
    const Grant before = *it;
    if (rights.read)
        it->read = !revoke;
    if (rights.write)
        it->write = !revoke;
    const bool changed = !(before == *it);
    if (!it->read && !it->write)
        user.grants.erase(it);
    return changed;
}

bool hasAdminGrant(const UserRecord& user) {
    return std::any_of(user.grants.begin(), user.grants.end(),
                       [](const Grant& g) { return g.actorType == kStar && g.read && g.write; });
}

// ---- validation -----------------------------------------------------------------------------

bool validNodeName(std::string_view name) {
    std::size_t at = name.find('@');
    if (at == 0 || at == std::string_view::npos || at + 1 == name.size() ||
        name.find('@', at + 1) != std::string_view::npos)
        return false;
    return std::none_of(name.begin(), name.end(), [](char c) {
        return isSpace(c) || std::iscntrl(static_cast<unsigned char>(c)) || isQuote(c);
    });
}

Status invalid(std::string message) {
    return Status(ErrorCode::InvalidArgument, std::move(message));
}

// Groups and nodes sorted by name.
Status validateGroupsAndNodes(const std::vector<GroupRecord>& groups,
                              const std::vector<NodeRecord>& nodes) {
    for (std::size_t i = 0; i < groups.size(); ++i) {
        if (groups[i].name.empty() || groups[i].type.empty())
            return invalid("a group needs a name and a type");
        if (i > 0 && groups[i].name == groups[i - 1].name)
            return invalid("group '" + groups[i].name + "' is listed twice");
    }
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const NodeRecord& n = nodes[i];
        if (!validNodeName(n.name))
            return invalid("node name '" + n.name + "' does not look like name@host");
        if (i > 0 && n.name == nodes[i - 1].name)
            return invalid("node '" + n.name + "' is listed twice");
        if (std::none_of(groups.begin(), groups.end(),
                         [&](const GroupRecord& g) { return g.name == n.group; }))
            return invalid("node '" + n.name + "' is in group '" + n.group +
                           "', which does not exist");
    }
    return Status::ok();
}

// Users sorted by name, grants by type.
Status validateUsers(const std::vector<UserRecord>& users) {
    for (std::size_t i = 0; i < users.size(); ++i) {
        const UserRecord& u = users[i];
        if (u.name.empty())
            return invalid("a user needs a name");
        if (i > 0 && u.name == users[i - 1].name)
            return invalid("user '" + u.name + "' is listed twice");
        if (u.nativeHash.size() != kSha1Bytes || u.salt.size() != kSaltBytes ||
            u.sha256Hash.size() != kSha256Bytes)
            return invalid("user '" + u.name + "' has malformed password hashes");
        for (std::size_t j = 0; j < u.grants.size(); ++j) {
            const Grant& g = u.grants[j];
            if (g.actorType.empty() || (!g.read && !g.write))
                return invalid("user '" + u.name + "' has an empty grant");
            if (j > 0 && g.actorType == u.grants[j - 1].actorType)
                return invalid("user '" + u.name + "' has two grants on '" + g.actorType + "'");
        }
    }
    return Status::ok();
}

template <typename T> void sortByName(std::vector<T>& items) {
    std::sort(items.begin(), items.end(), [](const T& a, const T& b) { return a.name < b.name; });
}

} // namespace

// ---- AccessConfig ---------------------------------------------------------------------------

Result<AccessConfig> AccessConfig::create(bool initialized, std::vector<GroupRecord> groups,
                                          std::vector<NodeRecord> nodes,
                                          std::vector<UserRecord> users) {
    sortByName(groups);
    sortByName(nodes);
    sortByName(users);
    for (UserRecord& u : users)
        std::sort(u.grants.begin(), u.grants.end(),
                  [](const Grant& a, const Grant& b) { return a.actorType < b.actorType; });
    TROUPE_RETURN_IF_ERROR(validateGroupsAndNodes(groups, nodes));
    TROUPE_RETURN_IF_ERROR(validateUsers(users));
    AccessConfig config;
    config.m_initialized = initialized;
    config.m_groups = std::move(groups);
    config.m_nodes = std::move(nodes);
    config.m_users = std::move(users);
    return config;
}

const UserRecord* AccessConfig::findUser(std::string_view name) const {
    auto it = std::find_if(m_users.begin(), m_users.end(),
                           [&](const UserRecord& u) { return u.name == name; });
    return it == m_users.end() ? nullptr : &*it;
}

const NodeRecord* AccessConfig::findNode(std::string_view name) const {
    auto it = std::find_if(m_nodes.begin(), m_nodes.end(),
                           [&](const NodeRecord& n) { return n.name == name; });
    return it == m_nodes.end() ? nullptr : &*it;
}

bool AccessConfig::isAdmin(std::string_view user) const {
    const UserRecord* u = findUser(user);
    return u && hasAdminGrant(*u);
}

Status AccessConfig::checkActorAccess(std::string_view user, std::string_view type,
                                      bool write) const {
    if (!m_initialized)
        return Status(ErrorCode::NotInitialized, "the node has no config yet");
    const std::string denied = "user '" + std::string(user) + "' may not " +
                               (write ? "write" : "read") + " actors of type '" +
                               std::string(type) + "'";
    const UserRecord* u = findUser(user);
    if (!u)
        return Status(ErrorCode::NotPermitted, denied + " (no such user)");
    for (const Grant& g : u->grants) {
        if ((g.actorType == kStar || g.actorType == type) && (write ? g.write : g.read))
            return Status::ok();
    }
    return Status(ErrorCode::NotPermitted, denied);
}

Status AccessConfig::checkAdmin(std::string_view user) const {
    if (!m_initialized)
        return Status(ErrorCode::NotInitialized, "the node has no config yet");
    if (isAdmin(user))
        return Status::ok();
    return Status(ErrorCode::NotPermitted, "user '" + std::string(user) +
                                               "' is not an administrator (needs read,write on *)");
}

// ---- passwords ------------------------------------------------------------------------------

std::string sha1(std::string_view data) {
    return digest(EVP_sha1(), {data});
}

std::string sha256(std::string_view data) {
    return digest(EVP_sha256(), {data});
}

Result<UserRecord> makeUser(std::string_view name, std::string_view password) {
    if (name.empty())
        return Status(ErrorCode::InvalidArgument, "a user needs a name");
    if (password.empty())
        return Status(ErrorCode::InvalidArgument, "the password must not be empty");
    UserRecord user;
    user.name = std::string(name);
    user.salt.resize(kSaltBytes);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(user.salt.data()), int(kSaltBytes)) != 1)
        return Status(ErrorCode::Internal, "no random bytes for a password salt");
    user.nativeHash = sha1(sha1(password));
    user.sha256Hash = digest(EVP_sha256(), {user.salt, password});
    if (user.nativeHash.size() != kSha1Bytes || user.sha256Hash.size() != kSha256Bytes)
        return Status(ErrorCode::Internal, "password hashing failed");
    return user;
}

bool verifyPassword(const UserRecord& user, std::string_view password) {
    return constantTimeEquals(digest(EVP_sha256(), {user.salt, password}), user.sha256Hash);
}

bool verifyNativeScramble(const UserRecord& user, std::string_view salt20,
                          std::string_view scramble20) {
    if (salt20.size() != kSha1Bytes || scramble20.size() != kSha1Bytes ||
        user.nativeHash.size() != kSha1Bytes)
        return false;
    // scramble XOR SHA1(salt + SHA1(SHA1(pw))) = SHA1(pw), whose SHA1 must be the stored hash.
    std::string stage1 = xorBytes(scramble20, digest(EVP_sha1(), {salt20, user.nativeHash}));
    return constantTimeEquals(sha1(stage1), user.nativeHash);
}

std::string nativeScramble(std::string_view password, std::string_view salt20) {
    std::string stage1 = sha1(password);
    return xorBytes(stage1, digest(EVP_sha1(), {salt20, sha1(stage1)}));
}

// ---- scripts --------------------------------------------------------------------------------

namespace {

struct DbCloser {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

constexpr const char* kScratchSchema =
    "CREATE TABLE groups(name TEXT PRIMARY KEY NOT NULL, type TEXT NOT NULL DEFAULT 'cluster');"
    "CREATE TABLE nodes(name TEXT PRIMARY KEY NOT NULL,"
    "  group_name TEXT NOT NULL REFERENCES groups(name));"
    "CREATE TABLE users(name TEXT PRIMARY KEY NOT NULL);"
    "CREATE TABLE grants(user TEXT NOT NULL, actor_type TEXT NOT NULL, rights TEXT NOT NULL,"
    "  PRIMARY KEY(user, actor_type));";

Value columnValue(sqlite3_stmt* stmt, int column) {
    switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_INTEGER:
        return std::int64_t(sqlite3_column_int64(stmt, column));
    case SQLITE_FLOAT:
        return sqlite3_column_double(stmt, column);
    case SQLITE_TEXT:
        return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, column)),
                           std::size_t(sqlite3_column_bytes(stmt, column)));
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

// The scratch database in which a script's SQL statements run. While m_enforce is set, the
// authorizer lets statements read the four config tables and write groups and nodes, nothing
// else. Owned by one ScriptRunner, on its thread.
class Scratch {
public:
    Status open(const std::vector<GroupRecord>& groups, const std::vector<NodeRecord>& nodes) {
        sqlite3* db = nullptr;
        int rc =
            sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
        m_db.reset(db);
        if (rc != SQLITE_OK)
            return Status(ErrorCode::Internal, "opening the config scratch database failed");
        sqlite3_set_authorizer(m_db.get(), &Scratch::authorize, this);
        TROUPE_RETURN_IF_ERROR(exec(kScratchSchema));
        for (const GroupRecord& g : groups)
            TROUPE_RETURN_IF_ERROR(insert("INSERT INTO groups VALUES (?,?)", g.name, g.type));
        for (const NodeRecord& n : nodes)
            TROUPE_RETURN_IF_ERROR(insert("INSERT INTO nodes VALUES (?,?)", n.name, n.group));
        return Status::ok();
    }

    bool isOpen() const { return m_db != nullptr; }

    Status loadUsers(const std::vector<UserRecord>& users) {
        TROUPE_RETURN_IF_ERROR(exec("DELETE FROM users; DELETE FROM grants;"));
        for (const UserRecord& u : users) {
            TROUPE_RETURN_IF_ERROR(insert("INSERT INTO users VALUES (?)", u.name));
            for (const Grant& g : u.grants) {
                const char* rights = g.read && g.write ? "read,write" : g.read ? "read" : "write";
                TROUPE_RETURN_IF_ERROR(
                    insert("INSERT INTO grants VALUES (?,?,?)", u.name, g.actorType, rights));
            }
        }
        return Status::ok();
    }

    // Runs one client statement. Sets `wrote` when it is not read-only.
    Status run(const std::string& stmt, ExecResult& result, bool& wrote) {
        sqlite3_stmt* raw = nullptr;
        const char* tail = nullptr;
        // Enforced until the statement is done: SQLite may prepare inner statements while
        // stepping (pragma table-valued functions).
        m_enforce = true;
        m_denied = false;
        int rc = sqlite3_prepare_v2(m_db.get(), stmt.c_str(), int(stmt.size()), &raw, &tail);
        StmtPtr prepared(raw);
        const int columns = prepared ? sqlite3_column_count(prepared.get()) : 0;
        std::vector<std::vector<Value>> rows;
        while (rc == SQLITE_OK && prepared) {
            if ((rc = sqlite3_step(prepared.get())) != SQLITE_ROW)
                break;
            rc = SQLITE_OK;
            std::vector<Value>& row = rows.emplace_back();
            for (int i = 0; i < columns; ++i)
                row.push_back(columnValue(prepared.get(), i));
        }
        m_enforce = false;
        if (m_denied || rc == SQLITE_AUTH)
            return Status(ErrorCode::NotPermitted,
                          quoted(stmt) + " is not permitted in config: only INSERT, UPDATE and "
                                         "DELETE on groups and nodes and SELECT on groups, nodes, "
                                         "users and grants");
        if (rc != SQLITE_OK && rc != SQLITE_DONE)
            return sqlError(stmt);
        if (!prepared)
            return Status::ok();
        wrote = sqlite3_stmt_readonly(prepared.get()) == 0;
        if (columns > 0) {
            result.columns.clear();
            for (int i = 0; i < columns; ++i)
                result.columns.emplace_back(sqlite3_column_name(prepared.get(), i));
            result.rows = std::move(rows);
        }
        if (wrote)
            result.rowsChanged += sqlite3_changes(m_db.get());
        return Status::ok();
    }

    Status readBack(std::vector<GroupRecord>& groups, std::vector<NodeRecord>& nodes) {
        groups.clear();
        nodes.clear();
        TROUPE_RETURN_IF_ERROR(
            select("SELECT name, type FROM groups ORDER BY name", [&](sqlite3_stmt* s) {
                groups.push_back({columnText(s, 0), columnText(s, 1)});
            }));
        return select("SELECT name, group_name FROM nodes ORDER BY name", [&](sqlite3_stmt* s) {
            nodes.push_back({columnText(s, 0), columnText(s, 1)});
        });
    }

private:
    static int authorize(void* self, int action, const char* arg1, const char*, const char*,
                         const char*) {
        auto* scratch = static_cast<Scratch*>(self);
        if (!scratch->m_enforce)
            return SQLITE_OK;
        const int verdict = decide(action, arg1);
        scratch->m_denied = scratch->m_denied || verdict != SQLITE_OK;
        return verdict;
    }

    static int decide(int action, const char* arg1) {
        auto table = [&](std::initializer_list<std::string_view> names) {
            return arg1 && std::any_of(names.begin(), names.end(),
                                       [&](std::string_view n) { return iequals(n, arg1); });
        };
        switch (action) {
        case SQLITE_SELECT:
        case SQLITE_FUNCTION:
        case SQLITE_RECURSIVE:
            return SQLITE_OK;
        case SQLITE_READ:
            return table({"groups", "nodes", "users", "grants"}) ? SQLITE_OK : SQLITE_DENY;
        case SQLITE_INSERT:
        case SQLITE_UPDATE:
        case SQLITE_DELETE:
            return table({"groups", "nodes"}) ? SQLITE_OK : SQLITE_DENY;
        default:
            return SQLITE_DENY;
        }
    }

    Status sqlError(const std::string& stmt) const {
        return Status(ErrorCode::SqlError,
                      std::string(sqlite3_errmsg(m_db.get())) + " in " + quoted(stmt));
    }

    Status exec(const char* sql) {
        if (sqlite3_exec(m_db.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK)
            return Status(ErrorCode::Internal,
                          std::string("config scratch database: ") + sqlite3_errmsg(m_db.get()));
        return Status::ok();
    }

    template <typename... Args> Status insert(const char* sql, const Args&... args) {
        sqlite3_stmt* raw = nullptr;
        sqlite3_prepare_v2(m_db.get(), sql, -1, &raw, nullptr);
        StmtPtr stmt(raw);
        int index = 0;
        auto bind = [&](std::string_view v) {
            sqlite3_bind_text64(stmt.get(), ++index, v.data(), v.size(), SQLITE_TRANSIENT,
                                SQLITE_UTF8);
        };
        if (stmt)
            (bind(args), ...);
        if (!stmt || sqlite3_step(stmt.get()) != SQLITE_DONE)
            return Status(ErrorCode::Internal,
                          std::string("config scratch database: ") + sqlite3_errmsg(m_db.get()));
        return Status::ok();
    }

    template <typename F> Status select(const char* sql, F onRow) {
        sqlite3_stmt* raw = nullptr;
        sqlite3_prepare_v2(m_db.get(), sql, -1, &raw, nullptr);
        StmtPtr stmt(raw);
        int rc = SQLITE_ERROR;
        while (stmt && (rc = sqlite3_step(stmt.get())) == SQLITE_ROW)
            onRow(stmt.get());
        if (rc != SQLITE_DONE)
            return Status(ErrorCode::Internal,
                          std::string("config scratch database: ") + sqlite3_errmsg(m_db.get()));
        return Status::ok();
    }

    std::unique_ptr<sqlite3, DbCloser> m_db;
    bool m_enforce = false; // checking a client statement
    bool m_denied = false;  // the authorizer refused something in it
};

// Runs one script against a copy of the current config. One use, one thread.
class ScriptRunner {
public:
    ScriptRunner(const AccessConfig& current, std::string_view localNode)
        : m_current(current), m_localNode(localNode), m_init(!current.initialized()),
          m_groups(current.groups()), m_nodes(current.nodes()), m_users(current.users()) {}

    Result<ConfigOutcome> run(std::string_view script) {
        Result<std::vector<std::string>> statements = splitScript(script);
        if (!statements)
            return statements.status();
        for (const std::string& stmt : *statements)
            TROUPE_RETURN_IF_ERROR(runStatement(stmt));
        TROUPE_RETURN_IF_ERROR(finish());
        Result<AccessConfig> config =
            AccessConfig::create(true, std::move(m_groups), std::move(m_nodes), std::move(m_users));
        if (!config)
            return config.status();
        ConfigOutcome outcome{std::move(*config), std::move(m_result), false};
        outcome.changed = !(outcome.config == m_current);
        outcome.result.wrote = outcome.changed;
        return outcome;
    }

private:
    Status runStatement(const std::string& stmt) {
        std::size_t pos = 0;
        const std::string first = wordAt(stmt, pos);
        const std::string second = wordAt(stmt, pos);
        if (first == "COMMIT" || first == "BEGIN" || (first == "USE" && second == "CONFIG"))
            return Status::ok();
        if (first == "INSERT" || first == "UPDATE" || first == "DELETE" || first == "SELECT")
            return runSql(stmt);
        if (first == "CREATE" && second == "USER")
            return createUser(stmt);
        if (first == "DROP" && second == "USER")
            return dropUsers(stmt);
        if ((first == "SET" && second == "PASSWORD") || (first == "ALTER" && second == "USER"))
            return setPassword(stmt, first == "SET");
        if (first == "GRANT" || first == "REVOKE")
            return changeRights(stmt, first == "REVOKE");
        return Status(ErrorCode::NotPermitted,
                      leadingWords(stmt, 2) + " is not permitted in config");
    }

    Status runSql(const std::string& stmt) {
        if (!m_scratch.isOpen())
            TROUPE_RETURN_IF_ERROR(m_scratch.open(m_groups, m_nodes));
        if (m_usersDirty)
            TROUPE_RETURN_IF_ERROR(m_scratch.loadUsers(m_users));
        m_usersDirty = false;
        bool wrote = false;
        TROUPE_RETURN_IF_ERROR(m_scratch.run(stmt, m_result, wrote));
        if (!wrote)
            return Status::ok();
        TROUPE_RETURN_IF_ERROR(m_scratch.readBack(m_groups, m_nodes));
        return validateGroupsAndNodes(m_groups, m_nodes).withContext(quoted(stmt));
    }

    Status createUser(const std::string& stmt) {
        UserParser p(stmt, "CREATE USER");
        TROUPE_RETURN_IF_ERROR(p.expectKeywords({"CREATE", "USER"}));
        Result<std::string> name = p.userName();
        if (!name)
            return name.status();
        TROUPE_RETURN_IF_ERROR(p.expectKeywords({"IDENTIFIED", "BY"}));
        Result<std::string> password = p.password();
        if (!password)
            return password.status();
        TROUPE_RETURN_IF_ERROR(p.end());
        if (findIn(m_users, *name))
            return Status(ErrorCode::Exists, "CREATE USER: user '" + *name + "' already exists");
        Result<UserRecord> user = makeUser(*name, *password);
        if (!user)
            return user.status();
        m_users.push_back(std::move(*user));
        m_createdHere.insert(*name);
        return changedUsers(1);
    }

    Status dropUsers(const std::string& stmt) {
        UserParser p(stmt, "DROP USER");
        TROUPE_RETURN_IF_ERROR(p.expectKeywords({"DROP", "USER"}));
        std::int64_t dropped = 0;
        do {
            Result<std::string> name = p.userName();
            if (!name)
                return name.status();
            UserRecord* user = findIn(m_users, *name);
            if (!user)
                return notFound("DROP USER", *name);
            m_users.erase(m_users.begin() + (user - m_users.data()));
            ++dropped;
        } while (p.punct(','));
        TROUPE_RETURN_IF_ERROR(p.end());
        return changedUsers(dropped);
    }

    // SET PASSWORD FOR 'u' = 'pw' | = PASSWORD('pw'), ALTER USER 'u' IDENTIFIED BY 'pw'.
    Status setPassword(const std::string& stmt, bool setForm) {
        UserParser p(stmt, setForm ? "SET PASSWORD" : "ALTER USER");
        TROUPE_RETURN_IF_ERROR(setForm ? p.expectKeywords({"SET", "PASSWORD", "FOR"})
                                       : p.expectKeywords({"ALTER", "USER"}));
        Result<std::string> name = p.userName();
        if (!name)
            return name.status();
        bool call = false;
        if (setForm) {
            if (!p.punct('='))
                return p.error("expected =");
            call = p.keyword("PASSWORD");
            if (call && !p.punct('('))
                return p.error("expected ( after PASSWORD");
        } else {
            TROUPE_RETURN_IF_ERROR(p.expectKeywords({"IDENTIFIED", "BY"}));
        }
        Result<std::string> password = p.password();
        if (!password)
            return password.status();
        if (call && !p.punct(')'))
            return p.error("expected ) after the password");
        TROUPE_RETURN_IF_ERROR(p.end());
        UserRecord* user = findIn(m_users, *name);
        if (!user)
            return notFound(setForm ? "SET PASSWORD" : "ALTER USER", *name);
        Result<UserRecord> fresh = makeUser(*name, *password);
        if (!fresh)
            return fresh.status();
        fresh->grants = std::move(user->grants);
        *user = std::move(*fresh);
        return changedUsers(1);
    }

    // GRANT rights ON type TO 'u', REVOKE rights ON type FROM 'u'.
    Status changeRights(const std::string& stmt, bool revoke) {
        const char* what = revoke ? "REVOKE" : "GRANT";
        UserParser p(stmt, what);
        TROUPE_RETURN_IF_ERROR(p.expectKeywords({what}));
        Result<Rights> rights = p.rights();
        if (!rights)
            return rights.status();
        TROUPE_RETURN_IF_ERROR(p.expectKeywords({"ON"}));
        Result<std::string> type = p.actorType();
        if (!type)
            return type.status();
        TROUPE_RETURN_IF_ERROR(p.expectKeywords({revoke ? "FROM" : "TO"}));
        Result<std::string> name = p.userName();
        if (!name)
            return name.status();
        TROUPE_RETURN_IF_ERROR(p.end());
        UserRecord* user = findIn(m_users, *name);
        if (!user)
            return notFound(what, *name);
        m_explicitRights.insert(*name);
        return changedUsers(applyRights(*user, *type, *rights, revoke) ? 1 : 0);
    }

    Status changedUsers(std::int64_t count) {
        m_result.rowsChanged += count;
        m_usersDirty = true;
        return Status::ok();
    }

    static Status notFound(const char* what, const std::string& name) {
        return Status(ErrorCode::NotFound,
                      std::string(what) + ": user '" + name + "' does not exist");
    }

    // Init defaults and the checks every config must pass (see access.h).
    Status finish() {
        if (m_init) {
            for (UserRecord& u : m_users) {
                if (m_createdHere.count(u.name) && !m_explicitRights.count(u.name))
                    u.grants = {Grant{std::string(kStar), true, true}};
            }
        }
        const std::string subject =
            m_init ? "the init script inserts no " : "the script would leave no ";
        if (m_groups.empty())
            return invalid("MissingGroupInsert: " + subject +
                           "group (INSERT INTO groups VALUES ('grp1','cluster'))");
        if (m_nodes.empty())
            return invalid("MissingNodesInsert: " + subject +
                           "node (INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1'))");
        if (std::none_of(m_users.begin(), m_users.end(), hasAdminGrant))
            return invalid("MissingRootUser: " + subject +
                           "user with read,write on * (CREATE USER 'root' IDENTIFIED BY '...')");
        if (m_init && std::none_of(m_nodes.begin(), m_nodes.end(),
                                   [&](const NodeRecord& n) { return n.name == m_localNode; })) {
            std::string names;
            for (const NodeRecord& n : m_nodes)
                names += (names.empty() ? "" : ", ") + n.name;
            return invalid("LocalNodeMissing: this node is " + m_localNode +
                           " but the script inserts only " + names);
        }
        return Status::ok();
    }

    const AccessConfig& m_current;
    const std::string m_localNode;
    const bool m_init;
    std::vector<GroupRecord> m_groups; // sorted by name (read back from the scratch database)
    std::vector<NodeRecord> m_nodes;
    std::vector<UserRecord> m_users;
    std::set<std::string> m_createdHere;    // users this script created
    std::set<std::string> m_explicitRights; // users this script granted or revoked rights
    Scratch m_scratch;                      // opened by the first SQL statement
    bool m_usersDirty = true;               // the scratch users/grants tables are stale
    ExecResult m_result;
};

} // namespace

Result<ConfigOutcome> applyConfigScript(const AccessConfig& current, std::string_view script,
                                        std::string_view localNode) {
    return ScriptRunner(current, localNode).run(script);
}

// ---- binary format (documented in access.h) --------------------------------------------------

namespace {

constexpr std::string_view kMagic = "TCFG";
constexpr std::uint8_t kVersion = 1;

void putString(std::string& out, std::string_view s) {
    putBigEndian32(out, std::uint32_t(s.size()));
    out.append(s);
}

std::string getString(ByteReader& r) {
    std::uint32_t size = r.u32();
    return std::string(r.bytes(size));
}

Status corrupt(const std::string& what) {
    return Status(ErrorCode::Corruption, "access config: " + what);
}

} // namespace

std::string encodeAccessConfig(const AccessConfig& config) {
    std::string out(kMagic);
    out.push_back(char(kVersion));
    out.push_back(char(config.initialized() ? 1 : 0));
    putBigEndian32(out, std::uint32_t(config.groups().size()));
    for (const GroupRecord& g : config.groups()) {
        putString(out, g.name);
        putString(out, g.type);
    }
    putBigEndian32(out, std::uint32_t(config.nodes().size()));
    for (const NodeRecord& n : config.nodes()) {
        putString(out, n.name);
        putString(out, n.group);
    }
    putBigEndian32(out, std::uint32_t(config.users().size()));
    for (const UserRecord& u : config.users()) {
        putString(out, u.name);
        putString(out, u.nativeHash);
        putString(out, u.salt);
        putString(out, u.sha256Hash);
        putBigEndian32(out, std::uint32_t(u.grants.size()));
        for (const Grant& g : u.grants) {
            putString(out, g.actorType);
            out.push_back(char((g.read ? 1 : 0) | (g.write ? 2 : 0)));
        }
    }
    return out;
}

Result<AccessConfig> decodeAccessConfig(std::string_view bytes) {
    ByteReader r(bytes);
    if (r.bytes(kMagic.size()) != kMagic)
        return corrupt("bad magic");
    if (std::uint8_t version = r.u8(); version != kVersion)
        return corrupt("unknown version " + std::to_string(version));
    const std::uint8_t flags = r.u8();
    if (flags > 1)
        return corrupt("unknown flags");
    std::vector<GroupRecord> groups;
    for (std::uint32_t n = r.u32(); r.ok() && n > 0; --n) {
        GroupRecord& g = groups.emplace_back();
        g.name = getString(r);
        g.type = getString(r);
    }
    std::vector<NodeRecord> nodes;
    for (std::uint32_t n = r.u32(); r.ok() && n > 0; --n) {
        NodeRecord& node = nodes.emplace_back();
        node.name = getString(r);
        node.group = getString(r);
    }
    std::vector<UserRecord> users;
    for (std::uint32_t n = r.u32(); r.ok() && n > 0; --n) {
        UserRecord& u = users.emplace_back();
        u.name = getString(r);
        u.nativeHash = getString(r);
        u.salt = getString(r);
        u.sha256Hash = getString(r);
        for (std::uint32_t k = r.u32(); r.ok() && k > 0; --k) {
            Grant& g = u.grants.emplace_back();
            g.actorType = getString(r);
            const std::uint8_t rights = r.u8();
            if (rights == 0 || rights > 3)
                return corrupt("bad rights in a grant of user '" + u.name + "'");
            g.read = (rights & 1) != 0;
            g.write = (rights & 2) != 0;
        }
    }
    if (!r.ok())
        return corrupt("truncated");
    if (!r.atEnd())
        return corrupt("trailing bytes");
    Result<AccessConfig> config =
        AccessConfig::create(flags == 1, std::move(groups), std::move(nodes), std::move(users));
    if (!config)
        return corrupt(config.status().message());
    return config;
}

} // namespace troupe::sql
