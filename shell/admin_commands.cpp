#include "admin_commands.h"

#include <cctype>
#include <cstdio>

namespace troupe::shell {

namespace {

// A cursor over one command line: words, quoted strings and single characters.
class Words {
public:
    explicit Words(std::string_view text) : m_text(text) {}

    void skipSpace() {
        while (m_pos < m_text.size() && std::isspace(static_cast<unsigned char>(m_text[m_pos])))
            ++m_pos;
    }
    bool atEnd() {
        skipSpace();
        return m_pos >= m_text.size();
    }
    // A run of letters, digits, _, $, - and . (types and bare actor names).
    std::string word() {
        skipSpace();
        const std::size_t start = m_pos;
        while (m_pos < m_text.size() && isWordChar(m_text[m_pos]))
            ++m_pos;
        return std::string(m_text.substr(start, m_pos - start));
    }
    // The next word, lower-cased.
    std::string keyword() {
        std::string w = word();
        for (char& c : w)
            c = char(std::tolower(static_cast<unsigned char>(c)));
        return w;
    }
    bool take(char c) {
        skipSpace();
        if (m_pos < m_text.size() && m_text[m_pos] == c) {
            ++m_pos;
            return true;
        }
        return false;
    }
    // '...' or "..." with doubled quotes inside; nullopt when there is none or it is unclosed.
    std::optional<std::string> quoted() {
        skipSpace();
        if (m_pos >= m_text.size() || (m_text[m_pos] != '\'' && m_text[m_pos] != '"'))
            return std::nullopt;
        const char q = m_text[m_pos++];
        std::string out;
        while (m_pos < m_text.size()) {
            const char c = m_text[m_pos++];
            if (c != q) {
                out += c;
            } else if (m_pos < m_text.size() && m_text[m_pos] == q) {
                out += q;
                ++m_pos;
            } else {
                return out;
            }
        }
        return std::nullopt;
    }

    static bool isWordChar(char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$' ||
               c == '-' || c == '.';
    }

private:
    std::string_view m_text;
    std::size_t m_pos = 0;
};

Status usage(const char* form) {
    return Status(ErrorCode::InvalidArgument, std::string("usage: ") + form);
}

// `like 'prefix%'` if present: the prefix; an error for any other pattern.
Result<std::string> likePrefix(Words& w, const char* form) {
    if (w.atEnd())
        return std::string();
    if (w.keyword() != "like")
        return usage(form);
    auto pattern = w.quoted();
    if (!pattern || pattern->empty() || pattern->find('%') != pattern->size() - 1)
        return Status(ErrorCode::InvalidArgument, "like takes a prefix: 'text%' (one %, last)");
    pattern->pop_back();
    return *pattern;
}

client::QueryResult table(std::vector<std::string> columns) {
    client::QueryResult r;
    r.isRead = true;
    r.columns = std::move(columns);
    return r;
}

client::Value text(const std::string& s) {
    return s;
}

client::Value integer(std::int64_t i) {
    return i;
}

} // namespace

std::optional<Result<AdminCommand>> parseAdminCommand(std::string_view line) {
    while (!line.empty() &&
           (std::isspace(static_cast<unsigned char>(line.back())) || line.back() == ';'))
        line.remove_suffix(1);
    Words w(line);
    if (w.keyword() != "show")
        return std::nullopt;
    const std::string what = w.keyword();
    AdminCommand cmd;
    if (what == "cluster") {
        if (!w.atEnd())
            return Result<AdminCommand>(usage("show cluster"));
        cmd.kind = AdminCommand::Kind::Cluster;
        return Result<AdminCommand>(cmd);
    }
    if (what == "metrics") {
        const char* form = "show metrics [like 'prefix%']";
        auto prefix = likePrefix(w, form);
        if (!prefix)
            return Result<AdminCommand>(prefix.status());
        if (!w.atEnd())
            return Result<AdminCommand>(usage(form));
        cmd.kind = AdminCommand::Kind::Metrics;
        cmd.prefix = *prefix;
        return Result<AdminCommand>(cmd);
    }
    if (what == "actors") {
        const char* form = "show actors <type> [like 'prefix%']";
        cmd.kind = AdminCommand::Kind::Actors;
        cmd.type = w.word();
        if (cmd.type.empty())
            return Result<AdminCommand>(usage(form));
        auto prefix = likePrefix(w, form);
        if (!prefix)
            return Result<AdminCommand>(prefix.status());
        if (!w.atEnd())
            return Result<AdminCommand>(usage(form));
        cmd.prefix = *prefix;
        return Result<AdminCommand>(cmd);
    }
    if (what == "actor") {
        const char* form = "show actor <type>(<name>)";
        cmd.kind = AdminCommand::Kind::Actor;
        cmd.type = w.word();
        if (cmd.type.empty() || !w.take('('))
            return Result<AdminCommand>(usage(form));
        auto name = w.quoted();
        cmd.name = name ? *name : w.word();
        if (cmd.name.empty() || !w.take(')') || !w.atEnd())
            return Result<AdminCommand>(usage(form));
        return Result<AdminCommand>(cmd);
    }
    if (what == "verify") {
        if (!w.atEnd())
            return Result<AdminCommand>(usage("show verify"));
        cmd.kind = AdminCommand::Kind::Verify;
        return Result<AdminCommand>(cmd);
    }
    if (what == "schema") {
        if (w.atEnd() || w.keyword() != "history")
            return std::nullopt; // the dialect's SHOW schema
        cmd.kind = AdminCommand::Kind::SchemaHistory;
        cmd.type = w.word();
        if (!w.atEnd())
            return Result<AdminCommand>(usage("show schema history [<type>]"));
        return Result<AdminCommand>(cmd);
    }
    return std::nullopt;
}

std::vector<client::QueryResult> clusterResults(const client::ClusterInfo& info) {
    client::QueryResult node = table({"name", "value"});
    node.rows.push_back({text("node"), text(info.nodeName)});
    node.rows.push_back({text("version"), text(info.version)});
    node.rows.push_back({text("uptime_seconds"), integer(info.uptimeSeconds)});
    for (const auto& [name, port] : info.ports)
        node.rows.push_back({text(name + "_port"), integer(port)});
    client::QueryResult nodes = table({"node", "group", "group_type"});
    for (const auto& [name, group] : info.nodes) {
        std::string type;
        for (const auto& [g, t] : info.groups)
            if (g == group)
                type = t;
        nodes.rows.push_back({text(name), text(group), text(type)});
    }
    client::QueryResult shards =
        table({"shard", "hash_from", "hash_to", "leader", "replicas", "state"});
    for (const client::ShardInfo& s : info.shards) {
        std::string replicas;
        for (const std::string& r : s.replicas)
            replicas += (replicas.empty() ? "" : ",") + r;
        shards.rows.push_back({integer(s.shard), integer(s.hashFrom), integer(s.hashTo),
                               text(s.leader), text(replicas), text(s.state)});
    }
    return {node, nodes, shards};
}

client::QueryResult metricsResult(const std::map<std::string, double>& metrics,
                                  std::string_view prefix) {
    client::QueryResult r = table({"name", "value"});
    for (const auto& [name, value] : metrics) {
        if (name.compare(0, prefix.size(), prefix) != 0)
            continue;
        // Counters and gauges are integers: print them so.
        const bool whole =
            value == double(std::int64_t(value)) && value < 9.0e15 && value > -9.0e15;
        r.rows.push_back({text(name), whole ? integer(std::int64_t(value)) : client::Value(value)});
    }
    return r;
}

client::QueryResult actorsResult(const std::vector<std::string>& names) {
    client::QueryResult r = table({"actor"});
    for (const std::string& n : names)
        r.rows.push_back({text(n)});
    return r;
}

client::QueryResult actorResult(const client::ActorInfo& info) {
    client::QueryResult r = table({"type", "actor", "pages", "size_bytes", "stored_bytes",
                                   "schema_version", "type_schema_version", "shard", "id"});
    r.rows.push_back({text(info.type), text(info.name), integer(info.pages),
                      integer(info.sizeBytes), integer(info.storedBytes),
                      integer(info.schemaVersion), integer(info.typeSchemaVersion),
                      integer(info.shard), integer(info.actorId)});
    return r;
}

client::QueryResult schemaHistoryResult(const client::SchemaInfo& schema) {
    client::QueryResult r = table({"type", "kind", "version", "statement"});
    for (const client::ActorTypeSchema& t : schema.types)
        for (const client::SchemaVersion& v : t.history)
            for (const std::string& s : v.statements)
                r.rows.push_back(
                    {text(t.name), text(t.kv ? "kv" : "actor"), integer(v.version), text(s)});
    return r;
}

std::vector<client::QueryResult> verifyResults(const client::VerifyInfo& info) {
    client::QueryResult dbs = table({"database", "records", "errors", "without_checksum"});
    for (const client::VerifyDbInfo& d : info.dbs)
        dbs.rows.push_back(
            {text(d.name), integer(d.records), integer(d.errors), integer(d.legacy)});
    client::QueryResult summary = table({"clean", "format_version", "errors"});
    summary.rows.push_back(
        {text(info.clean ? "yes" : "NO"), integer(info.formatVersion), integer(info.errorCount)});
    if (info.errors.empty())
        return {dbs, summary};
    client::QueryResult errors = table({"error"});
    for (const std::string& e : info.errors)
        errors.rows.push_back({text(e)});
    return {dbs, summary, errors};
}

Result<std::vector<client::QueryResult>> runAdminCommand(client::Client& client,
                                                         const AdminCommand& command) {
    using Kind = AdminCommand::Kind;
    switch (command.kind) {
    case Kind::Cluster: {
        auto info = client.clusterInfo();
        if (!info)
            return info.status();
        return clusterResults(*info);
    }
    case Kind::Metrics: {
        auto m = client.metrics();
        if (!m)
            return m.status();
        return std::vector<client::QueryResult>{metricsResult(*m, command.prefix)};
    }
    case Kind::Actors: {
        std::vector<std::string> names;
        std::string after;
        for (;;) {
            auto page = client.listActors(command.type, command.prefix, after, 1000);
            if (!page)
                return page.status();
            names.insert(names.end(), page->names.begin(), page->names.end());
            if (!page->nextCursor)
                break;
            after = *page->nextCursor;
        }
        return std::vector<client::QueryResult>{actorsResult(names)};
    }
    case Kind::Actor: {
        auto info = client.actorInfo(command.type, command.name);
        if (!info)
            return info.status();
        return std::vector<client::QueryResult>{actorResult(*info)};
    }
    case Kind::Verify: {
        auto info = client.verify();
        if (!info)
            return info.status();
        return verifyResults(*info);
    }
    case Kind::SchemaHistory: {
        auto schema = client.schemaInfo(command.type);
        if (!schema)
            return schema.status();
        return std::vector<client::QueryResult>{schemaHistoryResult(*schema)};
    }
    }
    return Status(ErrorCode::Internal, "unknown admin command");
}

} // namespace troupe::shell
