// Unit tests for the actor catalog: create and find, listing by prefix with paging, counts and
// the largest id persisted across reopen, removal freeing the actor's pages, name validation.

#include <QTest>

#include "storage/catalog.h"
#include "storage_test_util.h"

using namespace troupe;
using namespace troupe::storage;
using namespace troupe::storage::test;

namespace {

ActorRecord record(std::string type, std::string name, std::uint64_t id) {
    return createOp(std::move(type), std::move(name), id).record;
}

QStringList names(const std::vector<ActorRecord>& records) {
    QStringList out;
    for (const ActorRecord& r : records)
        out << QString::fromStdString(r.name);
    return out;
}

} // namespace

class TestCatalog : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<Environment> m_env;

    Status putAll(const std::vector<ActorRecord>& records) {
        return m_env->write([&](MDB_txn* txn) -> Status {
            for (const ActorRecord& r : records)
                TROUPE_RETURN_IF_ERROR(Catalog::put(*m_env, txn, r));
            return Status::ok();
        });
    }

    std::vector<ActorRecord> list(std::string_view type, std::string_view prefix,
                                  std::string_view after, std::size_t limit) {
        Result<ReadTxn> txn = m_env->beginRead();
        if (!txn)
            return {};
        Result<std::vector<ActorRecord>> r =
            Catalog::list(*m_env, txn->get(), type, prefix, after, limit);
        return r ? *r : std::vector<ActorRecord>{};
    }

    std::uint64_t count(std::string_view type) {
        Result<ReadTxn> txn = m_env->beginRead();
        Result<std::uint64_t> n = Catalog::count(*m_env, txn->get(), type);
        return n ? *n : ~0ull;
    }

private slots:
    void init() {
        QVERIFY(m_dir.isValid());
        m_env = openEnv(m_dir.path() + "/data");
        QVERIFY(m_env);
    }
    void cleanup() {
        m_env.reset();
        QDir(m_dir.path() + "/data").removeRecursively();
    }

    void createAndFind() {
        ActorRecord r = record("user", "alice", 17);
        r.flags = 3;
        QVERIFY(putAll({r}).isOk());
        Result<ReadTxn> txn = m_env->beginRead();
        QVERIFY(txn);
        Result<ActorRecord> found = Catalog::find(*m_env, txn->get(), "user", "alice");
        QVERIFY2(found, str(found.status()));
        QCOMPARE(found->type, std::string("user"));
        QCOMPARE(found->name, std::string("alice"));
        QCOMPARE(found->id, std::uint64_t(17));
        QCOMPARE(found->hash, r.hash);
        QCOMPARE(found->flags, std::uint8_t(3));

        Result<ActorRecord> missing = Catalog::find(*m_env, txn->get(), "user", "bob");
        QCOMPARE(missing.status().code(), ErrorCode::NotFound);
        Result<ActorRecord> otherType = Catalog::find(*m_env, txn->get(), "group", "alice");
        QCOMPARE(otherType.status().code(), ErrorCode::NotFound);
    }

    void listPrefixAndPaging() {
        QVERIFY(
            putAll({record("user", "alice", 1), record("user", "alex", 2), record("user", "bob", 3),
                    record("user", "albert", 4), record("user", "al", 5),
                    record("group", "alice", 6), record("usera", "alfa", 7)})
                .isOk());
        QCOMPARE(names(list("user", "", "", 100)),
                 QStringList({"al", "albert", "alex", "alice", "bob"}));
        QCOMPARE(names(list("user", "al", "", 2)), QStringList({"al", "albert"}));
        QCOMPARE(names(list("user", "al", "albert", 2)), QStringList({"alex", "alice"}));
        QCOMPARE(names(list("user", "al", "alice", 2)), QStringList());
        QCOMPARE(names(list("user", "", "alice", 10)), QStringList({"bob"}));
        QCOMPARE(names(list("user", "al", "a", 10)), // afterName before the prefix
                 QStringList({"al", "albert", "alex", "alice"}));
        QCOMPARE(names(list("user", "al", "alf", 10)), QStringList({"alice"})); // not a name
        QCOMPARE(names(list("user", "al", "", 0)), QStringList());
        QCOMPARE(names(list("group", "", "", 10)), QStringList({"alice"}));
        QCOMPARE(names(list("usera", "", "", 10)), QStringList({"alfa"}));
        QCOMPARE(names(list("nobody", "", "", 10)), QStringList());
        const std::vector<ActorRecord> all = list("user", "", "", 100);
        QCOMPARE(all.at(0).id, std::uint64_t(5));
        QCOMPARE(all.at(0).type, std::string("user"));
    }

    void countsAndMaxIdPersist() {
        QVERIFY(putAll({record("user", "a", 10), record("user", "b", 30), record("group", "g", 20)})
                    .isOk());
        QCOMPARE(count("user"), std::uint64_t(2));
        QCOMPARE(count("group"), std::uint64_t(1));
        QCOMPARE(count(""), std::uint64_t(3));
        QCOMPARE(count("none"), std::uint64_t(0));
        // Replacing a record (same key) does not count twice.
        QVERIFY(putAll({record("user", "a", 10)}).isOk());
        QCOMPARE(count("user"), std::uint64_t(2));

        QVERIFY(
            m_env->write([&](MDB_txn* txn) { return Catalog::remove(*m_env, txn, "user", "b"); })
                .isOk());
        QCOMPARE(count("user"), std::uint64_t(1));
        QCOMPARE(count(""), std::uint64_t(2));

        m_env.reset();
        m_env = openEnv(m_dir.path() + "/data");
        QVERIFY(m_env);
        QCOMPARE(count("user"), std::uint64_t(1));
        QCOMPARE(count("group"), std::uint64_t(1));
        QCOMPARE(count(""), std::uint64_t(2));
        Result<ReadTxn> txn = m_env->beginRead();
        Result<std::uint64_t> maxId = Catalog::maxActorId(*m_env, txn->get());
        QVERIFY(maxId);
        QCOMPARE(*maxId, std::uint64_t(30)); // the largest ever allocated, even after removal
    }

    void maxIdOfFreshEnvironmentIsZero() {
        Result<ReadTxn> txn = m_env->beginRead();
        Result<std::uint64_t> maxId = Catalog::maxActorId(*m_env, txn->get());
        QVERIFY(maxId);
        QCOMPARE(*maxId, std::uint64_t(0));
        QCOMPARE(count(""), std::uint64_t(0));
    }

    void removeFreesPages() {
        QVERIFY(putAll({record("user", "gone", 7), record("user", "kept", 8)}).isOk());
        QVERIFY(m_env
                    ->write([&](MDB_txn* txn) -> Status {
                        TROUPE_RETURN_IF_ERROR(PageStore::apply(*m_env, txn, makeWriteSet(7, 5)));
                        return PageStore::apply(*m_env, txn, makeWriteSet(8, 3));
                    })
                    .isOk());
        QVERIFY(
            m_env->write([&](MDB_txn* txn) { return Catalog::remove(*m_env, txn, "user", "gone"); })
                .isOk());

        Result<ReadTxn> txn = m_env->beginRead();
        QCOMPARE(*PageStore::dbSize(*m_env, txn->get(), 7), std::uint32_t(0));
        Page page;
        QCOMPARE(PageStore::readPage(*m_env, txn->get(), 7, 1, page.data()).code(),
                 ErrorCode::NotFound);
        QVERIFY(actorPagesIntact(*m_env, txn->get(), 8, 3));
        MDB_stat stat;
        QCOMPARE(mdb_stat(txn->get(), m_env->dbs().pages, &stat), 0);
        QCOMPARE(stat.ms_entries, std::size_t(3 + 1)); // actor 8's pages and header only
        QCOMPARE(Catalog::find(*m_env, txn->get(), "user", "gone").status().code(),
                 ErrorCode::NotFound);
        txn->reset();

        Status again =
            m_env->write([&](MDB_txn* t) { return Catalog::remove(*m_env, t, "user", "gone"); });
        QCOMPARE(again.code(), ErrorCode::NotFound);
    }

    void replacingWithNewIdFreesOldPages() {
        QVERIFY(putAll({record("user", "x", 1)}).isOk());
        QVERIFY(m_env
                    ->write([&](MDB_txn* txn) {
                        return PageStore::apply(*m_env, txn, makeWriteSet(1, 2));
                    })
                    .isOk());
        QVERIFY(putAll({record("user", "x", 2)}).isOk());
        Result<ReadTxn> txn = m_env->beginRead();
        QCOMPARE(*PageStore::dbSize(*m_env, txn->get(), 1), std::uint32_t(0));
        QCOMPARE(Catalog::find(*m_env, txn->get(), "user", "x")->id, std::uint64_t(2));
        QCOMPARE(count("user"), std::uint64_t(1));
    }

    void validate_data() {
        QTest::addColumn<QByteArray>("type");
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<ErrorCode>("code");
        QTest::newRow("ok") << QByteArray("user") << QByteArray("alice") << ErrorCode::Ok;
        QTest::newRow("empty type")
            << QByteArray() << QByteArray("alice") << ErrorCode::InvalidType;
        QTest::newRow("type at limit")
            << QByteArray(int(kMaxTypeLength), 't') << QByteArray("a") << ErrorCode::Ok;
        QTest::newRow("type too long") << QByteArray(int(kMaxTypeLength) + 1, 't')
                                       << QByteArray("a") << ErrorCode::InvalidType;
        QTest::newRow("empty name")
            << QByteArray("user") << QByteArray() << ErrorCode::EmptyActorName;
        QTest::newRow("name at limit")
            << QByteArray("user") << QByteArray(int(kMaxNameLength), 'n') << ErrorCode::Ok;
        QTest::newRow("name too long")
            << QByteArray("user") << QByteArray(int(kMaxNameLength) + 1, 'n')
            << ErrorCode::InvalidActorName;
    }
    void validate() {
        QFETCH(QByteArray, type);
        QFETCH(QByteArray, name);
        QFETCH(ErrorCode, code);
        const std::string t = type.toStdString();
        const std::string n = name.toStdString();
        QCOMPARE(validateActorKey(t, n).code(), code);
        // put applies the same rule, and a valid key round-trips through LMDB.
        Status put = putAll({record(t, n, 99)});
        QCOMPARE(put.code(), code);
        Result<ReadTxn> txn = m_env->beginRead();
        Result<ActorRecord> found = Catalog::find(*m_env, txn->get(), t, n);
        QCOMPARE(found.status().code(), code);
        if (code == ErrorCode::Ok)
            QCOMPARE(found->name, n);
    }
};

QTEST_APPLESS_MAIN(TestCatalog)
#include "tst_catalog.moc"
