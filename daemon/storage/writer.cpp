// Writer: group commit of LogEntries into the Environment on one thread (see writer.h).

#include "storage/writer.h"

#include "core/log.h"
#include "storage/catalog.h"
#include "storage/page_store.h"
#include "storage/sealed_db.h"

namespace troupe::storage {

namespace {

// Checks what the transaction cannot fix, so that one malformed entry fails alone instead of
// failing its whole batch.
Status validateEntry(const LogEntry& entry) {
    for (const CatalogOp& op : entry.catalogOps)
        TROUPE_RETURN_IF_ERROR(validateActorKey(op.record.type, op.record.name));
    for (const WriteSet& ws : entry.writeSets)
        for (const StoredPage& p : ws.pages) {
            if (p.pgno == 0)
                return Status(ErrorCode::InvalidArgument, "write set holds page number 0");
            if (p.stored.empty())
                return Status(ErrorCode::InvalidArgument, "write set holds an empty page");
        }
    for (const MetaOp& op : entry.metaOps)
        if (op.key.empty() || op.key.size() > 511) // LMDB's default key limit
            return Status(ErrorCode::InvalidArgument, "meta key must have 1 to 511 bytes");
    return Status::ok();
}

// Applies one entry: catalog changes first, then the write sets. Applying is deterministic and
// tolerant of replays: deleting an actor that is gone (or was replaced by a new id) is a no-op.
Status applyEntry(const Environment& env, MDB_txn* txn, const LogEntry& entry,
                  std::uint64_t* bytesWritten) {
    for (const CatalogOp& op : entry.catalogOps) {
        const ActorRecord& r = op.record;
        if (op.kind == CatalogOp::Kind::Create) {
            TROUPE_RETURN_IF_ERROR(Catalog::put(env, txn, r));
            continue;
        }
        Result<ActorRecord> existing = Catalog::find(env, txn, r.type, r.name);
        if (!existing && existing.status().code() == ErrorCode::NotFound)
            continue;
        if (!existing)
            return existing.status();
        if (r.id != 0 && existing->id != r.id)
            continue;
        TROUPE_RETURN_IF_ERROR(Catalog::remove(env, txn, r.type, r.name));
    }
    for (const WriteSet& ws : entry.writeSets) {
        std::uint64_t bytes = 0;
        TROUPE_RETURN_IF_ERROR(PageStore::apply(env, txn, ws, &bytes));
        *bytesWritten += bytes;
    }
    for (const MetaOp& op : entry.metaOps) {
        MDB_val key{op.key.size(), const_cast<char*>(op.key.data())};
        if (op.kind == MetaOp::Kind::Erase) {
            const int rc = mdb_del(txn, env.dbs().meta, &key, nullptr);
            if (rc != 0 && rc != MDB_NOTFOUND)
                return Environment::fromMdb(rc, "erasing meta key " + op.key);
            continue;
        }
        TROUPE_RETURN_IF_ERROR(putSealed(env, txn, RecordDb::Meta, op.key, op.value));
        *bytesWritten += op.key.size() + op.value.size();
    }
    return Status::ok();
}

} // namespace

Writer::Writer(Environment& env, MetricsRegistry& metrics, WriterOptions options)
    : m_env(env), m_options(options),
      m_batches(metrics.counter("troupe_commit_batches_total",
                                "LMDB write transactions committed by the storage writer")),
      m_fsyncs(metrics.counter("troupe_fsyncs_total", "fsyncs of the LMDB environment")),
      m_bytesWritten(
          metrics.counter("troupe_bytes_written_total", "bytes of page values written to LMDB")),
      m_entries(metrics.counter("troupe_log_entries_total", "log entries applied to LMDB")),
      m_works(metrics.counter("troupe_raft_log_writes_total",
                              "Raft log store writes (many groups) committed by the writer")),
      m_lastSync(std::chrono::steady_clock::now()) {}

Writer::~Writer() {
    stop();
}

void Writer::start() {
    std::lock_guard lock(m_mutex);
    if (m_thread.joinable() || m_stopping)
        return;
    m_lastSync = std::chrono::steady_clock::now();
    m_thread = std::thread([this] { run(); });
}

void Writer::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) {
        m_thread.join(); // the thread drains the queue and syncs before it ends
        return;
    }
    // Never started: nothing will apply what is queued.
    std::deque<Pending> orphans;
    {
        std::lock_guard lock(m_mutex);
        orphans.swap(m_queue);
    }
    for (Pending& p : orphans)
        p.done(Status(ErrorCode::ShuttingDown, "storage writer stopped before it started"));
}

void Writer::submit(LogEntry entry, bool forceSync, Completion done) {
    enqueue(Pending{std::move(entry), {}, forceSync, std::move(done)});
}

void Writer::submitWork(TxnWork work, bool forceSync, Completion done) {
    enqueue(Pending{{}, std::move(work), forceSync, std::move(done)});
}

void Writer::enqueue(Pending pending) {
    {
        std::lock_guard lock(m_mutex);
        if (!m_stopping) {
            m_queue.push_back(std::move(pending));
            m_beat.queued();
            m_cv.notify_one();
            return;
        }
    }
    pending.done(Status(ErrorCode::ShuttingDown, "storage writer is stopped"));
}

Status Writer::applyNow(const std::vector<const LogEntry*>& entries, bool forceSync,
                        const std::function<Status(MDB_txn*)>& extra) {
    for (const LogEntry* e : entries)
        TROUPE_RETURN_IF_ERROR(validateEntry(*e));
    std::uint64_t bytes = 0;
    const std::uint64_t fsyncsBefore = m_env.fsyncCount();
    Status s = m_env.write(
        [&](MDB_txn* txn) -> Status {
            bytes = 0; // the body runs again after the map grew
            for (const LogEntry* e : entries)
                TROUPE_RETURN_IF_ERROR(applyEntry(m_env, txn, *e, &bytes));
            return extra ? extra(txn) : Status::ok();
        },
        forceSync);
    m_fsyncs.add(m_env.fsyncCount() - fsyncsBefore);
    if (!s)
        return s;
    m_batches.add();
    m_entries.add(entries.size());
    m_bytesWritten.add(bytes);
    return s;
}

void Writer::run() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        if (m_queue.empty()) {
            if (m_stopping)
                break;
            auto wake = [this] { return m_stopping || !m_queue.empty(); };
            if (m_dirty && m_env.options().fsync == FsyncMode::Interval) {
                if (!m_cv.wait_until(lock, m_lastSync + m_options.fsyncInterval, wake)) {
                    lock.unlock();
                    syncNow();
                    lock.lock();
                }
            } else {
                m_cv.wait(lock, wake);
            }
            continue;
        }
        std::deque<Pending> batch;
        std::size_t bytes = 0;
        while (!m_queue.empty()) {
            const std::size_t n = m_queue.front().byteSize();
            if (!batch.empty() && bytes + n > m_options.maxBatchBytes)
                break;
            bytes += n;
            batch.push_back(std::move(m_queue.front()));
            m_queue.pop_front();
        }
        lock.unlock();
        Status s = applyBatch(batch);
        m_beat.taken(std::int64_t(batch.size()));
        m_beat.progressed();
        if (!s)
            log::get("storage")->error("storage writer: batch of {} entries failed: {}",
                                       batch.size(), s.toString());
        if (m_dirty && m_env.options().fsync == FsyncMode::Interval &&
            std::chrono::steady_clock::now() - m_lastSync >= m_options.fsyncInterval)
            syncNow();
        lock.lock();
    }
    lock.unlock();
    if (m_dirty)
        syncNow();
}

void Writer::syncNow() {
    const std::uint64_t before = m_env.fsyncCount();
    Status s = m_env.sync();
    m_fsyncs.add(m_env.fsyncCount() - before);
    m_lastSync = std::chrono::steady_clock::now();
    if (!s) {
        log::get("storage")->error("storage writer: {}", s.toString());
        return; // stays dirty: tried again at the next interval or at stop
    }
    m_dirty = false;
}

Status Writer::applyBatch(std::deque<Pending>& batch) {
    std::vector<Status> results(batch.size());
    std::vector<const LogEntry*> valid;
    std::vector<std::size_t> validIndex;
    std::vector<std::size_t> workIndex;
    bool forceSync = false;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (batch[i].work.apply) {
            workIndex.push_back(i);
            forceSync = forceSync || batch[i].forceSync;
            continue;
        }
        results[i] = validateEntry(batch[i].entry);
        if (!results[i])
            continue;
        valid.push_back(&batch[i].entry);
        validIndex.push_back(i);
        forceSync = forceSync || batch[i].forceSync;
    }
    Status s;
    if (!valid.empty() || !workIndex.empty()) {
        std::function<Status(MDB_txn*)> works;
        if (!workIndex.empty())
            works = [&](MDB_txn* txn) {
                for (std::size_t i : workIndex) {
                    results[i] = Status::ok(); // the body may run again after the map grew
                    TROUPE_RETURN_IF_ERROR(batch[i].work.apply(txn, &results[i]));
                }
                return Status::ok();
            };
        s = applyNow(valid, forceSync, works);
        for (std::size_t i : validIndex)
            results[i] = s;
        if (!s)
            for (std::size_t i : workIndex)
                results[i] = s;
        else
            m_works.add(workIndex.size());
        if (s) {
            if (forceSync) {
                m_dirty = false; // the forced sync flushed every earlier commit too
                m_lastSync = std::chrono::steady_clock::now();
            } else if (m_env.options().fsync != FsyncMode::Always) {
                m_dirty = true;
            }
        }
    }
    for (std::size_t i = 0; i < batch.size(); ++i)
        batch[i].done(results[i]);
    return s;
}

} // namespace troupe::storage
