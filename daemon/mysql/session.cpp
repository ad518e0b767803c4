#include "mysql/session.h"

#include <algorithm>
#include <cctype>

#include "sql/access.h"
#include "sql/audit.h"
#include "sql/login_guard.h"
#include "sql/request_parts.h"
#include "sql/schema.h"
#include "sql/segmenter.h"
#include "sql/statements.h"

namespace troupe::mysql {

namespace {

std::string lowerCopy(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.front())) || s.front() == ';'))
        s.remove_prefix(1);
    while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';'))
        s.remove_suffix(1);
    return s;
}

bool startsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// A probe's column alias: a bare word or one quoted with ` ' or ", without its quotes; empty if
// it is anything else.
std::string_view unquoteAlias(std::string_view alias) {
    if (alias.size() >= 2 &&
        (alias.front() == '`' || alias.front() == '\'' || alias.front() == '"')) {
        const char quote = alias.front();
        std::string_view inner = alias.substr(1, alias.size() - 2);
        if (alias.back() != quote || inner.find(quote) != std::string_view::npos)
            return {};
        return inner;
    }
    for (char c : alias)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '$')
            return {};
    return alias;
}

sql::ExecResult table(std::vector<std::string> columns) {
    sql::ExecResult r;
    r.columns = std::move(columns);
    return r;
}

// The quoted or bare argument of LIKE in "show variables like 'x%'".
std::string likeArgument(std::string_view lower) {
    const std::size_t like = lower.find(" like ");
    if (like == std::string_view::npos)
        return "%";
    std::string_view arg = trim(lower.substr(like + 6));
    if (arg.size() >= 2 && (arg.front() == '\'' || arg.front() == '"') && arg.back() == arg.front())
        arg = arg.substr(1, arg.size() - 2);
    return std::string(arg);
}

} // namespace

Response Response::ok(std::int64_t affected, std::int64_t lastInsertId) {
    Response r;
    r.kind = Kind::Ok;
    r.result.rowsChanged = affected;
    r.result.lastInsertRowid = lastInsertId;
    return r;
}

Response Response::rows(sql::ExecResult result) {
    Response r;
    r.kind = Kind::Rows;
    r.result = std::move(result);
    return r;
}

Response Response::failure(const Status& status) {
    return failure(mysqlErrorFor(status), status.message());
}

Response Response::failure(MysqlError error, std::string message) {
    Response r;
    r.kind = Kind::Error;
    r.error = error;
    r.message = std::move(message);
    return r;
}

Session::Session(sql::Database& db, std::string user, std::string serverVersion,
                 std::size_t spillAbove, std::string peer, sql::ProcessList::Registration* process)
    : m_db(db), m_serverVersion(std::move(serverVersion)), m_process(process) {
    m_sql.user = std::move(user);
    m_sql.peer = std::move(peer);
    m_sql.spillAbove = spillAbove;
}

void Session::reset() {
    m_prepared.clear();
    m_database.clear();
    m_type.clear();
    m_actor.clear();
    m_create = false;
}

Response Session::selectDatabase(std::string_view name) {
    name = trim(name);
    if (name.size() >= 2 && name.front() == '`' && name.back() == '`')
        name = name.substr(1, name.size() - 2);
    if (name.empty()) {
        reset();
        showDatabase();
        return Response::ok();
    }
    const std::size_t dot = name.find('.');
    const std::string type(name.substr(0, dot));
    // A type the user may not use is refused whether it exists or not (as MySQL's 1044 for a
    // database without privileges): its existence does not leak (resources/docs/security.md).
    if (!mayUse(type))
        return Response::failure({1044, "42000"}, "Access denied for user '" + m_sql.user +
                                                      "' to database '" + std::string(name) + "'");
    std::vector<std::string> types = m_db.actorTypes();
    std::erase_if(types, [&](const std::string& t) { return !mayUse(t); });
    if (std::find(types.begin(), types.end(), type) == types.end())
        return Response::failure(
            mysqlErrorFor(ErrorCode::InvalidType),
            "Unknown database '" + std::string(name) + "': no actor type '" + type +
                "'; use type.actor, e.g. " +
                (types.empty() ? std::string("user.alice") : types.front() + ".alice"));
    std::string actor =
        dot == std::string_view::npos ? std::string() : std::string(name.substr(dot + 1));
    if (dot != std::string_view::npos && actor.empty())
        return Response::failure(mysqlErrorFor(ErrorCode::EmptyActorName),
                                 "database '" + std::string(name) + "' names no actor");
    if (Status bad = sql::checkActorName(actor); !actor.empty() && !bad.isOk())
        return Response::failure(mysqlErrorFor(bad.code()), bad.message());
    m_type = type;
    m_actor = std::move(actor);
    m_create = false;
    m_database = std::string(name);
    showDatabase();
    return Response::ok();
}

std::string Session::variable(std::string_view name) const {
    std::string n = lowerCopy(name);
    for (const char* scope : {"session.", "global.", "local."})
        if (startsWith(n, scope))
            n = n.substr(std::string_view(scope).size());
    if (n == "version")
        return m_serverVersion;
    if (n == "version_comment")
        return "TroupeDB " TROUPE_VERSION " (ActorDB-compatible)";
    if (n == "max_allowed_packet")
        return std::to_string(16u << 20);
    if (n == "max_execution_time")
        return std::to_string(m_sql.timeLimit.count());
    if (startsWith(n, "character_set_"))
        return "utf8mb4";
    if (startsWith(n, "collation_"))
        return "utf8mb4_general_ci";
    if (n == "autocommit" || n == "auto_increment_increment")
        return "1";
    if (n == "tx_isolation" || n == "transaction_isolation")
        return "SERIALIZABLE";
    if (n == "time_zone")
        return "SYSTEM";
    if (n == "system_time_zone")
        return "UTC";
    if (n == "lower_case_table_names" || n == "performance_schema" || n == "tx_read_only" ||
        n == "transaction_read_only")
        return "0";
    if (n == "wait_timeout" || n == "interactive_timeout")
        return "28800";
    if (n == "net_write_timeout")
        return "60";
    if (n == "sql_mode" || n == "init_connect")
        return "";
    if (n == "license")
        return "TroupeDB";
    return "\x01"; // unknown: answered as NULL
}

// SELECT item [AS x], ... [LIMIT n] where every item is a @@variable, DATABASE(), SCHEMA(),
// USER(), CURRENT_USER(), SESSION_USER(), VERSION() or an integer literal: what drivers and the
// mariadb client's `status` ask without an actor. Anything else is not a probe (handled = false),
// except that an unknown item next to a @@variable is an error saying why.
Response Session::selectProbe(std::string_view text, const std::string& lower, bool& handled) {
    handled = false;
    std::string_view rest = std::string_view(text).substr(7);
    std::string_view restLower = std::string_view(lower).substr(7);
    if (const std::size_t limit = restLower.rfind(" limit "); limit != std::string_view::npos) {
        rest = rest.substr(0, limit);
        restLower = restLower.substr(0, limit);
    }
    for (std::string_view clause : {" from ", ";", " where ", " union ", "(select"})
        if (restLower.find(clause) != std::string_view::npos)
            return Response::ok(); // reads something: not a probe
    const bool variables = startsWith(trim(restLower), "@@");
    sql::ExecResult r;
    r.rows.emplace_back();
    std::size_t start = 0;
    while (start <= rest.size()) {
        std::size_t comma = rest.find(',', start);
        if (comma == std::string_view::npos)
            comma = rest.size();
        std::string_view item = trim(rest.substr(start, comma - start));
        std::string_view itemLower = trim(restLower.substr(start, comma - start));
        std::string_view column = item;
        if (const std::size_t as = itemLower.find(" as "); as != std::string_view::npos) {
            column = unquoteAlias(trim(item.substr(as + 4)));
            item = trim(item.substr(0, as));
            itemLower = trim(itemLower.substr(0, as));
            if (column.empty())
                return Response::ok(); // not a plain alias: not a probe
        }
        sql::Value value;
        if (startsWith(item, "@@")) {
            if (const std::string v = variable(item.substr(2)); v != "\x01")
                value = v;
        } else if (itemLower == "database()" || itemLower == "schema()") {
            if (!m_database.empty())
                value = m_database;
        } else if (itemLower == "user()" || itemLower == "current_user()" ||
                   itemLower == "session_user()" || itemLower == "system_user()") {
            value = m_sql.user + "@%";
        } else if (itemLower == "version()") {
            value = m_serverVersion;
        } else if (itemLower == "connection_id()") {
            value = std::int64_t(m_process ? m_process->id() : 0);
        } else if (!item.empty() && item.size() < 19 &&
                   item.find_first_not_of("0123456789") == std::string_view::npos) {
            value = std::int64_t(std::stoll(std::string(item)));
        } else {
            if (!variables)
                return Response::ok(); // not a probe: the query goes to an actor
            handled = true;
            return Response::failure(kErrUnknown, "only @@variables can be selected without an "
                                                  "actor; name one with ACTOR type(name)");
        }
        r.columns.emplace_back(column);
        r.rows[0].push_back(std::move(value));
        start = comma + 1;
    }
    handled = true;
    return Response::rows(std::move(r));
}

Response Session::showVariables(const std::string& lower) {
    static const char* const kNames[] = {"autocommit",
                                         "character_set_client",
                                         "character_set_connection",
                                         "character_set_results",
                                         "character_set_server",
                                         "collation_connection",
                                         "collation_server",
                                         "init_connect",
                                         "interactive_timeout",
                                         "license",
                                         "lower_case_table_names",
                                         "max_allowed_packet",
                                         "max_execution_time",
                                         "net_write_timeout",
                                         "sql_mode",
                                         "system_time_zone",
                                         "time_zone",
                                         "transaction_isolation",
                                         "tx_isolation",
                                         "version",
                                         "version_comment",
                                         "wait_timeout"};
    const std::string pattern = likeArgument(lower);
    sql::ExecResult r = table({"Variable_name", "Value"});
    for (const char* name : kNames)
        if (sql::likeMatch(pattern, name))
            r.rows.push_back({std::string(name), variable(name)});
    return Response::rows(std::move(r));
}

Response Session::showTables() {
    if (m_actor.empty())
        return Response::failure(kErrNoDatabase, "No actor selected: SHOW TABLES lists an actor's "
                                                 "tables; select one with USE type.actor");
    auto r = m_db.querySingle(m_sql, m_type, m_actor, "SHOW tables", sql::ExecFlags{});
    if (!r)
        return Response::failure(r.status());
    r->columns = {"Tables_in_" + m_database};
    return Response::rows(std::move(*r));
}

bool Session::mayUse(const std::string& type) const {
    if (m_sql.user.empty())
        return true; // the node itself
    const auto access = m_db.currentAccess();
    return access->checkActorAccess(m_sql.user, type, false).isOk() ||
           access->checkActorAccess(m_sql.user, type, true).isOk();
}

// FLUSH HOSTS (admins): unblocks every address the login guard blocked (sql/login_guard.h).
Response Session::flushHosts() {
    const sql::SecurityServices& security = m_db.options().security;
    Status allowed = m_db.currentAccess()->checkAdmin(m_sql.user);
    if (allowed.isOk() && security.loginGuard)
        security.loginGuard->unblockAll();
    if (security.audit)
        security.audit->record(m_sql, "flush_hosts", "FLUSH HOSTS", allowed);
    return allowed.isOk() ? Response::ok() : Response::failure(allowed);
}

Response Session::probe(std::string_view text, const std::string& lower, bool& handled) {
    handled = true;
    if (startsWith(lower, "select ")) {
        Response answer = selectProbe(text, lower, handled);
        if (handled)
            return answer;
        return Response::ok(); // not a probe
    }
    if (startsWith(lower, "set ")) // SET NAMES, SET autocommit, SET SESSION ...: nothing to keep
        return Response::ok();
    if (startsWith(lower, "use "))
        return selectDatabase(std::string_view(text).substr(4));
    if (lower == "show databases" || lower == "show schemas") {
        sql::ExecResult r = table({"Database"});
        for (std::string& type : m_db.actorTypes())
            if (mayUse(type))
                r.rows.push_back({std::move(type)});
        return Response::rows(std::move(r));
    }
    if (lower == "show tables")
        return showTables();
    if (lower == "flush hosts" || lower == "flush hosts;")
        return flushHosts();
    if (lower == "show warnings" || lower == "show errors")
        return Response::rows(table({"Level", "Code", "Message"}));
    if (startsWith(lower, "show variables") || startsWith(lower, "show session variables") ||
        startsWith(lower, "show global variables"))
        return showVariables(lower);
    handled = false;
    return Response::ok();
}

// One query is one command of the connection's process-list entry: shown by SHOW PROCESSLIST,
// stopped by KILL QUERY through its cancel token.
Response Session::query(std::string_view text, std::vector<sql::Value> params) {
    text = trim(text);
    if (m_process)
        m_sql.cancel = m_process->begin("Query", text);
    Response answer = runQuery(text, std::move(params));
    m_sql.cancel.reset();
    if (m_process)
        m_process->end();
    showDatabase();
    return answer;
}

void Session::showDatabase() {
    if (m_process && m_shownDatabase != m_database)
        m_process->setDb(m_shownDatabase = m_database);
}

Response Session::runQuery(std::string_view text, std::vector<sql::Value> params) {
    const std::string lower = lowerCopy(text);
    bool handled = false;
    Response answer = processCommand(lower, handled);
    if (handled)
        return answer;
    answer = probe(text, lower, handled);
    if (handled)
        return answer;

    auto blocks = sql::segment(text, m_db.options().maxRequestBytes);
    if (!blocks)
        return Response::failure(blocks.status());
    if (blocks->empty()) // only comments, or BEGIN/COMMIT/ROLLBACK: the request is one transaction
        return Response::ok();
    const sql::ActorTarget& first = blocks->front().target;
    if (blocks->size() == 1 && blocks->front().statements.empty() &&
        first.kind == sql::ActorTarget::Kind::Single) {
        // A standalone `ACTOR t(id) [create];` selects the actor for the next queries.
        Response selected = selectDatabase(first.type);
        if (selected.kind == Response::Kind::Error)
            return selected;
        m_actor = first.names[0];
        m_create = first.create;
        m_database = first.type + "." + m_actor;
        return Response::ok();
    }
    if (blocks->size() == 1 && blocks->front().statements.empty())
        return Response::failure(
            kErrWrongArguments,
            "a standalone ACTOR statement selects one actor for the next queries; to run "
            "statements in several actors send them with their ACTOR statement as one query "
            "(the mariadb client splits queries at ';': use DELIMITER // first)");
    Result<sql::ExecResult> r = sql::ExecResult{};
    if (first.kind != sql::ActorTarget::Kind::None) {
        r = m_db.query(m_sql, text, std::move(*blocks), std::move(params)); // split once
    } else if (!m_actor.empty()) {
        sql::ExecFlags flags;
        flags.create = m_create;
        r = m_db.querySingle(m_sql, m_type, m_actor, text, flags, std::move(params));
    } else {
        return Response::failure(
            kErrNoDatabase,
            "No actor selected: start the query with ACTOR type(name); (add create to create "
            "it), run a standalone ACTOR type(name); first, or connect with database "
            "type.name (mysql -D user.alice)");
    }
    if (!r)
        return Response::failure(r.status());
    if (!r->columns.empty())
        return Response::rows(std::move(*r));
    return Response::ok(r->rowsChanged, r->lastInsertRowid);
}

Result<Session::Prepared> Session::prepare(std::string_view text) {
    text = trim(text);
    Prepared p;
    p.sql = std::string(text);
    const std::string lower = lowerCopy(text);
    if (!startsWith(lower, "use ")) {
        bool handled = false;
        Response answer = probe(text, lower, handled); // no side effects but USE
        if (handled) {
            if (answer.kind == Response::Kind::Error)
                return Status(ErrorCode::InvalidArgument, answer.message);
            p.columns = answer.result.columns;
            return remember(std::move(p));
        }
    }
    auto blocks = sql::segment(text, m_db.options().maxRequestBytes);
    if (!blocks)
        return blocks.status();
    auto schema = m_db.currentSchema();
    for (const sql::Block& block : *blocks) {
        const std::string& type =
            block.target.kind == sql::ActorTarget::Kind::None ? m_type : block.target.type;
        if (type.empty())
            return Status(ErrorCode::EmptyActorName,
                          "No actor selected: prepare statements that start with ACTOR "
                          "type(name); or select an actor first (USE type.name)");
        for (const std::string& statement : block.statements) {
            auto special = sql::classifyStatement(statement);
            if (!special)
                return special.status();
            if (special->kind != sql::SpecialStatement::Kind::Sql &&
                special->kind != sql::SpecialStatement::Kind::Capture)
                continue; // dialect statements take no parameters
            auto shape = sql::describeStatement(*schema, type, special->sql);
            if (!shape)
                return shape.status();
            p.params = std::max(p.params, shape->params);
            if (!shape->columns.empty())
                p.columns = shape->columns;
        }
    }
    return remember(std::move(p));
}

Session::Prepared Session::remember(Prepared p) {
    p.id = ++m_nextStatement;
    m_prepared[p.id] = p;
    return p;
}

const Session::Prepared* Session::prepared(std::uint32_t id) const {
    auto it = m_prepared.find(id);
    return it == m_prepared.end() ? nullptr : &it->second;
}

Response Session::execute(std::uint32_t id, std::vector<sql::Value> params) {
    const Prepared* p = prepared(id);
    if (!p)
        return Response::failure(kErrUnknownStatement, "Unknown prepared statement handler (" +
                                                           std::to_string(id) +
                                                           ") given to mysqld_stmt_execute");
    const std::string sql = p->sql; // query() may not outlive a close of this statement
    return query(sql, std::move(params));
}

void Session::close(std::uint32_t id) {
    m_prepared.erase(id);
}

} // namespace troupe::mysql
