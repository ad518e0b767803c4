// Unit tests for shared/core: Status/Result, MurmurHash3 reference vectors, big-endian
// helpers, the metrics registry's Prometheus rendering.

#include <QTest>

#include "core/bytes.h"
#include "core/metrics.h"
#include "core/murmur3.h"
#include "core/status.h"

using namespace troupe;

class TestCore : public QObject {
    Q_OBJECT
private slots:
    void statusOkIsCheap() {
        Status s;
        QVERIFY(s.isOk());
        QCOMPARE(s.code(), ErrorCode::Ok);
        QCOMPARE(QString::fromStdString(s.toString()), QStringLiteral("ok"));
    }

    void statusCarriesCodeAndContext() {
        Status s(ErrorCode::NoCreate, "actor user(alice) does not exist");
        QVERIFY(!s.isOk());
        Status c = s.withContext("exec");
        QCOMPARE(c.code(), ErrorCode::NoCreate);
        QCOMPARE(QString::fromStdString(c.toString()),
                 QStringLiteral("no_create: exec: actor user(alice) does not exist"));
    }

    void resultHoldsValueOrError() {
        Result<int> good(42);
        QVERIFY(good.isOk());
        QCOMPARE(*good, 42);
        Result<int> bad(Status(ErrorCode::NotFound, "x"));
        QVERIFY(!bad.isOk());
        QCOMPARE(bad.status().code(), ErrorCode::NotFound);
    }

    // Reference values of MurmurHash3_x86_32 (the published test vectors).
    void murmur3_data() {
        QTest::addColumn<QByteArray>("key");
        QTest::addColumn<uint>("seed");
        QTest::addColumn<uint>("expected");
        QTest::newRow("empty") << QByteArray() << 0u << 0u;
        QTest::newRow("empty seed 1") << QByteArray() << 1u << 0x514E28B7u;
        QTest::newRow("empty seed ffffffff") << QByteArray() << 0xffffffffu << 0x81F16F39u;
        QTest::newRow("zero word") << QByteArray(4, '\0') << 0u << 0x2362F9DEu;
        QTest::newRow("Hello, world!") << QByteArray("Hello, world!") << 1234u << 0xFAF6CDB3u;
        QTest::newRow("abc") << QByteArray("abc") << 0u << 0xB3DD93FAu;
        QTest::newRow("abcd") << QByteArray("abcd") << 0u << 0x43ED676Au;
        QTest::newRow("aaaa seed 9747b28c") << QByteArray("aaaa") << 0x9747b28cu << 0x5A97808Au;
        QTest::newRow("quick fox") << QByteArray("The quick brown fox jumps over the lazy dog")
                                   << 0x9747b28cu << 0x2FA826CDu;
    }
    void murmur3() {
        QFETCH(QByteArray, key);
        QFETCH(uint, seed);
        QFETCH(uint, expected);
        QCOMPARE(uint(murmur3_32(std::string_view(key.constData(), key.size()), seed)), expected);
    }

    void bigEndianRoundTripAndOrder() {
        std::string a, b;
        putBigEndian64(a, 255);
        putBigEndian64(b, 256);
        QVERIFY(a < b); // byte order sorts numerically: what LMDB keys rely on
        ByteReader r(a);
        QCOMPARE(r.u64(), quint64(255));
        QVERIFY(r.atEnd());
        QCOMPARE(r.u8(), quint8(0));
        QVERIFY(!r.ok()); // reading past the end is remembered, not a crash
    }

    void prometheusRendering() {
        MetricsRegistry m;
        m.counter("troupe_writes_total", "Writes").add(3);
        m.gauge("troupe_actors_open", "Open").set(7);
        m.callbackGauge("troupe_actors_total", "All actors", [] { return 12.0; });
        QCOMPARE(&m.counter("troupe_writes_total", "again"), &m.counter("troupe_writes_total", ""));
        const QString text = QString::fromStdString(m.renderPrometheus());
        QVERIFY(text.contains("# TYPE troupe_writes_total counter\ntroupe_writes_total 3\n"));
        QVERIFY(text.contains("# TYPE troupe_actors_open gauge\ntroupe_actors_open 7\n"));
        QVERIFY(text.contains("troupe_actors_total 12\n"));
    }
};

QTEST_APPLESS_MAIN(TestCore)
#include "tst_core.moc"
