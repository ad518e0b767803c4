#include "sql/process_list.h"

namespace troupe::sql {

namespace {

constexpr std::size_t kMaxInfoBytes = 1000;

} // namespace

ProcessList::Registration::~Registration() {
    m_list.remove(m_id);
}

void ProcessList::Registration::setUser(std::string user) {
    std::lock_guard lock(m_list.m_mutex);
    if (Entry* e = m_list.find(m_id))
        e->process.user = std::move(user);
}

void ProcessList::Registration::setDb(std::string db) {
    std::lock_guard lock(m_list.m_mutex);
    if (Entry* e = m_list.find(m_id))
        e->process.db = std::move(db);
}

std::shared_ptr<CancelToken> ProcessList::Registration::begin(std::string_view command,
                                                              std::string_view info) {
    auto token = std::make_shared<CancelToken>();
    std::lock_guard lock(m_list.m_mutex);
    if (Entry* e = m_list.find(m_id)) {
        e->process.command = std::string(command);
        e->process.info = std::string(info.substr(0, kMaxInfoBytes));
        e->process.since = std::chrono::steady_clock::now();
        e->token = token;
        if (e->gone != CancelToken::Reason::None)
            token->cancel(e->gone);
    }
    return token;
}

void ProcessList::Registration::end() {
    std::lock_guard lock(m_list.m_mutex);
    if (Entry* e = m_list.find(m_id)) {
        e->process.command = "Sleep";
        e->process.info.clear();
        e->process.since = std::chrono::steady_clock::now();
        e->token.reset();
    }
}

void ProcessList::Registration::clientGone() {
    std::lock_guard lock(m_list.m_mutex);
    if (Entry* e = m_list.find(m_id)) {
        if (e->gone == CancelToken::Reason::None)
            e->gone = CancelToken::Reason::Disconnected;
        if (e->token)
            e->token->cancel(CancelToken::Reason::Disconnected);
    }
}

std::unique_ptr<ProcessList::Registration> ProcessList::add(std::string host,
                                                            std::function<void()> close) {
    std::lock_guard lock(m_mutex);
    const std::uint64_t id = ++m_nextId;
    Entry& e = m_entries[id];
    e.process.id = id;
    e.process.host = std::move(host);
    e.process.command = "Connect";
    e.process.since = std::chrono::steady_clock::now();
    e.close = std::move(close);
    return std::unique_ptr<Registration>(new Registration(*this, id));
}

void ProcessList::remove(std::uint64_t id) {
    std::lock_guard lock(m_mutex);
    m_entries.erase(id);
}

ProcessList::Entry* ProcessList::find(std::uint64_t id) {
    auto it = m_entries.find(id);
    return it == m_entries.end() ? nullptr : &it->second;
}

std::vector<ProcessList::Process> ProcessList::list() const {
    std::lock_guard lock(m_mutex);
    std::vector<Process> out;
    out.reserve(m_entries.size());
    for (const auto& [id, e] : m_entries)
        out.push_back(e.process);
    return out;
}

Status ProcessList::kill(std::uint64_t id, bool connection, const std::string& user, bool admin) {
    std::lock_guard lock(m_mutex);
    Entry* e = find(id);
    if (!e)
        return Status(ErrorCode::NotFound, "Unknown thread id: " + std::to_string(id));
    if (!admin && !user.empty() && e->process.user != user)
        return Status(ErrorCode::NotPermitted, "You are not owner of thread " + std::to_string(id));
    const auto reason =
        connection ? CancelToken::Reason::ConnectionKilled : CancelToken::Reason::Killed;
    if (e->token)
        e->token->cancel(reason);
    if (connection) {
        e->gone = reason;
        if (e->close)
            e->close();
    }
    return Status::ok();
}

void ProcessList::cancelAll(CancelToken::Reason reason) {
    std::lock_guard lock(m_mutex);
    for (auto& [id, e] : m_entries) {
        e.gone = reason;
        if (e.token)
            e.token->cancel(reason);
    }
}

} // namespace troupe::sql
