// The schema module: parsing of `USE schema` scripts, validation in scratch databases, the
// append-only rules, migrations, the persistent encoding, introspection and scriptOf().
// Parsed schemas are rendered as compact strings so each parsing case is one table row:
//   <type>[/kv]: stmt1 ;; stmt2     types joined by " || "

#include <QTest>

#include "sql/schema.h"

using namespace troupe;
using namespace troupe::sql;

Q_DECLARE_METATYPE(troupe::ErrorCode)

namespace {

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i)
        out += (i ? sep : "") + parts[i];
    return out;
}

std::string render(const Schema& schema) {
    std::vector<std::string> parts;
    for (const std::string& name : schema.typeNames()) {
        const ActorType* type = schema.find(name);
        parts.push_back(name + (type->kv ? "/kv" : "") + ": " + join(type->statements, " ;; "));
    }
    return join(parts, " || ");
}

// Applies a script that must succeed.
SchemaChange applyOk(const Schema& current, std::string_view script) {
    auto r = applySchemaScript(current, script);
    if (!r.isOk())
        qFatal("script failed: %s", r.status().toString().c_str());
    return std::move(r).value();
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

const char* const kBase = "ACTOR type1\n"
                          "CREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT)\n"
                          "ALTER TABLE tab ADD i INTEGER\n"
                          "ACTOR counters KV\n"
                          "CREATE TABLE actors (id TEXT PRIMARY KEY, hash INTEGER, val INTEGER) "
                          "WITHOUT ROWID\n";

} // namespace

class TestSchema : public QObject {
    Q_OBJECT

private slots:
    void parsing_data();
    void parsing();
    void errors_data();
    void errors();
    void failedScriptChangesNothing();
    void emptyScriptChangesNothing();
    void rerunIsNoOp();
    void rerunIgnoresWhitespaceAndComments();
    void appendAddsOnlyNewStatements();
    void differentFirstStatementAppendsAll();
    void savedPrefixIsNoOp();
    void divergentScriptIsRejected();
    void kvFlipIsRejected_data();
    void kvFlipIsRejected();
    void emptySectionForExistingType();
    void unchangedTypesAreShared();
    void appendedStatementsSeeSavedOnes();
    void migration();
    void encodeDecodeRoundTrip();
    void decodeRejectsTruncation();
    void decodeRejectsDamage_data();
    void decodeRejectsDamage();
    void decodeSurvivesFlippedBytes();
    void tables();
    void columns();
    void columnsErrors();
    void scriptOfText();
    void scriptOfRoundTrip();
};

void TestSchema::parsing_data() {
    QTest::addColumn<QString>("script");
    QTest::addColumn<QString>("expected");
    auto row = [](const char* name, const char* script, const char* expected) {
        QTest::newRow(name) << QString::fromUtf8(script) << QString::fromUtf8(expected);
    };
    row("one type", "ACTOR t\nCREATE TABLE a (x)\n", "t: CREATE TABLE a (x)");
    row("trailing semicolons", "ACTOR t;\nCREATE TABLE a (x);\nCREATE TABLE b (y);",
        "t: CREATE TABLE a (x) ;; CREATE TABLE b (y)");
    row("no final newline", "ACTOR t\nCREATE TABLE a (x)", "t: CREATE TABLE a (x)");
    row("indented and spaced", "  ACTOR   t  \n\n   CREATE TABLE a (x)   ;  \n\n",
        "t: CREATE TABLE a (x)");
    row("several per line", "ACTOR t\nCREATE TABLE a (x); CREATE TABLE b (y);CREATE TABLE c (z)",
        "t: CREATE TABLE a (x) ;; CREATE TABLE b (y) ;; CREATE TABLE c (z)");
    row("actor and statement on one line", "ACTOR t; CREATE TABLE a (x)", "t: CREATE TABLE a (x)");
    row("lower case keywords", "actor t kv\ncreate table actors (id, hash)",
        "t/kv: create table actors (id, hash)");
    row("mixed case keywords", "AcToR t Kv;\nCREATE TABLE actors (id, hash)",
        "t/kv: CREATE TABLE actors (id, hash)");
    row("type name characters", "ACTOR Ty_pe$2\nCREATE TABLE a (x)", "Ty_pe$2: CREATE TABLE a (x)");
    row("multi-line trigger",
        "ACTOR t\nCREATE TABLE tab (id INTEGER PRIMARY KEY, i INTEGER)\n"
        "CREATE TRIGGER trg AFTER INSERT ON tab\nBEGIN\n"
        "  UPDATE tab SET i = 1 WHERE id = new.id;\n  UPDATE tab SET i = 2 WHERE id = 0;\nEND;\n"
        "CREATE TABLE after (x)",
        "t: CREATE TABLE tab (id INTEGER PRIMARY KEY, i INTEGER) ;; "
        "CREATE TRIGGER trg AFTER INSERT ON tab\nBEGIN\n"
        "  UPDATE tab SET i = 1 WHERE id = new.id;\n  UPDATE tab SET i = 2 WHERE id = 0;\nEND ;; "
        "CREATE TABLE after (x)");
    row("trigger without final semicolon",
        "ACTOR t\nCREATE TABLE tab (i)\nCREATE TRIGGER trg AFTER INSERT ON tab BEGIN\n"
        "SELECT 1;\nEND\nCREATE TABLE b (y)",
        "t: CREATE TABLE tab (i) ;; CREATE TRIGGER trg AFTER INSERT ON tab BEGIN\nSELECT 1;\nEND "
        ";; CREATE TABLE b (y)");
    row("trigger with case",
        "ACTOR t\nCREATE TABLE tab (i)\nCREATE TRIGGER x AFTER INSERT ON tab BEGIN\n"
        "SELECT CASE new.i WHEN 1 THEN 'a' END;\nEND",
        "t: CREATE TABLE tab (i) ;; CREATE TRIGGER x AFTER INSERT ON tab BEGIN\n"
        "SELECT CASE new.i WHEN 1 THEN 'a' END;\nEND");
    row("trigger header on two lines",
        "ACTOR t\nCREATE TABLE tab (i)\nCREATE TRIGGER x\nAFTER INSERT ON tab\nBEGIN SELECT 1; END",
        "t: CREATE TABLE tab (i) ;; CREATE TRIGGER x\nAFTER INSERT ON tab\nBEGIN SELECT 1; END");
    row("quote with semicolon", "ACTOR t\nCREATE TABLE a (x DEFAULT 'a;b')",
        "t: CREATE TABLE a (x DEFAULT 'a;b')");
    row("quote with newline", "ACTOR t\nCREATE TABLE a (x DEFAULT 'a\nb;\nc')\nCREATE TABLE b (y)",
        "t: CREATE TABLE a (x DEFAULT 'a\nb;\nc') ;; CREATE TABLE b (y)");
    row("doubled quote", "ACTOR t\nCREATE TABLE a (x DEFAULT 'it''s;')",
        "t: CREATE TABLE a (x DEFAULT 'it''s;')");
    row("double quoted name", "ACTOR t\nCREATE TABLE \"a;\nb\" (x)",
        "t: CREATE TABLE \"a;\nb\" (x)");
    row("backtick name", "ACTOR t\nCREATE TABLE `a;b` (x)", "t: CREATE TABLE `a;b` (x)");
    row("bracket name", "ACTOR t\nCREATE TABLE [a;\nb] (x)", "t: CREATE TABLE [a;\nb] (x)");
    row("line comments",
        "-- the schema\nACTOR t -- first type\n-- a comment; with 'quote\n"
        "CREATE TABLE a (x) -- trailing\n--\n",
        "t: CREATE TABLE a (x)");
    row("block comment between", "/* head\n;\n */ ACTOR t\n/* one\ntwo; */\nCREATE TABLE a (x)",
        "t: CREATE TABLE a (x)");
    row("block comment inside", "ACTOR t\nCREATE TABLE a /* a\n; */ (x)",
        "t: CREATE TABLE a /* a\n; */ (x)");
    row("multi-line parentheses",
        "ACTOR t\nCREATE TABLE a (\n  x INTEGER, -- first\n  y TEXT\n)\nCREATE TABLE b (y)",
        "t: CREATE TABLE a (\n  x INTEGER, -- first\n  y TEXT\n) ;; CREATE TABLE b (y)");
    row("commit lines", "ACTOR t\nCREATE TABLE a (x)\nCOMMIT\ncommit;\nCommit\nCREATE TABLE b (y)",
        "t: CREATE TABLE a (x) ;; CREATE TABLE b (y)");
    row("commit before actor", "COMMIT\nACTOR t\nCREATE TABLE a (x)", "t: CREATE TABLE a (x)");
    row("crlf", "ACTOR t\r\nCREATE TABLE a (x)\r\nCREATE TABLE b (y);\r\n",
        "t: CREATE TABLE a (x) ;; CREATE TABLE b (y)");
    row("empty statements", "ACTOR t\n;;\nCREATE TABLE a (x);;\n", "t: CREATE TABLE a (x)");
    row("two types sorted", "ACTOR zz\nCREATE TABLE z (x)\nACTOR aa\nCREATE TABLE a (x)",
        "aa: CREATE TABLE a (x) || zz: CREATE TABLE z (x)");
    row("sections joined",
        "ACTOR t\nCREATE TABLE a (x)\nACTOR u\nCREATE TABLE b (y)\nACTOR t\n"
        "CREATE TABLE c (z)",
        "t: CREATE TABLE a (x) ;; CREATE TABLE c (z) || u: CREATE TABLE b (y)");
    row("brief example",
        "ACTOR type1\nCREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT)\n"
        "ALTER TABLE tab ADD i INTEGER\nCREATE TRIGGER trg AFTER INSERT ON tab\nBEGIN\n"
        "  UPDATE tab SET i = 1 WHERE id = new.id;\nEND;\nactor counters kv\n"
        "CREATE TABLE actors (id TEXT PRIMARY KEY, hash INTEGER, val INTEGER) WITHOUT ROWID\n"
        "CREATE TABLE sub (id TEXT, x INTEGER, FOREIGN KEY (id) REFERENCES actors(id) ON DELETE "
        "CASCADE)\n",
        "counters/kv: CREATE TABLE actors (id TEXT PRIMARY KEY, hash INTEGER, val INTEGER) "
        "WITHOUT ROWID ;; CREATE TABLE sub (id TEXT, x INTEGER, FOREIGN KEY (id) REFERENCES "
        "actors(id) ON DELETE CASCADE) || type1: CREATE TABLE tab (id INTEGER PRIMARY KEY, txt "
        "TEXT) ;; ALTER TABLE tab ADD i INTEGER ;; CREATE TRIGGER trg AFTER INSERT ON tab\nBEGIN\n"
        "  UPDATE tab SET i = 1 WHERE id = new.id;\nEND");
    row("seed data", "ACTOR t\nCREATE TABLE a (x)\nINSERT INTO a VALUES (1), (2)\nSELECT * FROM a",
        "t: CREATE TABLE a (x) ;; INSERT INTO a VALUES (1), (2) ;; SELECT * FROM a");
}

void TestSchema::parsing() {
    QFETCH(QString, script);
    QFETCH(QString, expected);
    auto r = applySchemaScript(Schema(), script.toStdString());
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    QCOMPARE(QString::fromStdString(render(r->schema)), expected);
    QCOMPARE(r->schema.revision(), std::uint64_t(1));
}

void TestSchema::errors_data() {
    QTest::addColumn<QString>("script");
    QTest::addColumn<ErrorCode>("code");
    QTest::addColumn<QString>("message");
    auto row = [](const char* name, const char* script, ErrorCode code, const char* message) {
        QTest::newRow(name) << QString::fromUtf8(script) << code << QString::fromUtf8(message);
    };
    using E = ErrorCode;
    const char* brief = "ACTOR type1\nCREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT)\n"
                        "ALTER TABLE tab ADD i INTEGER\nALTER TABLE tabx ADD j INTEGER\n";
    row("no such table", brief, E::SqlError,
        "line 4: no such table: tabx (in \"ALTER TABLE tabx ADD j INTEGER\")");
    row("syntax error", "ACTOR t\n\n-- c\nCREATE TABLEE a (x)", E::SqlError,
        "line 4: near \"TABLEE\": syntax error (in \"CREATE TABLEE a (x)\")");
    row("second on a line", "ACTOR t\nCREATE TABLE a (x); SELEC 1", E::SqlError,
        "line 2: near \"SELEC\": syntax error (in \"SELEC 1\")");
    row("after multi-line", "ACTOR t\nCREATE TABLE a (\nx\n)\n/* x\ny */\nSELECT nope FROM a",
        E::SqlError, "line 7: no such column: nope");
    row("multi-line names its start",
        "ACTOR t\nCREATE TABLE a (x)\nCREATE TRIGGER g AFTER INSERT ON nope\nBEGIN\nSELECT 1;\nEND",
        E::SqlError, "line 3: no such table: main.nope");
    row("after quote with newlines", "ACTOR t\nCREATE TABLE a (x DEFAULT '\n\n')\nSELECT nope",
        E::SqlError, "line 5: no such column: nope");
    row("duplicate table", "ACTOR t\nCREATE TABLE a (x)\nCREATE TABLE a (y)", E::SqlError,
        "line 3: table a already exists");
    row("foreign keys are on",
        "ACTOR t\nCREATE TABLE p (id INTEGER PRIMARY KEY)\n"
        "CREATE TABLE c (pid INTEGER REFERENCES p(id))\nINSERT INTO c VALUES (5)",
        E::SqlError, "line 4: FOREIGN KEY constraint failed");
    row("statement before actor", "\n-- ok\nCREATE TABLE a (x)\nACTOR t\n", E::InvalidArgument,
        "line 3: a schema script must start with an ACTOR line (in \"CREATE TABLE a (x)\")");
    row("use schema line", "USE schema\nACTOR t\nCREATE TABLE a (x)", E::InvalidArgument,
        "line 1: ");
    row("actor without type", "ACTOR\nCREATE TABLE a (x)", E::InvalidType,
        "line 1: expected ACTOR name [KV]");
    row("actor extra word", "ACTOR t\nCREATE TABLE a (x)\nACTOR u xx\nCREATE TABLE b (y)",
        E::InvalidType, "line 3: expected ACTOR name [KV] (in \"ACTOR u xx\")");
    row("actor too many words", "ACTOR t KV KV\nCREATE TABLE actors (id, hash)", E::InvalidType,
        "line 1: expected ACTOR name [KV]");
    row("actor bad name", "ACTOR ty-pe\nCREATE TABLE a (x)", E::InvalidType,
        "line 1: invalid actor type \"ty-pe\"");
    row("actor with parens", "ACTOR t(a)\nCREATE TABLE a (x)", E::InvalidType,
        "line 1: invalid actor type \"t(a)\"");
    row("unterminated quote", "ACTOR t\nCREATE TABLE a (x)\nINSERT INTO a VALUES ('x\n\n",
        E::InvalidArgument, "line 3: unterminated ' quote");
    row("unterminated bracket", "ACTOR t\nCREATE TABLE [a (x)", E::InvalidArgument,
        "line 2: unterminated [ quote");
    row("unbalanced parentheses", "ACTOR t\nCREATE TABLE a (x\n\nCREATE TABLE b (y)",
        E::InvalidArgument, "line 2: unbalanced parentheses");
    row("trigger without end",
        "ACTOR t\nCREATE TABLE a (x)\nCREATE TRIGGER g AFTER INSERT ON a\n"
        "BEGIN\nSELECT 1;\n",
        E::InvalidArgument, "line 3: CREATE TRIGGER without END");
    row("new type without statements", "ACTOR t\nCREATE TABLE a (x)\nACTOR u\n", E::InvalidArgument,
        "line 3: new type u has no statements");
    row("kv both ways", "ACTOR t KV\nCREATE TABLE actors (id, hash)\nACTOR t\nCREATE TABLE b (y)",
        E::InvalidArgument, "line 3: type t is declared both KV and not KV");
    row("kv without actors", "ACTOR t\nCREATE TABLE a (x)\nACTOR counters KV\nCREATE TABLE kv (x)",
        E::InvalidArgument, "line 3: KV type counters must have a table actors(id, hash)");
    row("kv actors without hash", "ACTOR counters kv\nCREATE TABLE actors (id TEXT, val)",
        E::InvalidArgument, "KV type counters must have a table actors(id, hash)");
    row("kv actors is a view",
        "ACTOR counters kv\nCREATE TABLE a (id, hash)\n"
        "CREATE VIEW actors AS SELECT id, hash FROM a",
        E::InvalidArgument, "KV type counters must have a table actors(id, hash)");
    row("attach", "ACTOR t\nCREATE TABLE a (x)\nATTACH ':memory:' AS other", E::NotPermitted,
        "line 3: ATTACH is not permitted in a schema");
    row("detach", "ACTOR t\nCREATE TABLE a (x)\nDETACH other", E::NotPermitted,
        "line 3: DETACH is not permitted");
    row("begin", "ACTOR t\nBEGIN\nCREATE TABLE a (x)", E::NotPermitted,
        "line 2: BEGIN is not permitted");
    row("commit transaction", "ACTOR t\nCREATE TABLE a (x)\nCOMMIT TRANSACTION", E::NotPermitted,
        "line 3: COMMIT is not permitted");
    row("end", "ACTOR t\nCREATE TABLE a (x)\nEND", E::NotPermitted, "line 3: COMMIT");
    row("rollback", "ACTOR t\nCREATE TABLE a (x)\nROLLBACK", E::NotPermitted,
        "line 3: ROLLBACK is not permitted");
    row("savepoint", "ACTOR t\nCREATE TABLE a (x)\nSAVEPOINT sp", E::NotPermitted,
        "line 3: SAVEPOINT/RELEASE is not permitted");
    row("release", "ACTOR t\nCREATE TABLE a (x)\nRELEASE sp", E::NotPermitted,
        "line 3: SAVEPOINT/RELEASE is not permitted");
    row("vacuum", "ACTOR t\nCREATE TABLE a (x)\nvacuum", E::NotPermitted,
        "line 3: VACUUM is not permitted in a schema (in \"vacuum\")");
    row("pragma", "ACTOR t\nCREATE TABLE a (x)\nPRAGMA foreign_keys=OFF", E::NotPermitted,
        "line 3: PRAGMA foreign_keys is not permitted");
    row("pragma read", "ACTOR t\nCREATE TABLE a (x)\nPRAGMA table_info(a)", E::NotPermitted,
        "line 3: PRAGMA table_info is not permitted");
    row("temp table", "ACTOR t\nCREATE TEMP TABLE a (x)", E::NotPermitted, "line 2: a TEMP object");
    // Also checks that a TEMP trigger's body is one statement.
    row("temp trigger",
        "ACTOR t\nCREATE TABLE a (x)\nCREATE TEMP TRIGGER g AFTER INSERT ON a\n"
        "BEGIN\nSELECT 1;\nEND",
        E::NotPermitted,
        "line 3: a TEMP object (gone when the actor closes) is not permitted in a schema (in "
        "\"CREATE TEMP TRIGGER g AFTER INSERT ON a BEGIN SELECT 1; END\")");
}

void TestSchema::errors() {
    QFETCH(QString, script);
    QFETCH(ErrorCode, code);
    QFETCH(QString, message);
    auto r = applySchemaScript(Schema(), script.toStdString());
    QVERIFY2(!r.isOk(), r.isOk() ? render(r->schema).c_str() : "");
    const std::string text = r.status().message();
    QVERIFY2(r.status().code() == code, r.status().toString().c_str());
    QVERIFY2(contains(text, message.toStdString()), text.c_str());
}

void TestSchema::failedScriptChangesNothing() {
    const Schema base = applyOk(Schema(), kBase).schema;
    const std::string before = encodeSchema(base);
    // type1's new statement is valid; counters' is not: neither is accepted.
    auto r =
        applySchemaScript(base, std::string(kBase) + "ACTOR type1\nCREATE TABLE extra (x)\n"
                                                     "ACTOR counters KV\nALTER TABLE nope ADD y\n");
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().code(), ErrorCode::SqlError);
    QVERIFY2(contains(r.status().message(), "line 9: no such table: nope"),
             r.status().message().c_str());
    QCOMPARE(encodeSchema(base), before);
    QCOMPARE(base.version("type1"), std::uint32_t(2));
}

void TestSchema::emptyScriptChangesNothing() {
    const Schema base = applyOk(Schema(), kBase).schema;
    for (const char* script : {"", "\n\n", "-- nothing\n/* at all */\n", "COMMIT\n"}) {
        SchemaChange change = applyOk(base, script);
        QVERIFY(change.changed.empty());
        QCOMPARE(change.schema.revision(), std::uint64_t(1));
        QVERIFY(change.schema == base);
    }
    QVERIFY(applyOk(Schema(), "").schema.empty());
}

void TestSchema::rerunIsNoOp() {
    SchemaChange first = applyOk(Schema(), kBase);
    QCOMPARE(first.schema.revision(), std::uint64_t(1));
    const std::vector<ChangedType> expected = {{"counters", 0}, {"type1", 0}};
    QCOMPARE(first.changed, expected);

    SchemaChange again = applyOk(first.schema, kBase);
    QVERIFY(again.changed.empty());
    QCOMPARE(again.schema.revision(), std::uint64_t(1));
    QVERIFY(again.schema == first.schema);
}

void TestSchema::rerunIgnoresWhitespaceAndComments() {
    const Schema base = applyOk(Schema(), kBase).schema;
    const char* reformatted =
        "actor type1\n"
        "CREATE  TABLE tab(id INTEGER PRIMARY KEY,\n   txt TEXT);\n"
        "ALTER TABLE tab /* added later */ ADD i INTEGER;\n"
        "ACTOR counters kv\n"
        "CREATE TABLE actors ( id TEXT PRIMARY KEY , hash INTEGER , val INTEGER )\tWITHOUT ROWID\n";
    SchemaChange change = applyOk(base, reformatted);
    QVERIFY(change.changed.empty());
    QCOMPARE(change.schema.revision(), std::uint64_t(1));
    // Quoted text is compared as written: a different default is a different statement.
    auto r = applySchemaScript(base, "ACTOR type1\n"
                                     "CREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT)\n"
                                     "ALTER TABLE tab ADD i INTEGER DEFAULT 'a  b'\n");
    QVERIFY(!r.isOk());
    QVERIFY2(contains(r.status().message(), "append-only"), r.status().message().c_str());
}

void TestSchema::appendAddsOnlyNewStatements() {
    const Schema base = applyOk(Schema(), kBase).schema;
    SchemaChange change = applyOk(base, std::string(kBase) + "ACTOR type1\n"
                                                             "CREATE INDEX tab_i ON tab (i)\n");
    QCOMPARE(change.schema.revision(), std::uint64_t(2));
    const std::vector<ChangedType> expected = {{"type1", 2}};
    QCOMPARE(change.changed, expected);
    QCOMPARE(change.schema.version("type1"), std::uint32_t(3));
    QCOMPARE(change.schema.find("type1")->statements.back(),
             std::string("CREATE INDEX tab_i ON tab (i)"));
    QCOMPARE(change.schema.version("counters"), std::uint32_t(1));
    QCOMPARE(base.version("type1"), std::uint32_t(2)); // the old value is untouched

    // The same, appended as the whole extended list in one section.
    SchemaChange same = applyOk(base, "ACTOR type1\n"
                                      "CREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT)\n"
                                      "ALTER TABLE tab ADD i INTEGER\n"
                                      "CREATE INDEX tab_i ON tab (i)\n");
    QCOMPARE(render(same.schema), render(change.schema));
    QCOMPARE(same.changed, expected);
}

void TestSchema::differentFirstStatementAppendsAll() {
    const Schema base = applyOk(Schema(), kBase).schema;
    SchemaChange change =
        applyOk(base, "ACTOR type1\nCREATE TABLE more (x)\nALTER TABLE tab ADD k TEXT\n");
    const std::vector<ChangedType> expected = {{"type1", 2}};
    QCOMPARE(change.changed, expected);
    QCOMPARE(change.schema.revision(), std::uint64_t(2));
    QCOMPARE(change.schema.migration("type1", 2),
             (std::vector<std::string>{"CREATE TABLE more (x)", "ALTER TABLE tab ADD k TEXT"}));
}

void TestSchema::savedPrefixIsNoOp() {
    const Schema base = applyOk(Schema(), kBase).schema;
    SchemaChange change =
        applyOk(base, "ACTOR type1\nCREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT)\n");
    QVERIFY(change.changed.empty());
    QCOMPARE(change.schema.revision(), std::uint64_t(1));
    QCOMPARE(change.schema.version("type1"), std::uint32_t(2));
}

void TestSchema::divergentScriptIsRejected() {
    const Schema base = applyOk(Schema(), kBase).schema;
    auto r = applySchemaScript(base, "ACTOR type1\n"
                                     "CREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT)\n"
                                     "ALTER TABLE tab ADD other INTEGER\n"
                                     "CREATE TABLE z (x)\n");
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().code(), ErrorCode::InvalidArgument);
    const std::string& message = r.status().message();
    QVERIFY2(contains(message, "line 3: schema is append-only: statement 2 of type type1"),
             message.c_str());
    QVERIFY2(contains(message, "ALTER TABLE tab ADD i INTEGER"), message.c_str());
    QVERIFY2(contains(message, "(in \"ALTER TABLE tab ADD other INTEGER\")"), message.c_str());
}

void TestSchema::kvFlipIsRejected_data() {
    QTest::addColumn<QString>("script");
    QTest::newRow("to kv") << "ACTOR type1 KV\nCREATE TABLE actors (id, hash)";
    QTest::newRow("from kv") << "ACTOR counters\nCREATE TABLE x (y)";
    QTest::newRow("from kv, same statements")
        << "ACTOR counters\nCREATE TABLE actors (id TEXT PRIMARY KEY, hash INTEGER, val INTEGER) "
           "WITHOUT ROWID";
    QTest::newRow("from kv, empty section") << "ACTOR counters\n";
}

void TestSchema::kvFlipIsRejected() {
    QFETCH(QString, script);
    const Schema base = applyOk(Schema(), kBase).schema;
    auto r = applySchemaScript(base, script.toStdString());
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().code(), ErrorCode::InvalidArgument);
    QVERIFY2(contains(r.status().message(), "line 1: cannot change whether existing type"),
             r.status().message().c_str());
}

void TestSchema::emptySectionForExistingType() {
    const Schema base = applyOk(Schema(), kBase).schema;
    SchemaChange change = applyOk(base, "ACTOR type1\nACTOR counters KV\n");
    QVERIFY(change.changed.empty());
    QCOMPARE(change.schema.revision(), std::uint64_t(1));
    // Mixed: one empty section, one new type.
    change = applyOk(base, "ACTOR type1\nACTOR fresh\nCREATE TABLE f (x)\n");
    const std::vector<ChangedType> expected = {{"fresh", 0}};
    QCOMPARE(change.changed, expected);
    QCOMPARE(change.schema.typeNames(), (std::vector<std::string>{"counters", "fresh", "type1"}));
}

void TestSchema::unchangedTypesAreShared() {
    const Schema base = applyOk(Schema(), kBase).schema;
    const Schema next = applyOk(base, "ACTOR type1\nCREATE TABLE more (x)\n").schema;
    QCOMPARE(next.find("counters"), base.find("counters"));
    QVERIFY(next.find("type1") != base.find("type1"));
    const Schema copy = next; // NOLINT: copying is what is tested
    QCOMPARE(copy.find("type1"), next.find("type1"));
    QVERIFY(copy == next);
    QVERIFY(!(copy == base));
}

void TestSchema::appendedStatementsSeeSavedOnes() {
    const Schema base = applyOk(Schema(), kBase).schema;
    // Column i comes from the saved ALTER TABLE; the new statement only works after it.
    SchemaChange change = applyOk(base, "ACTOR type1\nCREATE INDEX tab_i ON tab (i)\n");
    QCOMPARE(change.schema.version("type1"), std::uint32_t(3));
    auto r = applySchemaScript(base, "ACTOR type1\nALTER TABLE tab ADD i TEXT\n");
    QVERIFY(!r.isOk());
    QVERIFY2(contains(r.status().message(), "line 2: duplicate column name: i"),
             r.status().message().c_str());
    // The KV rule is checked over saved and new statements together.
    change = applyOk(base, "ACTOR counters KV\nCREATE TABLE extra (x)\n");
    QCOMPARE(change.schema.version("counters"), std::uint32_t(2));
}

void TestSchema::migration() {
    Schema schema = applyOk(Schema(), kBase).schema;
    schema = applyOk(schema, "ACTOR type1\nCREATE TABLE more (x)\n").schema;
    const std::vector<std::string> all = schema.find("type1")->statements;
    QCOMPARE(all.size(), std::size_t(3));
    QCOMPARE(schema.migration("type1", 0), all);
    QCOMPARE(schema.migration("type1", 2), std::vector<std::string>{"CREATE TABLE more (x)"});
    QCOMPARE(schema.migration("type1", 1),
             (std::vector<std::string>{"ALTER TABLE tab ADD i INTEGER", "CREATE TABLE more (x)"}));
    QVERIFY(schema.migration("type1", 3).empty());
    QVERIFY(schema.migration("type1", 99).empty());
    QVERIFY(schema.migration("nope", 0).empty());
    QVERIFY(schema.migration("TYPE1", 0).empty()); // names are case-sensitive
    QCOMPARE(schema.version("nope"), std::uint32_t(0));
    QVERIFY(schema.find("Type1") == nullptr);
}

void TestSchema::encodeDecodeRoundTrip() {
    Schema schema = applyOk(Schema(), kBase).schema;
    schema = applyOk(schema, "ACTOR type1\nCREATE TABLE \"q'\" (x DEFAULT 'é\n;')\n").schema;
    const std::string bytes = encodeSchema(schema);
    QCOMPARE(std::uint8_t(bytes[0]), std::uint8_t(1));
    auto decoded = decodeSchema(bytes);
    QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
    QVERIFY(*decoded == schema);
    QCOMPARE(decoded->revision(), std::uint64_t(2));
    QVERIFY(decoded->find("counters")->kv);
    QCOMPARE(render(*decoded), render(schema));
    QCOMPARE(encodeSchema(*decoded), bytes);

    auto empty = decodeSchema(encodeSchema(Schema()));
    QVERIFY(empty.isOk());
    QVERIFY(empty->empty());
    QCOMPARE(empty->revision(), std::uint64_t(0));
    QCOMPARE(encodeSchema(Schema()).size(), std::size_t(1 + 8 + 4));
}

void TestSchema::decodeRejectsTruncation() {
    const std::string bytes = encodeSchema(applyOk(Schema(), kBase).schema);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        auto r = decodeSchema(std::string_view(bytes).substr(0, n));
        QVERIFY2(!r.isOk(), std::to_string(n).c_str());
        QVERIFY2(r.status().code() == ErrorCode::Corruption, r.status().toString().c_str());
    }
    auto r = decodeSchema(bytes + '\0');
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().code(), ErrorCode::Corruption);
    QVERIFY2(contains(r.status().message(), "trailing"), r.status().message().c_str());
}

// Hand-built records, each wrong in one way.
void TestSchema::decodeRejectsDamage_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");
    auto u32 = [](std::uint32_t v) {
        return QByteArray(1, char(v >> 24)) + char(v >> 16) + char(v >> 8) + char(v);
    };
    const QByteArray rev = QByteArray(7, '\0') + char(3);
    auto type = [&](const QByteArray& name, char flags, std::uint32_t count) {
        return u32(std::uint32_t(name.size())) + name + flags + u32(count);
    };
    const QByteArray stmt = u32(9) + "SELECT 1;";
    const QByteArray good = char(1) + rev + u32(1) + type("t", 0, 1) + stmt;
    QVERIFY(decodeSchema(std::string_view(good.constData(), std::size_t(good.size()))).isOk());
    QTest::newRow("version 2") << (char(2) + rev + u32(0)) << "unknown format version 2";
    QTest::newRow("version 0") << (char(0) + rev + u32(0)) << "unknown format version 0";
    QTest::newRow("empty name") << (char(1) + rev + u32(1) + type("", 0, 1) + stmt)
                                << "invalid type name";
    QTest::newRow("bad name") << (char(1) + rev + u32(1) + type("a-b", 0, 1) + stmt)
                              << "invalid type name";
    QTest::newRow("unknown flag") << (char(1) + rev + u32(1) + type("t", 2, 1) + stmt)
                                  << "unknown flags";
    QTest::newRow("no statements")
        << (char(1) + rev + u32(1) + type("t", 0, 0)) << "has no statements";
    QTest::newRow("out of order") << (char(1) + rev + u32(2) + type("u", 0, 1) + stmt +
                                      type("t", 0, 1) + stmt)
                                  << "out of order";
    QTest::newRow("duplicate") << (char(1) + rev + u32(2) + type("t", 0, 1) + stmt +
                                   type("t", 0, 1) + stmt)
                               << "out of order";
    QTest::newRow("huge type count")
        << (char(1) + rev + u32(0xffffffff) + type("t", 0, 1) + stmt) << "truncated";
    QTest::newRow("huge statement count")
        << (char(1) + rev + u32(1) + type("t", 0, 0xffffffff) + stmt) << "truncated";
    QTest::newRow("huge length") << (char(1) + rev + u32(1) + type("t", 0, 1) + u32(0xfffffff0))
                                 << "truncated";
    QTest::newRow("statement count short")
        << (char(1) + rev + u32(1) + type("t", 0, 2) + stmt) << "truncated";
    QTest::newRow("type count long")
        << (char(1) + rev + u32(0) + type("t", 0, 1) + stmt) << "trailing bytes";
}

void TestSchema::decodeRejectsDamage() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    auto r = decodeSchema(std::string_view(bytes.constData(), std::size_t(bytes.size())));
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().code(), ErrorCode::Corruption);
    QVERIFY2(contains(r.status().message(), message.toStdString()), r.status().message().c_str());
}

void TestSchema::decodeSurvivesFlippedBytes() {
    const std::string bytes = encodeSchema(applyOk(Schema(), kBase).schema);
    int rejected = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        for (unsigned char mask : {0x01, 0x80, 0xff}) {
            std::string damaged = bytes;
            damaged[i] = char(damaged[i] ^ char(mask));
            auto r = decodeSchema(damaged);
            if (!r.isOk()) {
                QVERIFY2(r.status().code() == ErrorCode::Corruption, r.status().toString().c_str());
                ++rejected;
            }
        }
    }
    QVERIFY(rejected > 0);
}

void TestSchema::tables() {
    const Schema schema =
        applyOk(Schema(), "ACTOR t\n"
                          "CREATE TABLE zeta (id INTEGER PRIMARY KEY AUTOINCREMENT, x)\n"
                          "CREATE TABLE Alpha (x)\n"
                          "CREATE INDEX alpha_x ON Alpha (x)\n"
                          "CREATE VIEW v AS SELECT x FROM Alpha\n"
                          "CREATE TABLE gone (y)\n"
                          "CREATE TABLE mid (y)\n"
                          "DROP TABLE gone\n"
                          "ACTOR empty\nSELECT 1\n")
            .schema;
    auto tables = tablesOf(schema, "t");
    QVERIFY2(tables.isOk(), tables.status().toString().c_str());
    QCOMPARE(*tables, (std::vector<std::string>{"Alpha", "mid", "zeta"}));
    auto none = tablesOf(schema, "empty");
    QVERIFY(none.isOk());
    QVERIFY(none->empty());
    auto unknown = tablesOf(schema, "T");
    QVERIFY(!unknown.isOk());
    QCOMPARE(unknown.status().code(), ErrorCode::InvalidType);
}

void TestSchema::columns() {
    const Schema schema =
        applyOk(Schema(), "ACTOR t\n"
                          "CREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT NOT NULL, raw)\n"
                          "ALTER TABLE tab ADD i INTEGER DEFAULT 0\n"
                          "ACTOR counters KV\n"
                          "CREATE TABLE actors (id TEXT, hash INTEGER NOT NULL, val, "
                          "PRIMARY KEY (hash, id)) WITHOUT ROWID\n")
            .schema;
    auto tab = columnsOf(schema, "t", "tab");
    QVERIFY2(tab.isOk(), tab.status().toString().c_str());
    const std::vector<ColumnInfo> expectedTab = {
        {"id", "INTEGER", true, false},
        {"txt", "TEXT", false, true},
        {"raw", "", false, false},
        {"i", "INTEGER", false, false},
    };
    QCOMPARE(*tab, expectedTab);
    auto sameCase = columnsOf(schema, "t", "TAB");
    QVERIFY(sameCase.isOk());
    QCOMPARE(*sameCase, expectedTab);

    auto actors = columnsOf(schema, "counters", "actors");
    QVERIFY2(actors.isOk(), actors.status().toString().c_str());
    const std::vector<ColumnInfo> expectedActors = {
        {"id", "TEXT", true, true}, // WITHOUT ROWID primary keys are NOT NULL
        {"hash", "INTEGER", true, true},
        {"val", "", false, false},
    };
    QCOMPARE(*actors, expectedActors);
}

void TestSchema::columnsErrors() {
    const Schema schema = applyOk(Schema(), "ACTOR t\nCREATE TABLE tab (x)\n"
                                            "CREATE INDEX tab_x ON tab (x)\n"
                                            "CREATE VIEW v AS SELECT x FROM tab\n")
                              .schema;
    for (const char* table : {"nope", "tab_x", "v", "sqlite_master", ""}) {
        auto r = columnsOf(schema, "t", table);
        QVERIFY2(!r.isOk(), table);
        QVERIFY2(r.status().code() == ErrorCode::NotFound, r.status().toString().c_str());
    }
    auto r = columnsOf(schema, "u", "tab");
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().code(), ErrorCode::InvalidType);
}

void TestSchema::scriptOfText() {
    const Schema schema = applyOk(Schema(), kBase).schema;
    QCOMPARE(scriptOf(schema),
             std::string("ACTOR counters KV\n"
                         "CREATE TABLE actors (id TEXT PRIMARY KEY, hash INTEGER, val INTEGER) "
                         "WITHOUT ROWID;\n"
                         "\n"
                         "ACTOR type1\n"
                         "CREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT);\n"
                         "ALTER TABLE tab ADD i INTEGER;\n"));
    QCOMPARE(scriptOf(Schema()), std::string());
}

void TestSchema::scriptOfRoundTrip() {
    Schema schema = applyOk(Schema(), kBase).schema;
    schema = applyOk(schema, "ACTOR type1\n"
                             "CREATE TRIGGER trg AFTER INSERT ON tab\nBEGIN\n"
                             "  UPDATE tab SET i = CASE WHEN new.id > 0 THEN 1 END;\n"
                             "END\n"
                             "CREATE TABLE q (x DEFAULT 'a;\nb' /* c; */, -- d;\n y)\n"
                             "ACTOR s$1\nCREATE TABLE [w;x] (y)\n")
                 .schema;
    const std::string script = scriptOf(schema);
    SchemaChange rebuilt = applyOk(Schema(), script);
    QCOMPARE(render(rebuilt.schema), render(schema));
    for (const std::string& name : schema.typeNames())
        QCOMPARE(rebuilt.schema.find(name)->kv, schema.find(name)->kv);
    SchemaChange again = applyOk(schema, script);
    QVERIFY(again.changed.empty());
    QVERIFY(again.schema == schema);
}

QTEST_APPLESS_MAIN(TestSchema)
#include "tst_schema.moc"
