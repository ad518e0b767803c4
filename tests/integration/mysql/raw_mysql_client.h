#pragma once

// A deliberately small MySQL protocol client over a blocking loopback socket, for tests that must
// send what no real driver sends (garbage, truncated frames, wrong sequence ids, unknown
// commands) and read the exact bytes that come back. It speaks just enough of the protocol to log
// in with mysql_native_password and send single-packet commands. It is written from the MySQL
// "Client/Server Protocol" documentation, not from the server's codec, so the two check each
// other. One client per test, used from one thread; every read is bounded by a deadline.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <QByteArray>
#include <QCryptographicHash>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace troupe::test {

class RawMysqlClient {
public:
    struct Packet {
        std::uint8_t seq = 0;
        std::string payload;
        bool isOk() const { return !payload.empty() && payload[0] == '\x00'; }
        bool isErr() const { return !payload.empty() && payload[0] == '\xff'; }
        // ERR packet: 0xff, error code (2 bytes LE), '#', SQLSTATE (5), message.
        std::uint16_t errorCode() const {
            if (!isErr() || payload.size() < 3)
                return 0;
            return static_cast<std::uint16_t>(static_cast<std::uint8_t>(payload[1]) |
                                              static_cast<std::uint8_t>(payload[2]) << 8);
        }
        std::string sqlState() const {
            return isErr() && payload.size() >= 9 && payload[3] == '#' ? payload.substr(4, 5)
                                                                       : std::string();
        }
        std::string errorMessage() const {
            return isErr() && payload.size() >= 9 ? payload.substr(9) : std::string();
        }
    };

    // Connects to 127.0.0.1:port; connected() tells whether it worked.
    explicit RawMysqlClient(std::uint16_t port) {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        m_connected = ::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~RawMysqlClient() { close(); }
    RawMysqlClient(const RawMysqlClient&) = delete;
    RawMysqlClient& operator=(const RawMysqlClient&) = delete;

    bool connected() const { return m_connected; }
    // The connection id (thread id) of the greeting login() read.
    std::uint32_t connectionId() const { return m_connectionId; }

    void close() {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
    }
    // Half-close: the server sees end of input but can still answer.
    void shutdownWrite() { ::shutdown(m_fd, SHUT_WR); }

    bool sendRaw(std::string_view bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // One frame: 3-byte little-endian length, sequence id, payload.
    static std::string frame(std::string_view payload, std::uint8_t seq) {
        std::string out;
        auto len = static_cast<std::uint32_t>(payload.size());
        out += static_cast<char>(len & 0xff);
        out += static_cast<char>((len >> 8) & 0xff);
        out += static_cast<char>((len >> 16) & 0xff);
        out += static_cast<char>(seq);
        out += payload;
        return out;
    }
    bool sendPacket(std::string_view payload, std::uint8_t seq) {
        return sendRaw(frame(payload, seq));
    }
    // A command starts a new sequence (id 0).
    bool sendCommand(std::uint8_t command, std::string_view argument = {}) {
        std::string payload(1, static_cast<char>(command));
        payload += argument;
        return sendPacket(payload, 0);
    }

    // The next packet, or nullopt on end of stream, error or deadline.
    std::optional<Packet> readPacket(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        std::string header;
        if (!readExactly(header, 4, deadline))
            return std::nullopt;
        std::size_t len = static_cast<std::uint8_t>(header[0]) |
                          static_cast<std::uint8_t>(header[1]) << 8 |
                          static_cast<std::uint8_t>(header[2]) << 16;
        Packet p;
        p.seq = static_cast<std::uint8_t>(header[3]);
        if (!readExactly(p.payload, len, deadline))
            return std::nullopt;
        return p;
    }

    // True once the server has closed the connection (reads return end of stream) before the
    // deadline; anything it sends first (an ERR packet, say) is skipped.
    bool waitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        char buf[4096];
        while (true) {
            int wait = msLeft(deadline);
            if (wait <= 0)
                return false;
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, wait) != 1)
                return false;
            ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
            if (n <= 0)
                return true;
        }
    }

    // Reads the greeting and logs in with mysql_native_password (following one auth switch if
    // the server asks). Returns the server's last answer (OK or ERR); nullopt if the greeting
    // could not be read.
    std::optional<Packet> login(const std::string& user, const std::string& password) {
        auto greeting = readPacket();
        if (!greeting || greeting->payload.empty() || greeting->payload[0] != '\x0a')
            return std::nullopt;
        auto scramble = scrambleFromGreeting(greeting->payload);
        if (!scramble)
            return std::nullopt;
        const std::size_t idAt = greeting->payload.find('\0', 1) + 1; // after the version
        m_connectionId = 0;
        for (int i = 3; i >= 0; --i)
            m_connectionId = m_connectionId << 8 |
                             static_cast<std::uint8_t>(greeting->payload[idAt + std::size_t(i)]);
        const std::uint32_t caps = 0x1 /* LONG_PASSWORD */ | 0x200 /* PROTOCOL_41 */ |
                                   0x2000 /* TRANSACTIONS */ | 0x8000 /* SECURE_CONNECTION */ |
                                   0x80000 /* PLUGIN_AUTH */;
        std::string response;
        appendLe(response, caps, 4);
        appendLe(response, 16u << 20, 4); // max packet
        response += '\x2d';               // utf8mb4_general_ci
        response += std::string(23, '\0');
        response += user;
        response += '\0';
        std::string token = nativeToken(password, *scramble);
        response += static_cast<char>(token.size());
        response += token;
        response += "mysql_native_password";
        response += '\0';
        if (!sendPacket(response, static_cast<std::uint8_t>(greeting->seq + 1)))
            return std::nullopt;
        auto answer = readPacket();
        if (answer && !answer->payload.empty() && answer->payload[0] == '\xfe') {
            // AuthSwitchRequest: 0xfe, plugin name NUL, new scramble (NUL-terminated).
            std::string_view rest(answer->payload);
            rest.remove_prefix(1);
            auto nul = rest.find('\0');
            if (nul == std::string_view::npos)
                return answer;
            std::string newScramble(rest.substr(nul + 1, 20));
            if (!sendPacket(nativeToken(password, newScramble),
                            static_cast<std::uint8_t>(answer->seq + 1)))
                return std::nullopt;
            answer = readPacket();
        }
        return answer;
    }

    // SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))); empty for an empty password.
    static std::string nativeToken(const std::string& password, const std::string& scramble) {
        if (password.empty())
            return {};
        auto sha1 = [](const QByteArray& b) {
            return QCryptographicHash::hash(b, QCryptographicHash::Sha1);
        };
        QByteArray stage1 = sha1(QByteArray::fromStdString(password));
        QByteArray stage2 = sha1(stage1);
        QByteArray mix = sha1(QByteArray::fromStdString(scramble) + stage2);
        std::string token(20, '\0');
        for (int i = 0; i < 20; ++i)
            token[static_cast<std::size_t>(i)] = static_cast<char>(stage1[i] ^ mix[i]);
        return token;
    }

private:
    // Handshake v10: 0x0a, version NUL, connection id (4), scramble part 1 (8), filler, capability
    // low (2), charset, status (2), capability high (2), scramble length, 10 reserved bytes,
    // scramble part 2 (max(13, length - 8), NUL-terminated), plugin name NUL.
    static std::optional<std::string> scrambleFromGreeting(const std::string& g) {
        auto versionEnd = g.find('\0', 1);
        if (versionEnd == std::string::npos)
            return std::nullopt;
        std::size_t pos = versionEnd + 1 + 4;
        if (g.size() < pos + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10 + 12)
            return std::nullopt;
        std::string scramble = g.substr(pos, 8);
        pos += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
        scramble += g.substr(pos, 12);
        return scramble;
    }

    static void appendLe(std::string& out, std::uint32_t value, int bytes) {
        for (int i = 0; i < bytes; ++i)
            out += static_cast<char>((value >> (8 * i)) & 0xff);
    }

    static int msLeft(std::chrono::steady_clock::time_point deadline) {
        return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    }

    bool readExactly(std::string& out, std::size_t n, std::chrono::steady_clock::time_point dl) {
        out.clear();
        while (out.size() < n) {
            int wait = msLeft(dl);
            if (wait <= 0)
                return false;
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, wait) != 1)
                return false;
            char buf[65536];
            std::size_t want = std::min(sizeof buf, n - out.size());
            ssize_t got = ::recv(m_fd, buf, want, 0);
            if (got <= 0)
                return false;
            out.append(buf, static_cast<std::size_t>(got));
        }
        return true;
    }

    int m_fd = -1;
    bool m_connected = false;
    std::uint32_t m_connectionId = 0;
};

} // namespace troupe::test
