// Unit tests for LogStore and crash recovery: entries in (applied, commit] are applied exactly
// once together with the new applied index; a second recovery applies nothing; missing or
// corrupt committed entries and failed applies leave the hard state alone.

#include <QFileInfo>
#include <QTest>

#include "storage/catalog.h"
#include "storage/log_store.h"
#include "storage/writer.h"
#include "storage_test_util.h"

using namespace troupe;
using namespace troupe::storage;
using namespace troupe::storage::test;

namespace {

constexpr std::uint32_t kShard = 3;

RaftLogRecord record(std::uint64_t index, const LogEntry& entry) {
    return RaftLogRecord{index, 1, 0, encodeLogEntry(entry)};
}

LogEntry create(const std::string& name, std::uint64_t id, std::uint32_t pages,
                PageKind kind = PageKind::Text) {
    LogEntry e;
    e.catalogOps.push_back(createOp("user", name, id));
    e.writeSets.push_back(makeWriteSet(id, pages, kind));
    return e;
}

LogEntry remove(const std::string& name, std::uint64_t id) {
    LogEntry e;
    e.catalogOps.push_back(deleteOp("user", name, id));
    return e;
}

HardState hardState(Environment& env, std::uint32_t shard) {
    Result<ReadTxn> txn = env.beginRead();
    Result<HardState> hs = LogStore::hardState(env, txn->get(), shard);
    return hs ? *hs : HardState{~0ull, ~0ull, ~0ull, ~0ull};
}

bool exists(Environment& env, const std::string& name) {
    Result<ReadTxn> txn = env.beginRead();
    return Catalog::find(env, txn->get(), "user", name).isOk();
}

} // namespace

class TestLogRecovery : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_run = 0;

    // Log of shard kShard: 1 creates "gone", 2 deletes it (both applied before the "crash"),
    // 3 is a Raft no-op, 4 creates "x", 5 creates "y" and rewrites x; commit = 5, applied = 2.
    // Shard 9 is fully applied. Returns the data directory.
    QString prepareCrashedLog(EnvironmentOptions options = {}) {
        const QString path = m_dir.path() + "/env" + QString::number(++m_run);
        auto env = openEnv(path, options);
        if (!env)
            return {};
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        const LogEntry e1 = create("gone", 1, 2);
        const LogEntry e2 = remove("gone", 1);
        LogEntry e5 = create("y", 3, 2);
        e5.writeSets.push_back(makeWriteSet(2, 5)); // x grows from 3 to 5 pages
        Status s = env->write([&](MDB_txn* txn) -> Status {
            TROUPE_RETURN_IF_ERROR(LogStore::append(*env, txn, kShard, record(1, e1)));
            TROUPE_RETURN_IF_ERROR(LogStore::append(*env, txn, kShard, record(2, e2)));
            TROUPE_RETURN_IF_ERROR(
                LogStore::append(*env, txn, kShard, RaftLogRecord{3, 2, 1, "not a log entry"}));
            TROUPE_RETURN_IF_ERROR(
                LogStore::append(*env, txn, kShard, record(4, create("x", 2, 3))));
            TROUPE_RETURN_IF_ERROR(LogStore::append(*env, txn, kShard, record(5, e5)));
            TROUPE_RETURN_IF_ERROR(LogStore::append(*env, txn, 9, record(1, create("nine", 9, 1))));
            TROUPE_RETURN_IF_ERROR(LogStore::setHardState(*env, txn, kShard, {2, 7, 5, 0}));
            return LogStore::setHardState(*env, txn, 9, {1, 0, 1, 1});
        });
        if (!s)
            return {};
        // Entries 1 and 2 were applied before the crash (together with applied = 2).
        s = writer.applyNow({&e1, &e2}, true, [&](MDB_txn* txn) {
            return LogStore::setHardState(*env, txn, kShard, {2, 7, 5, 2});
        });
        return s ? path : QString();
    }

private slots:
    void recoveryAppliesCommittedEntriesOnce() {
        const QString path = prepareCrashedLog();
        QVERIFY(!path.isEmpty());

        auto env = openEnv(path);
        QVERIFY(env);
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        Result<std::uint64_t> applied = recoverLog(*env, writer);
        QVERIFY2(applied, str(applied.status()));
        QCOMPARE(*applied, std::uint64_t(2)); // entries 4 and 5; 3 is Raft's own
        QCOMPARE(metrics.counter("troupe_log_entries_total", "").value(), std::uint64_t(2));
        QCOMPARE(metrics.counter("troupe_commit_batches_total", "").value(), std::uint64_t(1));

        const HardState hs = hardState(*env, kShard);
        QCOMPARE(hs.applied, std::uint64_t(5));
        QCOMPARE(hs.commit, std::uint64_t(5));
        QCOMPARE(hs.term, std::uint64_t(2));
        QCOMPARE(hs.vote, std::uint64_t(7));
        QVERIFY(exists(*env, "x"));
        QVERIFY(exists(*env, "y"));
        QVERIFY(!exists(*env, "gone")); // entry 1 (applied already) was not replayed
        QVERIFY(!exists(*env, "nine")); // shard 9 had nothing to apply
        {
            Result<ReadTxn> txn = env->beginRead();
            QVERIFY(actorPagesIntact(*env, txn->get(), 2, 5));
            QVERIFY(actorPagesIntact(*env, txn->get(), 3, 2));
            QCOMPARE(*Catalog::count(*env, txn->get(), "user"), std::uint64_t(2));
        }

        // A second recovery (after another restart) applies nothing.
        env.reset();
        env = openEnv(path);
        QVERIFY(env);
        MetricsRegistry metrics2;
        Writer writer2(*env, metrics2);
        Result<std::uint64_t> again = recoverLog(*env, writer2);
        QVERIFY(again);
        QCOMPARE(*again, std::uint64_t(0));
        QCOMPARE(metrics2.counter("troupe_commit_batches_total", "").value(), std::uint64_t(0));
        QCOMPARE(hardState(*env, kShard).applied, std::uint64_t(5));
    }

    void missingCommittedEntryIsCorruption() {
        const QString path = prepareCrashedLog();
        QVERIFY(!path.isEmpty());
        auto env = openEnv(path);
        QVERIFY(env);
        QVERIFY(env->write([&](MDB_txn* txn) {
                       return LogStore::setHardState(*env, txn, kShard, {2, 7, 8, 2});
                   })
                    .isOk());
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        Result<std::uint64_t> r = recoverLog(*env, writer);
        QCOMPARE(r.status().code(), ErrorCode::Corruption);
        QVERIFY2(r.status().message().find("entry 6 is missing") != std::string::npos,
                 str(r.status()));
        QCOMPARE(hardState(*env, kShard).applied, std::uint64_t(2));
        QVERIFY(!exists(*env, "x"));
    }

    void corruptPayloadIsCorruption() {
        const QString path = prepareCrashedLog();
        QVERIFY(!path.isEmpty());
        auto env = openEnv(path);
        QVERIFY(env);
        QVERIFY(env->write([&](MDB_txn* txn) {
                       return LogStore::append(*env, txn, kShard, RaftLogRecord{5, 2, 0, "\x01zz"});
                   })
                    .isOk());
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        Result<std::uint64_t> r = recoverLog(*env, writer);
        QCOMPARE(r.status().code(), ErrorCode::Corruption);
        QVERIFY2(r.status().message().find("index 5") != std::string::npos, str(r.status()));
        QCOMPARE(hardState(*env, kShard).applied, std::uint64_t(2));
        QVERIFY(!exists(*env, "x")); // entry 4 is not applied alone either
    }

    // applied moves only together with the entries: a failed apply leaves both untouched.
    void failedApplyKeepsApplied() {
        const QString path = prepareCrashedLog();
        QVERIFY(!path.isEmpty());
        {
            auto env = openEnv(path);
            QVERIFY(env);
            QVERIFY(env->write([&](MDB_txn* txn) {
                           return LogStore::append(
                               *env, txn, kShard, record(5, create("y", 3, 100, PageKind::Random)));
                       })
                        .isOk());
        }
        // Reopen with a map that holds the log but has no room to apply 400 KiB of pages.
        EnvironmentOptions options;
        options.initialMapSize = QFileInfo(path + "/data.mdb").size() + (64 << 10);
        options.maxMapSize = options.initialMapSize;
        auto env = openEnv(path, options);
        QVERIFY(env);
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        Result<std::uint64_t> r = recoverLog(*env, writer);
        QCOMPARE(r.status().code(), ErrorCode::DiskFull);
        QCOMPARE(hardState(*env, kShard).applied, std::uint64_t(2));
        QVERIFY(!exists(*env, "x"));
        QVERIFY(!exists(*env, "y"));
    }

    void logStoreReadTruncateShards() {
        auto env = openEnv(m_dir.path() + "/env" + QString::number(++m_run));
        QVERIFY(env);
        QVERIFY(env->write([&](MDB_txn* txn) -> Status {
                       for (std::uint32_t shard : {7u, 2u, 0xffffffffu})
                           for (std::uint64_t i = 1; i <= 10; ++i)
                               TROUPE_RETURN_IF_ERROR(
                                   LogStore::append(*env, txn, shard,
                                                    RaftLogRecord{i, i / 3, std::uint8_t(i % 2),
                                                                  "p" + std::to_string(shard) +
                                                                      "." + std::to_string(i)}));
                       return LogStore::setHardState(*env, txn, 5, {1, 2, 3, 4});
                   })
                    .isOk());
        QVERIFY(env->write([&](MDB_txn* txn) { return LogStore::truncatePrefix(*env, txn, 7, 4); })
                    .isOk());
        Result<ReadTxn> txn = env->beginRead();
        Result<std::vector<RaftLogRecord>> r = LogStore::read(*env, txn->get(), 7, 1, 6);
        QVERIFY(r);
        QCOMPARE(r->size(), std::size_t(2));
        QCOMPARE(r->at(0).index, std::uint64_t(5));
        QCOMPARE(r->at(0).term, std::uint64_t(1));
        QCOMPARE(r->at(0).type, std::uint8_t(1));
        QCOMPARE(r->at(0).payload, std::string("p7.5"));
        QCOMPARE(r->at(1).index, std::uint64_t(6));
        Result<std::vector<RaftLogRecord>> other = LogStore::read(*env, txn->get(), 2, 9, 100);
        QCOMPARE(other->size(), std::size_t(2)); // stops at the shard's end
        QCOMPARE(other->back().payload, std::string("p2.10"));
        QCOMPARE(LogStore::read(*env, txn->get(), 2, 5, 4)->size(), std::size_t(0));
        Result<std::vector<std::uint32_t>> shards = LogStore::shards(*env, txn->get());
        QVERIFY(shards);
        QCOMPARE(*shards, (std::vector<std::uint32_t>{2, 5, 7, 0xffffffffu}));
        Result<HardState> hs = LogStore::hardState(*env, txn->get(), 5);
        QCOMPARE(hs->applied, std::uint64_t(4));
        QCOMPARE(LogStore::hardState(*env, txn->get(), 6)->commit, std::uint64_t(0));
    }
};

QTEST_APPLESS_MAIN(TestLogRecovery)
#include "tst_log_recovery.moc"
