#include "scenario_runner.h"

#include <sstream>
#include <stdexcept>

namespace troupe::raft::test {

namespace {

std::string join(const std::vector<NodeId>& ids) {
    std::string out;
    for (NodeId id : ids)
        out += (out.empty() ? "" : ",") + std::to_string(id);
    return out;
}

NodeId parseId(const std::string& s) {
    return std::stoull(s);
}

std::vector<NodeId> parseIds(const std::vector<std::string>& args, std::size_t from) {
    std::vector<NodeId> ids;
    for (std::size_t i = from; i < args.size(); ++i)
        if (args[i].find('=') == std::string::npos && args[i] != "|")
            ids.push_back(parseId(args[i]));
    return ids;
}

// key=value options after the positional arguments.
std::string option(const std::vector<std::string>& args, const std::string& key,
                   const std::string& fallback = "") {
    for (const std::string& a : args)
        if (a.rfind(key + "=", 0) == 0)
            return a.substr(key.size() + 1);
    return fallback;
}

std::vector<NodeId> parseList(const std::string& s) {
    std::vector<NodeId> ids;
    std::stringstream in(s);
    std::string part;
    while (std::getline(in, part, ','))
        if (!part.empty())
            ids.push_back(parseId(part));
    return ids;
}

std::string statusText(const Status& s) {
    return s.isOk() ? "ok" : s.toString();
}

} // namespace

std::string ScenarioRunner::formatEntry(const Entry& e) {
    std::string out = std::to_string(e.index) + "/" + std::to_string(e.term);
    if (e.type == EntryType::ConfChange) {
        auto cc = decodeConfChange(e.data);
        if (!cc)
            return out + ":conf(?)";
        const char* kind = cc->kind == ConfChange::Kind::AddLearner       ? "add-learner"
                           : cc->kind == ConfChange::Kind::PromoteLearner ? "promote"
                                                                          : "remove";
        return out + ":conf(" + kind + " " + std::to_string(cc->node) + ")";
    }
    if (!e.data.empty())
        out += ":" + e.data;
    return out;
}

std::string ScenarioRunner::formatMessage(const Message& m) {
    std::ostringstream o;
    o << m.from << "->" << m.to << " " << messageTypeName(m.type) << " t" << m.term;
    switch (m.type) {
    case MessageType::PreVote:
    case MessageType::Vote:
        o << " last=" << m.index << "/" << m.logTerm;
        break;
    case MessageType::Append: {
        o << " prev=" << m.index << "/" << m.logTerm << " commit=" << m.commit << " [";
        for (std::size_t i = 0; i < m.entries.size(); ++i)
            o << (i ? " " : "") << formatEntry(m.entries[i]);
        o << "]";
        break;
    }
    case MessageType::AppendResponse:
        o << " index=" << m.index << " commit=" << m.commit;
        if (m.reject)
            o << " hint=" << m.rejectHint << "/" << m.rejectTerm;
        break;
    case MessageType::Heartbeat:
    case MessageType::HeartbeatResponse:
        o << " commit=" << m.commit;
        break;
    case MessageType::SnapshotChunk:
        if (m.snapshot)
            o << " snap=" << m.snapshot->index << "/" << m.snapshot->term;
        o << " off=" << m.offset << " len=" << m.data.size() << (m.last ? " last" : "");
        break;
    case MessageType::SnapshotResponse:
    case MessageType::ReadIndexResponse:
        o << " index=" << m.index;
        break;
    default:
        break;
    }
    if (m.reject)
        o << " reject";
    if (!m.context.empty())
        o << " ctx=" << m.context;
    if (m.quiesce)
        o << " quiesce";
    return o.str();
}

std::vector<std::string> ScenarioRunner::run(const std::vector<std::string>& commands) {
    std::vector<std::string> out;
    for (const std::string& line : commands) {
        std::istringstream in(line);
        std::vector<std::string> args;
        std::string word;
        while (in >> word)
            args.push_back(word);
        if (args.empty() || args[0][0] == '#')
            continue;
        try {
            command(args, out);
        } catch (const std::exception& e) {
            out.push_back("error: " + std::string(e.what()));
        }
    }
    if (out.empty())
        out.push_back("ok");
    return out;
}

void ScenarioRunner::deliverAll(bool print, std::vector<std::string>& out) {
    m_cluster.setObserver([&](const Message& m) {
        if (print)
            out.push_back(formatMessage(m));
    });
    m_cluster.setDropObserver([&](const Message& m) {
        if (print)
            out.push_back(formatMessage(m) + " (dropped)");
    });
    m_cluster.stabilize();
    m_cluster.setObserver({});
    m_cluster.setDropObserver({});
}

void ScenarioRunner::status(const std::vector<NodeId>& wanted, std::vector<std::string>& out) {
    for (NodeId id : wanted.empty() ? m_cluster.ids() : wanted) {
        if (!m_cluster.up(id)) {
            out.push_back(std::to_string(id) + ": down");
            continue;
        }
        Node& n = m_cluster.node(id);
        std::ostringstream o;
        o << id << ": " << roleName(n.role()) << " term=" << n.term() << " lead=" << n.leader()
          << " commit=" << n.commitIndex() << " last=" << n.lastIndex()
          << " applied=" << m_cluster.peer(id).appliedIndex << " voters=" << join(n.conf().voters);
        if (!n.conf().learners.empty())
            o << " learners=" << join(n.conf().learners);
        if (n.quiescent())
            o << " quiet";
        out.push_back(o.str());
    }
}

void ScenarioRunner::command(const std::vector<std::string>& args, std::vector<std::string>& out) {
    const std::string& cmd = args[0];
    auto arg = [&](std::size_t i) -> const std::string& {
        if (i >= args.size())
            throw std::runtime_error(cmd + ": missing argument " + std::to_string(i));
        return args[i];
    };
    if (cmd == "add-nodes") {
        Config cfg = baseConfig();
        cfg.preVote = option(args, "prevote", "true") == "true";
        cfg.checkQuorum = option(args, "checkquorum", "true") == "true";
        cfg.leaseReads = option(args, "lease", "true") == "true";
        cfg.quiesce = option(args, "quiesce", "false") == "true";
        cfg.snapshotChunkBytes = std::stoull(option(args, "chunk", "1048576"));
        cfg.randomSeed = std::stoull(option(args, "seed", "42"));
        cfg.maxAppendBytes = std::stoull(option(args, "maxappend", "1048576"));
        m_cluster.addNodes(parseIds(args, 1), parseList(option(args, "voters")),
                           parseList(option(args, "learners")), &cfg);
    } else if (cmd == "campaign") {
        m_cluster.node(parseId(arg(1))).campaign();
        m_cluster.processAll();
    } else if (cmd == "tick") {
        // tick <id> [n]: ticks without delivering.
        int n = args.size() > 2 ? std::stoi(args[2]) : 1;
        m_cluster.tick(parseId(arg(1)), n);
    } else if (cmd == "tick-all") {
        m_cluster.tickAll(args.size() > 1 ? std::stoi(args[1]) : 1);
    } else if (cmd == "run-ticks") {
        // run-ticks n: n rounds of tick-all then silent delivery.
        int n = std::stoi(arg(1));
        for (int i = 0; i < n; ++i) {
            m_cluster.tickAll();
            deliverAll(false, out);
        }
    } else if (cmd == "stabilize") {
        deliverAll(true, out);
    } else if (cmd == "settle") {
        deliverAll(false, out);
    } else if (cmd == "deliver") {
        // deliver [from=X] [to=Y] [type=T]: one pass over the queue.
        std::string from = option(args, "from"), to = option(args, "to"),
                    type = option(args, "type");
        m_cluster.setObserver([&](const Message& m) { out.push_back(formatMessage(m)); });
        m_cluster.setDropObserver(
            [&](const Message& m) { out.push_back(formatMessage(m) + " (dropped)"); });
        m_cluster.deliver([&](const Message& m) {
            return (from.empty() || m.from == parseId(from)) &&
                   (to.empty() || m.to == parseId(to)) &&
                   (type.empty() || type == messageTypeName(m.type));
        });
        m_cluster.setObserver({});
        m_cluster.setDropObserver({});
    } else if (cmd == "drop") {
        for (const Message& m : m_cluster.inflight())
            out.push_back(formatMessage(m) + " (dropped)");
        m_cluster.inflight().clear();
    } else if (cmd == "propose") {
        auto r = m_cluster.node(parseId(arg(1))).propose(arg(2));
        out.push_back(r ? "index " + std::to_string(*r) : r.status().toString());
        m_cluster.processAll();
    } else if (cmd == "conf-change") {
        // conf-change <leader> add-learner|promote|remove <node>
        ConfChange cc;
        const std::string& kind = arg(2);
        cc.kind = kind == "add-learner" ? ConfChange::Kind::AddLearner
                  : kind == "promote"   ? ConfChange::Kind::PromoteLearner
                                        : ConfChange::Kind::RemoveNode;
        cc.node = parseId(arg(3));
        auto r = m_cluster.node(parseId(arg(1))).changeMembership(cc);
        out.push_back(r ? "index " + std::to_string(*r) : r.status().toString());
        m_cluster.processAll();
    } else if (cmd == "transfer") {
        out.push_back(
            statusText(m_cluster.node(parseId(arg(1))).transferLeadership(parseId(arg(2)))));
        m_cluster.processAll();
    } else if (cmd == "read-index") {
        out.push_back(statusText(m_cluster.node(parseId(arg(1))).readIndex(arg(2))));
        m_cluster.processAll();
    } else if (cmd == "reads") {
        NodeId id = parseId(arg(1));
        for (const ReadState& rs : m_cluster.peer(id).reads)
            out.push_back(std::to_string(id) + ": read " + rs.context + " at " +
                          std::to_string(rs.index));
        m_cluster.peer(id).reads.clear();
    } else if (cmd == "compact") {
        m_cluster.compact(parseId(arg(1)), std::stoull(arg(2)));
    } else if (cmd == "partition") {
        // partition 1 2 | 3
        std::vector<std::vector<NodeId>> sides(1);
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (args[i] == "|")
                sides.emplace_back();
            else
                sides.back().push_back(parseId(args[i]));
        }
        m_cluster.partition(sides);
    } else if (cmd == "isolate") {
        m_cluster.isolate(parseId(arg(1)));
    } else if (cmd == "cut") {
        m_cluster.cut(parseId(arg(1)), parseId(arg(2)));
    } else if (cmd == "heal") {
        m_cluster.heal();
    } else if (cmd == "crash") {
        m_cluster.crash(parseId(arg(1)));
    } else if (cmd == "restart") {
        m_cluster.restart(parseId(arg(1)));
    } else if (cmd == "status") {
        status(parseIds(args, 1), out);
    } else if (cmd == "log") {
        NodeId id = parseId(arg(1));
        auto& storage = *m_cluster.peer(id).storage;
        std::string line = std::to_string(id) +
                           ": snap=" + std::to_string(storage.snapshotMeta().index) + "/" +
                           std::to_string(storage.snapshotMeta().term);
        auto ents = storage.entries(storage.firstIndex(), storage.lastIndex() + 1, ~0ull);
        if (ents)
            for (const Entry& e : *ents)
                line += " " + formatEntry(e);
        out.push_back(line);
    } else if (cmd == "applied") {
        NodeId id = parseId(arg(1));
        std::string line = std::to_string(id) + ":";
        for (const Entry& e : m_cluster.peer(id).applied)
            if (!e.data.empty())
                line += " " + formatEntry(e);
        out.push_back(line);
    } else {
        throw std::runtime_error("unknown command " + cmd);
    }
}

} // namespace troupe::raft::test
