#include "sql/vfs.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <utility>

#include "core/log.h"
#include "storage/page_codec.h"
#include "storage/page_store.h"

namespace troupe::sql {
namespace {

using storage::kPageSize;

ActorFile* self(sqlite3_file* f) {
    return reinterpret_cast<ActorFile*>(f);
}
ActorVfs* owner(sqlite3_vfs* vfs) {
    return static_cast<ActorVfs*>(vfs->pAppData);
}

int ioClose(sqlite3_file* f) {
    ActorFile* file = self(f);
    int rc = file->close();
    file->~ActorFile();
    return rc;
}
int ioRead(sqlite3_file* f, void* b, int n, sqlite3_int64 o) {
    return self(f)->read(b, n, o);
}
int ioWrite(sqlite3_file* f, const void* b, int n, sqlite3_int64 o) {
    return self(f)->write(b, n, o);
}
int ioTruncate(sqlite3_file* f, sqlite3_int64 size) {
    return self(f)->truncate(size);
}
// Durability comes from the log and the storage writer, never from SQLite's syncs.
int ioSync(sqlite3_file*, int) {
    return SQLITE_OK;
}
int ioFileSize(sqlite3_file* f, sqlite3_int64* size) {
    return self(f)->fileSize(size);
}
int ioLock(sqlite3_file* f, int level) {
    return self(f)->lock(level);
}
int ioUnlock(sqlite3_file* f, int level) {
    return self(f)->unlock(level);
}
int ioCheckReserved(sqlite3_file* f, int* out) {
    return self(f)->checkReservedLock(out);
}
int ioFileControl(sqlite3_file* f, int op, void* arg) {
    return self(f)->fileControl(op, arg);
}
int ioSectorSize(sqlite3_file*) {
    return int(kPageSize);
}
int ioDeviceCharacteristics(sqlite3_file*) {
    return SQLITE_IOCAP_POWERSAFE_OVERWRITE | SQLITE_IOCAP_SAFE_APPEND;
}

const sqlite3_io_methods kMethods = {
    1,
    ioClose,
    ioRead,
    ioWrite,
    ioTruncate,
    ioSync,
    ioFileSize,
    ioLock,
    ioUnlock,
    ioCheckReserved,
    ioFileControl,
    ioSectorSize,
    ioDeviceCharacteristics,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

int vfsOpen(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* outFlags) {
    ActorVfs* actorVfs = owner(vfs);
    file->pMethods = nullptr;
    if (!(flags & SQLITE_OPEN_MAIN_DB)) {
        // Temporary files (sorting, materialised views) and statement journals never hold
        // committed data: the default VFS serves them. Named journals would mean a journal
        // mode we do not allow.
        if (name != nullptr && !(flags & (SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TEMP_JOURNAL |
                                          SQLITE_OPEN_TRANSIENT_DB | SQLITE_OPEN_SUBJOURNAL)))
            return SQLITE_CANTOPEN;
        sqlite3_vfs* fallback = sqlite3_vfs_find(nullptr);
        return fallback->xOpen(fallback, name, file, flags, outFlags);
    }
    auto actorId = name ? actorVfs->takeTokenFor(name) : std::nullopt;
    if (!actorId)
        return SQLITE_CANTOPEN;
    new (file) ActorFile(*actorVfs, *actorId);
    file->pMethods = &kMethods;
    if (outFlags)
        *outFlags = flags;
    return SQLITE_OK;
}

int vfsDelete(sqlite3_vfs*, const char*, int) {
    return SQLITE_OK;
}

// No journal or WAL file ever exists beside an actor database.
int vfsAccess(sqlite3_vfs*, const char*, int, int* out) {
    *out = 0;
    return SQLITE_OK;
}

int vfsFullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
    sqlite3_snprintf(size, out, "%s", name);
    return SQLITE_OK;
}

sqlite3_vfs* fallbackVfs() {
    return sqlite3_vfs_find(nullptr);
}
void* vfsDlOpen(sqlite3_vfs*, const char*) {
    return nullptr;
}
void vfsDlError(sqlite3_vfs*, int n, char* out) {
    sqlite3_snprintf(n, out, "extensions are not supported");
}
void (*vfsDlSym(sqlite3_vfs*, void*, const char*))(void) {
    return nullptr;
}
void vfsDlClose(sqlite3_vfs*, void*) {}
int vfsRandomness(sqlite3_vfs*, int n, char* out) {
    return fallbackVfs()->xRandomness(fallbackVfs(), n, out);
}
int vfsSleep(sqlite3_vfs*, int us) {
    return fallbackVfs()->xSleep(fallbackVfs(), us);
}
int vfsCurrentTime(sqlite3_vfs*, double* out) {
    return fallbackVfs()->xCurrentTime(fallbackVfs(), out);
}
int vfsGetLastError(sqlite3_vfs*, int, char*) {
    return 0;
}
int vfsCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
    sqlite3_vfs* f = fallbackVfs();
    if (f->iVersion >= 2 && f->xCurrentTimeInt64)
        return f->xCurrentTimeInt64(f, out);
    double now = 0;
    int rc = f->xCurrentTime(f, &now);
    *out = sqlite3_int64(now * 86400000.0);
    return rc;
}

std::atomic<unsigned> g_vfsCounter{0};

} // namespace

ActorVfs::ActorVfs(storage::Environment& env) : m_env(env) {
    m_name = "troupe-" + std::to_string(g_vfsCounter.fetch_add(1));
    sqlite3_vfs* fallback = sqlite3_vfs_find(nullptr);
    m_vfs.iVersion = 2;
    m_vfs.szOsFile = int(std::max<std::size_t>(sizeof(ActorFile), std::size_t(fallback->szOsFile)));
    m_vfs.mxPathname = 512;
    m_vfs.zName = m_name.c_str();
    m_vfs.pAppData = this;
    m_vfs.xOpen = vfsOpen;
    m_vfs.xDelete = vfsDelete;
    m_vfs.xAccess = vfsAccess;
    m_vfs.xFullPathname = vfsFullPathname;
    m_vfs.xDlOpen = vfsDlOpen;
    m_vfs.xDlError = vfsDlError;
    m_vfs.xDlSym = vfsDlSym;
    m_vfs.xDlClose = vfsDlClose;
    m_vfs.xRandomness = vfsRandomness;
    m_vfs.xSleep = vfsSleep;
    m_vfs.xCurrentTime = vfsCurrentTime;
    m_vfs.xGetLastError = vfsGetLastError;
    m_vfs.xCurrentTimeInt64 = vfsCurrentTimeInt64;
    sqlite3_vfs_register(&m_vfs, 0);
}

ActorVfs::~ActorVfs() {
    sqlite3_vfs_unregister(&m_vfs);
}

std::string ActorVfs::expectOpen(std::uint64_t actorId) {
    std::lock_guard lock(m_mutex);
    std::string token =
        "troupe-actor-" + std::to_string(actorId) + "-" + std::to_string(m_nextToken++);
    m_tokens.emplace(token, actorId);
    return token;
}

void ActorVfs::forgetOpen(const std::string& token) {
    std::lock_guard lock(m_mutex);
    m_tokens.erase(token);
}

std::optional<std::uint64_t> ActorVfs::takeTokenFor(const char* name) {
    std::lock_guard lock(m_mutex);
    auto it = m_tokens.find(name);
    if (it == m_tokens.end())
        return std::nullopt;
    std::uint64_t id = it->second;
    m_tokens.erase(it);
    return id;
}

ActorFile* ActorVfs::mainFile(sqlite3* db) {
    sqlite3_file* file = nullptr;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file)
        return nullptr;
    if (file->pMethods != &kMethods)
        return nullptr;
    return self(file);
}

// ---- ActorFile -----------------------------------------------------------------------------

ActorFile::ActorFile(ActorVfs& vfs, std::uint64_t actorId) : m_vfs(vfs), m_actorId(actorId) {
    base.pMethods = &kMethods;
}

namespace {
thread_local std::string t_lastError; // ActorVfs::takeThreadError
} // namespace

std::string ActorVfs::takeThreadError() {
    return std::exchange(t_lastError, std::string());
}

int ActorFile::ioError(int code, std::string message) {
    m_lastError = std::move(message);
    t_lastError = m_lastError;
    log::get("vfs")->warn("actor {}: {}", m_actorId, m_lastError);
    return code;
}

int ActorFile::close() {
    m_snapshot.reset();
    return SQLITE_OK;
}

int ActorFile::beginSnapshot() {
    auto txn = m_vfs.env().shareRead();
    if (!txn) // no reader slot freed up in time: SQLite reports SQLITE_BUSY, the caller Busy
        return ioError(txn.status().code() == ErrorCode::Busy ? SQLITE_BUSY : SQLITE_IOERR_LOCK,
                       txn.status().toString());
    auto size = storage::PageStore::dbSize(m_vfs.env(), (*txn)->get(), m_actorId);
    if (!size)
        return ioError(SQLITE_IOERR_LOCK, size.status().toString());
    m_snapshot = std::move(*txn);
    m_storeSize = *size;
    return SQLITE_OK;
}

int ActorFile::lock(int level) {
    if (m_lock == SQLITE_LOCK_NONE && level >= SQLITE_LOCK_SHARED) {
        if (int rc = beginSnapshot(); rc != SQLITE_OK)
            return rc;
    }
    if (level >= SQLITE_LOCK_RESERVED && m_lock < SQLITE_LOCK_RESERVED) {
        // One transaction at a time: the executor never starts a write while the previous
        // commit of this actor is still on its way to the log.
        if (m_pending)
            return ioError(SQLITE_BUSY, "previous commit of this actor is not applied yet");
        m_commitSeen = false;
    }
    m_lock = std::max(m_lock, level);
    return SQLITE_OK;
}

int ActorFile::unlock(int level) {
    if (m_lock >= SQLITE_LOCK_RESERVED && level <= SQLITE_LOCK_SHARED)
        endWriteTransaction();
    if (level == SQLITE_LOCK_NONE)
        m_snapshot.reset();
    m_lock = std::min(m_lock, level);
    return SQLITE_OK;
}

int ActorFile::checkReservedLock(int* out) const {
    *out = m_lock >= SQLITE_LOCK_RESERVED ? 1 : 0;
    return SQLITE_OK;
}

void ActorFile::endWriteTransaction() {
    const bool committed = m_commitSeen;
    m_commitSeen = false;
    if (!committed) {
        // Rollback or failure: after a cache spill SQLite writes original pages back, but a
        // reused freelist page can keep spilled bytes (architecture.md, "Page capture") — never
        // trust it.
        m_overlay.clear();
        m_overlaySize.reset();
        return;
    }
    const std::uint32_t pages = currentPages();
    if (m_overlay.empty() && pages == m_storeSize) {
        m_overlaySize.reset();
        return; // a write transaction that changed nothing
    }
    storage::WriteSet ws;
    ws.actorId = m_actorId;
    ws.dbPages = pages;
    ws.pages.reserve(m_overlay.size());
    for (const auto& [pgno, page] : m_overlay) {
        if (pgno > pages)
            break;
        storage::StoredPage stored;
        stored.pgno = pgno;
        storage::encodePage(page.get(), stored.stored);
        ws.pages.push_back(std::move(stored));
    }
    m_captured = std::move(ws);
    m_pending = true;
}

std::optional<storage::WriteSet> ActorFile::takeCaptured() {
    std::optional<storage::WriteSet> out = std::move(m_captured);
    m_captured.reset();
    return out;
}

void ActorFile::finishPending() {
    m_pending = false;
    m_captured.reset();
    m_overlay.clear();
    m_overlaySize.reset();
}

int ActorFile::read(void* buffer, int amount, sqlite3_int64 offset) {
    const auto pgno = std::uint32_t(offset / sqlite3_int64(kPageSize)) + 1;
    const auto within = std::size_t(offset % sqlite3_int64(kPageSize));
    if (amount < 0 || within + std::size_t(amount) > kPageSize)
        return ioError(SQLITE_IOERR_READ, "read crosses a page boundary");
    auto* out = static_cast<std::uint8_t*>(buffer);

    if (auto it = m_overlay.find(pgno); it != m_overlay.end()) {
        std::memcpy(out, it->second.get() + within, std::size_t(amount));
        return SQLITE_OK;
    }
    storage::ReadTxn temporary;
    if (!m_snapshot) {
        // SQLite reads under a SHARED lock; this is only a safety net.
        auto txn = m_vfs.env().beginRead();
        if (!txn)
            return ioError(SQLITE_IOERR_READ, txn.status().toString());
        temporary = std::move(*txn);
        auto size = storage::PageStore::dbSize(m_vfs.env(), temporary.get(), m_actorId);
        if (!size)
            return ioError(SQLITE_IOERR_READ, size.status().toString());
        m_storeSize = *size;
    }
    if (pgno > currentPages()) {
        std::memset(out, 0, std::size_t(amount));
        return SQLITE_IOERR_SHORT_READ;
    }
    if (pgno > m_storeSize) {
        // Inside the file SQLite extended but never wrote: zeros, as a real file reads.
        std::memset(out, 0, std::size_t(amount));
        return SQLITE_OK;
    }
    MDB_txn* txn = m_snapshot ? m_snapshot->get() : temporary.get();
    Status st;
    if (within == 0 && std::size_t(amount) == kPageSize) {
        st = storage::PageStore::readPage(m_vfs.env(), txn, m_actorId, pgno, out);
    } else {
        std::uint8_t page[kPageSize];
        st = storage::PageStore::readPage(m_vfs.env(), txn, m_actorId, pgno, page);
        if (st.isOk())
            std::memcpy(out, page + within, std::size_t(amount));
    }
    if (!st.isOk())
        // A record that failed its checksum is SQLITE_CORRUPT, which the connection turns into
        // ErrorCode::Corruption with this message (naming actor and page) for the client.
        return ioError(st.code() == ErrorCode::Corruption ? SQLITE_CORRUPT : SQLITE_IOERR_READ,
                       "page " + std::to_string(pgno) + ": " + st.toString());
    return SQLITE_OK;
}

int ActorFile::write(const void* buffer, int amount, sqlite3_int64 offset) {
    if (amount != int(kPageSize) || offset % sqlite3_int64(kPageSize) != 0)
        return ioError(SQLITE_IOERR_WRITE,
                       "actor databases use 4096-byte pages; changing page_size is not supported");
    const auto pgno = std::uint32_t(offset / sqlite3_int64(kPageSize)) + 1;
    auto& slot = m_overlay[pgno];
    if (!slot)
        slot.reset(new std::uint8_t[kPageSize]);
    std::memcpy(slot.get(), buffer, kPageSize);
    if (pgno > currentPages())
        m_overlaySize = pgno;
    return SQLITE_OK;
}

int ActorFile::truncate(sqlite3_int64 size) {
    if (size < 0 || size % sqlite3_int64(kPageSize) != 0)
        return ioError(SQLITE_IOERR_TRUNCATE, "truncate to a size that is not whole pages");
    const auto pages = std::uint32_t(size / sqlite3_int64(kPageSize));
    m_overlaySize = pages;
    m_overlay.erase(m_overlay.upper_bound(pages), m_overlay.end());
    return SQLITE_OK;
}

int ActorFile::fileSize(sqlite3_int64* size) {
    if (!m_snapshot && !m_overlaySize) {
        auto txn = m_vfs.env().beginRead();
        if (!txn)
            return ioError(SQLITE_IOERR_FSTAT, txn.status().toString());
        auto pages = storage::PageStore::dbSize(m_vfs.env(), txn->get(), m_actorId);
        if (!pages)
            return ioError(SQLITE_IOERR_FSTAT, pages.status().toString());
        m_storeSize = *pages;
    }
    *size = sqlite3_int64(currentPages()) * sqlite3_int64(kPageSize);
    return SQLITE_OK;
}

int ActorFile::fileControl(int op, void*) {
    if (op == SQLITE_FCNTL_COMMIT_PHASETWO) {
        m_commitSeen = true;
        return SQLITE_OK;
    }
    return SQLITE_NOTFOUND;
}

} // namespace troupe::sql
