// The portable part of the data-directory lock (platform.h).

#include "app/platform/platform.h"

namespace troupe::app::platform {

namespace fs = std::filesystem;

Status prepareDataDirectory(const fs::path& dir) {
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
        return Status(ErrorCode::IoError, "data directory " + dir.string() + " is not a directory");
    const bool created = fs::create_directories(dir, ec);
    if (ec)
        return Status(ErrorCode::IoError,
                      "cannot create data directory " + dir.string() + ": " + ec.message());
    if (created)
        TROUPE_RETURN_IF_ERROR(restrictDirectoryToOwner(dir));
    if (!fs::is_directory(dir, ec))
        return Status(ErrorCode::IoError, "data directory " + dir.string() + " is not a directory");
    return Status::ok();
}

std::string lockHolderPid(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
        text.pop_back();
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
        return "unknown";
    return text;
}

} // namespace troupe::app::platform
