// Support for troupe-storage-bench: load runner, latency summaries, the disk floor, process
// memory and machine description (see bench_support.h).

#include "bench_support.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>

#if defined(_WIN32)
#include <io.h>
#else
#include <sys/utsname.h>
#include <unistd.h>
#endif
#if defined(__linux__)
#include <sys/vfs.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace troupe::bench {

namespace {

double seconds(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

void sleepFor(double s) {
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

// One line "Key:   value" of a /proc file, or empty.
std::string procField(const char* file, const std::string& key) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, key.size(), key) != 0)
            continue;
        // "VmRSS:   1 kB" in status files, "model name\t: ..." in cpuinfo.
        const std::size_t colon = line.find_first_not_of(" \t", key.size());
        if (colon == std::string::npos || line[colon] != ':')
            continue;
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        return value;
    }
    return {};
}

// "123456 kB" -> bytes.
std::uint64_t kibField(const char* file, const std::string& key) {
    const std::string v = procField(file, key);
    return v.empty() ? 0 : std::strtoull(v.c_str(), nullptr, 10) * 1024;
}

// Makes what was written to `fd` durable: data and the metadata needed to read it back.
int syncFile(int fd) {
#if defined(_WIN32)
    return _commit(fd);
#elif defined(__APPLE__)
    return fcntl(fd, F_FULLFSYNC);
#elif defined(__linux__) || (defined(_POSIX_SYNCHRONIZED_IO) && _POSIX_SYNCHRONIZED_IO > 0)
    return fdatasync(fd);
#else
    return fsync(fd);
#endif
}

} // namespace

const char* durableSyncCall() {
#if defined(_WIN32)
    return "_commit (FlushFileBuffers)";
#elif defined(__APPLE__)
    return "fcntl(F_FULLFSYNC)";
#elif defined(__linux__) || (defined(_POSIX_SYNCHRONIZED_IO) && _POSIX_SYNCHRONIZED_IO > 0)
    return "fdatasync";
#else
    return "fsync";
#endif
}

void summarizeLatencies(std::vector<std::int64_t>& nanos, CellResult& result) {
    if (nanos.empty())
        return;
    std::sort(nanos.begin(), nanos.end());
    // Nearest rank: the smallest sample with at least q of the samples at or below it.
    auto rank = [&](double q) {
        const auto n = double(nanos.size());
        const auto i = std::size_t(std::max(1.0, std::ceil(q * n))) - 1;
        return double(nanos[std::min(i, nanos.size() - 1)]) / 1000.0;
    };
    result.p50Us = rank(0.50);
    result.p95Us = rank(0.95);
    result.p99Us = rank(0.99);
    result.maxUs = double(nanos.back()) / 1000.0;
    double sum = 0;
    for (std::int64_t v : nanos)
        sum += double(v);
    result.meanUs = sum / double(nanos.size()) / 1000.0;
}

std::size_t LatencyHistogram::bucketOf(std::uint64_t nanos) {
    constexpr std::uint64_t kSub = 1u << kSubBits;
    if (nanos < kSub)
        return std::size_t(nanos);
    int exponent = 63;
    while (!(nanos >> exponent))
        --exponent;
    const int shift = exponent - kSubBits;
    const std::size_t sub = std::size_t((nanos >> shift) & (kSub - 1));
    return (std::size_t(shift + 1) << kSubBits) + sub;
}

std::uint64_t LatencyHistogram::upperBound(std::size_t bucket) {
    constexpr std::size_t kSub = std::size_t(1) << kSubBits;
    if (bucket < kSub)
        return bucket + 1;
    const int shift = int(bucket >> kSubBits) - 1;
    const std::uint64_t low = std::uint64_t(kSub + (bucket & (kSub - 1))) << shift;
    return low + (std::uint64_t(1) << shift);
}

void LatencyHistogram::record(std::int64_t nanos) {
    const std::uint64_t v = nanos > 0 ? std::uint64_t(nanos) : 0;
    m_buckets[std::min(bucketOf(v), kBuckets - 1)].fetch_add(1, std::memory_order_relaxed);
    m_count.fetch_add(1, std::memory_order_relaxed);
    m_sum.fetch_add(v, std::memory_order_relaxed);
    std::uint64_t seen = m_max.load(std::memory_order_relaxed);
    while (v > seen && !m_max.compare_exchange_weak(seen, v, std::memory_order_relaxed)) {
    }
}

void LatencyHistogram::summarize(CellResult& result) const {
    const std::uint64_t n = count();
    if (n == 0)
        return;
    auto rank = [&](double q) {
        const auto wanted = std::uint64_t(std::max(1.0, std::ceil(q * double(n))));
        std::uint64_t seen = 0;
        for (std::size_t b = 0; b < kBuckets; ++b) {
            seen += m_buckets[b].load(std::memory_order_relaxed);
            if (seen >= wanted)
                return double(upperBound(b)) / 1000.0;
        }
        return double(m_max.load()) / 1000.0;
    };
    result.p50Us = rank(0.50);
    result.p95Us = rank(0.95);
    result.p99Us = rank(0.99);
    result.maxUs = double(m_max.load()) / 1000.0;
    result.meanUs = double(m_sum.load()) / double(n) / 1000.0;
}

CellResult medianOf(std::vector<CellResult> runs) {
    if (runs.empty())
        return {};
    std::vector<double> repeats;
    std::uint64_t errors = 0;
    std::string firstError;
    for (const CellResult& r : runs) {
        repeats.push_back(r.opsPerSec);
        errors += r.errors;
        if (firstError.empty())
            firstError = r.firstError;
    }
    std::sort(runs.begin(), runs.end(),
              [](const CellResult& a, const CellResult& b) { return a.opsPerSec < b.opsPerSec; });
    CellResult median = runs[(runs.size() - 1) / 2];
    median.errors = errors;
    median.firstError = firstError;
    if (repeats.size() > 1)
        median.repeats = std::move(repeats);
    return median;
}

CellResult runClosedLoop(unsigned threads, double warmupSeconds, double measureSeconds,
                         const Operation& op) {
    // 0 = warm-up, 1 = measuring, 2 = stop.
    std::atomic<int> phase{0};
    std::vector<std::vector<std::int64_t>> samples(threads);
    std::vector<std::uint64_t> errors(threads, 0);
    std::vector<std::string> firstErrors(threads);
    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            std::vector<std::int64_t>& mine = samples[t];
            mine.reserve(1 << 16);
            while (phase.load(std::memory_order_relaxed) != 2) {
                const Clock::time_point start = Clock::now();
                std::string error = op(t);
                const Clock::time_point end = Clock::now();
                if (!error.empty()) {
                    if (errors[t]++ == 0)
                        firstErrors[t] = std::move(error);
                    continue;
                }
                if (phase.load(std::memory_order_relaxed) == 1)
                    mine.push_back(
                        std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
            }
        });
    }
    sleepFor(warmupSeconds);
    phase.store(1);
    const Clock::time_point measureStart = Clock::now();
    sleepFor(measureSeconds);
    phase.store(2);
    const Clock::time_point measureEnd = Clock::now();
    for (std::thread& w : workers)
        w.join();

    CellResult result;
    result.threads = threads;
    result.seconds = seconds(measureEnd - measureStart);
    std::vector<std::int64_t> all;
    for (unsigned t = 0; t < threads; ++t) {
        all.insert(all.end(), samples[t].begin(), samples[t].end());
        result.errors += errors[t];
        if (result.firstError.empty())
            result.firstError = firstErrors[t];
    }
    result.ops = all.size();
    result.opsPerSec = result.seconds > 0 ? double(result.ops) / result.seconds : 0;
    summarizeLatencies(all, result);
    return result;
}

namespace {

#if defined(_WIN32)
int openForWrite(const std::filesystem::path& file) {
    return _open(file.string().c_str(), _O_CREAT | _O_TRUNC | _O_RDWR | _O_BINARY,
                 _S_IREAD | _S_IWRITE);
}
std::int64_t writeAt(int fd, const char* data, std::size_t size, std::int64_t offset) {
    if (_lseeki64(fd, offset, SEEK_SET) < 0)
        return -1;
    return _write(fd, data, unsigned(size));
}
int closeFile(int fd) {
    return _close(fd);
}
#else
int openForWrite(const std::filesystem::path& file) {
    return ::open(file.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0644);
}
std::int64_t writeAt(int fd, const char* data, std::size_t size, std::int64_t offset) {
    return ::pwrite(fd, data, size, off_t(offset));
}
int closeFile(int fd) {
    return ::close(fd);
}
#endif

constexpr std::size_t kBlock = 4096;
constexpr std::int64_t kOverwriteSpan = 16ll << 20;

// Writes the whole overwrite span once and syncs it, so that later writes change no metadata.
std::string preallocate(int fd, const std::vector<char>& block) {
    for (std::int64_t offset = 0; offset < kOverwriteSpan; offset += std::int64_t(kBlock))
        if (writeAt(fd, block.data(), block.size(), offset) != std::int64_t(kBlock))
            return std::string("preallocating: ") + std::strerror(errno);
    if (syncFile(fd) != 0)
        return std::string("preallocating: ") + std::strerror(errno);
    return {};
}

} // namespace

CellResult measureDurableWrites(const std::filesystem::path& dir, unsigned threads,
                                WritePattern pattern, double warmupSeconds, double measureSeconds) {
    std::filesystem::create_directories(dir);
    std::vector<char> block(kBlock);
    for (std::size_t i = 0; i < block.size(); ++i)
        block[i] = char('a' + i % 26);
    std::vector<int> fds(threads, -1);
    std::vector<std::int64_t> offsets(threads, 0);
    std::vector<std::filesystem::path> files(threads);
    CellResult result;
    result.threads = threads;
    for (unsigned t = 0; t < threads && result.firstError.empty(); ++t) {
        files[t] = dir / ("durable-" + std::to_string(t) + ".dat");
        fds[t] = openForWrite(files[t]);
        if (fds[t] < 0)
            result.firstError = "cannot create " + files[t].string() + ": " + std::strerror(errno);
        else if (pattern == WritePattern::Overwrite)
            result.firstError = preallocate(fds[t], block);
    }
    if (result.firstError.empty())
        result =
            runClosedLoop(threads, warmupSeconds, measureSeconds, [&](unsigned t) -> std::string {
                std::int64_t& offset = offsets[t];
                if (writeAt(fds[t], block.data(), block.size(), offset) != std::int64_t(kBlock))
                    return std::string("write: ") + std::strerror(errno);
                offset += std::int64_t(kBlock);
                if (pattern == WritePattern::Overwrite && offset >= kOverwriteSpan)
                    offset = 0;
                if (syncFile(fds[t]) != 0)
                    return std::string(durableSyncCall()) + ": " + std::strerror(errno);
                return {};
            });
    for (unsigned t = 0; t < threads; ++t) {
        if (fds[t] >= 0)
            closeFile(fds[t]);
        std::error_code ec;
        std::filesystem::remove(files[t], ec);
    }
    return result;
}

ProcessMemory processMemory() {
    ProcessMemory m;
    m.rss = kibField("/proc/self/status", "VmRSS");
    m.rssAnon = kibField("/proc/self/status", "RssAnon");
    m.rssFile = kibField("/proc/self/status", "RssFile");
    m.hwm = kibField("/proc/self/status", "VmHWM");
    return m;
}

bool releaseFreeHeap() {
#if defined(__GLIBC__)
    malloc_trim(0);
    return true;
#else
    return false;
#endif
}

FileSpace fileSpace(const std::filesystem::path& file) {
    FileSpace space;
#if defined(_WIN32)
    std::error_code ec;
    space.apparent = std::filesystem::file_size(file, ec);
    space.allocated = ec ? 0 : space.apparent;
#else
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0) {
        space.apparent = std::uint64_t(st.st_size);
        space.allocated = std::uint64_t(st.st_blocks) * 512;
    }
#endif
    return space;
}

FilesystemInfo describeFilesystem(const std::filesystem::path& path) {
    FilesystemInfo info;
    std::error_code ec;
    const std::filesystem::path target = std::filesystem::weakly_canonical(path, ec);
    const std::string where = (ec ? path : target).string();
    // The mount whose mount point is the longest prefix of the path.
    std::ifstream mounts("/proc/mounts");
    std::string line;
    std::size_t best = 0;
    while (std::getline(mounts, line)) {
        std::istringstream fields(line);
        std::string device, mountPoint, type, options;
        if (!(fields >> device >> mountPoint >> type >> options))
            continue;
        const bool prefix = where.compare(0, mountPoint.size(), mountPoint) == 0 &&
                            (mountPoint == "/" || where.size() == mountPoint.size() ||
                             where[mountPoint.size()] == '/');
        if (prefix && mountPoint.size() >= best) {
            best = mountPoint.size();
            info = FilesystemInfo{type, device, mountPoint, options, false};
        }
    }
#if defined(__linux__)
    struct statfs fs {};
    if (::statfs(where.c_str(), &fs) == 0) {
        const auto magic = static_cast<unsigned long>(fs.f_type);
        if (magic == 0x01021994ul /* TMPFS_MAGIC */ || magic == 0x858458f6ul /* RAMFS_MAGIC */)
            info.inMemory = true;
        if (info.type.empty())
            info.type = "statfs magic 0x" + [magic] {
                std::ostringstream hex;
                hex << std::hex << magic;
                return hex.str();
            }();
    }
#endif
    if (info.type == "tmpfs" || info.type == "ramfs")
        info.inMemory = true;
    if (info.type.empty())
        info.type = "unknown";
    return info;
}

std::string loadAverage() {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    if (!(in >> a >> b >> c))
        return "unknown";
    return a + " " + b + " " + c;
}

MachineInfo describeMachine() {
    MachineInfo info;
    info.cpus = std::thread::hardware_concurrency();
    info.cpuModel = procField("/proc/cpuinfo", "model name");
    if (info.cpuModel.empty())
        info.cpuModel = "unknown";
    else
        info.cpuModel.erase(info.cpuModel.find_last_not_of(" \t") + 1);
    info.memoryBytes = kibField("/proc/meminfo", "MemTotal");
#if !defined(_WIN32)
    struct utsname u {};
    if (::uname(&u) == 0)
        info.kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;
#endif
    info.loadAverage = loadAverage();
    return info;
}

} // namespace troupe::bench
