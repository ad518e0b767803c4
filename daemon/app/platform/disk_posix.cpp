// POSIX implementation of disk.h.

#include "app/platform/disk.h"

#include <cerrno>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace troupe::app::platform {

bool diskLooksFull(const std::filesystem::path& file, std::uint64_t margin) {
    struct stat st;
    if (::stat(file.c_str(), &st) == 0) {
        rlimit limit;
        if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
            std::uint64_t(st.st_size) + margin >= std::uint64_t(limit.rlim_cur))
            return true;
    }
    struct statvfs vfs;
    if (statvfs(file.parent_path().c_str(), &vfs) == 0) {
        // Root may use the reserved blocks (f_bfree); others only f_bavail.
        const std::uint64_t avail = std::uint64_t(geteuid() == 0 ? vfs.f_bfree : vfs.f_bavail);
        if (avail * vfs.f_frsize < margin)
            return true;
    }
    return false;
}

bool isOutOfSpaceError(int code) {
    return code == ENOSPC || code == EFBIG || code == EDQUOT;
}

} // namespace troupe::app::platform
