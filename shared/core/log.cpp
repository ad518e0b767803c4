#include "core/log.h"

#include <mutex>
#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace troupe::log {
namespace {

constexpr const char* kPattern = "%Y-%m-%dT%H:%M:%S.%e %l [%n] %v";

struct State {
    std::mutex mutex; // guards sink and level; loggers themselves are thread-safe
    spdlog::sink_ptr sink;
    spdlog::level::level_enum level = spdlog::level::info;
};

State& state() {
    static State s;
    return s;
}

spdlog::sink_ptr currentSink(State& s) {
    if (!s.sink) {
        s.sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        s.sink->set_pattern(kPattern);
    }
    return s.sink;
}

} // namespace

std::shared_ptr<spdlog::logger> get(const std::string& component) {
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (auto existing = spdlog::get(component))
        return existing;
    auto logger = std::make_shared<spdlog::logger>(component, currentSink(s));
    logger->set_level(s.level);
    logger->flush_on(spdlog::level::warn);
    spdlog::register_logger(logger);
    return logger;
}

Status setup(const std::string& level, const std::string& file) {
    auto parsed = spdlog::level::from_str(level);
    if (parsed == spdlog::level::off && level != "off")
        return Status(ErrorCode::InvalidArgument,
                      "unknown log level '" + level +
                          "' (use trace, debug, info, warn, error, critical or off)");
    spdlog::sink_ptr sink;
    try {
        if (file.empty())
            sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        else
            sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, false);
    } catch (const spdlog::spdlog_ex& e) {
        return Status(ErrorCode::IoError, "cannot open log file '" + file + "': " + e.what());
    }
    sink->set_pattern(kPattern);

    State& s = state();
    std::lock_guard lock(s.mutex);
    s.sink = sink;
    s.level = parsed;
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) {
        logger->sinks().assign(1, sink);
        logger->set_level(parsed);
    });
    return Status::ok();
}

} // namespace troupe::log
