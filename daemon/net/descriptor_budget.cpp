#include "net/descriptor_budget.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#ifndef _WIN32
#include <sys/resource.h>
#endif

namespace troupe::net {

ConnectionCaps fitConnections(ConnectionCaps wanted, std::uint64_t available) {
    const std::uint64_t total = std::uint64_t(wanted.mysql) + wanted.thrift + wanted.http;
    if (total <= available)
        return wanted;
    auto share = [&](std::size_t cap) {
        return std::max<std::size_t>(1, std::size_t(std::uint64_t(cap) * available / total));
    };
    return ConnectionCaps{share(wanted.mysql), share(wanted.thrift), share(wanted.http)};
}

#ifndef _WIN32

std::uint64_t raiseDescriptorLimit(std::uint64_t wanted) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 0;
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max == RLIM_INFINITY
                              ? rlim_t(wanted)
                              : std::min<rlim_t>(rlim_t(wanted), limit.rlim_max);
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            limit = raised;
    }
    return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : std::uint64_t(limit.rlim_cur);
}

std::uint64_t descriptorsInUse() {
    std::error_code ec;
    std::uint64_t n = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec))
        ++n;
    return ec ? 0 : n;
}

#else

std::uint64_t raiseDescriptorLimit(std::uint64_t) {
    return 0;
}

std::uint64_t descriptorsInUse() {
    return 0;
}

#endif

} // namespace troupe::net
