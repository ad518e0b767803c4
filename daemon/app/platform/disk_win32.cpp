// Win32 implementation of disk.h (mingw-w64 cross-build, resources/docs/windows.md).

#include "app/platform/disk.h"

#include <windows.h>

#include <cerrno>

namespace troupe::app::platform {

bool diskLooksFull(const std::filesystem::path& file, std::uint64_t margin) {
    // No per-process file-size limit on Windows: only the space left for this user (quotas
    // included) counts.
    ULARGE_INTEGER available;
    if (!GetDiskFreeSpaceExW(file.parent_path().c_str(), &available, nullptr, nullptr))
        return false;
    return available.QuadPart < margin;
}

bool isOutOfSpaceError(int code) {
    // LMDB reports GetLastError() codes on Windows; the C library reports errno values.
    return code == ENOSPC || code == EFBIG || code == ERROR_DISK_FULL ||
           code == ERROR_HANDLE_DISK_FULL;
}

} // namespace troupe::app::platform
