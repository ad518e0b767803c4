#pragma once

// The operating-system seam of troupe-server (DESIGN §3): every difference between POSIX and
// Windows that the daemon cares about lives behind this header, implemented once in
// platform_posix.cpp and once in platform_win32.cpp (CMake compiles one of them). Everything
// else in the daemon uses std::filesystem and asio.
//
//   - default paths (data directory, config file);
//   - shutdown requests: SIGTERM/SIGINT on POSIX, console control events on Windows; a Windows
//     service control handler (SERVICE_CONTROL_STOP) will feed the same ShutdownWatcher later;
//   - the data-directory lock, so that two servers never open the same LMDB environment;
//   - service-manager notifications (systemd's sd_notify protocol, without libsystemd).

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace troupe::app::platform {

// Where data lives when neither the config file nor --data-dir says: /var/lib/troupe for root,
// $XDG_DATA_HOME/troupe (~/.local/share/troupe) for other users; %ProgramData%\TroupeDB\data on
// Windows.
std::filesystem::path defaultDataDir();

// Where packages install the config file (/etc/troupe/troupe.conf,
// %ProgramData%\TroupeDB\troupe.conf). troupe-server reads a config file only when --config
// names one; this is for documentation and the installers.
std::filesystem::path defaultConfigFile();

// The id of this process, as other tools show it.
long currentProcessId();

// Turns the operating system's shutdown requests into calls of `onShutdown(reason)` on a
// watcher thread of its own (never in signal context), once per request: the callback decides
// what a second request means. Owned by the composition root; create one per process. The
// destructor restores the previous handlers and joins the thread.
class ShutdownWatcher {
public:
    using Callback = std::function<void(std::string_view reason)>;

    static Result<std::unique_ptr<ShutdownWatcher>> install(Callback onShutdown);
    ~ShutdownWatcher();
    ShutdownWatcher(const ShutdownWatcher&) = delete;
    ShutdownWatcher& operator=(const ShutdownWatcher&) = delete;

    // Requests shutdown as a signal would (used by a Windows service control handler, and
    // tests). Runs the callback on the calling thread.
    void trigger(std::string_view reason);

    struct Impl;

private:
    explicit ShutdownWatcher(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// An exclusive lock on `<dir>/troupe.lock`, held for the life of the object (and released by the
// OS if the process dies). The file holds the owner's pid. Created by the composition root before
// the engine opens the directory; any thread.
// Creates `dir` if needed and checks that it is a directory (portable; both DataDirLock
// implementations start with it). IoError naming the directory otherwise.
Status prepareDataDirectory(const std::filesystem::path& dir);

// ---- owner-only files (resources/docs/security.md, "credentials"; permissions_*.cpp)

// From now on, files and directories this process creates are owner-only: umask 077 on POSIX
// (data.mdb, lock.mdb, spill files, logs, the audit log: 0600; directories 0700). Nothing on
// Windows, where new files inherit the data directory's owner-only ACL. Called by main() first.
void restrictNewFilesToOwner();

// Makes a directory troupe-server has just created owner-only: mode 0700 on POSIX; on Windows a
// protected ACL granting full control to the current user only, inherited by what is created in
// it. IoError naming the directory when it fails.
Status restrictDirectoryToOwner(const std::filesystem::path& dir);

// The data directory's permission check, made before the server opens it (as PostgreSQL does).
// A directory that does not exist yet passes (it will be created 0700). InvalidArgument when it
// is writable by group or others, or owned by another user, saying what is expected. Otherwise
// OK with a warning text when others may read or list it (0755: allowed, see security.md), or
// an empty text. Windows: always OK and empty (the ACL is set when the directory is created).
Result<std::string> checkDataDirectoryPermissions(const std::filesystem::path& dir);

// The pid a lock file holds, from its text ("1234\n"), or "unknown" when it is not a number.
std::string lockHolderPid(std::string text);

class DataDirLock {
public:
    // Creates `dir` if missing and takes the lock. A directory locked by another process gives
    // ErrorCode::Busy with "data directory X is in use by another troupe-server (pid N)";
    // other failures give IoError naming the path.
    static Result<std::unique_ptr<DataDirLock>> acquire(const std::filesystem::path& dir);
    ~DataDirLock();
    DataDirLock(const DataDirLock&) = delete;
    DataDirLock& operator=(const DataDirLock&) = delete;

    const std::filesystem::path& path() const { return m_path; }

    struct Handle;

private:
    DataDirLock(std::filesystem::path path, std::unique_ptr<Handle> handle);
    std::filesystem::path m_path;
    std::unique_ptr<Handle> m_handle;
};

// Sends `state` ("READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=...") to the service manager if
// NOTIFY_SOCKET is set (a path, or '@' for the abstract namespace). OK and nothing sent when it is
// not set, and always on Windows.
Status notifyServiceManager(std::string_view state);

// How often the service manager expects WATCHDOG=1 (WATCHDOG_USEC, if WATCHDOG_PID is unset or is
// this process); nullopt when the watchdog is off.
std::optional<std::chrono::microseconds> watchdogInterval();

} // namespace troupe::app::platform
