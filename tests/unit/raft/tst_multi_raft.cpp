// MultiRaft: many groups per server, one batch per destination per tick, idle groups quiet and
// untouched by ticks, a silent leader server waking its followers. Three MultiRafts in-process
// over memory storage; batches are delivered by hand.

#include <QTest>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include "raft/multi_raft.h"

using namespace troupe;
using namespace troupe::raft;

namespace {

class RecordingApplier : public MultiRaft::Applier {
public:
    void apply(GroupId group, const Ready& ready) override {
        for (const Entry& e : ready.committed)
            if (e.type == EntryType::Normal && !e.data.empty())
                applied[group].push_back(e.data);
    }
    std::map<GroupId, std::vector<std::string>> applied;
};

class Servers {
public:
    Servers(int groups, std::vector<NodeId> ids = {1, 2, 3}) : m_ids(ids) {
        for (NodeId id : ids) {
            m_servers[id] = std::make_unique<MultiRaft>(id, 10);
            for (int g = 1; g <= groups; ++g) {
                auto& storage = m_storage[{id, GroupId(g)}];
                storage = std::make_unique<MemoryLogStorage>();
                Snapshot initial;
                initial.meta.conf.voters = ids;
                (void)storage->applySnapshot(initial);
                Config c;
                c.group = GroupId(g);
                c.randomSeed = 7;
                if (!m_servers[id]->createGroup(c, *storage).isOk())
                    qFatal("createGroup");
            }
        }
    }

    MultiRaft& server(NodeId id) { return *m_servers.at(id); }

    // One round: optionally tick, process every live server, deliver. Returns messages sent.
    int round(bool tick) {
        int sent = 0;
        std::vector<MultiRaft::Batch> wire;
        for (NodeId id : m_ids) {
            if (m_down.count(id))
                continue;
            if (tick)
                m_servers[id]->tick();
            auto batches = m_servers[id]->process(&m_appliers[id]);
            if (!batches.isOk())
                qFatal("process failed");
            std::set<NodeId> destinations;
            for (auto& b : *batches) {
                if (!destinations.insert(b.to).second)
                    m_duplicateBatches++;
                sent += static_cast<int>(b.messages.size());
                maxBatchesPerProcess =
                    std::max<int>(maxBatchesPerProcess, static_cast<int>(batches->size()));
                wire.push_back(std::move(b));
            }
        }
        for (auto& b : wire)
            if (!m_down.count(b.to) && !m_down.count(b.from))
                m_servers[b.to]->receive(b);
        return sent;
    }
    void settle() {
        for (int i = 0; i < 200; ++i)
            if (round(false) == 0)
                return;
        qFatal("did not settle");
    }
    void ticks(int n) {
        for (int i = 0; i < n; ++i) {
            round(true);
            settle();
        }
    }
    // The leader of the group as seen by the server that claims it with the highest term.
    NodeId leader(GroupId g) {
        NodeId best = kNoNode;
        Term term = 0;
        for (NodeId id : m_ids) {
            if (m_down.count(id))
                continue;
            const Node* n = m_servers[id]->group(g);
            if (n->role() == Role::Leader && n->term() >= term) {
                best = id;
                term = n->term();
            }
        }
        return best;
    }
    void down(NodeId id) { m_down.insert(id); }
    // Restarts a server from its storage (volatile state lost, persisted state kept).
    void restart(NodeId id, int groups) {
        m_servers[id] = std::make_unique<MultiRaft>(id, 10);
        for (int g = 1; g <= groups; ++g) {
            Config c;
            c.group = GroupId(g);
            c.randomSeed = 11;
            if (!m_servers[id]->createGroup(c, *m_storage[{id, GroupId(g)}]).isOk())
                qFatal("createGroup");
        }
        m_down.erase(id);
    }
    RecordingApplier& applier(NodeId id) { return m_appliers[id]; }
    int duplicateBatches() const { return m_duplicateBatches; }
    int maxBatchesPerProcess = 0;

private:
    std::vector<NodeId> m_ids;
    std::map<NodeId, std::unique_ptr<MultiRaft>> m_servers;
    std::map<std::pair<NodeId, GroupId>, std::unique_ptr<MemoryLogStorage>> m_storage;
    std::map<NodeId, RecordingApplier> m_appliers;
    std::set<NodeId> m_down;
    int m_duplicateBatches = 0;
};

void electAll(Servers& s, int groups) {
    for (int g = 1; g <= groups; ++g)
        (void)s.server(NodeId(g % 3 + 1)).campaign(GroupId(g));
    s.settle();
}

} // namespace

class TestMultiRaft : public QObject {
    Q_OBJECT
private slots:
    void oneBatchPerDestination();
    void idleGroupsGoQuietAndCostNothingPerTick();
    void proposalWakesOnlyItsGroup();
    void silentLeaderServerWakesFollowers();
    void groupsLifecycle();
    void oneDurableWritePerProcessForAllGroups();
    void quickRestartOfLeaderServer();
    void throughputAndLatency_data();
    void throughputAndLatency();
};

void TestMultiRaft::oneBatchPerDestination() {
    Servers s(200);
    electAll(s, 200);
    for (int g = 1; g <= 200; ++g)
        QCOMPARE(s.leader(GroupId(g)), NodeId(g % 3 + 1));
    s.ticks(3);
    QCOMPARE(s.duplicateBatches(), 0);
    QCOMPARE(s.maxBatchesPerProcess, 2); // 3 servers: at most one batch to each of the others
}

void TestMultiRaft::idleGroupsGoQuietAndCostNothingPerTick() {
    const int groups = 2000;
    Servers s(groups);
    electAll(s, groups);
    s.ticks(2); // a heartbeat round, then the quiescing heartbeat
    for (NodeId id : {1, 2, 3}) {
        QCOMPARE(s.server(id).activeCount(), std::size_t(0));
        QCOMPARE(s.server(id).quietCount(), std::size_t(groups));
    }
    std::uint64_t before = s.server(1).groupTicks();
    auto start = std::chrono::steady_clock::now();
    int messages = 0;
    for (int i = 0; i < 100; ++i)
        messages += s.round(true);
    auto elapsed = std::chrono::steady_clock::now() - start;
    QCOMPARE(messages, 0);                      // only empty node-level heartbeats
    QCOMPARE(s.server(1).groupTicks(), before); // no group was ticked
    for (int g = 1; g <= groups; ++g)
        QCOMPARE(s.leader(GroupId(g)), NodeId(g % 3 + 1)); // nobody timed out
    double us = std::chrono::duration<double, std::micro>(elapsed).count() / 100.0;
    std::printf("idle: %d quiet groups x 3 servers: %.1f us per tick for all servers "
                "(%.4f us per group)\n",
                groups, us, us / (3.0 * groups));
}

void TestMultiRaft::proposalWakesOnlyItsGroup() {
    Servers s(50);
    electAll(s, 50);
    s.ticks(2);
    QCOMPARE(s.server(2).activeCount(), std::size_t(0));
    // Group 1 is led by server 2.
    auto index = s.server(2).propose(1, "hello");
    QVERIFY(index.isOk());
    QCOMPARE(s.server(2).activeCount(), std::size_t(1));
    s.settle();
    for (NodeId id : {1, 2, 3})
        QCOMPARE(s.applier(id).applied[1], std::vector<std::string>{"hello"});
    s.ticks(2);
    for (NodeId id : {1, 2, 3})
        QCOMPARE(s.server(id).activeCount(), std::size_t(0));
    // A proposal on a follower is refused with the leader's name.
    auto refused = s.server(1).propose(1, "x");
    QCOMPARE(refused.status().code(), ErrorCode::NotLeader);
}

void TestMultiRaft::silentLeaderServerWakesFollowers() {
    const int groups = 60;
    Servers s(groups);
    electAll(s, groups);
    s.ticks(2);
    s.down(1);
    // Within electionTicks nothing happens; then the followers of server 1's groups wake and,
    // after their election timeout, elect a leader among 2 and 3.
    s.ticks(60);
    for (int g = 1; g <= groups; ++g) {
        NodeId lead = s.leader(GroupId(g));
        QVERIFY2(lead == 2 || lead == 3, qPrintable(QString("group %1").arg(g)));
        if (g % 3 + 1 != 1)
            QCOMPARE(lead, NodeId(g % 3 + 1)); // the others were not disturbed
    }
    // Groups led by 2 or 3 can go quiet again and accept proposals.
    GroupId g0 = 3; // led by 1 before
    NodeId lead = s.leader(g0);
    QVERIFY(s.server(lead).propose(g0, "after").isOk());
    s.settle();
    QCOMPARE(s.applier(2).applied[g0], std::vector<std::string>{"after"});
}

// The leader server restarts before the others notice it was gone: its server heartbeats resume
// at once, so the quiet followers are not woken by liveness. Its groups restart as followers
// without a leader and campaign; the followers grant because the request comes from the very
// leader they knew. Every group must have a leader again and accept writes.
void TestMultiRaft::quickRestartOfLeaderServer() {
    const int groups = 30;
    Servers s(groups);
    electAll(s, groups);
    s.ticks(2);
    s.down(1);
    s.ticks(3);
    s.restart(1, groups);
    s.ticks(60);
    for (int g = 1; g <= groups; ++g) {
        NodeId lead = s.leader(GroupId(g));
        QVERIFY2(lead != kNoNode, qPrintable(QString("group %1 has no leader").arg(g)));
        QVERIFY(s.server(lead).propose(GroupId(g), "w").isOk());
    }
    s.settle();
    for (int g = 1; g <= groups; ++g)
        QCOMPARE(s.applier(2).applied[GroupId(g)], std::vector<std::string>{"w"});
}

// Group commit across groups: every group's Ready of one process() reaches the Persister in a
// single call (one fsync with the LMDB store), and nothing is sent before it returns.
void TestMultiRaft::oneDurableWritePerProcessForAllGroups() {
    struct CountingPersister : MultiRaft::Persister {
        Status persist(const std::vector<MultiRaft::PersistItem>& items) override {
            ++calls;
            maxItems = std::max(maxItems, items.size());
            for (const auto& item : items)
                TROUPE_RETURN_IF_ERROR(raft::persist(*item.storage, *item.ready));
            return Status::ok();
        }
        int calls = 0;
        std::size_t maxItems = 0;
    };
    const int groups = 100;
    MultiRaft mr(1);
    std::vector<std::unique_ptr<MemoryLogStorage>> storages;
    for (int g = 1; g <= groups; ++g) {
        storages.push_back(std::make_unique<MemoryLogStorage>());
        Snapshot initial;
        initial.meta.conf.voters = {1};
        QVERIFY(storages.back()->applySnapshot(initial).isOk());
        Config c;
        c.group = GroupId(g);
        QVERIFY(mr.createGroup(c, *storages.back()).isOk());
        QVERIFY(mr.campaign(GroupId(g)).isOk());
    }
    CountingPersister persister;
    mr.setPersister(&persister);
    RecordingApplier applier;
    QVERIFY(mr.process(&applier).isOk());
    QCOMPARE(persister.calls, 1);
    QCOMPARE(persister.maxItems, std::size_t(groups));
    for (int g = 1; g <= groups; ++g)
        QVERIFY(mr.propose(GroupId(g), "p").isOk());
    QVERIFY(mr.process(&applier).isOk());
    QCOMPARE(persister.calls, 2);
    for (int g = 1; g <= groups; ++g) {
        QCOMPARE(applier.applied[GroupId(g)], std::vector<std::string>{"p"});
        QCOMPARE(storages[std::size_t(g - 1)]->lastIndex(), Index(2));
    }
}

void TestMultiRaft::groupsLifecycle() {
    MultiRaft mr(1);
    MemoryLogStorage storage;
    Snapshot initial;
    initial.meta.conf.voters = {1};
    QVERIFY(storage.applySnapshot(initial).isOk());
    Config c;
    c.group = 9;
    QVERIFY(mr.createGroup(c, storage).isOk());
    QCOMPARE(mr.createGroup(c, storage).code(), ErrorCode::Exists);
    QVERIFY(mr.campaign(9).isOk());
    RecordingApplier applier;
    QVERIFY(mr.process(&applier).isOk());
    QCOMPARE(mr.group(9)->role(), Role::Leader);
    QVERIFY(mr.propose(9, "solo").isOk());
    QVERIFY(mr.process(&applier).isOk());
    QCOMPARE(applier.applied[9], std::vector<std::string>{"solo"});
    MultiRaft::Batch stray;
    stray.from = 2;
    stray.to = 1;
    stray.messages.push_back(Message{});
    stray.messages.back().group = 77;
    mr.receive(stray);
    QCOMPARE(mr.droppedMessages(), std::uint64_t(1));
    QVERIFY(mr.removeGroup(9).isOk());
    QCOMPARE(mr.groupCount(), std::size_t(0));
    QCOMPARE(mr.removeGroup(9).code(), ErrorCode::NotFound);
}

// In-process numbers with zero network delay: committed entries per second and proposal to
// commit latency (wall time of the rounds until the leader's commit covers the proposal). The
// default sizes keep CTest quick; TROUPE_RAFT_BENCH=1 runs 10,000 groups. Debug+ASan builds are
// several times slower than release: compare runs of the same build only.
void TestMultiRaft::throughputAndLatency_data() {
    QTest::addColumn<int>("groups");
    QTest::addColumn<int>("rounds");
    bool full = std::getenv("TROUPE_RAFT_BENCH") != nullptr;
    QTest::newRow("1 group") << 1 << (full ? 5000 : 500);
    QTest::newRow("many groups") << (full ? 10000 : 1000) << (full ? 20 : 5);
}

void TestMultiRaft::throughputAndLatency() {
    QFETCH(int, groups);
    QFETCH(int, rounds);
    Servers s(groups);
    electAll(s, groups);
    s.ticks(1);
    using Clock = std::chrono::steady_clock;
    std::vector<double> latencies;
    std::uint64_t committed = 0;
    auto start = Clock::now();
    for (int r = 0; r < rounds; ++r) {
        // One proposal per group, all proposed together, then rounds until all commit.
        auto t0 = Clock::now();
        for (int g = 1; g <= groups; ++g) {
            auto idx = s.server(NodeId(g % 3 + 1)).propose(GroupId(g), "v" + std::to_string(r));
            QVERIFY(idx.isOk());
        }
        s.settle();
        latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        committed += static_cast<std::uint64_t>(groups);
    }
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (int g = 1; g <= groups; ++g)
        QCOMPARE(s.applier(1).applied[GroupId(g)].size(), std::size_t(rounds));
    std::sort(latencies.begin(), latencies.end());
    std::printf("%d group(s) on 3 servers: %.0f committed entries/s; proposal->commit p50 %.0f us, "
                "p99 %.0f us (%d rounds)\n",
                groups, committed / seconds, latencies[latencies.size() / 2],
                latencies[latencies.size() * 99 / 100], rounds);
}

QTEST_APPLESS_MAIN(TestMultiRaft)
#include "tst_multi_raft.moc"
