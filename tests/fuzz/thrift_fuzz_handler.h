#pragma once

// RecordingHandler: the Actordb service for the Thrift fuzz target (thrift_fuzz.cpp). It stands
// where ActordbHandler (daemon/thrift/handler.h) stands, without a database: it logs each call
// with a digest of its arguments (the target compares the logs of two runs), runs the pure
// conversions of daemon/thrift/convert.h on what the client sent — parameter values, flags, the
// binding of parameter rows into SQL (parameter renumbering parses the SQL text) — and answers
// with values, so that the reply encoding runs too. It checks that a Val converts back to
// itself. Declared errors are thrown as InvalidRequestException, as the real handler does.
//
// One per connection run, on the fuzzer's thread.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "thrift/convert.h"
#include "troupe_idl/Actordb.h"

namespace troupe::fuzz {

namespace gen = ::troupe::thrift::gen;

class RecordingHandler final : public gen::ActordbIf {
public:
    const std::vector<std::string>& calls() const { return m_calls; }

    void protocolVersion(std::string& out) override {
        log("protocolVersion");
        out = "fuzz";
    }
    void login(gen::LoginResult& out, const std::string& username,
               const std::string& password) override {
        log("login", username + "/" + password);
        if (username.empty())
            fail(ErrorCode::NotLoggedIn, "empty user");
        out.success = true;
        out.__set_readaccess({"*"});
    }
    void salt(std::string& out) override {
        log("salt");
        out.assign(20, 's');
    }
    void exec_config(gen::Result& out, const std::string& sql) override {
        log("exec_config", sql);
        answer(out, {});
    }
    void exec_schema(gen::Result& out, const std::string& sql) override {
        log("exec_schema", sql);
        answer(out, {});
    }
    void exec_single(gen::Result& out, const std::string& actorname, const std::string& actortype,
                     const std::string& sql, const std::vector<std::string>& flags) override {
        log("exec_single", actortype + "(" + actorname + ") " + sql);
        checkFlags(flags);
        answer(out, {});
    }
    void exec_single_param(gen::Result& out, const std::string& actorname,
                           const std::string& actortype, const std::string& sql,
                           const std::vector<std::string>& flags,
                           const std::vector<std::vector<gen::Val>>& bindingvals) override {
        log("exec_single_param", actortype + "(" + actorname + ") " + sql);
        checkFlags(flags);
        answer(out, bind(sql, bindingvals));
    }
    void exec_multi(gen::Result& out, const std::vector<std::string>& actors,
                    const std::string& actortype, const std::string& sql,
                    const std::vector<std::string>& flags) override {
        log("exec_multi", actortype + " " + std::to_string(actors.size()) + " " + sql);
        checkFlags(flags);
        answer(out, {});
    }
    void exec_all(gen::Result& out, const std::string& actortype, const std::string& sql,
                  const std::vector<std::string>& flags) override {
        log("exec_all", actortype + " " + sql);
        checkFlags(flags);
        answer(out, {});
    }
    void exec_sql(gen::Result& out, const std::string& sql) override {
        log("exec_sql", sql);
        answer(out, {});
    }
    void exec_sql_param(gen::Result& out, const std::string& sql,
                        const std::vector<std::vector<gen::Val>>& bindingvals) override {
        log("exec_sql_param", sql);
        answer(out, bind(sql, bindingvals));
    }
    void actor_types(std::vector<std::string>& out) override {
        log("actor_types");
        out = {"type1", "type2"};
    }
    void actor_tables(std::vector<std::string>& out, const std::string& actorType) override {
        log("actor_tables", actorType);
        out = {actorType};
    }
    void actor_columns(std::map<std::string, std::string>& out, const std::string& actorType,
                       const std::string& actorTable) override {
        log("actor_columns", actorType + "." + actorTable);
        out[actorTable] = actorType;
    }
    std::int64_t uniqid() override {
        log("uniqid");
        return std::int64_t(m_calls.size());
    }
    void exec_single_batch_param(
        gen::Result& out, const std::string& actorname, const std::string& actortype,
        const std::string& sql, const std::vector<std::string>& flags,
        const std::vector<std::vector<std::vector<gen::Val>>>& bindingvals) override {
        log("exec_single_batch_param", actortype + "(" + actorname + ") " + sql);
        checkFlags(flags);
        std::vector<std::size_t> repeats;
        auto bound = thrift::bindStatements({sql}, bindingvals, repeats);
        if (!bound)
            throw thrift::invalidRequest(bound.status());
        answer(out, bound->params);
    }
    void admin_cluster_info(gen::AdminClusterInfo& out) override {
        log("admin_cluster_info");
        out.version = "fuzz";
    }
    void admin_list_actors(gen::AdminActorList& out, const std::string& actortype,
                           const std::string& prefix, const std::string& after,
                           std::int32_t limit) override {
        log("admin_list_actors",
            actortype + "/" + prefix + "/" + after + "/" + std::to_string(limit));
        if (limit < 0)
            fail(ErrorCode::InvalidArgument, "negative limit");
        out.names.assign(std::size_t(std::min(limit, 3)), prefix);
    }
    void admin_actor_info(gen::AdminActorInfo& out, const std::string& actortype,
                          const std::string& actorname) override {
        log("admin_actor_info", actortype + "(" + actorname + ")");
        out.actortype = actortype;
        out.actorname = actorname;
    }
    void admin_schema(gen::AdminSchema& out, const std::string& actortype) override {
        log("admin_schema", actortype);
        out.revision = 1;
    }
    void admin_metrics(std::map<std::string, double>& out) override {
        log("admin_metrics");
        out = thrift::parsePrometheusText("# fuzz\nx 1\ny{a=\"b\"} +Inf\n");
    }
    void admin_verify(gen::AdminVerifyResult& out) override {
        log("admin_verify");
        out.clean = true;
    }

private:
    void log(const char* name, const std::string& args = {}) {
        m_calls.push_back(std::string(name) + " " + args);
    }
    [[noreturn]] static void fail(ErrorCode code, const std::string& message) {
        throw thrift::invalidRequest(Status(code, message));
    }
    void checkFlags(const std::vector<std::string>& flags) {
        auto parsed = thrift::parseFlags(flags);
        if (!parsed)
            throw thrift::invalidRequest(parsed.status());
        m_calls.back() += parsed->create ? " +create" : "";
    }
    // The parameters of every row bound into `sql`, each checked to convert back to its Val.
    std::vector<sql::Value> bind(const std::string& sql,
                                 const std::vector<std::vector<gen::Val>>& rows) {
        for (const auto& row : rows)
            for (const gen::Val& val : row)
                checkRoundTrip(val);
        auto bound = thrift::bindRows(sql, rows);
        if (!bound)
            throw thrift::invalidRequest(bound.status());
        m_calls.back() += " -> " + bound->sql;
        return bound->params;
    }
    static void checkRoundTrip(const gen::Val& val) {
        auto value = thrift::fromVal(val);
        if (!value)
            return;
        auto again = thrift::fromVal(thrift::toVal(*value));
        TROUPE_FUZZ_CHECK(again.isOk());
        const auto* d = std::get_if<double>(&*value);
        if (d && std::isnan(*d))
            TROUPE_FUZZ_CHECK(std::isnan(std::get<double>(*again)));
        else
            TROUPE_FUZZ_CHECK(*again == *value);
    }
    // A read result of one row holding the values (a write result when there are none).
    static void answer(gen::Result& out, const std::vector<sql::Value>& values) {
        sql::ExecResult result;
        if (!values.empty()) {
            for (std::size_t i = 0; i < values.size(); ++i)
                result.columns.push_back("c" + std::to_string(i));
            result.rows.push_back(values);
        }
        out = thrift::toResult(result);
    }

    std::vector<std::string> m_calls;
};

} // namespace troupe::fuzz
