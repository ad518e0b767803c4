#pragma once

// The settings and figures of one troupe-storage-bench run, and their rendering as a Markdown
// report (tables, goals met / not met) and as JSON with every figure.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_reads.h"
#include "bench_sections.h"
#include "bench_sql.h"
#include "bench_support.h"
#include "sql/engine.h"

namespace troupe::bench {

struct BenchOptions {
    std::filesystem::path dir;
    std::filesystem::path out = ".";
    bool quick = false;
    std::uint64_t actors = 1'000'000;
    Durations durations;
    std::vector<unsigned> writerCounts{1, 16, 64};
    unsigned fsyncThreads = 16;
    unsigned createThreads = 64;
    std::vector<std::string> sections{"fsync", "writes", "create", "sql", "reads"};
    SqlSettings sqlBench;      // the "sql" section (query facade)
    ReadSettings reads;        // the "reads" section (plain SQLite point selects)
    sql::EngineOptions engine; // defaults: fsync=always, as the server ships
    bool allowMemoryFs = false;
    std::string revision; // git describe of the tree that was built, if known

    bool has(const std::string& section) const {
        return std::find(sections.begin(), sections.end(), section) != sections.end();
    }
};

struct BenchRun {
    BenchOptions options;
    std::string startedUtc, finishedUtc;
    MachineInfo machine;
    std::string loadAverageEnd;
    FilesystemInfo filesystem;
    std::string sqliteVersion, lmdbVersion;

    std::optional<CellResult> fsync1, fsyncN, fsyncOverwrite;
    std::vector<WriteCell> writes;
    std::optional<CreateResult> create;
    std::optional<SqlResult> sqlResult;
    std::vector<ReadCell> reads;
};

// "2 CPUs (model), 23.5 GiB RAM, Linux 6.1.0 x86_64"
std::string machineLine(const BenchRun& run);
std::string renderMarkdown(const BenchRun& run);
nlohmann::json renderJson(const BenchRun& run);

} // namespace troupe::bench
