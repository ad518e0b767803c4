// inspectActor (daemon/sql/actor_inspect.h): an actor's size, stored bytes and applied schema
// version read from committed storage, before and after a lazy migration; NotFound for actors
// that do not exist or were deleted; the shard of a hash.

#include <QtTest>

#include "core/metrics.h"
#include "sql/actor_inspect.h"
#include "sql/database.h"

using namespace troupe;
using namespace troupe::sql;

namespace {

const char* str(const Status& s) {
    static thread_local std::string text;
    text = s.toString();
    return text.c_str();
}

} // namespace

class TestActorInspect : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    Session m_node; // the node itself: every right
    MetricsRegistry m_metrics;

private slots:
    void sizesAndSchemaVersion() {
        DatabaseOptions options;
        options.engine.metrics = &m_metrics;
        options.engine.dataDir = (m_dir.path() + "/db").toStdString();
        options.engine.executorThreads = 2;
        auto db = Database::open(options);
        QVERIFY2(db, str(db.status()));
        Database& d = **db;
        QVERIFY(d.config(m_node, "INSERT INTO groups VALUES ('grp1','cluster');\n"
                                 "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1');\n"
                                 "CREATE USER 'root' IDENTIFIED BY 'rootpass';"));
        QVERIFY(d.schema(m_node, "ACTOR t\nCREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT)\n"
                                 "CREATE TABLE b (id INTEGER PRIMARY KEY)\n"));

        QCOMPARE(inspectActor(d.engine(), "t", "nobody").status().code(), ErrorCode::NotFound);

        auto w = d.query(m_node, "ACTOR t(one) create; INSERT INTO a (v) VALUES ('x');");
        QVERIFY2(w, str(w.status()));
        auto info = inspectActor(d.engine(), "t", "one");
        QVERIFY2(info, str(info.status()));
        QVERIFY(info->id > 0);
        QCOMPARE(info->schemaVersion, 2u); // both statements of type t ran
        QVERIFY2(info->pages >= 3, "page 1 and a root page per table");
        QCOMPARE(info->fileBytes, std::uint64_t(info->pages) * 4096);
        QVERIFY(info->storedBytes > 0);
        QVERIFY(info->storedBytes < std::uint64_t(info->pages) * 4096); // LZ4 compresses

        // A bigger actor takes more pages.
        auto big = d.query(m_node, "ACTOR t(one); INSERT INTO a (v) SELECT hex(randomblob(500)) "
                                   "FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 "
                                   "FROM c WHERE x < 100) SELECT x FROM c);");
        QVERIFY2(big, str(big.status()));
        auto grown = inspectActor(d.engine(), "t", "one");
        QVERIFY2(grown, str(grown.status()));
        QVERIFY(grown->pages > info->pages + 10);
        QVERIFY(grown->storedBytes > info->storedBytes);

        // A schema change is applied lazily: the stored version moves only when the actor runs
        // a request.
        QVERIFY(d.schema(m_node, "ACTOR t\nCREATE TABLE c (id INTEGER PRIMARY KEY)\n"));
        auto before = inspectActor(d.engine(), "t", "one");
        QVERIFY2(before, str(before.status()));
        QCOMPARE(before->schemaVersion, 2u);
        QVERIFY(d.query(m_node, "ACTOR t(one); SELECT count(*) FROM c;"));
        auto after = inspectActor(d.engine(), "t", "one");
        QVERIFY2(after, str(after.status()));
        QCOMPARE(after->schemaVersion, 3u);

        QVERIFY(d.query(m_node, "ACTOR t(one); PRAGMA delete;"));
        QCOMPARE(inspectActor(d.engine(), "t", "one").status().code(), ErrorCode::NotFound);
    }

    void shardOfHashSplitsTheRange() {
        QCOMPARE(shardOfHash(0, 4), 0u);
        QCOMPARE(shardOfHash(0x3fffffffu, 4), 0u);
        QCOMPARE(shardOfHash(0x40000000u, 4), 1u);
        QCOMPARE(shardOfHash(0xffffffffu, 4), 3u);
        QCOMPARE(shardOfHash(0xffffffffu, 1), 0u);
    }
};

QTEST_APPLESS_MAIN(TestActorInspect)
#include "tst_actor_inspect.moc"
