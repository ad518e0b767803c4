// The Thrift layer's pure parts (daemon/thrift): value and error conversion, flags, binding
// several rows of parameters by renumbering them, and the connection transport's framing over
// an in-memory byte stream.

#include <QTest>

#include <thrift/transport/TTransportException.h>

#include <cmath>

#include "core/metrics.h"
#include "thrift/convert.h"
#include "thrift/transport.h"

using namespace troupe;
using namespace troupe::thrift;

namespace {

gen::Val text(const std::string& s) {
    gen::Val v;
    v.__set_text(s);
    return v;
}

gen::Val bigint(std::int64_t i) {
    gen::Val v;
    v.__set_bigint(i);
    return v;
}

// Serves `input` in chunks of `chunk` bytes; collects what is written.
class MemoryStream : public ByteStream {
public:
    MemoryStream(std::string input, std::size_t chunk) : m_in(std::move(input)), m_chunk(chunk) {}
    std::size_t readSome(std::uint8_t* buffer, std::size_t size) override {
        const std::size_t n = std::min({size, m_chunk, m_in.size() - m_pos});
        std::memcpy(buffer, m_in.data() + m_pos, n);
        m_pos += n;
        return n;
    }
    void writeAll(const std::uint8_t* data, std::size_t size) override {
        out.append(reinterpret_cast<const char*>(data), size);
    }
    std::string out;

private:
    std::string m_in;
    std::size_t m_chunk;
    std::size_t m_pos = 0;
};

std::string be32(std::uint32_t v) {
    return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

std::string readAll(ConnectionTransport& t, std::size_t n) {
    std::string s(n, '\0');
    t.readAll(reinterpret_cast<std::uint8_t*>(s.data()), std::uint32_t(n));
    return s;
}

} // namespace

class TestThriftConvert : public QObject {
    Q_OBJECT

private slots:
    void errorCodesAreActorDbs_data() {
        QTest::addColumn<int>("troupe");
        QTest::addColumn<int>("actordb");
        QTest::newRow("NotLoggedIn") << int(ErrorCode::NotLoggedIn) << 1;
        QTest::newRow("InvalidType") << int(ErrorCode::InvalidType) << 4;
        QTest::newRow("SqlError") << int(ErrorCode::SqlError) << 6;
        QTest::newRow("InvalidArgument") << int(ErrorCode::InvalidArgument) << 6;
        QTest::newRow("ConsensusTimeout") << int(ErrorCode::ConsensusTimeout) << 7;
        QTest::newRow("NoCreate") << int(ErrorCode::NoCreate) << 15;
        QTest::newRow("NotInitialized") << int(ErrorCode::NotInitialized) << 14;
        QTest::newRow("TooLarge") << int(ErrorCode::TooLarge) << 100;
        QTest::newRow("Busy") << int(ErrorCode::Busy) << 100;
    }
    void errorCodesAreActorDbs() {
        QFETCH(int, troupe);
        QFETCH(int, actordb);
        QCOMPARE(int(thriftErrorCode(ErrorCode(troupe))), actordb);
    }

    void errorInfo() {
        auto e = invalidRequest(Status(ErrorCode::TooLarge, "request of 20 MiB"));
        QCOMPARE(int(e.code), 100);
        QCOMPARE(e.info, std::string("too_large: request of 20 MiB"));
        e = invalidRequest(Status(ErrorCode::SqlError, "near \"x\": syntax error"));
        QCOMPARE(e.info, std::string("near \"x\": syntax error"));
    }

    void values() {
        gen::Val b;
        b.__set_bval(true);
        QCOMPARE(*fromVal(b), sql::Value(std::int64_t(1)));
        gen::Val s;
        s.__set_smallint(-3);
        QCOMPARE(*fromVal(s), sql::Value(std::int64_t(-3)));
        gen::Val n;
        n.__set_isnull(true);
        QCOMPARE(*fromVal(n), sql::Value(std::monostate{}));
        QCOMPARE(fromVal(gen::Val{}).status().code(), ErrorCode::InvalidArgument);
        QVERIFY(toVal(sql::Value(sql::Blob{"ab"})).__isset.blob);
        QVERIFY(toVal(sql::Value(std::monostate{})).isnull);
        QCOMPARE(toVal(sql::Value(2.5)).real, 2.5);
    }

    void flags() {
        auto f = parseFlags({"create", "SAFE", " fsync "});
        QVERIFY(f.isOk());
        QVERIFY(f->create && f->safe && f->fsync);
        QCOMPARE(parseFlags({"creat"}).status().code(), ErrorCode::InvalidArgument);
    }

    void renumber_data() {
        QTest::addColumn<QString>("sql");
        QTest::addColumn<int>("offset");
        QTest::addColumn<QString>("expected");
        QTest::addColumn<int>("highest");
        QTest::newRow("numbered") << "VALUES (?1, ?2)" << 2 << "VALUES (?3, ?4)" << 2;
        QTest::newRow("anonymous") << "VALUES (?, ?)" << 2 << "VALUES (?3, ?4)" << 2;
        QTest::newRow("mixed as SQLite") << "VALUES (?2, ?)" << 0 << "VALUES (?2, ?3)" << 3;
        QTest::newRow("quotes and comments") << "SELECT '?1', \"?2\" -- ?3\n, ?1 /* ?4 */" << 5
                                             << "SELECT '?1', \"?2\" -- ?3\n, ?6 /* ?4 */" << 1;
    }
    void renumber() {
        QFETCH(QString, sql);
        QFETCH(int, offset);
        QFETCH(QString, expected);
        QFETCH(int, highest);
        auto r = renumberParameters(sql.toStdString(), offset);
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        QCOMPARE(QString::fromStdString(r->sql), expected);
        QCOMPARE(r->highest, highest);
    }

    // Named parameters take SQLite's numbers (first appearance, one past the highest so far;
    // the same number for every use), so that several rows can bind them by position.
    void renumberNamed_data() {
        QTest::addColumn<QString>("sql");
        QTest::addColumn<int>("offset");
        QTest::addColumn<QString>("expected");
        QTest::addColumn<int>("highest");
        QTest::newRow("colon") << "VALUES (:a, :b, :a)" << 0 << "VALUES (?1, ?2, ?1)" << 2;
        QTest::newRow("offset") << "VALUES (:a, :b, :a)" << 4 << "VALUES (?5, ?6, ?5)" << 2;
        QTest::newRow("prefixes differ")
            << "VALUES (:a, @a, $a)" << 0 << "VALUES (?1, ?2, ?3)" << 3;
        QTest::newRow("after a number") << "VALUES (?3, :x, ?)" << 1 << "VALUES (?4, ?5, ?6)" << 5;
        QTest::newRow("not in strings") << "SELECT '12:30', :t" << 2 << "SELECT '12:30', ?3" << 1;
        QTest::newRow("not inside a word") << "SELECT a$b, :c_1" << 0 << "SELECT a$b, ?1" << 1;
    }
    void renumberNamed() {
        QFETCH(QString, sql);
        QFETCH(int, offset);
        QFETCH(QString, expected);
        QFETCH(int, highest);
        auto r = renumberParameters(sql.toStdString(), offset);
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        QCOMPARE(QString::fromStdString(r->sql), expected);
        QCOMPARE(r->highest, highest);
    }

    void bindSeveralRowsNamed() {
        auto b = bindRows("INSERT INTO t VALUES (:id, :v)",
                          {{bigint(1), text("a")}, {bigint(2), text("b")}, {bigint(3)}});
        QVERIFY2(b.isOk(), b.status().toString().c_str());
        QCOMPARE(b->sql, std::string("INSERT INTO t VALUES (?1, ?2)\n;\n"
                                     "INSERT INTO t VALUES (?3, ?4)\n;\n"
                                     "INSERT INTO t VALUES (?5, ?6)"));
        QCOMPARE(b->params.size(), std::size_t(6));
        QCOMPARE(b->params[2], sql::Value(std::int64_t(2)));
        QCOMPARE(b->params[3], sql::Value(std::string("b")));
        QCOMPARE(b->params[5], sql::Value(std::monostate{})); // a short row binds NULL
        // One row keeps the SQL as written: SQLite numbers the names itself.
        auto one = bindRows("SELECT :a", {{bigint(7)}});
        QCOMPARE(one->sql, std::string("SELECT :a"));
    }

    void bindSeveralRows() {
        auto b = bindRows("INSERT INTO t VALUES (?1, ?2)",
                          {{bigint(1), text("a")}, {bigint(2), text("b")}});
        QVERIFY(b.isOk());
        QCOMPARE(b->sql,
                 std::string("INSERT INTO t VALUES (?1, ?2)\n;\nINSERT INTO t VALUES (?3, ?4)"));
        QCOMPARE(b->params.size(), std::size_t(4));
        QCOMPARE(b->params[3], sql::Value(std::string("b")));
        auto one = bindRows("SELECT ?1", {{bigint(7)}});
        QCOMPARE(one->sql, std::string("SELECT ?1"));
        QCOMPARE(one->params.size(), std::size_t(1));
    }

    void bindBatch() {
        std::vector<std::size_t> repeats;
        auto b = bindStatements({"INSERT INTO t VALUES (?1)", "SELECT count(*) FROM t"},
                                {{{bigint(1)}, {bigint(2)}}}, repeats);
        QVERIFY(b.isOk());
        QCOMPARE(repeats, (std::vector<std::size_t>{2, 1}));
        QCOMPARE(b->params.size(), std::size_t(2));
        QVERIFY(b->sql.find("VALUES (?2)") != std::string::npos);
        QCOMPARE(bindStatements({"SELECT 1"}, {{}, {}}, repeats).status().code(),
                 ErrorCode::InvalidArgument);
    }

    // admin_metrics: the /metrics text as name -> value.
    void prometheusText() {
        MetricsRegistry registry;
        registry.counter("troupe_x_total", "x").add(42);
        registry.gauge("troupe_g", "g").set(-7);
        registry.callbackGauge("troupe_cb", "cb", [] { return 0.25; });
        const auto m = parsePrometheusText(registry.renderPrometheus());
        QCOMPARE(m.size(), std::size_t(3));
        QCOMPARE(m.at("troupe_x_total"), 42.0);
        QCOMPARE(m.at("troupe_g"), -7.0);
        QCOMPARE(m.at("troupe_cb"), 0.25);
        const auto odd = parsePrometheusText("# HELP a b c\n\nx{a=\"b c\"} 1.5\nbroken\n"
                                             "y notanumber\nz NaN\r\nw +Inf\n");
        QCOMPARE(odd.size(), std::size_t(3));
        QCOMPARE(odd.at("x{a=\"b c\"}"), 1.5);
        QVERIFY(std::isnan(odd.at("z")));
        QVERIFY(std::isinf(odd.at("w")));
    }

    void transportDetectsUnframed() {
        MemoryStream stream(std::string("\x80\x01\x00\x01", 4) + "rest", 3);
        ConnectionTransport t(stream, 1024);
        QVERIFY(t.beginMessage());
        QCOMPARE(t.mode(), ConnectionTransport::Mode::Unframed);
        QCOMPARE(readAll(t, 8), std::string("\x80\x01\x00\x01rest", 8));
        t.write(reinterpret_cast<const std::uint8_t*>("ok"), 2);
        t.flush();
        QCOMPARE(stream.out, std::string("ok"));
        QVERIFY(!t.beginMessage()); // the client closed between messages
    }

    // Regression: a second frame larger than the first was refused ("MaxMessageSize reached").
    void transportFramesMayGrow() {
        MemoryStream stream(be32(2) + "ab" + be32(5) + "cdefg", 2);
        ConnectionTransport t(stream, 1024);
        QVERIFY(t.beginMessage());
        QCOMPARE(t.mode(), ConnectionTransport::Mode::Framed);
        QCOMPARE(readAll(t, 2), std::string("ab"));
        t.endMessage();
        t.write(reinterpret_cast<const std::uint8_t*>("xyz"), 3);
        t.flush();
        QCOMPARE(stream.out, be32(3) + "xyz");
        QVERIFY(t.beginMessage());
        QCOMPARE(readAll(t, 5), std::string("cdefg"));
    }

    void transportRejectsBadFrames() {
        MemoryStream big(be32(2048) + "x", 64);
        ConnectionTransport t(big, 1024);
        QVERIFY_THROWS_EXCEPTION(apache::thrift::transport::TTransportException, t.beginMessage());
        // Reading past the frame, and a stream cut inside a message, are errors too.
        MemoryStream cut(be32(4) + "ab", 64);
        ConnectionTransport u(cut, 1024);
        QVERIFY(u.beginMessage());
        QVERIFY_THROWS_EXCEPTION(apache::thrift::transport::TTransportException, readAll(u, 4));
        MemoryStream past(be32(1) + "ab", 64);
        ConnectionTransport v(past, 1024);
        QVERIFY(v.beginMessage());
        QVERIFY_THROWS_EXCEPTION(apache::thrift::transport::TTransportException, readAll(v, 2));
    }
};

QTEST_APPLESS_MAIN(TestThriftConvert)
#include "tst_thrift_convert.moc"
