// Unit tests for RaftLogStore: the raft::LogStorage contract, run against MemoryLogStorage and
// against RaftLogStore with and without the storage Writer (append, overwrite of a conflicting
// suffix, term(), entries() with maxBytes, compaction, snapshot install, hard state); then the
// LMDB store's own duties: log, state and snapshot after reopening the environment (beyond the
// term cache), version-1 raftstate values, and recovery after a compaction. Group commit and
// failures: tst_raft_log_group_commit.cpp.

#include <QTest>

#include "core/bytes.h"
#include "raft/node.h"
#include "raft_log_test_util.h"
#include "storage/log_store.h"
#include "storage/raft_log_store.h"
#include "storage_test_util.h"

using namespace troupe;
using namespace troupe::storage;
using namespace troupe::storage::test;
using raft::Entry;
using raft::EntryType;

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
                        // A version-1 payload, sealed as format 2 stores every value.
                        value = sealRecord(RecordDb::RaftState, key, value);
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

    // The real Raft core over the LMDB store: a one-voter group elects itself and commits
    // proposals, every Ready persisted as one request; after the environment is reopened, a
    // node restored from the store has the same log and hard state and commits on top of it.
    void raftNodeRestartsFromTheStore() {
        auto f = freshFixture();
        QVERIFY(f);
        raft::Config config;
        config.id = 1;
        config.group = 1;
        config.randomSeed = 7;
        std::vector<std::string> applied;
        // Runs the Ready loop until the node has nothing to do; returns false on a failure.
        auto drive = [&](raft::Node& node, RaftLogStore& store) {
            for (int rounds = 0; node.hasReady() && rounds < 1000; ++rounds) {
                raft::Ready ready = node.ready();
                Status s = store.persistNow(RaftPersist::fromReady(ready));
                if (!s) {
                    qWarning("persist: %s", str(s));
                    return false;
                }
                for (const raft::Entry& e : ready.committed)
                    if (e.type == raft::EntryType::Normal && !e.data.empty())
                        applied.push_back(e.data);
                node.advance(ready);
            }
            return !node.hasReady();
        };
        auto lead = [&](raft::Node& node, RaftLogStore& store) {
            for (int ticks = 0; node.role() != raft::Role::Leader && ticks < 100; ++ticks) {
                node.tick();
                if (!drive(node, store))
                    return false;
            }
            return node.role() == raft::Role::Leader;
        };
        raft::Term firstTerm = 0;
        raft::Index lastBefore = 0;
        {
            auto store = f->store(1);
            QVERIFY(store->applySnapshot(raft::Snapshot{{0, 0, conf({1})}, ""}).isOk());
            Result<std::unique_ptr<raft::Node>> node = raft::Node::create(config, *store);
            QVERIFY2(node, str(node.status()));
            QVERIFY(lead(**node, *store));
            for (const char* data : {"a", "b", "c"})
                QVERIFY((*node)->propose(data).isOk());
            QVERIFY(drive(**node, *store));
            QCOMPARE(applied, (std::vector<std::string>{"a", "b", "c"}));
            firstTerm = (*node)->term();
            lastBefore = store->lastIndex();
            QCOMPARE((*node)->commitIndex(), lastBefore);
        }
        f->close();
        QVERIFY(f->open());
        auto store = f->store(1);
        QCOMPARE(store->lastIndex(), lastBefore);
        QCOMPARE(store->hardState().term, firstTerm);
        QCOMPARE(store->hardState().commit, lastBefore);
        QCOMPARE(store->hardState().vote, raft::NodeId(1));
        Result<std::unique_ptr<raft::Node>> node = raft::Node::create(config, *store);
        QVERIFY2(node, str(node.status()));
        QCOMPARE((*node)->lastIndex(), lastBefore);
        QVERIFY(lead(**node, *store));
        QVERIFY((*node)->term() > firstTerm);
        applied.clear();
        QVERIFY((*node)->propose("d").isOk());
        QVERIFY(drive(**node, *store));
        QVERIFY(!applied.empty());
        QCOMPARE(applied.back(), std::string("d"));
        QCOMPARE((*node)->commitIndex(), store->lastIndex());
        Result<std::vector<raft::Entry>> last =
            store->entries(store->lastIndex(), store->lastIndex() + 1, UINT64_MAX);
        QVERIFY(last && last->size() == 1);
        QCOMPARE(last->front().data, std::string("d"));
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
};

QTEST_APPLESS_MAIN(TestRaftLogStore)
#include "tst_raft_log_store.moc"
