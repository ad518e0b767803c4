#pragma once

// ActorVfs: a SQLite VFS that serves each actor's main database file from LMDB and captures the
// pages a committed transaction wrote (resources/docs/architecture.md, "Page capture").
//
// A main-database file is the committed store (an LMDB read snapshot taken at xLock(SHARED)
// and released at xUnlock(NONE)) plus an overlay of the pages written by the current
// transaction. The files of one thread share a snapshot while nothing was committed in between
// (few LMDB reader slots however many actors are open); no free slot is SQLITE_BUSY, which the
// caller reports as a retryable Busy. The rollback journal lives in memory (journal_mode=MEMORY).
// On SQLITE_FCNTL_COMMIT_PHASETWO the overlay becomes the captured write set; on any other end of
// a write transaction (rollback, failed statement) the overlay is discarded. Captured pages
// stay visible to the connection until the owner calls finishPending(), after the write set
// was applied to LMDB (or failed).
//
// Files are opened only through tokens handed out by expectOpen(), so SQL can never reach
// another actor's pages (ATTACH or VACUUM INTO with a made-up name fail to open).
//
// Threads: one VFS per Engine, registered with SQLite under a unique name; the registry of
// open tokens is locked. An ActorFile belongs to its connection's thread.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <sqlite3.h>

#include "storage/environment.h"
#include "storage/log_entry.h"

namespace troupe::sql {

class ActorFile;

class ActorVfs {
public:
    // Registers the VFS with SQLite (not as the default). `env` must outlive it.
    explicit ActorVfs(storage::Environment& env);
    ~ActorVfs(); // unregisters

    ActorVfs(const ActorVfs&) = delete;
    ActorVfs& operator=(const ActorVfs&) = delete;

    const char* name() const { return m_name.c_str(); }
    storage::Environment& env() const { return m_env; }

    // Returns a file name that opens actor `actorId` once through this VFS.
    std::string expectOpen(std::uint64_t actorId);
    void forgetOpen(const std::string& token);

    // The ActorFile behind a connection's main database (nullptr if it is not ours).
    static ActorFile* mainFile(sqlite3* db);
    // The last I/O error an ActorFile of this thread reported, taken (cleared). For a failed
    // sqlite3_open_v2, whose file is gone by then (a damaged page 1: "actor 7 page 1 fails
    // its checksum").
    static std::string takeThreadError();

    // xOpen: the actor a token opens (once), or nothing for an unknown name.
    std::optional<std::uint64_t> takeTokenFor(const char* name);

private:
    storage::Environment& m_env;
    std::string m_name;
    sqlite3_vfs m_vfs{};

    std::mutex m_mutex; // guards m_tokens and m_nextToken
    std::unordered_map<std::string, std::uint64_t> m_tokens;
    std::uint64_t m_nextToken = 0;
};

// The state of one open actor database file. Lives inside SQLite's sqlite3_file allocation.
class ActorFile {
public:
    sqlite3_file base; // must stay the first member: SQLite sees only this

    ActorFile(ActorVfs& vfs, std::uint64_t actorId);

    std::uint64_t actorId() const { return m_actorId; }

    // The write set of the last committed transaction, if it changed anything. Taking it
    // leaves its pages visible until finishPending().
    std::optional<storage::WriteSet> takeCaptured();
    bool hasPending() const { return m_pending; }
    // The captured write set was applied to LMDB (or failed): forget the overlay.
    void finishPending();
    // The last I/O error with detail, for error messages ("page 3 of actor 7: corruption ...").
    const std::string& lastError() const { return m_lastError; }

    // sqlite3_io_methods.
    int close();
    int read(void* buffer, int amount, sqlite3_int64 offset);
    int write(const void* buffer, int amount, sqlite3_int64 offset);
    int truncate(sqlite3_int64 size);
    int fileSize(sqlite3_int64* size);
    int lock(int level);
    int unlock(int level);
    int checkReservedLock(int* out) const;
    int fileControl(int op, void* arg);

private:
    std::uint32_t currentPages() const { return m_overlaySize ? *m_overlaySize : m_storeSize; }
    int beginSnapshot();
    void endWriteTransaction();
    int ioError(int code, std::string message);

    ActorVfs& m_vfs;
    std::uint64_t m_actorId;
    int m_lock = SQLITE_LOCK_NONE;
    // Held from SHARED to NONE; shared with the other files of this thread while it is the
    // latest committed state (Environment::shareRead), so open actors need few reader slots.
    std::shared_ptr<const storage::ReadTxn> m_snapshot;
    std::uint32_t m_storeSize = 0;                                      // pages in the snapshot
    std::map<std::uint32_t, std::unique_ptr<std::uint8_t[]>> m_overlay; // pgno -> page
    std::optional<std::uint32_t> m_overlaySize;                         // pages
    bool m_commitSeen = false;
    bool m_pending = false; // overlay holds a captured, not yet applied transaction
    std::optional<storage::WriteSet> m_captured;
    std::string m_lastError;
};

} // namespace troupe::sql
