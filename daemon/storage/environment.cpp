// Environment: opening the LMDB environment of a data directory, the format version check,
// read transactions behind the ResizeGate, and the single write path with map growth.
// Layout documented in resources/docs/formats.md.

#include "storage/environment.h"

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/platform/disk.h"
#include "core/bytes.h"
#include "core/log.h"
#include "core/metrics.h"
#include "storage/sealed_db.h"

namespace troupe::storage {

namespace {

constexpr std::string_view kFormatVersionKey = "format_version";
// Distinct damaged records logged (each once); later ones are only counted.
constexpr std::size_t kMaxReportedRecords = 1000;
// Free space below which a short write counts as a full disk (LMDB writes up to a few MiB of
// pages at once, so after a short write this little is left).
constexpr std::uint64_t kFullMargin = 16ull << 20;

// Set by fromMdb() when it sees MDB_MAP_FULL, so that write() can tell a full map (grow and
// retry) from any other error of the body, which only returns a Status. Writer thread only.
thread_local bool t_sawMapFull = false;

// How many read transactions the current thread holds per gate: a thread that already holds
// one must not wait at a closed gate (the writer would wait for it forever).
thread_local std::vector<std::pair<const ResizeGate*, int>> t_gateDepth;

int& gateDepth(const ResizeGate* gate) {
    for (auto& [g, depth] : t_gateDepth)
        if (g == gate)
            return depth;
    t_gateDepth.emplace_back(gate, 0);
    return t_gateDepth.back().second;
}

// Each thread's shared snapshot per environment (shareRead). Expired entries are reused.
thread_local std::vector<std::pair<const Environment*, std::weak_ptr<ReadTxn>>> t_shared;

std::weak_ptr<ReadTxn>& sharedSlot(const Environment* env) {
    for (auto& entry : t_shared)
        if (entry.first == env)
            return entry.second;
    for (auto& entry : t_shared) {
        if (entry.second.expired()) {
            entry.first = env;
            return entry.second;
        }
    }
    t_shared.emplace_back(env, std::weak_ptr<ReadTxn>());
    return t_shared.back().second;
}

ErrorCode codeForErrno(int err) {
    if (app::platform::isOutOfSpaceError(err))
        return ErrorCode::DiskFull;
    switch (err) {
    case EROFS:
    case EACCES:
    case EPERM:
        return ErrorCode::ReadOnly;
    default:
        return ErrorCode::IoError;
    }
}

MDB_val toVal(std::string_view s) {
    return MDB_val{s.size(), const_cast<char*>(s.data())};
}

} // namespace

// ---- ReadTxn ---------------------------------------------------------------------------

ReadTxn::ReadTxn(ReadTxn&& other) noexcept
    : m_txn(std::exchange(other.m_txn, nullptr)), m_env(std::exchange(other.m_env, nullptr)) {}

ReadTxn& ReadTxn::operator=(ReadTxn&& other) noexcept {
    if (this != &other) {
        reset();
        m_txn = std::exchange(other.m_txn, nullptr);
        m_env = std::exchange(other.m_env, nullptr);
    }
    return *this;
}

ReadTxn::~ReadTxn() {
    reset();
}

void ReadTxn::reset() {
    const bool hadSlot = m_txn != nullptr;
    if (m_txn) {
        mdb_txn_abort(m_txn);
        m_txn = nullptr;
    }
    if (m_env) {
        int& depth = gateDepth(&m_env->m_gate);
        if (depth > 0)
            --depth;
        m_env->m_gate.leaveShared();
        if (hadSlot)
            m_env->readerEnded();
        m_env = nullptr;
    }
}

// ---- Environment -----------------------------------------------------------------------

Environment::~Environment() {
    if (!m_env)
        return;
    if (!m_options.readOnly && m_options.fsync != FsyncMode::Always)
        mdb_env_sync(m_env, 1); // best effort: an explicit sync() reports errors
    mdb_env_close(m_env);
}

Status Environment::fromMdb(int rc, std::string_view what) {
    std::string message = std::string(what) + ": " + mdb_strerror(rc);
    switch (rc) {
    case MDB_SUCCESS:
        return Status::ok();
    case MDB_NOTFOUND:
        return Status(ErrorCode::NotFound, std::move(message));
    case MDB_MAP_FULL:
        t_sawMapFull = true;
        return Status(ErrorCode::DiskFull, std::move(message));
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
        return Status(ErrorCode::Corruption, std::move(message));
    case MDB_READERS_FULL:
    case MDB_TXN_FULL:
    case MDB_CURSOR_FULL:
    case MDB_DBS_FULL:
        return Status(ErrorCode::Busy, std::move(message));
    case MDB_BAD_VALSIZE:
        return Status(ErrorCode::TooLarge, std::move(message));
    case MDB_PANIC:
    case MDB_MAP_RESIZED:
    case MDB_BAD_RSLOT:
    case MDB_BAD_TXN:
    case MDB_BAD_DBI:
        return Status(ErrorCode::Internal, std::move(message));
    default:
        break;
    }
    if (rc > 0) {
        ErrorCode code = codeForErrno(rc);
        if (code == ErrorCode::DiskFull)
            message += " (disk full)";
        else if (code == ErrorCode::ReadOnly)
            message += " (read-only file system or no permission)";
        return Status(code, std::move(message));
    }
    return Status(ErrorCode::IoError, std::move(message));
}

Result<std::unique_ptr<Environment>> Environment::open(const std::filesystem::path& dir,
                                                       const EnvironmentOptions& options) {
    const std::string where = "data directory " + dir.string();
    std::error_code ec;
    if (!options.readOnly && !std::filesystem::exists(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        if (ec)
            return Status(codeForErrno(ec.value()), "creating " + where + ": " + ec.message());
    }
    if (!std::filesystem::exists(dir, ec) && !ec)
        return Status(ErrorCode::NotFound, where + " does not exist");
    if (!std::filesystem::is_directory(dir, ec))
        return Status(ec ? codeForErrno(ec.value()) : ErrorCode::IoError,
                      where + " is not a directory" + (ec ? ": " + ec.message() : ""));

    std::unique_ptr<Environment> env(new Environment());
    env->m_options = options;
    int rc = mdb_env_create(&env->m_env);
    if (rc != 0) {
        env->m_env = nullptr;
        return fromMdb(rc, "creating LMDB environment");
    }
    auto fail = [&env](int code, const std::string& what) {
        mdb_env_close(env->m_env); // required after a failed open
        env->m_env = nullptr;
        return fromMdb(code, what);
    };
    env->m_maxReaders = options.maxReaders ? options.maxReaders : kDefaultMaxReaders;
    if ((rc = mdb_env_set_maxdbs(env->m_env, 8)) != 0 ||
        (rc = mdb_env_set_maxreaders(env->m_env, env->m_maxReaders)) != 0 ||
        (rc = mdb_env_set_mapsize(env->m_env, options.initialMapSize)) != 0)
        return fail(rc, "configuring LMDB environment");

    unsigned flags = MDB_NOTLS;
    if (options.readOnly)
        flags |= MDB_RDONLY;
    if (options.fsync != FsyncMode::Always)
        flags |= MDB_NOSYNC;
    // LMDB takes a UTF-8 path on every platform (on Windows path::c_str() is wide). data.mdb and
    // lock.mdb are owner-only (resources/docs/security.md, "credentials").
    rc = mdb_env_open(env->m_env, reinterpret_cast<const char*>(dir.u8string().c_str()), flags,
                      0600);
    if (rc != 0)
        return fail(rc, "opening LMDB environment in " + where);
    MDB_envinfo info;
    mdb_env_info(env->m_env, &info);
    env->m_mapSize = info.me_mapsize;
    env->m_maxReaders = info.me_maxreaders;

    if (options.metrics)
        env->m_corruptionCounter = &options.metrics->counter(
            "troupe_corruption_detected_total",
            "stored records that failed their checksum or did not decode (reads refused)");
    TROUPE_RETURN_IF_ERROR(env->openDatabases().withContext(where));
    if (env->m_formatVersion < kFormatVersion && !options.readOnly)
        TROUPE_RETURN_IF_ERROR(env->upgradeFormat().withContext(where));
    return env;
}

Status Environment::openDatabases() {
    auto openAll = [this](MDB_txn* txn, unsigned flags) -> Status {
        const std::pair<const char*, MDB_dbi*> names[] = {{"actors", &m_dbs.actors},
                                                          {"pages", &m_dbs.pages},
                                                          {"raftlog", &m_dbs.raftlog},
                                                          {"raftstate", &m_dbs.raftstate},
                                                          {"meta", &m_dbs.meta}};
        for (const auto& [name, dbi] : names) {
            int rc = mdb_dbi_open(txn, name, flags, dbi);
            if (rc == MDB_NOTFOUND)
                return Status(ErrorCode::Corruption,
                              std::string("not a TroupeDB environment: database ") + name +
                                  " is missing");
            if (rc != 0)
                return fromMdb(rc, std::string("opening database ") + name);
        }
        return Status::ok();
    };

    if (m_options.readOnly) {
        MDB_txn* txn = nullptr;
        int rc = mdb_txn_begin(m_env, nullptr, MDB_RDONLY, &txn);
        if (rc != 0)
            return fromMdb(rc, "opening databases");
        Status s = openAll(txn, 0);
        if (s)
            s = checkFormatVersion(txn, false);
        if (!s) {
            mdb_txn_abort(txn);
            return s;
        }
        // Handles opened in a read transaction stay valid once it commits.
        rc = mdb_txn_commit(txn);
        return rc == 0 ? Status::ok() : fromMdb(rc, "opening databases");
    }
    return write([&](MDB_txn* txn) -> Status {
        TROUPE_RETURN_IF_ERROR(openAll(txn, MDB_CREATE));
        return checkFormatVersion(txn, true);
    });
}

Status Environment::checkFormatVersion(MDB_txn* txn, bool writable) {
    MDB_val key = toVal(kFormatVersionKey);
    MDB_val val;
    int rc = mdb_get(txn, m_dbs.meta, &key, &val);
    if (rc == 0) {
        // Format 1 wrote 4 bare bytes; format 2 seals them like every record.
        std::string_view bytes(static_cast<const char*>(val.mv_data), val.mv_size);
        if (bytes.size() != 4 && !looksSealed(bytes))
            return Status(ErrorCode::Corruption, "format version record has " +
                                                     std::to_string(bytes.size()) +
                                                     " bytes, expected 4");
        if (bytes.size() != 4) {
            Result<std::string_view> payload =
                unsealRecord(RecordDb::Meta, kFormatVersionKey, bytes, false);
            if (!payload)
                return payload.status();
            bytes = *payload;
        }
        if (bytes.size() != 4)
            return Status(ErrorCode::Corruption, "format version record has " +
                                                     std::to_string(bytes.size()) +
                                                     " bytes, expected 4");
        const std::uint32_t version = getBigEndian32(bytes.data());
        if (version > kFormatVersion)
            return Status(ErrorCode::InvalidArgument,
                          "on-disk format version " + std::to_string(version) +
                              " is newer than this build supports (" +
                              std::to_string(kFormatVersion) + "); upgrade TroupeDB");
        if (version == 0 || (val.mv_size == 4) != (version == kFormatVersionLegacy))
            return Status(ErrorCode::Corruption,
                          "unknown on-disk format version " + std::to_string(version));
        m_formatVersion = version;
        return Status::ok();
    }
    if (rc != MDB_NOTFOUND)
        return fromMdb(rc, "reading format version");

    // No version: only a fresh environment may get one written.
    for (MDB_dbi dbi : {m_dbs.actors, m_dbs.pages, m_dbs.raftlog, m_dbs.raftstate, m_dbs.meta}) {
        MDB_stat stat;
        rc = mdb_stat(txn, dbi, &stat);
        if (rc != 0)
            return fromMdb(rc, "checking a fresh environment");
        if (stat.ms_entries != 0)
            return Status(ErrorCode::Corruption, "environment holds data but no format version");
    }
    if (!writable)
        return Status(ErrorCode::Corruption, "empty environment opened read-only");
    m_formatVersion = kFormatVersion;
    std::string bytes;
    putBigEndian32(bytes, kFormatVersion);
    return putSealed(*this, txn, RecordDb::Meta, kFormatVersionKey, bytes);
}

void Environment::reportCorruption(RecordDb db, std::string_view key, const Status& status) const {
    m_corruptions.fetch_add(1);
    if (m_corruptionCounter)
        m_corruptionCounter->add();
    std::string id(1, char(db));
    id.append(key);
    {
        std::lock_guard lock(m_reportedMutex);
        if (std::find(m_reported.begin(), m_reported.end(), id) != m_reported.end() ||
            m_reported.size() >= kMaxReportedRecords)
            return;
        m_reported.push_back(std::move(id));
    }
    log::get("storage")->error("corruption detected in database {}: {}; the read is refused "
                               "(run troupe-server verify, restore from a backup or a replica)",
                               recordDbName(db), status.message());
}

int Environment::tryBeginRead(ReadTxn& txn) {
    int& depth = gateDepth(&m_gate);
    if (depth > 0)
        m_gate.enterSharedNested();
    else
        m_gate.enterShared();
    ++depth;
    txn.m_env = this; // from here on, txn.reset() leaves the gate
    int rc = mdb_txn_begin(m_env, nullptr, MDB_RDONLY, &txn.m_txn);
    if (rc != 0) {
        txn.m_txn = nullptr;
        txn.reset();
    }
    return rc;
}

Result<ReadTxn> Environment::beginRead() {
    // Every open ReadTxn holds a slot until it ends; slots run out only under more concurrent
    // snapshots than maxReaders. That is load, not damage: wait a little for one to be freed
    // (without holding the gate, so the map can still grow), then answer Busy, which clients
    // retry (MySQL 1205).
    const auto deadline = std::chrono::steady_clock::now() + m_options.readerWait;
    bool checkedStale = false;
    for (;;) {
        const std::uint64_t ended = m_readersEnded.load();
        ReadTxn txn;
        const int rc = tryBeginRead(txn);
        if (rc == 0)
            return txn;
        if (rc != MDB_READERS_FULL)
            return fromMdb(rc, "beginning read transaction");
        if (!checkedStale) {
            // Slots of processes that died without closing (another tool on this directory).
            checkedStale = true;
            int dead = 0;
            if (mdb_reader_check(m_env, &dead) == 0 && dead > 0)
                continue;
        }
        std::unique_lock lock(m_slotMutex);
        ++m_slotWaiters;
        const bool freed =
            m_slotFreed.wait_until(lock, deadline, [&] { return m_readersEnded.load() != ended; });
        --m_slotWaiters;
        if (!freed)
            return Status(ErrorCode::Busy,
                          "all " + std::to_string(m_maxReaders) +
                              " LMDB reader slots are in use (MDB_READERS_FULL: more concurrent "
                              "read snapshots than slots); retry the request");
    }
}

void Environment::readerEnded() {
    // Sequentially consistent with the waiter's ++m_slotWaiters and its check of
    // m_readersEnded: either it sees this count or this sees it waiting, so no wake-up is lost.
    m_readersEnded.fetch_add(1);
    if (m_slotWaiters.load() > 0) {
        std::lock_guard lock(m_slotMutex);
        m_slotFreed.notify_all();
    }
}

Result<std::shared_ptr<const ReadTxn>> Environment::shareRead() {
    std::weak_ptr<ReadTxn>& slot = sharedSlot(this);
    if (std::shared_ptr<ReadTxn> current = slot.lock()) {
        // Equal ids: nothing committed since it began, so it shows what a new snapshot would.
        MDB_envinfo info;
        if (mdb_env_info(m_env, &info) == 0 && mdb_txn_id(current->get()) == info.me_last_txnid)
            return std::shared_ptr<const ReadTxn>(std::move(current));
    }
    auto txn = beginRead();
    if (!txn)
        return txn.status();
    auto shared = std::make_shared<ReadTxn>(std::move(*txn));
    slot = shared;
    return std::shared_ptr<const ReadTxn>(std::move(shared));
}

Status Environment::write(const std::function<Status(MDB_txn*)>& body, bool forceSync) {
    std::lock_guard lock(m_writeMutex);
    if (m_options.readOnly)
        return Status(ErrorCode::ReadOnly, "environment is opened read-only");
    for (;;) {
        bool mapFull = false;
        Status s = commitOnce(body, forceSync, &mapFull);
        if (!mapFull)
            return s;
        TROUPE_RETURN_IF_ERROR(grow());
    }
}

Status Environment::commitOnce(const std::function<Status(MDB_txn*)>& body, bool forceSync,
                               bool* mapFull) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(m_env, nullptr, 0, &txn);
    if (rc != 0)
        return fromMdb(rc, "beginning write transaction");
    t_sawMapFull = false;
    Status s = body(txn);
    if (!s) {
        mdb_txn_abort(txn);
        *mapFull = t_sawMapFull;
        return s;
    }
    rc = mdb_txn_commit(txn); // frees txn, also on failure
    if (rc == MDB_MAP_FULL)
        *mapFull = true;
    if (rc == EIO && looksFull())
        return Status(ErrorCode::DiskFull, "committing write transaction: short write to the "
                                           "data file (disk full or file size limit reached)");
    if (rc != 0)
        return fromMdb(rc, "committing write transaction");
    if (m_options.fsync == FsyncMode::Always) {
        m_fsyncs.fetch_add(1, std::memory_order_relaxed); // the commit itself synced
    } else if (forceSync) {
        rc = mdb_env_sync(m_env, 1);
        if (rc != 0)
            return fromMdb(rc, "fsync after commit");
        m_fsyncs.fetch_add(1, std::memory_order_relaxed);
    }
    return Status::ok();
}

bool Environment::looksFull() const {
    // LMDB reports a short write (what a full disk or RLIMIT_FSIZE produces first) as EIO.
    // Tell it from a real I/O error by looking at the limits the data file hit (platform code).
    const char* path = nullptr;
    if (mdb_env_get_path(m_env, &path) != 0 || !path)
        return false;
    const std::filesystem::path dir(std::u8string_view(reinterpret_cast<const char8_t*>(path)));
    return app::platform::diskLooksFull(dir / "data.mdb", kFullMargin);
}

Status Environment::grow() {
    const std::uint64_t current = m_mapSize.load(std::memory_order_relaxed);
    const std::uint64_t limit = m_options.maxMapSize;
    if (limit != 0 && current >= limit)
        return Status(ErrorCode::DiskFull, "map size limit reached (" + std::to_string(limit) +
                                               " bytes); raise the limit or free space");
    if (gateDepth(&m_gate) > 0)
        return Status(ErrorCode::Internal,
                      "map full while the writing thread holds a read transaction");
    const std::uint64_t step = m_options.mapGrowthStep ? m_options.mapGrowthStep : current;
    std::uint64_t next = current + std::min(current, step);
    if (limit != 0)
        next = std::min(next, limit);

    m_gate.closeAndDrain(); // LMDB: no transaction may be active while the map changes
    int rc = mdb_env_set_mapsize(m_env, next);
    MDB_envinfo info;
    mdb_env_info(m_env, &info);
    m_gate.open();
    if (rc != 0)
        return fromMdb(rc, "growing the map to " + std::to_string(next) + " bytes");
    m_mapSize.store(info.me_mapsize, std::memory_order_relaxed);
    log::get("storage")->info("LMDB map grew from {} to {} bytes", current, info.me_mapsize);
    return Status::ok();
}

Status Environment::sync() {
    std::lock_guard lock(m_writeMutex);
    if (m_options.readOnly)
        return Status::ok();
    int rc = mdb_env_sync(m_env, 1);
    if (rc != 0)
        return fromMdb(rc, "fsync");
    m_fsyncs.fetch_add(1, std::memory_order_relaxed);
    return Status::ok();
}

std::string_view fsyncModeName(FsyncMode mode) {
    switch (mode) {
    case FsyncMode::Always:
        return "always";
    case FsyncMode::Interval:
        return "interval";
    case FsyncMode::Off:
        return "off";
    }
    return "always";
}

Result<std::string> Environment::readMeta(MDB_txn* txn, std::string_view key) const {
    Result<std::string_view> value = getSealed(*this, txn, RecordDb::Meta, key);
    if (!value) {
        if (value.status().code() == ErrorCode::NotFound)
            return Status(ErrorCode::NotFound, "meta key " + std::string(key) + " is not set");
        return value.status();
    }
    return std::string(*value);
}

} // namespace troupe::storage
