// The randomised simulation (sim_cluster.h): by default seeds 1..1000, each a run of the real
// Raft core under crashes, partitions, a lossy reordering network, clock drift and leader
// transfers, checked after every event and for linearizability at the end.
//   TROUPE_RAFT_SEED=<n>    replay exactly one seed (its summary, and on failure its trace)
//   TROUPE_RAFT_SEEDS=<n>   how many seeds (default 1000), TROUPE_RAFT_STEPS=<k> events per seed
// A failing seed is shrunk (shrink.h) to the shortest faulty phase that still fails; its report
// gives the seed, that step count, the replay command and the short run's last events.
// For long runs use troupe-raft-soak.

#include <QTest>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "shrink.h"
#include "sim_cluster.h"

using namespace troupe::raft::sim;

namespace {

std::uint64_t envNumber(const char* name, std::uint64_t fallback) {
    const char* value = std::getenv(name);
    return value && *value ? std::strtoull(value, nullptr, 10) : fallback;
}

constexpr std::uint64_t kDefaultSteps = 3000;
constexpr std::uint64_t kChunk = 100;

} // namespace

class TestRaftSim : public QObject {
    Q_OBJECT
private slots:
    // Seeds in chunks of 100, one data row each, so that QtTest's per-function watchdog
    // (5 minutes) never sees the whole run and a failure names its chunk.
    void randomSeeds_data() {
        QTest::addColumn<quint64>("first");
        QTest::addColumn<quint64>("count");
        if (std::getenv("TROUPE_RAFT_SEED")) {
            quint64 seed = envNumber("TROUPE_RAFT_SEED", 1);
            QTest::newRow(("seed " + std::to_string(seed)).c_str()) << seed << quint64{1};
            return;
        }
        std::uint64_t total = envNumber("TROUPE_RAFT_SEEDS", 1000);
        for (std::uint64_t first = 1; first <= total; first += kChunk) {
            quint64 count = std::min(kChunk, total - first + 1);
            std::string name =
                "seeds " + std::to_string(first) + "-" + std::to_string(first + count - 1);
            QTest::newRow(name.c_str()) << quint64{first} << count;
        }
    }

    void randomSeeds() {
        QFETCH(quint64, first);
        QFETCH(quint64, count);
        std::uint64_t steps = envNumber("TROUPE_RAFT_STEPS", kDefaultSteps);
        auto start = std::chrono::steady_clock::now();
        std::uint64_t failures = 0, events = 0, acked = 0, reads = 0, crashes = 0, snaps = 0;
        std::string firstFailure;
        for (std::uint64_t seed = first; seed < first + count; ++seed) {
            SimOptions options = SimOptions::fromSeed(seed, steps);
            SimResult r = runSimulation(options);
            events += r.stats.events;
            acked += r.stats.writesAcked;
            reads += r.stats.readsServed;
            crashes += r.stats.crashes;
            snaps += r.stats.snapshots;
            if (count == 1)
                std::printf("%s\n", r.summary().c_str());
            if (r.ok)
                continue;
            ++failures;
            // The first three failures are shrunk and reported in full (shrinking costs up to
            // 20 reruns each); the rest get one line.
            if (failures <= 3)
                std::printf("%s\n%s\n", r.summary().c_str(),
                            shrinkReport(options, r, shrinkFailure(options, r)).c_str());
            else
                std::printf("seed %llu FAILED: %s\n", static_cast<unsigned long long>(seed),
                            r.failure.substr(0, r.failure.find('\n')).c_str());
            if (firstFailure.empty())
                firstFailure = "seed " + std::to_string(seed) + ": " + r.failure;
        }
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf(
            "%llu seeds x %llu steps in %.1f s: %llu events, %llu writes acknowledged, "
            "%llu reads served, %llu crashes, %llu snapshots, %llu failed\n",
            static_cast<unsigned long long>(count), static_cast<unsigned long long>(steps), seconds,
            static_cast<unsigned long long>(events), static_cast<unsigned long long>(acked),
            static_cast<unsigned long long>(reads), static_cast<unsigned long long>(crashes),
            static_cast<unsigned long long>(snaps), static_cast<unsigned long long>(failures));
        QVERIFY2(failures == 0, firstFailure.c_str());
        // The runs must actually exercise the cluster, not idle through it.
        QVERIFY(acked > count * 5);
        QVERIFY(reads > count * 5);
    }

    // The whole pipeline can fail: with a driver that serves reads before applying their index,
    // some seed must be caught, and its report must carry the seed and the last events; shrunk,
    // it must still fail and name the command that replays the shorter run.
    void aBrokenDriverIsCaught() {
        std::uint64_t caught = 0;
        for (std::uint64_t seed = 1; seed <= 300 && caught == 0; ++seed) {
            SimOptions options = SimOptions::fromSeed(seed, kDefaultSteps);
            options.serveReadsEarly = true;
            SimResult r = runSimulation(options);
            if (r.ok)
                continue;
            caught = seed;
            QVERIFY2(r.failure.find("linearizability") != std::string::npos ||
                         r.failure.find("stale read") != std::string::npos,
                     r.failure.c_str());
            QVERIFY(r.failure.find("seed=" + std::to_string(seed)) != std::string::npos);
            // A linearizability failure is found at the end of the run: its report lists the
            // key's history; the trace holds the run's last events.
            QVERIFY(r.failure.find("stale read") != std::string::npos ||
                    r.failure.find("history of this key") != std::string::npos);
            QVERIFY(r.trace.find("t=") != std::string::npos);
            // Shrinking finds a step count no larger than the original at which the seed
            // still fails, and the report says how to replay that shorter run.
            ShrinkResult shrunk = shrinkFailure(options, r);
            QVERIFY(shrunk.steps <= kDefaultSteps);
            QVERIFY(shrunk.reruns <= 20);
            QVERIFY(!shrunk.result.ok);
            QCOMPARE(shrunk.result.seed, seed);
            SimOptions shorter = options;
            shorter.steps = shrunk.steps;
            SimResult again = runSimulation(shorter);
            QVERIFY2(!again.ok, "the shrunk run does not fail when replayed");
            QCOMPARE(again.summary(), shrunk.result.summary());
            std::string report = shrinkReport(options, r, shrunk);
            std::printf("%s\n", report.c_str());
            QVERIFY(report.find(replayCommand(seed, shrunk.steps)) != std::string::npos);
            QVERIFY(report.find("TROUPE_RAFT_SEED=" + std::to_string(seed) + " TROUPE_RAFT_STEPS=" +
                                std::to_string(shrunk.steps)) != std::string::npos);
            QVERIFY(report.find("troupe-raft-soak --seeds 1 --start " + std::to_string(seed) +
                                " --steps " + std::to_string(shrunk.steps)) != std::string::npos);
            QVERIFY(report.find("t=") != std::string::npos);
            // A failure found at the end of the run also shows where the faulty phase ended:
            // with the shortest failing phase, its last step is what makes the seed fail.
            if (shrunk.result.stats.events > shrunk.steps) {
                QVERIFY(!shrunk.result.faultyPhaseTrace.empty());
                QVERIFY(report.find("last events of the faulty phase") != std::string::npos);
            }
            // And the same seed with the correct driver passes.
            QVERIFY(runSimulation(SimOptions::fromSeed(seed, kDefaultSteps)).ok);
        }
        QVERIFY2(caught != 0, "no seed in 1..300 caught reads served before their index");
    }

    // A seed is a complete description of a run: the same seed gives the same run.
    void aSeedReplaysExactly() {
        for (std::uint64_t seed : {11, 12}) {
            SimResult a = runSimulation(SimOptions::fromSeed(seed, 1500));
            SimResult b = runSimulation(SimOptions::fromSeed(seed, 1500));
            QCOMPARE(a.summary(), b.summary());
            QCOMPARE(a.stats.messages, b.stats.messages);
        }
    }
};

QTEST_APPLESS_MAIN(TestRaftSim)
#include "tst_raft_sim.moc"
