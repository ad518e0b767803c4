// Runs a fuzz target's LLVMFuzzerTestOneInput over saved inputs without libFuzzer, so that any
// compiler can build it and CTest can replay a corpus in every build (under the dev preset with
// AddressSanitizer and UBSan). Arguments are files or directories (their regular files, sorted,
// not recursive). Exits non-zero when there is nothing to run, so that a missing or emptied
// corpus fails instead of passing vacuously; a crashing input stops the process as it would
// stop the fuzzer.
//
//   fuzz_mysql_codec_replay tests/fuzz/corpus/mysql_codec [more files or directories]

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

// Halt on the first UBSan report (the sanitizer reads this hook at start-up), as libFuzzer
// builds do with -fno-sanitize-recover: a report must fail the test, not scroll by.
extern "C" const char* __ubsan_default_options() {
    return "halt_on_error=1:print_stacktrace=1";
}

namespace {

namespace fs = std::filesystem;

// The files an argument names, or an error message.
bool collect(const fs::path& arg, std::vector<fs::path>& files) {
    std::error_code ec;
    if (fs::is_regular_file(arg, ec)) {
        files.push_back(arg);
        return true;
    }
    if (!fs::is_directory(arg, ec)) {
        std::fprintf(stderr, "replay: %s: no such file or directory\n", arg.c_str());
        return false;
    }
    std::vector<fs::path> found;
    for (const fs::directory_entry& e : fs::directory_iterator(arg, ec)) {
        if (e.is_regular_file(ec))
            found.push_back(e.path());
    }
    if (ec) {
        std::fprintf(stderr, "replay: %s: %s\n", arg.c_str(), ec.message().c_str());
        return false;
    }
    if (found.empty()) {
        std::fprintf(stderr, "replay: %s: no inputs in the directory\n", arg.c_str());
        return false;
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
    return true;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FILE|DIRECTORY...\n", argv[0]);
        return 2;
    }
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        if (!collect(argv[i], files))
            return 1;
    }
    std::size_t bytes = 0;
    for (const fs::path& file : files) {
        std::ifstream in(file, std::ios::binary);
        const std::string data{std::istreambuf_iterator<char>(in),
                               std::istreambuf_iterator<char>()};
        if (!in.good() && !in.eof()) {
            std::fprintf(stderr, "replay: %s: cannot read\n", file.c_str());
            return 1;
        }
        // A copy of exactly the input's size, so that reading past it is caught by ASan.
        std::vector<std::uint8_t> copy(data.begin(), data.end());
        LLVMFuzzerTestOneInput(copy.data(), copy.size());
        bytes += data.size();
    }
    std::printf("replay: ran %zu inputs (%zu bytes)\n", files.size(), bytes);
    return 0;
}
