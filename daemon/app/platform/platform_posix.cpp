// POSIX implementation of platform.h (Linux first; nothing here is Linux-only except the
// abstract socket namespace, which other systems simply never ask for).

#include "app/platform/platform.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace troupe::app::platform {

namespace fs = std::filesystem;

namespace {

std::string errnoText(int err) {
    return std::strerror(err);
}

std::string pathText(const fs::path& p) {
    return p.string();
}

} // namespace

fs::path defaultDataDir() {
    if (::geteuid() == 0)
        return "/var/lib/troupe";
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg == '/')
        return fs::path(xdg) / "troupe";
    if (const char* home = std::getenv("HOME"); home && *home)
        return fs::path(home) / ".local" / "share" / "troupe";
    return "troupe-data";
}

fs::path defaultConfigFile() {
    return "/etc/troupe/troupe.conf";
}

long currentProcessId() {
    return static_cast<long>(::getpid());
}

// ---- shutdown signals -------------------------------------------------------------------------

namespace {

// The write end of the self-pipe; the only thing the signal handler touches.
std::atomic<int> g_signalPipe{-1};

extern "C" void onSignal(int sig) {
    int savedErrno = errno;
    char byte = sig == SIGTERM ? 'T' : 'I';
    int fd = g_signalPipe.load();
    if (fd >= 0) {
        [[maybe_unused]] auto n = ::write(fd, &byte, 1);
    }
    errno = savedErrno;
}

} // namespace

// A self-pipe: the handler writes one byte per signal, the watcher thread reads it and runs the
// callback in normal thread context.
struct ShutdownWatcher::Impl {
    Callback callback;
    int readFd = -1;
    int writeFd = -1;
    struct sigaction oldTerm {};
    struct sigaction oldInt {};
    struct sigaction oldPipe {};
    std::thread thread;

    void run() {
        while (true) {
            char byte = 0;
            ssize_t n = ::read(readFd, &byte, 1);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0 || byte == 'Q')
                return;
            callback(byte == 'T' ? "SIGTERM" : "SIGINT");
        }
    }
};

Result<std::unique_ptr<ShutdownWatcher>> ShutdownWatcher::install(Callback onShutdown) {
    auto impl = std::make_unique<Impl>();
    impl->callback = std::move(onShutdown);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return Status(ErrorCode::IoError, "cannot create signal pipe: " + errnoText(errno));
    impl->readFd = fds[0];
    impl->writeFd = fds[1];
    ::fcntl(impl->writeFd, F_SETFL, ::fcntl(impl->writeFd, F_GETFL) | O_NONBLOCK);
    g_signalPipe.store(impl->writeFd);

    struct sigaction action {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGTERM, &action, &impl->oldTerm);
    ::sigaction(SIGINT, &action, &impl->oldInt);
    // A peer closing a socket must be an error code, never a process-killing signal.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGPIPE, &ignore, &impl->oldPipe);

    Impl* raw = impl.get();
    impl->thread = std::thread([raw] { raw->run(); });
    return std::unique_ptr<ShutdownWatcher>(new ShutdownWatcher(std::move(impl)));
}

ShutdownWatcher::ShutdownWatcher(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

ShutdownWatcher::~ShutdownWatcher() {
    ::sigaction(SIGTERM, &m_impl->oldTerm, nullptr);
    ::sigaction(SIGINT, &m_impl->oldInt, nullptr);
    ::sigaction(SIGPIPE, &m_impl->oldPipe, nullptr);
    g_signalPipe.store(-1);
    char quit = 'Q';
    while (::write(m_impl->writeFd, &quit, 1) < 0 && errno == EINTR) {
    }
    if (m_impl->thread.joinable())
        m_impl->thread.join();
    ::close(m_impl->readFd);
    ::close(m_impl->writeFd);
}

void ShutdownWatcher::trigger(std::string_view reason) {
    m_impl->callback(reason);
}

// ---- data directory lock ----------------------------------------------------------------------

struct DataDirLock::Handle {
    int fd = -1;
};

namespace {

// The pid the current holder wrote into the lock file, or "unknown" while it has not yet.
std::string holderPid(int fd) {
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return "unknown";
    return lockHolderPid(std::string(buf, static_cast<std::size_t>(n)));
}

} // namespace

Result<std::unique_ptr<DataDirLock>> DataDirLock::acquire(const fs::path& dir) {
    TROUPE_RETURN_IF_ERROR(prepareDataDirectory(dir));

    fs::path lockPath = dir / "troupe.lock";
    int fd = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return Status(ErrorCode::IoError,
                      "cannot open " + pathText(lockPath) + ": " + errnoText(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        std::string message = err == EWOULDBLOCK
                                  ? "data directory " + pathText(dir) +
                                        " is in use by another troupe-server (pid " +
                                        holderPid(fd) + ")"
                                  : "cannot lock " + pathText(lockPath) + ": " + errnoText(err);
        ::close(fd);
        return Status(err == EWOULDBLOCK ? ErrorCode::Busy : ErrorCode::IoError, message);
    }
    std::string pid = std::to_string(currentProcessId()) + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        int err = errno;
        ::close(fd);
        return Status(ErrorCode::IoError,
                      "cannot write " + pathText(lockPath) + ": " + errnoText(err));
    }
    auto handle = std::make_unique<Handle>();
    handle->fd = fd;
    return std::unique_ptr<DataDirLock>(new DataDirLock(lockPath, std::move(handle)));
}

DataDirLock::DataDirLock(fs::path path, std::unique_ptr<Handle> handle)
    : m_path(std::move(path)), m_handle(std::move(handle)) {}

DataDirLock::~DataDirLock() {
    // The file stays: removing it would race with a server that has just opened it.
    ::close(m_handle->fd);
}

// ---- systemd notify ---------------------------------------------------------------------------

Status notifyServiceManager(std::string_view state) {
    const char* env = std::getenv("NOTIFY_SOCKET");
    if (!env || !*env)
        return Status::ok();
    std::string_view target(env);
    if (target.front() != '/' && target.front() != '@')
        return Status(ErrorCode::InvalidArgument,
                      "NOTIFY_SOCKET '" + std::string(target) + "' is not a unix socket path");

    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (target.size() >= sizeof addr.sun_path)
        return Status(ErrorCode::InvalidArgument, "NOTIFY_SOCKET path is too long");
    std::memcpy(addr.sun_path, target.data(), target.size());
    if (target.front() == '@')
        addr.sun_path[0] = '\0'; // abstract namespace: no terminating NUL, length counts
    auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + target.size() +
                                         (target.front() == '/' ? 1 : 0));

    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return Status(ErrorCode::IoError, "notify socket: " + errnoText(errno));
    ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                            reinterpret_cast<const sockaddr*>(&addr), length);
    int err = errno;
    ::close(fd);
    if (sent != static_cast<ssize_t>(state.size()))
        return Status(ErrorCode::IoError,
                      "sending to NOTIFY_SOCKET " + std::string(target) + ": " + errnoText(err));
    return Status::ok();
}

std::optional<std::chrono::microseconds> watchdogInterval() {
    const char* usec = std::getenv("WATCHDOG_USEC");
    if (!usec || !*usec)
        return std::nullopt;
    if (const char* pid = std::getenv("WATCHDOG_PID"); pid && *pid) {
        if (std::strtol(pid, nullptr, 10) != currentProcessId())
            return std::nullopt;
    }
    char* end = nullptr;
    unsigned long long value = std::strtoull(usec, &end, 10);
    if (*end != '\0' || value == 0)
        return std::nullopt;
    return std::chrono::microseconds(value);
}

} // namespace troupe::app::platform
