#pragma once

// Environment: the one LMDB environment of a data directory (DESIGN §5) with its named
// databases, read transactions for any thread, and the single write path used by the Writer.
//
// Threads: open/close on the owner's thread. ReadTxn from any thread (MDB_NOTLS: a thread may
// hold several). Write transactions only through write() — in practice only the Writer thread.
//
// Map growth: when a write transaction hits MDB_MAP_FULL, write() aborts it, waits until no
// read transaction is open (new readers wait at the ResizeGate), grows the map, and runs the
// transaction again. A full disk or a read-only file system is reported as DiskFull / ReadOnly.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <lmdb.h>

#include "core/status.h"
#include "storage/resize_gate.h"

namespace troupe::storage {

enum class FsyncMode {
    Always,   // every write transaction is fsynced before it is acknowledged (default)
    Interval, // fsync at most every fsyncInterval; a crash of the OS may lose that window
    Off,      // never fsync explicitly; the OS decides (a process crash loses nothing)
};

// "always", "interval" or "off": the name used in troupe.conf, flags and reports.
std::string_view fsyncModeName(FsyncMode mode);

struct EnvironmentOptions {
    std::uint64_t initialMapSize = 256ull << 20; // bytes; grows by doubling when full
    std::uint64_t maxMapSize = 0;                // 0 = no limit but the disk
    std::uint64_t mapGrowthStep = 4ull << 30;    // growth is min(double, +step)
    unsigned maxReaders = 512;
    FsyncMode fsync = FsyncMode::Always;
    bool readOnly = false;
};

// The named databases of DESIGN §5.
struct Databases {
    MDB_dbi actors = 0;    // catalog: (type, name) -> actor record
    MDB_dbi pages = 0;     // (actor id, pgno) -> stored page; pgno 0 holds the actor's size
    MDB_dbi raftlog = 0;   // (shard, index) -> log entry
    MDB_dbi raftstate = 0; // shard -> hard state
    MDB_dbi meta = 0;      // key -> value (format version, node identity, counters)
};

class Environment;

// A read-only snapshot; move-only; aborts on destruction. Holds the ResizeGate shared.
// End it on the thread that began it (the gate counts nested snapshots per thread, so that a
// thread holding one can open another while the writer waits to grow the map).
class ReadTxn {
public:
    ReadTxn() = default;
    ReadTxn(ReadTxn&& other) noexcept;
    ReadTxn& operator=(ReadTxn&& other) noexcept;
    ReadTxn(const ReadTxn&) = delete;
    ReadTxn& operator=(const ReadTxn&) = delete;
    ~ReadTxn();

    MDB_txn* get() const { return m_txn; }
    bool valid() const { return m_txn != nullptr; }
    void reset(); // ends the snapshot now

private:
    friend class Environment;
    MDB_txn* m_txn = nullptr;
    ResizeGate* m_gate = nullptr;
};

class Environment {
public:
    ~Environment();
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;

    // Opens or creates the environment in `dir` (files data.mdb and lock.mdb). Checks the
    // on-disk format version in `meta` and writes it on a fresh directory.
    static Result<std::unique_ptr<Environment>> open(const std::filesystem::path& dir,
                                                     const EnvironmentOptions& options);

    const Databases& dbs() const { return m_dbs; }
    MDB_env* handle() const { return m_env; }
    const EnvironmentOptions& options() const { return m_options; }

    Result<ReadTxn> beginRead();

    // Runs `body` in a write transaction and commits it (fsync per the FsyncMode, or always
    // when forceSync). On MDB_MAP_FULL the map grows and `body` runs again from the start, so
    // `body` must be repeatable. A non-OK Status from `body` aborts the transaction.
    Status write(const std::function<Status(MDB_txn*)>& body, bool forceSync = false);

    // Flushes everything committed so far to disk (for Interval/Off modes and shutdown).
    Status sync();

    std::uint64_t mapSize() const { return m_mapSize.load(std::memory_order_relaxed); }
    std::uint64_t fsyncCount() const { return m_fsyncs.load(std::memory_order_relaxed); }

    // Maps an LMDB or errno code to a Status with context ("put page: MDB_MAP_FULL ...").
    static Status fromMdb(int rc, std::string_view what);

    // The value of `key` in the meta database (NotFound if absent), copied out of `txn`.
    Result<std::string> readMeta(MDB_txn* txn, std::string_view key) const;

private:
    Environment() = default;
    Status grow();
    Status openDatabases();
    Status checkFormatVersion(MDB_txn* txn, bool writable);
    bool looksFull() const;
    Status commitOnce(const std::function<Status(MDB_txn*)>& body, bool forceSync, bool* mapFull);

    MDB_env* m_env = nullptr;
    Databases m_dbs;
    EnvironmentOptions m_options;
    ResizeGate m_gate;
    std::mutex m_writeMutex; // serializes write() and sync() (Writer thread, recovery, tests)
    std::atomic<std::uint64_t> m_mapSize{0}; // written under m_writeMutex
    std::atomic<std::uint64_t> m_fsyncs{0};  // written under m_writeMutex
};

} // namespace troupe::storage
