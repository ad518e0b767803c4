// The `troupe` shell's pure parts (shell/): ActorDB-style scripts into requests, and the output
// formats.

#include <QTest>

#include "format.h"
#include "script.h"

using namespace troupe;
using namespace troupe::shell;

namespace {

std::vector<Request> feed(ScriptReader& reader, const std::vector<std::string>& lines,
                          bool autocommit = false) {
    std::vector<Request> out;
    for (const std::string& l : lines)
        for (Request& r : reader.line(l, autocommit))
            out.push_back(std::move(r));
    if (auto last = reader.finish())
        out.push_back(std::move(*last));
    return out;
}

client::QueryResult rows() {
    client::QueryResult r;
    r.isRead = true;
    r.columns = {"id", "txt", "r", "b", "n"};
    r.rows = {{std::int64_t(1), std::string("a,\"b\""), 0.1, client::Blob{std::string("\0\xff", 2)},
               client::Value{}},
              {std::int64_t(22), std::string("é"), 2.5, client::Blob{""}, std::string("x")}};
    return r;
}

} // namespace

class TestShellScript : public QObject {
    Q_OBJECT

private slots:
    void initFileSections() {
        ScriptReader reader;
        auto requests =
            feed(reader, {"-- a comment", "use config", "insert into groups values ('g','cluster')",
                          "% comment", "commit", "USE SCHEMA;", "actor type1",
                          "create table t (id integer)", "// comment", "c"});
        QCOMPARE(requests.size(), std::size_t(2));
        QCOMPARE(requests[0].mode, Mode::Config);
        QCOMPARE(requests[0].sql, std::string("insert into groups values ('g','cluster')\n"));
        QCOMPARE(requests[1].mode, Mode::Schema);
        QCOMPARE(requests[1].sql, std::string("actor type1\ncreate table t (id integer)\n"));
    }

    // ActorDB's scripts put one statement per line without `;`.
    void statementsPerLine() {
        ScriptReader reader;
        auto requests = feed(reader, {"actor type1(a) create", "insert into t values (1,", "  2)",
                                      "insert into t (x)", "  values (3)", "{{R}}select * from t"});
        QCOMPARE(requests.size(), std::size_t(1));
        QCOMPARE(requests[0].sql, std::string("actor type1(a) create;\ninsert into t values (1,\n"
                                              "  2);\ninsert into t (x)\n  values (3);\n"
                                              "{{R}}select * from t\n"));
    }

    void rollbackAndUse() {
        ScriptReader reader;
        auto requests = feed(reader, {"actor t(a); select 1", "rollback", "actor t(b); select 2",
                                      "use config", "create user 'x' identified by 'y'"});
        QCOMPARE(requests.size(), std::size_t(2));
        QCOMPARE(requests[0].sql, std::string("actor t(b); select 2\n"));
        QCOMPARE(requests[1].mode, Mode::Config);
        QVERIFY(!reader.buffering());
    }

    void autocommit() {
        ScriptReader reader(Mode::Actordb);
        auto requests = feed(reader, {"actor t(a) create; select 1", "actor t(a); select 2"}, true);
        QCOMPARE(requests.size(), std::size_t(2));
        QVERIFY(!parseMode("cluster"));
        QCOMPARE(*parseMode("Schema"), Mode::Schema);
    }

    void formats_data() {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("expected");
        QTest::newRow("csv") << "csv"
                             << "1,\"a,\"\"b\"\"\",0.1,x'00ff',\r\n22,é,2.5,x'',x\r\n";
        QTest::newRow("csvh") << "csvh"
                              << "id,txt,r,b,n\r\n1,\"a,\"\"b\"\"\",0.1,x'00ff',\r\n"
                                 "22,é,2.5,x'',x\r\n";
        QTest::newRow("json")
            << "json"
            << "[{\"id\":1,\"txt\":\"a,\\\"b\\\"\",\"r\":0.1,\"b\":{\"blob\":\"00ff\"},\"n\":null},"
               "{\"id\":22,\"txt\":\"é\",\"r\":2.5,\"b\":{\"blob\":\"\"},\"n\":\"x\"}]\n";
        QTest::newRow("table") << "table"
                               << "+----+-------+-----+---------+------+\n"
                                  "| id | txt   | r   | b       | n    |\n"
                                  "+----+-------+-----+---------+------+\n"
                                  "|  1 | a,\"b\" | 0.1 | x'00ff' | NULL |\n"
                                  "| 22 | é     | 2.5 | x''     | x    |\n"
                                  "+----+-------+-----+---------+------+\n"
                                  "2 rows\n";
    }
    void formats() {
        QFETCH(QString, format);
        QFETCH(QString, expected);
        const auto f = parseFormat(format.toStdString());
        QVERIFY(f);
        QCOMPARE(QString::fromStdString(formatResult(rows(), *f)), expected);
    }

    void writes() {
        client::QueryResult w;
        w.rowsChanged = 2;
        w.lastChangeRowid = 7;
        QCOMPARE(formatResult(w, Format::Table),
                 std::string("OK, 2 rows changed, last insert rowid 7\n"));
        QCOMPARE(formatResult(w, Format::Csv), std::string("2,7\r\n"));
        QCOMPARE(formatResult(w, Format::Json),
                 std::string("{\"rowsChanged\":2,\"lastInsertRowid\":7}\n"));
    }
};

QTEST_APPLESS_MAIN(TestShellScript)
#include "tst_shell_script.moc"
