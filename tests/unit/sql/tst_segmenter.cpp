// The request segmenter: every ACTOR target form, flags, quoted names, statement splitting around
// quotes, comments, triggers, WITH and {{...}} markers, dropped client transaction statements,
// and every error with the part of the request it names. Blocks are rendered as compact strings
// so each case is one table row:
//   <type>/<kind>(<args>)/<flags>: stmt1 ;; stmt2     blocks joined by " || "

#include <QTest>

#include "sql/segmenter.h"

using namespace troupe;
using namespace troupe::sql;

namespace {

std::string kindName(ActorTarget::Kind kind) {
    switch (kind) {
    case ActorTarget::Kind::None:
        return "none";
    case ActorTarget::Kind::Single:
        return "single";
    case ActorTarget::Kind::List:
        return "list";
    case ActorTarget::Kind::All:
        return "all";
    case ActorTarget::Kind::AllWhere:
        return "where";
    case ActorTarget::Kind::ForEach:
        return "for";
    }
    return "?";
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i)
        out += (i ? sep : "") + parts[i];
    return out;
}

std::string render(const ActorTarget& t) {
    std::string args;
    if (t.kind == ActorTarget::Kind::Single || t.kind == ActorTarget::Kind::List)
        args = join(t.names, ",");
    else if (t.kind == ActorTarget::Kind::All)
        args = "*";
    else if (t.kind == ActorTarget::Kind::AllWhere)
        args = "LIKE " + t.likePattern;
    else if (t.kind == ActorTarget::Kind::ForEach)
        args = t.variable + "." + t.column + " IN " + t.result;
    std::string flags =
        std::string(t.create ? "c" : "") + (t.safe ? "s" : "") + (t.fsync ? "f" : "");
    return t.type + "/" + kindName(t.kind) + "(" + args + ")/" + (flags.empty() ? "-" : flags);
}

std::string render(const std::vector<Block>& blocks) {
    std::vector<std::string> parts;
    for (const Block& b : blocks)
        parts.push_back(render(b.target) + ": " + join(b.statements, " ;; "));
    return join(parts, " || ");
}

} // namespace

class TestSegmenter : public QObject {
    Q_OBJECT

private slots:
    void targets_data();
    void targets();
    void splitting_data();
    void splitting();
    void errors_data();
    void errors();
    void tooLarge();
    void largeRequestWithinLimit();
};

void TestSegmenter::targets_data() {
    QTest::addColumn<QString>("request");
    QTest::addColumn<QString>("expected");
    auto row = [](const char* name, const char* req, const char* exp) {
        QTest::newRow(name) << QString::fromUtf8(req) << QString::fromUtf8(exp);
    };
    row("single", "ACTOR type1(a1); SELECT 1;", "type1/single(a1)/-: SELECT 1");
    row("lower keyword", "actor type1(a1); select 1", "type1/single(a1)/-: select 1");
    row("mixed keyword", "AcToR t(a)", "t/single(a)/-: ");
    row("space before paren", "ACTOR t (a);", "t/single(a)/-: ");
    row("spaces inside parens", "ACTOR t(  a  );", "t/single(a)/-: ");
    row("list", "ACTOR t(a,b,c);", "t/list(a,b,c)/-: ");
    row("list spaced", "ACTOR t( a , b ,c );", "t/list(a,b,c)/-: ");
    row("all", "ACTOR t(*);", "t/all(*)/-: ");
    row("all spaced", "ACTOR t( * );", "t/all(*)/-: ");
    row("all where", "ACTOR t(* WHERE id LIKE 'us%');", "t/where(LIKE us%)/-: ");
    row("all where lower", "actor t(* where ID like 'a_b%')", "t/where(LIKE a_b%)/-: ");
    row("all where quote", "ACTOR t(* WHERE id LIKE 'o''k%')", "t/where(LIKE o'k%)/-: ");
    row("for each", "ACTOR t(FOR X.col IN RES);", "t/for(X.col IN RES)/-: ");
    row("for each lower", "actor t(for x . id in r)", "t/for(x.id IN r)/-: ");
    row("flag create", "ACTOR t(a) create;", "t/single(a)/c: ");
    row("flag CREATE", "ACTOR t(a) CREATE;", "t/single(a)/c: ");
    row("flags all", "ACTOR t(a) create safe fsync;", "t/single(a)/csf: ");
    row("flags reversed", "ACTOR t(a) FSYNC Safe CREATE;", "t/single(a)/csf: ");
    row("flags commas", "ACTOR t(a) create,safe;", "t/single(a)/cs: ");
    row("flags comma space", "ACTOR t(a) safe, fsync", "t/single(a)/sf: ");
    row("flags leading comma", "ACTOR t(a),create;", "t/single(a)/c: ");
    row("flag no space", "ACTOR t(a)create;", "t/single(a)/c: ");
    row("flag duplicate", "ACTOR t(a) create create;", "t/single(a)/c: ");
    row("flags on list", "ACTOR t(a,b) safe;", "t/list(a,b)/s: ");
    row("flags on all", "ACTOR t(*) fsync;", "t/all(*)/f: ");
    row("quoted single", "ACTOR t('a b');", "t/single(a b)/-: ");
    row("quoted double", "ACTOR t(\"x\");", "t/single(x)/-: ");
    row("quoted backtick", "ACTOR t(`y`);", "t/single(y)/-: ");
    row("quoted paren", "ACTOR t('a)b') create;", "t/single(a)b)/c: ");
    row("quoted comma", "ACTOR t('a,b',c);", "t/list(a,b,c)/-: ");
    row("quoted doubled", "ACTOR t('it''s');", "t/single(it's)/-: ");
    row("quoted semicolon", "ACTOR t('a;b'); SELECT 1", "t/single(a;b)/-: SELECT 1");
    row("quoted list mixed", "ACTOR t(\"a\", b, `c d`);", "t/list(a,b,c d)/-: ");
    row("name punctuation", "ACTOR t(user@host.com-1);", "t/single(user@host.com-1)/-: ");
    row("name with for", "ACTOR t(for);", "t/single(for)/-: ");
    row("comment in actor", "ACTOR t(a) /* note */ create -- end\n;", "t/single(a)/c: ");
    row("comment before actor", "-- first\nACTOR t(a);", "t/single(a)/-: ");
    row("newlines", "ACTOR\n t\n(\na\n)\ncreate\n;", "t/single(a)/c: ");
    row("two blocks", "ACTOR t(a); SELECT 1; ACTOR u(b) create; INSERT INTO x VALUES (1);",
        "t/single(a)/-: SELECT 1 || u/single(b)/c: INSERT INTO x VALUES (1)");
    row("empty block", "ACTOR t(a); ACTOR u(b); SELECT 2",
        "t/single(a)/-:  || u/single(b)/-: SELECT 2");
    row("actor word prefix", "ACTOR t(a); ACTORS_TABLE_OK; SELECT 1",
        "t/single(a)/-: ACTORS_TABLE_OK ;; SELECT 1");
}

void TestSegmenter::targets() {
    QFETCH(QString, request);
    QFETCH(QString, expected);
    auto r = segment(request.toStdString());
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    QCOMPARE(QString::fromStdString(render(*r)), expected);
}

void TestSegmenter::splitting_data() {
    QTest::addColumn<QString>("request");
    QTest::addColumn<QString>("expected");
    auto row = [](const char* name, const char* req, const char* exp) {
        QTest::newRow(name) << QString::fromUtf8(req) << QString::fromUtf8(exp);
    };
    const char* a = "t/single(a)/-: ";
    auto r = [&](const char* name, const char* body, const char* stmts) {
        row(name, (std::string("ACTOR t(a);") + body).c_str(), (std::string(a) + stmts).c_str());
    };
    r("no trailing semicolon", "SELECT 1; SELECT 2", "SELECT 1 ;; SELECT 2");
    r("trailing semicolon", "SELECT 1; SELECT 2;", "SELECT 1 ;; SELECT 2");
    r("empty statements", ";;  ;\n\t; SELECT 1;;", "SELECT 1");
    r("comment only statement", "SELECT 1; -- nothing\n; /* x */;", "SELECT 1");
    r("trims whitespace", "  \n SELECT 1  \n ;", "SELECT 1");
    r("semicolon in single quotes", "INSERT INTO t VALUES ('a;b');",
      "INSERT INTO t VALUES ('a;b')");
    r("semicolon in double quotes", "SELECT \"a;b\" FROM t;", "SELECT \"a;b\" FROM t");
    r("semicolon in backticks", "SELECT `a;b` FROM t", "SELECT `a;b` FROM t");
    r("semicolon in brackets", "SELECT [a;b] FROM t", "SELECT [a;b] FROM t");
    r("doubled quote", "SELECT 'it''s; fine'; SELECT 2", "SELECT 'it''s; fine' ;; SELECT 2");
    r("actor in string", "INSERT INTO t VALUES ('x; ACTOR u(b); y')",
      "INSERT INTO t VALUES ('x; ACTOR u(b); y')");
    r("line comment", "SELECT 1 -- a; ACTOR u(b);\n, 2;", "SELECT 1 -- a; ACTOR u(b);\n, 2");
    r("block comment", "SELECT /* ; ACTOR u(b); */ 1;", "SELECT /* ; ACTOR u(b); */ 1");
    r("quote in comment", "SELECT 1 /* it's */; SELECT 2", "SELECT 1 /* it's */ ;; SELECT 2");
    r("comment in string", "SELECT '--;' ; SELECT '/*;'", "SELECT '--;' ;; SELECT '/*;'");
    r("unterminated block comment", "SELECT 1; /* open ; ACTOR", "SELECT 1");
    r("marker", "{{RES}}SELECT id FROM t; SELECT 1", "{{RES}}SELECT id FROM t ;; SELECT 1");
    r("semicolon in marker", "SELECT {{a;b}}; SELECT 2", "SELECT {{a;b}} ;; SELECT 2");
    r("marker quote", "SELECT {{X.it's}} ; SELECT 2", "SELECT {{X.it's}} ;; SELECT 2");
    r("trigger",
      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE c SET n=n+1; DELETE FROM d; END; SELECT 1",
      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE c SET n=n+1; DELETE FROM d; END ;; SELECT "
      "1");
    r("trigger multiline",
      "create temp trigger tr after delete on t\nbegin\n  insert into log values (1);\n"
      "  insert into log values (2);\nend;\nselect 1",
      "create temp trigger tr after delete on t\nbegin\n  insert into log values (1);\n"
      "  insert into log values (2);\nend ;; select 1");
    r("trigger if not exists",
      "CREATE TRIGGER IF NOT EXISTS x AFTER UPDATE ON t BEGIN SELECT ';'; SELECT 1; END; SELECT 2",
      "CREATE TRIGGER IF NOT EXISTS x AFTER UPDATE ON t BEGIN SELECT ';'; SELECT 1; END ;; SELECT "
      "2");
    r("trigger comment in body", "CREATE TRIGGER x BEGIN -- end;\n SELECT 1; END; SELECT 2",
      "CREATE TRIGGER x BEGIN -- end;\n SELECT 1; END ;; SELECT 2");
    r("trigger temporary", "CREATE TEMPORARY TRIGGER x BEGIN SELECT 1; END;",
      "CREATE TEMPORARY TRIGGER x BEGIN SELECT 1; END");
    r("trigger case end",
      "CREATE TRIGGER x BEGIN SELECT CASE WHEN 1 THEN 2 END; SELECT 3; END; SELECT 4",
      "CREATE TRIGGER x BEGIN SELECT CASE WHEN 1 THEN 2 END; SELECT 3; END ;; SELECT 4");
    r("trigger no trailing", "CREATE TRIGGER x BEGIN SELECT 1; END",
      "CREATE TRIGGER x BEGIN SELECT 1; END");
    r("not a trigger", "CREATE TABLE b(x); BEGIN; SELECT 1; END", "CREATE TABLE b(x) ;; SELECT 1");
    r("with", "WITH c AS (SELECT 1 AS x) SELECT x FROM c; SELECT 2",
      "WITH c AS (SELECT 1 AS x) SELECT x FROM c ;; SELECT 2");
    r("with recursive",
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<3) SELECT * FROM n",
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<3) SELECT * FROM n");
    r("with insert", "WITH a AS (SELECT ';' AS s) INSERT INTO t SELECT s FROM a;",
      "WITH a AS (SELECT ';' AS s) INSERT INTO t SELECT s FROM a");
    r("drop begin commit", "BEGIN; SELECT 1; COMMIT;", "SELECT 1");
    r("drop begin transaction", "BEGIN TRANSACTION; SELECT 1; END TRANSACTION", "SELECT 1");
    r("drop begin immediate", "begin immediate; SELECT 1; commit transaction", "SELECT 1");
    r("drop rollback", "SELECT 1; ROLLBACK", "SELECT 1");
    r("drop savepoint", "SAVEPOINT sp; SELECT 1; RELEASE sp; RELEASE SAVEPOINT sp2;", "SELECT 1");
    r("drop rollback to", "SAVEPOINT s; SELECT 1; ROLLBACK TO s; ROLLBACK TO SAVEPOINT s",
      "SELECT 1");
    r("drop end", "SELECT 1; end", "SELECT 1");
    r("drop after comment", "/* c */ COMMIT; SELECT 1", "SELECT 1");
    r("keep begin word later", "SELECT begin FROM t", "SELECT begin FROM t");
    row("begin before actor", "BEGIN; ACTOR t(a); SELECT 1; COMMIT", "t/single(a)/-: SELECT 1");
    row("no actor", "SELECT 1; SELECT 2", "/none()/-: SELECT 1 ;; SELECT 2");
    row("no actor dropped tx", "BEGIN; CREATE TABLE x(a); COMMIT", "/none()/-: CREATE TABLE x(a)");
    row("empty request", "", "");
    row("blank request", "  ;\n; -- c", "");
    row("only commit", "COMMIT;", "");
}

void TestSegmenter::splitting() {
    QFETCH(QString, request);
    QFETCH(QString, expected);
    auto r = segment(request.toStdString());
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    QCOMPARE(QString::fromStdString(render(*r)), expected);
}

void TestSegmenter::errors_data() {
    QTest::addColumn<QString>("request");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("part");
    auto row = [](const char* name, const char* req, ErrorCode code, const char* part) {
        QTest::newRow(name) << QString::fromUtf8(req) << static_cast<int>(code)
                            << QString::fromUtf8(part);
    };
    using E = ErrorCode;
    row("empty parens", "ACTOR t();", E::EmptyActorName, "()");
    row("blank parens", "ACTOR t(  );", E::EmptyActorName, "()");
    row("empty quoted", "ACTOR t('');", E::EmptyActorName, "''''");
    row("empty in list", "ACTOR t(a,,b);", E::EmptyActorName, "'a,,b'");
    row("trailing comma", "ACTOR t(a,);", E::EmptyActorName, "'a,'");
    row("no parens", "ACTOR t;", E::EmptyActorName, "'t'");
    row("no parens flag", "ACTOR t create;", E::EmptyActorName, "'t'");
    row("space in name", "ACTOR t(a b);", E::InvalidActorName, "'a b'");
    row("quote in name", "ACTOR t(ab'c);", E::InvalidActorName, "'ab'c'");
    row("double quote in name", "ACTOR t(a\"b);", E::InvalidActorName, "'a\"b'");
    row("paren in name", "ACTOR t(a)b);", E::InvalidActorName, "'a)b'");
    row("open paren in name", "ACTOR t(a(b);", E::InvalidActorName, "'a(b'");
    row("star in list", "ACTOR t(a,*);", E::InvalidActorName, "'*'");
    row("text after quoted", "ACTOR t('a' b);", E::InvalidActorName, "after quoted");
    row("unterminated quoted name", "ACTOR t('a);", E::InvalidActorName, "unterminated");
    row("missing close paren", "ACTOR t(a;", E::InvalidActorName, "missing )");
    row("bad where", "ACTOR t(* WHERE name = 'x');", E::InvalidActorName, "WHERE name");
    row("where no quotes", "ACTOR t(* WHERE id LIKE pfx);", E::InvalidActorName, "LIKE pfx");
    row("where trailing", "ACTOR t(* WHERE id LIKE 'a%' OR 1);", E::InvalidActorName, "OR 1");
    row("bad for", "ACTOR t(FOR X IN R);", E::InvalidActorName, "FOR X IN R");
    row("for no result", "ACTOR t(FOR X.c IN);", E::InvalidActorName, "FOR X.c IN");
    row("for extra", "ACTOR t(FOR X.c IN R S);", E::InvalidActorName, "IN R S");
    row("missing type", "ACTOR (a);", E::InvalidType, "missing actor type");
    row("bare actor", "ACTOR;", E::InvalidType, "missing actor type");
    row("bare actor no semicolon", "ACTOR", E::InvalidType, "missing actor type");
    row("invalid type", "ACTOR ty-pe(a);", E::InvalidType, "'ty-pe'");
    row("invalid type quote", "ACTOR 'ty'(a);", E::InvalidType, "''ty''");
    row("unknown flag", "ACTOR t(a) creat;", E::InvalidArgument, "'creat'");
    row("missing semicolon after actor", "ACTOR t(a) create\nSELECT 1", E::InvalidArgument,
        "'SELECT' (expected create, safe, fsync; is a ';' missing");
    row("unknown flag after good", "ACTOR t(a) create, fast;", E::InvalidArgument, "'fast'");
    row("statement before actor", "SELECT 1; ACTOR t(a);", E::InvalidArgument,
        "must start with ACTOR; found 'SELECT 1'");
    row("statement before actor after begin", "BEGIN; INSERT INTO x VALUES (1); ACTOR t(a)",
        E::InvalidArgument, "'INSERT INTO x VALUES (1)'");
    row("unterminated single quote", "ACTOR t(a); SELECT 'abc", E::SqlError,
        "unterminated ' quote in 'SELECT 'abc'");
    row("unterminated double quote", "ACTOR t(a); SELECT \"abc; SELECT 1", E::SqlError,
        "unterminated \" quote");
    row("unterminated bracket", "ACTOR t(a); SELECT [abc", E::SqlError, "unterminated [ quote");
    row("unterminated marker", "ACTOR t(a); SELECT {{abc; SELECT 1", E::InvalidArgument,
        "unterminated {{ in '{{abc; SELECT 1'");
    row("error in second block", "ACTOR t(a); SELECT 1; ACTOR u(b c);", E::InvalidActorName,
        "'b c'");
}

void TestSegmenter::errors() {
    QFETCH(QString, request);
    QFETCH(int, code);
    QFETCH(QString, part);
    auto r = segment(request.toStdString());
    QVERIFY(!r.isOk());
    const std::string message = r.status().message();
    QCOMPARE(static_cast<int>(r.status().code()), code);
    QVERIFY2(message.find(part.toStdString()) != std::string::npos, message.c_str());
}

void TestSegmenter::tooLarge() {
    const std::string request = "ACTOR t(a); SELECT '" + std::string(100, 'x') + "'";
    auto r = segment(request, 64);
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().code(), ErrorCode::TooLarge);
    QVERIFY2(r.status().message().find(std::to_string(request.size()) + " bytes") !=
                 std::string::npos,
             r.status().message().c_str());
    QVERIFY(r.status().message().find("limit of 64") != std::string::npos);
    QVERIFY(segment(request, request.size()).isOk());
}

void TestSegmenter::largeRequestWithinLimit() {
    std::string request = "ACTOR t(a) create;";
    for (int i = 0; i < 20000; ++i)
        request +=
            "INSERT INTO x VALUES (" + std::to_string(i) + ", 'v;" + std::to_string(i) + "');";
    auto r = segment(request);
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    QCOMPARE(r->size(), std::size_t(1));
    QCOMPARE(r->front().statements.size(), std::size_t(20000));
    QCOMPARE(r->front().statements.back(), std::string("INSERT INTO x VALUES (19999, 'v;19999')"));
}

QTEST_APPLESS_MAIN(TestSegmenter)
#include "tst_segmenter.moc"
