// Rendering of a troupe-storage-bench run as Markdown and JSON (see bench_report.h).

#include "bench_report.h"

#include <thread>

#include <fmt/core.h>

namespace troupe::bench {

namespace {

constexpr double kGoalWriteRatio = 2.0;     // TroupeDB / plain SQLite at 64 writers
constexpr double kGoalRssGrowth = 0.20;     // RSS with N idle actors vs with 1,000
constexpr double kGoalBytesPerActor = 2048; // disk per small actor

std::string grouped(std::uint64_t n) {
    const std::string digits = std::to_string(n);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return out;
}

std::string rate(double perSecond) {
    return grouped(std::uint64_t(perSecond + 0.5));
}

// "14,138" or, for a repeated cell, "14,138 (12,900–15,200)": the median and the range.
std::string throughput(const CellResult& c) {
    std::string text = rate(c.opsPerSec);
    if (c.repeats.size() > 1) {
        const auto [lo, hi] = std::minmax_element(c.repeats.begin(), c.repeats.end());
        text += fmt::format(" ({}–{})", rate(*lo), rate(*hi));
    }
    return text;
}

std::string us(double micros) {
    return micros >= 100 ? grouped(std::uint64_t(micros + 0.5)) : fmt::format("{:.1f}", micros);
}

std::string mib(std::uint64_t bytes) {
    return fmt::format("{:.1f} MiB", double(bytes) / (1024.0 * 1024.0));
}

unsigned effectiveExecutorThreads(const BenchOptions& o) {
    return o.engine.executorThreads ? o.engine.executorThreads
                                    : std::max(2u, std::thread::hardware_concurrency());
}

struct Goal {
    std::string name;
    std::string measured;
    std::optional<bool> met; // nothing when the run did not measure it
};

const WriteCell* cellWith(const BenchRun& run, unsigned writers) {
    for (const WriteCell& c : run.writes)
        if (c.writers == writers)
            return &c;
    return nullptr;
}

double ratio(double a, double b) {
    return b > 0 ? a / b : 0;
}

std::optional<double> rssGrowth(const CreateResult& c) {
    const MemoryReading* first = c.reading("first_idle");
    const MemoryReading* all = c.reading("all_idle");
    if (!first || !all || first->memory.rss == 0)
        return std::nullopt;
    return double(all->memory.rss) / double(first->memory.rss) - 1.0;
}

double diskPerActor(const CreateResult& c) {
    return c.created ? double(c.dataFile.allocated) / double(c.created) : 0;
}

double lmdbUsedPerActor(const CreateResult& c) {
    if (!c.created || c.lmdbFilePages < c.lmdbFreePages)
        return 0;
    return double((c.lmdbFilePages - c.lmdbFreePages) * c.lmdbPageSize) / double(c.created);
}

std::vector<Goal> goals(const BenchRun& run) {
    std::vector<Goal> out;
    Goal writes{"64 writers: TroupeDB at least 2x plain SQLite (tx/s)", "not measured", {}};
    if (const WriteCell* c = cellWith(run, 64)) {
        const double r = ratio(c->troupe.opsPerSec, c->sqlite.opsPerSec);
        writes.measured = fmt::format("{:.2f}x ({} vs {} tx/s)", r, rate(c->troupe.opsPerSec),
                                      rate(c->sqlite.opsPerSec));
        writes.met = r >= kGoalWriteRatio;
    }
    out.push_back(writes);

    Goal rss{"RSS with 1,000,000 idle actors within 20% of RSS with 1,000", "not measured", {}};
    Goal disk{"under 2 KiB of disk per small actor", "not measured", {}};
    if (run.create) {
        const CreateResult& c = *run.create;
        if (c.requested != 1'000'000)
            rss.name = fmt::format("RSS with {} idle actors within 20% of RSS with 1,000 (goal is "
                                   "stated for 1,000,000)",
                                   grouped(c.requested));
        if (auto g = rssGrowth(c)) {
            rss.measured =
                fmt::format("{:+.0f}% ({} vs {})", *g * 100, mib(c.reading("all_idle")->memory.rss),
                            mib(c.reading("first_idle")->memory.rss));
            rss.met = *g <= kGoalRssGrowth;
        }
        const double perActor = diskPerActor(c);
        disk.measured = fmt::format("{:.0f} B/actor allocated (LMDB pages in use: {:.0f} B/actor)",
                                    perActor, lmdbUsedPerActor(c));
        disk.met = c.created > 0 && perActor < kGoalBytesPerActor;
    }
    out.push_back(rss);
    if (run.create) {
        const CreateResult& c = *run.create;
        const MemoryReading* first = c.reading("first_idle");
        const MemoryReading* all = c.reading("all_idle");
        if (first && all && first->memory.rssAnon > 0) {
            const double g = double(all->memory.rssAnon) / double(first->memory.rssAnon) - 1.0;
            out.push_back(Goal{"the same, counting the heap only (RssAnon; not a stated goal)",
                               fmt::format("{:+.0f}% ({} vs {})", g * 100, mib(all->memory.rssAnon),
                                           mib(first->memory.rssAnon)),
                               g <= kGoalRssGrowth});
        }
    }
    out.push_back(disk);
    return out;
}

nlohmann::json cellJson(const CellResult& c) {
    nlohmann::json j = {{"threads", c.threads},       {"ops", c.ops},
                        {"errors", c.errors},         {"seconds", c.seconds},
                        {"ops_per_sec", c.opsPerSec}, {"p50_us", c.p50Us},
                        {"p95_us", c.p95Us},          {"p99_us", c.p99Us},
                        {"max_us", c.maxUs},          {"mean_us", c.meanUs}};
    if (!c.firstError.empty())
        j["first_error"] = c.firstError;
    if (!c.repeats.empty())
        j["repeats_ops_per_sec"] = c.repeats;
    return j;
}

nlohmann::json writerJson(const WriterActivity& a) {
    return {{"lmdb_commits", a.batches},
            {"fsyncs", a.fsyncs},
            {"log_entries", a.entries},
            {"page_bytes_written", a.bytes},
            {"seconds", a.seconds},
            {"lmdb_commits_per_sec", a.batchesPerSec()},
            {"entries_per_commit", a.entriesPerBatch()}};
}

nlohmann::json memoryJson(const ProcessMemory& m) {
    return {{"vm_rss", m.rss}, {"rss_anon", m.rssAnon}, {"rss_file", m.rssFile}, {"vm_hwm", m.hwm}};
}

void renderFsync(const BenchRun& run, std::string& md) {
    md += fmt::format("### 1. Disk floor: 4 KiB writes + {}, one file per thread\n\n",
                      durableSyncCall());
    md += "| pattern | threads | durable writes/s | p50 µs | p99 µs | max µs |\n";
    md += "|---|---:|---:|---:|---:|---:|\n";
    const std::pair<const char*, const std::optional<CellResult>*> rows[] = {
        {"append", &run.fsync1},
        {"append", &run.fsyncN},
        {"overwrite in place", &run.fsyncOverwrite}};
    for (const auto& [pattern, cell] : rows)
        if (*cell)
            md += fmt::format("| {} | {} | {} | {} | {} | {} |\n", pattern, (*cell)->threads,
                              throughput(**cell), us((*cell)->p50Us), us((*cell)->p99Us),
                              us((*cell)->maxUs));
    md += "\nAppends make the file system commit the new file size as well; overwrites of an "
          "already written file (a reused SQLite WAL, LMDB pages taken from its free list) do "
          "not, so they are usually cheaper.\n\n";
}

void renderWrites(const BenchRun& run, std::string& md) {
    md += "### 2. Durable single-row write transactions (one actor / one file per writer)\n\n";
    md += "| writers | TroupeDB tx/s | p50 µs | p99 µs | SQLite tx/s | p50 µs | p99 µs | "
          "TroupeDB / SQLite | LMDB commits/s (actor tx per commit) |\n";
    md += "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const WriteCell& c : run.writes)
        md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | **{:.2f}x** | {} ({:.1f}) |\n",
                          c.writers, throughput(c.troupe), us(c.troupe.p50Us), us(c.troupe.p99Us),
                          throughput(c.sqlite), us(c.sqlite.p50Us), us(c.sqlite.p99Us),
                          ratio(c.troupe.opsPerSec, c.sqlite.opsPerSec),
                          rate(c.troupeWriter.batchesPerSec()), c.troupeWriter.entriesPerBatch());
    if (!run.writes.empty() && run.writes.front().troupe.repeats.size() > 1)
        md += fmt::format("\nEach cell ran {} times, alternating engine and SQLite; the table "
                          "shows the median run (range in brackets).\n",
                          run.writes.front().troupe.repeats.size());
    for (const WriteCell& c : run.writes)
        if (c.troupe.errors || c.sqlite.errors)
            md += fmt::format("\nErrors at {} writers: TroupeDB {} ({}), SQLite {} ({})\n",
                              c.writers, c.troupe.errors, c.troupe.firstError, c.sqlite.errors,
                              c.sqlite.firstError);
    if (const WriteCell* one = cellWith(run, 1); one && run.fsync1)
        md += fmt::format(
            "\nTroupeDB at 1 writer vs the disk floor (1-thread appends): {} tx/s / {} {}/s = "
            "**{:.2f}**{}. Plain SQLite at 1 writer: {:.2f}. Every TroupeDB transaction at one "
            "writer is one LMDB commit, which syncs twice (the data pages, then the meta page); "
            "a WAL commit of plain SQLite syncs once.\n",
            rate(one->troupe.opsPerSec), rate(run.fsync1->opsPerSec), durableSyncCall(),
            ratio(one->troupe.opsPerSec, run.fsync1->opsPerSec),
            run.fsyncOverwrite
                ? fmt::format(" ({:.2f} of the overwrite floor)",
                              ratio(one->troupe.opsPerSec, run.fsyncOverwrite->opsPerSec))
                : std::string(),
            ratio(one->sqlite.opsPerSec, run.fsync1->opsPerSec));
    md += "\n";
}

void renderReads(const BenchRun& run, std::string& md) {
    const ReadSettings& r = run.options.reads;
    md += "### 5. Plain SQLite point selects (the baseline of run.sh's point-select rows)\n\n";
    md += fmt::format(
        "Each client thread cycles through its own {} SQLite files (one per actor: WAL, "
        "synchronous=FULL, `t(id INTEGER PRIMARY KEY, v INTEGER)` with ids 1..{}), one prepared "
        "`SELECT v FROM t WHERE id = ?1` per operation, the id drawn like sysbench 1.0's default "
        "`special` distribution, as tests/bench/sysbench/troupe_actors.lua --mode=select does "
        "against TroupeDB.\n\n",
        r.actorsPerThread, r.rowsPerActor);
    md += "| threads | selects/s | p50 µs | p95 µs | p99 µs | max µs |\n";
    md += "|---:|---:|---:|---:|---:|---:|\n";
    for (const ReadCell& c : run.reads)
        md += fmt::format("| {} | {} | {} | {} | {} | {} |\n", c.threads, throughput(c.sqlite),
                          us(c.sqlite.p50Us), us(c.sqlite.p95Us), us(c.sqlite.p99Us),
                          us(c.sqlite.maxUs));
    for (const ReadCell& c : run.reads)
        if (c.sqlite.errors)
            md += fmt::format("\nErrors at {} threads: {} ({})\n", c.threads, c.sqlite.errors,
                              c.sqlite.firstError);
    md += "\n";
}

void renderCreate(const CreateResult& c, std::string& md) {
    md += fmt::format("### 3. Creating {} actors ({} client threads, one table + one row each)\n\n",
                      grouped(c.requested), c.clientThreads);
    md += "| figure | value |\n|---|---:|\n";
    md += fmt::format("| actors in the catalog afterwards | {} |\n", grouped(c.created));
    if (c.errors)
        md += fmt::format("| failed creates | {} (first: {}) |\n", grouped(c.errors), c.firstError);
    md += fmt::format("| total time (idle waits excluded) | {:.1f} s |\n", c.seconds);
    md += fmt::format("| rate | **{} actors/s** |\n", rate(c.actorsPerSec));
    md += fmt::format("| create request latency p50 / p99 | {} / {} µs |\n", us(c.latency.p50Us),
                      us(c.latency.p99Us));
    md += fmt::format("| LMDB commits (actors per commit) | {} = {}/s ({:.1f}) |\n",
                      grouped(c.writer.batches), rate(c.writer.batchesPerSec()),
                      c.writer.entriesPerBatch());
    md += fmt::format("| page bytes written (LZ4) per actor | {:.0f} B |\n",
                      c.created ? double(c.writer.bytes) / double(c.created) : 0.0);
    md += fmt::format("| data.mdb allocated (st_blocks) | {} = **{:.0f} B/actor** |\n",
                      mib(c.dataFile.allocated), diskPerActor(c));
    md += fmt::format("| data.mdb apparent size | {} |\n", mib(c.dataFile.apparent));
    if (c.lmdbError.empty()) {
        md += fmt::format("| LMDB pages: in file / free / in trees | {} / {} / {} ({} B each) |\n",
                          grouped(c.lmdbFilePages), grouped(c.lmdbFreePages),
                          grouped(c.lmdbTreePages), c.lmdbPageSize);
        md += fmt::format("| LMDB bytes in use per actor | {:.0f} B |\n", lmdbUsedPerActor(c));
        md += fmt::format("| records per actor: pages db / actors db | {:.2f} / {:.2f} |\n",
                          c.created ? double(c.pageRecords) / double(c.created) : 0.0,
                          c.created ? double(c.actorRecords) / double(c.created) : 0.0);
    } else {
        md += fmt::format("| LMDB statistics | unavailable: {} |\n", c.lmdbError);
    }
    md += "\n| process memory | VmRSS | RssAnon | RssFile |\n|---|---:|---:|---:|\n";
    for (const MemoryReading& m : c.memory)
        md += fmt::format("| {} | {} | {} | {} |\n", m.when, mib(m.memory.rss),
                          mib(m.memory.rssAnon), mib(m.memory.rssFile));
    if (auto g = rssGrowth(c))
        md += fmt::format("\nRSS with {} idle actors vs with 1,000: **{:+.0f}%**. RssFile is "
                          "LMDB's map (page cache, shared and reclaimable; it drops whenever "
                          "the map grows and is mapped again); RssAnon is the heap.\n",
                          grouped(c.requested), *g * 100);
    md += "\n";
}

// "12.3x" for a ratio of latencies.
std::string times(double a, double b) {
    return fmt::format("{:.1f}x", ratio(a, b));
}

void renderSql(const BenchRun& run, const SqlResult& s, std::string& md) {
    const BenchOptions& o = run.options;
    md += "### 4. Query facade: `sql::Database::query` in-process (ActorDB dialect)\n\n";
    md += fmt::format(
        "A fresh `Database` on its own directory, initialised with the `USE config` script "
        "(group, node, user root) and the schema `ACTOR bench` / `CREATE TABLE t (id INTEGER "
        "PRIMARY KEY, v INTEGER)`; clients call the blocking `Database::query` as the node "
        "itself (no user, so no grant checks). Engine as above: **fsync={}** (a write is "
        "answered once it is on disk), {} executor threads, up to {} open actors. Every actor "
        "starts with {} rows.\n\n",
        std::string(storage::fsyncModeName(o.engine.storage.fsync)), s.executorThreads,
        o.engine.maxOpenActors, s.settings.rowsPerActor);

    md += fmt::format(
        "**a. Point reads and durable single-row writes.** Each client thread has its own {} "
        "actors and cycles through them, closed loop: reads `ACTOR bench(a<k>); SELECT v FROM t "
        "WHERE id = ?1` (a different existing id each time), writes `ACTOR bench(a<k>) create; "
        "INSERT INTO t (v) VALUES (?1)` (one transaction each). Every actor is open (warm). "
        "{:.1f} s warm-up + {:.1f} s measured per cell{}.\n\n",
        s.settings.actorsPerThread, o.durations.warmupSeconds, o.durations.measureSeconds,
        o.durations.repeats > 1
            ? fmt::format(", {} runs alternating reads and writes, median run shown (range in "
                          "brackets)",
                          o.durations.repeats)
            : std::string());
    md += "| client threads | reads/s | p50 µs | p99 µs | writes/s | p50 µs | p99 µs | LMDB "
          "commits/s (actor tx per commit) |\n";
    md += "|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const SqlCell& c : s.cells)
        md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} ({:.1f}) |\n", c.threads,
                          throughput(c.reads), us(c.reads.p50Us), us(c.reads.p99Us),
                          throughput(c.writes), us(c.writes.p50Us), us(c.writes.p99Us),
                          rate(c.writer.batchesPerSec()), c.writer.entriesPerBatch());
    for (const SqlCell& c : s.cells)
        if (c.reads.errors || c.writes.errors)
            md += fmt::format("\nErrors at {} threads: reads {} ({}), writes {} ({})\n", c.threads,
                              c.reads.errors, c.reads.firstError, c.writes.errors,
                              c.writes.firstError);
    md += "\n";

    const SqlColdResult& cold = s.cold;
    md += fmt::format(
        "**b. First query to an actor that is not open** vs one that is: one client, the read "
        "above with id 1, one actor after another. {} actors were created ({:.1f} s with {} "
        "client threads), then the `Database` was shut down and opened again on the same "
        "directory (`Database::open`: {:.0f} ms) and {} of them queried (cold), queried again "
        "(warm), then the other {} queried (more than the {} open actors allowed, so the first "
        "{} were evicted) and the first {} queried once more (cold again).\n\n",
        grouped(cold.actors), cold.createSeconds, cold.createThreads, cold.reopenSeconds * 1000,
        grouped(cold.samples), grouped(cold.actors - cold.samples), grouped(cold.openLimit),
        grouped(cold.samples), grouped(cold.samples));
    md += "| first query to | samples | p50 µs | p99 µs | max µs | p50 / warm p50 |\n";
    md += "|---|---:|---:|---:|---:|---:|\n";
    const std::pair<const char*, const CellResult*> coldRows[] = {
        {"a warm actor (open)", &cold.warm},
        {"a cold actor, fresh `Database` on the existing directory", &cold.reopened},
        {"a cold actor, evicted (more actors than `maxOpenActors`)", &cold.evicted}};
    for (const auto& [what, c] : coldRows)
        md += fmt::format("| {} | {} | {} | {} | {} | {} |\n", what, grouped(c->ops), us(c->p50Us),
                          us(c->p99Us), us(c->maxUs), times(c->p50Us, cold.warm.p50Us));
    for (const auto& [what, c] : coldRows)
        if (c->errors)
            md += fmt::format("\nErrors ({}): {} ({})\n", what, c->errors, c->firstError);
    md += "\n";

    const SqlMultiResult& m = s.multi;
    md += fmt::format(
        "**c. A {0}-actor transaction vs {0} single-actor writes**, one client, the same {0} "
        "existing actors `x1`..`x{0}`, one `INSERT INTO t (v) VALUES (?1)` per actor. The three "
        "forms alternate; {1} samples each after {2} not counted. The single writes are timed "
        "as a whole sequence.\n\n",
        m.actors, m.samples, m.warmupSamples);
    md += "| request | p50 µs | p99 µs | mean µs | LMDB commits per sample |\n";
    md += "|---|---:|---:|---:|---:|\n";
    const unsigned total = m.samples + m.warmupSamples;
    auto perSample = [&](const WriterActivity& w) {
        return fmt::format("{:.1f}", total ? double(w.batches) / double(total) : 0.0);
    };
    md += fmt::format("| one request, {} `ACTOR bench(x<i>) create; INSERT ...` blocks | {} | {} "
                      "| {} | {} |\n",
                      m.actors, us(m.blocks.p50Us), us(m.blocks.p99Us), us(m.blocks.meanUs),
                      perSample(m.blocksWriter));
    md += fmt::format(
        "| one request, `ACTOR bench(x1,...,x{}) create; INSERT ...` | {} | {} | {} | {} |\n",
        m.actors, us(m.list.p50Us), us(m.list.p99Us), us(m.list.meanUs), perSample(m.listWriter));
    md += fmt::format("| {} single-actor requests, one after another | {} | {} | {} | {} |\n",
                      m.actors, us(m.singles.p50Us), us(m.singles.p99Us), us(m.singles.meanUs),
                      perSample(m.singlesWriter));
    md += fmt::format("\n{} single writes / one {}-actor transaction (ACTOR blocks): **{}** at "
                      "p50, {} at p99 (with the actor list: {} at p50).\n\n",
                      m.actors, m.actors, times(m.singles.p50Us, m.blocks.p50Us),
                      times(m.singles.p99Us, m.blocks.p99Us), times(m.singles.p50Us, m.list.p50Us));
}

nlohmann::json sqlJson(const SqlResult& s) {
    nlohmann::json j;
    j["settings"] = {{"thread_counts", s.settings.threadCounts},
                     {"actors_per_thread", s.settings.actorsPerThread},
                     {"rows_per_actor", s.settings.rowsPerActor},
                     {"executor_threads", s.executorThreads},
                     {"setup_seconds", s.setupSeconds}};
    for (const SqlCell& c : s.cells)
        j["cells"].push_back({{"threads", c.threads},
                              {"reads", cellJson(c.reads)},
                              {"writes", cellJson(c.writes)},
                              {"writes_storage_writer", writerJson(c.writer)}});
    const SqlColdResult& cold = s.cold;
    j["cold"] = {{"actors", cold.actors},
                 {"samples", cold.samples},
                 {"open_limit", cold.openLimit},
                 {"create_seconds", cold.createSeconds},
                 {"reopen_seconds", cold.reopenSeconds},
                 {"warm", cellJson(cold.warm)},
                 {"cold_reopened", cellJson(cold.reopened)},
                 {"cold_evicted", cellJson(cold.evicted)},
                 {"ratio_reopened_over_warm_p50", ratio(cold.reopened.p50Us, cold.warm.p50Us)},
                 {"ratio_evicted_over_warm_p50", ratio(cold.evicted.p50Us, cold.warm.p50Us)}};
    const SqlMultiResult& m = s.multi;
    j["multi"] = {{"actors", m.actors},
                  {"samples", m.samples},
                  {"warmup_samples", m.warmupSamples},
                  {"actor_blocks", cellJson(m.blocks)},
                  {"actor_list", cellJson(m.list)},
                  {"singles_sequence", cellJson(m.singles)},
                  {"actor_blocks_storage_writer", writerJson(m.blocksWriter)},
                  {"actor_list_storage_writer", writerJson(m.listWriter)},
                  {"singles_storage_writer", writerJson(m.singlesWriter)},
                  {"ratio_singles_over_blocks_p50", ratio(m.singles.p50Us, m.blocks.p50Us)},
                  {"ratio_singles_over_blocks_p99", ratio(m.singles.p99Us, m.blocks.p99Us)},
                  {"ratio_singles_over_list_p50", ratio(m.singles.p50Us, m.list.p50Us)}};
    return j;
}

} // namespace

std::string machineLine(const BenchRun& run) {
    const MachineInfo& m = run.machine;
    return fmt::format("{} CPUs ({}), {:.1f} GiB RAM, {}; load average at start {}", m.cpus,
                       m.cpuModel, double(m.memoryBytes) / (1024.0 * 1024.0 * 1024.0), m.kernel,
                       m.loadAverage);
}

std::string renderMarkdown(const BenchRun& run) {
    const BenchOptions& o = run.options;
    std::string md;
    md += fmt::format("## TroupeDB storage benchmark, {}\n\n", run.startedUtc);
    md += fmt::format("- Machine: {}; at the end {}.\n", machineLine(run), run.loadAverageEnd);
    if (!o.revision.empty())
        md += fmt::format("- Source: {}.\n", o.revision);
    md += fmt::format("- Disk under test: {} is on **{}** ({}, mounted at {}, {}).\n",
                      o.dir.string(), run.filesystem.type, run.filesystem.device,
                      run.filesystem.mountPoint, run.filesystem.options);
    md += fmt::format("- Engine: fsync={}, {} executor threads, up to {} open actors, {} KiB "
                      "SQLite cache per open actor, LMDB map {} MiB initially; writers call "
                      "Engine::execute (blocking). LMDB {}, SQLite {}.\n",
                      std::string(storage::fsyncModeName(o.engine.storage.fsync)),
                      effectiveExecutorThreads(o), o.engine.maxOpenActors, o.engine.pageCacheKiB,
                      o.engine.storage.initialMapSize >> 20, run.lmdbVersion, run.sqliteVersion);
    md += fmt::format("- Plain SQLite: one file and one connection per writer thread, "
                      "journal_mode=WAL, synchronous=FULL, prepared INSERT, autocommit.\n");
    md += fmt::format("- Cells: {:.1f} s warm-up (not counted) + {:.1f} s measured; latency is "
                      "per operation (steady_clock); row: `INSERT INTO r(v) VALUES (?1)` into "
                      "`r(id INTEGER PRIMARY KEY, v INTEGER)`.{}\n",
                      o.durations.warmupSeconds, o.durations.measureSeconds,
                      o.quick ? " **--quick run.**" : "");
    md += "- Other work on the machine shares the CPUs and the disk: compare the load averages, "
          "and repeat a run before trusting a small difference.\n\n";
    if (run.fsync1 || run.fsyncOverwrite)
        renderFsync(run, md);
    if (!run.writes.empty())
        renderWrites(run, md);
    if (run.create)
        renderCreate(*run.create, md);
    if (run.sqlResult)
        renderSql(run, *run.sqlResult, md);
    if (!run.reads.empty())
        renderReads(run, md);
    md += "### Goals (reported, never enforced)\n\n| goal | measured | status |\n|---|---|---|\n";
    for (const Goal& g : goals(run))
        md += fmt::format("| {} | {} | {} |\n", g.name, g.measured,
                          !g.met ? "not measured" : (*g.met ? "met" : "**not met**"));
    return md;
}

nlohmann::json renderJson(const BenchRun& run) {
    const BenchOptions& o = run.options;
    nlohmann::json j;
    j["tool"] = "troupe-storage-bench";
    j["started_utc"] = run.startedUtc;
    j["finished_utc"] = run.finishedUtc;
    j["machine"] = {{"cpus", run.machine.cpus},
                    {"cpu_model", run.machine.cpuModel},
                    {"memory_bytes", run.machine.memoryBytes},
                    {"kernel", run.machine.kernel},
                    {"load_average_start", run.machine.loadAverage},
                    {"load_average_end", run.loadAverageEnd}};
    j["filesystem"] = {{"dir", o.dir.string()},
                       {"type", run.filesystem.type},
                       {"device", run.filesystem.device},
                       {"mount_point", run.filesystem.mountPoint},
                       {"options", run.filesystem.options},
                       {"in_memory", run.filesystem.inMemory}};
    j["versions"] = {
        {"sqlite", run.sqliteVersion}, {"lmdb", run.lmdbVersion}, {"troupe", o.revision}};
    j["settings"] = {{"quick", o.quick},
                     {"warmup_seconds", o.durations.warmupSeconds},
                     {"measure_seconds", o.durations.measureSeconds},
                     {"idle_seconds", o.durations.idleSeconds},
                     {"writer_counts", o.writerCounts},
                     {"fsync_threads", o.fsyncThreads},
                     {"create_threads", o.createThreads},
                     {"actors", o.actors},
                     {"durable_sync_call", durableSyncCall()},
                     {"engine",
                      {{"fsync", std::string(storage::fsyncModeName(o.engine.storage.fsync))},
                       {"executor_threads", effectiveExecutorThreads(o)},
                       {"max_open_actors", o.engine.maxOpenActors},
                       {"page_cache_kib", o.engine.pageCacheKiB},
                       {"initial_map_size", o.engine.storage.initialMapSize},
                       {"map_growth_step", o.engine.storage.mapGrowthStep}}},
                     {"sqlite", {{"journal_mode", "wal"}, {"synchronous", "full"}}}};
    if (run.fsync1)
        j["fsync"]["threads_1"] = cellJson(*run.fsync1);
    if (run.fsyncN)
        j["fsync"]["threads_n"] = cellJson(*run.fsyncN);
    if (run.fsyncOverwrite)
        j["fsync"]["overwrite_threads_1"] = cellJson(*run.fsyncOverwrite);
    for (const WriteCell& c : run.writes) {
        nlohmann::json troupe = cellJson(c.troupe);
        troupe["storage_writer"] = writerJson(c.troupeWriter);
        j["writes"].push_back(
            {{"writers", c.writers},
             {"troupe", troupe},
             {"sqlite", cellJson(c.sqlite)},
             {"ratio_troupe_over_sqlite", ratio(c.troupe.opsPerSec, c.sqlite.opsPerSec)}});
    }
    if (const WriteCell* one = cellWith(run, 1); one && run.fsyncOverwrite)
        j["troupe_1_writer_over_overwrite_floor"] =
            ratio(one->troupe.opsPerSec, run.fsyncOverwrite->opsPerSec);
    if (const WriteCell* one = cellWith(run, 1); one && run.fsync1)
        j["troupe_1_writer_over_fsync_floor"] = ratio(one->troupe.opsPerSec, run.fsync1->opsPerSec);
    if (run.create) {
        const CreateResult& c = *run.create;
        nlohmann::json create = {
            {"requested", c.requested},
            {"created", c.created},
            {"errors", c.errors},
            {"client_threads", c.clientThreads},
            {"seconds", c.seconds},
            {"actors_per_sec", c.actorsPerSec},
            {"latency", cellJson(c.latency)},
            {"storage_writer", writerJson(c.writer)},
            {"data_mdb",
             {{"allocated_bytes", c.dataFile.allocated}, {"apparent_bytes", c.dataFile.apparent}}},
            {"disk_bytes_per_actor", diskPerActor(c)},
            {"lmdb",
             {{"page_size", c.lmdbPageSize},
              {"file_pages", c.lmdbFilePages},
              {"free_pages", c.lmdbFreePages},
              {"tree_pages", c.lmdbTreePages},
              {"page_records", c.pageRecords},
              {"actor_records", c.actorRecords},
              {"used_bytes_per_actor", lmdbUsedPerActor(c)}}},
            {"progress", c.progress}};
        if (!c.firstError.empty())
            create["first_error"] = c.firstError;
        if (!c.lmdbError.empty())
            create["lmdb"]["error"] = c.lmdbError;
        for (const MemoryReading& m : c.memory) {
            nlohmann::json reading = memoryJson(m.memory);
            reading["when"] = m.when;
            reading["actors"] = m.actors;
            create["memory"][m.key] = reading;
        }
        if (auto g = rssGrowth(c))
            create["rss_growth_idle_all_over_first"] = *g;
        j["create"] = create;
    }
    if (run.sqlResult)
        j["sql"] = sqlJson(*run.sqlResult);
    if (!run.reads.empty()) {
        j["settings"]["reads"] = {{"actors_per_thread", o.reads.actorsPerThread},
                                  {"rows_per_actor", o.reads.rowsPerActor},
                                  {"thread_counts", o.reads.threadCounts},
                                  {"statement", "SELECT v FROM t WHERE id = ?1"},
                                  {"key_distribution", "sysbench 1.0 special (iter 12, pct 1, "
                                                       "res 75)"}};
        for (const ReadCell& c : run.reads)
            j["reads"].push_back({{"threads", c.threads}, {"sqlite", cellJson(c.sqlite)}});
    }
    for (const Goal& g : goals(run))
        j["goals"].push_back({{"goal", g.name},
                              {"measured", g.measured},
                              {"met", g.met ? nlohmann::json(*g.met) : nlohmann::json()}});
    return j;
}

} // namespace troupe::bench
