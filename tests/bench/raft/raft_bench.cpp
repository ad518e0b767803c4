// troupe-raft-bench: the Raft core's cost in-process — 3 simulated servers, each a MultiRaft
// (daemon/raft/multi_raft.h) over MemoryLogStorage, joined by a zero-delay network: a batch a
// server produces is handed to its destination at once, and the exchange is repeated until no
// server has anything left to send. So the numbers are the core's CPU cost, with no disk, no
// sockets and no serialisation. Not a test; see resources/docs/raft.md ("The simulator").
//
// Measured, for 1 group and for G groups (default 10,000):
//  - committed entries per second: proposals to every group's leader, one batch per tick, for
//    a fixed number of ticks; an entry counts when the leader applies it; wall time of the whole
//    phase (ticks, proposals, message exchange, persistence into memory, apply);
//  - proposal → commit latency, p50/p99, in ticks and in wall time (leader propose() call to the
//    leader's apply of that entry);
//  - idle cost: once every group is quiet, the process CPU time of T ticks of all three servers,
//    per group per second of real time at --tick-ms per tick.
//
//   troupe-raft-bench [--groups 1,10000] [--ticks N] [--batch B] [--idle-ticks T] [--tick-ms M]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "raft/log_storage.h"
#include "raft/multi_raft.h"
#include "raft/node.h"

using namespace troupe;
using namespace troupe::raft;

namespace {

using Clock = std::chrono::steady_clock;

double cpuSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "troupe-raft-bench: %s\n", what.c_str());
    std::exit(1);
}

struct Pending {
    std::uint64_t tick = 0;
    Clock::time_point at;
};

// Records, on the leader's server, when each proposed entry is applied.
class LatencyRecorder final : public MultiRaft::Applier {
public:
    void apply(GroupId group, const Ready& ready) override {
        if (ready.committed.empty())
            return;
        Clock::time_point now = Clock::now();
        for (const Entry& e : ready.committed) {
            if (e.data.empty())
                continue; // a leader's no-op
            auto it = m_pending.find({group, e.index});
            if (it == m_pending.end())
                continue;
            m_ticks.push_back(m_tick - it->second.tick);
            m_wall.push_back(
                std::chrono::duration<double, std::micro>(now - it->second.at).count());
            m_pending.erase(it);
            ++m_committed;
        }
    }
    void proposed(GroupId group, Index index) {
        m_pending[{group, index}] = Pending{m_tick, Clock::now()};
    }
    void setTick(std::uint64_t tick) { m_tick = tick; }
    std::uint64_t committed() const { return m_committed; }
    std::size_t pending() const { return m_pending.size(); }
    std::vector<std::uint64_t>& ticks() { return m_ticks; }
    std::vector<double>& wall() { return m_wall; }

private:
    std::map<std::pair<GroupId, Index>, Pending> m_pending;
    std::vector<std::uint64_t> m_ticks;
    std::vector<double> m_wall;
    std::uint64_t m_tick = 0;
    std::uint64_t m_committed = 0;
};

template <typename T> T percentile(std::vector<T>& v, double p) {
    if (v.empty())
        return T{};
    std::size_t k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

class Cluster {
public:
    explicit Cluster(std::size_t groups) : m_groups(groups) {
        ConfState conf{{1, 2, 3}, {}};
        for (NodeId id = 1; id <= 3; ++id) {
            m_servers.push_back(std::make_unique<MultiRaft>(id, kElectionTicks));
            auto& stores = m_storage.emplace_back();
            for (GroupId g = 1; g <= groups; ++g) {
                auto store = std::make_unique<MemoryLogStorage>();
                Snapshot initial;
                initial.meta.conf = conf;
                if (!store->applySnapshot(initial))
                    die("initial snapshot");
                Config c;
                c.group = g;
                c.electionTicks = kElectionTicks;
                c.heartbeatTicks = 1;
                c.randomSeed = g * 7 + id;
                if (Status st = m_servers.back()->createGroup(c, *store); !st)
                    die(st.toString());
                stores.push_back(std::move(store));
            }
        }
    }

    MultiRaft& server(NodeId id) { return *m_servers[id - 1]; }
    LatencyRecorder& recorder() { return m_recorder; }
    std::uint64_t messages() const { return m_messages; }

    // Exchanges batches until nobody has anything to send (zero network delay).
    void pump() {
        for (;;) {
            bool any = false;
            for (NodeId id = 1; id <= 3; ++id) {
                auto batches = server(id).process(id == 1 ? &m_recorder : nullptr);
                if (!batches)
                    die(batches.status().toString());
                for (const MultiRaft::Batch& b : *batches) {
                    m_messages += b.messages.size();
                    if (!b.messages.empty())
                        any = true;
                    server(b.to).receive(b);
                }
            }
            if (!any)
                return;
        }
    }

    void tick() {
        ++m_tick;
        m_recorder.setTick(m_tick);
        for (auto& s : m_servers)
            s->tick();
        pump();
    }

    void electServerOne() {
        for (GroupId g = 1; g <= m_groups; ++g) {
            if (Status st = server(1).campaign(g); !st)
                die(st.toString());
        }
        pump();
        for (int i = 0; i < 10 * kElectionTicks && !allLed(); ++i)
            tick();
        if (!allLed())
            die("server 1 did not become leader of every group");
    }

    bool allLed() {
        for (GroupId g = 1; g <= m_groups; ++g) {
            const Node* n = server(1).group(g);
            if (n->role() != Role::Leader || n->commitIndex() != n->lastIndex())
                return false;
        }
        return true;
    }

    std::size_t quiet() {
        std::size_t q = 0;
        for (auto& s : m_servers)
            q += s->quietCount();
        return q;
    }

    std::uint64_t tickCount() const { return m_tick; }
    std::size_t groups() const { return m_groups; }

    static constexpr int kElectionTicks = 10;

private:
    std::size_t m_groups;
    std::vector<std::unique_ptr<MultiRaft>> m_servers;
    std::vector<std::vector<std::unique_ptr<MemoryLogStorage>>> m_storage;
    LatencyRecorder m_recorder;
    std::uint64_t m_tick = 0;
    std::uint64_t m_messages = 0;
};

struct Options {
    std::vector<std::size_t> groups{1, 10000};
    std::uint64_t ticks = 0;     // 0: 2000 for one group, 20 for many
    std::uint64_t batch = 0;     // entries per group per tick; 0: 100 for one group, 1 for many
    std::uint64_t idleTicks = 0; // 0: 2000 for one group, 100 for many
    double tickMs = 100;
    std::size_t payload = 100;
};

void runOne(const Options& o, std::size_t groups) {
    std::uint64_t ticks = o.ticks ? o.ticks : (groups == 1 ? 2000 : 20);
    std::uint64_t batch = o.batch ? o.batch : (groups == 1 ? 100 : 1);
    std::uint64_t idleTicks = o.idleTicks ? o.idleTicks : (groups == 1 ? 2000 : 100);

    auto setupStart = Clock::now();
    Cluster cluster(groups);
    cluster.electServerOne();
    double setup = std::chrono::duration<double>(Clock::now() - setupStart).count();

    // Throughput and latency: `batch` proposals per group per tick at the leader.
    std::string payload(o.payload, 'x');
    MultiRaft& leader = cluster.server(1);
    std::uint64_t messagesBefore = cluster.messages();
    double cpu0 = cpuSeconds();
    auto start = Clock::now();
    for (std::uint64_t t = 0; t < ticks; ++t) {
        for (GroupId g = 1; g <= groups; ++g) {
            for (std::uint64_t b = 0; b < batch; ++b) {
                auto index = leader.propose(g, payload);
                if (!index)
                    die(index.status().toString());
                cluster.recorder().proposed(g, *index);
            }
        }
        cluster.pump();
        cluster.tick();
    }
    for (int i = 0; i < 5 && cluster.recorder().pending() > 0; ++i)
        cluster.tick();
    double wall = std::chrono::duration<double>(Clock::now() - start).count();
    double cpu = cpuSeconds() - cpu0;
    std::uint64_t committed = cluster.recorder().committed();
    std::uint64_t messages = cluster.messages() - messagesBefore;

    auto& lt = cluster.recorder().ticks();
    auto& lw = cluster.recorder().wall();
    std::uint64_t t50 = percentile(lt, 0.50), t99 = percentile(lt, 0.99);
    double w50 = percentile(lw, 0.50), w99 = percentile(lw, 0.99);

    std::printf("groups=%zu (3 servers, zero delay), %llu ticks x %llu proposals of %zu bytes per "
                "group per tick; setup+election %.2f s\n",
                groups, static_cast<unsigned long long>(ticks),
                static_cast<unsigned long long>(batch), o.payload, setup);
    // Both rates: wall time is what a user sees, CPU time what the core costs when other
    // processes share the machine.
    std::printf("  committed %llu entries in %.3f s wall (%.3f s CPU): %.0f entries/s wall, "
                "%.0f entries per CPU second; %llu messages (%.1f per entry)\n",
                static_cast<unsigned long long>(committed), wall, cpu,
                static_cast<double>(committed) / wall, static_cast<double>(committed) / cpu,
                static_cast<unsigned long long>(messages),
                static_cast<double>(messages) /
                    static_cast<double>(std::max<std::uint64_t>(committed, 1)));
    std::printf("  proposal->commit latency: p50 %llu ticks / %.1f us wall, p99 %llu ticks / "
                "%.1f us wall (%zu samples)\n",
                static_cast<unsigned long long>(t50), w50, static_cast<unsigned long long>(t99),
                w99, lt.size());

    // Idle: wait until every group is quiet on every server, then measure T ticks.
    int settle = 0;
    while (cluster.quiet() < 3 * groups && settle < 50 * Cluster::kElectionTicks) {
        cluster.tick();
        ++settle;
    }
    std::size_t quiet = cluster.quiet();
    std::uint64_t idleMessagesBefore = cluster.messages();
    double idle0 = cpuSeconds();
    auto idleStart = Clock::now();
    for (std::uint64_t t = 0; t < idleTicks; ++t)
        cluster.tick();
    double idleCpu = cpuSeconds() - idle0;
    double idleWall = std::chrono::duration<double>(Clock::now() - idleStart).count();
    double simulatedSeconds = static_cast<double>(idleTicks) * o.tickMs / 1000.0;
    // Per group per second, all three replicas of the group together.
    double perGroupSecond = idleCpu / static_cast<double>(groups) / simulatedSeconds;
    std::printf("  idle: %zu of %zu replicas quiet after %d ticks; %llu ticks took %.4f s CPU "
                "(%.4f s wall), %llu group messages; = %.3f us CPU per tick for all groups, "
                "%.4f us CPU per idle group (3 replicas) per second at %.0f ms/tick\n",
                quiet, 3 * groups, settle, static_cast<unsigned long long>(idleTicks), idleCpu,
                idleWall, static_cast<unsigned long long>(cluster.messages() - idleMessagesBefore),
                idleCpu / static_cast<double>(idleTicks) * 1e6, perGroupSecond * 1e6, o.tickMs);
}

bool parseList(const char* text, std::vector<std::size_t>& out) {
    out.clear();
    std::string s(text);
    std::size_t pos = 0;
    while (pos <= s.size()) {
        std::size_t comma = s.find(',', pos);
        std::string part =
            s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        char* end = nullptr;
        unsigned long long v = std::strtoull(part.c_str(), &end, 10);
        if (part.empty() || *end || v == 0)
            return false;
        out.push_back(static_cast<std::size_t>(v));
        if (comma == std::string::npos)
            break;
        pos = comma + 1;
    }
    return !out.empty();
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        auto value = [&](std::uint64_t& out) {
            if (i + 1 >= argc)
                die(std::string("missing value for ") + argv[i]);
            out = std::strtoull(argv[++i], nullptr, 10);
        };
        if (!std::strcmp(argv[i], "--groups")) {
            if (i + 1 >= argc || !parseList(argv[++i], o.groups))
                die("--groups takes a list like 1,10000");
        } else if (!std::strcmp(argv[i], "--ticks")) {
            value(o.ticks);
        } else if (!std::strcmp(argv[i], "--batch")) {
            value(o.batch);
        } else if (!std::strcmp(argv[i], "--idle-ticks")) {
            value(o.idleTicks);
        } else if (!std::strcmp(argv[i], "--tick-ms")) {
            std::uint64_t ms = 0;
            value(ms);
            o.tickMs = static_cast<double>(ms);
        } else {
            std::fprintf(stderr, "usage: troupe-raft-bench [--groups 1,10000] [--ticks N] "
                                 "[--batch B] [--idle-ticks T] [--tick-ms M]\n");
            return 2;
        }
    }
#ifndef NDEBUG
    std::printf("note: assertions are on (not a release build); numbers are not representative\n");
#endif
    for (std::size_t g : o.groups)
        runOne(o, g);
    return 0;
}
