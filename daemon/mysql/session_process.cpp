// The MySQL process commands of a Session (issue 13; resources/docs/mysql.md "Processes, KILL
// and time limits"): KILL [QUERY | CONNECTION] id, SHOW [FULL] PROCESSLIST and
// SET [SESSION] max_execution_time = ms, over the node's ProcessList. CONNECTION_ID() and
// @@max_execution_time are answered with the other probes (session.cpp).

#include <cctype>
#include <charconv>
#include <optional>

#include "mysql/session.h"
#include "sql/access.h"

namespace troupe::mysql {

namespace {

constexpr MysqlError kErrParse{1064, "42000"}; // ER_PARSE_ERROR
constexpr std::size_t kShortInfo = 100;        // SHOW PROCESSLIST without FULL (as MySQL)
constexpr std::uint64_t kMaxExecutionTime = 4294967295ull; // MySQL's maximum

std::string_view skipSpaces(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';'))
        s.remove_suffix(1);
    return s;
}

bool consumeWord(std::string_view& s, std::string_view word) {
    if (s.substr(0, word.size()) != word)
        return false;
    const std::string_view rest = s.substr(word.size());
    if (!rest.empty() && !std::isspace(static_cast<unsigned char>(rest.front())))
        return false;
    s = skipSpaces(rest);
    return true;
}

// A whole unsigned decimal number.
std::optional<std::uint64_t> number(std::string_view s) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty())
        return std::nullopt;
    return value;
}

} // namespace

bool Session::isAdmin() const {
    if (m_sql.user.empty())
        return true;
    const auto access = m_db.currentAccess();
    return access && access->isAdmin(m_sql.user);
}

Response Session::processCommand(const std::string& lower, bool& handled) {
    handled = true;
    std::string_view s = skipSpaces(lower);
    if (consumeWord(s, "kill"))
        return kill(s);
    if (consumeWord(s, "show")) {
        const bool full = consumeWord(s, "full");
        if (s == "processlist")
            return showProcesslist(full);
    } else if (s.substr(0, 4) == "set " && lower.find("max_execution_time") != std::string::npos) {
        return setMaxExecutionTime(lower);
    }
    handled = false;
    return Response::ok();
}

// KILL [CONNECTION | QUERY] id. MySQL's errors: 1094 for an unknown id, 1095 for someone else's
// session without admin rights.
Response Session::kill(std::string_view args) {
    bool connection = true;
    if (consumeWord(args, "query"))
        connection = false;
    else
        consumeWord(args, "connection");
    const auto id = number(args);
    if (!id)
        return Response::failure(kErrParse, "KILL [CONNECTION | QUERY] takes a connection id "
                                            "(SHOW PROCESSLIST lists them)");
    const Status killed = m_db.processes().kill(*id, connection, m_sql.user, isAdmin());
    if (killed.code() == ErrorCode::NotFound)
        return Response::failure(kErrNoSuchThread, killed.message());
    if (killed.code() == ErrorCode::NotPermitted)
        return Response::failure(kErrKillDenied, killed.message());
    if (!killed.isOk())
        return Response::failure(killed);
    return Response::ok();
}

// MySQL's columns. A user sees their own sessions; an admin sees every session (MySQL's
// PROCESS privilege), the Thrift ones too.
Response Session::showProcesslist(bool full) {
    sql::ExecResult r;
    r.columns = {"Id", "User", "Host", "db", "Command", "Time", "State", "Info"};
    const bool all = isAdmin();
    const auto now = std::chrono::steady_clock::now();
    for (sql::ProcessList::Process& p : m_db.processes().list()) {
        if (!all && p.user != m_sql.user)
            continue;
        const bool busy = p.command != "Sleep";
        std::string info = std::move(p.info);
        if (!full && info.size() > kShortInfo)
            info.resize(kShortInfo);
        const auto seconds =
            std::chrono::duration_cast<std::chrono::seconds>(now - p.since).count();
        r.rows.push_back({std::int64_t(p.id), std::move(p.user), std::move(p.host),
                          p.db.empty() ? sql::Value() : sql::Value(std::move(p.db)),
                          std::move(p.command), std::int64_t(seconds),
                          sql::Value(std::string(busy ? "executing" : "")),
                          info.empty() ? sql::Value() : sql::Value(std::move(info))});
    }
    return Response::rows(std::move(r));
}

// SET [SESSION | LOCAL] max_execution_time = N, also as @@session.max_execution_time: this
// connection's time limit in milliseconds, 0 (or DEFAULT) for the server's (sql.statement_
// timeout). Only an admin's limit may exceed the server's; other users' is capped to it.
Response Session::setMaxExecutionTime(const std::string& lower) {
    const std::size_t at = lower.find("max_execution_time");
    const std::string_view before = std::string_view(lower).substr(0, at);
    if (before.find("global") != std::string_view::npos ||
        before.find("persist") != std::string_view::npos)
        return Response::failure(kErrWrongArguments,
                                 "the server-wide limit is sql.statement_timeout in troupe.conf; "
                                 "SET SESSION max_execution_time = ms sets this connection's");
    std::string_view value = skipSpaces(std::string_view(lower).substr(at + 18));
    if (value.substr(0, 2) == ":=")
        value.remove_prefix(2);
    else if (!value.empty() && value.front() == '=')
        value.remove_prefix(1);
    else
        return Response::failure(kErrParse, "SET max_execution_time = milliseconds");
    value = skipSpaces(value.substr(0, value.find(',')));
    const auto ms = value == "default" ? std::optional<std::uint64_t>(0) : number(value);
    if (!ms || *ms > kMaxExecutionTime)
        return Response::failure(kErrWrongArguments,
                                 "max_execution_time takes milliseconds from 0 to 4294967295 (0: "
                                 "the server's sql.statement_timeout)");
    m_sql.timeLimit = std::chrono::milliseconds(*ms);
    return Response::ok();
}

} // namespace troupe::mysql
