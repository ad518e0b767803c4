// Unit tests for the storage Writer: group commit under concurrent submitters (fewer batches
// than entries), completions that run only once the data is visible to new readers, a failing
// batch that leaves nothing behind, fsync modes, shutdown, and the LogEntry codec.

#include <QTest>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "storage/catalog.h"
#include "storage/writer.h"
#include "storage_test_util.h"

using namespace troupe;
using namespace troupe::storage;
using namespace troupe::storage::test;
using namespace std::chrono_literals;

namespace {

// Holds the writer thread inside a completion until released, so that whatever is submitted
// meanwhile queues up and must be taken as one batch.
class WriterGate {
public:
    Writer::Completion holdCompletion() {
        return [this](Status) {
            std::unique_lock lock(m_mutex);
            m_entered = true;
            m_cv.notify_all();
            m_cv.wait_for(lock, 30s, [&] { return m_released; });
        };
    }
    bool waitEntered() {
        std::unique_lock lock(m_mutex);
        return m_cv.wait_for(lock, 30s, [&] { return m_entered; });
    }
    void release() {
        std::lock_guard lock(m_mutex);
        m_released = true;
        m_cv.notify_all();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_entered = false;
    bool m_released = false;
};

LogEntry createEntry(const std::string& name, std::uint64_t id, std::uint32_t pages = 2,
                     PageKind kind = PageKind::Text) {
    LogEntry e;
    e.catalogOps.push_back(createOp("user", name, id));
    e.writeSets.push_back(makeWriteSet(id, pages, kind));
    return e;
}

bool visibleNow(Environment& env, const std::string& name, std::uint64_t id, std::uint32_t pages) {
    Result<ReadTxn> txn = env.beginRead();
    if (!txn)
        return false;
    Result<ActorRecord> r = Catalog::find(env, txn->get(), "user", name);
    return r && r->id == id && actorPagesIntact(env, txn->get(), id, pages);
}

} // namespace

// Keeps the writer busy inside the completion of a first entry (actor "first", id 1) until
// `gate` is released, so that everything submitted meanwhile queues for the next batch.
bool occupy(Writer& writer, WriterGate& gate) {
    writer.submit(createEntry("first", 1), false, gate.holdCompletion());
    return gate.waitEntered();
}

class TestStorageWriter : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_run = 0;

    std::unique_ptr<Environment> freshEnv(EnvironmentOptions options = {}) {
        return openEnv(m_dir.path() + "/env" + QString::number(++m_run), options);
    }

private slots:
    void concurrentSubmittersAreGroupCommitted() {
        auto env = freshEnv();
        QVERIFY(env);
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        writer.start();

        constexpr int kThreads = 8;
        constexpr int kPerThread = 40;
        constexpr int kTotal = kThreads * kPerThread;
        std::atomic<int> notVisible{0};
        Completions done;
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < kPerThread; ++i) {
                    const std::uint64_t id = std::uint64_t(t * 1000 + i + 1);
                    const std::string name = "a" + std::to_string(id);
                    writer.submit(createEntry(name, id), false, [&, name, id](Status s) {
                        // The completion runs after commit: a new read transaction sees it.
                        if (s && !visibleNow(*env, name, id, 2))
                            ++notVisible;
                        done.add(s);
                    });
                }
            });
        for (std::thread& t : threads)
            t.join();
        QVERIFY(done.waitFor(kTotal));
        for (const Status& s : done.statuses())
            QVERIFY2(s.isOk(), str(s));
        QCOMPARE(notVisible.load(), 0);

        const std::uint64_t batches = metrics.counter("troupe_commit_batches_total", "").value();
        QCOMPARE(metrics.counter("troupe_log_entries_total", "").value(), std::uint64_t(kTotal));
        QVERIFY(batches >= 1);
        QVERIFY2(batches < std::uint64_t(kTotal),
                 qPrintable(QString("batches %1 for %2 entries").arg(batches).arg(kTotal)));
        // FsyncMode::Always: one fsync per batch, not per entry.
        QCOMPARE(metrics.counter("troupe_fsyncs_total", "").value(), batches);
        QVERIFY(metrics.counter("troupe_bytes_written_total", "").value() > 0);
        writer.stop();
        Result<ReadTxn> txn = env->beginRead();
        QCOMPARE(*Catalog::count(*env, txn->get(), "user"), std::uint64_t(kTotal));
    }

    // Deterministic group commit: everything queued while the writer is busy is one batch.
    void queuedEntriesFormOneBatch() {
        auto env = freshEnv();
        QVERIFY(env);
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        writer.start();
        WriterGate gate;
        QVERIFY(occupy(writer, gate));
        Completions done;
        for (std::uint64_t id = 2; id <= 51; ++id)
            writer.submit(createEntry("a" + std::to_string(id), id), false,
                          [&](Status s) { done.add(s); });
        gate.release();
        QVERIFY(done.waitFor(50));
        for (const Status& s : done.statuses())
            QVERIFY2(s.isOk(), str(s));
        QCOMPARE(metrics.counter("troupe_commit_batches_total", "").value(), std::uint64_t(2));
        QCOMPARE(metrics.counter("troupe_fsyncs_total", "").value(), std::uint64_t(2));
        QCOMPARE(metrics.counter("troupe_log_entries_total", "").value(), std::uint64_t(51));
    }

    void maxBatchBytesSplitsBatches() {
        auto env = freshEnv();
        QVERIFY(env);
        MetricsRegistry metrics;
        WriterOptions options;
        options.maxBatchBytes = 1; // every entry is over the limit: one entry per batch
        Writer writer(*env, metrics, options);
        writer.start();
        WriterGate gate;
        QVERIFY(occupy(writer, gate));
        Completions done;
        for (std::uint64_t id = 2; id <= 6; ++id)
            writer.submit(createEntry("a" + std::to_string(id), id), false,
                          [&](Status s) { done.add(s); });
        gate.release();
        QVERIFY(done.waitFor(5));
        QCOMPARE(metrics.counter("troupe_commit_batches_total", "").value(), std::uint64_t(6));
    }

    void failingBatchLeavesNothing() {
        EnvironmentOptions options;
        options.initialMapSize = 512 << 10;
        options.maxMapSize = 512 << 10;
        auto env = freshEnv(options);
        QVERIFY(env);
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        writer.start();
        WriterGate gate;
        QVERIFY(occupy(writer, gate));
        Completions done;
        // Small entries and one that cannot fit in the map, all in one batch.
        for (std::uint64_t id = 2; id <= 5; ++id)
            writer.submit(createEntry("small" + std::to_string(id), id), false,
                          [&](Status s) { done.add(s); });
        writer.submit(createEntry("huge", 6, 300, PageKind::Random), false,
                      [&](Status s) { done.add(s); });
        gate.release();
        QVERIFY(done.waitFor(5));
        for (const Status& s : done.statuses()) {
            QCOMPARE(s.code(), ErrorCode::DiskFull);
            QVERIFY2(s.message().find("map size limit reached") != std::string::npos, str(s));
        }
        {
            Result<ReadTxn> txn = env->beginRead();
            for (const char* name : {"small2", "small3", "small4", "small5", "huge"})
                QCOMPARE(Catalog::find(*env, txn->get(), "user", name).status().code(),
                         ErrorCode::NotFound);
            for (std::uint64_t id = 2; id <= 6; ++id)
                QCOMPARE(*PageStore::dbSize(*env, txn->get(), id), std::uint32_t(0));
            QCOMPARE(*Catalog::count(*env, txn->get(), "user"), std::uint64_t(1));
            QVERIFY(visibleNow(*env, "first", 1, 2));
        }
        // The next batch is tried normally.
        Completions after;
        writer.submit(createEntry("later", 7), false, [&](Status s) { after.add(s); });
        QVERIFY(after.waitFor(1));
        QVERIFY2(after.statuses()[0].isOk(), str(after.statuses()[0]));
        QVERIFY(visibleNow(*env, "later", 7, 2));
    }

    void invalidEntryFailsAlone() {
        auto env = freshEnv();
        QVERIFY(env);
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        writer.start();
        WriterGate gate;
        QVERIFY(occupy(writer, gate));
        Status good;
        Status bad;
        Status badName;
        Completions done;
        writer.submit(createEntry("good", 2), false, [&](Status s) {
            good = s;
            done.add(s);
        });
        LogEntry zeroPage = createEntry("zero", 3);
        zeroPage.writeSets[0].pages[0].pgno = 0;
        writer.submit(std::move(zeroPage), false, [&](Status s) {
            bad = s;
            done.add(s);
        });
        writer.submit(createEntry("", 4), false, [&](Status s) {
            badName = s;
            done.add(s);
        });
        gate.release();
        QVERIFY(done.waitFor(3));
        QVERIFY2(good.isOk(), str(good));
        QCOMPARE(bad.code(), ErrorCode::InvalidArgument);
        QCOMPARE(badName.code(), ErrorCode::EmptyActorName);
        QVERIFY(visibleNow(*env, "good", 2, 2));
        Result<ReadTxn> txn = env->beginRead();
        QCOMPARE(*PageStore::dbSize(*env, txn->get(), 3), std::uint32_t(0));
    }

    void deleteEntryRemovesActorAndPages() {
        auto env = freshEnv();
        QVERIFY(env);
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        LogEntry create = createEntry("victim", 9, 4);
        QVERIFY(writer.applyNow({&create}, false).isOk());
        LogEntry del;
        del.catalogOps.push_back(deleteOp("user", "victim", 9));
        LogEntry delAgain = del; // a replayed delete is a no-op
        QVERIFY(writer.applyNow({&del, &delAgain}, false).isOk());
        Result<ReadTxn> txn = env->beginRead();
        QCOMPARE(Catalog::find(*env, txn->get(), "user", "victim").status().code(),
                 ErrorCode::NotFound);
        QCOMPARE(*PageStore::dbSize(*env, txn->get(), 9), std::uint32_t(0));
        QCOMPARE(*Catalog::count(*env, txn->get(), ""), std::uint64_t(0));
        QCOMPARE(*Catalog::maxActorId(*env, txn->get()), std::uint64_t(9));
    }

    void metaOpsRoundTripAndApply() {
        LogEntry e = createEntry("m", 5, 1);
        e.metaOps.push_back(MetaOp{MetaOp::Kind::Put, "sql/schema", std::string("v\0x", 3)});
        e.metaOps.push_back(MetaOp{MetaOp::Kind::Put, "sql/gone", "1"});
        const std::string bytes = encodeLogEntry(e);
        QCOMPARE(bytes[0], char(2)); // meta ops need version 2
        QVERIFY(e.byteSize() >= bytes.size());
        Result<LogEntry> back = decodeLogEntry(bytes);
        QVERIFY2(back, str(back.status()));
        QCOMPARE(back->metaOps.size(), std::size_t(2));
        QCOMPARE(back->metaOps[0].value, std::string("v\0x", 3));
        QCOMPARE(encodeLogEntry(*back), bytes);
        // Entries without meta ops keep version 1.
        QCOMPARE(encodeLogEntry(createEntry("m", 5, 1))[0], char(1));

        auto env = freshEnv();
        QVERIFY(env);
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        LogEntry erase;
        erase.metaOps.push_back(MetaOp{MetaOp::Kind::Erase, "sql/gone", {}});
        erase.metaOps.push_back(MetaOp{MetaOp::Kind::Erase, "sql/never-set", {}});
        QVERIFY(writer.applyNow({&e, &erase}, false).isOk());
        Result<ReadTxn> txn = env->beginRead();
        QCOMPARE(*env->readMeta(txn->get(), "sql/schema"), std::string("v\0x", 3));
        QCOMPARE(env->readMeta(txn->get(), "sql/gone").status().code(), ErrorCode::NotFound);
        txn->reset();
        LogEntry badKey;
        badKey.metaOps.push_back(MetaOp{MetaOp::Kind::Put, "", "x"});
        QCOMPARE(writer.applyNow({&badKey}, false).code(), ErrorCode::InvalidArgument);
    }

    void shrinkingWriteSetDropsPages() {
        auto env = freshEnv();
        QVERIFY(env);
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        LogEntry big;
        big.writeSets.push_back(makeWriteSet(5, 6));
        QVERIFY(writer.applyNow({&big}, false).isOk());
        LogEntry small;
        small.writeSets.push_back(makeWriteSet(5, 2));
        small.writeSets[0].pages.resize(1); // only page 1 rewritten, size 2
        QVERIFY(writer.applyNow({&small}, false).isOk());
        Result<ReadTxn> txn = env->beginRead();
        QVERIFY(actorPagesIntact(*env, txn->get(), 5, 2));
        Page page;
        QCOMPARE(PageStore::readPage(*env, txn->get(), 5, 3, page.data()).code(),
                 ErrorCode::NotFound);
        MDB_stat stat;
        QCOMPARE(mdb_stat(txn->get(), env->dbs().pages, &stat), 0);
        QCOMPARE(stat.ms_entries, std::size_t(2 + 1));
    }

    void submitAfterStopIsRefused() {
        auto env = freshEnv();
        QVERIFY(env);
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        writer.start();
        writer.stop();
        bool ran = false;
        Status status;
        writer.submit(createEntry("late", 1), false, [&](Status s) {
            ran = true;
            status = s;
        });
        QVERIFY(ran); // at once, on this thread
        QCOMPARE(status.code(), ErrorCode::ShuttingDown);
    }

    void stopDrainsQueue() {
        auto env = freshEnv();
        QVERIFY(env);
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        writer.start();
        Completions done;
        for (std::uint64_t id = 1; id <= 20; ++id)
            writer.submit(createEntry("a" + std::to_string(id), id), false,
                          [&](Status s) { done.add(s); });
        writer.stop();
        QCOMPARE(done.statuses().size(), std::size_t(20));
        for (const Status& s : done.statuses())
            QVERIFY2(s.isOk(), str(s));
    }

    void fsyncModes_data() {
        QTest::addColumn<int>("mode");
        QTest::newRow("interval") << int(FsyncMode::Interval);
        QTest::newRow("off") << int(FsyncMode::Off);
    }
    void fsyncModes() {
        QFETCH(int, mode);
        EnvironmentOptions options;
        options.fsync = FsyncMode(mode);
        auto env = freshEnv(options);
        QVERIFY(env);
        MetricsRegistry metrics;
        WriterOptions writerOptions;
        writerOptions.fsyncInterval = 20ms;
        Writer writer(*env, metrics, writerOptions);
        Counter& fsyncs = metrics.counter("troupe_fsyncs_total", "");
        writer.start();

        Completions done;
        writer.submit(createEntry("a", 1), false, [&](Status s) { done.add(s); });
        QVERIFY(done.waitFor(1));
        QVERIFY(done.statuses()[0].isOk());
        if (FsyncMode(mode) == FsyncMode::Interval) {
            // Synced within the interval: poll with a deadline.
            QTRY_VERIFY_WITH_TIMEOUT(fsyncs.value() == 1, 10000);
        } else {
            QCOMPARE(fsyncs.value(), std::uint64_t(0));
        }
        const std::uint64_t before = fsyncs.value();

        // forceSync syncs before the completion runs.
        Completions forced;
        std::atomic<bool> syncedBeforeCompletion{false};
        writer.submit(createEntry("b", 2), true, [&](Status s) {
            syncedBeforeCompletion = fsyncs.value() == before + 1;
            forced.add(s);
        });
        QVERIFY(forced.waitFor(1));
        QVERIFY(syncedBeforeCompletion.load());
        QVERIFY(forced.statuses()[0].isOk());
        QCOMPARE(fsyncs.value(), before + 1);

        // An unsynced commit is synced at stop.
        Completions last;
        writer.submit(createEntry("c", 3), false, [&](Status s) { last.add(s); });
        QVERIFY(last.waitFor(1));
        writer.stop();
        QVERIFY(fsyncs.value() >= before + 2);
    }

    void logEntryRoundTrip() {
        LogEntry e;
        e.catalogOps.push_back(createOp("user", "alice", 1));
        e.catalogOps.push_back(deleteOp("group", std::string(kMaxNameLength, 'n'), 2));
        e.catalogOps[0].record.flags = 5;
        e.writeSets.push_back(makeWriteSet(1, 3));
        e.writeSets.push_back(makeWriteSet(2, 1, PageKind::Random));
        e.writeSets.push_back(WriteSet{77, 0, {}});
        const std::string bytes = encodeLogEntry(e);
        QVERIFY(e.byteSize() >= bytes.size());
        Result<LogEntry> back = decodeLogEntry(bytes);
        QVERIFY2(back, str(back.status()));
        QCOMPARE(back->catalogOps.size(), std::size_t(2));
        QCOMPARE(back->catalogOps[0].kind, CatalogOp::Kind::Create);
        QCOMPARE(back->catalogOps[0].record.name, std::string("alice"));
        QCOMPARE(back->catalogOps[0].record.flags, std::uint8_t(5));
        QCOMPARE(back->catalogOps[0].record.hash, e.catalogOps[0].record.hash);
        QCOMPARE(back->catalogOps[1].kind, CatalogOp::Kind::Delete);
        QCOMPARE(back->catalogOps[1].record.type, std::string("group"));
        QCOMPARE(back->catalogOps[1].record.name, e.catalogOps[1].record.name);
        QCOMPARE(back->writeSets.size(), std::size_t(3));
        QCOMPARE(back->writeSets[0].dbPages, std::uint32_t(3));
        QCOMPARE(back->writeSets[1].pages[0].stored, e.writeSets[1].pages[0].stored);
        QCOMPARE(back->writeSets[2].actorId, std::uint64_t(77));
        QCOMPARE(encodeLogEntry(*back), bytes);
    }

    void logEntryGarbage_data() {
        QTest::addColumn<QByteArray>("bytes");
        LogEntry e;
        e.catalogOps.push_back(createOp("user", "alice", 1));
        e.writeSets.push_back(makeWriteSet(1, 2));
        const std::string good = encodeLogEntry(e);
        auto bytes = [](const std::string& s) { return QByteArray(s.data(), qsizetype(s.size())); };
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("version 3") << bytes("\x03" + good.substr(1));
        QTest::newRow("version 2 without meta ops") << bytes("\x02" + good.substr(1));
        QTest::newRow("trailing byte") << bytes(good + "x");
        QTest::newRow("huge op count") << QByteArray("\x01\xff\xff\xff\xff\x00\x00\x00\x00", 9);
        QTest::newRow("huge write set count")
            << QByteArray("\x01\x00\x00\x00\x00\xff\xff\xff\xff", 9);
        std::string badKind = good;
        badKind[5] = 9;
        QTest::newRow("bad op kind") << bytes(badKind);
        // Every strict prefix of a valid entry is truncated.
        for (std::size_t n = 1; n < good.size(); n += (n < 64 ? 1 : 97))
            QTest::newRow(qPrintable(QString("prefix %1").arg(n))) << bytes(good.substr(0, n));
    }
    void logEntryGarbage() {
        QFETCH(QByteArray, bytes);
        Result<LogEntry> r = decodeLogEntry(std::string_view(bytes.constData(), bytes.size()));
        QVERIFY(!r.isOk());
        QCOMPARE(r.status().code(), ErrorCode::Corruption);
    }

    void logEntryRandomBytesNeverCrash() {
        std::mt19937 rng(11);
        for (int i = 0; i < 3000; ++i) {
            std::string s(rng() % 64, '\0');
            for (char& c : s)
                c = char(rng() % 4 == 0 ? rng() : rng() % 3); // many small counts
            if (!s.empty() && i % 2)
                s[0] = 1;
            Result<LogEntry> r = decodeLogEntry(s);
            if (r)
                QCOMPARE(encodeLogEntry(*r), s); // whatever decodes is exactly that entry
            else
                QCOMPARE(r.status().code(), ErrorCode::Corruption);
        }
    }
};

QTEST_APPLESS_MAIN(TestStorageWriter)
#include "tst_storage_writer.moc"
