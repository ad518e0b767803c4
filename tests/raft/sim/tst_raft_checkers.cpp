// The simulator's own checkers on hand-made inputs, so that a passing simulation means something:
// the linearizability checker accepts linearizable register histories and rejects the classic
// non-linearizable ones; the invariant checker flags each safety violation; the network drops,
// duplicates, delays, reorders and partitions as configured, reproducibly from a seed.

#include <QTest>

#include "history.h"
#include "invariants.h"
#include "linearizability.h"
#include "register_machine.h"
#include "sim_network.h"
#include "trace.h"

using namespace troupe;
using namespace troupe::raft;
using namespace troupe::raft::sim;

namespace {

// A history built by hand: each call is an invocation or a response, in real-time order.
struct Script {
    History history;
    std::uint64_t w(const char* key, const char* value) {
        return history.invokeWrite(key, value, 1, 0);
    }
    std::uint64_t r(const char* key) { return history.invokeRead(key, 1, 0); }
    void ok(std::uint64_t op, const char* value = "") { history.respond(op, value); }
    bool linearizable() const { return checkLinearizable(history.operations()).linearizable; }
};

Message msg(NodeId from, NodeId to, Index index) {
    Message m;
    m.from = from;
    m.to = to;
    m.index = index;
    return m;
}

std::vector<Index> drain(SimNetwork& net, SimTime until) {
    std::vector<Index> out;
    while (auto m = net.popDue(until))
        out.push_back(m->index);
    return out;
}

} // namespace

class TestRaftCheckers : public QObject {
    Q_OBJECT
private slots:
    void sequentialHistoryIsLinearizable() {
        Script s;
        auto w1 = s.w("x", "1");
        s.ok(w1);
        auto r1 = s.r("x");
        s.ok(r1, "1");
        auto w2 = s.w("x", "2");
        s.ok(w2);
        auto r2 = s.r("x");
        s.ok(r2, "2");
        QVERIFY(s.linearizable());
    }

    void staleReadAfterCompletedWriteIsNot() {
        Script s;
        auto w1 = s.w("x", "1");
        s.ok(w1);
        auto w2 = s.w("x", "2");
        s.ok(w2);
        auto r = s.r("x");
        s.ok(r, "1");
        auto result = checkLinearizable(s.history.operations());
        QVERIFY(!result.linearizable);
        QVERIFY(!result.exhausted);
        QCOMPARE(result.key, std::string("x"));
        QVERIFY(result.detail.find("cannot place") != std::string::npos);
    }

    void readOfInitialValueBeforeAnyWrite() {
        Script s;
        auto r = s.r("x");
        s.ok(r, "");
        auto w = s.w("x", "1");
        s.ok(w);
        QVERIFY(s.linearizable());
        Script t;
        auto w2 = t.w("x", "1");
        t.ok(w2);
        auto r2 = t.r("x");
        t.ok(r2, ""); // the write finished first: "absent" is stale
        QVERIFY(!t.linearizable());
    }

    void concurrentReadMaySeeEitherValue() {
        for (const char* seen : {"0", "1"}) {
            Script s;
            auto w0 = s.w("x", "0");
            s.ok(w0);
            auto w = s.w("x", "1");
            auto r = s.r("x");
            s.ok(r, seen);
            s.ok(w);
            QVERIFY2(s.linearizable(), seen);
        }
    }

    // Two reads, both concurrent with one write, the second starting after the first finished:
    // new then old is impossible (the write cannot be undone), old then new is fine.
    void newOldInversionIsNotLinearizable() {
        Script s;
        auto w0 = s.w("x", "0");
        s.ok(w0);
        auto w = s.w("x", "1");
        auto r1 = s.r("x");
        s.ok(r1, "1");
        auto r2 = s.r("x");
        s.ok(r2, "0");
        s.ok(w);
        QVERIFY(!s.linearizable());

        Script t;
        auto tw0 = t.w("x", "0");
        t.ok(tw0);
        auto tw = t.w("x", "1");
        auto t1 = t.r("x");
        t.ok(t1, "0");
        auto t2 = t.r("x");
        t.ok(t2, "1");
        t.ok(tw);
        QVERIFY(t.linearizable());
    }

    void pendingWriteMayTakeEffectOrNot() {
        Script s;
        s.w("x", "1"); // never answered: its node crashed
        auto r1 = s.r("x");
        s.ok(r1, "");
        auto r2 = s.r("x");
        s.ok(r2, "1");
        QVERIFY(s.linearizable());
        // ... but once seen it cannot be unseen.
        auto r3 = s.r("x");
        s.ok(r3, "");
        QVERIFY(!s.linearizable());
    }

    void readOfValueNeverWrittenIsNot() {
        Script s;
        auto w = s.w("x", "1");
        s.ok(w);
        auto r = s.r("x");
        s.ok(r, "7");
        QVERIFY(!s.linearizable());
    }

    void writesOrderedByRealTime() {
        // w1 finished before w2 began: a later read cannot see w1.
        Script s;
        auto w1 = s.w("x", "1");
        s.ok(w1);
        auto w2 = s.w("x", "2");
        s.ok(w2);
        auto r = s.r("x");
        s.ok(r, "1");
        QVERIFY(!s.linearizable());
        // Concurrent writes may land in either order.
        Script t;
        auto a = t.w("x", "1");
        auto b = t.w("x", "2");
        t.ok(a);
        t.ok(b);
        auto tr = t.r("x");
        t.ok(tr, "1");
        QVERIFY(t.linearizable());
    }

    void keysAreIndependent() {
        Script s;
        auto wx = s.w("x", "1");
        s.ok(wx);
        auto ry = s.r("y");
        s.ok(ry, "");
        auto rx = s.r("x");
        s.ok(rx, "1");
        QVERIFY(s.linearizable());
        auto bad = s.r("y");
        s.ok(bad, "1"); // y was never written
        auto result = checkLinearizable(s.history.operations());
        QVERIFY(!result.linearizable);
        QCOMPARE(result.key, std::string("y"));
    }

    void forgottenOperationsAreIgnored() {
        Script s;
        auto w = s.w("x", "1");
        s.history.forget(w);
        auto r = s.r("x");
        s.ok(r, "");
        QVERIFY(s.linearizable());
    }

    // Concurrent writes of unknown outcome, each seen by a later read: the search stays small
    // thanks to the memoisation, and pending writes nobody saw are not searched at all.
    void concurrentPendingWritesStayTractable() {
        Script s;
        for (int i = 0; i < 12; ++i)
            s.w("x", std::to_string(i).c_str());
        for (int i = 0; i < 200; ++i)
            s.w("x", ("unseen" + std::to_string(i)).c_str());
        for (int i = 0; i < 12; ++i) {
            auto r = s.r("x");
            s.ok(r, std::to_string(11 - i).c_str());
        }
        auto result = checkLinearizable(s.history.operations());
        QVERIFY(result.linearizable);
        QVERIFY(!result.exhausted);
        QVERIFY2(result.states < 200000, std::to_string(result.states).c_str());
        // One read too many that goes back in time.
        auto back = s.r("x");
        s.ok(back, "11");
        auto bad = checkLinearizable(s.history.operations());
        QVERIFY(!bad.linearizable);
        QVERIFY(!bad.exhausted);
    }

    // Many long reads overlapping a run of writes (a partitioned follower's reads answered
    // late): placing a matching read at once, without branching, keeps this linear; branching
    // over the order of the reads would explore their subsets.
    void overlappingReadsStayTractable() {
        Script s;
        std::vector<std::uint64_t> reads;
        for (int i = 0; i < 60; ++i)
            reads.push_back(s.r("x"));
        for (int i = 1; i <= 20; ++i) {
            auto w = s.w("x", std::to_string(i).c_str());
            s.ok(w);
        }
        for (int i = 0; i < 60; ++i)
            s.ok(reads[i], std::to_string(i % 20 + 1).c_str());
        auto result = checkLinearizable(s.history.operations());
        QVERIFY(result.linearizable);
        QVERIFY2(result.states < 10000, std::to_string(result.states).c_str());
        auto late = s.r("x");
        s.ok(late, "3");
        QVERIFY(!checkLinearizable(s.history.operations()).linearizable);
    }

    void searchBudgetIsReportedAsInconclusive() {
        Script s;
        for (int i = 0; i < 30; ++i)
            s.w("x", std::to_string(i).c_str());
        for (int i = 0; i < 30; ++i) {
            auto r = s.r("x");
            s.ok(r, std::to_string(29 - i).c_str());
        }
        auto back = s.r("x");
        s.ok(back, "29");
        auto result = checkLinearizable(s.history.operations(), 1000);
        QVERIFY(!result.linearizable);
        QVERIFY(result.exhausted);
    }

    void registerMachineAppliesInOrderAndOnce() {
        RegisterMachine m;
        QVERIFY(m.restore(Snapshot{}).isOk());
        auto a = m.apply(Entry{1, 1, EntryType::Normal, encodeWrite({7, "k", "v7"})});
        QVERIFY(a.isOk());
        QCOMPARE((*a)->proposal, std::uint64_t{7});
        QCOMPARE(m.get("k"), std::string("v7"));
        QVERIFY(m.apply(Entry{2, 1, EntryType::Normal, ""}).isOk());  // a leader's no-op
        QVERIFY(!m.apply(Entry{4, 1, EntryType::Normal, ""}).isOk()); // a gap
        auto twice = m.apply(Entry{3, 2, EntryType::Normal, encodeWrite({7, "k", "v7"})});
        QVERIFY(!twice.isOk());
        QVERIFY(twice.status().message().find("applied twice") != std::string::npos);

        Snapshot snap;
        snap.meta.index = m.applied();
        snap.meta.term = m.appliedTerm();
        snap.data = m.encode();
        RegisterMachine copy;
        QVERIFY(copy.restore(snap).isOk());
        QCOMPARE(copy.values(), m.values());
        QCOMPARE(copy.proposals(), m.proposals());
        QCOMPARE(copy.applied(), Index{2});
    }

    void invariantCheckerFlagsTwoLeadersInATerm() {
        InvariantChecker c;
        c.onRole(1, 3, Role::Leader);
        c.onRole(1, 3, Role::Leader);
        c.onRole(2, 4, Role::Leader);
        QVERIFY(c.ok());
        c.onRole(3, 3, Role::Leader);
        QVERIFY(!c.ok());
        QVERIFY(c.failure().find("election safety") != std::string::npos);
    }

    void invariantCheckerFlagsLogMismatch() {
        MemoryLogStorage a, b;
        InvariantChecker c;
        std::vector<Entry> la{{1, 1, EntryType::Normal, "x"}, {2, 2, EntryType::Normal, "y"}};
        QVERIFY(a.append(la).isOk());
        c.onPersist(1, la, a, false, {0, 0});
        // Same (index, term) pairs and data: fine.
        QVERIFY(b.append(la).isOk());
        c.onPersist(2, la, b, false, {0, 0});
        QVERIFY(c.ok());
        // Same (2, term 2) but a different previous term: log matching broken.
        MemoryLogStorage d;
        std::vector<Entry> ld{{1, 2, EntryType::Normal, "z"}, {2, 2, EntryType::Normal, "y"}};
        QVERIFY(d.append(ld).isOk());
        c.onPersist(3, ld, d, false, {0, 0});
        QVERIFY(!c.ok());
        QVERIFY(c.failure().find("log matching") != std::string::npos);
    }

    void invariantCheckerFlagsDifferentDataAtSameIndexAndTerm() {
        MemoryLogStorage a, b;
        InvariantChecker c;
        std::vector<Entry> la{{1, 1, EntryType::Normal, "x"}};
        std::vector<Entry> lb{{1, 1, EntryType::Normal, "other"}};
        QVERIFY(a.append(la).isOk());
        QVERIFY(b.append(lb).isOk());
        c.onPersist(1, la, a, false, {0});
        c.onPersist(2, lb, b, false, {0});
        QVERIFY(!c.ok());
    }

    void invariantCheckerFlagsLeaderOverwrite() {
        MemoryLogStorage a;
        InvariantChecker c;
        std::vector<Entry> e{{1, 3, EntryType::Normal, "x"}};
        QVERIFY(a.append(e).isOk());
        c.onPersist(1, e, a, true, {2}); // replaced a term-2 entry while leading
        QVERIFY(!c.ok());
        QVERIFY(c.failure().find("append-only") != std::string::npos);
    }

    void invariantCheckerFlagsDivergentApply() {
        InvariantChecker c;
        c.onApply(1, Entry{5, 2, EntryType::Normal, "a"}, 2);
        c.onApply(2, Entry{5, 2, EntryType::Normal, "a"}, 3);
        QVERIFY(c.ok());
        c.onApply(3, Entry{5, 3, EntryType::Normal, "b"}, 3);
        QVERIFY(!c.ok());
        QVERIFY(c.failure().find("state-machine safety") != std::string::npos);
    }

    void invariantCheckerFlagsLeaderWithoutCommittedEntry() {
        InvariantChecker c;
        c.onApply(1, Entry{1, 1, EntryType::Normal, "a"}, 1);
        c.onApply(1, Entry{2, 1, EntryType::Normal, "b"}, 1);
        MemoryLogStorage good, bad;
        QVERIFY(good.append({{1, 1, EntryType::Normal, "a"},
                             {2, 1, EntryType::Normal, "b"},
                             {3, 2, EntryType::Normal, ""}})
                    .isOk());
        c.onLeaderLog(2, 2, good);
        QVERIFY(c.ok());
        // A leader of term 1 elected late (delayed votes) owes nothing to entries committed in
        // term 1; one of term 3 does.
        QVERIFY(bad.append({{1, 1, EntryType::Normal, "a"}}).isOk());
        c.onLeaderLog(3, 1, bad);
        QVERIFY(c.ok());
        c.onLeaderLog(3, 3, bad);
        QVERIFY(!c.ok());
        QVERIFY(c.failure().find("leader completeness") != std::string::npos);
    }

    void invariantCheckerFlagsStaleRead() {
        InvariantChecker c;
        c.onReadServed(1, 10, 10, "read");
        QVERIFY(c.ok());
        c.onReadServed(1, 9, 10, "read");
        QVERIFY(!c.ok());
    }

    void networkDeliversInDelayOrderAndReorders() {
        SimRng rng(42);
        NetworkConfig cfg;
        cfg.minDelay = 10;
        cfg.maxDelay = 1000;
        SimNetwork net(rng, cfg);
        for (Index i = 1; i <= 50; ++i)
            QCOMPARE(net.send(msg(1, 2, i), 0), 1);
        QVERIFY(!net.popDue(9).has_value());
        auto order = drain(net, 1000);
        QCOMPARE(order.size(), std::size_t{50});
        QVERIFY(!std::is_sorted(order.begin(), order.end())); // random delays reorder
    }

    void networkIsReproducibleFromItsSeed() {
        auto run = [](std::uint64_t seed) {
            SimRng rng(seed);
            NetworkConfig cfg;
            cfg.maxDelay = 500;
            cfg.dropRate = 0.2;
            cfg.duplicateRate = 0.2;
            SimNetwork net(rng, cfg);
            for (Index i = 1; i <= 100; ++i)
                (void)net.send(msg(1, 2, i), i);
            return drain(net, 100000);
        };
        QCOMPARE(run(7), run(7));
        QVERIFY(run(7) != run(8));
    }

    void networkDropsAndDuplicatesAtConfiguredRates() {
        SimRng rng(1);
        NetworkConfig cfg;
        cfg.dropRate = 0.25;
        cfg.duplicateRate = 0.1;
        SimNetwork net(rng, cfg);
        for (Index i = 0; i < 10000; ++i)
            (void)net.send(msg(1, 2, i), 0);
        QVERIFY(net.dropped() > 2200 && net.dropped() < 2800);
        QVERIFY(net.duplicated() > 550 && net.duplicated() < 950);
        QCOMPARE(drain(net, 0).size(), 10000 - net.dropped() + net.duplicated());
    }

    void partitionsAreSymmetricOrOneWay() {
        SimRng rng(3);
        SimNetwork net(rng, NetworkConfig{});
        net.partition({1}, {2, 3});
        QVERIFY(!net.linkUp(1, 2) && !net.linkUp(2, 1) && !net.linkUp(3, 1));
        QVERIFY(net.linkUp(2, 3));
        QCOMPARE(net.send(msg(1, 2, 1), 0), 0);
        net.heal();
        net.cutOneWay(1, 2);
        QCOMPARE(net.send(msg(1, 2, 1), 0), 0);
        QCOMPARE(net.send(msg(2, 1, 2), 0), 1);
        QCOMPARE(drain(net, 0), std::vector<Index>{2});
    }

    void partitionCatchesMessagesInFlight() {
        SimRng rng(3);
        NetworkConfig cfg;
        cfg.minDelay = cfg.maxDelay = 100;
        SimNetwork net(rng, cfg);
        QCOMPARE(net.send(msg(1, 2, 1), 0), 1);
        net.partition({1}, {2});
        QVERIFY(drain(net, 1000).empty());
    }

    void traceKeepsTheLastEvents() {
        Trace t(3);
        for (int i = 1; i <= 5; ++i) {
            TraceEvent e;
            e.kind = TraceEvent::Kind::Crash;
            e.node = static_cast<NodeId>(i);
            t.add(e);
        }
        std::string text = t.format();
        QCOMPARE(t.total(), std::uint64_t{5});
        QVERIFY(text.find("n3 CRASHED") < text.find("n4 CRASHED"));
        QVERIFY(text.find("n5 CRASHED") != std::string::npos);
        QVERIFY(text.find("n2 CRASHED") == std::string::npos);
    }
};

QTEST_APPLESS_MAIN(TestRaftCheckers)
#include "tst_raft_checkers.moc"
