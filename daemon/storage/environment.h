#pragma once

// Environment: the one LMDB environment of a data directory (DESIGN §5) with its named
// databases, read transactions for any thread, and the single write path used by the Writer.
//
// Threads: open/close on the owner's thread. ReadTxn from any thread (MDB_NOTLS: a thread may
// hold several). Write transactions only through write() — in practice only the Writer thread.
//
// Reader slots: every open ReadTxn takes one of maxReaders slots in lock.mdb. When all are in
// use, beginRead() waits up to readerWait for one to be freed and then fails with Busy (a
// retryable condition, not an I/O error). shareRead() lets the callers on one thread share a
// snapshot while it is still the latest committed state, so many open actors need few slots.
//
// Map growth: when a write transaction hits MDB_MAP_FULL, write() aborts it, waits until no
// read transaction is open (new readers wait at the ResizeGate), grows the map, and runs the
// transaction again. A full disk or a read-only file system is reported as DiskFull / ReadOnly.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <lmdb.h>

#include "core/status.h"
#include "storage/record_seal.h"
#include "storage/resize_gate.h"

namespace troupe {
class Counter;
class MetricsRegistry;
} // namespace troupe

namespace troupe::storage {

// On-disk format versions (meta `format_version`, resources/docs/formats.md): 1 = records
// without checksums; 2 = every record sealed (record_seal.h). A writable open upgrades 1 to 2.
inline constexpr std::uint32_t kFormatVersionLegacy = 1;
inline constexpr std::uint32_t kFormatVersion = 2;

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
    // LMDB reader slots (64 bytes each in lock.mdb): read snapshots open at once. 0 = 512;
    // sql::Engine sizes it from the actors it may hold open.
    unsigned maxReaders = 0;
    // How long beginRead() waits for a free reader slot before it fails with Busy.
    std::chrono::milliseconds readerWait{50};
    FsyncMode fsync = FsyncMode::Always;
    bool readOnly = false;
    // Where troupe_corruption_detected_total is counted (none: counted only in the Environment).
    MetricsRegistry* metrics = nullptr;
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

inline constexpr unsigned kDefaultMaxReaders = 512;

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
    Environment* m_env = nullptr; // set while the ResizeGate is held
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

    // A snapshot of the last committed state. Busy when no reader slot frees up in time.
    Result<ReadTxn> beginRead();
    // The same, shared with the other callers on this thread: the thread's current shared
    // snapshot when nothing was committed since it began (so it is exactly what beginRead()
    // would return now), else a new one. Drop it on this thread.
    Result<std::shared_ptr<const ReadTxn>> shareRead();

    // Runs `body` in a write transaction and commits it (fsync per the FsyncMode, or always
    // when forceSync). On MDB_MAP_FULL the map grows and `body` runs again from the start, so
    // `body` must be repeatable. A non-OK Status from `body` aborts the transaction.
    Status write(const std::function<Status(MDB_txn*)>& body, bool forceSync = false);

    // Flushes everything committed so far to disk (for Interval/Off modes and shutdown).
    Status sync();

    std::uint64_t mapSize() const { return m_mapSize.load(std::memory_order_relaxed); }
    std::uint64_t fsyncCount() const { return m_fsyncs.load(std::memory_order_relaxed); }
    // Reader slots LMDB made (it rounds maxReaders up to fill the lock file's pages).
    unsigned maxReaders() const { return m_maxReaders; }
    // Callers of beginRead() waiting for a free reader slot right now.
    int slotWaiters() const { return m_slotWaiters.load(); }

    // Maps an LMDB or errno code to a Status with context ("put page: MDB_MAP_FULL ...").
    static Status fromMdb(int rc, std::string_view what);

    // The value of `key` in the meta database (NotFound if absent), copied out of `txn`.
    Result<std::string> readMeta(MDB_txn* txn, std::string_view key) const;

    // The on-disk format version found at open (after any upgrade). While it is 1 (a read-only
    // open of an old directory), records without a checksum are still read.
    std::uint32_t formatVersion() const { return m_formatVersion; }
    bool legacyRecords() const { return m_formatVersion < kFormatVersion; }

    // A record failed its checksum or could not be decoded: counts it (corruptionsDetected(),
    // troupe_corruption_detected_total) and logs it once per record. Any thread.
    void reportCorruption(RecordDb db, std::string_view key, const Status& status) const;
    std::uint64_t corruptionsDetected() const { return m_corruptions.load(); }

private:
    friend class ReadTxn;
    Environment() = default;
    int tryBeginRead(ReadTxn& txn);
    void readerEnded();
    Status grow();
    Status openDatabases();
    Status checkFormatVersion(MDB_txn* txn, bool writable);
    Status upgradeFormat();
    bool looksFull() const;
    Status commitOnce(const std::function<Status(MDB_txn*)>& body, bool forceSync, bool* mapFull);

    MDB_env* m_env = nullptr;
    Databases m_dbs;
    EnvironmentOptions m_options;
    ResizeGate m_gate;
    std::mutex m_writeMutex; // serializes write() and sync() (Writer thread, recovery, tests)
    std::atomic<std::uint64_t> m_mapSize{0}; // written under m_writeMutex
    std::atomic<std::uint64_t> m_fsyncs{0};  // written under m_writeMutex
    unsigned m_maxReaders = kDefaultMaxReaders;
    // Waiting for a reader slot: m_readersEnded counts ended snapshots; a waiter sleeps on
    // m_slotFreed until it changes (readerEnded notifies only when someone waits).
    std::atomic<std::uint64_t> m_readersEnded{0};
    std::atomic<int> m_slotWaiters{0};
    std::mutex m_slotMutex;
    std::condition_variable m_slotFreed;
    std::uint32_t m_formatVersion = kFormatVersion; // set during open()
    // Corruption reports: a count, the metric, and the records already logged (bounded).
    mutable std::atomic<std::uint64_t> m_corruptions{0};
    Counter* m_corruptionCounter = nullptr;
    mutable std::mutex m_reportedMutex;
    mutable std::vector<std::string> m_reported; // guarded by m_reportedMutex
};

} // namespace troupe::storage
