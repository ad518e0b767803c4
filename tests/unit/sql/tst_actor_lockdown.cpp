// The SQL lockdown of actor connections (resources/docs/security.md "sql lockdown"): hostile
// SQL from any user gets a clear NotPermitted or SqlError and the actor keeps serving; the
// SQL applications use keeps working; the reviewed function and module lists cover every
// function and module of the linked SQLite.

#include <QtTest>

#include <set>
#include <string>

#include <sqlite3.h>

#include "hostile_fixture.h"
#include "sql/lockdown.h"

using namespace troupe;
using namespace troupe::sql;
using troupe::test::statusText;

Q_DECLARE_METATYPE(troupe::ErrorCode)

class TestActorLockdown : public QObject {
    Q_OBJECT

    test::HostileFixture m_fx;

    const Session& sessionNamed(const QString& name) {
        if (name == "root")
            return m_fx.root;
        if (name == "reader")
            return m_fx.reader;
        return m_fx.writer;
    }

    // The names of pragma `list` (function_list or module_list) of a fresh SQLite connection.
    static std::set<std::string> sqliteNames(const char* list) {
        sqlite3* db = nullptr;
        sqlite3_open(":memory:", &db);
        sqlite3_stmt* stmt = nullptr;
        const std::string sql = std::string("SELECT DISTINCT name FROM pragma_") + list;
        sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
        std::set<std::string> names;
        while (stmt && sqlite3_step(stmt) == SQLITE_ROW)
            names.insert(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
        sqlite3_finalize(stmt);
        sqlite3_close(db);
        return names;
    }

    // Refused functions, in every form.
    static void addFunctionRows() {
        const auto no = ErrorCode::NotPermitted;
        // The crash of issue 13: a tokenizer pointer overwritten, then used.
        QTest::newRow("fts3_tokenizer two-argument, then fts4")
            << "root"
            << QByteArray("ACTOR type1(f) create; SELECT fts3_tokenizer('simple', "
                          "x'4141414141414141'); CREATE VIRTUAL TABLE ft USING fts4(x)")
            << no << "fts3_tokenizer";
        QTest::newRow("fts3_tokenizer two-argument, then MATCH")
            << "reader"
            << QByteArray("ACTOR type1(a); SELECT fts3_tokenizer('simple', x'4141414141414141');"
                          "SELECT * FROM ft4 WHERE ft4 MATCH 'hello'")
            << no << "fts3_tokenizer";
        QTest::newRow("fts3_tokenizer one-argument (leaks an address)")
            << "writer" << QByteArray("ACTOR type1(a); SELECT hex(fts3_tokenizer('simple'))") << no
            << "fts3_tokenizer";
        QTest::newRow("fts3_tokenizer upper case")
            << "root" << QByteArray("ACTOR type1(a); SELECT FTS3_Tokenizer('porter')") << no
            << "fts3_tokenizer";
        QTest::newRow("fts3_tokenizer in a view")
            << "writer"
            << QByteArray("ACTOR type1(a); CREATE VIEW tv AS SELECT fts3_tokenizer('simple') p;"
                          "SELECT * FROM tv")
            << ErrorCode::SqlError << "unsafe use of fts3_tokenizer"; // SQLite: direct only
        QTest::newRow("load_extension")
            << "root" << QByteArray("ACTOR type1(a); SELECT load_extension('libc.so.6')") << no
            << "load_extension";
        QTest::newRow("load_extension entry point")
            << "writer"
            << QByteArray("ACTOR type1(a); SELECT load_extension('/tmp/x.so', 'sqlite3_x_init')")
            << no << "load_extension";
        QTest::newRow("fts5 API pointer")
            << "writer" << QByteArray("ACTOR type1(a); SELECT fts5(NULL)") << no << "fts5";
        QTest::newRow("rtreenode")
            << "writer" << QByteArray("ACTOR type1(a); SELECT rtreenode(2, x'00')") << no
            << "rtreenode";
        QTest::newRow("fts3 optimize() from a SELECT")
            << "reader" << QByteArray("ACTOR type1(a); SELECT optimize(ft4) FROM ft4") << no
            << "optimize";
        QTest::newRow("total_changes")
            << "writer" << QByteArray("ACTOR type1(a); SELECT total_changes()") << no
            << "total_changes";
    }

    // Refused virtual tables and modules; dbstat for admins only.
    static void addTableRows() {
        const auto no = ErrorCode::NotPermitted;
        QTest::newRow("sqlite_stmt")
            << "root" << QByteArray("ACTOR type1(a); SELECT sql FROM sqlite_stmt") << no
            << "sqlite_stmt";
        QTest::newRow("main.sqlite_stmt")
            << "writer" << QByteArray("ACTOR type1(a); SELECT count(*) FROM main.sqlite_stmt") << no
            << "sqlite_stmt";
        QTest::newRow("sqlite_stmt as a table")
            << "root" << QByteArray("ACTOR type1(a); CREATE VIRTUAL TABLE st USING sqlite_stmt")
            << no << "sqlite_stmt";
        QTest::newRow("dbstat, not admin")
            << "writer" << QByteArray("ACTOR type1(a); SELECT count(*) FROM dbstat") << no
            << "administrators only";
        QTest::newRow("dbstat, not admin, several actors (transaction path)")
            << "writer" << QByteArray("ACTOR type1(a,w2) create; SELECT count(*) FROM dbstat") << no
            << "administrators only";
        QTest::newRow("dbstat('main'), reader")
            << "reader" << QByteArray("ACTOR type1(a); SELECT name FROM dbstat('main')") << no
            << "administrators only";
        QTest::newRow("dbstat as a table, even admin")
            << "root" << QByteArray("ACTOR type1(a); CREATE VIRTUAL TABLE ds USING dbstat") << no
            << "dbstat";
        QTest::newRow("fts3tokenize")
            << "writer"
            << QByteArray("ACTOR type1(a); CREATE VIRTUAL TABLE tk USING fts3tokenize(simple)")
            << no << "fts3tokenize";
    }

    // TEMP objects: the temp schema belongs to the shared connection.
    static void addTempRows() {
        const auto no = ErrorCode::NotPermitted;
        QTest::newRow("temp table")
            << "writer" << QByteArray("ACTOR type1(a); CREATE TEMP TABLE tab(x)") << no << "TEMP";
        QTest::newRow("temp view shadowing a table")
            << "writer" << QByteArray("ACTOR type1(a); CREATE TEMP VIEW tab AS SELECT 1, 2") << no
            << "TEMP";
        QTest::newRow("temp trigger on other users' writes")
            << "writer"
            << QByteArray("ACTOR type1(a); CREATE TEMP TRIGGER spy AFTER INSERT ON main.tab "
                          "BEGIN SELECT 1; END")
            << no << "TEMP";
        QTest::newRow("temp virtual table")
            << "writer" << QByteArray("ACTOR type1(a); CREATE VIRTUAL TABLE temp.f USING fts5(x)")
            << no << "TEMP";
    }

    // Pragmas, ATTACH and defensive mode: the storage settings stay as page capture needs them.
    static void addSchemaRows() {
        const auto no = ErrorCode::NotPermitted;
        QTest::newRow("writable_schema")
            << "root" << QByteArray("ACTOR type1(a); PRAGMA writable_schema=1") << no
            << "writable_schema";
        QTest::newRow("trusted_schema")
            << "root" << QByteArray("ACTOR type1(a); PRAGMA trusted_schema=ON") << no
            << "trusted_schema";
        QTest::newRow("journal_mode off")
            << "root" << QByteArray("ACTOR type1(a); PRAGMA journal_mode=OFF") << no
            << "journal_mode";
        QTest::newRow("pragma through its table-valued function")
            << "root" << QByteArray("ACTOR type1(a); SELECT * FROM pragma_journal_mode") << no
            << "journal_mode";
        QTest::newRow("schema_version")
            << "root" << QByteArray("ACTOR type1(a); PRAGMA schema_version=99") << no
            << "schema_version";
        QTest::newRow("cell_size_check")
            << "root" << QByteArray("ACTOR type1(a); PRAGMA cell_size_check=0") << no
            << "cell_size_check";
        QTest::newRow("attach") << "root" << QByteArray("ACTOR type1(a); ATTACH '/tmp/x.db' AS x")
                                << no << "ATTACH";
        QTest::newRow("schema table write (defensive)")
            << "root"
            << QByteArray("ACTOR type1(a); UPDATE sqlite_master SET sql = 'x' WHERE name = 'tab'")
            << ErrorCode::SqlError << "may not be modified";
        QTest::newRow("shadow table write (defensive)")
            << "root" << QByteArray("ACTOR type1(a); DELETE FROM ft4_segdir") << ErrorCode::SqlError
            << "may not be modified";
        QTest::newRow("fts5 shadow table write (defensive)")
            << "writer" << QByteArray("ACTOR type1(a); UPDATE ft5_data SET block = x'00'")
            << ErrorCode::SqlError << "may not be modified";
    }

private slots:
    void initTestCase() { QVERIFY(m_fx.open()); }

    void hostile_data() {
        QTest::addColumn<QString>("user");
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<ErrorCode>("code");
        QTest::addColumn<QString>("message");
        addFunctionRows();
        addTableRows();
        addTempRows();
        addSchemaRows();
    }

    void hostile() {
        QFETCH(QString, user);
        QFETCH(QByteArray, request);
        QFETCH(ErrorCode, code);
        QFETCH(QString, message);
        auto r = m_fx.bounded(sessionNamed(user), request.toStdString());
        QVERIFY2(!r, "the hostile request succeeded");
        QVERIFY2(r.status().code() == code, statusText(r.status()));
        QVERIFY2(QString::fromStdString(r.status().message()).contains(message),
                 statusText(r.status()));
        QVERIFY(m_fx.stillServes());
    }

    void allowed_data() {
        QTest::addColumn<QString>("user");
        QTest::addColumn<QByteArray>("request");
        QTest::newRow("fts4 auxiliary functions")
            << "reader"
            << QByteArray("ACTOR type1(a); SELECT snippet(ft4), offsets(ft4), matchinfo(ft4) "
                          "FROM ft4 WHERE ft4 MATCH 'hello'");
        QTest::newRow("fts5 auxiliary functions")
            << "reader"
            << QByteArray("ACTOR type1(a); SELECT highlight(ft5, 0, '[', ']'), bm25(ft5), "
                          "snippet(ft5, 0, '[', ']', '...', 4) FROM ft5 WHERE ft5 MATCH 'hello'");
        QTest::newRow("fts4 optimize as a write")
            << "writer" << QByteArray("ACTOR type1(a); INSERT INTO ft4(ft4) VALUES ('optimize')");
        QTest::newRow("new fts and rtree tables")
            << "writer"
            << QByteArray("ACTOR type1(n1) create; CREATE VIRTUAL TABLE f3 USING fts3(x);"
                          "CREATE VIRTUAL TABLE f5 USING fts5(x, tokenize = 'porter');"
                          "CREATE VIRTUAL TABLE v5 USING fts5vocab(f5, 'row');"
                          "CREATE VIRTUAL TABLE v4 USING fts4aux(ft4);"
                          "CREATE VIRTUAL TABLE r2 USING rtree_i32(id, a, b);"
                          "INSERT INTO f5 VALUES ('running'); SELECT * FROM v5");
        QTest::newRow("json") << "reader"
                              << QByteArray("ACTOR type1(a); SELECT json_extract('{\"a\":1}', "
                                            "'$.a'), '{\"a\":2}' ->> '$.a', json_group_array(id)"
                                            " FROM tab; SELECT key FROM json_each('[1,2]')");
        QTest::newRow("math, dates, windows")
            << "reader"
            << QByteArray("ACTOR type1(a); SELECT sin(pi()/2), log10(100), trunc(2.5), "
                          "unixepoch('2020-01-01'), strftime('%Y', 'now') > '2000', "
                          "row_number() OVER (), ntile(2) OVER (ORDER BY id) FROM tab");
        QTest::newRow("ALTER TABLE (internal rename functions)")
            << "writer"
            << QByteArray("ACTOR type1(n2) create; CREATE TABLE t (a, b);"
                          "ALTER TABLE t RENAME COLUMN a TO c; ALTER TABLE t RENAME TO t2;"
                          "ALTER TABLE t2 ADD d DEFAULT 3; ALTER TABLE t2 DROP COLUMN d");
        QTest::newRow("views, triggers, expression indexes")
            << "writer"
            << QByteArray("ACTOR type1(n3) create; CREATE TABLE t (a TEXT);"
                          "CREATE VIEW v AS SELECT upper(a) u FROM t;"
                          "CREATE TABLE log (n);"
                          "CREATE TRIGGER tr AFTER INSERT ON t BEGIN "
                          "INSERT INTO log VALUES (length(new.a)); END;"
                          "CREATE INDEX ti ON t (lower(a)); INSERT INTO t VALUES ('x');"
                          "SELECT * FROM v; ANALYZE");
        QTest::newRow("allowed pragmas")
            << "reader"
            << QByteArray("ACTOR type1(a); PRAGMA table_info(tab);"
                          "SELECT name FROM pragma_table_info('tab'); PRAGMA quick_check");
        QTest::newRow("dbstat, admin, several actors (transaction path)")
            << "root" << QByteArray("ACTOR type1(a,r2) create; SELECT count(*) FROM dbstat");
        QTest::newRow("dbstat, admin")
            << "root" << QByteArray("ACTOR type1(a); SELECT count(*) FROM dbstat");
    }

    void allowed() {
        QFETCH(QString, user);
        QFETCH(QByteArray, request);
        auto r = m_fx.bounded(sessionNamed(user), request.toStdString());
        QVERIFY2(r, statusText(r.status()));
    }

    // The connection is shared: SQL prepared for an admin is not reused for other users.
    void dbstatCachedForAdminOnly() {
        const std::string sql = "ACTOR type1(a); SELECT count(*) > 0 FROM dbstat";
        for (int round = 0; round < 2; ++round) {
            auto admin = m_fx.bounded(m_fx.root, sql);
            QVERIFY2(admin, statusText(admin.status()));
            auto other = m_fx.bounded(m_fx.writer, sql);
            QVERIFY(!other);
            QCOMPARE(other.status().code(), ErrorCode::NotPermitted);
        }
        // A view that reads dbstat does not give its rights to others: refused when created,
        // even for an admin (SQLite marks dbstat direct-only).
        auto view = m_fx.bounded(m_fx.root, "ACTOR type1(a); CREATE VIEW pages AS "
                                            "SELECT * FROM dbstat; SELECT * FROM pages");
        QVERIFY(!view);
    }

    // Every function and module of the linked SQLite was reviewed: listed as allowed or as
    // refused in sql/lockdown.cpp. A newer SQLite fails here until its additions are reviewed.
    void everyFunctionAndModuleReviewed() {
        std::set<std::string> reviewed;
        for (auto name : lockdown::allowedFunctions())
            reviewed.emplace(name);
        for (auto name : lockdown::refusedFunctions())
            reviewed.emplace(name);
        for (const std::string& f : sqliteNames("function_list"))
            QVERIFY2(reviewed.count(f), ("function not reviewed: " + f).c_str());
        reviewed.clear();
        for (auto name : lockdown::allowedModules())
            reviewed.emplace(name);
        for (auto name : lockdown::refusedModules())
            reviewed.emplace(name);
        for (const std::string& m : sqliteNames("module_list")) {
            if (m.rfind("pragma_", 0) == 0)
                continue; // table-valued pragmas: the pragma list of the authorizer decides
            QVERIFY2(reviewed.count(m), ("module not reviewed: " + m).c_str());
        }
        QVERIFY(lockdown::functionAllowed("JSON_Extract"));
        QVERIFY(!lockdown::functionAllowed("fts3_tokenizer"));
        QVERIFY(!lockdown::moduleAllowed("dbstat"));
    }

    // The features an actor may use exist in the linked SQLite (the Windows build compiles
    // SQLite with the same options as Debian's: installers/windows/build-deps.sh).
    void featureSet() {
        auto r = m_fx.bounded(m_fx.root,
                              "ACTOR type1(a); SELECT sqlite_compileoption_used('ENABLE_FTS4'), "
                              "sqlite_compileoption_used('ENABLE_FTS5'), "
                              "sqlite_compileoption_used('ENABLE_RTREE'), "
                              "sqlite_compileoption_used('ENABLE_MATH_FUNCTIONS'), "
                              "sqlite_compileoption_used('ENABLE_DBSTAT_VTAB'), "
                              "sqlite_compileoption_used('ENABLE_FTS3_PARENTHESIS')");
        QVERIFY2(r, statusText(r.status()));
        for (const Value& v : r->rows.at(0))
            QCOMPARE(v, Value{std::int64_t(1)});
    }
};

QTEST_APPLESS_MAIN(TestActorLockdown)
#include "tst_actor_lockdown.moc"
