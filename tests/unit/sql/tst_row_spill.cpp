// RowSpill (daemon/sql/row_spill.h): rows written to the temporary file come back exactly, the
// file leaves no trace, and Database::query with Session::spillAbove splits a large result
// between memory and the file in order.

#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <filesystem>
#include <limits>

#include "sql/database.h"
#include "sql/row_spill.h"

using namespace troupe;
using namespace troupe::sql;

namespace {

std::size_t filesIn(const std::filesystem::path& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); ++it)
        ++n;
    return n;
}

} // namespace

class TestRowSpill : public QObject {
    Q_OBJECT

private slots:
    void roundTripEveryStorageClass() {
        QTemporaryDir tmp;
        const std::filesystem::path dir = tmp.path().toStdString() + "/spill";
        const std::vector<std::vector<Value>> rows = {
            {std::int64_t(0), std::numeric_limits<std::int64_t>::min(),
             std::numeric_limits<std::int64_t>::max(), std::int64_t(-1)},
            {0.5, -0.0, std::numeric_limits<double>::infinity(), 1e-300},
            {std::string(), std::string("h\xc3\xa9llo \xe2\x9c\x93"), std::string(100000, 'x'),
             std::string("a\0b", 3)},
            {Blob{}, Blob{std::string("\x00\xff\x01", 3)}, Value{}, Value{}},
            {}, // a row of no values
        };
        auto spill = RowSpill::create(dir);
        QVERIFY2(spill, spill.status().toString().c_str());
        for (const auto& row : rows)
            QVERIFY((*spill)->append(row).isOk());
        QCOMPARE((*spill)->rows(), std::uint64_t(rows.size()));
        QVERIFY((*spill)->bytes() > 100000);
#ifndef _WIN32
        QCOMPARE(filesIn(dir), std::size_t(0)); // unlinked while open
#endif
        for (int pass = 0; pass < 2; ++pass) { // read twice: rewind starts over
            QVERIFY((*spill)->rewind().isOk());
            std::vector<Value> row;
            for (const auto& expected : rows) {
                auto more = (*spill)->next(row);
                QVERIFY2(more && *more, "a row is missing");
                QVERIFY(row == expected);
            }
            auto end = (*spill)->next(row);
            QVERIFY(end && !*end);
        }
        std::vector<Value> nan;
        auto again = RowSpill::create(dir);
        QVERIFY(again);
        QVERIFY((*again)->append({std::numeric_limits<double>::quiet_NaN()}).isOk());
        QVERIFY((*again)->next(nan).value());
        QVERIFY(std::isnan(std::get<double>(nan[0])));
        spill->reset();
        again->reset();
        QCOMPARE(filesIn(dir), std::size_t(0));
    }

    void unusableDirectoryIsAnIoError() {
        QTemporaryDir tmp;
        const std::string file = tmp.path().toStdString() + "/plain-file";
        std::FILE* f = std::fopen(file.c_str(), "w");
        QVERIFY(f);
        std::fclose(f);
        auto spill = RowSpill::create(std::filesystem::path(file) / "sub");
        QVERIFY(!spill);
        QCOMPARE(spill.status().code(), ErrorCode::IoError);
        QVERIFY(spill.status().message().find("plain-file") != std::string::npos);
    }

    // 3,000 rows of about 200 bytes with a 16 KiB limit: most of them in the file, all in order.
    void largeResultIsSplitBetweenMemoryAndFile() {
        QTemporaryDir tmp;
        DatabaseOptions options;
        options.engine.dataDir = tmp.path().toStdString();
        options.engine.storage.initialMapSize = 16u << 20;
        auto db = Database::open(options);
        QVERIFY2(db, db.status().toString().c_str());
        Session node;
        QVERIFY((*db)->config(node, "INSERT INTO groups VALUES ('grp1','cluster');\n"
                                    "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1');\n"
                                    "CREATE USER 'root' IDENTIFIED BY 'rootpass';"));
        QVERIFY((*db)->schema(node, "ACTOR big\nCREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"));
        auto filled = (*db)->query(
            node, "ACTOR big(a) create; WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                  "FROM c WHERE x < 3000) INSERT INTO t SELECT x, printf('%0200d', x) FROM c");
        QVERIFY2(filled, filled.status().toString().c_str());
        QCOMPARE(filled->rowsChanged, 3000);

        Session streaming{"", {}, 16 * 1024};
        auto r = (*db)->query(streaming, "ACTOR big(a); SELECT id, v FROM t ORDER BY id");
        QVERIFY2(r, r.status().toString().c_str());
        QVERIFY(r->spilled);
        QVERIFY(!r->rows.empty() && r->rows.size() < 200);
        QCOMPARE(r->rows.size() + r->spilled->rows(), std::uint64_t(3000));
        std::int64_t expected = 1;
        for (const auto& row : r->rows)
            QCOMPARE(std::get<std::int64_t>(row[0]), expected++);
        std::vector<Value> row;
        while (r->spilled->next(row).value()) {
            QCOMPARE(std::get<std::int64_t>(row[0]), expected);
            QCOMPARE(std::get<std::string>(row[1]).size(), std::size_t(200));
            ++expected;
        }
        QCOMPARE(expected, std::int64_t(3001));

        // Without a limit (Thrift, init scripts): everything in memory, as before.
        auto whole = (*db)->query(node, "ACTOR big(a); SELECT id FROM t");
        QVERIFY(whole && !whole->spilled);
        QCOMPARE(whole->rows.size(), std::size_t(3000));
    }
};

QTEST_GUILESS_MAIN(TestRowSpill)
#include "tst_row_spill.moc"
