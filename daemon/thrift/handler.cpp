#include "thrift/handler.h"

#include <algorithm>
#include <utility>

#include <openssl/rand.h>

#include "core/log.h"
#include "sql/access.h"
#include "sql/audit.h"
#include "sql/login_guard.h"
#include "sql/segmenter.h"
#include "sql/sql_text.h"
#include "thrift/convert.h"
#include "troupe_idl/troupe_constants.h"

namespace troupe::thrift {

namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = log::get("thrift");
    return l;
}

[[noreturn]] void fail(const Status& status) {
    throw invalidRequest(status);
}

template <typename T> T take(Result<T> result) {
    if (!result)
        fail(result.status());
    return std::move(*result);
}

// An actor name or type inside ACTOR t(...): bare when it is a plain word, else single-quoted.
std::string quoteName(const std::string& name) {
    bool bare = !name.empty();
    for (char c : name)
        bare = bare && (sql::isWordChar(c) || c == '-' || c == '.');
    if (bare)
        return name;
    std::string out = "'";
    for (char c : name) {
        out += c;
        if (c == '\'')
            out += '\'';
    }
    return out + "'";
}

} // namespace

ActordbHandler::ActordbHandler(sql::Database& db, std::string peer, ServerFacts facts,
                               ClientFacts client, sql::ProcessList::Registration* process)
    : m_db(db), m_peer(std::move(peer)), m_facts(std::move(facts)), m_client(std::move(client)),
      m_process(process) {}

void ActordbHandler::protocolVersion(std::string& out) {
    out = gen::g_troupe_constants.VERSION;
}

void ActordbHandler::salt(std::string& out) {
    m_salt.assign(20, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(m_salt.data()), int(m_salt.size())) != 1)
        fail(Status(ErrorCode::Internal, "no random bytes for a salt"));
    out = m_salt;
}

void ActordbHandler::login(gen::LoginResult& out, const std::string& username,
                           const std::string& password) {
    m_user.reset();
    if (!m_db.initialized()) {
        // Nobody can be checked yet: the login only allows exec_config, as in ActorDB.
        m_user = username;
        out.success = true;
        return;
    }
    checkLogin(username, password);
    m_user = username;
    if (m_process)
        m_process->setUser(username);
    out.success = true;
    const auto access = m_db.currentAccess();
    std::vector<std::string> readable, writable;
    for (const std::string& type : m_db.actorTypes()) {
        if (access->checkActorAccess(username, type, false))
            readable.push_back(type);
        if (access->checkActorAccess(username, type, true))
            writable.push_back(type);
    }
    out.__set_readaccess(std::move(readable));
    out.__set_writeaccess(std::move(writable));
}

// The login guard first (a blocked address is refused before any check), then the password:
// a scramble answering salt() (native users only) or the plain password. A caching_sha2 user
// (sql/access.h) has no SHA1(SHA1(pw)) for the scramble, and its plain password must not cross
// the network in clear: NotPermitted unless plain and over TLS.
void ActordbHandler::checkLogin(const std::string& username, const std::string& password) {
    const std::string salt = std::exchange(m_salt, std::string()); // a salt answers one login
    sql::LoginGuard* guard = m_db.options().security.loginGuard.get();
    auto refuse = [&](const std::string& why) {
        logger()->info("{}: login of '{}' refused: {}", m_peer, username, why);
        gen::InvalidRequestException e;
        e.code = gen::ErrorCode::LoginFailed;
        e.info = why;
        throw e;
    };
    if (guard) {
        if (Status admitted = guard->admit(m_client.address); !admitted)
            refuse(admitted.message());
    }
    const auto access = m_db.currentAccess();
    const sql::UserRecord* record = access->findUser(username);
    if (record && record->kind == sql::PasswordKind::CachingSha2 &&
        (!salt.empty() || !m_client.tls)) {
        logger()->info("{}: login of '{}' refused: caching_sha2 user without TLS", m_peer,
                       username);
        fail(Status(ErrorCode::NotPermitted,
                    "user '" + username +
                        "' has a caching_sha2_password password: log in with the plain login "
                        "(without salt()) over TLS"));
    }
    const Status s = salt.empty() ? m_db.authenticate(username, password)
                                  : m_db.authenticateNative(username, salt, password);
    if (s) {
        if (guard)
            guard->succeeded(m_client.address);
        return;
    }
    if (guard)
        guard->failed(m_client.address);
    refuse("Username and/or password incorrect.");
}

void ActordbHandler::requireTypeAccess(const std::string& type) const {
    const std::string& user = requireLogin();
    if (user.empty())
        return; // before the init: nothing to hide
    const auto access = m_db.currentAccess();
    Status read = access->checkActorAccess(user, type, false);
    if (!read && !access->checkActorAccess(user, type, true))
        fail(read);
}

const std::string& ActordbHandler::requireLogin() const {
    if (!m_user)
        fail(Status(ErrorCode::NotLoggedIn, "log in first (login, or salt then login)"));
    return *m_user;
}

sql::Session ActordbHandler::session(std::string_view sql) const {
    sql::Session s;
    s.user = requireLogin();
    s.peer = m_client.peer;
    if (s.user.empty()) // the facade reads an empty user as the node itself
        fail(Status(ErrorCode::NotLoggedIn, "log in with a user name"));
    if (m_process) // the call is a command of the process list until the server's end()
        s.cancel = m_process->begin("Query", sql);
    return s;
}

sql::ExecFlags ActordbHandler::flagsOf(const std::vector<std::string>& flags) const {
    return take(parseFlags(flags));
}

gen::Result ActordbHandler::answer(const Result<sql::ExecResult>& result) const {
    if (!result)
        fail(result.status());
    return toResult(*result);
}

std::string ActordbHandler::actorStatement(const std::string& type, const std::string& names,
                                           const std::vector<std::string>& flags) const {
    const sql::ExecFlags f = flagsOf(flags);
    const bool word = !type.empty() && std::all_of(type.begin(), type.end(), sql::isWordChar);
    if (!word)
        fail(Status(ErrorCode::InvalidType, "no actor type '" + type + "'"));
    std::string s = "ACTOR " + type + "(" + names + ")";
    if (f.create)
        s += " create";
    if (f.safe)
        s += " safe";
    if (f.fsync)
        s += " fsync";
    return s + ";\n";
}

void ActordbHandler::exec_config(gen::Result& out, const std::string& sql) {
    sql::Session s;
    if (m_db.initialized() || m_user)
        s.user = requireLogin();
    s.peer = m_client.peer;
    if (sql::iequals(sql::trim(sql), "FLUSH HOSTS") || sql::iequals(sql::trim(sql), "FLUSH HOSTS;"))
        return flushHosts(out, s);
    out = answer(m_db.config(s, sql));
}

// exec_config("FLUSH HOSTS"), as MySQL's: unblocks every address the login guard blocked.
void ActordbHandler::flushHosts(gen::Result& out, const sql::Session& s) {
    const sql::SecurityServices& security = m_db.options().security;
    Status allowed = m_db.currentAccess()->checkAdmin(s.user);
    std::size_t unblocked = 0;
    if (allowed && security.loginGuard)
        unblocked = security.loginGuard->unblockAll();
    if (security.audit)
        security.audit->record(s, "flush_hosts", "FLUSH HOSTS", allowed);
    sql::ExecResult result;
    result.rowsChanged = std::int64_t(unblocked);
    out = answer(allowed ? Result<sql::ExecResult>(std::move(result))
                         : Result<sql::ExecResult>(allowed));
}

void ActordbHandler::exec_schema(gen::Result& out, const std::string& sql) {
    out = answer(m_db.schema(session(), sql));
}

void ActordbHandler::exec_single(gen::Result& out, const std::string& actorname,
                                 const std::string& actortype, const std::string& sql,
                                 const std::vector<std::string>& flags) {
    const sql::Session s = session(sql);
    out = answer(m_db.querySingle(s, actortype, actorname, sql, flagsOf(flags)));
}

void ActordbHandler::exec_single_param(gen::Result& out, const std::string& actorname,
                                       const std::string& actortype, const std::string& sql,
                                       const std::vector<std::string>& flags,
                                       const std::vector<std::vector<gen::Val>>& bindingvals) {
    const sql::Session s = session(sql);
    BoundSql bound = take(bindRows(sql, bindingvals));
    out = answer(m_db.querySingle(s, actortype, actorname, bound.sql, flagsOf(flags),
                                  std::move(bound.params)));
}

void ActordbHandler::exec_single_batch_param(
    gen::Result& out, const std::string& actorname, const std::string& actortype,
    const std::string& sql, const std::vector<std::string>& flags,
    const std::vector<std::vector<std::vector<gen::Val>>>& bindingvals) {
    const sql::Session s = session(sql);
    auto blocks = take(sql::segment(sql, m_db.options().maxRequestBytes));
    if (blocks.size() > 1 ||
        (!blocks.empty() && blocks.front().target.kind != sql::ActorTarget::Kind::None))
        fail(Status(ErrorCode::InvalidArgument,
                    "the SQL of a single-actor call must not name actors itself"));
    const std::vector<std::string> statements =
        blocks.empty() ? std::vector<std::string>{} : blocks.front().statements;
    std::vector<std::size_t> repeats;
    BoundSql bound = take(bindStatements(statements, bindingvals, repeats));
    auto result = m_db.querySingle(s, actortype, actorname, bound.sql, flagsOf(flags),
                                   std::move(bound.params));
    if (!result)
        fail(result.status());
    // One result per statement the client sent: a statement that ran once per row gives the
    // rows of all its runs, or their changes added up.
    std::vector<sql::StatementResult> parts = result->statements;
    if (parts.empty()) {
        sql::StatementResult only;
        only.returnsRows = !result->columns.empty();
        only.columns = result->columns;
        only.rows = result->rows;
        only.lastInsertRowid = result->lastInsertRowid;
        only.rowsChanged = result->rowsChanged;
        parts.push_back(std::move(only));
    }
    std::vector<gen::QueryResult> batch;
    std::size_t next = 0;
    for (std::size_t i = 0; i < repeats.size() && next < parts.size(); ++i) {
        sql::StatementResult merged = parts[next];
        for (std::size_t k = 1; k < repeats[i] && next + k < parts.size(); ++k) {
            const sql::StatementResult& more = parts[next + k];
            merged.rows.insert(merged.rows.end(), more.rows.begin(), more.rows.end());
            merged.rowsChanged += more.rowsChanged;
            if (more.lastInsertRowid != 0)
                merged.lastInsertRowid = more.lastInsertRowid;
        }
        next += repeats[i];
        gen::QueryResult q;
        if (merged.returnsRows) {
            q.__set_rdRes(readResult(merged.columns, merged.rows));
        } else {
            gen::WriteResult w;
            w.lastChangeRowid = merged.lastInsertRowid;
            w.rowsChanged = merged.rowsChanged;
            q.__set_wrRes(w);
        }
        batch.push_back(std::move(q));
    }
    out.__set_batchRes(std::move(batch));
}

void ActordbHandler::exec_multi(gen::Result& out, const std::vector<std::string>& actors,
                                const std::string& actortype, const std::string& sql,
                                const std::vector<std::string>& flags) {
    const sql::Session s = session(sql);
    if (actors.empty())
        fail(Status(ErrorCode::EmptyActorName, "exec_multi needs at least one actor name"));
    std::string names;
    for (const std::string& a : actors) {
        if (a.empty())
            fail(Status(ErrorCode::EmptyActorName, "an actor name is empty"));
        if (!names.empty())
            names += ',';
        names += quoteName(a); // not "," + ...: GCC 12 warns falsely (-Wrestrict) on that
    }
    out = answer(m_db.query(s, actorStatement(actortype, names, flags) + sql));
}

void ActordbHandler::exec_all(gen::Result& out, const std::string& actortype,
                              const std::string& sql, const std::vector<std::string>& flags) {
    const sql::Session s = session(sql);
    out = answer(m_db.query(s, actorStatement(actortype, "*", flags) + sql));
}

void ActordbHandler::exec_sql(gen::Result& out, const std::string& sql) {
    out = answer(m_db.query(session(sql), sql));
}

void ActordbHandler::exec_sql_param(gen::Result& out, const std::string& sql,
                                    const std::vector<std::vector<gen::Val>>& bindingvals) {
    const sql::Session s = session(sql);
    BoundSql bound = take(bindRows(sql, bindingvals));
    out = answer(m_db.query(s, bound.sql, std::move(bound.params)));
}

// Introspection shows only the types the user may read or write; for any other type, existing
// or not, the answer is NotPermitted, so that existence does not leak (security.md).
void ActordbHandler::actor_types(std::vector<std::string>& out) {
    const std::string& user = requireLogin();
    const auto access = m_db.currentAccess();
    out.clear();
    for (std::string& type : m_db.actorTypes()) {
        if (user.empty() || access->checkActorAccess(user, type, false) ||
            access->checkActorAccess(user, type, true))
            out.push_back(std::move(type));
    }
}

void ActordbHandler::actor_tables(std::vector<std::string>& out, const std::string& actorType) {
    requireTypeAccess(actorType);
    out = take(m_db.actorTables(actorType));
}

void ActordbHandler::actor_columns(std::map<std::string, std::string>& out,
                                   const std::string& actorType, const std::string& actorTable) {
    requireTypeAccess(actorType);
    for (const sql::ColumnDescription& c : take(m_db.actorColumns(actorType, actorTable)))
        out[c.name] = c.declType;
}

std::int64_t ActordbHandler::uniqid() {
    requireLogin();
    return take(m_db.uniqid());
}

} // namespace troupe::thrift
