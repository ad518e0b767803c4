#pragma once

// ActordbHandler: the Thrift service `Actordb` (troupe.thrift) for one connection, over the
// query facade. It holds the connection's login state: every call but protocolVersion, salt and
// login needs a successful login first (InvalidRequestException{NotLoggedIn}), except
// exec_config on a node that is not initialised yet (ActorDB let the first config through so a
// fresh node can be set up). Facade errors become InvalidRequestException{code, info} with
// ActorDB's codes (convert.h); nothing else is thrown.
//
// Threads: one connection's thread (the facade calls block until answered).

#include <optional>
#include <string>

#include "sql/database.h"
#include "troupe_idl/Actordb.h"

namespace troupe::thrift {

class ActordbHandler : public gen::ActordbIf {
public:
    // `peer` names the client in log lines.
    ActordbHandler(sql::Database& db, std::string peer);

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

    const std::optional<std::string>& user() const { return m_user; }

private:
    // Throws NotLoggedIn unless logged in.
    const std::string& requireLogin() const;
    sql::Session session() const;
    sql::ExecFlags flagsOf(const std::vector<std::string>& flags) const;
    // The Result of an answer, or throws its error.
    gen::Result answer(const Result<sql::ExecResult>& result) const;
    // An ACTOR statement naming `type` and `names` (quoted as needed) with `flags`.
    std::string actorStatement(const std::string& type, const std::string& names,
                               const std::vector<std::string>& flags) const;

    sql::Database& m_db;
    std::string m_peer;
    std::optional<std::string> m_user; // after a successful login
    std::string m_salt;                // of salt(); the next login's password is a scramble
};

} // namespace troupe::thrift
