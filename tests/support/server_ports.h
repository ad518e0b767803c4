#pragma once

// What integration tests need to start a real troupe-server: four free loopback ports and the
// server binary. The including target defines TROUPE_SERVER_BUILT (the binary of this build).

#include <QString>
#include <QtGlobal>

#include <cstdint>
#include <vector>

#include <asio.hpp>

namespace troupe::test {

struct Ports {
    std::uint16_t thrift = 0, mysql = 0, node = 0, http = 0;
};

// Four distinct free loopback ports (kept bound until all are chosen).
inline Ports freePorts() {
    asio::io_context io;
    std::vector<asio::ip::tcp::acceptor> held;
    std::uint16_t p[4];
    for (auto& port : p) {
        held.emplace_back(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        port = held.back().local_endpoint().port();
    }
    return {p[0], p[1], p[2], p[3]};
}

// TROUPE_SERVER (set by CTest), else the binary of this build tree, for runs by hand.
inline QString serverBinary() {
    QString fromEnv = qEnvironmentVariable("TROUPE_SERVER");
    return fromEnv.isEmpty() ? QStringLiteral(TROUPE_SERVER_BUILT) : fromEnv;
}

} // namespace troupe::test
