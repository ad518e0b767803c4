#pragma once

// The state behind Database (database.h), shared by database.cpp (state, administration,
// persistence) and request.cpp (running requests). Internal to daemon/sql.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sql/access.h"
#include "sql/database.h"
#include "sql/engine.h"
#include "sql/process_list.h"
#include "sql/schema.h"

namespace troupe::sql {

// A named prepared statement: PREPARE name (types) FOR type AS sql.
struct PreparedStatement {
    std::string name;
    std::string type;
    std::vector<std::string> argTypes; // int, text, real, blob
    std::string sql;                   // $n already turned into ?n
};

// A request being run, for SHOW queries.
struct RunningQuery {
    std::string user;
    std::string text; // first 200 bytes
    std::chrono::steady_clock::time_point started;
};

// Keys of the SQL layer in the meta database (resources/docs/formats.md).
inline constexpr const char* kMetaSchema = "sql/schema";
inline constexpr const char* kMetaAccess = "sql/access";
inline constexpr const char* kMetaPrepared = "sql/prepared";
inline constexpr const char* kMetaUniqid = "sql/uniqid";
inline constexpr const char* kMetaShards = "sql/kv_shards";

class Database::Impl {
public:
    DatabaseOptions options;
    std::unique_ptr<Engine> engine;
    std::chrono::steady_clock::time_point startedAt = std::chrono::steady_clock::now();
    ProcessList processes;

    // Snapshots: replaced whole under m_mutex, read by copying the pointer.
    std::shared_ptr<const Schema> schema() const;
    std::shared_ptr<const AccessConfig> access() const;
    std::shared_ptr<const std::map<std::string, PreparedStatement>> prepared() const;

    // Administrative changes, one at a time: validate, persist (durable), then publish.
    Result<ExecResult> applySchema(std::string_view script);
    Result<ExecResult> applyConfig(std::string_view script);
    Status prepare(PreparedStatement statement);
    Status unprepare(const std::string& name);

    Result<std::int64_t> uniqid();
    unsigned kvShards() const { return m_kvShards; }

    // SHOW queries bookkeeping.
    std::uint64_t beginQuery(const std::string& user, std::string_view text);
    void endQuery(std::uint64_t id);
    std::vector<std::pair<std::uint64_t, RunningQuery>> runningQueries() const;

    Status load(); // reads the meta database at open

private:
    mutable std::mutex m_mutex; // guards the snapshot pointers below
    std::shared_ptr<const Schema> m_schema = std::make_shared<Schema>();
    std::shared_ptr<const AccessConfig> m_access = std::make_shared<AccessConfig>();
    std::shared_ptr<const std::map<std::string, PreparedStatement>> m_prepared =
        std::make_shared<std::map<std::string, PreparedStatement>>();

    std::mutex m_adminMutex; // serializes administrative changes (held across persistence)

    std::mutex m_idMutex; // guards m_nextId, m_leaseEnd (held across a lease's persistence)
    std::int64_t m_nextId = 1;
    std::int64_t m_leaseEnd = 0; // ids below this are leased (persisted)

    unsigned m_kvShards = 4;

    mutable std::mutex m_queriesMutex; // guards m_running, m_nextQuery
    std::map<std::uint64_t, RunningQuery> m_running;
    std::uint64_t m_nextQuery = 0;
};

// Runs one ActorDB-dialect request (request.cpp).
Result<ExecResult> runRequest(Database::Impl& db, const Session& session, std::string_view request,
                              std::vector<Value> params);
// The same with `request` already split into `blocks` by segment().
Result<ExecResult> runSegmented(Database::Impl& db, const Session& session,
                                std::string_view request, std::vector<Block> blocks,
                                std::vector<Value> params);
// Runs `sql` (no ACTOR statements) in type(name), as Thrift's exec_single.
Result<ExecResult> runSingle(Database::Impl& db, const Session& session, std::string_view type,
                             std::string_view name, std::string_view sql, ExecFlags flags,
                             std::vector<Value> params);

} // namespace troupe::sql
