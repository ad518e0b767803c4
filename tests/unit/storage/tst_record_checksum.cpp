// Record checksums (on-disk format 2): CRC-32C itself, seals over database + key + value, and
// the storage reads that refuse a damaged record with an error naming it — a flipped byte in a
// page, a page value found under another page's key (a damaged B-tree), a raft log record, a
// catalog record and a meta value — counting it in troupe_corruption_detected_total and in
// verifyRecords(). Also prints the checksum's cost per 4 KiB page.

#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <string>

#include "core/bytes.h"
#include "core/metrics.h"
#include "storage/catalog.h"
#include "storage/checksum.h"
#include "storage/log_store.h"
#include "storage/mdb_util.h"
#include "storage/record_seal.h"
#include "storage/verify.h"
#include "storage/writer.h"
#include "storage_test_util.h"

using namespace troupe;
using namespace troupe::storage;
using namespace troupe::storage::test;

namespace {

std::string pageKeyOf(std::uint64_t actor, std::uint32_t pgno) {
    std::string key;
    putBigEndian64(key, actor);
    putBigEndian32(key, pgno);
    return key;
}

// Reads the raw stored value of `key` in `dbi`, lets `change` alter it, writes it back.
void tamper(Environment& env, MDB_dbi dbi, const std::string& key,
            const std::function<void(std::string&)>& change) {
    Status s = env.write([&](MDB_txn* txn) {
        MDB_val k = detail::toVal(key);
        MDB_val v;
        if (int rc = mdb_get(txn, dbi, &k, &v); rc != 0)
            return Environment::fromMdb(rc, "tamper get");
        std::string value(detail::toView(v));
        change(value);
        MDB_val nv = detail::toVal(value);
        return mdb_put(txn, dbi, &k, &nv, 0) == 0 ? Status::ok()
                                                  : Status(ErrorCode::IoError, "tamper put");
    });
    QVERIFY2(s, str(s));
}

} // namespace

class TestRecordChecksum : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<MetricsRegistry> m_metrics;
    std::unique_ptr<Environment> m_env;

    std::uint64_t metricValue() {
        return m_metrics->counter("troupe_corruption_detected_total", "").value();
    }

    void writeActor(std::uint64_t id, std::uint32_t pages) {
        LogEntry entry;
        entry.catalogOps.push_back(createOp("t", "a" + std::to_string(id), id));
        entry.writeSets.push_back(makeWriteSet(id, pages));
        entry.metaOps.push_back(MetaOp{MetaOp::Kind::Put, "sql/test", "value"});
        Writer writer(*m_env, *m_metrics);
        QVERIFY(writer.applyNow({&entry}, true));
    }

private slots:
    void init() {
        m_dir = std::make_unique<QTemporaryDir>();
        m_metrics = std::make_unique<MetricsRegistry>();
        EnvironmentOptions options;
        options.metrics = m_metrics.get();
        m_env = openEnv(m_dir->path(), options);
        QVERIFY(m_env);
    }
    void cleanup() {
        m_env.reset();
        m_dir.reset();
    }

    void crc32cKnownValues() {
        QCOMPARE(crc32c("123456789"), 0xE3069283u); // the standard check value
        QCOMPARE(crc32c(""), 0u);
        std::string zeros(32, '\0');
        QCOMPARE(crc32c(zeros), 0x8A9136AAu); // RFC 3720 B.4
        std::string page(kPageSize, '\0');
        for (std::size_t i = 0; i < page.size(); ++i)
            page[i] = char(i * 7 + i / 13);
        for (std::size_t n : {0, 1, 7, 8, 9, 63, 4096})
            QCOMPARE(crc32cExtend(0, page.data(), n), crc32cSoftware(0, page.data(), n));
        // Extending in pieces equals one pass.
        const std::uint32_t whole = crc32c(page);
        QCOMPARE(crc32cExtend(crc32cExtend(0, page.data(), 1000), page.data() + 1000, 3096), whole);
    }

    void sealCoversEveryByteKeyAndDatabase() {
        const std::string key = pageKeyOf(7, 3);
        const std::string payload = "stored page bytes";
        const std::string sealed = sealRecord(RecordDb::Pages, key, payload);
        QCOMPARE(sealed.size(), payload.size() + kSealSize);
        QCOMPARE(*unsealRecord(RecordDb::Pages, key, sealed, false), std::string_view(payload));
        for (std::size_t i = 0; i < sealed.size(); ++i) {
            for (int bit = 0; bit < 8; ++bit) {
                std::string damaged = sealed;
                damaged[i] = char(damaged[i] ^ (1 << bit));
                auto r = unsealRecord(RecordDb::Pages, key, damaged, false);
                QVERIFY2(!r, qPrintable(QString("byte %1 bit %2").arg(i).arg(bit)));
                QCOMPARE(r.status().code(), ErrorCode::Corruption);
                QVERIFY(r.status().message().find("actor 7 page 3") != std::string::npos);
            }
        }
        QVERIFY(!unsealRecord(RecordDb::Pages, pageKeyOf(7, 4), sealed, false));
        QVERIFY(!unsealRecord(RecordDb::Pages, pageKeyOf(8, 3), sealed, false));
        QVERIFY(!unsealRecord(RecordDb::RaftLog, key, sealed, false));
        // Format 1 values have no trailer: read only while the environment is at format 1.
        QVERIFY(!unsealRecord(RecordDb::Pages, key, payload, false));
        QCOMPARE(*unsealRecord(RecordDb::Pages, key, payload, true), std::string_view(payload));
    }

    void damagedPageIsRefusedNamingActorAndPage() {
        writeActor(5, 4);
        QCOMPARE(m_env->formatVersion(), kFormatVersion);
        tamper(*m_env, m_env->dbs().pages, pageKeyOf(5, 2),
               [](std::string& v) { v[v.size() / 2] ^= 0x10; });
        auto txn = m_env->beginRead();
        QVERIFY(txn);
        Page page;
        QVERIFY(PageStore::readPage(*m_env, txn->get(), 5, 1, page.data()));
        Status s = PageStore::readPage(*m_env, txn->get(), 5, 2, page.data());
        QCOMPARE(s.code(), ErrorCode::Corruption);
        QVERIFY2(s.message().find("actor 5 page 2 fails its checksum") != std::string::npos,
                 str(s));
        QCOMPARE(metricValue(), std::uint64_t(1));
        QVERIFY(!PageStore::readPage(*m_env, txn->get(), 5, 2, page.data()));
        QCOMPARE(m_env->corruptionsDetected(), std::uint64_t(2)); // counted each time

        VerifyReport report = verifyRecords(*m_env, txn->get());
        QCOMPARE(report.errorCount(), std::uint64_t(1));
        QVERIFY(report.errors.at(0).find("pages: actor 5 page 2") != std::string::npos);
    }

    void valueUnderAnotherKeyIsRefused() {
        // What a damaged B-tree that leads to another valid record looks like: page 1's value
        // (intact, sealed) under page 3's key.
        writeActor(6, 3);
        std::string page1;
        tamper(*m_env, m_env->dbs().pages, pageKeyOf(6, 1), [&](std::string& v) { page1 = v; });
        tamper(*m_env, m_env->dbs().pages, pageKeyOf(6, 3), [&](std::string& v) { v = page1; });
        auto txn = m_env->beginRead();
        Page page;
        Status s = PageStore::readPage(*m_env, txn->get(), 6, 3, page.data());
        QCOMPARE(s.code(), ErrorCode::Corruption);
        QVERIFY2(s.message().find("actor 6 page 3") != std::string::npos, str(s));
    }

    void damagedCatalogMetaAndLogRecordsAreRefused() {
        writeActor(9, 1);
        Status s = m_env->write(
            [&](MDB_txn* txn) { return LogStore::append(*m_env, txn, 2, 17, 3, 0, "payload"); });
        QVERIFY2(s, str(s));
        std::string logKey;
        putBigEndian32(logKey, 2);
        putBigEndian64(logKey, 17);
        tamper(*m_env, m_env->dbs().raftlog, logKey, [](std::string& v) { v[9] ^= 1; });
        tamper(*m_env, m_env->dbs().actors, encodeCatalogKey("t", "a9"),
               [](std::string& v) { v[3] ^= 1; });
        tamper(*m_env, m_env->dbs().meta, "sql/test", [](std::string& v) { v[0] ^= 1; });

        auto txn = m_env->beginRead();
        auto log = LogStore::read(*m_env, txn->get(), 2, 1, 100);
        QCOMPARE(log.status().code(), ErrorCode::Corruption);
        QVERIFY2(log.status().message().find("raft log shard 2 index 17") != std::string::npos,
                 str(log.status()));
        auto term = LogStore::term(*m_env, txn->get(), 2, 17);
        QCOMPARE(term.status().code(), ErrorCode::Corruption);
        auto actor = Catalog::find(*m_env, txn->get(), "t", "a9");
        QCOMPARE(actor.status().code(), ErrorCode::Corruption);
        QVERIFY2(actor.status().message().find("catalog record of actor t(a9)") !=
                     std::string::npos,
                 str(actor.status()));
        auto meta = m_env->readMeta(txn->get(), "sql/test");
        QCOMPARE(meta.status().code(), ErrorCode::Corruption);
        QVERIFY(meta.status().message().find("meta key sql/test") != std::string::npos);
        QVERIFY(metricValue() >= 4);

        VerifyReport report = verifyRecords(*m_env, txn->get());
        QCOMPARE(report.errorCount(), std::uint64_t(3));
        for (const VerifyDbStats& d : report.dbs)
            QCOMPARE(d.errors, std::uint64_t(d.name == "pages" || d.name == "raftstate" ? 0 : 1));
    }

    void checksumCostPerPage() {
        std::string page(kPageSize, '\0');
        for (std::size_t i = 0; i < page.size(); ++i)
            page[i] = char(i * 31 + 7);
        const std::string key = pageKeyOf(1, 1);
        constexpr int kRounds = 500; // a sanitizer build: see formats.md for release numbers
        std::uint32_t sink = 0;
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < kRounds; ++i)
            sink ^= recordChecksum(RecordDb::Pages, key, page);
        auto t1 = std::chrono::steady_clock::now();
        for (int i = 0; i < kRounds; ++i)
            sink ^= crc32cSoftware(sink, page.data(), page.size());
        auto t2 = std::chrono::steady_clock::now();
        auto ns = [](auto d) {
            return double(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()) /
                   kRounds;
        };
        qInfo("record checksum of a 4 KiB page: %.0f ns (this build), software-only CRC-32C: "
              "%.0f ns (sink %u)",
              ns(t1 - t0), ns(t2 - t1), sink);
    }
};

QTEST_APPLESS_MAIN(TestRecordChecksum)
#include "tst_record_checksum.moc"
