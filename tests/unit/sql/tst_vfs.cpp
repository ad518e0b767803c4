// The actor VFS: what a committed transaction hands back as its write set, that rollbacks and
// failed statements leave nothing, large transactions that spill SQLite's cache, databases
// that grow and shrink, and that SQL cannot reach other files. Each case applies the captured
// write set to LMDB the way the writer does and reads it back through a fresh connection.

#include <QTemporaryDir>
#include <QTest>

#include <random>

#include "sql/actor_connection.h"
#include "sql/vfs.h"
#include "storage/page_codec.h"
#include "storage/page_store.h"
#include "storage/writer.h"

using namespace troupe;
using namespace troupe::sql;

namespace {

std::int64_t asInt(const Value& v) {
    return std::get<std::int64_t>(v);
}

} // namespace

class TestVfs : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<storage::Environment> m_env;
    std::unique_ptr<ActorVfs> m_vfs;

    std::unique_ptr<ActorConnection> open(std::uint64_t actor, std::size_t cacheKiB = 512) {
        auto conn = ActorConnection::open(*m_vfs, actor, cacheKiB);
        if (!conn)
            qFatal("open: %s", conn.status().toString().c_str());
        return std::move(*conn);
    }

    // Applies the connection's captured write set (if any) like the storage writer does.
    bool applyCaptured(ActorConnection& conn, storage::WriteSet* out = nullptr) {
        auto ws = conn.file()->takeCaptured();
        if (!ws)
            return false;
        Status st =
            m_env->write([&](MDB_txn* txn) { return storage::PageStore::apply(*m_env, txn, *ws); });
        if (!st.isOk())
            qFatal("apply: %s", st.toString().c_str());
        conn.file()->finishPending();
        if (out)
            *out = *ws;
        return true;
    }

    std::int64_t scalar(ActorConnection& conn, const char* sql) {
        auto r = conn.run(sql, {});
        if (!r || r->rows.empty())
            qFatal("query %s: %s", sql, r.status().toString().c_str());
        return asInt(r->rows[0][0]);
    }

    QString integrity(ActorConnection& conn) {
        auto r = conn.run("PRAGMA integrity_check", {});
        if (!r)
            return QString::fromStdString(r.status().toString());
        return QString::fromStdString(std::get<std::string>(r->rows[0][0]));
    }

    std::uint32_t storedSize(std::uint64_t actor) {
        auto txn = m_env->beginRead();
        auto n = storage::PageStore::dbSize(*m_env, txn->get(), actor);
        return n ? *n : 0;
    }

private slots:
    void init() {
        m_dir = std::make_unique<QTemporaryDir>();
        auto env = storage::Environment::open(m_dir->path().toStdString(), {});
        QVERIFY2(env.isOk(), env.status().toString().c_str());
        m_env = std::move(*env);
        m_vfs = std::make_unique<ActorVfs>(*m_env);
    }
    void cleanup() {
        m_vfs.reset();
        m_env.reset();
        m_dir.reset();
    }

    void commitCapturesWriteSet() {
        auto conn = open(1);
        QVERIFY(conn->exec("BEGIN").isOk());
        QVERIFY(conn->run("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)", {}).isOk());
        QVERIFY(conn->run("INSERT INTO t(v) VALUES ('a'), ('b')", {}).isOk());
        QVERIFY(conn->exec("COMMIT").isOk());
        storage::WriteSet ws;
        QVERIFY(applyCaptured(*conn, &ws));
        QCOMPARE(ws.actorId, quint64(1));
        QCOMPARE(ws.dbPages, 2u); // page 1 (schema) and the table's root page
        QCOMPARE(ws.pages.size(), std::size_t(2));
        QCOMPARE(ws.pages[0].pgno, 1u);
        std::uint8_t page[storage::kPageSize];
        QVERIFY(storage::decodePage(ws.pages[0].stored, page).isOk());
        QCOMPARE(QByteArray(reinterpret_cast<char*>(page), 16),
                 QByteArray("SQLite format 3\0", 16));
        QCOMPARE(storedSize(1), 2u);

        // A single-row insert writes page 1 (change counter) and the table leaf.
        QVERIFY(conn->exec("BEGIN").isOk());
        QVERIFY(conn->run("INSERT INTO t(v) VALUES ('c')", {}).isOk());
        QVERIFY(conn->exec("COMMIT").isOk());
        QVERIFY(applyCaptured(*conn, &ws));
        QCOMPARE(ws.pages.size(), std::size_t(2));

        conn.reset();
        auto again = open(1);
        QCOMPARE(scalar(*again, "SELECT count(*) FROM t"), 3);
        QCOMPARE(integrity(*again), QStringLiteral("ok"));
    }

    void readOnlyTransactionCapturesNothing() {
        auto conn = open(2);
        QVERIFY(conn->exec("CREATE TABLE t(x)").isOk());
        QVERIFY(applyCaptured(*conn));
        QVERIFY(conn->exec("BEGIN").isOk());
        QVERIFY(conn->run("SELECT * FROM t", {}).isOk());
        QVERIFY(conn->exec("COMMIT").isOk());
        QVERIFY(!conn->file()->takeCaptured().has_value());
        // A write that matches no row changes no page either.
        QVERIFY(conn->exec("BEGIN").isOk());
        QVERIFY(conn->run("UPDATE t SET x = 1 WHERE x = 2", {}).isOk());
        QVERIFY(conn->exec("COMMIT").isOk());
        QVERIFY(!conn->file()->takeCaptured().has_value());
    }

    void rollbackLeavesNothing() {
        auto conn = open(3);
        QVERIFY(conn->exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE)").isOk());
        QVERIFY(applyCaptured(*conn));
        const std::uint32_t before = storedSize(3);

        QVERIFY(conn->exec("BEGIN").isOk());
        QVERIFY(conn->run("INSERT INTO t(v) VALUES ('x')", {}).isOk());
        QVERIFY(conn->exec("ROLLBACK").isOk());
        QVERIFY(!conn->file()->takeCaptured().has_value());

        // A failing statement in autocommit mode rolls back on its own.
        QVERIFY(conn->run("INSERT INTO t(v) VALUES ('y')", {}).isOk());
        QVERIFY(applyCaptured(*conn));
        auto dup = conn->run("INSERT INTO t(v) VALUES ('z'), ('y')", {});
        QVERIFY(!dup.isOk());
        QCOMPARE(dup.status().code(), ErrorCode::SqlError);
        QVERIFY(dup.status().message().find("UNIQUE") != std::string::npos);
        QVERIFY(!conn->file()->takeCaptured().has_value());
        QCOMPARE(scalar(*conn, "SELECT count(*) FROM t"), 1);
        QCOMPARE(storedSize(3), before);
    }

    void largeTransactionSpillsAndCommits() {
        // 64 KiB of page cache and ~4 MiB of rows: SQLite spills pages mid-transaction.
        auto conn = open(4, 64);
        QVERIFY(conn->exec("CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)").isOk());
        QVERIFY(applyCaptured(*conn));
        QVERIFY(conn->exec("BEGIN").isOk());
        for (int i = 0; i < 1000; ++i)
            QVERIFY(conn->run("INSERT INTO t(b) VALUES (randomblob(4000))", {}).isOk());
        QVERIFY(conn->exec("COMMIT").isOk());
        storage::WriteSet ws;
        QVERIFY(applyCaptured(*conn, &ws));
        QVERIFY2(ws.dbPages > 1000, std::to_string(ws.dbPages).c_str());
        QCOMPARE(storedSize(4), ws.dbPages);

        // The same after a spill, rolled back: nothing captured, nothing changed.
        QVERIFY(conn->exec("BEGIN").isOk());
        for (int i = 0; i < 500; ++i)
            QVERIFY(conn->run("INSERT INTO t(b) VALUES (randomblob(4000))", {}).isOk());
        QVERIFY(conn->run("DELETE FROM t WHERE id < 300", {}).isOk());
        QVERIFY(conn->exec("ROLLBACK").isOk());
        QVERIFY(!conn->file()->takeCaptured().has_value());
        conn.reset();
        auto again = open(4);
        QCOMPARE(scalar(*again, "SELECT count(*) FROM t"), 1000);
        QCOMPARE(integrity(*again), QStringLiteral("ok"));
    }

    void databaseGrowsAndShrinks() {
        auto conn = open(5);
        QVERIFY(conn->exec("CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)").isOk());
        QVERIFY(applyCaptured(*conn));
        QVERIFY(conn->exec("BEGIN").isOk());
        for (int i = 0; i < 300; ++i)
            QVERIFY(conn->run("INSERT INTO t(b) VALUES (zeroblob(3000))", {}).isOk());
        QVERIFY(conn->exec("COMMIT").isOk());
        applyCaptured(*conn);
        const std::uint32_t grown = storedSize(5);
        QVERIFY(grown > 250);

        QVERIFY(conn->exec("DELETE FROM t WHERE id > 10").isOk());
        QVERIFY(applyCaptured(*conn));
        QVERIFY(conn->exec("VACUUM").isOk());
        storage::WriteSet ws;
        QVERIFY(applyCaptured(*conn, &ws));
        QVERIFY2(ws.dbPages < 20, std::to_string(ws.dbPages).c_str());
        QCOMPARE(storedSize(5), ws.dbPages);
        // Pages past the new end are gone from LMDB, not merely unreachable.
        auto txn = m_env->beginRead();
        std::uint8_t page[storage::kPageSize];
        QCOMPARE(storage::PageStore::readPage(*m_env, txn->get(), 5, grown, page).code(),
                 ErrorCode::NotFound);
        txn->reset();
        conn.reset();
        auto again = open(5);
        QCOMPARE(scalar(*again, "SELECT count(*) FROM t"), 10);
        QCOMPARE(integrity(*again), QStringLiteral("ok"));
    }

    void sqlCannotReachOtherFiles() {
        auto conn = open(6);
        QVERIFY(conn->exec("CREATE TABLE t(x)").isOk());
        applyCaptured(*conn);
        auto attach = conn->run("ATTACH 'troupe-actor-1-0' AS other", {});
        QVERIFY(!attach.isOk());
        QCOMPARE(attach.status().code(), ErrorCode::NotPermitted);
        auto into = conn->run("VACUUM INTO 'troupe-actor-1-0'", {});
        QVERIFY(!into.isOk());
        auto pragma = conn->run("PRAGMA journal_mode=WAL", {});
        QCOMPARE(pragma.status().code(), ErrorCode::NotPermitted);
        auto begin = conn->run("BEGIN", {});
        QCOMPARE(begin.status().code(), ErrorCode::NotPermitted);
    }

    // The same request text reuses its prepared statements: new parameters are bound each
    // time, and a schema change in between re-prepares them.
    void repeatedRequestsFollowParamsAndSchema() {
        auto conn = open(9);
        QVERIFY(conn->exec("CREATE TABLE t(a)").isOk());
        QVERIFY(applyCaptured(*conn));
        const char* insert = "INSERT INTO t(a) VALUES (?1); SELECT * FROM t WHERE a = ?1";
        for (std::int64_t i = 1; i <= 3; ++i) {
            auto r = conn->run(insert, {i});
            QVERIFY2(r.isOk(), r.status().toString().c_str());
            QCOMPARE(r->rows.size(), std::size_t(1));
            QCOMPARE(asInt(r->rows[0][0]), i);
            QVERIFY(applyCaptured(*conn));
        }
        QVERIFY(conn->run("ALTER TABLE t ADD COLUMN b DEFAULT 'x'", {}).isOk());
        QVERIFY(applyCaptured(*conn));
        auto r = conn->run(insert, {std::int64_t(4)});
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        QVERIFY(applyCaptured(*conn));
        QCOMPARE(r->columns, (std::vector<std::string>{"a", "b"}));
        QCOMPARE(std::get<std::string>(r->rows[0][1]), std::string("x"));
        // A failing run of a cached request does not poison the next one.
        QVERIFY(!conn->run(insert, {}).isOk());
        QCOMPARE(asInt(conn->run(insert, {std::int64_t(5)})->rows[0][0]), 5);
        QVERIFY(applyCaptured(*conn));
        QCOMPARE(scalar(*conn, "SELECT count(*) FROM t"), 5);
    }

    void pageSizeChangeIsRefused() {
        auto conn = open(7);
        // On an empty database SQLite would take a new page size; the VFS refuses the write.
        QVERIFY(!conn->run("PRAGMA page_size=8192", {}).isOk());
    }

    // Random transactions (commits, rollbacks, failures, cache spills, VACUUM) against the
    // actor and against a reference in-memory database: the contents must stay identical.
    void randomizedAgainstReference() {
        const unsigned seed = unsigned(std::random_device{}());
        qInfo("seed %u", seed);
        std::mt19937 rng(seed);
        sqlite3* ref = nullptr;
        QCOMPARE(sqlite3_open(":memory:", &ref), SQLITE_OK);
        const char* schema = "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER UNIQUE, b BLOB)";
        sqlite3_exec(ref, schema, nullptr, nullptr, nullptr);
        auto conn = open(8, 32);
        QVERIFY(conn->exec(schema).isOk());
        QVERIFY(applyCaptured(*conn));
        for (int step = 0; step < 300; ++step) {
            const int op = int(rng() % 10);
            std::string sql;
            if (op < 5)
                sql = "INSERT INTO t(k, b) VALUES (" + std::to_string(rng() % 2000) +
                      ", zeroblob(" + std::to_string(rng() % 6000) + "))";
            else if (op < 7)
                sql = "DELETE FROM t WHERE k % 7 = " + std::to_string(rng() % 7);
            else if (op < 9)
                sql = "UPDATE t SET b = zeroblob(" + std::to_string(rng() % 9000) + ") WHERE k > " +
                      std::to_string(rng() % 2000);
            else
                sql = "VACUUM";
            const bool rollback = rng() % 5 == 0 && sql != "VACUUM";
            if (sql == "VACUUM") {
                Status vacuum = conn->exec("VACUUM");
                QVERIFY2(vacuum.isOk(), vacuum.toString().c_str());
                applyCaptured(*conn);
                continue;
            }
            QVERIFY(conn->exec("BEGIN").isOk());
            auto r = conn->run(sql, {});
            if (rollback || !r.isOk()) {
                QVERIFY(conn->exec("ROLLBACK").isOk());
                QVERIFY(!conn->file()->takeCaptured().has_value());
                continue;
            }
            QVERIFY(conn->exec("COMMIT").isOk());
            applyCaptured(*conn);
            QCOMPARE(sqlite3_exec(ref, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
        }
        conn.reset();
        auto again = open(8);
        const char* digest = "SELECT count(*), total(k), total(length(b)) FROM t";
        auto mine = again->run(digest, {});
        QVERIFY(mine.isOk());
        sqlite3_stmt* stmt = nullptr;
        sqlite3_prepare_v2(ref, digest, -1, &stmt, nullptr);
        QCOMPARE(sqlite3_step(stmt), SQLITE_ROW);
        QCOMPARE(asInt(mine->rows[0][0]), std::int64_t(sqlite3_column_int64(stmt, 0)));
        QCOMPARE(std::get<double>(mine->rows[0][1]), sqlite3_column_double(stmt, 1));
        QCOMPARE(std::get<double>(mine->rows[0][2]), sqlite3_column_double(stmt, 2));
        sqlite3_finalize(stmt);
        sqlite3_close(ref);
        QCOMPARE(integrity(*again), QStringLiteral("ok"));
    }
};

QTEST_APPLESS_MAIN(TestVfs)
#include "tst_vfs.moc"
