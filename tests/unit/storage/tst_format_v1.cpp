// On-disk format 1 (no record checksums) still opens: tests/fixtures/format-v1/data.mdb, written by
// the format-1 server, is read as it is by a read-only open and by `troupe-server verify`, and a
// writable open upgrades it to format 2 (every record sealed) with every row, user and schema
// intact (resources/docs/formats.md, "Record checksums").

#include <QTemporaryDir>
#include <QTest>

#include <filesystem>
#include <sstream>

#include "core/metrics.h"
#include "sql/database.h"
#include "storage/catalog.h"
#include "storage/environment.h"
#include "storage/verify.h"

using namespace troupe;

namespace {

const char* str(const Status& s) {
    static thread_local std::string text;
    text = s.toString();
    return text.c_str();
}

std::int64_t asInt(const sql::Value& v) {
    return std::get<std::int64_t>(v);
}

} // namespace

class TestFormatV1 : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    std::filesystem::path m_data;
    MetricsRegistry m_metrics;
    sql::Session m_node;

    std::unique_ptr<sql::Database> openDatabase() {
        sql::DatabaseOptions options;
        options.engine.dataDir = m_data;
        options.engine.metrics = &m_metrics;
        options.engine.executorThreads = 1;
        options.kvShards = 2;
        auto db = sql::Database::open(options);
        if (!db)
            qFatal("open: %s", str(db.status()));
        return std::move(*db);
    }

    std::unique_ptr<storage::Environment> openReadOnly() {
        storage::EnvironmentOptions options;
        options.readOnly = true;
        auto env = storage::Environment::open(m_data, options);
        if (!env)
            qFatal("open read-only: %s", str(env.status()));
        return std::move(*env);
    }

    void checkContents(sql::Database& db, std::size_t musicRows = 3) {
        QVERIFY(db.initialized());
        QVERIFY(db.authenticate("root", "rootpass"));
        QVERIFY(db.authenticate("app", "secret"));
        QVERIFY(!db.authenticate("app", "wrong"));
        auto music = db.query(m_node, "ACTOR type1(music); SELECT id, txt, i FROM tab ORDER BY id");
        QVERIFY2(music, str(music.status()));
        QCOMPARE(music->rows.size(), musicRows);
        QCOMPARE(std::get<std::string>(music->rows[1][1]), std::string("beta"));
        QCOMPARE(asInt(music->rows[2][2]), -30);
        auto video = db.query(m_node, "ACTOR type1(video); SELECT sum(i), count(*) FROM tab");
        QVERIFY2(video, str(video.status()));
        QCOMPARE(asInt(video->rows[0][0]), 3);
        QCOMPARE(asInt(video->rows[0][1]), 2);
        auto kv = db.query(m_node, "ACTOR counters(k1); SELECT val FROM actors WHERE id = 'k1'");
        QVERIFY2(kv, str(kv.status()));
        QCOMPARE(asInt(kv->rows.at(0)[0]), 42);
        QCOMPARE(db.actorTypes().size(), std::size_t(2));
    }

private slots:
    void init() {
        m_dir = std::make_unique<QTemporaryDir>();
        m_data = m_dir->path().toStdString();
        std::filesystem::copy_file(TROUPE_FIXTURE_DIR "/format-v1/data.mdb", m_data / "data.mdb");
    }
    void cleanup() { m_dir.reset(); }

    void readOnlyOpenReadsFormatOneAsItIs() {
        auto env = openReadOnly();
        QCOMPARE(env->formatVersion(), storage::kFormatVersionLegacy);
        QVERIFY(env->legacyRecords());
        auto txn = env->beginRead();
        QVERIFY(txn);
        auto music = storage::Catalog::find(*env, txn->get(), "type1", "music");
        QVERIFY2(music, str(music.status()));
        storage::VerifyReport report = storage::verifyRecords(*env, txn->get());
        QVERIFY(report.clean());
        QVERIFY(report.records() > 20);
        std::uint64_t legacy = 0;
        for (const storage::VerifyDbStats& d : report.dbs)
            legacy += d.legacy;
        QCOMPARE(legacy + 1, report.records()); // all but format_version, checked at open
    }

    void verifyCommandOnFormatOne() {
        std::ostringstream out, err;
        QCOMPARE(storage::runVerifyCommand(m_data, out, err), 0);
        QVERIFY2(out.str().find("on-disk format 1") != std::string::npos, out.str().c_str());
        QVERIFY2(out.str().find("without checksum (format 1)") != std::string::npos,
                 out.str().c_str());
        QVERIFY2(out.str().find("OK: ") != std::string::npos, out.str().c_str());
        QVERIFY(err.str().find("verify: pages: ") != std::string::npos);
        // The directory is untouched: still format 1.
        QCOMPARE(openReadOnly()->formatVersion(), storage::kFormatVersionLegacy);
    }

    void verifyCommandLine() {
        std::ostringstream out, err;
        QCOMPARE(storage::runVerifyCommandLine({"troupe-server", "verify"}, out, err), 2);
        QVERIFY(err.str().find("--data-dir is required") != std::string::npos);
        QCOMPARE(storage::runVerifyCommandLine({"troupe-server", "verify", "--bogus"}, out, err),
                 2);
        QCOMPARE(
            storage::runVerifyCommandLine(
                {"troupe-server", "verify", "--data-dir", (m_data / "nope").string()}, out, err),
            1);
        QVERIFY(err.str().find("cannot open") != std::string::npos);
    }

    void writableOpenUpgradesToFormatTwo() {
        {
            auto db = openDatabase();
            checkContents(*db);
            auto w = db->query(m_node, "ACTOR type1(music); INSERT INTO tab VALUES (4,'new',4)");
            QVERIFY2(w, str(w.status()));
        }
        auto env = openReadOnly();
        QCOMPARE(env->formatVersion(), storage::kFormatVersion);
        QVERIFY(!env->legacyRecords());
        auto txn = env->beginRead();
        storage::VerifyReport report = storage::verifyRecords(*env, txn->get());
        QVERIFY(report.clean());
        for (const storage::VerifyDbStats& d : report.dbs)
            QCOMPARE(d.legacy, std::uint64_t(0));
        txn->reset();
        env.reset();
        auto again = openDatabase(); // format 2 reopens as it is
        checkContents(*again, 4);
        auto r = again->query(m_node, "ACTOR type1(music); SELECT sum(i) FROM tab");
        QVERIFY2(r, str(r.status()));
        QCOMPARE(asInt(r->rows[0][0]), 4);
    }
};

QTEST_APPLESS_MAIN(TestFormatV1)
#include "tst_format_v1.moc"
