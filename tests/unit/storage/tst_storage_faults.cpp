// Fault tests for the storage layer: the LMDB map grows when full (with readers running), the
// map size limit, a full disk (RLIMIT_FSIZE in a forked child) that fails cleanly and keeps
// every acknowledged write, read-only file systems and data directories that cannot be used,
// and the on-disk format version check.

#include <QTest>

#include <atomic>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <QFile>

#include "storage/catalog.h"
#include "storage/writer.h"
#include "storage_test_util.h"

using namespace troupe;
using namespace troupe::storage;
using namespace troupe::storage::test;

namespace {

LogEntry actorEntry(std::uint64_t id, std::uint32_t pages, PageKind kind) {
    LogEntry e;
    e.catalogOps.push_back(createOp("user", "a" + std::to_string(id), id));
    e.writeSets.push_back(makeWriteSet(id, pages, kind));
    return e;
}

// Reads every record of every database and decodes every page: the environment is readable
// end to end. Returns the number of actors.
Status checkConsistent(Environment& env, std::uint64_t* actorCount) {
    Result<ReadTxn> txn = env.beginRead();
    if (!txn)
        return txn.status();
    MDB_stat stat;
    if (int rc = mdb_stat(txn->get(), env.dbs().actors, &stat))
        return Environment::fromMdb(rc, "stat");
    *actorCount = stat.ms_entries;
    Result<std::uint64_t> counted = Catalog::count(env, txn->get(), "");
    if (!counted || *counted != stat.ms_entries)
        return Status(ErrorCode::Corruption, "actor counter does not match the catalog");
    Result<std::vector<ActorRecord>> all = Catalog::list(env, txn->get(), "user", "", "", ~0u);
    if (!all)
        return all.status();
    Page page;
    for (const ActorRecord& r : *all) {
        Result<std::uint32_t> size = PageStore::dbSize(env, txn->get(), r.id);
        if (!size)
            return size.status();
        for (std::uint32_t pgno = 1; pgno <= *size; ++pgno)
            TROUPE_RETURN_IF_ERROR(PageStore::readPage(env, txn->get(), r.id, pgno, page.data()));
    }
    return Status::ok();
}

// Writes a whole buffer to a pipe (child side).
void writeAll(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::write(fd, s.data() + off, s.size() - off);
        if (n <= 0)
            return;
        off += std::size_t(n);
    }
}

std::string readAll(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0)
        out.append(buf, std::size_t(n));
    return out;
}

// Runs `child` in a forked process and returns (exit code, what it wrote to the pipe).
template <typename F> std::pair<int, std::string> runInChild(F child) {
    int fds[2];
    if (pipe(fds) != 0)
        return {-1, "pipe failed"};
    pid_t pid = fork();
    if (pid == 0) {
        ::close(fds[0]);
        int code = child(fds[1]);
        ::close(fds[1]);
        _exit(code); // no atexit handlers, no sanitizer leak check of the copied heap
    }
    ::close(fds[1]);
    std::string out = readAll(fds[0]);
    ::close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

} // namespace

class TestStorageFaults : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_run = 0;

    QString freshPath() { return m_dir.path() + "/env" + QString::number(++m_run); }

private slots:
    void mapGrowsWhenFull() {
        EnvironmentOptions options;
        options.initialMapSize = 64 << 10;
        options.mapGrowthStep = 1 << 20;
        const QString path = freshPath();
        auto env = openEnv(path, options);
        QVERIFY(env);
        const std::uint64_t initial = env->mapSize();
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        writer.start();

        // Readers keep taking snapshots while the map grows under them.
        std::atomic<bool> stop{false};
        std::atomic<int> readerErrors{0};
        std::atomic<int> reads{0};
        std::thread reader([&] {
            Page page;
            while (!stop) {
                Result<ReadTxn> txn = env->beginRead();
                if (!txn) {
                    ++readerErrors;
                    continue;
                }
                Result<std::uint32_t> size = PageStore::dbSize(*env, txn->get(), 1);
                if (!size ||
                    (*size > 0 && !PageStore::readPage(*env, txn->get(), 1, 1, page.data())))
                    ++readerErrors;
                ++reads;
            }
        });

        // 16 actors x 64 incompressible pages = 4 MiB, far beyond 64 KiB.
        std::atomic<int> ok{0};
        std::atomic<int> failed{0};
        for (std::uint64_t id = 1; id <= 16; ++id)
            writer.submit(actorEntry(id, 64, PageKind::Random), false,
                          [&](Status s) { s ? ++ok : ++failed; });
        writer.stop();
        stop = true;
        reader.join();
        QCOMPARE(failed.load(), 0);
        QCOMPARE(ok.load(), 16);
        QCOMPARE(readerErrors.load(), 0);
        QVERIFY(reads.load() > 0);
        QVERIFY2(env->mapSize() >= 4ull << 20,
                 qPrintable(QString("map size %1").arg(env->mapSize())));
        QVERIFY(env->mapSize() > initial);

        // Intact now and after reopening.
        for (int round = 0; round < 2; ++round) {
            Result<ReadTxn> txn = env->beginRead();
            for (std::uint64_t id = 1; id <= 16; ++id)
                QVERIFY(actorPagesIntact(*env, txn->get(), id, 64, PageKind::Random));
            txn->reset();
            env.reset();
            env = openEnv(path, options);
            QVERIFY(env);
        }
    }

    // A thread that already holds a read transaction may open another one while the writer
    // waits to grow the map (it would deadlock at the closed gate otherwise).
    void nestedReadersDuringGrowthDoNotDeadlock() {
        EnvironmentOptions options;
        options.initialMapSize = 64 << 10;
        auto env = openEnv(freshPath(), options);
        QVERIFY(env);
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        Result<ReadTxn> outer = env->beginRead();
        QVERIFY(outer);
        std::atomic<bool> written{false};
        Status status;
        std::thread w([&] {
            LogEntry e = actorEntry(1, 64, PageKind::Random);
            status = writer.applyNow({&e}, false);
            written = true;
        });
        // Whether or not the gate is closed yet, nested snapshots must not block.
        for (int i = 0; i < 200 && !written; ++i) {
            Result<ReadTxn> inner = env->beginRead();
            QVERIFY(inner);
        }
        outer->reset();
        w.join();
        QVERIFY2(status.isOk(), str(status));
        Result<ReadTxn> txn = env->beginRead();
        QVERIFY(actorPagesIntact(*env, txn->get(), 1, 64, PageKind::Random));
    }

    void mapSizeLimitIsClearError() {
        EnvironmentOptions options;
        options.initialMapSize = 128 << 10;
        options.maxMapSize = 256 << 10;
        auto env = openEnv(freshPath(), options);
        QVERIFY(env);
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        LogEntry small = actorEntry(1, 4, PageKind::Random);
        QVERIFY(writer.applyNow({&small}, true).isOk());
        LogEntry huge = actorEntry(2, 128, PageKind::Random);
        Status s = writer.applyNow({&huge}, true);
        QCOMPARE(s.code(), ErrorCode::DiskFull);
        QVERIFY2(s.message().find("map size limit reached") != std::string::npos, str(s));
        QCOMPARE(env->mapSize(), std::uint64_t(256 << 10));
        // Still usable, nothing of the failed write visible.
        LogEntry another = actorEntry(3, 2, PageKind::Text);
        QVERIFY(writer.applyNow({&another}, true).isOk());
        Result<ReadTxn> txn = env->beginRead();
        QVERIFY(actorPagesIntact(*env, txn->get(), 1, 4, PageKind::Random));
        QVERIFY(actorPagesIntact(*env, txn->get(), 3, 2, PageKind::Text));
        QCOMPARE(*PageStore::dbSize(*env, txn->get(), 2), std::uint32_t(0));
        QCOMPARE(Catalog::find(*env, txn->get(), "user", "a2").status().code(),
                 ErrorCode::NotFound);
    }

    // The child fills the "disk" (RLIMIT_FSIZE, SIGXFSZ ignored) until a write fails; the
    // parent then checks that every acknowledged write survived and LMDB is consistent.
    void fullDiskFailsCleanly() {
        const QString path = freshPath();
        {
            auto env = openEnv(path);
            QVERIFY(env);
            MetricsRegistry metrics;
            Writer writer(*env, metrics);
            LogEntry seed = actorEntry(1, 8, PageKind::Random);
            QVERIFY(writer.applyNow({&seed}, true).isOk());
        }
        const std::string dataFile = (path + "/data.mdb").toStdString();

        auto [code, report] = runInChild([&](int fd) {
            signal(SIGXFSZ, SIG_IGN);
            auto env = openEnv(path);
            if (!env)
                return 2;
            struct stat st;
            if (::stat(dataFile.c_str(), &st) != 0)
                return 3;
            rlimit limit{rlim_t(st.st_size) + (1 << 20), rlim_t(st.st_size) + (1 << 20)};
            if (setrlimit(RLIMIT_FSIZE, &limit) != 0)
                return 4;
            MetricsRegistry metrics;
            Writer writer(*env, metrics);
            for (std::uint64_t id = 2; id < 1000; ++id) {
                LogEntry e = actorEntry(id, 16, PageKind::Random);
                Status s = writer.applyNow({&e}, true);
                if (!s) {
                    writeAll(fd, "F " + std::to_string(int(s.code())) + " " + s.message() + "\n");
                    // The environment still serves reads of acknowledged data.
                    Result<ReadTxn> txn = env->beginRead();
                    if (!txn || !actorPagesIntact(*env, txn->get(), id - 1, 16, PageKind::Random))
                        return 5;
                    return 0;
                }
                writeAll(fd, "A " + std::to_string(id) + "\n");
            }
            return 6; // never hit the limit
        });
        QCOMPARE(code, 0);

        std::vector<std::uint64_t> acked;
        QString failure;
        int failureCode = -1;
        for (const QString& line : QString::fromStdString(report).split('\n', Qt::SkipEmptyParts)) {
            if (line.startsWith("A "))
                acked.push_back(line.mid(2).toULongLong());
            if (line.startsWith("F ")) {
                failureCode = line.section(' ', 1, 1).toInt();
                failure = line.section(' ', 2);
            }
        }
        QVERIFY2(failureCode == int(ErrorCode::DiskFull), qPrintable(failure));
        QVERIFY2(failure.contains("disk full"), qPrintable(failure));
        QVERIFY(acked.size() >= 5); // 1 MiB of room for 64 KiB writes

        auto env = openEnv(path);
        QVERIFY(env);
        std::uint64_t actors = 0;
        Status consistent = checkConsistent(*env, &actors);
        QVERIFY2(consistent.isOk(), str(consistent));
        QCOMPARE(actors, std::uint64_t(1 + acked.size())); // the failed write left nothing
        {
            Result<ReadTxn> txn = env->beginRead();
            QVERIFY(actorPagesIntact(*env, txn->get(), 1, 8, PageKind::Random));
            for (std::uint64_t id : acked)
                QVERIFY(actorPagesIntact(*env, txn->get(), id, 16, PageKind::Random));
            const std::uint64_t failedId = acked.back() + 1;
            QCOMPARE(*PageStore::dbSize(*env, txn->get(), failedId), std::uint32_t(0));
        }
        // With the space back, writing works again.
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        LogEntry more = actorEntry(5000, 16, PageKind::Random);
        QVERIFY(writer.applyNow({&more}, true).isOk());
    }

    void dataDirectoryUnusable_data() {
        QTest::addColumn<QString>("relative");
        QTest::addColumn<QString>("expected");
        QTest::newRow("regular file") << "file"
                                      << "not a directory";
        QTest::newRow("below a regular file") << "file/sub"
                                              << "Not a directory";
    }
    void dataDirectoryUnusable() {
        QFETCH(QString, relative);
        QFETCH(QString, expected);
        const QString base = freshPath();
        QVERIFY(QDir().mkpath(base));
        QFile file(base + "/file");
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("not lmdb");
        file.close();
        Result<std::unique_ptr<Environment>> env =
            Environment::open((base + "/" + relative).toStdString(), {});
        QVERIFY(!env.isOk());
        QCOMPARE(env.status().code(), ErrorCode::IoError);
        QVERIFY2(QString::fromStdString(env.status().message()).contains(expected),
                 str(env.status()));
    }

    void notAnLmdbFile() {
        const QString path = freshPath();
        QVERIFY(QDir().mkpath(path));
        QFile file(path + "/data.mdb");
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray(64 << 10, 'x'));
        file.close();
        Result<std::unique_ptr<Environment>> env = Environment::open(path.toStdString(), {});
        QVERIFY(!env.isOk());
        QVERIFY2(env.status().code() == ErrorCode::Corruption, str(env.status()));
    }

    void readOnlyEnvironment() {
        const QString path = freshPath();
        {
            auto env = openEnv(path);
            QVERIFY(env);
            MetricsRegistry metrics;
            Writer writer(*env, metrics);
            LogEntry e = actorEntry(1, 3, PageKind::Text);
            QVERIFY(writer.applyNow({&e}, true).isOk());
        }
        EnvironmentOptions options;
        options.readOnly = true;
        auto env = openEnv(path, options);
        QVERIFY(env);
        {
            Result<ReadTxn> txn = env->beginRead();
            QVERIFY(actorPagesIntact(*env, txn->get(), 1, 3));
        }
        MetricsRegistry metrics;
        Writer writer(*env, metrics);
        LogEntry e = actorEntry(2, 1, PageKind::Text);
        QCOMPARE(writer.applyNow({&e}, true).code(), ErrorCode::ReadOnly);
        // A directory that does not exist is not created in read-only mode.
        Result<std::unique_ptr<Environment>> missing =
            Environment::open((path + "-missing").toStdString(), options);
        QCOMPARE(missing.status().code(), ErrorCode::NotFound);
    }

    // A read-only bind mount in a private mount namespace of a forked child (root ignores file
    // modes, so chmod would prove nothing).
    void readOnlyFileSystem() {
        const QString path = freshPath();
        {
            auto env = openEnv(path);
            QVERIFY(env);
        }
        const std::string dir = path.toStdString();
        auto [code, report] = runInChild([&](int fd) {
            if (unshare(CLONE_NEWNS) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
                return 77;
            if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
                mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
                mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) !=
                    0)
                return 77;
            Result<std::unique_ptr<Environment>> env = Environment::open(dir, {});
            writeAll(fd, std::to_string(int(env.status().code())) + " " + env.status().message() +
                             "\n");
            Result<std::unique_ptr<Environment>> fresh = Environment::open(dir + "/new", {});
            writeAll(fd, std::to_string(int(fresh.status().code())) + " " +
                             fresh.status().message() + "\n");
            return 0;
        });
        if (code == 77)
            QSKIP("no private mount namespace here (unshare/mount not permitted)");
        QCOMPARE(code, 0);
        const QStringList lines = QString::fromStdString(report).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        for (const QString& line : lines) {
            QVERIFY2(line.section(' ', 0, 0).toInt() == int(ErrorCode::ReadOnly), qPrintable(line));
            QVERIFY2(line.contains("read-only", Qt::CaseInsensitive), qPrintable(line));
        }
    }

    void formatVersion_data() {
        QTest::addColumn<QByteArray>("version");
        QTest::addColumn<ErrorCode>("code");
        QTest::addColumn<QString>("message");
        // Format 1 wrote the bare u32 (and is upgraded on open); format 2 seals it.
        QTest::newRow("format 1") << QByteArray("\0\0\0\1", 4) << ErrorCode::Ok << "";
        const std::string v2 = sealRecord(RecordDb::Meta, "format_version", {"\0\0\0\2", 4});
        QTest::newRow("format 2") << QByteArray(v2.data(), qsizetype(v2.size())) << ErrorCode::Ok
                                  << "";
        QTest::newRow("newer") << QByteArray("\0\0\0\3", 4) << ErrorCode::InvalidArgument
                               << "newer than this build supports";
        std::string damaged = sealRecord(RecordDb::Meta, "format_version", {"\0\0\0\2", 4});
        damaged[3] = '\3'; // version 3 under the checksum of version 2
        QTest::newRow("damaged seal") << QByteArray(damaged.data(), qsizetype(damaged.size()))
                                      << ErrorCode::Corruption << "fails its checksum";
        QTest::newRow("zero") << QByteArray("\0\0\0\0", 4) << ErrorCode::Corruption
                              << "unknown on-disk format version";
        QTest::newRow("garbage") << QByteArray("abc") << ErrorCode::Corruption << "expected 4";
    }
    void formatVersion() {
        QFETCH(QByteArray, version);
        QFETCH(ErrorCode, code);
        QFETCH(QString, message);
        const QString path = freshPath();
        {
            auto env = openEnv(path);
            QVERIFY(env);
            Status s = env->write([&](MDB_txn* txn) {
                MDB_val key{14, const_cast<char*>("format_version")};
                MDB_val val{std::size_t(version.size()), version.data()};
                int rc = mdb_put(txn, env->dbs().meta, &key, &val, 0);
                return Environment::fromMdb(rc, "put");
            });
            QVERIFY(s.isOk());
        }
        Result<std::unique_ptr<Environment>> env = Environment::open(path.toStdString(), {});
        QCOMPARE(env.status().code(), code);
        QVERIFY2(QString::fromStdString(env.status().message()).contains(message),
                 str(env.status()));
    }

    void errnoMapping_data() {
        QTest::addColumn<int>("rc");
        QTest::addColumn<ErrorCode>("code");
        QTest::newRow("ENOSPC") << ENOSPC << ErrorCode::DiskFull;
        QTest::newRow("EFBIG") << EFBIG << ErrorCode::DiskFull;
        QTest::newRow("EROFS") << EROFS << ErrorCode::ReadOnly;
        QTest::newRow("EACCES") << EACCES << ErrorCode::ReadOnly;
        QTest::newRow("EIO") << EIO << ErrorCode::IoError;
        QTest::newRow("MDB_NOTFOUND") << MDB_NOTFOUND << ErrorCode::NotFound;
        QTest::newRow("MDB_CORRUPTED") << MDB_CORRUPTED << ErrorCode::Corruption;
        QTest::newRow("MDB_MAP_FULL") << MDB_MAP_FULL << ErrorCode::DiskFull;
    }
    void errnoMapping() {
        QFETCH(int, rc);
        QFETCH(ErrorCode, code);
        Status s = Environment::fromMdb(rc, "doing x");
        QCOMPARE(s.code(), code);
        QVERIFY(s.message().starts_with("doing x: "));
    }
};

QTEST_APPLESS_MAIN(TestStorageFaults)
#include "tst_storage_faults.moc"
