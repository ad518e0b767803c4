// Corruption is detected, never served (issue 13): a node's data.mdb gets one damaged byte at
// each of many offsets spread over the file (a fixed seed; a fresh copy each time), and a child
// process opens the directory with sql::Database and reads every row of every actor, the users
// and the schema. Accepted: the same answers (the byte was in free space or in a copy LMDB does
// not read), a clear error from a record checksum or from LMDB, or a refusal to open with a
// message. Never a different answer without an error. A crash inside LMDB's own structures
// (LMDB 0.9 trusts its pages) cannot be caught: it is counted and reported, not failed.
// Also: the error of a damaged page reaches a query with the actor and page named, and the
// node's verify walk finds it.

#include <QTemporaryDir>
#include <QTest>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "core/bytes.h"
#include "core/metrics.h"
#include "sql/database.h"
#include "sql/engine.h"
#include "storage/catalog.h"
#include "storage/environment.h"
#include "storage/mdb_util.h"
#include "storage/verify.h"

using namespace troupe;

namespace {

constexpr int kFlips = 200;
constexpr std::uint32_t kSeed = 13;

// Child exit codes.
enum Outcome : int {
    kSame = 10,       // the same answers: harmless
    kChecksum = 11,   // an error from a record checksum
    kLmdb = 12,       // an error from LMDB (its page checks)
    kOtherError = 13, // another clear error (SQLite reports a malformed database, ...)
    kRefused = 14,    // the directory did not open, with a message
    kDifferent = 20,  // a different answer and no error: never acceptable
};

const char* str(const Status& s) {
    static thread_local std::string text;
    text = s.toString();
    return text.c_str();
}

std::string render(const sql::Value& v) {
    if (const auto* i = std::get_if<std::int64_t>(&v))
        return std::to_string(*i);
    if (const auto* d = std::get_if<double>(&v))
        return std::to_string(*d);
    if (const auto* s = std::get_if<std::string>(&v))
        return "'" + *s + "'";
    if (const auto* b = std::get_if<sql::Blob>(&v))
        return "x" + std::to_string(b->bytes.size());
    return "NULL";
}

sql::DatabaseOptions options(const std::string& dir) {
    sql::DatabaseOptions o;
    o.engine.dataDir = dir;
    o.engine.executorThreads = 1;
    o.kvShards = 2;
    return o;
}

// Everything a client can read: every actor's rows, the users, the schema. An error stops it.
Result<std::string> dumpAll(sql::Database& db) {
    std::ostringstream out;
    sql::Session node;
    for (const char* user : {"root", "app"})
        out << user
            << (db.authenticate(user, user == std::string("root") ? "rootpass" : "secret")
                    ? " ok\n"
                    : " refused\n");
    for (const std::string& type : db.actorTypes()) {
        auto names = db.engine().list(type, "", "", 10000);
        if (!names)
            return names.status();
        const std::string table = type == "counters" ? "actors" : "tab";
        for (const std::string& name : *names) {
            auto r = db.query(node, "ACTOR " + type + "(" + name + "); SELECT * FROM " + table +
                                        " ORDER BY 1");
            if (!r)
                return r.status();
            out << type << "(" << name << ")";
            for (const auto& row : r->rows) {
                out << " [";
                for (const auto& v : row)
                    out << render(v) << ",";
                out << "]";
            }
            out << "\n";
        }
    }
    return out.str();
}

Outcome classify(const Status& s) {
    const std::string& m = s.message();
    if (m.find("checksum") != std::string::npos)
        return kChecksum;
    if (m.find("MDB_") != std::string::npos)
        return kLmdb;
    return kOtherError;
}

// In the child: open, read everything, compare. Never returns.
[[noreturn]] void childRun(const std::string& dir, const std::string& expected) {
    auto db = sql::Database::open(options(dir));
    if (!db) {
        std::fprintf(stderr, "OUTCOME refused: %s\n", str(db.status()));
        std::_Exit(kRefused);
    }
    Result<std::string> got = dumpAll(**db);
    Outcome outcome = kSame;
    if (!got) {
        outcome = classify(got.status());
        std::fprintf(stderr, "OUTCOME error: %s\n", str(got.status()));
    } else if (*got != expected) {
        outcome = kDifferent;
        std::fprintf(stderr, "OUTCOME DIFFERENT:\n%s\nexpected:\n%s\n", got->c_str(),
                     expected.c_str());
    }
    (*db)->shutdown();
    std::_Exit(outcome);
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeFile(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
}

} // namespace

class TestCorruptionFlips : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_source; // data.mdb of the pristine node
    std::string m_expected;
    std::map<std::string, int> m_tally;
    std::vector<std::string> m_crashes;

    std::string pristineDir() const { return m_dir.path().toStdString() + "/pristine"; }

    void buildNode() {
        auto db = sql::Database::open(options(pristineDir()));
        QVERIFY2(db, str(db.status()));
        sql::Session node;
        auto c = (*db)->config(node, "INSERT INTO groups VALUES ('grp1','cluster');\n"
                                     "INSERT INTO nodes VALUES ('node1@127.0.0.1','grp1');\n"
                                     "CREATE USER 'root' IDENTIFIED BY 'rootpass';\n"
                                     "CREATE USER 'app' IDENTIFIED BY 'secret';");
        QVERIFY2(c, str(c.status()));
        auto s = (*db)->schema(node, "ACTOR type1\nCREATE TABLE tab (id INTEGER PRIMARY KEY, "
                                     "txt TEXT, i INTEGER)\n"
                                     "ACTOR counters KV\nCREATE TABLE actors (id TEXT PRIMARY "
                                     "KEY, hash INTEGER, val INTEGER)\n");
        QVERIFY2(s, str(s.status()));
        for (int a = 0; a < 6; ++a) {
            std::string request = "ACTOR type1(a" + std::to_string(a) + ") create;";
            // Enough rows (and one long text) that some actors span several pages.
            for (int row = 0; row < 20 * (a + 1); ++row)
                request += "INSERT INTO tab VALUES (" + std::to_string(row) + ",'row " +
                           std::to_string(row) + (row == 3 ? std::string(3000, 'x') : "") + "'," +
                           std::to_string(row * (a % 2 ? -1 : 1)) + ");";
            auto w = (*db)->query(node, request);
            QVERIFY2(w, str(w.status()));
        }
        for (int k = 0; k < 5; ++k) {
            const std::string key = "k" + std::to_string(k);
            auto w = (*db)->query(node, "ACTOR counters(" + key + ") create; INSERT INTO actors " +
                                            "VALUES ('" + key + "', 1, " + std::to_string(k) + ")");
            QVERIFY2(w, str(w.status()));
        }
        auto dump = dumpAll(**db);
        QVERIFY2(dump, str(dump.status()));
        m_expected = *dump;
    }

    // Runs the child on `dir`; the outcome name ("same", "crash in LMDB", ...).
    std::string runChild(const std::string& dir, const std::string& logPath) {
        std::fflush(nullptr);
        const pid_t pid = fork();
        if (pid == 0) {
            if (std::FILE* f = std::freopen(logPath.c_str(), "w", stderr); !f)
                std::_Exit(99);
            childRun(dir, m_expected);
        }
        int status = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (waitpid(pid, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                return "hang";
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (WIFEXITED(status)) {
            switch (WEXITSTATUS(status)) {
            case kSame:
                return "same";
            case kChecksum:
                return "checksum error";
            case kLmdb:
                return "LMDB error";
            case kOtherError:
                return "other error";
            case kRefused:
                return "refused to open";
            case kDifferent:
                return "DIFFERENT";
            default:
                break; // a sanitizer report of a crash exits with 1
            }
        }
        const std::string log = readFile(logPath);
        return log.find("mdb_") != std::string::npos ? "crash in LMDB" : "crash elsewhere";
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        buildNode();
        m_source = readFile(pristineDir() + "/data.mdb");
        QVERIFY(m_source.size() > 64 * 1024);
        qInfo("data.mdb: %zu bytes", m_source.size());
    }

    void damagedPageReachesTheClientNamingActorAndPage() {
        const std::string dir = m_dir.path().toStdString() + "/page";
        std::filesystem::create_directories(dir);
        writeFile(dir + "/data.mdb", m_source);
        MetricsRegistry metrics;
        sql::DatabaseOptions o = options(dir);
        o.engine.metrics = &metrics;
        auto db = sql::Database::open(o);
        QVERIFY2(db, str(db.status()));
        storage::Environment& env = (*db)->engine().environment();
        std::uint64_t actorId = 0;
        {
            auto txn = env.beginRead();
            auto rec = storage::Catalog::find(env, txn->get(), "type1", "a2");
            QVERIFY2(rec, str(rec.status()));
            actorId = rec->id;
        }
        std::string key;
        putBigEndian64(key, actorId);
        putBigEndian32(key, 2);
        Status s = env.write([&](MDB_txn* txn) { // one damaged byte in page 2's record
            MDB_val k = storage::detail::toVal(key);
            MDB_val v;
            if (int rc = mdb_get(txn, env.dbs().pages, &k, &v); rc != 0)
                return storage::Environment::fromMdb(rc, "get");
            std::string value(storage::detail::toView(v));
            value[10] = char(value[10] ^ 0x40);
            MDB_val nv = storage::detail::toVal(value);
            return storage::Environment::fromMdb(mdb_put(txn, env.dbs().pages, &k, &nv, 0), "put");
        });
        QVERIFY2(s, str(s));
        (*db)->shutdown();
        db->reset();
        db = sql::Database::open(o);
        QVERIFY2(db, str(db.status()));
        auto r = (*db)->query(sql::Session{}, "ACTOR type1(a2); SELECT sum(i), count(*) FROM tab");
        QVERIFY(!r);
        QCOMPARE(r.status().code(), ErrorCode::Corruption);
        const std::string expected =
            "actor " + std::to_string(actorId) + " page 2 fails its checksum";
        QVERIFY2(r.status().message().find(expected) != std::string::npos, str(r.status()));
        QVERIFY(metrics.counter("troupe_corruption_detected_total", "").value() >= 1);
        auto other = (*db)->query(sql::Session{}, "ACTOR type1(a1); SELECT count(*) FROM tab");
        QVERIFY2(other, str(other.status())); // the rest of the node serves
        auto& e = (*db)->engine().environment();
        auto txn = e.beginRead();
        storage::VerifyReport report = storage::verifyRecords(e, txn->get());
        QCOMPARE(report.errorCount(), std::uint64_t(1));
        QVERIFY(report.errors[0].find(expected.substr(0, expected.find(" fails"))) !=
                std::string::npos);
    }

    void flippedByte_data() {
        QTest::addColumn<qint64>("offset");
        QTest::addColumn<int>("mask");
        std::mt19937 rng(kSeed);
        std::uniform_int_distribution<std::size_t> where(0, m_source.size() - 1);
        std::uniform_int_distribution<int> bits(1, 255);
        for (int i = 0; i < kFlips; ++i) {
            const std::size_t offset = where(rng);
            QTest::addRow("offset %zu", offset) << qint64(offset) << bits(rng);
        }
    }

    void flippedByte() {
        QFETCH(qint64, offset);
        QFETCH(int, mask);
        const std::string dir = m_dir.path().toStdString() + "/flip";
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        std::string bytes = m_source;
        bytes[std::size_t(offset)] = char(bytes[std::size_t(offset)] ^ mask);
        writeFile(dir + "/data.mdb", bytes);
        const std::string logPath = m_dir.path().toStdString() + "/child.log";
        const std::string outcome = runChild(dir, logPath);
        ++m_tally[outcome];
        if (outcome.rfind("crash", 0) == 0 || outcome == "hang")
            m_crashes.push_back("offset " + std::to_string(offset) + ": " + outcome);
        const std::string log = readFile(logPath);
        if (outcome == "DIFFERENT" || outcome == "crash elsewhere" || outcome == "hang")
            qWarning("%s", log.c_str());
        else if (const auto at = log.find("OUTCOME"); at != std::string::npos)
            qInfo("%s", log.substr(at, log.find('\n', at) - at).c_str());
        QVERIFY2(outcome != "DIFFERENT", "a damaged byte changed an answer without an error");
        QVERIFY2(outcome != "crash elsewhere", "a crash outside LMDB");
        QVERIFY2(outcome != "hang", "the child hung");
    }

    void summary() {
        std::string line;
        for (const auto& [outcome, n] : m_tally)
            line += outcome + ": " + std::to_string(n) + "; ";
        qInfo("%d flips: %s", kFlips, line.c_str());
        for (const std::string& c : m_crashes)
            qInfo("known limit of LMDB 0.9: %s", c.c_str());
    }
};

QTEST_APPLESS_MAIN(TestCorruptionFlips)
#include "tst_corruption_flips.moc"
