// Group commit of the Raft log store across groups: the requests of many groups made durable
// by one transaction and one fsync, completions that run only once the data is durable and
// readable, a failed batch (disk full) that leaves nothing of any of its groups, a refused
// request that fails alone, pipelined requests of one group, reads while writes commit, the
// fsync modes, a stopped writer. A measurement of appends/s and fsyncs for 1 vs 1,000 groups
// runs when TROUPE_RAFT_LOG_BENCH is set (numbers, not a pass/fail on time).

#include <QTest>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "raft_log_test_util.h"
#include "storage/raft_log_store.h"
#include "storage/writer.h"
#include "storage_test_util.h"

using namespace troupe;
using namespace troupe::storage;
using namespace troupe::storage::test;
using namespace std::chrono_literals;
using raft::Entry;
using raft::EntryType;

class TestRaftLogGroupCommit : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_run = 0;

    std::unique_ptr<Fixture> freshFixture(bool withWriter = true, EnvironmentOptions options = {}) {
        auto f = std::make_unique<Fixture>();
        f->dir = m_dir.path() + "/env" + QString::number(++m_run);
        f->options = options;
        f->withWriter = withWriter;
        if (!f->open())
            return nullptr;
        return f;
    }

private slots:
    // One request of a batch too big for the map fails the whole batch: the other group's
    // request in that transaction fails too, and nothing of either is on disk or in memory.
    void failedBatchLeavesNothing() {
        EnvironmentOptions options;
        options.initialMapSize = 128 << 10;
        options.maxMapSize = 256 << 10;
        auto f = freshFixture(true, options);
        QVERIFY(f);
        auto a = f->store(1);
        auto b = f->store(2);
        QVERIFY(a->append(run(1, 2, 1)).isOk());
        QVERIFY(b->setHardState({1, 1, 0}).isOk());
        Completions done;
        {
            WriterGate gate(*f->writer);
            QVERIFY(gate.waitEntered());
            RaftPersist small;
            small.entries = run(1, 3, 1);
            small.hardState = raft::HardState{2, 2, 1};
            b->persist(std::move(small), done.add());
            RaftPersist huge;
            std::string noise;
            for (int i = 0; i < 400 << 10; ++i)
                noise.push_back(char((std::uint32_t(i) * 7919u) >> 3)); // unsigned: no overflow
            huge.entries = {entry(3, 1, noise)};
            huge.hardState = raft::HardState{3, 3, 2};
            a->persist(std::move(huge), done.add());
        }
        QVERIFY(done.waitFor(2));
        for (const Status& s : done.statuses())
            QCOMPARE(s.code(), ErrorCode::DiskFull);
        QCOMPARE(a->lastIndex(), raft::Index(2));
        QCOMPARE(b->lastIndex(), raft::Index(0));
        QVERIFY(b->hardState() == (raft::HardState{1, 1, 0}));
        f->close();
        QVERIFY(f->open());
        a = f->store(1);
        b = f->store(2);
        QCOMPARE(a->lastIndex(), raft::Index(2));
        QVERIFY(a->hardState() == raft::HardState{});
        QCOMPARE(b->lastIndex(), raft::Index(0));
        QVERIFY(b->hardState() == (raft::HardState{1, 1, 0}));
        // Still usable.
        QVERIFY(b->append(run(1, 3, 1)).isOk());
        QCOMPARE(b->lastIndex(), raft::Index(3));
    }

    // A refused request (a gap) fails alone; the rest of its batch commits.
    void refusedRequestFailsAlone() {
        auto f = freshFixture();
        QVERIFY(f);
        auto a = f->store(1);
        auto b = f->store(2);
        Completions done;
        {
            WriterGate gate(*f->writer);
            QVERIFY(gate.waitEntered());
            RaftPersist gap;
            gap.entries = {entry(5, 1)};
            gap.hardState = raft::HardState{9, 9, 0};
            a->persist(std::move(gap), done.add());
            RaftPersist fine;
            fine.entries = run(1, 2, 1);
            b->persist(std::move(fine), done.add());
        }
        QVERIFY(done.waitFor(2));
        const std::vector<Status> statuses = done.statuses();
        QCOMPARE(statuses[0].code(), ErrorCode::InvalidArgument);
        QVERIFY2(statuses[1].isOk(), str(statuses[1]));
        QCOMPARE(a->lastIndex(), raft::Index(0));
        QVERIFY(a->hardState() == raft::HardState{});
        QCOMPARE(b->lastIndex(), raft::Index(2));
    }

    // N groups persisting while the writer is busy are made durable by one transaction with
    // one fsync; each completion runs after its data is on disk and readable.
    void groupCommitAcrossGroups() {
        auto f = freshFixture();
        QVERIFY(f);
        constexpr std::uint32_t kGroups = 200;
        constexpr int kThreads = 4;
        std::vector<std::unique_ptr<RaftLogStore>> stores;
        for (std::uint32_t g = 0; g < kGroups; ++g) {
            stores.push_back(f->store(100 + g));
            QVERIFY(stores.back());
        }
        const std::uint64_t fsyncsBefore = f->counter("troupe_fsyncs_total");
        const std::uint64_t batchesBefore = f->counter("troupe_commit_batches_total");
        Completions done;
        std::atomic<int> notReadable{0};
        {
            WriterGate gate(*f->writer);
            QVERIFY(gate.waitEntered());
            std::vector<std::thread> threads;
            for (int t = 0; t < kThreads; ++t)
                threads.emplace_back([&, t] {
                    for (std::uint32_t g = std::uint32_t(t); g < kGroups; g += kThreads) {
                        RaftLogStore* s = stores[g].get();
                        RaftPersist r;
                        r.entries = run(1, 3, 2);
                        r.hardState = raft::HardState{2, 1, 0};
                        auto record = done.add();
                        s->persist(std::move(r), [&, s, record](Status st) {
                            // Reads show it, and so does a new read transaction.
                            if (st && (s->lastIndex() != 3 || !s->entries(1, 4, UINT64_MAX)))
                                ++notReadable;
                            record(std::move(st));
                        });
                    }
                });
            for (std::thread& t : threads)
                t.join();
            // Nothing is durable, so no completion may have run: the writer is held.
            QCOMPARE(done.statuses().size(), std::size_t(0));
        }
        QVERIFY(done.waitFor(kGroups));
        for (const Status& s : done.statuses())
            QVERIFY2(s.isOk(), str(s));
        QCOMPARE(notReadable.load(), 0);
        // The gate's own batch and then one batch for all groups: two fsyncs, not 200.
        QCOMPARE(f->counter("troupe_commit_batches_total") - batchesBefore, std::uint64_t(2));
        QCOMPARE(f->counter("troupe_fsyncs_total") - fsyncsBefore, std::uint64_t(2));
        QVERIFY(f->counter("troupe_raft_log_writes_total") >= kGroups);
        f->close();
        QVERIFY(f->open());
        for (std::uint32_t g = 0; g < kGroups; ++g) {
            auto s = f->store(100 + g);
            QCOMPARE(s->lastIndex(), raft::Index(3));
            QVERIFY(s->hardState() == (raft::HardState{2, 1, 0}));
        }
    }

    // With fsync = off a batch commits without an fsync; with always, one per batch.
    void respectsFsyncMode() {
        EnvironmentOptions options;
        options.fsync = FsyncMode::Off;
        auto f = freshFixture(true, options);
        QVERIFY(f);
        auto s = f->store(1);
        QVERIFY(s->append(run(1, 5, 1)).isOk());
        QVERIFY(s->setHardState({1, 1, 5}).isOk());
        QCOMPARE(f->counter("troupe_fsyncs_total"), std::uint64_t(0));
        QCOMPARE(f->counter("troupe_commit_batches_total"), std::uint64_t(2));
        auto g = freshFixture(true);
        auto t = g->store(1);
        QVERIFY(t->append(run(1, 5, 1)).isOk());
        QVERIFY(t->setHardState({1, 1, 5}).isOk());
        QCOMPARE(g->counter("troupe_fsyncs_total"), std::uint64_t(2));
    }

    // A driver need not wait between Readys: requests of one group queued back to back (and
    // taken as one batch) apply in order, each checked against the log the earlier ones left.
    void pipelinedRequestsApplyInOrder() {
        auto f = freshFixture();
        QVERIFY(f);
        auto s = f->store(1);
        Completions done;
        {
            WriterGate gate(*f->writer);
            QVERIFY(gate.waitEntered());
            RaftPersist first;
            first.entries = run(1, 3, 1);
            s->persist(std::move(first), done.add());
            RaftPersist second; // continues the first: no gap once the first is applied
            second.entries = run(4, 6, 1);
            s->persist(std::move(second), done.add());
            RaftPersist third; // overwrites 5..6 left by the second, compacts to 2
            third.entries = {entry(5, 2, "new5")};
            third.hardState = raft::HardState{2, 1, 4};
            third.compaction = RaftPersist::Compaction{2, conf({1}), ""};
            s->persist(std::move(third), done.add());
            RaftPersist gap; // refused: the log ends at 5 after the third
            gap.entries = {entry(7, 2)};
            s->persist(std::move(gap), done.add());
        }
        QVERIFY(done.waitFor(4));
        const std::vector<Status> statuses = done.statuses();
        for (int i = 0; i < 3; ++i)
            QVERIFY2(statuses[i].isOk(), str(statuses[i]));
        QCOMPARE(statuses[3].code(), ErrorCode::InvalidArgument);
        QCOMPARE(s->firstIndex(), raft::Index(3));
        QCOMPARE(s->lastIndex(), raft::Index(5));
        QCOMPARE(*s->term(2), raft::Term(1));
        QCOMPARE(*s->term(5), raft::Term(2));
        QCOMPARE(s->entries(3, 6, UINT64_MAX)->back(), entry(5, 2, "new5"));
        f->close();
        QVERIFY(f->open());
        s = f->store(1);
        QCOMPARE(s->firstIndex(), raft::Index(3));
        QCOMPARE(s->lastIndex(), raft::Index(5));
        QVERIFY(s->hardState() == (raft::HardState{2, 1, 4}));
        QVERIFY(sameEntries(*s->entries(3, 6, UINT64_MAX),
                            {entry(3, 1), entry(4, 1), entry(5, 2, "new5")}));
    }

    // The owner reads its store while the writer commits the group's requests: every read
    // sees a consistent log (the term cache and LMDB agree), never a torn one.
    void readsWhileWritesCommit() {
        auto f = freshFixture();
        QVERIFY(f);
        auto s = f->store(1);
        constexpr raft::Index kLast = 3000;
        Completions done;
        for (raft::Index i = 1; i <= kLast; i += 10) {
            RaftPersist p;
            p.entries = run(i, i + 9, i / 100 + 1);
            s->persist(std::move(p), done.add());
        }
        auto termOf = [](raft::Index i) { return ((i - 1) / 10 * 10 + 1) / 100 + 1; };
        int bad = 0;
        int reads = 0;
        while (done.statuses().size() < kLast / 10 && bad == 0) {
            const raft::Index last = s->lastIndex();
            if (last == 0)
                continue;
            ++reads;
            Result<raft::Term> t = s->term(last);
            Result<std::vector<Entry>> e = s->entries(last - 5, last + 1, UINT64_MAX);
            if (!t || *t != termOf(last) || !e || e->size() != 6 || e->back().term != *t)
                ++bad;
        }
        QVERIFY(done.waitFor(kLast / 10));
        QCOMPARE(bad, 0);
        QVERIFY(reads > 0);
        QCOMPARE(s->lastIndex(), kLast);
        QCOMPARE(*s->term(kLast), termOf(kLast));
    }

    // A whole Ready (snapshot, entries, hard state) is one request: one transaction.
    void readyIsOneRequest() {
        auto f = freshFixture();
        QVERIFY(f);
        auto s = f->store(1);
        raft::Ready ready;
        ready.snapshot = raft::Snapshot{raft::SnapshotMeta{10, 2, conf({1, 2, 3})}, "s"};
        ready.entries = run(11, 13, 3);
        ready.hardState = raft::HardState{3, 2, 12};
        const std::uint64_t before = f->counter("troupe_commit_batches_total");
        QVERIFY(s->persistNow(RaftPersist::fromReady(ready)).isOk());
        QCOMPARE(f->counter("troupe_commit_batches_total") - before, std::uint64_t(1));
        QCOMPARE(s->firstIndex(), raft::Index(11));
        QCOMPARE(s->lastIndex(), raft::Index(13));
        QVERIFY(s->hardState() == *ready.hardState);
    }

    // Not a pass/fail test: prints appends/s and fsyncs for 1 group and for 1,000 groups
    // persisting concurrently (small entries, fsync = always). Run with TROUPE_RAFT_LOG_BENCH=1.
    void measureGroupCommit() {
        if (!std::getenv("TROUPE_RAFT_LOG_BENCH"))
            QSKIP("set TROUPE_RAFT_LOG_BENCH=1 to measure");
        for (FsyncMode mode : {FsyncMode::Always, FsyncMode::Off})
            for (std::uint32_t groups : {1u, 1000u})
                measure(groups, mode);
    }

    // A stopped writer refuses new requests; the store is unchanged.
    void writerStopped() {
        auto f = freshFixture();
        QVERIFY(f);
        auto s = f->store(1);
        QVERIFY(s->append(run(1, 2, 1)).isOk());
        f->writer->stop();
        QCOMPARE(s->append(run(3, 4, 1)).code(), ErrorCode::ShuttingDown);
        QCOMPARE(s->lastIndex(), raft::Index(2));
    }

private:
    void measure(std::uint32_t groups, FsyncMode mode) {
        {
            EnvironmentOptions options;
            options.fsync = mode;
            auto f = freshFixture(true, options);
            QVERIFY(f);
            const int threads = groups == 1 ? 1 : 4;
            const int rounds = groups == 1 ? 2000 : 20;
            std::vector<std::unique_ptr<RaftLogStore>> stores;
            for (std::uint32_t g = 0; g < groups; ++g)
                stores.push_back(f->store(g));
            const std::uint64_t fsyncsBefore = f->counter("troupe_fsyncs_total");
            const auto start = std::chrono::steady_clock::now();
            std::atomic<int> failures{0};
            std::vector<std::thread> pool;
            // Each thread drives its share of the groups like a multi-raft driver: every round,
            // each group persists one entry and its hard state; the round ends when all are
            // durable (as messages would be sent then).
            for (int t = 0; t < threads; ++t)
                pool.emplace_back([&, t] {
                    for (int r = 1; r <= rounds; ++r) {
                        Completions done;
                        std::size_t n = 0;
                        for (std::uint32_t g = std::uint32_t(t); g < groups;
                             g += std::uint32_t(threads), ++n) {
                            RaftPersist p;
                            p.entries = {entry(raft::Index(r), 1, std::string(64, 'x'))};
                            p.hardState = raft::HardState{1, 1, raft::Index(r)};
                            stores[g]->persist(std::move(p), done.add());
                        }
                        if (!done.waitFor(n))
                            ++failures;
                        for (const Status& s : done.statuses())
                            if (!s)
                                ++failures;
                    }
                });
            for (std::thread& t : pool)
                t.join();
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            QCOMPARE(failures.load(), 0);
            const double appends = double(groups) * rounds;
            const std::uint64_t fsyncs = f->counter("troupe_fsyncs_total") - fsyncsBefore;
            qInfo("fsync=%s groups=%u threads=%d appends=%.0f seconds=%.3f appends/s=%.0f "
                  "fsyncs=%llu appends/fsync=%.1f",
                  std::string(fsyncModeName(mode)).c_str(), groups, threads, appends, seconds,
                  appends / seconds, static_cast<unsigned long long>(fsyncs),
                  fsyncs ? appends / double(fsyncs) : 0.0);
        }
    }
};

QTEST_APPLESS_MAIN(TestRaftLogGroupCommit)
#include "tst_raft_log_group_commit.moc"
