#pragma once

// The pieces of request running that need no transaction (request.cpp runs the transaction):
// KV routing, actor listing with LIKE, result capture and column assignment, prepared-statement
// calls, SHOW and the catalog pragmas. Internal to daemon/sql; any thread.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sql/database_impl.h"
#include "sql/segmenter.h"
#include "sql/statements.h"
#include "sql/value.h"

namespace troupe::sql {

// The shard (0..shards-1) that owns a KV key: shards split the 32-bit hash space into equal
// ranges (DESIGN §1), so shard i owns [i * 2^32 / shards, (i+1) * 2^32 / shards).
unsigned kvShardOf(std::string_view key, unsigned shards);
// The name of a KV type's database on shard i (an actor of the KV type).
std::string kvShardName(unsigned shard);

// SQL LIKE: % any run, _ one character, ASCII case-insensitive, no escape character.
bool likeMatch(std::string_view pattern, std::string_view text);
// Every actor of `type` whose name matches `likePattern`, sorted.
Result<std::vector<std::string>> listActors(Engine& engine, const std::string& type,
                                            const std::string& likePattern);

// Adds the rows of `r` to a captured result; with `actor`, each row gets an `actor` column
// (ActorDB: multi-actor captures say which actor a row came from).
void appendCapture(ExecResult& store, const ExecResult& r, const std::string* actor);
// Folds a statement's result into a request's: rows of the last statement that had columns,
// changes summed, the last insert id of the last write.
void mergeResult(ExecResult& into, ExecResult r);
// {{X.column=INFO.sourceColumn}}: row `row` of `outer` gets INFO's first-row value (NULL when
// INFO has no rows); the column is added to `outer` when new.
Status assignColumn(ExecResult& outer, std::size_t row, const std::string& column,
                    const ExecResult& source, const std::string& sourceColumn);

struct PreparedCall {
    std::string sql;
    std::vector<Value> params;
};
// EXECUTE name (args) in an actor of `type`: checks the statement exists, is for this type,
// and gets the right number and types of arguments.
Result<PreparedCall> preparedCall(const std::map<std::string, PreparedStatement>& prepared,
                                  const std::string& type, const SpecialStatement& execute);

inline constexpr const char* kTablesQuery =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
    "ORDER BY name";

// SHOW schema|status|queries|shards.
Result<ExecResult> showResult(Database::Impl& db, const std::string& what);
// PRAGMA list / count / exists for a block's target, from the catalog.
Result<ExecResult> catalogPragma(Engine& engine, const ActorTarget& target, bool kv,
                                 const SpecialStatement& pragma);

std::string joinNames(const std::vector<std::string>& names);
std::string lowerCopy(std::string_view text);
std::string shorten(std::string_view text); // at most 80 characters, for error messages
// A name given outside the segmenter (exec_single): EmptyActorName / InvalidActorName.
Status validateActorName(std::string_view name);

} // namespace troupe::sql
