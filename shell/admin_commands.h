#pragma once

// The `troupe` shell's admin commands: lines the shell answers with TroupeDB's admin calls
// (client.h: clusterInfo, listActors, actorInfo, schemaInfo, metrics, verify) instead of sending
// them as SQL. They run at once, in any mode, and leave buffered statements alone:
//
//   show cluster                        this node, the nodes and groups, the shards
//   show metrics [like 'pattern%']      the /metrics samples (name, value)
//   show actors <type> [like 'pfx%']    actor names of a type, every page, in name order
//   show actor <type>(<name>)           an actor's size, schema version and shard
//   show schema history [<type>]        each type's schema versions and their statements
//   show verify                         check every stored record on the node (admin_verify)
//
// Keywords in any case; a trailing `;` is allowed. `like` takes a prefix pattern: text then
// one `%` (the names are listed by prefix on the server; `_` is taken literally). Every other `show
// ...` (SHOW schema, tables, status, queries, shards) is the SQL dialect's and goes to the server
// unchanged.
//
// Parsing and turning answers into printable results are pure functions (any thread); run()
// makes the calls on the caller's client.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/client.h"
#include "core/status.h"

namespace troupe::shell {

struct AdminCommand {
    enum class Kind { Cluster, Metrics, Actors, Actor, SchemaHistory, Verify };
    Kind kind = Kind::Cluster;
    std::string type;   // Actors, Actor, SchemaHistory (empty: every type)
    std::string name;   // Actor
    std::string prefix; // Actors, Metrics: the `like` prefix
};

// nullopt: not an admin command (send the line as SQL). An admin command with bad arguments
// is an InvalidArgument Status saying what the right form is.
std::optional<Result<AdminCommand>> parseAdminCommand(std::string_view line);

// The printable results of each answer (several tables for `show cluster`).
std::vector<client::QueryResult> clusterResults(const client::ClusterInfo& info);
// Per-database counts, a summary row and (when any) the damaged records.
std::vector<client::QueryResult> verifyResults(const client::VerifyInfo& info);
client::QueryResult metricsResult(const std::map<std::string, double>& metrics,
                                  std::string_view prefix);
client::QueryResult actorsResult(const std::vector<std::string>& names);
client::QueryResult actorResult(const client::ActorInfo& info);
client::QueryResult schemaHistoryResult(const client::SchemaInfo& schema);

// Runs the command's calls (listing every page of actors) and returns what to print.
Result<std::vector<client::QueryResult>> runAdminCommand(client::Client& client,
                                                         const AdminCommand& command);

} // namespace troupe::shell
