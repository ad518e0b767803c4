#include "app/config.h"

#include <array>
#include <charconv>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>
#include <asio/ip/address.hpp>
#include <toml++/toml.h>

#include "app/platform/platform.h"

namespace troupe::app {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = kKiB * 1024;
constexpr std::uint64_t kGiB = kMiB * 1024;
constexpr std::uint64_t kTiB = kGiB * 1024;

std::string quote(std::string_view s) {
    return "\"" + std::string(s) + "\"";
}

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string toLower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = lower(c);
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// Splits "256MiB" into 256 and "mib". False if there is no leading number or it overflows.
bool splitNumber(std::string_view text, std::uint64_t& number, std::string& unit) {
    text = trim(text);
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || ptr == text.data())
        return false;
    unit = toLower(
        trim(std::string_view(ptr, static_cast<std::size_t>(text.data() + text.size() - ptr))));
    return true;
}

// ---- one option: how to read it from the file or a flag -----------------------------------------

// A value from the TOML file (string or integer, else typeName says what it was) or a flag
// (always text).
struct RawValue {
    std::optional<std::string> text;
    std::optional<std::int64_t> integer;
    std::optional<bool> boolean;
    std::string typeName; // "a boolean", "an array", ... when neither
    bool fromFlag = false;
    fs::path baseDir; // relative paths in the file resolve against its directory
};

// Every reader returns an error message, or an empty string when it stored the value.
using Apply = std::string (*)(const RawValue&, Config&);

std::string describe(const RawValue& v) {
    if (v.boolean)
        return std::string("the boolean ") + (*v.boolean ? "true" : "false");
    if (v.text)
        return "the string " + quote(*v.text);
    if (v.integer)
        return "the integer " + std::to_string(*v.integer);
    return v.typeName;
}

std::string readText(const RawValue& v, std::string& out) {
    if (!v.text)
        return "expected a string, got " + describe(v);
    out = *v.text;
    return {};
}

std::string readInteger(const RawValue& v, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
    std::string range = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
    if (v.integer) {
        out = *v.integer;
    } else if (v.text && v.fromFlag) {
        std::string_view t = trim(*v.text);
        auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
        if (t.empty() || ec != std::errc() || ptr != t.data() + t.size())
            return "expected " + range + ", got " + quote(*v.text);
    } else {
        return "expected " + range + ", got " + describe(v);
    }
    if (out < lo || out > hi)
        return "expected " + range + ", got " + std::to_string(out);
    return {};
}

std::string readSize(const RawValue& v, std::uint64_t lo, std::uint64_t hi, std::uint64_t& out) {
    if (v.integer) {
        if (*v.integer < 0)
            return "expected a size, got " + std::to_string(*v.integer);
        out = static_cast<std::uint64_t>(*v.integer);
    } else if (v.text) {
        Result<std::uint64_t> parsed = parseSize(*v.text);
        if (!parsed)
            return parsed.status().message();
        out = *parsed;
    } else {
        return "expected a size such as \"256MiB\", got " + describe(v);
    }
    if (out < lo || out > hi)
        return "expected a size from " + formatSize(lo) + " to " + formatSize(hi) + ", got " +
               formatSize(out);
    return {};
}

fs::path resolve(const RawValue& v, const std::string& text) {
    fs::path p(text);
    if (p.is_relative() && !v.baseDir.empty())
        return v.baseDir / p;
    return p;
}

// A TOML boolean, or on the command line true/false, on/off, yes/no, 1/0.
std::string readBool(const RawValue& v, bool& out) {
    if (v.boolean) {
        out = *v.boolean;
        return {};
    }
    if (v.text && v.fromFlag) {
        const std::string t = toLower(trim(*v.text));
        if (t == "true" || t == "on" || t == "yes" || t == "1") {
            out = true;
            return {};
        }
        if (t == "false" || t == "off" || t == "no" || t == "0") {
            out = false;
            return {};
        }
        return "expected true or false, got " + quote(*v.text);
    }
    return "expected true or false, got " + describe(v);
}

// A duration from the file ("30s" or a number of milliseconds) or a flag, within [lo, hi].
std::string readDuration(const RawValue& v, std::chrono::milliseconds lo,
                         std::chrono::milliseconds hi, std::chrono::milliseconds& out) {
    std::chrono::milliseconds d{};
    if (v.integer) {
        d = std::chrono::milliseconds(*v.integer);
    } else if (v.text) {
        Result<std::chrono::milliseconds> parsed = parseDuration(*v.text);
        if (!parsed)
            return parsed.status().message();
        d = *parsed;
    } else {
        return "expected a duration such as \"1s\" or \"250ms\", got " + describe(v);
    }
    if (d < lo || d > hi)
        return "expected a duration from " + formatDuration(lo) + " to " + formatDuration(hi) +
               ", got " + formatDuration(d);
    out = d;
    return {};
}

std::string readPath(const RawValue& v, fs::path& out) {
    std::string text;
    if (std::string e = readText(v, text); !e.empty())
        return e;
    out = text.empty() ? fs::path() : resolve(v, text);
    return {};
}

std::string readPort(const RawValue& v, std::uint16_t& port) {
    std::int64_t n = 0;
    if (std::string e = readInteger(v, 1, 65535, n); !e.empty())
        return e;
    port = static_cast<std::uint16_t>(n);
    return {};
}

constexpr std::array kLogLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};

struct OptionSpec {
    std::string_view section; // "" for top-level keys
    std::string_view key;
    std::string_view flag;
    std::string_view valueName;
    std::string_view help;
    Apply apply;
};

// Every option of troupe.conf, in the order of the docs. Each has a flag too.
const std::vector<OptionSpec>& optionSpecs() {
    static const std::vector<OptionSpec> specs = {
        {"", "data_dir", "--data-dir", "DIR", "data directory (default: platform, see docs)",
         [](const RawValue& v, Config& c) {
             std::string text;
             if (std::string e = readText(v, text); !e.empty())
                 return e;
             if (text.empty())
                 return std::string("must not be empty");
             c.dataDir = resolve(v, text);
             return std::string();
         }},
        {"", "node_name", "--node-name", "NAME", "this node's name, name@host (node1@127.0.0.1)",
         [](const RawValue& v, Config& c) {
             std::string text;
             if (std::string e = readText(v, text); !e.empty())
                 return e;
             const std::size_t at = text.find('@');
             if (at == 0 || at == std::string::npos || at + 1 == text.size() ||
                 text.find_first_of(" \t'\"") != std::string::npos)
                 return "expected name@host such as node1@127.0.0.1, got " + quote(text);
             c.nodeName = text;
             return std::string();
         }},
        {"", "init", "--init", "FILE",
         "ActorDB-style init script, run when the node is not initialised",
         [](const RawValue& v, Config& c) { return readPath(v, c.initFile); }},
        {"network", "listen", "--listen", "ADDR", "address every listener binds to (127.0.0.1)",
         [](const RawValue& v, Config& c) {
             std::string text;
             if (std::string e = readText(v, text); !e.empty())
                 return e;
             asio::error_code ec;
             asio::ip::make_address(text, ec);
             if (ec)
                 return "expected an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0 or ::, got " +
                        quote(text);
             c.listenAddress = text;
             return std::string();
         }},
        {"network", "thrift_port", "--thrift-port", "PORT", "Thrift API port (33306)",
         [](const RawValue& v, Config& c) { return readPort(v, c.thriftPort); }},
        {"network", "mysql_port", "--mysql-port", "PORT", "MySQL protocol port (33307)",
         [](const RawValue& v, Config& c) { return readPort(v, c.mysqlPort); }},
        {"network", "node_port", "--node-port", "PORT", "node-to-node port (44380)",
         [](const RawValue& v, Config& c) { return readPort(v, c.nodePort); }},
        {"network", "http_port", "--http-port", "PORT", "HTTP /health /ready /metrics port (33380)",
         [](const RawValue& v, Config& c) { return readPort(v, c.httpPort); }},
        {"network", "handshake_timeout", "--handshake-timeout", "DURATION",
         "close a new connection that has not finished its handshake or first request (10s)",
         [](const RawValue& v, Config& c) {
             return readDuration(v, std::chrono::milliseconds(100), std::chrono::hours(1),
                                 c.handshakeTimeout);
         }},
        {"network", "http_max_connections", "--http-max-connections", "N",
         "HTTP connections open at once; more evict the longest-waiting one (256)",
         [](const RawValue& v, Config& c) {
             std::int64_t n = 0;
             if (std::string e = readInteger(v, 1, 100'000, n); !e.empty())
                 return e;
             c.httpMaxConnections = static_cast<std::size_t>(n);
             return std::string();
         }},
        {"storage", "fsync", "--fsync", "MODE", "always | interval | off (always)",
         [](const RawValue& v, Config& c) {
             std::string text;
             if (std::string e = readText(v, text); !e.empty())
                 return e;
             std::string mode = toLower(text);
             if (mode == "always")
                 c.fsync = storage::FsyncMode::Always;
             else if (mode == "interval")
                 c.fsync = storage::FsyncMode::Interval;
             else if (mode == "off")
                 c.fsync = storage::FsyncMode::Off;
             else
                 return "expected always, interval or off, got " + quote(text);
             return std::string();
         }},
        {"storage", "fsync_interval", "--fsync-interval", "DURATION",
         "fsync period in interval mode (1s)",
         [](const RawValue& v, Config& c) {
             return readDuration(v, std::chrono::milliseconds(1), std::chrono::hours(1),
                                 c.fsyncInterval);
         }},
        {"storage", "initial_map_size", "--initial-map-size", "SIZE",
         "initial LMDB map size (256MiB)",
         [](const RawValue& v, Config& c) {
             return readSize(v, kMiB, std::uint64_t(1) << 50, c.initialMapSize);
         }},
        {"storage", "max_map_size", "--max-map-size", "SIZE",
         "largest LMDB map size, 0 = unlimited (0)",
         [](const RawValue& v, Config& c) {
             if (v.text && toLower(trim(*v.text)) == "unlimited") {
                 c.maxMapSize = 0;
                 return std::string();
             }
             return readSize(v, 0, std::uint64_t(1) << 50, c.maxMapSize);
         }},
        {"sql", "max_open_actors", "--max-open-actors", "N", "open SQLite connections kept (1024)",
         [](const RawValue& v, Config& c) {
             std::int64_t n = 0;
             if (std::string e = readInteger(v, 1, 10'000'000, n); !e.empty())
                 return e;
             c.maxOpenActors = static_cast<std::size_t>(n);
             return std::string();
         }},
        {"sql", "page_cache", "--page-cache", "SIZE", "SQLite page cache per open actor (512KiB)",
         [](const RawValue& v, Config& c) { return readSize(v, 0, kGiB, c.pageCacheSize); }},
        {"sql", "executor_threads", "--executor-threads", "N",
         "SQL executor threads, 0 = number of cores (0)",
         [](const RawValue& v, Config& c) {
             std::int64_t n = 0;
             if (std::string e = readInteger(v, 0, 1024, n); !e.empty())
                 return e;
             c.executorThreads = static_cast<unsigned>(n);
             return std::string();
         }},
        {"sql", "kv_shards", "--kv-shards", "N", "local shards of every KV type, fixed at init (4)",
         [](const RawValue& v, Config& c) {
             std::int64_t n = 0;
             if (std::string e = readInteger(v, 1, 1024, n); !e.empty())
                 return e;
             c.kvShards = static_cast<unsigned>(n);
             return std::string();
         }},
        {"sql", "max_request_size", "--max-request-size", "SIZE",
         "largest request accepted (16MiB)",
         [](const RawValue& v, Config& c) { return readSize(v, 1024, kGiB, c.maxRequestSize); }},
        {"sql", "statement_timeout", "--statement-timeout", "DURATION",
         "stop a request's SQL after it ran this long in an actor, 0 = never (60s)",
         [](const RawValue& v, Config& c) {
             return readDuration(v, std::chrono::milliseconds(0), std::chrono::hours(24 * 365),
                                 c.statementTimeout);
         }},
        {"sql", "max_actors_per_request", "--max-actors-per-request", "N",
         "actors one request may use; more get TooLarge (10000)",
         [](const RawValue& v, Config& c) {
             std::int64_t n = 0;
             if (std::string e = readInteger(v, 1, 10'000'000, n); !e.empty())
                 return e;
             c.maxActorsPerRequest = static_cast<std::size_t>(n);
             return std::string();
         }},
        {"sql", "stall_timeout", "--stall-timeout", "DURATION",
         "/ready says 503 when storage or an executor made no progress this long (10s)",
         [](const RawValue& v, Config& c) {
             return readDuration(v, std::chrono::milliseconds(1), std::chrono::hours(24),
                                 c.stallTimeout);
         }},
        {"mysql", "max_connections", "--mysql-max-connections", "N",
         "MySQL connections served at once; more get error 1040 (1000)",
         [](const RawValue& v, Config& c) {
             std::int64_t n = 0;
             if (std::string e = readInteger(v, 1, 100'000, n); !e.empty())
                 return e;
             c.mysqlMaxConnections = static_cast<std::size_t>(n);
             return std::string();
         }},
        {"mysql", "idle_timeout", "--mysql-idle-timeout", "DURATION",
         "close MySQL connections idle this long, 0 = never (8h)",
         [](const RawValue& v, Config& c) {
             return readDuration(v, std::chrono::milliseconds(0), std::chrono::hours(24 * 365),
                                 c.mysqlIdleTimeout);
         }},
        {"mysql", "require_secure_transport", "--mysql-require-secure-transport", "BOOL",
         "refuse MySQL clients that do not use TLS (false)",
         [](const RawValue& v, Config& c) { return readBool(v, c.mysqlRequireSecureTransport); }},
        {"mysql", "auth_plugin", "--mysql-auth-plugin", "PLUGIN",
         "mysql_native_password | caching_sha2_password, offered first (mysql_native_password)",
         [](const RawValue& v, Config& c) {
             std::string text;
             if (std::string e = readText(v, text); !e.empty())
                 return e;
             if (text != "mysql_native_password" && text != "caching_sha2_password")
                 return "expected mysql_native_password or caching_sha2_password, got " +
                        quote(text);
             c.mysqlAuthPlugin = text;
             return std::string();
         }},
        {"mysql", "result_memory", "--mysql-result-memory", "SIZE",
         "rows of one result held in memory, the rest streamed from a temporary file (8MiB)",
         [](const RawValue& v, Config& c) {
             return readSize(v, 0, kGiB * 64, c.mysqlResultMemory);
         }},
        {"thrift", "max_connections", "--thrift-max-connections", "N",
         "Thrift connections served at once; more are closed at once (1000)",
         [](const RawValue& v, Config& c) {
             std::int64_t n = 0;
             if (std::string e = readInteger(v, 1, 100'000, n); !e.empty())
                 return e;
             c.thriftMaxConnections = static_cast<std::size_t>(n);
             return std::string();
         }},
        {"thrift", "idle_timeout", "--thrift-idle-timeout", "DURATION",
         "close Thrift connections idle this long, 0 = never (0)",
         [](const RawValue& v, Config& c) {
             return readDuration(v, std::chrono::milliseconds(0), std::chrono::hours(24 * 365),
                                 c.thriftIdleTimeout);
         }},
        {"tls", "cert_file", "--tls-cert", "FILE",
         "PEM certificate (chain) for TLS on the MySQL and Thrift ports; empty: no TLS",
         [](const RawValue& v, Config& c) { return readPath(v, c.tlsCertFile); }},
        {"tls", "key_file", "--tls-key", "FILE", "PEM private key of cert_file",
         [](const RawValue& v, Config& c) { return readPath(v, c.tlsKeyFile); }},
        {"security", "audit_log", "--audit-log", "FILE",
         "audit log of administrative changes (<data_dir>/audit.log)",
         [](const RawValue& v, Config& c) { return readPath(v, c.auditLog); }},
        {"security", "max_login_failures", "--max-login-failures", "N",
         "failed logins from one address within login_failure_window before it is blocked, "
         "0 = never (10)",
         [](const RawValue& v, Config& c) {
             std::int64_t n = 0;
             if (std::string e = readInteger(v, 0, 1'000'000, n); !e.empty())
                 return e;
             c.maxLoginFailures = static_cast<unsigned>(n);
             return std::string();
         }},
        {"security", "login_failure_window", "--login-failure-window", "DURATION",
         "window in which failed logins count (10min)",
         [](const RawValue& v, Config& c) {
             return readDuration(v, std::chrono::seconds(1), std::chrono::hours(24 * 30),
                                 c.loginFailureWindow);
         }},
        {"security", "login_block_time", "--login-block-time", "DURATION",
         "first block of an address, doubled for each further one (1min)",
         [](const RawValue& v, Config& c) {
             return readDuration(v, std::chrono::seconds(1), std::chrono::hours(24 * 30),
                                 c.loginBlockTime);
         }},
        {"security", "login_block_max", "--login-block-max", "DURATION",
         "longest block of an address (1h)",
         [](const RawValue& v, Config& c) {
             return readDuration(v, std::chrono::seconds(1), std::chrono::hours(24 * 30),
                                 c.loginBlockMax);
         }},
        {"log", "level", "--log-level", "LEVEL",
         "trace | debug | info | warn | error | critical | off (info)",
         [](const RawValue& v, Config& c) {
             std::string text;
             if (std::string e = readText(v, text); !e.empty())
                 return e;
             std::string level = toLower(text);
             for (const char* known : kLogLevels) {
                 if (level == known) {
                     c.logLevel = level;
                     return std::string();
                 }
             }
             return "expected trace, debug, info, warn, error, critical or off, got " + quote(text);
         }},
        {"log", "file", "--log-file", "FILE", "log to this file instead of stderr",
         [](const RawValue& v, Config& c) { return readPath(v, c.logFile); }},
    };
    return specs;
}

const OptionSpec* findSpec(std::string_view section, std::string_view key) {
    for (const OptionSpec& s : optionSpecs()) {
        if (s.section == section && s.key == key)
            return &s;
    }
    return nullptr;
}

bool isSection(std::string_view name) {
    for (const OptionSpec& s : optionSpecs()) {
        if (!s.section.empty() && s.section == name)
            return true;
    }
    return false;
}

std::string fullKey(std::string_view section, std::string_view key) {
    return section.empty() ? std::string(key) : std::string(section) + "." + std::string(key);
}

std::string tomlTypeName(const toml::node& node) {
    switch (node.type()) {
    case toml::node_type::table:
        return "a table";
    case toml::node_type::array:
        return "an array";
    case toml::node_type::floating_point:
        return "a floating-point number";
    case toml::node_type::boolean:
        return "a boolean";
    case toml::node_type::date:
        return "a date";
    case toml::node_type::time:
        return "a time";
    case toml::node_type::date_time:
        return "a date-time";
    default:
        return "a value";
    }
}

RawValue rawFromToml(const toml::node& node, const fs::path& baseDir) {
    RawValue v;
    v.baseDir = baseDir;
    if (const auto* s = node.as_string())
        v.text = s->get();
    else if (const auto* i = node.as_integer())
        v.integer = i->get();
    else if (const auto* b = node.as_boolean())
        v.boolean = b->get();
    else
        v.typeName = tomlTypeName(node);
    return v;
}

Status fileError(const std::string& source, const toml::source_region& where,
                 const std::string& message) {
    return Status(ErrorCode::InvalidArgument,
                  source + ":" + std::to_string(where.begin.line) + ": " + message);
}

Status applyKey(std::string_view section, const toml::key& key, const toml::node& node,
                const std::string& source, const fs::path& baseDir, Config& config) {
    std::string name = fullKey(section, key.str());
    const OptionSpec* spec = findSpec(section, key.str());
    if (!spec)
        return fileError(source, key.source(), "unknown key '" + name + "'");
    std::string error = spec->apply(rawFromToml(node, baseDir), config);
    if (!error.empty())
        return fileError(source, node.source(), name + ": " + error);
    return Status::ok();
}

std::string escapeToml(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

} // namespace

Config defaultConfig() {
    Config c;
    c.dataDir = platform::defaultDataDir();
    return c;
}

Result<std::uint64_t> parseSize(std::string_view text) {
    std::uint64_t number = 0;
    std::string unit;
    auto bad = [&] {
        return Status(ErrorCode::InvalidArgument,
                      "expected a size such as \"4096\", \"512KiB\", \"256MiB\" or \"1GiB\", got " +
                          quote(text));
    };
    if (!splitNumber(text, number, unit))
        return bad();
    std::uint64_t scale = 0;
    if (unit.empty() || unit == "b")
        scale = 1;
    else if (unit == "k" || unit == "kb" || unit == "kib")
        scale = kKiB;
    else if (unit == "m" || unit == "mb" || unit == "mib")
        scale = kMiB;
    else if (unit == "g" || unit == "gb" || unit == "gib")
        scale = kGiB;
    else if (unit == "t" || unit == "tb" || unit == "tib")
        scale = kTiB;
    else
        return bad();
    if (number > std::numeric_limits<std::uint64_t>::max() / scale)
        return Status(ErrorCode::InvalidArgument, "size " + quote(text) + " is too large");
    return number * scale;
}

Result<std::chrono::milliseconds> parseDuration(std::string_view text) {
    std::uint64_t number = 0;
    std::string unit;
    auto bad = [&] {
        return Status(ErrorCode::InvalidArgument,
                      "expected a duration such as \"250ms\", \"1s\" or \"2min\", got " +
                          quote(text));
    };
    if (!splitNumber(text, number, unit))
        return bad();
    std::uint64_t scale = 0;
    if (unit.empty() || unit == "ms")
        scale = 1;
    else if (unit == "s")
        scale = 1000;
    else if (unit == "min" || unit == "m")
        scale = 60'000;
    else if (unit == "h")
        scale = 3'600'000;
    else
        return bad();
    if (number > std::uint64_t(std::numeric_limits<std::int64_t>::max()) / scale)
        return Status(ErrorCode::InvalidArgument, "duration " + quote(text) + " is too large");
    return std::chrono::milliseconds(static_cast<std::int64_t>(number * scale));
}

std::string formatSize(std::uint64_t bytes) {
    static constexpr std::array<std::pair<std::uint64_t, const char*>, 4> units = {
        {{kTiB, "TiB"}, {kGiB, "GiB"}, {kMiB, "MiB"}, {kKiB, "KiB"}}};
    for (const auto& [scale, name] : units) {
        if (bytes != 0 && bytes % scale == 0)
            return std::to_string(bytes / scale) + name;
    }
    return std::to_string(bytes) + "B";
}

std::string formatDuration(std::chrono::milliseconds d) {
    auto ms = d.count();
    if (ms != 0 && ms % 3'600'000 == 0)
        return std::to_string(ms / 3'600'000) + "h";
    if (ms != 0 && ms % 60'000 == 0)
        return std::to_string(ms / 60'000) + "min";
    if (ms != 0 && ms % 1000 == 0)
        return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

Status applyConfigText(std::string_view text, const std::string& sourceName,
                       const fs::path& baseDir, Config& config) {
    toml::table root;
    try {
        root = toml::parse(text, sourceName);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        return Status(ErrorCode::InvalidArgument,
                      sourceName + ":" + std::to_string(where.line) + ":" +
                          std::to_string(where.column) +
                          ": TOML syntax error: " + std::string(e.description()));
    }
    for (auto&& [key, node] : root) {
        if (node.is_table() && isSection(key.str())) {
            for (auto&& [subKey, subNode] : *node.as_table()) {
                TROUPE_RETURN_IF_ERROR(
                    applyKey(key.str(), subKey, subNode, sourceName, baseDir, config));
            }
        } else if (isSection(key.str())) {
            return fileError(sourceName, node.source(),
                             "'" + std::string(key.str()) + "' must be a table ([" +
                                 std::string(key.str()) + "]), got " + tomlTypeName(node));
        } else {
            TROUPE_RETURN_IF_ERROR(applyKey("", key, node, sourceName, baseDir, config));
        }
    }
    return Status::ok();
}

Status validateConfig(const Config& c) {
    if (c.dataDir.empty())
        return Status(ErrorCode::InvalidArgument, "data_dir must not be empty");
    if (c.maxMapSize != 0 && c.maxMapSize < c.initialMapSize)
        return Status(ErrorCode::InvalidArgument,
                      "storage.max_map_size (" + formatSize(c.maxMapSize) +
                          ") is smaller than storage.initial_map_size (" +
                          formatSize(c.initialMapSize) + ")");
    if (c.tlsCertFile.empty() != c.tlsKeyFile.empty())
        return Status(ErrorCode::InvalidArgument,
                      "tls.cert_file and tls.key_file go together: set both or neither");
    if (c.loginBlockMax < c.loginBlockTime)
        return Status(ErrorCode::InvalidArgument,
                      "security.login_block_max is shorter than security.login_block_time");
    if (c.mysqlRequireSecureTransport && c.tlsCertFile.empty())
        return Status(ErrorCode::InvalidArgument,
                      "mysql.require_secure_transport needs TLS: set tls.cert_file and "
                      "tls.key_file");
    const std::array<std::pair<const char*, std::uint16_t>, 4> ports = {{
        {"thrift_port", c.thriftPort},
        {"mysql_port", c.mysqlPort},
        {"node_port", c.nodePort},
        {"http_port", c.httpPort},
    }};
    for (std::size_t i = 0; i < ports.size(); ++i) {
        for (std::size_t j = i + 1; j < ports.size(); ++j) {
            if (ports[i].second == ports[j].second)
                return Status(ErrorCode::InvalidArgument,
                              std::string("network.") + ports[i].first + " and network." +
                                  ports[j].first + " are both " + std::to_string(ports[i].second));
        }
    }
    return Status::ok();
}

std::string renderConfig(const Config& c) {
    std::ostringstream out;
    if (!c.configFile.empty())
        out << "# effective configuration (file " << c.configFile.string() << " + flags)\n";
    else
        out << "# effective configuration (defaults + flags)\n";
    out << "data_dir = " << escapeToml(c.dataDir.string()) << "\n"
        << "node_name = " << escapeToml(c.nodeName) << "\n"
        << "init = " << escapeToml(c.initFile.string()) << "\n\n";
    out << "[network]\n"
        << "listen = " << escapeToml(c.listenAddress) << "\n"
        << "thrift_port = " << c.thriftPort << "\n"
        << "mysql_port = " << c.mysqlPort << "\n"
        << "node_port = " << c.nodePort << "\n"
        << "http_port = " << c.httpPort << "\n"
        << "handshake_timeout = " << escapeToml(formatDuration(c.handshakeTimeout)) << "\n"
        << "http_max_connections = " << c.httpMaxConnections << "\n\n";
    out << "[storage]\n"
        << "fsync = " << escapeToml(storage::fsyncModeName(c.fsync)) << "\n"
        << "fsync_interval = " << escapeToml(formatDuration(c.fsyncInterval)) << "\n"
        << "initial_map_size = " << escapeToml(formatSize(c.initialMapSize)) << "\n"
        << "max_map_size = "
        << (c.maxMapSize == 0 ? escapeToml("unlimited") : escapeToml(formatSize(c.maxMapSize)))
        << "\n\n";
    out << "[sql]\n"
        << "max_open_actors = " << c.maxOpenActors << "\n"
        << "page_cache = " << escapeToml(formatSize(c.pageCacheSize)) << "\n"
        << "executor_threads = " << c.executorThreads << "\n"
        << "kv_shards = " << c.kvShards << "\n"
        << "max_request_size = " << escapeToml(formatSize(c.maxRequestSize)) << "\n"
        << "statement_timeout = " << escapeToml(formatDuration(c.statementTimeout)) << "\n"
        << "max_actors_per_request = " << c.maxActorsPerRequest << "\n"
        << "stall_timeout = " << escapeToml(formatDuration(c.stallTimeout)) << "\n\n";
    out << "[mysql]\n"
        << "max_connections = " << c.mysqlMaxConnections << "\n"
        << "idle_timeout = " << escapeToml(formatDuration(c.mysqlIdleTimeout)) << "\n"
        << "require_secure_transport = " << (c.mysqlRequireSecureTransport ? "true" : "false")
        << "\n"
        << "auth_plugin = " << escapeToml(c.mysqlAuthPlugin) << "\n"
        << "result_memory = " << escapeToml(formatSize(c.mysqlResultMemory)) << "\n\n";
    out << "[thrift]\n"
        << "max_connections = " << c.thriftMaxConnections << "\n"
        << "idle_timeout = " << escapeToml(formatDuration(c.thriftIdleTimeout)) << "\n\n";
    out << "[tls]\n"
        << "cert_file = " << escapeToml(c.tlsCertFile.string()) << "\n"
        << "key_file = " << escapeToml(c.tlsKeyFile.string()) << "\n\n";
    out << "[security]\n"
        << "audit_log = " << escapeToml(c.auditLog.string()) << "\n"
        << "max_login_failures = " << c.maxLoginFailures << "\n"
        << "login_failure_window = " << escapeToml(formatDuration(c.loginFailureWindow)) << "\n"
        << "login_block_time = " << escapeToml(formatDuration(c.loginBlockTime)) << "\n"
        << "login_block_max = " << escapeToml(formatDuration(c.loginBlockMax)) << "\n\n";
    out << "[log]\n"
        << "level = " << escapeToml(c.logLevel) << "\n"
        << "file = " << escapeToml(c.logFile.string()) << "\n";
    return out.str();
}

fs::path auditLogPath(const Config& c) {
    return c.auditLog.empty() ? c.dataDir / "audit.log" : c.auditLog;
}

sql::DatabaseOptions toDatabaseOptions(const Config& c) {
    sql::DatabaseOptions o;
    o.engine = toEngineOptions(c);
    o.nodeName = c.nodeName;
    o.kvShards = c.kvShards;
    o.maxRequestBytes = static_cast<std::size_t>(c.maxRequestSize);
    o.statementTimeout = c.statementTimeout;
    o.maxActorsPerRequest = c.maxActorsPerRequest;
    return o;
}

sql::EngineOptions toEngineOptions(const Config& c) {
    sql::EngineOptions o;
    o.dataDir = c.dataDir;
    o.storage.initialMapSize = c.initialMapSize;
    o.storage.maxMapSize = c.maxMapSize;
    o.storage.fsync = c.fsync;
    o.fsyncInterval = c.fsyncInterval;
    o.executorThreads = c.executorThreads;
    o.maxOpenActors = c.maxOpenActors;
    o.pageCacheKiB = static_cast<std::size_t>((c.pageCacheSize + 1023) / 1024);
    o.metrics = &MetricsRegistry::global();
    return o;
}

namespace {

// Well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code points past U+10FFFF). A
// flag's value must be, so that --check-config prints a file that TOML can hold.
bool isUtf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = c < 0x80                 ? 1
                              : c >= 0xC2 && c <= 0xDF ? 2
                              : (c & 0xF0) == 0xE0     ? 3
                              : c >= 0xF0 && c <= 0xF4 ? 4
                                                       : 0;
        if (n == 0 || s.size() - i < n)
            return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80)
                return false;
        const auto c1 = static_cast<unsigned char>(n > 1 ? s[i + 1] : 0);
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
            (c == 0xF4 && c1 > 0x8F))
            return false;
        i += n;
    }
    return true;
}

CommandLine exitWith(int code, std::string message) {
    CommandLine r;
    r.action = CommandLine::Action::Exit;
    r.exitCode = code;
    r.message = std::move(message);
    if (!r.message.empty() && r.message.back() != '\n')
        r.message += '\n';
    return r;
}

Result<std::string> readFile(const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec))
        return Status(ErrorCode::InvalidArgument,
                      "cannot read config file " + path.string() + ": is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Status(ErrorCode::NotFound, "cannot read config file " + path.string() + ": " +
                                               std::generic_category().message(errno));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

} // namespace

CommandLine parseCommandLine(const std::vector<std::string>& args, const Config& defaults) {
    CLI::App app("troupe-server: a TroupeDB node (storage, SQL, MySQL/Thrift/HTTP servers)",
                 "troupe-server");
    app.set_version_flag("--version", "troupe-server " TROUPE_VERSION);
    app.footer("Flags override the config file, which overrides the defaults. Sizes take "
               "KiB/MiB/GiB/TiB, durations ms/s/min/h.\nExit codes: 0 clean shutdown, 1 failure "
               "at run time (port in use, data directory locked), 2 bad flags or config.\n"
               "Documentation: resources/docs/configuration.md and operations.md.");

    std::string configPath;
    app.add_option("--config", configPath, "read options from this TOML file (troupe.conf)")
        ->type_name("FILE");
    bool checkConfig = false;
    app.add_flag("--check-config", checkConfig,
                 "validate the configuration, print it as TOML and exit");

    const auto& specs = optionSpecs();
    std::vector<std::string> values(specs.size());
    std::vector<CLI::Option*> options(specs.size());
    for (std::size_t i = 0; i < specs.size(); ++i) {
        options[i] =
            app.add_option(std::string(specs[i].flag), values[i], std::string(specs[i].help))
                ->type_name(std::string(specs[i].valueName));
    }

    std::vector<const char*> argv;
    argv.reserve(args.size() + 1);
    for (const std::string& a : args)
        argv.push_back(a.c_str());
    if (argv.empty())
        argv.push_back("troupe-server");
    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
        std::ostringstream out;
        std::ostringstream err;
        int code = app.exit(e, out, err);
        if (code == 0)
            return exitWith(0, out.str());
        return exitWith(2, "troupe-server: " + err.str());
    }

    CommandLine result;
    result.config = defaults;
    Config& config = result.config;
    if (!configPath.empty()) {
        Result<std::string> text = readFile(configPath);
        if (!text)
            return exitWith(2, "troupe-server: " + text.status().message());
        fs::path base = fs::path(configPath).parent_path();
        Status s = applyConfigText(*text, configPath, base, config);
        if (!s)
            return exitWith(2, "troupe-server: " + s.message());
        config.configFile = configPath;
    }
    for (std::size_t i = 0; i < specs.size(); ++i) {
        if (options[i]->count() == 0)
            continue;
        if (!isUtf8(values[i]))
            return exitWith(2, "troupe-server: " + std::string(specs[i].flag) +
                                   ": not valid UTF-8 (troupe.conf, TOML, could not hold it)");
        RawValue v;
        v.text = values[i];
        v.fromFlag = true;
        std::string error = specs[i].apply(v, config);
        if (!error.empty())
            return exitWith(2, "troupe-server: " + std::string(specs[i].flag) + ": " + error);
    }
    if (Status s = validateConfig(config); !s)
        return exitWith(2, "troupe-server: " + s.message());
    if (checkConfig)
        return exitWith(0, renderConfig(config));
    return result;
}

} // namespace troupe::app
