// The portable part of the data-directory lock (platform.h).

#include "app/platform/platform.h"

namespace troupe::app::platform {

namespace fs = std::filesystem;

Status prepareDataDirectory(const fs::path& dir) {
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
        return Status(ErrorCode::IoError, "data directory " + dir.string() + " is not a directory");
    fs::create_directories(dir, ec);
    if (ec)
        return Status(ErrorCode::IoError,
                      "cannot create data directory " + dir.string() + ": " + ec.message());
    if (!fs::is_directory(dir, ec))
        return Status(ErrorCode::IoError, "data directory " + dir.string() + " is not a directory");
    return Status::ok();
}

} // namespace troupe::app::platform
