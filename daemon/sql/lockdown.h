#pragma once

// The SQL lockdown of actor connections (resources/docs/security.md "sql lockdown"): the
// SQLite settings every actor connection gets, and the reviewed lists of SQL functions and
// virtual-table modules that client SQL may use. ActorConnection applies the settings in
// open() and consults the lists from its authorizer.
//
// The lists are written for SQLite 3.40 (Debian 12, and the same source in the Windows build,
// installers/windows/build-deps.sh). A function or module that a newer SQLite adds is refused
// until it is reviewed and listed here; tests/unit/sql/tst_actor_lockdown.cpp fails on any
// function or module of the linked SQLite that is in neither list.
//
// Pure functions and constant tables: any thread may call them.

#include <span>
#include <string_view>

#include <sqlite3.h>

#include "core/status.h"

namespace troupe::sql::lockdown {

// SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER off, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION off,
// SQLITE_DBCONFIG_DEFENSIVE on, SQLITE_DBCONFIG_TRUSTED_SCHEMA off; each one read back.
// Internal on failure (a connection that cannot be locked down is not used).
Status apply(sqlite3* db);

// Functions client SQL may call (SQLITE_FUNCTION), compared without case.
bool functionAllowed(std::string_view name);
// Modules of CREATE VIRTUAL TABLE (SQLITE_CREATE_VTABLE), compared without case.
bool moduleAllowed(std::string_view name);

// How client SQL may read a table by this name (SQLITE_READ). The eponymous virtual tables
// that are not plain data are named here; every other name is an ordinary table.
enum class ReadAccess {
    Allowed,
    AdminOnly, // dbstat: page-level statistics, for operators
    Refused,   // sqlite_stmt (other users' SQL on the shared connection), sqlite_dbpage, ...
};
ReadAccess readAccess(std::string_view table);

// The reviewed lists, sorted and lower case: allowed, and known to SQLite 3.40 but refused.
std::span<const std::string_view> allowedFunctions();
std::span<const std::string_view> refusedFunctions();
std::span<const std::string_view> allowedModules();
std::span<const std::string_view> refusedModules();

} // namespace troupe::sql::lockdown
