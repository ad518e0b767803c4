#pragma once

// The disk questions the storage layer asks the operating system (DESIGN §3: platform
// differences live in daemon/app/platform/). Standard C++ only; one of disk_posix.cpp and
// disk_win32.cpp is compiled into troupe_storage, which must not depend on troupe_app. Any thread.

#include <cstdint>
#include <filesystem>

namespace troupe::app::platform {

// Whether a failed write to `file` is explained by a full disk: the file is within `margin`
// bytes of the process's file-size limit (RLIMIT_FSIZE; Windows has none), or the volume holding
// it has less than `margin` bytes left that this process may use.
bool diskLooksFull(const std::filesystem::path& file, std::uint64_t margin);

// Whether an error code as LMDB and the C library report it means "out of space": ENOSPC, EFBIG
// and EDQUOT on POSIX; on Windows also the Win32 codes LMDB returns (ERROR_DISK_FULL,
// ERROR_HANDLE_DISK_FULL).
bool isOutOfSpaceError(int code);

} // namespace troupe::app::platform
