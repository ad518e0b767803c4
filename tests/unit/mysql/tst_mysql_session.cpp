// The MySQL Session without sockets: actor selection (type.id, USE, sticky ACTOR), the probe
// queries drivers send, and how facade results and errors become MySQL responses.

#include <QtTest>

#include "mysql/session.h"

using namespace troupe;
using namespace troupe::mysql;

namespace {

std::string text(const sql::Value& v) {
    if (const auto* s = std::get_if<std::string>(&v))
        return *s;
    if (const auto* i = std::get_if<std::int64_t>(&v))
        return std::to_string(*i);
    if (std::holds_alternative<std::monostate>(v))
        return "NULL";
    return "?";
}

} // namespace

class TestMysqlSession : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<sql::Database> m_db;

private slots:
    void initTestCase() {
        sql::DatabaseOptions options;
        options.engine.dataDir = (m_dir.path() + "/db").toStdString();
        options.engine.executorThreads = 2;
        auto db = sql::Database::open(options);
        QVERIFY(db);
        m_db = std::move(*db);
        QVERIFY(m_db->config({}, "INSERT INTO groups VALUES ('grp1','cluster');\n"
                                 "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1');\n"
                                 "CREATE USER 'root' IDENTIFIED BY 'rootpass';\n"
                                 "CREATE USER 'app' IDENTIFIED BY 'apppass';\n"
                                 "GRANT read ON type1 TO 'app';"));
        QVERIFY(m_db->schema({}, "ACTOR type1\nCREATE TABLE tab (id INTEGER PRIMARY KEY, txt "
                                 "TEXT)\nACTOR other\nCREATE TABLE o (v)\n"));
    }

    void probes() {
        Session s(*m_db, "root", "8.0.0-TroupeDB");
        Response r = s.query("SELECT @@version_comment LIMIT 1");
        QCOMPARE(r.kind, Response::Kind::Rows);
        QCOMPARE(r.result.columns, std::vector<std::string>{"@@version_comment"});
        QVERIFY(text(r.result.rows[0][0]).find("TroupeDB") != std::string::npos);

        r = s.query("select @@session.auto_increment_increment AS inc, @@max_allowed_packet, "
                    "@@no_such_thing");
        QCOMPARE(r.result.columns,
                 (std::vector<std::string>{"inc", "@@max_allowed_packet", "@@no_such_thing"}));
        QCOMPARE(text(r.result.rows[0][0]), std::string("1"));
        QCOMPARE(text(r.result.rows[0][1]), std::string("16777216"));
        QCOMPARE(text(r.result.rows[0][2]), std::string("NULL"));

        QCOMPARE(s.query("SET NAMES utf8mb4").kind, Response::Kind::Ok);
        QCOMPARE(s.query("SET autocommit=1;").kind, Response::Kind::Ok);
        QCOMPARE(s.query("BEGIN").kind, Response::Kind::Ok);
        QCOMPARE(s.query("COMMIT").kind, Response::Kind::Ok);

        r = s.query("SHOW DATABASES");
        QCOMPARE(r.result.rows.size(), std::size_t(2)); // the actor types
        r = s.query("SHOW VARIABLES LIKE 'version%'");
        QCOMPARE(r.result.columns, (std::vector<std::string>{"Variable_name", "Value"}));
        QCOMPARE(r.result.rows.size(), std::size_t(2));
        r = s.query("SHOW WARNINGS");
        QCOMPARE(r.kind, Response::Kind::Rows);
        QVERIFY(r.result.rows.empty());
        r = s.query("SELECT DATABASE()");
        QCOMPARE(text(r.result.rows[0][0]), std::string("NULL"));

        // What the mariadb client's `status` asks; literals and functions mix.
        r = s.query("select DATABASE(), USER() limit 1");
        QCOMPARE(r.kind, Response::Kind::Rows);
        QCOMPARE(r.result.columns, (std::vector<std::string>{"DATABASE()", "USER()"}));
        QCOMPARE(text(r.result.rows[0][1]), std::string("root@%"));
        r = s.query("SELECT 42 AS answer, VERSION(), @@autocommit");
        QCOMPARE(r.result.columns,
                 (std::vector<std::string>{"answer", "VERSION()", "@@autocommit"}));
        QCOMPARE(text(r.result.rows[0][0]), std::string("42"));
        QCOMPARE(text(r.result.rows[0][1]), std::string("8.0.0-TroupeDB"));
        // Not a probe: it needs an actor.
        QCOMPARE(s.query("SELECT 1 + 1").error, kErrNoDatabase);
        QCOMPARE(s.query("SELECT DATABASE(), txt FROM tab").error, kErrNoDatabase);
        QCOMPARE(s.query("SELECT @@version, txt").error, kErrUnknown);
        QCOMPARE(s.query("SELECT 1 AS one FROM tab").error, kErrNoDatabase);
        QCOMPARE(s.query("SELECT @@version AS v FROM tab").error, kErrNoDatabase);
        QCOMPARE(s.query("SELECT 1 AS a; SELECT 2 AS b").error, kErrNoDatabase);
        QCOMPARE(s.query("SELECT 1 AS `a b`").result.columns, std::vector<std::string>{"a b"});
    }

    void actorSelection() {
        Session s(*m_db, "root", "v");
        // No actor: a clear error that says how to name one.
        Response r = s.query("SELECT * FROM tab");
        QCOMPARE(r.kind, Response::Kind::Error);
        QCOMPARE(r.error, kErrNoDatabase);
        QVERIFY(r.message.find("ACTOR type(name)") != std::string::npos);
        QCOMPARE(s.query("SHOW TABLES").error, kErrNoDatabase);

        // Inline ACTOR.
        r = s.query("ACTOR type1(a) create; INSERT INTO tab (txt) VALUES ('x')");
        QCOMPARE(r.kind, Response::Kind::Ok);
        QCOMPARE(r.result.rowsChanged, 1);
        QCOMPARE(r.result.lastInsertRowid, 1);

        // Sticky ACTOR, with create.
        QCOMPARE(s.query("ACTOR type1(b) create;").kind, Response::Kind::Ok);
        QCOMPARE(s.database(), std::string("type1.b"));
        r = s.query("INSERT INTO tab (txt) VALUES ('y')");
        QCOMPARE(r.kind, Response::Kind::Ok);
        r = s.query("SELECT txt FROM tab");
        QCOMPARE(r.kind, Response::Kind::Rows);
        QCOMPARE(text(r.result.rows[0][0]), std::string("y"));
        r = s.query("SHOW TABLES");
        QCOMPARE(r.result.columns, std::vector<std::string>{"Tables_in_type1.b"});
        QCOMPARE(text(r.result.rows[0][0]), std::string("tab"));

        // Only one actor can be selected; several must come with their statements.
        r = s.query("ACTOR type1(*)");
        QCOMPARE(r.kind, Response::Kind::Error);
        QVERIFY(r.message.find("DELIMITER") != std::string::npos);
        QCOMPARE(s.database(), std::string("type1.b")); // unchanged
        r = s.query("ACTOR type1(*); {{R}}SELECT txt FROM tab");
        QCOMPARE(r.kind, Response::Kind::Rows);
        QCOMPARE(r.result.rows.size(), std::size_t(2));
        QCOMPARE(r.result.columns, (std::vector<std::string>{"txt", "actor"}));

        // Database names: type.id selects the actor (no create), type alone only the type.
        QCOMPARE(s.selectDatabase("type1.a").kind, Response::Kind::Ok);
        QCOMPARE(text(s.query("SELECT txt FROM tab").result.rows[0][0]), std::string("x"));
        QCOMPARE(s.selectDatabase("type1.missing").kind, Response::Kind::Ok);
        r = s.query("SELECT 1 FROM tab");
        QCOMPARE(r.kind, Response::Kind::Error);
        QCOMPARE(r.error.code, std::uint16_t(1049)); // NoCreate
        QCOMPARE(s.query("USE `type1.b`").kind, Response::Kind::Ok);
        QCOMPARE(text(s.query("SELECT DATABASE()").result.rows[0][0]), std::string("type1.b"));
        r = s.selectDatabase("nope.x");
        QCOMPARE(r.kind, Response::Kind::Error);
        QCOMPARE(r.error.code, std::uint16_t(1049));
        QCOMPARE(s.selectDatabase("type1").kind, Response::Kind::Ok);
        QCOMPARE(s.query("SELECT * FROM tab").error, kErrNoDatabase);
        s.reset();
        QCOMPARE(s.database(), std::string());
    }

    void errorsMapToMysqlNumbers() {
        Session s(*m_db, "root", "v");
        QCOMPARE(s.selectDatabase("type1.a").kind, Response::Kind::Ok);
        Response r = s.query("SELECT * FROM nosuch");
        QCOMPARE(r.error.code, std::uint16_t(1146));
        QVERIFY(r.message.find("no such table: nosuch") != std::string::npos);
        r = s.query("SELEC 1");
        QCOMPARE(r.error.code, std::uint16_t(1064));
        r = s.query("INSERT INTO tab (id, txt) VALUES (1, 'dup')");
        QCOMPARE(r.error.code, std::uint16_t(1062));
        // The session is usable after errors.
        QCOMPARE(s.query("SELECT count(*) FROM tab").kind, Response::Kind::Rows);
    }

    void preparedStatements() {
        Session s(*m_db, "root", "v");
        // Without an actor there is no schema to describe the statement against.
        QCOMPARE(s.prepare("SELECT * FROM tab WHERE id = ?").status().code(),
                 ErrorCode::EmptyActorName);
        QCOMPARE(s.query("ACTOR type1(p) create;").kind, Response::Kind::Ok);
        auto insert = s.prepare("INSERT INTO tab (txt) VALUES (?)");
        QVERIFY(insert);
        QCOMPARE(insert->params, 1);
        QVERIFY(insert->columns.empty());
        auto select = s.prepare("SELECT id, txt FROM tab WHERE txt = ?1 OR id = ?2");
        QVERIFY(select);
        QCOMPARE(select->params, 2);
        QCOMPARE(select->columns, (std::vector<std::string>{"id", "txt"}));
        // Values are bound, never pasted: a quote is just text.
        Response r = s.execute(insert->id, {std::string("it's")});
        QCOMPARE(r.kind, Response::Kind::Ok);
        QCOMPARE(r.result.rowsChanged, 1);
        r = s.execute(select->id, {std::string("it's"), std::int64_t(-1)});
        QCOMPARE(r.kind, Response::Kind::Rows);
        QCOMPARE(text(r.result.rows.at(0).at(1)), std::string("it's"));
        // An inline ACTOR is described in its own type.
        auto inline_ = s.prepare("ACTOR other(q) create; INSERT INTO o VALUES (?)");
        QVERIFY(inline_);
        QCOMPARE(inline_->params, 1);
        // Unknown tables fail at prepare, as MySQL does.
        auto bad = s.prepare("SELECT * FROM nosuch");
        QCOMPARE(bad.status().code(), ErrorCode::SqlError);
        QCOMPARE(mysqlErrorFor(bad.status()).code, std::uint16_t(1146));
        s.close(insert->id);
        QCOMPARE(s.execute(insert->id, {}).error, kErrUnknownStatement);
        s.reset();
        QVERIFY(s.prepared(select->id) == nullptr);
    }

    void permissionsFollowTheUser() {
        Session app(*m_db, "app", "v");
        QCOMPARE(app.selectDatabase("type1.a").kind, Response::Kind::Ok);
        QCOMPARE(app.query("SELECT txt FROM tab").kind, Response::Kind::Rows);
        Response r = app.query("INSERT INTO tab (txt) VALUES ('no')");
        QCOMPARE(r.kind, Response::Kind::Error);
        QCOMPARE(r.error.code, std::uint16_t(1142));
        QVERIFY(r.message.find("app") != std::string::npos);
    }

    // A user sees only the types it may use; any other, existing or not, is the same 1044
    // (resources/docs/security.md, "credentials").
    void typesTheUserMayNotUseAreHidden() {
        Session app(*m_db, "app", "v");
        Response r = app.query("SHOW DATABASES");
        QCOMPARE(r.result.rows.size(), std::size_t(1));
        QCOMPARE(text(r.result.rows[0][0]), std::string("type1"));
        for (const char* name : {"other", "other.x", "nope", "nope.x"}) {
            r = app.selectDatabase(name);
            QCOMPARE(r.kind, Response::Kind::Error);
            QCOMPARE(r.error.code, std::uint16_t(1044));
            QCOMPARE(r.message,
                     "Access denied for user 'app' to database '" + std::string(name) + "'");
        }
        QCOMPARE(app.query("ACTOR other(x);").error.code, std::uint16_t(1044));
    }

    void flushHostsNeedsAnAdmin() {
        Session app(*m_db, "app", "v");
        QCOMPARE(app.query("FLUSH HOSTS").error.code, std::uint16_t(1142));
        Session root(*m_db, "root", "v");
        QCOMPARE(root.query("flush hosts").kind, Response::Kind::Ok);
    }
};

QTEST_APPLESS_MAIN(TestMysqlSession)
#include "tst_mysql_session.moc"
