// libFuzzer target for troupe-server's configuration (daemon/app/config.h): the troupe.conf TOML
// document, the command-line flags, and the size and duration values both take. The first byte
// picks a mode (by value modulo 3); the rest is that mode's input.
//
// Invariants beyond "no crash, no leak, no sanitizer report":
//   0 applyConfigText(): a document that applies and validates renders (renderConfig, what
//     --check-config prints) to a document that applies to the same Config.
//   1 parseCommandLine(): the arguments are the input split at NUL bytes (any --config flag is
//     dropped: the target reads no files). A command line that runs renders to a document
//     that applies to the same Config; a --check-config that succeeds prints one that applies.
//   2 parseSize() / parseDuration(): a value that parses formats (formatSize, formatDuration)
//     to text that parses to the same value; so does a number taken from the input's bytes.
//
// Built twice: troupe-fuzz-config with libFuzzer (the fuzz preset), and fuzz_config_replay with
// replay_main.cpp, which CTest runs over corpus/config/.

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.h"
#include "fuzz_input.h"

using namespace troupe;
using namespace troupe::fuzz;
using namespace troupe::app;

namespace {

constexpr std::size_t kMaxText = 16 * 1024;
const std::filesystem::path kBaseDir = "/fuzz/etc";

// The Config that `rendered` applies to on top of the defaults; it must apply and validate.
Config reapply(const std::string& rendered) {
    Config again = defaultConfig();
    // No base directory: a relative path given as a flag stays relative (to the working
    // directory), as it was on the command line; paths from a file are already resolved.
    Status s = applyConfigText(rendered, "rendered.conf", {}, again);
    if (s.isOk())
        s = validateConfig(again);
    if (!s.isOk())
        std::fprintf(stderr, "rendered config does not apply: %s\n%s\n", s.message().c_str(),
                     rendered.c_str());
    TROUPE_FUZZ_CHECK(s.isOk());
    return again;
}

void checkRoundTrip(const Config& config) {
    Config again = reapply(renderConfig(config));
    again.configFile = config.configFile; // not part of the document
    TROUPE_FUZZ_CHECK(again == config);
}

void fuzzFile(std::string_view text) {
    Config config = defaultConfig();
    if (!applyConfigText(text, "fuzz.conf", kBaseDir, config).isOk())
        return;
    if (!validateConfig(config).isOk())
        return;
    checkRoundTrip(config);
}

void fuzzFlags(std::string_view text) {
    std::vector<std::string> tokens;
    for (std::size_t start = 0; start <= text.size() && tokens.size() < 64;) {
        const std::size_t end = std::min(text.find('\0', start), text.size());
        tokens.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    std::vector<std::string> args = {"troupe-server"};
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i] == "--config")
            ++i; // and its value: the target reads no files
        else if (tokens[i].rfind("--config=", 0) != 0)
            args.push_back(tokens[i]);
    }
    if (text.find("check") != std::string_view::npos)
        args.push_back("--check-config");
    const CommandLine cl = parseCommandLine(args);
    if (cl.action == CommandLine::Action::Run) {
        checkRoundTrip(cl.config);
    } else if (cl.exitCode == 0 && cl.message.rfind("# effective configuration", 0) == 0) {
        (void)reapply(cl.message);
    }
}

void fuzzValues(FuzzInput& in) {
    std::uint64_t number = 0;
    const std::string_view raw = in.bytes(8);
    std::memcpy(&number, raw.data(), raw.size());
    const std::string_view text = in.rest();

    auto size = parseSize(text);
    if (size)
        TROUPE_FUZZ_CHECK(parseSize(formatSize(*size)).isOk() &&
                          *parseSize(formatSize(*size)) == *size);
    auto formatted = parseSize(formatSize(number));
    TROUPE_FUZZ_CHECK(formatted.isOk() && *formatted == number);

    auto duration = parseDuration(text);
    if (duration)
        TROUPE_FUZZ_CHECK(parseDuration(formatDuration(*duration)).isOk() &&
                          *parseDuration(formatDuration(*duration)) == *duration);
    const auto ms = std::chrono::milliseconds(std::int64_t(number >> 1)); // not negative
    auto again = parseDuration(formatDuration(ms));
    TROUPE_FUZZ_CHECK(again.isOk() && *again == ms);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzInput in(data, size);
    switch (in.byte() % 3) {
    case 0:
        fuzzFile(in.bytes(kMaxText));
        break;
    case 1:
        fuzzFlags(in.bytes(kMaxText));
        break;
    default:
        fuzzValues(in);
        break;
    }
    return 0;
}
