// troupe-crash-writer: the child process of the crash test (tst_crash). It writes to many
// actors from several threads through the Engine and appends one line per acknowledged
// request to an ack file ("<actor> <seq>"), until it is killed with SIGKILL.
//
// Every request inserts three rows with the same seq and bumps a per-actor summary in the
// same transaction, so a half-applied transaction is visible afterwards; every 16th request
// also writes a 20 KB blob so that transactions span several pages.
//
//   troupe-crash-writer DATA_DIR ACK_FILE ROUND FSYNC(always|off) THREADS ACTORS_PER_THREAD

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "sql/engine.h"

using namespace troupe;

int main(int argc, char** argv) {
    if (argc != 7) {
        std::fprintf(stderr, "usage: %s DATA_DIR ACK_FILE ROUND FSYNC THREADS ACTORS_PER_THREAD\n",
                     argv[0]);
        return 2;
    }
    const std::string dataDir = argv[1];
    const int ackFd = ::open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
    const long long round = std::atoll(argv[3]);
    const std::string fsync = argv[4];
    const int threads = std::atoi(argv[5]);
    const int actorsPerThread = std::atoi(argv[6]);
    if (ackFd < 0) {
        std::perror("ack file");
        return 2;
    }

    sql::EngineOptions options;
    options.dataDir = dataDir;
    options.storage.fsync = fsync == "off" ? storage::FsyncMode::Off : storage::FsyncMode::Always;
    options.maxOpenActors = 64; // small, so that actors are also closed and reopened
    auto engine = sql::Engine::open(options);
    if (!engine) {
        std::fprintf(stderr, "open: %s\n", engine.status().toString().c_str());
        return 1;
    }

    std::atomic<bool> failed{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            sql::ExecFlags create;
            create.create = true;
            long long seq = round * 1000000000LL + t * 10000000LL;
            for (long long i = 0; !failed; ++i) {
                const std::string actor =
                    "t" + std::to_string(t) + "_a" + std::to_string(i % actorsPerThread);
                ++seq;
                std::string sql =
                    "CREATE TABLE IF NOT EXISTS r(seq INTEGER, part INTEGER, pad BLOB);"
                    "CREATE TABLE IF NOT EXISTS s(n INTEGER);"
                    "INSERT INTO s SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM s);"
                    "INSERT INTO r VALUES (?1, 1, NULL), (?1, 2, NULL), (?1, 3, ?2);"
                    "UPDATE s SET n = n + 3;";
                std::vector<sql::Value> params{std::int64_t(seq), std::monostate{}};
                if (i % 16 == 0)
                    params[1] = sql::Blob{std::string(20000, char('a' + i % 26))};
                auto r = (*engine)->execute("crash", actor, sql, params, create);
                if (!r) {
                    std::fprintf(stderr, "write %s %lld: %s\n", actor.c_str(), seq,
                                 r.status().toString().c_str());
                    failed = true;
                    return;
                }
                const std::string line = actor + " " + std::to_string(seq) + "\n";
                if (::write(ackFd, line.data(), line.size()) != ssize_t(line.size())) {
                    failed = true;
                    return;
                }
            }
        });
    }
    for (auto& w : workers)
        w.join();
    return failed ? 1 : 0;
}
