#include "register_machine.h"

#include <algorithm>
#include <charconv>

#include "raft/node.h"
#include <sstream>

namespace troupe::raft::sim {

std::string encodeWrite(const Write& write) {
    return std::to_string(write.proposal) + ":" + write.key + "=" + write.value;
}

Result<std::optional<Write>> decodeWrite(const std::string& data) {
    if (data.empty())
        return std::optional<Write>();
    auto colon = data.find(':');
    auto equals = data.find('=', colon == std::string::npos ? 0 : colon);
    if (colon == std::string::npos || equals == std::string::npos || colon == 0)
        return Status(ErrorCode::Corruption, "not a register write: '" + data + "'");
    Write write;
    auto [end, error] = std::from_chars(data.data(), data.data() + colon, write.proposal);
    if (error != std::errc() || end != data.data() + colon)
        return Status(ErrorCode::Corruption, "bad proposal id in '" + data + "'");
    write.key = data.substr(colon + 1, equals - colon - 1);
    write.value = data.substr(equals + 1);
    return std::optional<Write>(std::move(write));
}

// Snapshot data: "<applied term>\n<id> <id> ...\n" then one "key=value" line per key.
std::string RegisterMachine::encode() const {
    std::string out = std::to_string(m_appliedTerm) + "\n";
    for (std::uint64_t id : m_proposals)
        out += std::to_string(id) + " ";
    out += "\n";
    for (const auto& [key, value] : m_values)
        out += key + "=" + value + "\n";
    return out;
}

Status RegisterMachine::restore(const Snapshot& snapshot) {
    m_applied = snapshot.meta.index;
    m_appliedTerm = snapshot.meta.term;
    m_conf = snapshot.meta.conf;
    m_values.clear();
    m_proposals.clear();
    if (snapshot.data.empty())
        return Status::ok();
    std::istringstream in(snapshot.data);
    std::string line;
    std::getline(in, line); // the term is in the meta too
    std::getline(in, line);
    std::istringstream ids(line);
    std::uint64_t id = 0;
    while (ids >> id)
        m_proposals.insert(id);
    while (std::getline(in, line)) {
        auto equals = line.find('=');
        if (equals == std::string::npos)
            return Status(ErrorCode::Corruption, "bad snapshot line '" + line + "'");
        m_values[line.substr(0, equals)] = line.substr(equals + 1);
    }
    return Status::ok();
}

Result<std::optional<Write>> RegisterMachine::apply(const Entry& entry) {
    if (entry.index != m_applied + 1)
        return Status(ErrorCode::Internal, "applied index " + std::to_string(entry.index) +
                                               " after " + std::to_string(m_applied));
    std::optional<Write> write;
    if (entry.type == EntryType::ConfChange) {
        auto change = decodeConfChange(entry.data);
        if (!change)
            return change.status();
        applyConfChange(*change);
    }
    if (entry.type == EntryType::Normal) {
        auto decoded = decodeWrite(entry.data);
        if (!decoded)
            return decoded.status();
        write = std::move(*decoded);
        if (write) {
            if (!m_proposals.insert(write->proposal).second)
                return Status(ErrorCode::Internal, "proposal " + std::to_string(write->proposal) +
                                                       " applied twice (again at index " +
                                                       std::to_string(entry.index) + ")");
            m_values[write->key] = write->value;
        }
    }
    m_applied = entry.index;
    m_appliedTerm = entry.term;
    return write;
}

void RegisterMachine::applyConfChange(const ConfChange& change) {
    auto erase = [](std::vector<NodeId>& v, NodeId id) { std::erase(v, id); };
    switch (change.kind) {
    case ConfChange::Kind::AddLearner:
        if (std::find(m_conf.learners.begin(), m_conf.learners.end(), change.node) ==
            m_conf.learners.end())
            m_conf.learners.push_back(change.node);
        break;
    case ConfChange::Kind::PromoteLearner:
        erase(m_conf.learners, change.node);
        m_conf.voters.push_back(change.node);
        break;
    case ConfChange::Kind::RemoveNode:
        erase(m_conf.learners, change.node);
        erase(m_conf.voters, change.node);
        break;
    }
    std::sort(m_conf.voters.begin(), m_conf.voters.end());
    std::sort(m_conf.learners.begin(), m_conf.learners.end());
}

std::string RegisterMachine::get(const std::string& key) const {
    auto it = m_values.find(key);
    return it == m_values.end() ? std::string() : it->second;
}

} // namespace troupe::raft::sim
