#pragma once

// Writer: the one storage writer of an Environment (DESIGN §4 "group commit"). Any thread
// submits LogEntries (and Raft log writes, submitWork); the writer thread takes everything pending
// (up to maxBatchBytes), applies it in ONE LMDB write transaction, commits with ONE fsync
// (FsyncMode::Always, or when any entry in the batch asked for forceSync), then runs every entry's
// completion. An entry is acknowledged only after it is durable per the mode.
//
// If the transaction fails (disk full, I/O error), every entry of that batch completes with
// the error and nothing of the batch is visible; later batches are tried normally.
//
// Threads: submit() from any thread; completions run on the writer thread and must be quick
// (post to another queue). stop() drains what is queued, syncs, and joins.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/heartbeat.h"
#include "core/metrics.h"
#include "core/status.h"
#include "storage/environment.h"
#include "storage/log_entry.h"

namespace troupe::storage {

struct WriterOptions {
    std::size_t maxBatchBytes = 64u << 20;
    std::chrono::milliseconds fsyncInterval{1000}; // for FsyncMode::Interval
};

class Writer {
public:
    using Completion = std::function<void(Status)>;

    Writer(Environment& env, MetricsRegistry& metrics, WriterOptions options = {});
    ~Writer(); // stop()

    void start();
    void stop();

    // Queues `entry`. After stop() the completion runs at once with ShuttingDown.
    void submit(LogEntry entry, bool forceSync, Completion done);

    // Work that is not a LogEntry, done in the same batched transaction and fsync: the Raft log
    // store's appends, hard states and snapshots of many groups (raft_log_store.h). `apply`
    // runs in the batch's transaction after the batch's LogEntries, in submission order, and
    // must be repeatable (map growth runs the transaction again). It returns an error to fail
    // the whole batch (I/O, disk full); it sets *outcome instead to refuse only its own request
    // (a precondition), in which case it must have written nothing. The completion gets the
    // batch's error, else the outcome.
    struct TxnWork {
        std::function<Status(MDB_txn*, Status* outcome)> apply;
        std::size_t bytes = 0; // counts toward maxBatchBytes
    };
    void submitWork(TxnWork work, bool forceSync, Completion done);

    // Applies entries in the calling thread, in one transaction (recovery, tests). `extra`, when
    // set, runs in the same transaction after the entries (recovery records `applied` there).
    Status applyNow(const std::vector<const LogEntry*>& entries, bool forceSync,
                    const std::function<Status(MDB_txn*)>& extra = {});

    // Progress for stall detection (core/heartbeat.h): submitted work counts as waiting until
    // its batch has been applied and completed. Any thread.
    const Heartbeat& heartbeat() const { return m_beat; }

private:
    struct Pending {
        LogEntry entry; // unless work.apply is set
        TxnWork work;
        bool forceSync;
        Completion done;

        std::size_t byteSize() const { return work.apply ? work.bytes : entry.byteSize(); }
    };
    void enqueue(Pending pending);
    void run();
    Status applyBatch(std::deque<Pending>& batch);
    void syncNow(); // writer thread: flush commits made with MDB_NOSYNC

    Environment& m_env;
    WriterOptions m_options;
    Counter& m_batches;
    Counter& m_fsyncs;
    Counter& m_bytesWritten;
    Counter& m_entries;
    Counter& m_works;

    std::mutex m_mutex; // guards m_queue, m_stopping
    std::condition_variable m_cv;
    std::deque<Pending> m_queue;
    Heartbeat m_beat; // atomics: queued under m_mutex, progress on the writer thread
    bool m_stopping = false;
    std::thread m_thread;
    std::chrono::steady_clock::time_point m_lastSync; // writer thread only
    bool m_dirty = false;                             // writer thread only: unsynced commits
};

// Log: where the executor sends committed write sets (DESIGN §4). The single-node LocalLog
// hands entries straight to the Writer; the Raft issue replaces it with a replicated log.
class Log {
public:
    virtual ~Log() = default;
    virtual void submit(LogEntry entry, bool forceSync, Writer::Completion done) = 0;
};

class LocalLog final : public Log {
public:
    explicit LocalLog(Writer& writer) : m_writer(writer) {}
    void submit(LogEntry entry, bool forceSync, Writer::Completion done) override {
        m_writer.submit(std::move(entry), forceSync, std::move(done));
    }

private:
    Writer& m_writer;
};

} // namespace troupe::storage
