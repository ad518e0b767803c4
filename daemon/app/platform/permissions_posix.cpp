// Owner-only files and the data directory's permission check on POSIX (platform.h).

#include "app/platform/platform.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <sys/stat.h>
#include <unistd.h>

namespace troupe::app::platform {

namespace fs = std::filesystem;

namespace {

std::string octal(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", unsigned(mode & 07777));
    return text;
}

} // namespace

void restrictNewFilesToOwner() {
    ::umask(077);
}

Status restrictDirectoryToOwner(const fs::path& dir) {
    if (::chmod(dir.c_str(), 0700) != 0)
        return Status(ErrorCode::IoError, "cannot make data directory " + dir.string() +
                                              " owner-only: " + std::strerror(errno));
    return Status::ok();
}

Result<std::string> checkDataDirectoryPermissions(const fs::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        if (errno == ENOENT)
            return std::string(); // created owner-only later
        return Status(ErrorCode::IoError,
                      "cannot check data directory " + dir.string() + ": " + std::strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return std::string(); // prepareDataDirectory() says it is not a directory
    if (st.st_uid != ::geteuid())
        return Status(ErrorCode::InvalidArgument,
                      "data directory " + dir.string() + " is owned by user id " +
                          std::to_string(st.st_uid) + ", not by the user running troupe-server (" +
                          std::to_string(::geteuid()) + ")");
    if ((st.st_mode & 022) != 0)
        return Status(ErrorCode::InvalidArgument,
                      "data directory " + dir.string() + " has invalid permissions (" +
                          octal(st.st_mode) +
                          "): it must not be writable by group or others; permissions should be "
                          "u=rwx (0700) or u=rwx,g=rx (0750) (chmod 700 " +
                          dir.string() + ")");
    if ((st.st_mode & 007) != 0)
        return "data directory " + dir.string() + " can be read by other users (" +
               octal(st.st_mode) + "); u=rwx (0700) or u=rwx,g=rx (0750) is recommended";
    return std::string();
}

} // namespace troupe::app::platform
