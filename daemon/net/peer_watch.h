#pragma once

// PeerWatch: notices that the client of a running request has gone away (issue 13; resources/
// docs/security.md "time limits"). The blocking servers (MySQL, Thrift) run a request on the
// connection's own thread, which cannot read the socket meanwhile; a connection therefore hands
// its socket to the watch for the duration of a request (watch() returns a Guard), and one
// watcher thread polls every such socket. When the peer closes or resets the connection, the
// watch calls the connection's callback once, which cancels the request (CancelToken).
//
// Linux reports the peer's close with POLLRDHUP even when a pipelined command is still unread.
// Elsewhere a readable socket is peeked: end of stream means gone; data means the client is
// still there (it sent its next command), and that socket is not watched again for this
// request.
//
// Owned by whoever calls shared() (a process-wide instance whose thread starts with the first
// watch and sleeps while nothing is watched). watch() and ~Guard from any thread; callbacks run
// on the watcher thread, under its mutex, and never after their Guard was destroyed.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace troupe::net {

class PeerWatch {
public:
    using NativeSocket = std::uintptr_t; // a socket's native handle (int fd, or SOCKET)

    // Unwatches on destruction (waiting for a callback in progress).
    class Guard {
    public:
        Guard() = default;
        Guard(PeerWatch* watch, std::uint64_t id) : m_watch(watch), m_id(id) {}
        Guard(Guard&& other) noexcept : m_watch(other.m_watch), m_id(other.m_id) {
            other.m_watch = nullptr;
        }
        Guard& operator=(Guard&&) = delete;
        ~Guard();

    private:
        PeerWatch* m_watch = nullptr;
        std::uint64_t m_id = 0;
    };

    PeerWatch() = default;
    ~PeerWatch(); // stops and joins the thread
    PeerWatch(const PeerWatch&) = delete;
    PeerWatch& operator=(const PeerWatch&) = delete;

    static PeerWatch& shared();

    // Calls `gone` (once) if the peer of `socket` closes the connection while the Guard lives.
    [[nodiscard]] Guard watch(NativeSocket socket, std::function<void()> gone);

    // How often the watcher looks; a disconnect is noticed within about this time.
    static constexpr int kPollMs = 50;

private:
    struct Entry {
        NativeSocket socket;
        std::function<void()> gone;
    };
    void unwatch(std::uint64_t id);
    void run();
    // Which of `sockets` (ids) the peer has left; polls for up to kPollMs.
    static void pollOnce(const std::map<std::uint64_t, NativeSocket>& sockets,
                         std::map<std::uint64_t, bool>& closed);

    std::mutex m_mutex; // guards everything below; callbacks run with it held
    std::condition_variable m_cv;
    std::map<std::uint64_t, Entry> m_entries;
    std::uint64_t m_nextId = 0;
    bool m_stopping = false;
    std::thread m_thread; // started by the first watch()
};

} // namespace troupe::net
