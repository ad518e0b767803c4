#pragma once

// Internal to the access module (access.cpp, access_script.cpp, access_scratch.cpp,
// access_format.cpp): the checks a config must pass, shared by AccessConfig::create() and the
// script runner, and the scratch database in which config scripts run their SQL.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sqlite3.h>

#include "core/status.h"
#include "sql/access.h"
#include "sql/value.h"

namespace troupe::sql::access_detail {

// The actor type of a grant on every type.
inline constexpr std::string_view kStar = "*";

// ---- access.cpp

// True when the user has read and write on `*`.
bool hasAdminGrant(const UserRecord& user);
// InvalidArgument with the message.
Status invalid(std::string message);
// Groups and nodes sorted by name: names present and unique, nodes named name@host and in an
// existing group.
Status validateGroupsAndNodes(const std::vector<GroupRecord>& groups,
                              const std::vector<NodeRecord>& nodes);

// ---- access_scratch.cpp

// The scratch database in which a script's SQL statements run: the config's groups and nodes,
// and (after loadUsers) its users and grants, as tables. While a client statement runs, the
// authorizer lets it read the four config tables and write groups and nodes, nothing else.
// Owned by one ScriptRunner, on its thread.
class Scratch {
public:
    Status open(const std::vector<GroupRecord>& groups, const std::vector<NodeRecord>& nodes);
    bool isOpen() const { return m_db != nullptr; }
    // Replaces the users and grants tables' rows.
    Status loadUsers(const std::vector<UserRecord>& users);
    // Runs one client statement. Sets `wrote` when it is not read-only.
    Status run(const std::string& stmt, ExecResult& result, bool& wrote);
    // The groups and nodes tables, sorted by name.
    Status readBack(std::vector<GroupRecord>& groups, std::vector<NodeRecord>& nodes);

private:
    struct DbCloser {
        void operator()(sqlite3* db) const { sqlite3_close(db); }
    };

    static int authorize(void* self, int action, const char* arg1, const char*, const char*,
                         const char*);
    static int decide(int action, const char* arg1);
    Status sqlError(const std::string& stmt) const;
    Status exec(const char* sql);
    template <typename... Args> Status insert(const char* sql, const Args&... args);
    template <typename F> Status select(const char* sql, F onRow);

    std::unique_ptr<sqlite3, DbCloser> m_db;
    bool m_enforce = false; // checking a client statement
    bool m_denied = false;  // the authorizer refused something in it
};

} // namespace troupe::sql::access_detail
