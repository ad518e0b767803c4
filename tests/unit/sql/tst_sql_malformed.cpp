// Malformed requests (resources/docs/security.md "malformed requests"): NUL bytes in SQL and
// control characters in actor names get a clear error, never a hang; a NUL inside a string
// literal is data.

#include <QtTest>

#include <string>

#include "hostile_fixture.h"
#include "sql/segmenter.h"

using namespace troupe;
using namespace troupe::sql;
using namespace std::string_literals;
using troupe::test::statusText;

Q_DECLARE_METATYPE(troupe::ErrorCode)
Q_DECLARE_METATYPE(std::string)

class TestSqlMalformed : public QObject {
    Q_OBJECT

    test::HostileFixture m_fx;

private slots:
    void initTestCase() { QVERIFY(m_fx.open()); }

    // Each of these once left an executor thread spinning at 100% (issue 13): the bounded wait
    // of the fixture stops the test process instead of hanging.
    void nulOutsideLiteral_data() {
        QTest::addColumn<std::string>("request");
        QTest::addColumn<QString>("message");
        QTest::newRow("after a statement") << "ACTOR type1(a); SELECT 1\0;"s
                                           << "offset 8";
        QTest::newRow("after the last statement") << "ACTOR type1(a); SELECT 1\0"s
                                                  << "offset 8";
        QTest::newRow("between statements") << "ACTOR type1(a); SELECT 1;\0 SELECT 2"s
                                            << "between tokens";
        QTest::newRow("inside a statement") << "ACTOR type1(a); SELECT id\0 FROM tab"s
                                            << "offset 9";
        QTest::newRow("in a quoted name") << "ACTOR type1(a); SELECT \"i\0d\" FROM tab"s
                                          << "quoted name";
        QTest::newRow("in a blob literal") << "ACTOR type1(a); SELECT x'0\0'"s
                                           << "blob";
        QTest::newRow("in a comment") << "ACTOR type1(a); SELECT 1 /* \0 */"s
                                      << "comment";
        QTest::newRow("in an unterminated literal") << "ACTOR type1(a); SELECT 'abc\0"s
                                                    << "unterminated";
        QTest::newRow("alone") << "ACTOR type1(a); \0"s
                               << "offset 0";
        QTest::newRow("several actors")
            << "ACTOR type1(a,b) create; INSERT INTO tab VALUES (7, 'x')\0;"s
            << "NUL";
    }

    void nulOutsideLiteral() {
        QFETCH(std::string, request);
        QFETCH(QString, message);
        for (const Session* s : {&m_fx.writer, &m_fx.reader}) {
            auto r = m_fx.bounded(*s, request);
            QVERIFY2(!r, "a request with a NUL byte succeeded");
            QVERIFY2(r.status().code() == ErrorCode::SqlError ||
                         r.status().code() == ErrorCode::NotPermitted, // the reader's write
                     statusText(r.status()));
            if (s == &m_fx.writer)
                QVERIFY2(QString::fromStdString(r.status().message()).contains(message),
                         statusText(r.status()));
        }
        QVERIFY(m_fx.stillServes());
    }

    // The single-actor call of Thrift exec_single and of MySQL requests in a USE'd actor.
    void nulThroughSingleActorCall() {
        auto r = m_fx.boundedCall(
            [&] { return m_fx.db().querySingle(m_fx.writer, "type1", "a", "SELECT 1\0"s, {}); },
            "querySingle SELECT 1<NUL>");
        QVERIFY(!r);
        QVERIFY2(r.status().code() == ErrorCode::SqlError, statusText(r.status()));
        QVERIFY(m_fx.stillServes());
    }

    // Inside a '...' literal a NUL is data (the MySQL front end unescapes \0 into one).
    void nulInsideLiteral() {
        auto w = m_fx.bounded(m_fx.writer, "ACTOR type1(nul) create; CREATE TABLE b (v TEXT);"
                                           "INSERT INTO b VALUES ('a\0b'), ('it''s\0'), ('\0');"s);
        QVERIFY2(w, statusText(w.status()));
        auto r = m_fx.bounded(m_fx.reader, "ACTOR type1(nul); SELECT v, hex(v) FROM b "
                                           "WHERE v IN ('a\0b', 'it''s\0', '\0') ORDER BY rowid"s);
        QVERIFY2(r, statusText(r.status()));
        QCOMPARE(r->rows.size(), std::size_t(3));
        QCOMPARE(std::get<std::string>(r->rows[0][0]), "a\0b"s);
        QCOMPARE(std::get<std::string>(r->rows[0][1]), "610062"s);
        QCOMPARE(std::get<std::string>(r->rows[1][0]), "it's\0"s);
        QCOMPARE(std::get<std::string>(r->rows[2][1]), "00"s);
        // The same text again comes from the prepared-statement cache.
        auto again =
            m_fx.bounded(m_fx.reader, "ACTOR type1(nul); SELECT v, hex(v) FROM b "
                                      "WHERE v IN ('a\0b', 'it''s\0', '\0') ORDER BY rowid"s);
        QVERIFY2(again, statusText(again.status()));
        QCOMPARE(again->rows.size(), std::size_t(3));
    }

    void controlCharactersInNames_data() {
        QTest::addColumn<std::string>("request");
        QTest::newRow("NUL, bare") << "ACTOR type1(a\0) create; SELECT 1"s;
        QTest::newRow("NUL, quoted") << "ACTOR type1('a\0') create; SELECT 1"s;
        QTest::newRow("NUL inside") << "ACTOR type1('a\0b') create; SELECT 1"s;
        QTest::newRow("tab, quoted") << "ACTOR type1('a\tb') create; SELECT 1"s;
        QTest::newRow("newline, quoted") << "ACTOR type1('a\nb') create; SELECT 1"s;
        QTest::newRow("escape") << "ACTOR type1(a\x1b[0m) create; SELECT 1"s;
        QTest::newRow("DEL") << "ACTOR type1(a\x7f) create; SELECT 1"s;
        QTest::newRow("in a list") << "ACTOR type1(ok1,'b\x01') create; SELECT 1"s;
    }

    void controlCharactersInNames() {
        QFETCH(std::string, request);
        auto r = m_fx.bounded(m_fx.writer, request);
        QVERIFY(!r);
        QVERIFY2(r.status().code() == ErrorCode::InvalidActorName, statusText(r.status()));
        // Nothing was created: the list has only the fixture's actor (and none of ok1).
        auto list = m_fx.bounded(m_fx.root, "ACTOR type1(*); PRAGMA count");
        QVERIFY2(list, statusText(list.status()));
    }

    // The other ways names enter: a single-actor call (Thrift exec_single, MySQL USE type.id)
    // and a FOR loop over a result.
    void controlCharactersElsewhere() {
        auto single = m_fx.db().querySingle(m_fx.writer, "type1", "a\0"s, "SELECT 1", {});
        QVERIFY(!single);
        QCOMPARE(single.status().code(), ErrorCode::InvalidActorName);
        auto loop = m_fx.bounded(m_fx.writer, "ACTOR type1(a); {{R}}SELECT 'x' || char(1) AS n;"
                                              "ACTOR type1(FOR X.n IN R) create; SELECT 1");
        QVERIFY(!loop);
        QVERIFY2(loop.status().code() == ErrorCode::InvalidActorName, statusText(loop.status()));
        QCOMPARE(checkActorName("ok.name-1 é").code(), ErrorCode::Ok);
        QCOMPARE(checkActorName("").code(), ErrorCode::EmptyActorName);
        QCOMPARE(checkActorName("a\x1f"s).code(), ErrorCode::InvalidActorName);
    }
};

QTEST_APPLESS_MAIN(TestSqlMalformed)
#include "tst_sql_malformed.moc"
