#pragma once

// The process's file-descriptor budget for connections (resources/docs/security.md,
// "connections"). Every open connection costs a descriptor; when the MySQL and Thrift caps add
// up to more than the limit allows, a flood of them would take the last descriptor and starve
// the HTTP server (/health) and the storage. At start the daemon raises the soft limit toward
// the hard one as far as the caps need, and lowers the caps that still do not fit, with a log
// line, so that every listener keeps its share.
//
// Pure functions except raiseDescriptorLimit() and descriptorsInUse(), which read and set the
// process limit (POSIX; on Windows they report 0, "unknown", and nothing is lowered). Any
// thread; called once at start.

#include <cstddef>
#include <cstdint>

namespace troupe::net {

struct ConnectionCaps {
    std::size_t mysql = 0;
    std::size_t thrift = 0;
    std::size_t http = 0;
    bool operator==(const ConnectionCaps&) const = default;
};

// Descriptors kept out of the connections' budget beyond those in use at start: spill files,
// log files, the acceptors' spare descriptors, LMDB reopening, a shell's pipes.
inline constexpr std::uint64_t kReservedDescriptors = 32;

// The caps scaled down in proportion so that they add up to at most `available` (each at least
// 1); unchanged when they fit.
ConnectionCaps fitConnections(ConnectionCaps wanted, std::uint64_t available);

// Raises the soft RLIMIT_NOFILE to `wanted` (at most the hard limit); returns the soft limit in
// force afterwards, 0 where unknown.
std::uint64_t raiseDescriptorLimit(std::uint64_t wanted);

// Descriptors the process has open now (Linux: /proc/self/fd); 0 where unknown.
std::uint64_t descriptorsInUse();

} // namespace troupe::net
