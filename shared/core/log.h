#pragma once

// Logging categories over spdlog: one named logger per component ("storage", "sql", "http"),
// all writing to the same sinks (stderr by default, or a file) with timestamp, level and
// component. Loggers are thread-safe.

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "core/status.h"

namespace troupe::log {

// The logger of a component; created on first use with the current sinks and level.
std::shared_ptr<spdlog::logger> get(const std::string& component);

// Route every logger to stderr (file empty) or to `file`, at `level` (trace, debug, info, warn,
// error, critical, off). Returns an error for an unknown level or a file that cannot be opened.
Status setup(const std::string& level, const std::string& file = {});

} // namespace troupe::log
