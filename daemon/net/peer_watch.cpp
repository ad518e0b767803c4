#include "net/peer_watch.h"

#include <vector>

#ifdef _WIN32
#include <winsock2.h>
#else
#include <poll.h>
#include <sys/socket.h>
#endif

namespace troupe::net {

PeerWatch::Guard::~Guard() {
    if (m_watch)
        m_watch->unwatch(m_id);
}

PeerWatch& PeerWatch::shared() {
    static PeerWatch watch;
    return watch;
}

PeerWatch::~PeerWatch() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        m_cv.notify_all();
    }
    if (m_thread.joinable())
        m_thread.join();
}

PeerWatch::Guard PeerWatch::watch(NativeSocket socket, std::function<void()> gone) {
    std::lock_guard lock(m_mutex);
    if (!m_thread.joinable() && !m_stopping)
        m_thread = std::thread([this] { run(); });
    const std::uint64_t id = ++m_nextId;
    m_entries.emplace(id, Entry{socket, std::move(gone)});
    m_cv.notify_all();
    return Guard(this, id);
}

void PeerWatch::unwatch(std::uint64_t id) {
    std::lock_guard lock(m_mutex);
    m_entries.erase(id);
}

void PeerWatch::run() {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        if (m_entries.empty()) {
            m_cv.wait(lock, [this] { return m_stopping || !m_entries.empty(); });
            continue;
        }
        std::map<std::uint64_t, NativeSocket> sockets;
        for (const auto& [id, entry] : m_entries)
            sockets.emplace(id, entry.socket);
        lock.unlock();
        std::map<std::uint64_t, bool> verdicts; // id -> the peer is gone
        pollOnce(sockets, verdicts);
        lock.lock();
        for (const auto& [id, gone] : verdicts) {
            auto it = m_entries.find(id);
            if (it == m_entries.end())
                continue; // its request ended meanwhile: the socket may be another one now
            Entry entry = std::move(it->second);
            m_entries.erase(it);
            if (gone && entry.gone)
                entry.gone();
        }
    }
}

#ifdef _WIN32

void PeerWatch::pollOnce(const std::map<std::uint64_t, NativeSocket>& sockets,
                         std::map<std::uint64_t, bool>& closed) {
    std::vector<WSAPOLLFD> fds;
    std::vector<std::uint64_t> ids;
    for (const auto& [id, socket] : sockets) {
        fds.push_back(WSAPOLLFD{SOCKET(socket), POLLRDNORM, 0});
        ids.push_back(id);
    }
    if (WSAPoll(fds.data(), ULONG(fds.size()), kPollMs) <= 0)
        return;
    for (std::size_t i = 0; i < fds.size(); ++i) {
        const short revents = fds[i].revents;
        if (revents & (POLLHUP | POLLERR)) {
            closed[ids[i]] = true;
        } else if (revents & POLLNVAL) {
            closed[ids[i]] = false;
        } else if (revents & POLLRDNORM) {
            char byte = 0;
            const int n = ::recv(fds[i].fd, &byte, 1, MSG_PEEK);
            // 0: end of stream. Data: the client is there (its next command): stop looking.
            closed[ids[i]] = n == 0 || (n < 0 && WSAGetLastError() != WSAEWOULDBLOCK);
        }
    }
}

#else

void PeerWatch::pollOnce(const std::map<std::uint64_t, NativeSocket>& sockets,
                         std::map<std::uint64_t, bool>& closed) {
    std::vector<pollfd> fds;
    std::vector<std::uint64_t> ids;
    for (const auto& [id, socket] : sockets) {
        fds.push_back(pollfd{int(socket), POLLRDHUP, 0});
        ids.push_back(id);
    }
    if (::poll(fds.data(), nfds_t(fds.size()), kPollMs) <= 0)
        return;
    for (std::size_t i = 0; i < fds.size(); ++i) {
        const short revents = fds[i].revents;
        if (revents & (POLLRDHUP | POLLHUP | POLLERR))
            closed[ids[i]] = true;
        else if (revents & POLLNVAL)
            closed[ids[i]] = false;
    }
}

#endif

} // namespace troupe::net
