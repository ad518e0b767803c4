#pragma once

// ProcessList: the client sessions of this node (MySQL and Thrift connections) and what each is
// running, for MySQL's SHOW PROCESSLIST, KILL [QUERY | CONNECTION] and CONNECTION_ID(), and for
// stopping a request whose client went away (issue 13; resources/docs/security.md "time
// limits"). A session registers when its connection opens and gets an id, unique on this node
// across both protocols (the MySQL handshake's connection id). For every command it runs it
// takes a fresh CancelToken, which KILL, a disconnect watcher or shutdown cancel.
//
// Owned by the Database (Database::processes()); a Registration is owned by its connection and
// used from that connection's thread, while list(), kill() and cancelAll() come from any thread.
// One mutex guards every entry.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sql/cancel_token.h"

namespace troupe::sql {

class ProcessList {
public:
    // One session as SHOW PROCESSLIST shows it.
    struct Process {
        std::uint64_t id = 0;
        std::string user;
        std::string host;
        std::string db;
        std::string command;                         // "Sleep", "Query", "Execute", "Connect"
        std::chrono::steady_clock::time_point since; // of the current command (or idle time)
        std::string info;                            // the running statement's text, or empty
    };

    // A session's entry, removed when this is destroyed. Its methods are for the connection's
    // own thread.
    class Registration {
    public:
        ~Registration();
        Registration(const Registration&) = delete;
        Registration& operator=(const Registration&) = delete;

        std::uint64_t id() const { return m_id; }
        void setUser(std::string user);
        void setDb(std::string db);
        // The session starts a command: shown with `info` (the first 1,000 bytes) until end().
        // Returns the command's token, already cancelled when the connection was killed or its
        // client has gone (see clientGone).
        std::shared_ptr<CancelToken> begin(std::string_view command, std::string_view info);
        void end();
        // The client went away (any thread, e.g. a disconnect watcher): the running command, and
        // any the connection would still start, are cancelled.
        void clientGone();

    private:
        friend class ProcessList;
        Registration(ProcessList& list, std::uint64_t id) : m_list(list), m_id(id) {}
        ProcessList& m_list;
        std::uint64_t m_id;
    };

    // Registers a session connected from `host` ("127.0.0.1:5000"). `close` shuts its connection
    // down (KILL CONNECTION): it is called with the list's mutex held, on any thread, and only
    // while the Registration lives.
    std::unique_ptr<Registration> add(std::string host, std::function<void()> close);

    // Every session, ordered by id.
    std::vector<Process> list() const;

    // KILL QUERY (`connection` false: the running statement stops with 1317) or KILL [CONNECTION]
    // (it stops and the connection is closed) of session `id`, asked by `user`. A user may kill
    // their own sessions; `admin` may kill anyone's. NotFound: no such session; NotPermitted:
    // someone else's. An empty `user` is the node itself.
    Status kill(std::uint64_t id, bool connection, const std::string& user, bool admin);

    // Cancels every running command with `reason` (shutdown). Any thread.
    void cancelAll(CancelToken::Reason reason);

private:
    struct Entry {
        Process process;
        std::function<void()> close;
        std::shared_ptr<CancelToken> token; // of the running command; null when idle
        CancelToken::Reason gone = CancelToken::Reason::None; // sticky: killed or client gone
    };
    void remove(std::uint64_t id);
    Entry* find(std::uint64_t id); // m_mutex held

    mutable std::mutex m_mutex; // guards m_entries, m_nextId
    std::map<std::uint64_t, Entry> m_entries;
    std::uint64_t m_nextId = 0;
};

} // namespace troupe::sql
