// Win32 implementation of platform.h. Compiled only for Windows (mingw-w64 cross-build, see
// resources/docs/windows.md); checked here with x86_64-w64-mingw32-g++-posix -fsyntax-only.
//
// Windows service entry (to come): main() will call StartServiceCtrlDispatcherW when started by
// the SCM; its ServiceMain registers a handler whose SERVICE_CONTROL_STOP/SHUTDOWN case calls
// ShutdownWatcher::trigger("service stop") and reports SERVICE_STOP_PENDING, then runs the same
// Server as the console path (app/server.h) and reports SERVICE_STOPPED with its exit code.
// Nothing else in the daemon needs to change for that.

#include "app/platform/platform.h"

#include <windows.h>

#include <cstdlib>
#include <cwchar>
#include <mutex>

namespace troupe::app::platform {

namespace fs = std::filesystem;

namespace {

std::string lastErrorText(DWORD err) {
    char* buffer = nullptr;
    DWORD n = FormatMessageA(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                                 FORMAT_MESSAGE_IGNORE_INSERTS,
                             nullptr, err, 0, reinterpret_cast<char*>(&buffer), 0, nullptr);
    std::string text = n && buffer ? std::string(buffer, n) : "error " + std::to_string(err);
    if (buffer)
        LocalFree(buffer);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == '.'))
        text.pop_back();
    return text;
}

fs::path programData() {
    wchar_t buffer[MAX_PATH];
    DWORD n = GetEnvironmentVariableW(L"ProgramData", buffer, MAX_PATH);
    if (n == 0 || n >= MAX_PATH)
        return fs::path(L"C:\\ProgramData");
    return fs::path(std::wstring(buffer, n));
}

} // namespace

fs::path defaultDataDir() {
    return programData() / L"TroupeDB" / L"data";
}

fs::path defaultConfigFile() {
    return programData() / L"TroupeDB" / L"troupe.conf";
}

long currentProcessId() {
    return static_cast<long>(GetCurrentProcessId());
}

// ---- shutdown: console control events ---------------------------------------------------------

// The console control handler runs on a thread the system creates for each event, so it may
// call the callback directly. For close/logoff/shutdown the process ends when the handler
// returns, so it waits (within the system's ~5 s grace) for the watcher to be destroyed, which
// the composition root does after a clean shutdown.
struct ShutdownWatcher::Impl {
    Callback callback;
    HANDLE finished = nullptr; // manual-reset event, set by ~ShutdownWatcher
};

namespace {

std::mutex g_mutex;                         // guards g_current
ShutdownWatcher::Impl* g_current = nullptr; // the installed watcher

BOOL WINAPI onConsoleEvent(DWORD type) {
    const char* reason = nullptr;
    bool processEnds = false;
    switch (type) {
    case CTRL_C_EVENT:
        reason = "Ctrl+C";
        break;
    case CTRL_BREAK_EVENT:
        reason = "Ctrl+Break";
        break;
    case CTRL_CLOSE_EVENT:
        reason = "console closed";
        processEnds = true;
        break;
    case CTRL_LOGOFF_EVENT:
        reason = "logoff";
        processEnds = true;
        break;
    case CTRL_SHUTDOWN_EVENT:
        reason = "system shutdown";
        processEnds = true;
        break;
    default:
        return FALSE;
    }
    HANDLE finished = nullptr;
    {
        std::lock_guard lock(g_mutex);
        if (!g_current)
            return FALSE;
        g_current->callback(reason);
        finished = g_current->finished;
    }
    if (processEnds && finished)
        WaitForSingleObject(finished, 4500);
    return TRUE;
}

} // namespace

Result<std::unique_ptr<ShutdownWatcher>> ShutdownWatcher::install(Callback onShutdown) {
    auto impl = std::make_unique<Impl>();
    impl->callback = std::move(onShutdown);
    impl->finished = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (!impl->finished)
        return Status(ErrorCode::IoError, "CreateEvent: " + lastErrorText(GetLastError()));
    {
        std::lock_guard lock(g_mutex);
        g_current = impl.get();
    }
    if (!SetConsoleCtrlHandler(onConsoleEvent, TRUE)) {
        DWORD err = GetLastError();
        std::lock_guard lock(g_mutex);
        g_current = nullptr;
        CloseHandle(impl->finished);
        return Status(ErrorCode::IoError, "SetConsoleCtrlHandler: " + lastErrorText(err));
    }
    return std::unique_ptr<ShutdownWatcher>(new ShutdownWatcher(std::move(impl)));
}

ShutdownWatcher::ShutdownWatcher(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

ShutdownWatcher::~ShutdownWatcher() {
    SetEvent(m_impl->finished);
    SetConsoleCtrlHandler(onConsoleEvent, FALSE);
    {
        std::lock_guard lock(g_mutex);
        g_current = nullptr;
    }
    CloseHandle(m_impl->finished);
}

void ShutdownWatcher::trigger(std::string_view reason) {
    m_impl->callback(reason);
}

// ---- data directory lock ----------------------------------------------------------------------

// Windows byte-range locks are mandatory: lock one byte far beyond the pid so that another
// server can still read the pid at offset 0 to name the holder.
struct DataDirLock::Handle {
    HANDLE file = INVALID_HANDLE_VALUE;
};

namespace {

constexpr DWORD kLockOffsetHigh = 1; // byte 4 GiB: beyond any pid text

std::string holderPid(HANDLE file) {
    char buf[32] = {};
    DWORD n = 0;
    OVERLAPPED at{};
    if (!ReadFile(file, buf, sizeof buf - 1, &n, &at) || n == 0)
        return "unknown";
    return lockHolderPid(std::string(buf, n));
}

} // namespace

Result<std::unique_ptr<DataDirLock>> DataDirLock::acquire(const fs::path& dir) {
    TROUPE_RETURN_IF_ERROR(prepareDataDirectory(dir));

    fs::path lockPath = dir / L"troupe.lock";
    HANDLE file = CreateFileW(lockPath.c_str(), GENERIC_READ | GENERIC_WRITE,
                              FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                              OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE)
        return Status(ErrorCode::IoError,
                      "cannot open " + lockPath.string() + ": " + lastErrorText(GetLastError()));
    OVERLAPPED region{};
    region.OffsetHigh = kLockOffsetHigh;
    if (!LockFileEx(file, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &region)) {
        DWORD err = GetLastError();
        bool busy = err == ERROR_LOCK_VIOLATION || err == ERROR_IO_PENDING;
        std::string message = busy ? "data directory " + dir.string() +
                                         " is in use by another troupe-server (pid " +
                                         holderPid(file) + ")"
                                   : "cannot lock " + lockPath.string() + ": " + lastErrorText(err);
        CloseHandle(file);
        return Status(busy ? ErrorCode::Busy : ErrorCode::IoError, message);
    }
    std::string pid = std::to_string(currentProcessId()) + "\r\n";
    DWORD written = 0;
    OVERLAPPED start{};
    if (!WriteFile(file, pid.data(), static_cast<DWORD>(pid.size()), &written, &start) ||
        written != pid.size()) {
        DWORD err = GetLastError();
        CloseHandle(file);
        return Status(ErrorCode::IoError,
                      "cannot write " + lockPath.string() + ": " + lastErrorText(err));
    }
    LARGE_INTEGER end{};
    end.QuadPart = static_cast<LONGLONG>(pid.size());
    SetFilePointerEx(file, end, nullptr, FILE_BEGIN);
    SetEndOfFile(file); // drop the rest of a longer pid left by an earlier server
    auto handle = std::make_unique<Handle>();
    handle->file = file;
    return std::unique_ptr<DataDirLock>(new DataDirLock(lockPath, std::move(handle)));
}

DataDirLock::DataDirLock(fs::path path, std::unique_ptr<Handle> handle)
    : m_path(std::move(path)), m_handle(std::move(handle)) {}

DataDirLock::~DataDirLock() {
    OVERLAPPED region{};
    region.OffsetHigh = kLockOffsetHigh;
    UnlockFileEx(m_handle->file, 0, 1, 0, &region);
    CloseHandle(m_handle->file);
}

// ---- service manager --------------------------------------------------------------------------

// The SCM learns about state changes through SetServiceStatus in the service entry, not here.
Status notifyServiceManager(std::string_view) {
    return Status::ok();
}

std::optional<std::chrono::microseconds> watchdogInterval() {
    return std::nullopt;
}

} // namespace troupe::app::platform
