// Config scripts (`USE config`, rules in access.h): splitting a script into statements, parsing
// the user statements and running the script against a copy of the config. SQL on groups and
// nodes runs in the scratch database of access_scratch.cpp.

#include <algorithm>
#include <optional>
#include <set>

#include "sql/access_internal.h"
#include "sql/sql_text.h"

namespace troupe::sql {
namespace access_detail {
namespace {

// ---- text -----------------------------------------------------------------------------------

// Bare words of config scripts: identifiers, and also host names such as 127.0.0.1 or %, which
// is why `.`, `-` and `%` count here and not in SQL identifiers (isWordChar).
bool isWordOrHostChar(char c) {
    return isWordChar(c) || c == '.' || c == '-' || c == '%';
}

// The upper-cased bare word at pos (after whitespace), and where it ends.
std::string wordAt(std::string_view text, std::size_t& pos) {
    while (pos < text.size() && isSpace(text[pos]))
        ++pos;
    std::size_t start = pos;
    while (pos < text.size() && isWordOrHostChar(text[pos]))
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
        if (const std::string_view stmt = trim(current); !stmt.empty())
            out.emplace_back(stmt);
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
        } else if (const std::size_t end = skipComment(text, pos, LineCommentEnd::AtNewline);
                   end != pos) {
            // A block comment separates what is around it; a line comment's newline stays.
            if (text[pos] == '/')
                current.push_back(' ');
            pos = end;
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
            out.push_back({Token::Kind::String, unquote(stmt.substr(pos, end - pos))});
            pos = end;
        } else if (isWordOrHostChar(c)) {
            std::size_t end = pos;
            while (end < stmt.size() && isWordOrHostChar(stmt[end]))
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
    // IDENTIFIED [WITH plugin] BY: the kind the plugin names, or nullopt without WITH.
    Result<std::optional<PasswordKind>> identified() {
        TROUPE_RETURN_IF_ERROR(expectKeywords({"IDENTIFIED"}));
        std::optional<PasswordKind> kind;
        if (keyword("WITH")) {
            const Token& t = peek();
            const bool named = t.kind == Token::Kind::Word || t.kind == Token::Kind::String;
            if (named && iequals(t.text, pluginName(PasswordKind::Native)))
                kind = PasswordKind::Native;
            else if (named && iequals(t.text, pluginName(PasswordKind::CachingSha2)))
                kind = PasswordKind::CachingSha2;
            else
                return error("expected mysql_native_password or caching_sha2_password after WITH");
            ++m_pos;
        }
        TROUPE_RETURN_IF_ERROR(expectKeywords({"BY"}));
        return kind;
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
        return validateGroupsAndNodes(m_groups, m_nodes).withContext(quotedExcerpt(stmt));
    }

    Status createUser(const std::string& stmt) {
        UserParser p(stmt, "CREATE USER");
        TROUPE_RETURN_IF_ERROR(p.expectKeywords({"CREATE", "USER"}));
        Result<std::string> name = p.userName();
        if (!name)
            return name.status();
        Result<std::optional<PasswordKind>> kind = p.identified();
        if (!kind)
            return kind.status();
        Result<std::string> password = p.password();
        if (!password)
            return password.status();
        TROUPE_RETURN_IF_ERROR(p.end());
        if (findIn(m_users, *name))
            return Status(ErrorCode::Exists, "CREATE USER: user '" + *name + "' already exists");
        Result<UserRecord> user = makeUser(*name, *password, kind->value_or(PasswordKind::Native));
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

    // SET PASSWORD FOR 'u' = 'pw' | = PASSWORD('pw'), ALTER USER 'u' IDENTIFIED [WITH plugin]
    // BY 'pw'. Without a plugin the user keeps its kind of password.
    Status setPassword(const std::string& stmt, bool setForm) {
        UserParser p(stmt, setForm ? "SET PASSWORD" : "ALTER USER");
        TROUPE_RETURN_IF_ERROR(setForm ? p.expectKeywords({"SET", "PASSWORD", "FOR"})
                                       : p.expectKeywords({"ALTER", "USER"}));
        Result<std::string> name = p.userName();
        if (!name)
            return name.status();
        bool call = false;
        std::optional<PasswordKind> kind;
        if (setForm) {
            if (!p.punct('='))
                return p.error("expected =");
            call = p.keyword("PASSWORD");
            if (call && !p.punct('('))
                return p.error("expected ( after PASSWORD");
        } else {
            Result<std::optional<PasswordKind>> named = p.identified();
            if (!named)
                return named.status();
            kind = *named;
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
        Result<UserRecord> fresh = makeUser(*name, *password, kind.value_or(user->kind));
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

// One statement with its password literals replaced (redactPasswords in access.h): any literal
// after BY, and in a SET statement any after = or (. Deliberately broad: a misspelt statement
// is redacted too.
std::string redactStatement(const std::string& stmt) {
    std::size_t pos = 0;
    const bool setStatement = wordAt(stmt, pos) == "SET";
    std::string out;
    std::string previous; // the last word or punctuation, upper-cased
    for (pos = 0; pos < stmt.size();) {
        const char c = stmt[pos];
        if (isQuote(c)) {
            const std::size_t end = skipQuoted(stmt, pos); // terminated: checked by splitScript
            const bool secret =
                previous == "BY" || (setStatement && (previous == "=" || previous == "("));
            if (secret)
                out += "'***'";
            else
                out.append(stmt, pos, end - pos);
            previous.assign(1, '\'');
            pos = end;
        } else if (isWordOrHostChar(c)) {
            std::size_t end = pos;
            previous = wordAt(stmt, end);
            out.append(stmt, pos, end - pos);
            pos = end;
        } else {
            if (!isSpace(c))
                previous = std::string(1, c);
            out.push_back(c);
            ++pos;
        }
    }
    return out;
}

} // namespace
} // namespace access_detail

std::string redactPasswords(std::string_view script) {
    Result<std::vector<std::string>> statements = access_detail::splitScript(script);
    if (!statements)
        return "<unparsable script, " + std::to_string(script.size()) + " bytes>";
    std::string out;
    for (const std::string& stmt : *statements) {
        if (!out.empty())
            out += "; ";
        out += access_detail::redactStatement(stmt);
    }
    return out;
}

Result<ConfigOutcome> applyConfigScript(const AccessConfig& current, std::string_view script,
                                        std::string_view localNode) {
    return access_detail::ScriptRunner(current, localNode).run(script);
}

} // namespace troupe::sql
