// Unit tests for RaftLogStore: the raft::LogStorage contract, run against MemoryLogStorage and
// against RaftLogStore with and without the storage Writer (append, overwrite of a conflicting
// suffix, term(), entries() with maxBytes, compaction, snapshot install, hard state); then what
// only the LMDB store has: state and log after reopening the environment, version-1 raftstate
// values, a failed batch that leaves nothing of any of its groups, group commit of many groups in
// one fsync, completions that run only once the data is durable and readable. A measurement of
// appends/s and fsyncs for 1 vs 1,000 groups runs when TROUPE_RAFT_LOG_BENCH is set.

#include <QTest>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/bytes.h"
#include "raft_log_test_util.h"
#include "storage/log_store.h"
#include "storage/raft_log_store.h"
#include "storage/writer.h"
#include "storage_test_util.h"

using namespace troupe;
using namespace troupe::storage;
using namespace troupe::storage::test;
using namespace std::chrono_literals;
using raft::Entry;
using raft::EntryType;

namespace {

Entry entry(raft::Index index, raft::Term term, std::string data = {}) {
    return Entry{index, term, EntryType::Normal, data.empty() ? "e" + std::to_string(index) : data};
}

// Entries lo..hi (inclusive) with the given term.
std::vector<Entry> run(raft::Index lo, raft::Index hi, raft::Term term) {
    std::vector<Entry> out;
    for (raft::Index i = lo; i <= hi; ++i)
        out.push_back(entry(i, term));
    return out;
}

raft::ConfState conf(std::vector<raft::NodeId> voters, std::vector<raft::NodeId> learners = {}) {
    return raft::ConfState{std::move(voters), std::move(learners)};
}

bool sameEntries(const std::vector<Entry>& a, const std::vector<Entry>& b) {
    return a == b;
}

} // namespace

class TestRaftLogStore : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_run = 0;
    std::unique_ptr<Fixture> m_fixture; // for the contract tests' LMDB rows
    std::unique_ptr<raft::MemoryLogStorage> m_memory;
    std::unique_ptr<RaftLogStore> m_lmdb;

    QString freshPath() { return m_dir.path() + "/env" + QString::number(++m_run); }

    std::unique_ptr<Fixture> freshFixture(bool withWriter = true, EnvironmentOptions options = {}) {
        auto f = std::make_unique<Fixture>();
        f->dir = freshPath();
        f->options = options;
        f->withWriter = withWriter;
        if (!f->open())
            return nullptr;
        return f;
    }

    // The rows of every contract test: the in-memory store and the LMDB store with and
    // without the writer's group commit.
    static void kinds() {
        QTest::addColumn<QString>("kind");
        QTest::newRow("memory") << QString("memory");
        QTest::newRow("lmdb+writer") << QString("lmdb+writer");
        QTest::newRow("lmdb direct") << QString("lmdb direct");
    }

    // The storage under test for the current row of a contract test.
    raft::LogStorage* contractStorage() {
        QFETCH(QString, kind);
        m_lmdb.reset();
        m_fixture.reset();
        m_memory.reset();
        if (kind == "memory") {
            m_memory = std::make_unique<raft::MemoryLogStorage>();
            return m_memory.get();
        }
        m_fixture = freshFixture(kind == "lmdb+writer");
        if (!m_fixture)
            return nullptr;
        m_lmdb = m_fixture->store(7);
        return m_lmdb.get();
    }

private slots:
    void cleanup() {
        m_lmdb.reset();
        m_fixture.reset();
        m_memory.reset();
    }

    // ---- the LogStorage contract (every row) ----

    void emptyStorage_data() { kinds(); }
    void emptyStorage() {
        raft::LogStorage* s = contractStorage();
        QVERIFY(s);
        QCOMPARE(s->firstIndex(), raft::Index(1));
        QCOMPARE(s->lastIndex(), raft::Index(0));
        QCOMPARE(*s->term(0), raft::Term(0));
        QCOMPARE(s->term(1).status().code(), ErrorCode::NotFound);
        QVERIFY(s->hardState() == raft::HardState{});
        QVERIFY(s->entries(1, 1, UINT64_MAX)->empty());
    }

    void appendAndRead_data() { kinds(); }
    void appendAndRead() {
        raft::LogStorage* s = contractStorage();
        QVERIFY(s);
        std::vector<Entry> all = {entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2), entry(5, 3)};
        all[2].type = EntryType::ConfChange;
        QVERIFY(s->append(all).isOk());
        QVERIFY(s->append({}).isOk());
        QCOMPARE(s->lastIndex(), raft::Index(5));
        QCOMPARE(s->firstIndex(), raft::Index(1));
        for (const Entry& e : all)
            QCOMPARE(*s->term(e.index), e.term);
        QCOMPARE(s->term(6).status().code(), ErrorCode::NotFound);
        QVERIFY(sameEntries(*s->entries(1, 6, UINT64_MAX), all));
        QVERIFY(sameEntries(*s->entries(2, 4, UINT64_MAX), {all[1], all[2]}));
        QCOMPARE(s->entries(1, 7, UINT64_MAX).status().code(), ErrorCode::NotFound);
        // Appending at the end, then a gap, which is refused and changes nothing.
        QVERIFY(s->append({entry(6, 3)}).isOk());
        QVERIFY(!s->append({entry(8, 3)}).isOk());
        QCOMPARE(s->lastIndex(), raft::Index(6));
    }

    void conflictingSuffixIsReplaced_data() { kinds(); }
    void conflictingSuffixIsReplaced() {
        raft::LogStorage* s = contractStorage();
        QVERIFY(s);
        QVERIFY(s->append(run(1, 6, 1)).isOk());
        QCOMPARE(*s->term(6), raft::Term(1));
        // A new leader's entries from index 3 replace 3..6, even though the new run is shorter.
        QVERIFY(s->append({entry(3, 4, "x3"), entry(4, 4, "x4")}).isOk());
        QCOMPARE(s->lastIndex(), raft::Index(4));
        QCOMPARE(*s->term(2), raft::Term(1));
        QCOMPARE(*s->term(3), raft::Term(4));
        QCOMPARE(s->term(5).status().code(), ErrorCode::NotFound);
        std::vector<Entry> expected = {entry(1, 1), entry(2, 1), entry(3, 4, "x3"),
                                       entry(4, 4, "x4")};
        QVERIFY(sameEntries(*s->entries(1, 5, UINT64_MAX), expected));
        // Appending again after the overwrite continues from the new end.
        QVERIFY(s->append({entry(5, 4)}).isOk());
        QCOMPARE(*s->term(5), raft::Term(4));
    }

    void entriesRespectMaxBytes_data() { kinds(); }
    void entriesRespectMaxBytes() {
        raft::LogStorage* s = contractStorage();
        QVERIFY(s);
        std::vector<Entry> all;
        for (raft::Index i = 1; i <= 5; ++i)
            all.push_back(entry(i, 1, std::string(10, char('a' + i))));
        QVERIFY(s->append(all).isOk());
        QCOMPARE(s->entries(1, 6, 25)->size(), std::size_t(2));
        QCOMPARE(s->entries(1, 6, 30)->size(), std::size_t(3));
        QCOMPARE(s->entries(2, 6, 0)->size(), std::size_t(1)); // always at least one
        QCOMPARE(s->entries(2, 6, 0)->front(), all[1]);
        QCOMPARE(s->entries(1, 6, UINT64_MAX)->size(), std::size_t(5));
    }

    void compactKeepsTheSnapshot_data() { kinds(); }
    void compactKeepsTheSnapshot() {
        raft::LogStorage* s = contractStorage();
        QVERIFY(s);
        QVERIFY(s->append(run(1, 4, 1)).isOk());
        QVERIFY(s->append(run(5, 10, 2)).isOk());
        QVERIFY(s->compact(6, conf({1, 2, 3}, {4}), "state at 6").isOk());
        QCOMPARE(s->firstIndex(), raft::Index(7));
        QCOMPARE(s->lastIndex(), raft::Index(10));
        QCOMPARE(*s->term(6), raft::Term(2)); // the snapshot's term
        QCOMPARE(s->term(5).status().code(), ErrorCode::NotFound);
        QCOMPARE(s->entries(6, 8, UINT64_MAX).status().code(), ErrorCode::NotFound);
        QVERIFY(sameEntries(*s->entries(7, 11, UINT64_MAX), run(7, 10, 2)));
        const raft::SnapshotMeta meta = s->snapshotMeta();
        QCOMPARE(meta.index, raft::Index(6));
        QCOMPARE(meta.term, raft::Term(2));
        QVERIFY(meta.conf == conf({1, 2, 3}, {4}));
        Result<raft::Snapshot> snap = s->snapshot();
        QVERIFY(snap);
        QVERIFY(snap->meta == meta);
        QCOMPARE(snap->data, std::string("state at 6"));
        // Compacting at or below the snapshot, or past the log, is refused and changes nothing.
        QVERIFY(!s->compact(6, conf({1}), "").isOk());
        QVERIFY(!s->compact(3, conf({1}), "").isOk());
        QCOMPARE(s->compact(11, conf({1}), "").code(), ErrorCode::NotFound);
        QCOMPARE(s->snapshotMeta().index, raft::Index(6));
        QCOMPARE(s->snapshot()->data, std::string("state at 6"));
        // Compacting the whole log leaves it empty after the snapshot.
        QVERIFY(s->compact(10, conf({1, 2, 3}), "").isOk());
        QCOMPARE(s->firstIndex(), raft::Index(11));
        QCOMPARE(s->lastIndex(), raft::Index(10));
        QCOMPARE(*s->term(10), raft::Term(2));
        QVERIFY(s->append({entry(11, 3)}).isOk());
        QCOMPARE(s->lastIndex(), raft::Index(11));
    }

    void applySnapshotReplacesTheLog_data() { kinds(); }
    void applySnapshotReplacesTheLog() {
        raft::LogStorage* s = contractStorage();
        QVERIFY(s);
        QVERIFY(s->append(run(1, 5, 1)).isOk());
        raft::Snapshot snap{raft::SnapshotMeta{20, 4, conf({1, 2}, {3})}, "pages"};
        QVERIFY(s->applySnapshot(snap).isOk());
        QCOMPARE(s->firstIndex(), raft::Index(21));
        QCOMPARE(s->lastIndex(), raft::Index(20));
        QCOMPARE(*s->term(20), raft::Term(4));
        QCOMPARE(s->term(5).status().code(), ErrorCode::NotFound);
        QVERIFY(s->entries(21, 21, UINT64_MAX)->empty());
        QVERIFY(s->snapshotMeta() == snap.meta);
        QCOMPARE(s->snapshot()->data, std::string("pages"));
        // The log continues after the snapshot; entries it already covers are skipped.
        QVERIFY(s->append({entry(19, 4), entry(20, 4), entry(21, 5)}).isOk());
        QCOMPARE(s->lastIndex(), raft::Index(21));
        QCOMPARE(*s->term(21), raft::Term(5));
        QCOMPARE(*s->term(20), raft::Term(4));
        // An older snapshot is refused and changes nothing.
        QVERIFY(
            !s->applySnapshot(raft::Snapshot{raft::SnapshotMeta{10, 2, conf({1})}, "old"}).isOk());
        QCOMPARE(s->lastIndex(), raft::Index(21));
        QVERIFY(s->snapshotMeta() == snap.meta);
    }

    void hardState_data() { kinds(); }
    void hardState() {
        raft::LogStorage* s = contractStorage();
        QVERIFY(s);
        const raft::HardState hs{5, 2, 3};
        QVERIFY(s->setHardState(hs).isOk());
        QVERIFY(s->hardState() == hs);
        QVERIFY(s->append(run(1, 3, 5)).isOk());
        QVERIFY(s->hardState() == hs); // appends leave it alone
        QVERIFY(s->setHardState({6, 0, 3}).isOk());
        QVERIFY(s->hardState() == (raft::HardState{6, 0, 3}));
    }

    // ---- the LMDB store only ----

    void survivesReopen() {
        auto f = freshFixture();
        QVERIFY(f);
        const std::size_t n = RaftLogStore::kCachedTerms + 500; // reads beyond the term cache
        {
            auto s = f->store(3);
            auto other = f->store(4);
            QVERIFY(s && other);
            std::vector<Entry> log;
            for (raft::Index i = 1; i <= n; ++i)
                log.push_back(entry(i, 1 + i / 100));
            QVERIFY(s->append(log).isOk());
            QVERIFY(s->compact(100, conf({1, 2, 3}, {9}), "snap").isOk());
            QVERIFY(s->setHardState({17, 2, 900}).isOk());
            QVERIFY(other->append(run(1, 3, 1)).isOk());
        }
        f->close();
        QVERIFY(f->open());
        auto s = f->store(3);
        QVERIFY(s);
        QVERIFY(s->hardState() == (raft::HardState{17, 2, 900}));
        QCOMPARE(s->firstIndex(), raft::Index(101));
        QCOMPARE(s->lastIndex(), raft::Index(n));
        QCOMPARE(s->snapshotMeta().term, raft::Term(2));
        QVERIFY(s->snapshotMeta().conf == conf({1, 2, 3}, {9}));
        QCOMPARE(s->snapshot()->data, std::string("snap"));
        QCOMPARE(*s->term(101), raft::Term(2));
        QCOMPARE(*s->term(n), raft::Term(1 + n / 100));
        QCOMPARE(s->term(99).status().code(), ErrorCode::NotFound);
        QCOMPARE(*s->entries(500, 501, UINT64_MAX), std::vector<Entry>{entry(500, 6)});
        auto other = f->store(4);
        QCOMPARE(other->lastIndex(), raft::Index(3));
        QCOMPARE(other->firstIndex(), raft::Index(1));
        // An overwrite after reopening replaces the suffix on disk.
        QVERIFY(s->append({entry(200, 30)}).isOk());
        f->close();
        QVERIFY(f->open());
        s = f->store(3);
        QCOMPARE(s->lastIndex(), raft::Index(200));
        QCOMPARE(*s->term(200), raft::Term(30));
        QCOMPARE(*s->term(199), raft::Term(2));
    }

    // A raftstate value written by the single-node LogStore (version 1) still reads, and the
    // applied index it holds survives the Raft store's writes.
    void readsVersion1State() {
        auto f = freshFixture(false);
        QVERIFY(f);
        QVERIFY(f->env
                    ->write([&](MDB_txn* txn) {
                        std::string key;
                        putBigEndian32(key, 5);
                        std::string value(1, char(1));
                        for (std::uint64_t v : {4, 2, 3, 3})
                            putBigEndian64(value, v);
                        MDB_val k{key.size(), key.data()};
                        MDB_val v{value.size(), value.data()};
                        return mdb_put(txn, f->env->dbs().raftstate, &k, &v, 0) == 0
                                   ? Status::ok()
                                   : Status(ErrorCode::IoError, "put");
                    })
                    .isOk());
        auto s = f->store(5);
        QVERIFY(s);
        QVERIFY(s->hardState() == (raft::HardState{4, 2, 3}));
        QCOMPARE(s->snapshotMeta().index, raft::Index(0));
        QVERIFY(s->setHardState({5, 1, 3}).isOk());
        Result<ReadTxn> txn = f->env->beginRead();
        Result<HardState> hs = LogStore::hardState(*f->env, txn->get(), 5);
        QVERIFY(hs);
        QCOMPARE(hs->term, std::uint64_t(5));
        QCOMPARE(hs->applied, std::uint64_t(3));
    }

    // Recovery treats entries up to the snapshot as applied: they are gone from the log.
    void recoveryStartsAfterTheSnapshot() {
        auto f = freshFixture();
        QVERIFY(f);
        auto s = f->store(2);
        QVERIFY(s->append(run(1, 8, 1)).isOk());
        QVERIFY(s->setHardState({1, 1, 8}).isOk());
        QVERIFY(s->compact(8, conf({1}), "").isOk());
        Result<std::uint64_t> applied = recoverLog(*f->env, *f->writer);
        QVERIFY2(applied, str(applied.status()));
        QCOMPARE(*applied, std::uint64_t(0));
    }

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
                noise.push_back(char((i * 7919) >> 3));
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

QTEST_APPLESS_MAIN(TestRaftLogStore)
#include "tst_raft_log_store.moc"
