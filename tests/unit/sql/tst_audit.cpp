// The audit log (sql/audit.h) through the query facade: a config change writes one JSON line
// with the user, the peer and the statement with its password redacted; schema changes and
// failed attempts are recorded, read-only scripts are not; the file is owner-only.

#include <QtTest>

#include <fstream>
#include <sstream>

#ifndef _WIN32
#include <sys/stat.h>
#endif

#include "core/metrics.h"
#include "sql/audit.h"
#include "sql/database.h"

using namespace troupe;
using namespace troupe::sql;

namespace {

std::vector<std::string> lines(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

} // namespace

class TestAudit : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    MetricsRegistry m_metrics;
    std::filesystem::path m_file;
    std::unique_ptr<Database> m_db;
    const Session m_root{"root", "198.51.100.7:4242"};

private slots:
    void initTestCase() {
        m_file = std::filesystem::path(m_dir.path().toStdString()) / "audit.log";
        auto audit = AuditLog::open(m_file, [] {
            return std::chrono::system_clock::time_point(std::chrono::milliseconds(1796000000123));
        });
        QVERIFY2(audit, audit.status().toString().c_str());
        DatabaseOptions options;
        options.engine.metrics = &m_metrics;
        options.engine.dataDir = m_dir.path().toStdString() + "/db";
        options.engine.executorThreads = 2;
        options.security.audit = std::move(*audit);
        auto db = Database::open(options);
        QVERIFY2(db, db.status().toString().c_str());
        m_db = std::move(*db);
        auto init = m_db->config(Session{}, "INSERT INTO groups VALUES ('grp1','cluster');\n"
                                            "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1');\n"
                                            "CREATE USER 'root' IDENTIFIED BY 'rootpass';");
        QVERIFY2(init, init.status().toString().c_str());
    }

    void initIsRecordedAsTheNode() {
        const auto all = lines(m_file);
        QCOMPARE(all.size(), std::size_t(1));
        QCOMPARE(all[0], std::string("{\"time\":\"2026-11-30T00:53:20.123Z\",\"user\":\"(node)\","
                                     "\"peer\":\"local\",\"action\":\"config\",\"statement\":"
                                     "\"INSERT INTO groups VALUES ('grp1','cluster'); INSERT INTO "
                                     "nodes VALUES ('node1@127.0.0.1','grp1'); CREATE USER 'root' "
                                     "IDENTIFIED BY '***'\",\"outcome\":\"ok\"}"));
    }

    void configChangeNamesUserPeerAndRedacts() {
        auto r = m_db->config(m_root, "CREATE USER 'app' IDENTIFIED WITH caching_sha2_password "
                                      "BY 's3cr\"et';\nGRANT read ON type1 TO app");
        QVERIFY2(r, r.status().toString().c_str());
        const std::string last = lines(m_file).back();
        QVERIFY2(last.find("\"user\":\"root\"") != std::string::npos, last.c_str());
        QVERIFY2(last.find("\"peer\":\"198.51.100.7:4242\"") != std::string::npos, last.c_str());
        QVERIFY2(last.find("\"action\":\"config\"") != std::string::npos, last.c_str());
        QVERIFY2(last.find("CREATE USER 'app' IDENTIFIED WITH caching_sha2_password BY '***'; "
                           "GRANT read ON type1 TO app") != std::string::npos,
                 last.c_str());
        QVERIFY2(last.find("s3cr") == std::string::npos, last.c_str());
    }

    void schemaChangesAndFailuresAreRecorded() {
        const std::size_t before = lines(m_file).size();
        QVERIFY(m_db->schema(m_root, "ACTOR type1\nCREATE TABLE t (id INTEGER PRIMARY KEY)\n"));
        const Session app{"app", "203.0.113.9:1"};
        QVERIFY(!m_db->config(app, "SET PASSWORD FOR root = 'mine'"));
        const auto all = lines(m_file);
        QCOMPARE(all.size(), before + 2);
        QVERIFY2(all[before].find("\"action\":\"schema\"") != std::string::npos,
                 all[before].c_str());
        QVERIFY2(all[before + 1].find("\"outcome\":\"not_permitted: user 'app' is not an "
                                      "administrator") != std::string::npos,
                 all[before + 1].c_str());
        QVERIFY2(all[before + 1].find("= '***'") != std::string::npos, all[before + 1].c_str());
        QVERIFY(all[before + 1].find("mine") == std::string::npos);
    }

    void readOnlyScriptsAreNotRecorded() {
        const std::size_t before = lines(m_file).size();
        QVERIFY(m_db->config(m_root, "SELECT * FROM users"));
        QVERIFY(m_db->config(m_root, "GRANT read ON type1 TO app")); // already granted
        QCOMPARE(lines(m_file).size(), before);
    }

    void fileIsOwnerOnly() {
#ifndef _WIN32
        struct stat st {};
        QCOMPARE(::stat(m_file.c_str(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777), 0600);
#endif
    }

    void escapesJson() {
        const std::string line = AuditLog::line({}, Session{"a\"b", "p\\q"}, "config",
                                                std::string("x\ny\x01"), Status::ok());
        QVERIFY2(line.find("\"user\":\"a\\\"b\",\"peer\":\"p\\\\q\"") != std::string::npos,
                 line.c_str());
        QVERIFY2(line.find("\"statement\":\"x\\u000ay\\u0001\"") != std::string::npos,
                 line.c_str());
    }

    void cleanupTestCase() {
        m_db.reset();
    }
};

QTEST_MAIN(TestAudit)
#include "tst_audit.moc"
