#pragma once

// AuditLog: the record of administrative changes — users, grants, passwords, schema, config,
// cluster membership (groups and nodes, which change through config), unblocking login
// sources — kept apart from the server log (resources/docs/security.md, "credentials").
//
// Each change is one JSON line in its own file (option `audit_log`, default
// <data-dir>/audit.log, created owner-only 0600) and the same line in the spdlog category
// "audit":
//   {"time":"2026-12-08T01:02:03.456Z","user":"root","peer":"127.0.0.1:51234",
//    "action":"config","statement":"CREATE USER 'app' IDENTIFIED BY '***'","outcome":"ok"}
// `user` is "(node)" for the node itself (the --init script), `peer` "local" when there is no
// client. Statements come through redactPasswords() (access.h): no password reaches the file.
// Failed attempts are recorded too, with outcome "<error code>: <message>".
//
// Owned by the composition root (app/server.cpp) and shared through DatabaseOptions::security.
// Threads: any; a mutex serializes the writes (each line is flushed before record() returns).

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/status.h"

namespace troupe::sql {

struct Session;

class AuditLog {
public:
    using Now = std::function<std::chrono::system_clock::time_point()>;

    // Opens (creates, owner-only) `file` for appending; empty: the log category only. IoError
    // naming the file when it cannot be opened. `now` empty: the system clock.
    static Result<std::unique_ptr<AuditLog>> open(const std::filesystem::path& file, Now now = {});
    ~AuditLog();
    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;

    // Records one change by `session` (its user and peer). `statement` must already be redacted.
    void record(const Session& session, std::string_view action, std::string_view statement,
                const Status& outcome);

    // The JSON line record() writes (without the newline).
    static std::string line(std::chrono::system_clock::time_point time, const Session& session,
                            std::string_view action, std::string_view statement,
                            const Status& outcome);

private:
    AuditLog(std::FILE* file, Now now);
    std::mutex m_mutex; // guards writes to m_file
    std::FILE* m_file;  // null: the log category only
    Now m_now;
};

} // namespace troupe::sql
