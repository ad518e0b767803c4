#pragma once

// ActordbHandler: the Thrift service `Actordb` (troupe.thrift) for one connection, over the
// query facade. It holds the connection's login state: every call but protocolVersion, salt and
// login needs a successful login first (InvalidRequestException{NotLoggedIn}), except
// exec_config on a node that is not initialised yet (ActorDB let the first config through so a
// fresh node can be set up). Facade errors become InvalidRequestException{code, info} with
// ActorDB's codes (convert.h); nothing else is thrown.
//
// The admin_* methods (TroupeDB's extensions for the console, handler_admin.cpp) need a user
// with admin rights (read,write on `*`): NotLoggedIn before login, NotPermitted otherwise.
//
// Threads: one connection's thread (the facade calls block until answered).

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "core/metrics.h"
#include "sql/database.h"
#include "sql/process_list.h"
#include "troupe_idl/Actordb.h"

namespace troupe::thrift {

// What admin_cluster_info reports beyond the database, given by the composition root.
struct ServerFacts {
    std::string version = TROUPE_VERSION;
    std::map<std::string, int> ports;   // "mysql", "http", "node"; the server adds "thrift"
    MetricsRegistry* metrics = nullptr; // nullptr: MetricsRegistry::global()
    std::chrono::steady_clock::time_point startedAt = std::chrono::steady_clock::now();
};

// The connection a handler serves, given by ThriftServer: the login guard's source, the audit
// log's peer, and whether plain-password logins of caching_sha2 users are allowed (TLS).
struct ClientFacts {
    std::string address; // the client's IP address
    std::string peer;    // "address:port"
    bool tls = false;
};

class ActordbHandler : public gen::ActordbIf {
public:
    // `peer` names the client in log lines. `process`: the connection's entry in the process
    // list (kept by the server for the connection's life): every call that runs SQL is one of
    // its commands, with a cancel token (the server ends the command after the call).
    ActordbHandler(sql::Database& db, std::string peer, ServerFacts facts = {},
                   ClientFacts client = {}, sql::ProcessList::Registration* process = nullptr);

    void protocolVersion(std::string& out) override;
    void login(gen::LoginResult& out, const std::string& username,
               const std::string& password) override;
    void salt(std::string& out) override;
    void exec_config(gen::Result& out, const std::string& sql) override;
    void exec_schema(gen::Result& out, const std::string& sql) override;
    void exec_single(gen::Result& out, const std::string& actorname, const std::string& actortype,
                     const std::string& sql, const std::vector<std::string>& flags) override;
    void exec_single_param(gen::Result& out, const std::string& actorname,
                           const std::string& actortype, const std::string& sql,
                           const std::vector<std::string>& flags,
                           const std::vector<std::vector<gen::Val>>& bindingvals) override;
    void exec_multi(gen::Result& out, const std::vector<std::string>& actors,
                    const std::string& actortype, const std::string& sql,
                    const std::vector<std::string>& flags) override;
    void exec_all(gen::Result& out, const std::string& actortype, const std::string& sql,
                  const std::vector<std::string>& flags) override;
    void exec_sql(gen::Result& out, const std::string& sql) override;
    void exec_sql_param(gen::Result& out, const std::string& sql,
                        const std::vector<std::vector<gen::Val>>& bindingvals) override;
    void actor_types(std::vector<std::string>& out) override;
    void actor_tables(std::vector<std::string>& out, const std::string& actorType) override;
    void actor_columns(std::map<std::string, std::string>& out, const std::string& actorType,
                       const std::string& actorTable) override;
    std::int64_t uniqid() override;
    void exec_single_batch_param(
        gen::Result& out, const std::string& actorname, const std::string& actortype,
        const std::string& sql, const std::vector<std::string>& flags,
        const std::vector<std::vector<std::vector<gen::Val>>>& bindingvals) override;

    // Admin extensions (handler_admin.cpp).
    void admin_cluster_info(gen::AdminClusterInfo& out) override;
    void admin_list_actors(gen::AdminActorList& out, const std::string& actortype,
                           const std::string& prefix, const std::string& after,
                           std::int32_t limit) override;
    void admin_actor_info(gen::AdminActorInfo& out, const std::string& actortype,
                          const std::string& actorname) override;
    void admin_schema(gen::AdminSchema& out, const std::string& actortype) override;
    void admin_metrics(std::map<std::string, double>& out) override;
    void admin_verify(gen::AdminVerifyResult& out) override;

    const std::optional<std::string>& user() const { return m_user; }

private:
    // Throws NotLoggedIn unless logged in.
    const std::string& requireLogin() const;
    // Checks a login's credentials (with the login guard); throws LoginFailed or NotPermitted.
    void checkLogin(const std::string& username, const std::string& password);
    // Throws NotPermitted unless the user may read or write `type` (existing or not).
    void requireTypeAccess(const std::string& type) const;
    void flushHosts(gen::Result& out, const sql::Session& s);
    // Throws NotLoggedIn, or NotPermitted unless the user has admin rights.
    void requireAdmin() const;
    // The local shards (SHOW shards).
    std::vector<gen::AdminShard> shards() const;
    sql::Session session(std::string_view sql = {}) const;
    sql::ExecFlags flagsOf(const std::vector<std::string>& flags) const;
    // The Result of an answer, or throws its error.
    gen::Result answer(const Result<sql::ExecResult>& result) const;
    // An ACTOR statement naming `type` and `names` (quoted as needed) with `flags`.
    std::string actorStatement(const std::string& type, const std::string& names,
                               const std::vector<std::string>& flags) const;

    sql::Database& m_db;
    std::string m_peer;
    ServerFacts m_facts;
    ClientFacts m_client;
    std::optional<std::string> m_user; // after a successful login
    std::string m_salt;                // of salt(); the next login's password is a scramble
    sql::ProcessList::Registration* m_process = nullptr;
};

} // namespace troupe::thrift
