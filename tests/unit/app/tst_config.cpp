// Unit tests for daemon/app/config: defaults, size and duration parsing, the TOML file, flags over
// the file, one test row per kind of bad value (each names key and line, exit code 2), the
// rendered configuration round trip, and the shipped resources/troupe.conf and
// configuration.md staying in step with the code.

#include <QTemporaryDir>
#include <QTest>

#include <fstream>
#include <sstream>

#include "app/config.h"
#include "app/platform/platform.h"

using namespace troupe;
using namespace troupe::app;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

// Writes `text` to <dir>/troupe.conf and returns its path.
std::string writeConf(const QTemporaryDir& dir, const std::string& text) {
    std::string path = dir.path().toStdString() + "/troupe.conf";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    return path;
}

CommandLine parse(std::vector<std::string> args) {
    args.insert(args.begin(), "troupe-server");
    return parseCommandLine(args);
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The keys of a rendered configuration ("network.http_port", ...).
std::vector<std::string> renderedKeys() {
    std::vector<std::string> keys;
    std::istringstream in(renderConfig(defaultConfig()));
    std::string line;
    std::string section;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        if (line[0] == '[') {
            section = line.substr(1, line.find(']') - 1);
            continue;
        }
        std::string key = line.substr(0, line.find(' '));
        keys.push_back(section.empty() ? key : section + "." + key);
    }
    return keys;
}

} // namespace

class TestConfig : public QObject {
    Q_OBJECT
private slots:
    void defaults() {
        Config c = defaultConfig();
        QCOMPARE(c.dataDir, platform::defaultDataDir());
        QCOMPARE(c.listenAddress, std::string("127.0.0.1"));
        QCOMPARE(c.thriftPort, std::uint16_t(33306));
        QCOMPARE(c.mysqlPort, std::uint16_t(33307));
        QCOMPARE(c.nodePort, std::uint16_t(44380));
        QCOMPARE(c.httpPort, std::uint16_t(33380));
        QVERIFY(c.fsync == storage::FsyncMode::Always);
        QCOMPARE(c.fsyncInterval, 1000ms);
        QCOMPARE(c.initialMapSize, 256 * kMiB);
        QCOMPARE(c.maxMapSize, std::uint64_t(0));
        QCOMPARE(c.maxOpenActors, std::size_t(1024));
        QCOMPARE(c.pageCacheSize, std::uint64_t(512 * 1024));
        QCOMPARE(c.executorThreads, 0u);
        QCOMPARE(c.logLevel, std::string("info"));
        QVERIFY(c.logFile.empty());

        CommandLine none = parse({});
        QVERIFY(none.action == CommandLine::Action::Run);
        QVERIFY(none.config == c);
    }

    void sizes_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qulonglong>("bytes"); // 0 with ok=false for errors
        QTest::addColumn<bool>("ok");
        QTest::newRow("bytes") << "4096" << 4096ull << true;
        QTest::newRow("B") << "10B" << 10ull << true;
        QTest::newRow("KiB") << "512KiB" << 512ull * 1024 << true;
        QTest::newRow("MiB") << "256MiB" << 256ull * kMiB << true;
        QTest::newRow("GiB") << "1GiB" << 1024ull * kMiB << true;
        QTest::newRow("TiB") << "2TiB" << 2ull * 1024 * 1024 * kMiB << true;
        QTest::newRow("MB is binary") << "64MB" << 64ull * kMiB << true;
        QTest::newRow("lower case") << "1gib" << 1024ull * kMiB << true;
        QTest::newRow("short") << "8k" << 8192ull << true;
        QTest::newRow("spaces") << " 2 MiB " << 2ull * kMiB << true;
        QTest::newRow("zero") << "0" << 0ull << true;
        QTest::newRow("empty") << "" << 0ull << false;
        QTest::newRow("no number") << "MiB" << 0ull << false;
        QTest::newRow("negative") << "-1MiB" << 0ull << false;
        QTest::newRow("fraction") << "1.5GiB" << 0ull << false;
        QTest::newRow("unknown unit") << "3XB" << 0ull << false;
        QTest::newRow("overflow") << "99999999999TiB" << 0ull << false;
        QTest::newRow("huge number") << "999999999999999999999999" << 0ull << false;
    }

    void sizes() {
        QFETCH(QString, text);
        QFETCH(qulonglong, bytes);
        QFETCH(bool, ok);
        Result<std::uint64_t> r = parseSize(text.toStdString());
        QCOMPARE(r.isOk(), ok);
        if (ok)
            QCOMPARE(qulonglong(*r), bytes);
        else
            QVERIFY(r.status().message().find(text.toStdString()) != std::string::npos);
    }

    void durations() {
        QCOMPARE(*parseDuration("250ms"), 250ms);
        QCOMPARE(*parseDuration("1s"), 1000ms);
        QCOMPARE(*parseDuration("2min"), 120000ms);
        QCOMPARE(*parseDuration("1h"), 3600000ms);
        QCOMPARE(*parseDuration("100"), 100ms);
        QVERIFY(!parseDuration("1d").isOk());
        QVERIFY(!parseDuration("s").isOk());
        QVERIFY(!parseDuration("").isOk());
    }

    void formatting() {
        QCOMPARE(formatSize(256 * kMiB), std::string("256MiB"));
        QCOMPARE(formatSize(1000), std::string("1000B"));
        QCOMPARE(formatSize(0), std::string("0B"));
        QCOMPARE(formatSize(1536 * 1024), std::string("1536KiB"));
        QCOMPARE(formatDuration(1000ms), std::string("1s"));
        QCOMPARE(formatDuration(1500ms), std::string("1500ms"));
        QCOMPARE(storage::fsyncModeName(storage::FsyncMode::Interval),
                 std::string_view("interval"));
    }

    void fullFile() {
        QTemporaryDir dir;
        std::string path = writeConf(dir, R"(# a comment
data_dir = "/srv/troupe"

[network]
listen = "0.0.0.0"
thrift_port = 1001
mysql_port = 1002
node_port = 1003
http_port = 1004

[storage]
fsync = "interval"
fsync_interval = "250ms"
initial_map_size = "1GiB"
max_map_size = "64GiB"

[sql]
max_open_actors = 50
page_cache = "2MiB"
executor_threads = 3

[mysql]
max_connections = 20
idle_timeout = "90s"
require_secure_transport = true
auth_plugin = "caching_sha2_password"
result_memory = "1MiB"

[tls]
cert_file = "certs/server.pem"
key_file = "/etc/troupe/server.key"

[log]
level = "debug"
file = "/var/log/troupe.log"
)");
        CommandLine r = parse({"--config", path});
        QVERIFY2(r.action == CommandLine::Action::Run, r.message.c_str());
        const Config& c = r.config;
        QCOMPARE(c.dataDir.string(), std::string("/srv/troupe"));
        QCOMPARE(c.listenAddress, std::string("0.0.0.0"));
        QCOMPARE(c.thriftPort, std::uint16_t(1001));
        QCOMPARE(c.mysqlPort, std::uint16_t(1002));
        QCOMPARE(c.nodePort, std::uint16_t(1003));
        QCOMPARE(c.httpPort, std::uint16_t(1004));
        QVERIFY(c.fsync == storage::FsyncMode::Interval);
        QCOMPARE(c.fsyncInterval, 250ms);
        QCOMPARE(c.initialMapSize, 1024 * kMiB);
        QCOMPARE(c.maxMapSize, 64 * 1024 * kMiB);
        QCOMPARE(c.maxOpenActors, std::size_t(50));
        QCOMPARE(c.pageCacheSize, 2 * kMiB);
        QCOMPARE(c.executorThreads, 3u);
        QCOMPARE(c.mysqlMaxConnections, std::size_t(20));
        QCOMPARE(c.mysqlIdleTimeout, 90s);
        QVERIFY(c.mysqlRequireSecureTransport);
        QCOMPARE(c.mysqlAuthPlugin, std::string("caching_sha2_password"));
        QCOMPARE(c.mysqlResultMemory, kMiB);
        QCOMPARE(c.tlsCertFile.string(), dir.path().toStdString() + "/certs/server.pem");
        QCOMPARE(c.tlsKeyFile.string(), std::string("/etc/troupe/server.key"));
        QCOMPARE(c.logLevel, std::string("debug"));
        QCOMPARE(c.logFile.string(), std::string("/var/log/troupe.log"));
        QCOMPARE(c.configFile.string(), path);
    }

    void integersAndUnlimitedAreAccepted() {
        QTemporaryDir dir;
        std::string path = writeConf(dir, "[storage]\ninitial_map_size = 2097152\n"
                                          "max_map_size = \"unlimited\"\nfsync_interval = 20\n"
                                          "[sql]\npage_cache = 0\n");
        CommandLine r = parse({"--config", path});
        QVERIFY2(r.action == CommandLine::Action::Run, r.message.c_str());
        QCOMPARE(r.config.initialMapSize, 2 * kMiB);
        QCOMPARE(r.config.maxMapSize, std::uint64_t(0));
        QCOMPARE(r.config.fsyncInterval, 20ms);
        QCOMPARE(r.config.pageCacheSize, std::uint64_t(0));
    }

    void relativePathsResolveAgainstTheFile() {
        QTemporaryDir dir;
        std::string path = writeConf(dir, "data_dir = \"data\"\n[log]\nfile = \"logs/t.log\"\n");
        CommandLine r = parse({"--config", path});
        QVERIFY2(r.action == CommandLine::Action::Run, r.message.c_str());
        std::filesystem::path base = dir.path().toStdString();
        QCOMPARE(r.config.dataDir, base / "data");
        QCOMPARE(r.config.logFile, base / "logs/t.log");
        // Flags stay relative to the working directory.
        CommandLine flag = parse({"--config", path, "--data-dir", "here"});
        QCOMPARE(flag.config.dataDir.string(), std::string("here"));
    }

    void flagsOverrideTheFile() {
        QTemporaryDir dir;
        std::string path = writeConf(dir, "data_dir = \"/from/file\"\n[network]\nhttp_port = 1000\n"
                                          "thrift_port = 1001\n[storage]\nfsync = \"off\"\n"
                                          "[log]\nlevel = \"warn\"\n");
        CommandLine r = parse({"--config",
                               path,
                               "--data-dir",
                               "/from/flag",
                               "--http-port",
                               "2000",
                               "--fsync=interval",
                               "--log-level",
                               "error",
                               "--listen",
                               "::1",
                               "--mysql-port",
                               "2002",
                               "--node-port",
                               "2003",
                               "--log-file",
                               "/tmp/x.log",
                               "--fsync-interval",
                               "5s",
                               "--initial-map-size",
                               "512MiB",
                               "--max-map-size",
                               "1GiB",
                               "--max-open-actors",
                               "7",
                               "--page-cache",
                               "1MiB",
                               "--executor-threads",
                               "4",
                               "--mysql-idle-timeout",
                               "0",
                               "--mysql-require-secure-transport",
                               "on",
                               "--tls-cert",
                               "/c.pem",
                               "--tls-key",
                               "/k.pem"});
        QVERIFY2(r.action == CommandLine::Action::Run, r.message.c_str());
        const Config& c = r.config;
        QCOMPARE(c.dataDir.string(), std::string("/from/flag"));
        QCOMPARE(c.httpPort, std::uint16_t(2000));
        QCOMPARE(c.thriftPort, std::uint16_t(1001)); // from the file, no flag
        QCOMPARE(c.mysqlPort, std::uint16_t(2002));
        QCOMPARE(c.nodePort, std::uint16_t(2003));
        QCOMPARE(c.mysqlIdleTimeout, 0ms);
        QVERIFY(c.mysqlRequireSecureTransport);
        QCOMPARE(c.tlsCertFile.string(), std::string("/c.pem"));
        QCOMPARE(c.listenAddress, std::string("::1"));
        QVERIFY(c.fsync == storage::FsyncMode::Interval);
        QCOMPARE(c.fsyncInterval, 5000ms);
        QCOMPARE(c.initialMapSize, 512 * kMiB);
        QCOMPARE(c.maxMapSize, 1024 * kMiB);
        QCOMPARE(c.maxOpenActors, std::size_t(7));
        QCOMPARE(c.pageCacheSize, kMiB);
        QCOMPARE(c.executorThreads, 4u);
        QCOMPARE(c.logLevel, std::string("error"));
        QCOMPARE(c.logFile.string(), std::string("/tmp/x.log"));
    }

    // Every kind of mistake in the file: exit code 2 and a message naming file, line and key.
    void badFileValues_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unknown top-level key") << "data_dir = \"/d\"\ndatadir = \"/d\"\n"
                                               << "troupe.conf:2: unknown key 'datadir'";
        QTest::newRow("unknown key in section") << "[network]\n\nhtp_port = 1\n"
                                                << "troupe.conf:3: unknown key 'network.htp_port'";
        QTest::newRow("unknown section") << "[raft]\nticks = 1\n"
                                         << "troupe.conf:1: unknown key 'raft'";
        QTest::newRow("section as value") << "network = 5\n"
                                          << "troupe.conf:1: 'network' must be a table";
        QTest::newRow("syntax error") << "[network]\nhttp_port = = 1\n"
                                      << "troupe.conf:2:13: TOML syntax error";
        QTest::newRow("duplicate key") << "[log]\nlevel = \"info\"\nlevel = \"debug\"\n"
                                       << "troupe.conf:3:";
        QTest::newRow("data_dir not a string") << "data_dir = 5\n"
                                               << "troupe.conf:1: data_dir: expected a string, "
                                                  "got the integer 5";
        QTest::newRow("data_dir empty") << "data_dir = \"\"\n"
                                        << "troupe.conf:1: data_dir: must not be empty";
        QTest::newRow("listen not an address")
            << "[network]\nlisten = \"localhost\"\n"
            << "troupe.conf:2: network.listen: expected an IPv4 or IPv6 address";
        QTest::newRow("port too large") << "[network]\nhttp_port = 70000\n"
                                        << "troupe.conf:2: network.http_port: expected an integer "
                                           "from 1 to 65535, got 70000";
        QTest::newRow("port zero") << "[network]\nthrift_port = 0\n"
                                   << "troupe.conf:2: network.thrift_port: expected an integer";
        QTest::newRow("port as string") << "[network]\nmysql_port = \"33307\"\n"
                                        << "troupe.conf:2: network.mysql_port: expected an "
                                           "integer from 1 to 65535, got the string \"33307\"";
        QTest::newRow("node port float") << "[network]\nnode_port = 1.5\n"
                                         << "troupe.conf:2: network.node_port: expected an integer "
                                            "from 1 to 65535, got a floating-point number";
        QTest::newRow("fsync mode") << "[storage]\nfsync = \"sometimes\"\n"
                                    << "troupe.conf:2: storage.fsync: expected always, interval "
                                       "or off, got \"sometimes\"";
        QTest::newRow("fsync bool") << "[storage]\nfsync = true\n"
                                    << "troupe.conf:2: storage.fsync: expected a string, got the "
                                       "boolean true";
        QTest::newRow("fsync interval unit") << "[storage]\nfsync_interval = \"1d\"\n"
                                             << "troupe.conf:2: storage.fsync_interval: expected "
                                                "a duration";
        QTest::newRow("fsync interval zero") << "[storage]\nfsync_interval = 0\n"
                                             << "troupe.conf:2: storage.fsync_interval: expected "
                                                "a duration from 1ms to 1h, got 0ms";
        QTest::newRow("map size unit") << "[storage]\ninitial_map_size = \"256MeB\"\n"
                                       << "troupe.conf:2: storage.initial_map_size: expected a "
                                          "size such as";
        QTest::newRow("map size too small") << "[storage]\ninitial_map_size = \"64KiB\"\n"
                                            << "troupe.conf:2: storage.initial_map_size: expected "
                                               "a size from 1MiB to 1024TiB, got 64KiB";
        QTest::newRow("max map size negative") << "[storage]\nmax_map_size = -5\n"
                                               << "troupe.conf:2: storage.max_map_size: expected "
                                                  "a size, got -5";
        QTest::newRow("max open actors zero") << "[sql]\nmax_open_actors = 0\n"
                                              << "troupe.conf:2: sql.max_open_actors: expected an "
                                                 "integer from 1 to 10000000, got 0";
        QTest::newRow("page cache array") << "[sql]\npage_cache = [1]\n"
                                          << "troupe.conf:2: sql.page_cache: expected a size "
                                             "such as \"256MiB\", got an array";
        QTest::newRow("page cache too large") << "[sql]\npage_cache = \"2GiB\"\n"
                                              << "troupe.conf:2: sql.page_cache: expected a size "
                                                 "from 0B to 1GiB, got 2GiB";
        QTest::newRow("executor threads") << "[sql]\nexecutor_threads = 5000\n"
                                          << "troupe.conf:2: sql.executor_threads: expected an "
                                             "integer from 0 to 1024, got 5000";
        QTest::newRow("log level") << "[log]\nlevel = \"verbose\"\n"
                                   << "troupe.conf:2: log.level: expected trace, debug, info, "
                                      "warn, error, critical or off, got \"verbose\"";
        QTest::newRow("log file") << "[log]\nfile = false\n"
                                  << "troupe.conf:2: log.file: expected a string, got the boolean "
                                     "false";
        QTest::newRow("secure transport as string")
            << "[mysql]\nrequire_secure_transport = \"yes\"\n"
            << "troupe.conf:2: mysql.require_secure_transport: expected true or false, got the "
               "string \"yes\"";
        QTest::newRow("auth plugin") << "[mysql]\nauth_plugin = \"sha256_password\"\n"
                                     << "troupe.conf:2: mysql.auth_plugin: expected "
                                        "mysql_native_password or caching_sha2_password";
        QTest::newRow("max connections zero") << "[mysql]\nmax_connections = 0\n"
                                              << "troupe.conf:2: mysql.max_connections: "
                                                 "expected an integer from 1 to 100000, got 0";
        QTest::newRow("idle timeout unit") << "[mysql]\nidle_timeout = \"1 fortnight\"\n"
                                           << "troupe.conf:2: mysql.idle_timeout: expected a "
                                              "duration";
        QTest::newRow("cert without key") << "[tls]\ncert_file = \"/c.pem\"\n"
                                          << "tls.cert_file and tls.key_file go together";
        QTest::newRow("secure transport without tls")
            << "[mysql]\nrequire_secure_transport = true\n"
            << "mysql.require_secure_transport needs TLS";
        QTest::newRow("max below initial")
            << "[storage]\ninitial_map_size = \"1GiB\"\nmax_map_size = \"512MiB\"\n"
            << "storage.max_map_size (512MiB) is smaller than storage.initial_map_size (1GiB)";
        QTest::newRow("same port twice") << "[network]\nhttp_port = 33306\n"
                                         << "network.thrift_port and network.http_port are both "
                                            "33306";
    }

    void badFileValues() {
        QFETCH(QString, text);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        std::string path = writeConf(dir, text.toStdString());
        CommandLine r = parse({"--config", path});
        QVERIFY(r.action == CommandLine::Action::Exit);
        QCOMPARE(r.exitCode, 2);
        std::string want = expected.toStdString();
        if (want.rfind("troupe.conf:", 0) == 0)
            want = dir.path().toStdString() + "/" + want; // messages name the file as given
        QVERIFY2(r.message.find(want) != std::string::npos,
                 ("got: " + r.message + "\nwanted: " + want).c_str());
    }

    void badFlags_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unknown flag") << QStringList{"--bogus"} << "--bogus";
        QTest::newRow("positional") << QStringList{"extra"} << "extra";
        QTest::newRow("missing value") << QStringList{"--http-port"} << "--http-port";
        QTest::newRow("port text") << QStringList{"--http-port", "web"}
                                   << "--http-port: expected an integer from 1 to 65535, got "
                                      "\"web\"";
        QTest::newRow("port range") << QStringList{"--thrift-port", "65536"}
                                    << "--thrift-port: expected an integer from 1 to 65535, got "
                                       "65536";
        QTest::newRow("fsync") << QStringList{"--fsync", "never"}
                               << "--fsync: expected always, interval or off, got \"never\"";
        QTest::newRow("listen") << QStringList{"--listen", "my-host"}
                                << "--listen: expected an IPv4 or IPv6 address";
        QTest::newRow("log level") << QStringList{"--log-level", "loud"} << "--log-level: expected";
        QTest::newRow("size") << QStringList{"--max-map-size", "lots"}
                              << "--max-map-size: expected a size";
        QTest::newRow("duration") << QStringList{"--fsync-interval", "soon"}
                                  << "--fsync-interval: expected a duration";
        QTest::newRow("count") << QStringList{"--max-open-actors", "-3"}
                               << "--max-open-actors: expected an integer from 1 to 10000000";
        QTest::newRow("bool flag") << QStringList{"--mysql-require-secure-transport", "maybe"}
                                   << "--mysql-require-secure-transport: expected true or false, "
                                      "got \"maybe\"";
        QTest::newRow("empty data dir")
            << QStringList{"--data-dir", ""} << "--data-dir: must not be empty";
        QTest::newRow("missing config file") << QStringList{"--config", "/nonexistent/t.conf"}
                                             << "cannot read config file /nonexistent/t.conf";
    }

    void badFlags() {
        QFETCH(QStringList, args);
        QFETCH(QString, expected);
        std::vector<std::string> v;
        for (const QString& a : args)
            v.push_back(a.toStdString());
        CommandLine r = parse(v);
        QVERIFY(r.action == CommandLine::Action::Exit);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.message.find(expected.toStdString()) != std::string::npos, r.message.c_str());
    }

    void helpAndVersion() {
        CommandLine help = parse({"--help"});
        QVERIFY(help.action == CommandLine::Action::Exit);
        QCOMPARE(help.exitCode, 0);
        for (const char* flag :
             {"--config", "--data-dir", "--listen", "--thrift-port", "--mysql-port", "--node-port",
              "--http-port", "--log-level", "--log-file", "--fsync", "--version", "--check-config"})
            QVERIFY2(help.message.find(flag) != std::string::npos, flag);

        CommandLine version = parse({"--version"});
        QCOMPARE(version.exitCode, 0);
        QCOMPARE(version.message, std::string("troupe-server " TROUPE_VERSION "\n"));
    }

    void checkConfigPrintsARoundTrip() {
        CommandLine r = parse({"--check-config", "--data-dir", "/x y/\"quoted\"", "--fsync", "off",
                               "--max-map-size", "4GiB", "--log-file", "/l.log"});
        QVERIFY(r.action == CommandLine::Action::Exit);
        QCOMPARE(r.exitCode, 0);
        Config reparsed = defaultConfig();
        Status s = applyConfigText(r.message, "rendered", {}, reparsed);
        QVERIFY2(s.isOk(), s.toString().c_str());
        CommandLine direct = parse({"--data-dir", "/x y/\"quoted\"", "--fsync", "off",
                                    "--max-map-size", "4GiB", "--log-file", "/l.log"});
        QVERIFY(reparsed == direct.config);
    }

    // Found by the config fuzzer: a flag value that is not UTF-8 was accepted, and
    // --check-config then printed a troupe.conf that troupe-server cannot read (TOML is UTF-8).
    void checkConfigPrintedAnUnreadableFileForANonUtf8Flag() {
        for (const char* bad :
             {"a\xff", "\xc3", "\xe0\x80\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
            CommandLine r = parse({"--check-config", "--data-dir", bad});
            QCOMPARE(r.exitCode, 2);
            QVERIFY2(r.message.find("--data-dir: not valid UTF-8") != std::string::npos,
                     r.message.c_str());
        }
        CommandLine ok = parse({"--check-config", "--data-dir", "/n\xc3\xa9\xf0\x9f\x98\x80"});
        QCOMPARE(ok.exitCode, 0);
        Config reparsed = defaultConfig();
        QVERIFY(applyConfigText(ok.message, "rendered", {}, reparsed).isOk());
        QCOMPARE(reparsed.dataDir.string(), std::string("/n\xc3\xa9\xf0\x9f\x98\x80"));
    }

    void engineOptions() {
        Config c = defaultConfig();
        c.dataDir = "/d";
        c.fsync = storage::FsyncMode::Off;
        c.fsyncInterval = 30ms;
        c.initialMapSize = 8 * kMiB;
        c.maxMapSize = 16 * kMiB;
        c.executorThreads = 3;
        c.maxOpenActors = 9;
        c.pageCacheSize = 1500; // rounds up to whole KiB
        sql::EngineOptions o = toEngineOptions(c);
        QCOMPARE(o.dataDir.string(), std::string("/d"));
        QVERIFY(o.storage.fsync == storage::FsyncMode::Off);
        QCOMPARE(o.fsyncInterval, 30ms);
        QCOMPARE(o.storage.initialMapSize, 8 * kMiB);
        QCOMPARE(o.storage.maxMapSize, 16 * kMiB);
        QCOMPARE(o.executorThreads, 3u);
        QCOMPARE(o.maxOpenActors, std::size_t(9));
        QCOMPARE(o.pageCacheKiB, std::size_t(2));
        QVERIFY(o.metrics == &MetricsRegistry::global());
    }

    // resources/troupe.conf documents every default as a commented-out line: uncommented, it
    // must parse and give exactly the defaults (data_dir aside, which depends on the platform).
    void shippedConfigMatchesDefaults() {
        std::string shipped = readFile(TROUPE_SOURCE_DIR "/resources/troupe.conf");
        QVERIFY(!shipped.empty());
        Config asShipped = defaultConfig();
        QVERIFY(applyConfigText(shipped, "troupe.conf", {}, asShipped).isOk());
        QVERIFY(asShipped == defaultConfig()); // all commented out: nothing changes

        std::istringstream in(shipped);
        std::string line;
        std::string uncommented;
        while (std::getline(in, line)) {
            // "# key = value" lines are settings; "## ..." and "# text" are prose.
            bool setting = line.rfind("# ", 0) == 0 && line.find(" = ") != std::string::npos &&
                           line.find(' ', 2) == line.find(" = ");
            bool section = line.rfind("[", 0) == 0;
            if (setting)
                uncommented += line.substr(2) + "\n";
            else if (section)
                uncommented += line + "\n";
        }
        Config parsed = defaultConfig();
        Status s = applyConfigText(uncommented, "troupe.conf (uncommented)", {}, parsed);
        QVERIFY2(s.isOk(), s.toString().c_str());
        parsed.dataDir = defaultConfig().dataDir;
        QVERIFY2(parsed == defaultConfig(), renderConfig(parsed).c_str());
        for (const std::string& key : renderedKeys()) {
            std::string leaf = key.substr(key.find('.') + 1);
            QVERIFY2(uncommented.find(leaf + " = ") != std::string::npos, key.c_str());
        }
    }

    void docsNameEveryOption() {
        std::string doc = readFile(TROUPE_SOURCE_DIR "/resources/docs/configuration.md");
        QVERIFY(!doc.empty());
        for (const std::string& key : renderedKeys())
            QVERIFY2(doc.find("`" + key + "`") != std::string::npos, key.c_str());
        for (const char* flag : {"--config",
                                 "--data-dir",
                                 "--listen",
                                 "--thrift-port",
                                 "--mysql-port",
                                 "--node-port",
                                 "--http-port",
                                 "--fsync",
                                 "--fsync-interval",
                                 "--initial-map-size",
                                 "--max-map-size",
                                 "--max-open-actors",
                                 "--page-cache",
                                 "--executor-threads",
                                 "--log-level",
                                 "--log-file",
                                 "--check-config",
                                 "--version",
                                 "--mysql-max-connections",
                                 "--mysql-idle-timeout",
                                 "--mysql-require-secure-transport",
                                 "--mysql-auth-plugin",
                                 "--tls-cert",
                                 "--tls-key",
                                 "--mysql-result-memory"})
            QVERIFY2(doc.find(flag) != std::string::npos, flag);
    }
};

QTEST_APPLESS_MAIN(TestConfig)
#include "tst_config.moc"
