#pragma once

// Support for troupe-storage-bench (tests/bench/storage_bench.cpp): a closed-loop load runner
// with per-operation latencies, latency summaries, durable 4 KiB appends for the disk floor,
// process memory, and a description of the machine and of the file system under test.
//
// Bench-only code: nothing in the daemon depends on it. Everything here may be called from the
// bench's main thread; runClosedLoop() starts and joins its own worker threads.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace troupe::bench {

using Clock = std::chrono::steady_clock;

// Throughput and latency of one measured cell.
struct CellResult {
    unsigned threads = 0;
    std::uint64_t ops = 0;    // operations completed inside the measurement window
    std::uint64_t errors = 0; // failed operations (whole run, warm-up included)
    double seconds = 0;       // length of the measurement window
    double opsPerSec = 0;
    double p50Us = 0, p95Us = 0, p99Us = 0, maxUs = 0, meanUs = 0;
    std::string firstError;
    std::vector<double> repeats; // ops/s of every repetition when a cell ran more than once
};

// The repetition with the median throughput (the lower one of the middle two), with `repeats`
// listing the throughput of all of them and the errors of all of them added up.
CellResult medianOf(std::vector<CellResult> runs);

// The operation of one thread: performs one operation and returns an empty string, or an error
// description. Called repeatedly, only from the worker thread `thread`.
using Operation = std::function<std::string(unsigned thread)>;

// Runs `threads` workers, each calling op(thread) back to back (closed loop). Operations that
// complete during the warm-up are not counted; then every operation that completes inside the
// `measureSeconds` window is counted and its steady_clock latency kept.
CellResult runClosedLoop(unsigned threads, double warmupSeconds, double measureSeconds,
                         const Operation& op);

// Percentiles over a set of latencies in nanoseconds (sorted in place).
void summarizeLatencies(std::vector<std::int64_t>& nanos, CellResult& result);

// A latency histogram with fixed memory (about 30 KiB) and under 1.6% error: 64 linear
// sub-buckets per power of two of nanoseconds. record() is thread-safe (relaxed atomics).
class LatencyHistogram {
public:
    void record(std::int64_t nanos);
    // Fills ops-independent fields of `result`: p50, p95, p99, max and mean latency.
    void summarize(CellResult& result) const;
    std::uint64_t count() const { return m_count.load(std::memory_order_relaxed); }

private:
    static constexpr int kSubBits = 6;
    static constexpr std::size_t kBuckets = std::size_t(64 - kSubBits + 1) << kSubBits;
    static std::size_t bucketOf(std::uint64_t nanos);
    static std::uint64_t upperBound(std::size_t bucket);

    std::array<std::atomic<std::uint64_t>, kBuckets> m_buckets{};
    std::atomic<std::uint64_t> m_count{0};
    std::atomic<std::uint64_t> m_sum{0};
    std::atomic<std::uint64_t> m_max{0};
};

// The disk floor: each thread writes 4 KiB blocks to its own file under `dir` and makes each
// write durable (fdatasync on Linux, the closest equivalent elsewhere) before the next one.
// Append grows the file (the file system must also commit the new size); Overwrite cycles
// through a preallocated 16 MiB file (what a reused WAL or LMDB's free pages see).
enum class WritePattern { Append, Overwrite };
CellResult measureDurableWrites(const std::filesystem::path& dir, unsigned threads,
                                WritePattern pattern, double warmupSeconds, double measureSeconds);
// What "durable" means in measureDurableAppends() on this platform ("fdatasync", ...).
const char* durableSyncCall();

// This process's memory from /proc/self/status, in bytes (0 where unavailable).
struct ProcessMemory {
    std::uint64_t rss = 0;     // VmRSS
    std::uint64_t rssAnon = 0; // RssAnon: heap, stacks
    std::uint64_t rssFile = 0; // RssFile: mapped files (LMDB's map), shared libraries
    std::uint64_t hwm = 0;     // VmHWM: peak RSS
};
ProcessMemory processMemory();

// Hands freed heap memory back to the OS where the C library supports it; true if it did.
bool releaseFreeHeap();

// Bytes allocated on disk for a file (st_blocks * 512), and its apparent size.
struct FileSpace {
    std::uint64_t allocated = 0;
    std::uint64_t apparent = 0;
};
FileSpace fileSpace(const std::filesystem::path& file);

struct FilesystemInfo {
    std::string type;       // "ext4", "xfs", "tmpfs", ...
    std::string device;     // "/dev/vda1"
    std::string mountPoint; // "/"
    std::string options;    // mount options
    bool inMemory = false;  // tmpfs/ramfs: durable-write numbers would be meaningless
};
FilesystemInfo describeFilesystem(const std::filesystem::path& path);

struct MachineInfo {
    unsigned cpus = 0;
    std::string cpuModel;
    std::uint64_t memoryBytes = 0;
    std::string kernel;
    std::string loadAverage; // /proc/loadavg: 1, 5, 15 minutes
};
MachineInfo describeMachine();
std::string loadAverage();

} // namespace troupe::bench
