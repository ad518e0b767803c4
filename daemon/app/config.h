#pragma once

// troupe-server's configuration: defaults, the troupe.conf TOML file and command-line flags
// (flags override the file, the file overrides the defaults), validated into one Config value.
// Everything here is a pure function of its inputs (the file named by --config is read, nothing
// else is touched), so tests call it without starting anything. Any thread.
//
// Every option is documented with its default in resources/troupe.conf and
// resources/docs/configuration.md; keep the three in step.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sql/database.h"
#include "sql/engine.h"
#include "storage/environment.h"

namespace troupe::app {

struct Config {
    std::filesystem::path dataDir; // defaultConfig(): platform::defaultDataDir()
    std::string nodeName = "node1@127.0.0.1";
    std::filesystem::path initFile; // run when the data directory is not initialised

    std::string listenAddress = "127.0.0.1"; // every listener binds here (IPv4 or IPv6 literal)
    std::uint16_t thriftPort = 33306;
    std::uint16_t mysqlPort = 33307;
    std::uint16_t nodePort = 44380;
    std::uint16_t httpPort = 33380;
    // A new connection must finish its handshake within this time: the MySQL handshake
    // response (and TLS), the first Thrift frame, the first HTTP request's headers.
    std::chrono::milliseconds handshakeTimeout{10000};
    std::size_t httpMaxConnections = 256;

    storage::FsyncMode fsync = storage::FsyncMode::Always;
    std::chrono::milliseconds fsyncInterval{1000}; // for FsyncMode::Interval
    std::uint64_t initialMapSize = 256ull << 20;   // bytes
    std::uint64_t maxMapSize = 0;                  // bytes; 0 = unlimited

    std::size_t maxOpenActors = 1024;
    std::uint64_t pageCacheSize = 512ull << 10; // bytes per open actor
    unsigned executorThreads = 0;               // 0 = number of cores (at least 2)
    unsigned kvShards = 4;                      // fixed at init
    std::uint64_t maxRequestSize = 16ull << 20; // bytes
    std::chrono::milliseconds statementTimeout{std::chrono::seconds(60)}; // 0 = no limit
    // Actors one request may hold; more fail with TooLarge (resources/docs/security.md).
    std::size_t maxActorsPerRequest = 10000;
    // Work waiting this long with no progress: /ready says 503 (resources/docs/operations.md).
    std::chrono::milliseconds stallTimeout{10000};

    std::size_t mysqlMaxConnections = 1000;
    std::chrono::milliseconds mysqlIdleTimeout{std::chrono::hours(8)}; // 0 = never
    bool mysqlRequireSecureTransport = false;
    std::string mysqlAuthPlugin = "mysql_native_password"; // offered in the handshake
    std::uint64_t mysqlResultMemory = 8ull << 20; // bytes of rows per result; 0 = unlimited

    std::size_t thriftMaxConnections = 1000;
    std::chrono::milliseconds thriftIdleTimeout{0}; // 0 = never (ActorDB's default)

    std::filesystem::path tlsCertFile; // PEM; empty (with tlsKeyFile) = no TLS
    std::filesystem::path tlsKeyFile;

    // [security] (resources/docs/security.md, "credentials")
    std::filesystem::path auditLog; // empty = <dataDir>/audit.log (auditLogPath())
    unsigned maxLoginFailures = 10; // per source within loginFailureWindow; 0 = no back-off
    std::chrono::milliseconds loginFailureWindow{std::chrono::minutes(10)};
    std::chrono::milliseconds loginBlockTime{std::chrono::minutes(1)}; // doubles per block
    std::chrono::milliseconds loginBlockMax{std::chrono::hours(1)};

    std::string logLevel = "info";
    std::filesystem::path logFile; // empty = stderr

    std::filesystem::path configFile; // the file that was read; empty if none

    bool operator==(const Config&) const = default;
};

// The built-in defaults (with the platform's data directory).
Config defaultConfig();

// "256MiB", "1GiB", "512KiB", "4096", "64 MB" -> bytes. Units are binary (K/KiB/KB = 1024, M,
// G, T likewise), case-insensitive; a plain number is bytes. Error text says what is accepted.
Result<std::uint64_t> parseSize(std::string_view text);
// "1s", "250ms", "2min", "1h", or a plain number of milliseconds.
Result<std::chrono::milliseconds> parseDuration(std::string_view text);
// The shortest exact form: 268435456 -> "256MiB", 1000 -> "1000B".
std::string formatSize(std::uint64_t bytes);
std::string formatDuration(std::chrono::milliseconds d);

// Applies the TOML document `text` on top of `config`. `sourceName` names the document in
// errors ("troupe.conf:7: storage.fsync: ..."); relative paths in it resolve against `baseDir`.
// Unknown keys, wrong types and bad values are errors (InvalidArgument) naming key and line.
Status applyConfigText(std::string_view text, const std::string& sourceName,
                       const std::filesystem::path& baseDir, Config& config);

// Cross-option checks (max map size >= initial map size, ...).
Status validateConfig(const Config& config);

// The configuration as a TOML document that applyConfigText() accepts (--check-config).
std::string renderConfig(const Config& config);

// The audit log's file: auditLog, or <dataDir>/audit.log when that is empty.
std::filesystem::path auditLogPath(const Config& config);

// The engine's options for this configuration (metrics go to MetricsRegistry::global()).
sql::EngineOptions toEngineOptions(const Config& config);
sql::DatabaseOptions toDatabaseOptions(const Config& config);

// What main() should do after reading the command line.
struct CommandLine {
    enum class Action {
        Run,  // start the server with `config`
        Exit, // print `message` (stdout if exitCode is 0, else stderr) and exit with exitCode
    };
    Action action = Action::Run;
    int exitCode = 0; // 0 for --help/--version/--check-config, 2 for any error
    std::string message;
    Config config;
};

// Parses the arguments (args[0] is the program name), reads the --config file if given, applies
// flags over it and validates. Never throws, never exits.
CommandLine parseCommandLine(const std::vector<std::string>& args,
                             const Config& defaults = defaultConfig());

} // namespace troupe::app
