// LMDB reader slots (issue 5): running out is a retryable Busy, never an I/O error; a caller
// waits for a slot to be freed within readerWait; and callers on one thread share a snapshot
// only while it still shows the latest committed state.

#include <QTest>

#include <future>
#include <thread>
#include <vector>

#include "storage/sealed_db.h"
#include "storage_test_util.h"
#include "support/poll.h"

using namespace troupe;
using namespace troupe::storage;
using namespace troupe::storage::test;

namespace {

Status putMeta(Environment& env, std::string_view key, std::string_view value) {
    return env.write(
        [&](MDB_txn* txn) -> Status { return putSealed(env, txn, RecordDb::Meta, key, value); });
}

// Takes every free reader slot; the last attempt's status is returned in `last`.
std::vector<ReadTxn> takeAllSlots(Environment& env, Status& last) {
    std::vector<ReadTxn> held;
    for (unsigned i = 0; i <= env.maxReaders(); ++i) {
        auto txn = env.beginRead();
        if (!txn) {
            last = txn.status();
            break;
        }
        held.push_back(std::move(*txn));
    }
    return held;
}

} // namespace

class TestReaderSlots : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    int m_run = 0;

    std::unique_ptr<Environment> open(std::chrono::milliseconds wait) {
        EnvironmentOptions options;
        options.maxReaders = 8; // LMDB rounds up to what fills the lock file's page
        options.readerWait = wait;
        return openEnv(m_dir.path() + "/env" + QString::number(++m_run), options);
    }

private slots:
    void readersFullIsBusy() {
        auto env = open(std::chrono::milliseconds(0));
        QVERIFY(env);
        QVERIFY(env->maxReaders() >= 8);
        Status last;
        std::vector<ReadTxn> held = takeAllSlots(*env, last);
        QCOMPARE(held.size(), std::size_t(env->maxReaders()));
        QCOMPARE(last.code(), ErrorCode::Busy); // was IoError through the VFS: MySQL 1030
        QVERIFY2(last.message().find("MDB_READERS_FULL") != std::string::npos, str(last));
        QVERIFY2(last.message().find("retry") != std::string::npos, str(last));
        held.pop_back(); // a freed slot is usable again
        auto again = env->beginRead();
        QVERIFY2(again, str(again.status()));
    }

    void waitsForAFreedSlot() {
        auto env = open(std::chrono::seconds(60));
        QVERIFY(env);
        std::vector<ReadTxn> held; // every slot: nothing is free
        for (unsigned i = 0; i < env->maxReaders(); ++i) {
            auto txn = env->beginRead();
            QVERIFY2(txn, str(txn.status()));
            held.push_back(std::move(*txn));
        }
        auto waiter = std::async(std::launch::async, [&] {
            auto txn = env->beginRead();
            return txn ? Status::ok() : txn.status();
        });
        QVERIFY(troupe::test::pollUntil([&] { return env->slotWaiters() == 1; }));
        QVERIFY(waiter.wait_for(std::chrono::seconds(0)) != std::future_status::ready);
        held.pop_back(); // frees one slot: the waiter takes it
        const Status got = waiter.get();
        QVERIFY2(got.isOk(), str(got));
        QCOMPARE(env->slotWaiters(), 0);
    }

    void gaveUpWaitingIsBusy() {
        auto env = open(std::chrono::milliseconds(30));
        QVERIFY(env);
        Status last;
        std::vector<ReadTxn> held = takeAllSlots(*env, last);
        QCOMPARE(last.code(), ErrorCode::Busy);
        QCOMPARE(env->slotWaiters(), 0);
    }

    void sharedSnapshotIsTheLatestState() {
        auto env = open(std::chrono::milliseconds(0));
        QVERIFY(env);
        QVERIFY(putMeta(*env, "k", "1").isOk());
        auto a = env->shareRead();
        QVERIFY2(a, str(a.status()));
        auto b = env->shareRead();
        QVERIFY2(b, str(b.status()));
        QCOMPARE(a->get(), b->get()); // nothing committed in between: one snapshot, one slot

        std::thread([&] { // another thread gets its own
            auto t = env->shareRead();
            QVERIFY(t);
            QVERIFY(t->get() != a->get());
            t->reset(); // dropped on its own thread
        })
            .join();

        QVERIFY(putMeta(*env, "k", "2").isOk());
        auto c = env->shareRead();
        QVERIFY2(c, str(c.status()));
        QVERIFY(c->get() != a->get()); // a commit since: a new snapshot that sees it
        auto value = env->readMeta((*c)->get(), "k");
        QVERIFY(value);
        QCOMPARE(*value, std::string("2"));
        auto old = env->readMeta((*a)->get(), "k");
        QVERIFY(old);
        QCOMPARE(*old, std::string("1")); // the earlier holders keep their snapshot
        auto d = env->shareRead();
        QVERIFY(d);
        QCOMPARE(d->get(), c->get());
    }
};

QTEST_APPLESS_MAIN(TestReaderSlots)
#include "tst_reader_slots.moc"
