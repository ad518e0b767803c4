// The Thrift admin methods (TroupeDB's extensions of service Actordb, resources/docs/thrift.md)
// against a real troupe-server through the C++ client: cluster info, actor listing with a
// prefix across several pages, actor info, the schema with its history, the metrics snapshot;
// the errors (unknown type or actor, non-admin NotPermitted, NotLoggedIn); and Python code
// generated from troupe.thrift calling an old method and an admin one on the same connection,
// which proves the appended methods left ActorDB's method ids alone.

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <set>

#include "client/client.h"
#include "core/murmur3.h"
#include "http_test_client.h"
#include "integration/thrift/python_client.h"
#include "support/server_process.h"

using troupe::ErrorCode;
using troupe::client::Client;
using troupe::client::ConnectOptions;
using troupe::test::generatePythonClient;
using troupe::test::Run;
using troupe::test::runDocExample;
using troupe::test::runProgram;
using troupe::test::ServerProcess;
using troupe::test::startQuickstartNode;
using troupe::test::thriftDocPython;

namespace {

constexpr const char* kInit = "USE config\n"
                              "INSERT INTO groups VALUES ('grp1','cluster')\n"
                              "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1')\n"
                              "CREATE USER 'root' IDENTIFIED BY 'rootpass'\n"
                              "CREATE USER 'reader' IDENTIFIED BY 'readpass'\n"
                              "GRANT read,write ON notes TO 'reader'\n"
                              "COMMIT\n"
                              "USE schema\n"
                              "ACTOR notes\n"
                              "CREATE TABLE note (id INTEGER PRIMARY KEY, txt TEXT)\n"
                              "CREATE INDEX note_txt ON note (txt)\n"
                              "ACTOR counters KV\n"
                              "CREATE TABLE actors (id TEXT PRIMARY KEY, hash INTEGER, val "
                              "INTEGER) WITHOUT ROWID\n"
                              "COMMIT\n";

const char* str(const troupe::Status& s) {
    static thread_local std::string text;
    text = s.toString();
    return text.c_str();
}

} // namespace

class TestThriftAdmin : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    ServerProcess m_server;

    ConnectOptions options() const {
        ConnectOptions o;
        o.port = m_server.ports.thrift;
        o.callTimeout = std::chrono::seconds(30);
        return o;
    }

    bool login(Client& c, const std::string& user, const std::string& password) {
        troupe::Status s = c.connect(options());
        if (s)
            s = c.loginScrambled(user, password);
        if (!s)
            qWarning("%s", str(s));
        return s.isOk();
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        QFile init(m_tmp.path() + "/init.sql");
        QVERIFY(init.open(QIODevice::WriteOnly));
        init.write(kInit);
        init.close();
        QDir().mkpath(m_tmp.path() + "/node");
        std::string error =
            m_server.start(m_tmp.path() + "/node", {"--init", m_tmp.path() + "/init.sql"});
        QVERIFY2(error.empty(), error.c_str());
        // 25 actors named user_NN and 5 named other_N, in one request.
        Client c;
        QVERIFY(login(c, "root", "rootpass"));
        std::string sql;
        for (int i = 0; i < 25; ++i)
            sql += "ACTOR notes(user_" + QString::number(i).rightJustified(2, '0').toStdString() +
                   ") create; INSERT INTO note (txt) VALUES ('u');\n";
        for (int i = 0; i < 5; ++i)
            sql += "ACTOR notes(other_" + std::to_string(i) +
                   ") create; INSERT INTO note (txt) VALUES ('o');\n";
        auto made = c.execSql(sql);
        QVERIFY2(made.isOk(), str(made.status()));
    }

    void cleanupTestCase() {
        std::string error = m_server.stop();
        QVERIFY2(error.empty(), error.c_str());
    }

    void notLoggedIn() {
        Client c;
        QVERIFY(c.connect(options()).isOk());
        QCOMPARE(c.clusterInfo().status().code(), ErrorCode::NotLoggedIn);
        QCOMPARE(c.listActors("notes").status().code(), ErrorCode::NotLoggedIn);
        QCOMPARE(c.actorInfo("notes", "user_00").status().code(), ErrorCode::NotLoggedIn);
        QCOMPARE(c.schemaInfo().status().code(), ErrorCode::NotLoggedIn);
        QCOMPARE(c.metrics().status().code(), ErrorCode::NotLoggedIn);
        QVERIFY(c.connected());
    }

    // A user with read,write on one type is not an admin.
    void nonAdminIsNotPermitted() {
        Client c;
        QVERIFY(login(c, "reader", "readpass"));
        QVERIFY(c.execSingle("user_00", "notes", "SELECT count(*) FROM note").isOk());
        QCOMPARE(c.clusterInfo().status().code(), ErrorCode::NotPermitted);
        QCOMPARE(c.listActors("notes").status().code(), ErrorCode::NotPermitted);
        QCOMPARE(c.actorInfo("notes", "user_00").status().code(), ErrorCode::NotPermitted);
        QCOMPARE(c.schemaInfo().status().code(), ErrorCode::NotPermitted);
        QCOMPARE(c.metrics().status().code(), ErrorCode::NotPermitted);
    }

    void clusterInfo() {
        Client c;
        QVERIFY(login(c, "root", "rootpass"));
        auto info = c.clusterInfo();
        QVERIFY2(info.isOk(), str(info.status()));
        QCOMPARE(info->nodeName, std::string("node1@127.0.0.1"));
        QCOMPARE(info->version, std::string(TROUPE_VERSION));
        QVERIFY(info->uptimeSeconds >= 0 && info->uptimeSeconds < 3600);
        QCOMPARE(info->ports.at("thrift"), int(m_server.ports.thrift));
        QCOMPARE(info->ports.at("mysql"), int(m_server.ports.mysql));
        QCOMPARE(info->ports.at("http"), int(m_server.ports.http));
        QCOMPARE(info->ports.at("node"), int(m_server.ports.node));
        using Pair = std::pair<std::string, std::string>;
        QCOMPARE(info->nodes, (std::vector<Pair>{{"node1@127.0.0.1", "grp1"}}));
        QCOMPARE(info->groups, (std::vector<Pair>{{"grp1", "cluster"}}));
        // The shards cover the hash range without gaps, all led by this node.
        QVERIFY(!info->shards.empty());
        std::int64_t next = 0;
        for (std::size_t i = 0; i < info->shards.size(); ++i) {
            const auto& s = info->shards[i];
            QCOMPARE(s.shard, int(i));
            QCOMPARE(s.hashFrom, next);
            QVERIFY(s.hashTo >= s.hashFrom);
            next = s.hashTo + 1;
            QCOMPARE(s.leader, std::string("node1@127.0.0.1"));
            QCOMPARE(s.replicas, std::vector<std::string>{"node1@127.0.0.1"});
            QCOMPARE(s.state, std::string("leader"));
        }
        QCOMPARE(next, std::int64_t(1) << 32);
    }

    // Pages of 10 through the 25 user_ actors, skipping the other_ ones.
    void listActorsInPages() {
        Client c;
        QVERIFY(login(c, "root", "rootpass"));
        std::vector<std::string> seen;
        std::string after;
        int pages = 0;
        for (;;) {
            auto page = c.listActors("notes", "user_", after, 10);
            QVERIFY2(page.isOk(), str(page.status()));
            ++pages;
            QVERIFY(page->names.size() <= 10);
            seen.insert(seen.end(), page->names.begin(), page->names.end());
            if (!page->nextCursor)
                break;
            QCOMPARE(*page->nextCursor, page->names.back());
            after = *page->nextCursor;
            QVERIFY(pages < 10);
        }
        QCOMPARE(pages, 3);
        QCOMPARE(seen.size(), std::size_t(25));
        for (int i = 0; i < 25; ++i)
            QCOMPARE(seen[std::size_t(i)],
                     "user_" + QString::number(i).rightJustified(2, '0').toStdString());

        // Exactly a page's worth: no cursor, as nothing follows.
        auto exact = c.listActors("notes", "user_0", "", 10);
        QVERIFY2(exact.isOk(), str(exact.status()));
        QCOMPARE(exact->names.size(), std::size_t(10));
        QVERIFY(!exact->nextCursor);
        // No prefix, default limit: everything, in name order.
        auto all = c.listActors("notes", "", "", 0);
        QVERIFY2(all.isOk(), str(all.status()));
        QCOMPARE(all->names.size(), std::size_t(30));
        QCOMPARE(all->names.front(), std::string("other_0"));
        QVERIFY(std::is_sorted(all->names.begin(), all->names.end()));
        QVERIFY(!all->nextCursor);
        // A limit over the cap is capped, not refused.
        auto big = c.listActors("notes", "other_", "", 1000000);
        QVERIFY2(big.isOk(), str(big.status()));
        QCOMPARE(big->names.size(), std::size_t(5));
        // Nothing matches.
        auto none = c.listActors("notes", "zzz");
        QVERIFY2(none.isOk(), str(none.status()));
        QVERIFY(none->names.empty() && !none->nextCursor);
        QCOMPARE(c.listActors("nosuchtype").status().code(), ErrorCode::InvalidType);
    }

    void actorInfo() {
        Client c;
        QVERIFY(login(c, "root", "rootpass"));
        auto info = c.actorInfo("notes", "user_07");
        QVERIFY2(info.isOk(), str(info.status()));
        QCOMPARE(info->type, std::string("notes"));
        QCOMPARE(info->name, std::string("user_07"));
        QVERIFY(info->actorId > 0);
        QVERIFY2(info->pages >= 3, "page 1, the table and the index");
        QCOMPARE(info->sizeBytes, info->pages * 4096);
        QVERIFY(info->storedBytes > 0 && info->storedBytes < info->sizeBytes);
        QCOMPARE(info->schemaVersion, 2);
        QCOMPARE(info->typeSchemaVersion, 2);
        // Its shard's hash range holds the actor's hash.
        auto cluster = c.clusterInfo();
        QVERIFY2(cluster.isOk(), str(cluster.status()));
        QVERIFY(info->shard >= 0 && std::size_t(info->shard) < cluster->shards.size());
        const std::int64_t hash = troupe::murmur3_32("user_07");
        QVERIFY(cluster->shards[std::size_t(info->shard)].hashFrom <= hash);
        QVERIFY(hash <= cluster->shards[std::size_t(info->shard)].hashTo);

        // Another actor has its own id; more data, more pages.
        QVERIFY(c.execSingle("user_08", "notes",
                             "INSERT INTO note (txt) SELECT hex(randomblob(400)) FROM note, note "
                             "a, note b, note c, note d, (SELECT 1 UNION SELECT 2 UNION SELECT "
                             "3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6 UNION SELECT 7 "
                             "UNION SELECT 8 UNION SELECT 9 UNION SELECT 10)")
                    .isOk());
        auto bigger = c.actorInfo("notes", "user_08");
        QVERIFY2(bigger.isOk(), str(bigger.status()));
        QVERIFY(bigger->actorId != info->actorId);
        QVERIFY2(bigger->pages > info->pages, std::to_string(bigger->pages).c_str());

        QCOMPARE(c.actorInfo("notes", "nobody").status().code(), ErrorCode::NoCreate);
        QCOMPARE(c.actorInfo("nosuchtype", "user_07").status().code(), ErrorCode::InvalidType);
        QCOMPARE(c.actorInfo("notes", "").status().code(), ErrorCode::EmptyActorName);
    }

    // The history grows by the statements a schema change adds; an actor applies them lazily,
    // which actor info shows.
    void schemaAndHistory() {
        Client c;
        QVERIFY(login(c, "root", "rootpass"));
        auto before = c.schemaInfo();
        QVERIFY2(before.isOk(), str(before.status()));
        QVERIFY(before->revision > 0);
        QCOMPARE(before->types.size(), std::size_t(2));
        QCOMPARE(before->types[0].name, std::string("counters"));
        QVERIFY(before->types[0].kv);
        const auto& notes = before->types[1];
        QCOMPARE(notes.name, std::string("notes"));
        QVERIFY(!notes.kv);
        QCOMPARE(notes.version, 2);
        QCOMPARE(notes.history.size(), std::size_t(2));
        QCOMPARE(notes.history[0].version, 1);
        QCOMPARE(notes.history[0].statements,
                 std::vector<std::string>{"CREATE TABLE note (id INTEGER PRIMARY KEY, txt TEXT)"});
        QCOMPARE(notes.history[1].statements,
                 std::vector<std::string>{"CREATE INDEX note_txt ON note (txt)"});

        auto changed = c.execSchema("ACTOR notes\nALTER TABLE note ADD n INTEGER\n");
        QVERIFY2(changed.isOk(), str(changed.status()));
        auto after = c.schemaInfo("notes");
        QVERIFY2(after.isOk(), str(after.status()));
        QCOMPARE(after->revision, before->revision + 1);
        QCOMPARE(after->types.size(), std::size_t(1));
        QCOMPARE(after->types[0].version, 3);
        QCOMPARE(after->types[0].history.back().version, 3);
        QCOMPARE(after->types[0].history.back().statements,
                 std::vector<std::string>{"ALTER TABLE note ADD n INTEGER"});

        auto stale = c.actorInfo("notes", "user_20");
        QVERIFY2(stale.isOk(), str(stale.status()));
        QCOMPARE(stale->schemaVersion, 2);
        QCOMPARE(stale->typeSchemaVersion, 3);
        QVERIFY(c.execSingle("user_20", "notes", "SELECT n FROM note").isOk());
        auto current = c.actorInfo("notes", "user_20");
        QVERIFY2(current.isOk(), str(current.status()));
        QCOMPARE(current->schemaVersion, 3);

        QCOMPARE(c.schemaInfo("nosuchtype").status().code(), ErrorCode::InvalidType);
    }

    // The snapshot holds what /metrics shows (read first: metrics are only ever added).
    void metricsMatchHttp() {
        auto http = troupe::test::HttpTestClient::get(m_server.ports.http, "/metrics");
        QVERIFY(http.has_value());
        QCOMPARE(http->status, 200);
        Client c;
        QVERIFY(login(c, "root", "rootpass"));
        auto m = c.metrics();
        QVERIFY2(m.isOk(), str(m.status()));
        QCOMPARE(m->at("troupe_up"), 1.0);
        QCOMPARE(m->at("troupe_ready"), 1.0);
        std::set<std::string> names;
        std::size_t pos = 0;
        const std::string& body = http->body;
        while (pos < body.size()) {
            std::size_t end = body.find('\n', pos);
            if (end == std::string::npos)
                end = body.size();
            const std::string line = body.substr(pos, end - pos);
            pos = end + 1;
            if (line.empty() || line[0] == '#')
                continue;
            names.insert(line.substr(0, line.rfind(' ')));
        }
        QVERIFY(names.size() > 5);
        for (const std::string& name : names)
            QVERIFY2(m->count(name) == 1, name.c_str());
        // A counter moves between snapshots when work is done.
        const std::string writes = "troupe_writes_total";
        QVERIFY(m->count(writes) == 1);
        QVERIFY(c.execSingle("user_01", "notes", "INSERT INTO note (txt) VALUES ('m')").isOk());
        auto again = c.metrics();
        QVERIFY2(again.isOk(), str(again.status()));
        QVERIFY(again->at(writes) > m->at(writes));
    }

    // admin_verify walks every stored record while the node serves (admin only), and the
    // offline `troupe-server verify` reads the same directory read-only beside the server.
    void verifyOnlineAndOffline() {
        Client anonymous;
        QVERIFY(anonymous.connect(options()).isOk());
        QCOMPARE(anonymous.verify().status().code(), ErrorCode::NotLoggedIn);
        Client reader;
        QVERIFY(login(reader, "reader", "readpass"));
        QCOMPARE(reader.verify().status().code(), ErrorCode::NotPermitted);
        Client c;
        QVERIFY(login(c, "root", "rootpass"));
        auto v = c.verify();
        QVERIFY2(v.isOk(), str(v.status()));
        QVERIFY(v->clean);
        QCOMPARE(v->formatVersion, 2);
        QCOMPARE(v->errorCount, std::int64_t(0));
        QCOMPARE(v->dbs.size(), std::size_t(5));
        std::int64_t pages = 0;
        for (const auto& db : v->dbs)
            if (db.name == "pages")
                pages = db.records;
        QVERIFY(pages >= 30); // 30 actors, a header and a page each at least

        Run offline = runProgram(troupe::test::serverBinary(),
                                 {"verify", "--data-dir", m_tmp.path() + "/node/data"});
        QVERIFY2(offline.exitCode == 0, qPrintable(offline.describe()));
        QVERIFY2(offline.out.contains("OK: "), qPrintable(offline.describe()));
        Run usage = runProgram(troupe::test::serverBinary(), {"verify"});
        QCOMPARE(usage.exitCode, 2);
    }

    // Python code generated from troupe.thrift: an old method and admin ones on one connection.
    void pythonCallsAdminMethod() {
        Run probe = runProgram("/usr/bin/python3", {"-c", "import thrift"});
        if (probe.exitCode != 0)
            QSKIP("python3-thrift is missing: install Debian package python3-thrift");
        const QString gen = m_tmp.path() + "/gen-py";
        Run made = generatePythonClient(gen);
        QVERIFY2(made.exitCode == 0, qPrintable(made.describe()));
        Run run = runProgram("/usr/bin/python3",
                             {TROUPE_SOURCE_DIR "/tests/integration/thrift/admin_calls.py", gen,
                              QString::number(m_server.ports.thrift)});
        QVERIFY2(run.exitCode == 0 && run.out.contains("ADMIN OK"), qPrintable(run.describe()));
    }

    // The admin example of resources/docs/thrift.md, run as written against a node initialised
    // like quickstart's (resources/init.sql) holding type1(music), with only its port and code
    // directory replaced.
    void docAdminExample() {
        Run probe = runProgram("/usr/bin/python3", {"-c", "import thrift"});
        if (probe.exitCode != 0)
            QSKIP("python3-thrift is missing: install Debian package python3-thrift");
        const QString code = thriftDocPython("## Admin methods");
        QVERIFY(!code.isEmpty());
        const QString gen = m_tmp.path() + "/gen-py-doc";
        Run made = generatePythonClient(gen);
        QVERIFY2(made.exitCode == 0, qPrintable(made.describe()));
        ServerProcess quick;
        std::string error = startQuickstartNode(quick, m_tmp.path() + "/doc");
        QVERIFY2(error.empty(), error.c_str());
        Client c;
        ConnectOptions o;
        o.port = quick.ports.thrift;
        QVERIFY(c.connect(o).isOk());
        QVERIFY(c.login("root", "rootpass").isOk());
        QVERIFY(c.execSingle("music", "type1", "INSERT INTO tab (txt) VALUES ('hello')", {"create"})
                    .isOk());
        Run run = runDocExample(code, gen, quick.ports.thrift);
        error = quick.stop();
        QVERIFY2(run.exitCode == 0, qPrintable(run.describe()));
        QCOMPARE(run.out, QString("node1@127.0.0.1 True\n['music']\nTrue 3\n"
                                  "CREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT)\n1.0\n"));
        QVERIFY2(error.empty(), error.c_str());
    }
};

QTEST_APPLESS_MAIN(TestThriftAdmin)
#include "tst_thrift_admin.moc"
