#!/usr/bin/env python3
"""The report of tests/bench/run.sh: reads the raw results of one run (sysbench outputs,
troupe-storage-bench's JSON, the scale readings, the run's settings) and writes a Markdown
report and a JSON file with every figure. A pure function of the raw directory: it measures
nothing and reads nothing of the machine, so that --self-test can check it on canned input.

    harness_report.py --raw DIR --out DIR     writes DIR/report.md and DIR/results.json
    harness_report.py --self-test             checks the writer on tests/bench/selftest/

Raw directory layout (written by run.sh):
    meta.txt                     key=value lines: machine, versions, settings, commands
    storage-bench.json           troupe-storage-bench --sections fsync,writes,reads (disk floor,
                                 plain SQLite inserts and point selects)
    sysbench/<system>-<workload>-<threads>.txt   sysbench's output (--histogram=on)
    sysbench/<system>-<workload>-<threads>.rc    sysbench's exit status
    sysbench/troupe-create-<actors>.txt          the scale stage that reached <actors> actors
    scale.tsv                    one line per scale stage: disk and server memory after it

Latency percentiles come from sysbench's histogram of the measured window (1,024 logarithmic
buckets from 1 us to 100 s, about 1.8% wide): p50/p95/p99 are the nearest-rank percentiles over
the bucket values, the same computation as sysbench's own --percentile, so all three come from one
run (sysbench's own --percentile value is kept beside them as a cross-check).
"""

import argparse
import json
import math
import re
import shutil
import sys
import tempfile
from pathlib import Path

SYSTEMS = ("troupe", "mariadb")
WORKLOAD_TITLES = {
    "insert": "durable single-row inserts",
    "select": "point selects by primary key",
    "mix": "read/write mix, 4 selects : 1 insert",
    "multi": "10-actor transactions (one row in each)",
}
PERCENTILES = (50, 95, 99)


# --- parsing -----------------------------------------------------------------------------------

def parse_meta(path):
    """key=value lines; later keys win; '#' starts a comment line."""
    meta = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        meta[key.strip()] = value.strip()
    return meta


def _number(pattern, text, cast=float):
    match = re.search(pattern, text, re.MULTILINE)
    return cast(match.group(1)) if match else None


def percentile_from_histogram(buckets, pct):
    """Nearest rank: the first bucket value whose cumulative count reaches pct% of the events."""
    total = sum(count for _, count in buckets)
    if total == 0:
        return None
    need = math.ceil(pct / 100.0 * total)
    seen = 0
    for value, count in buckets:
        seen += count
        if seen >= need:
            return value
    return buckets[-1][0]


def parse_sysbench(text):
    """The final report of a sysbench 1.0 run (after any checkpoint report): throughput, errors,
    latencies and the histogram. Returns a dict; 'ok' is False when the run has no final report."""
    # With --report-checkpoints the warm-up's report comes first and the histogram is printed
    # just before the final report; the final report is the last "SQL statistics" block.
    final_at = text.rfind("SQL statistics:")
    cell = {"ok": final_at >= 0}
    if not cell["ok"]:
        # The first FATAL line names the cause; otherwise the last line says what happened.
        lines = [l.strip() for l in text.splitlines() if l.strip()]
        fatal = [l for l in lines if "FATAL" in l]
        cell["error"] = (fatal[:1] or lines[-1:] or ["no output"])[0]
        return cell
    final = text[final_at:]
    cell["transactions"] = _number(r"^\s*transactions:\s+(\d+)", final, int)
    cell["tx_per_sec"] = _number(r"^\s*transactions:\s+\d+\s+\(([\d.]+) per sec", final)
    cell["queries"] = _number(r"^\s*queries:\s+(\d+)", final, int)
    cell["ignored_errors"] = _number(r"^\s*ignored errors:\s+(\d+)", final, int)
    cell["reconnects"] = _number(r"^\s*reconnects:\s+(\d+)", final, int)
    cell["total_time_s"] = _number(r"^\s*total time:\s+([\d.]+)s", final)
    cell["checkpoint_s"] = _number(r"^\[\s*([\d.]+)s \] Checkpoint report", text)
    latency = {}
    for key in ("min", "avg", "max"):
        latency[key + "_ms"] = _number(r"^\s*%s:\s+([\d.]+)" % key, final)
    sb_pct = re.search(r"^\s*(\d+)th percentile:\s+([\d.]+)", final, re.MULTILINE)
    if sb_pct:
        latency["sysbench_p%s_ms" % sb_pct.group(1)] = float(sb_pct.group(2))
    buckets = []
    hist_at = text.rfind("Latency histogram")
    if hist_at >= 0:
        for line in text[hist_at:final_at if final_at > hist_at else None].splitlines():
            match = re.match(r"^\s*([\d.]+)\s+\|[* ]*?\s*(\d+)\s*$", line)
            if match:
                buckets.append((float(match.group(1)), int(match.group(2))))
    latency["histogram_events"] = sum(count for _, count in buckets)
    for pct in PERCENTILES:
        latency["p%d_ms" % pct] = percentile_from_histogram(buckets, pct)
    cell["latency"] = latency
    return cell


def parse_tsv(path):
    lines = [l for l in path.read_text().splitlines() if l.strip()]
    if not lines:
        return []
    header = lines[0].split("\t")
    rows = []
    for line in lines[1:]:
        values = line.split("\t")
        row = {}
        for key, value in zip(header, values):
            try:
                row[key] = int(value)
            except ValueError:
                try:
                    row[key] = float(value)
                except ValueError:
                    row[key] = value
        rows.append(row)
    return rows


def int_list(text):
    return [int(x) for x in text.split(",") if x.strip()]


# --- the figures -------------------------------------------------------------------------------

def ratio(a, b):
    return a / b if a is not None and b else None


def storage_figures(storage):
    """Disk floor; plain SQLite inserts (and the engine in-process) per writer count; plain
    SQLite point selects per thread count."""
    if not storage:
        return {}, {}, {}
    fsync = storage.get("fsync", {})
    floor = {
        "append_1_thread": fsync.get("threads_1"),
        "append_n_threads": fsync.get("threads_n"),
        "overwrite_1_thread": fsync.get("overwrite_threads_1"),
    }
    writes = {}
    for cell in storage.get("writes", []):
        threads = (cell.get("sqlite") or cell.get("troupe") or {}).get("threads")
        if threads is not None:
            writes[threads] = cell
    reads = {}
    for cell in storage.get("reads", []):
        threads = cell.get("threads", (cell.get("sqlite") or {}).get("threads"))
        if threads is not None:
            reads[threads] = cell
    return floor, writes, reads


def build_results(raw):
    meta = parse_meta(raw / "meta.txt")
    storage = None
    if (raw / "storage-bench.json").exists():
        storage = json.loads((raw / "storage-bench.json").read_text())
    floor, sqlite_writes, sqlite_reads = storage_figures(storage)
    # The disk floor measured again after the workloads: a shared disk changes speed.
    floor_end = {}
    if (raw / "storage-bench-end.json").exists():
        floor_end, _, _ = storage_figures(json.loads((raw / "storage-bench-end.json").read_text()))
    filesystem = meta.get("filesystem")
    if storage and storage.get("filesystem"):
        fs = storage["filesystem"]
        filesystem = "%s on %s (%s)" % (fs.get("type"), fs.get("device"), fs.get("mount_point"))

    workloads = [w for w in meta.get("workloads", "").split(",") if w]
    threads = int_list(meta.get("threads", ""))
    cells = []
    for workload in workloads:
        for n in threads:
            row = {"workload": workload, "threads": n}
            for system in SYSTEMS:
                out = raw / "sysbench" / ("%s-%s-%d.txt" % (system, workload, n))
                if not out.exists():
                    row[system] = None
                    continue
                parsed = parse_sysbench(out.read_text())
                rc_file = out.with_suffix(".rc")
                parsed["exit_status"] = int(rc_file.read_text()) if rc_file.exists() else None
                if parsed["exit_status"] not in (None, 0) and parsed["ok"]:
                    parsed["ok"] = False
                    parsed["error"] = "sysbench exited with %d" % parsed["exit_status"]
                row[system] = parsed
            troupe_tps = (row["troupe"] or {}).get("tx_per_sec") if row.get("troupe") else None
            maria_tps = (row["mariadb"] or {}).get("tx_per_sec") if row.get("mariadb") else None
            if row.get("troupe") and not row["troupe"]["ok"]:
                troupe_tps = None
            if row.get("mariadb") and not row["mariadb"]["ok"]:
                maria_tps = None
            row["ratio_troupe_over_mariadb"] = ratio(troupe_tps, maria_tps)
            if workload == "insert" and n in sqlite_writes:
                sqlite = sqlite_writes[n].get("sqlite")
                row["sqlite"] = sqlite
                row["engine_in_process"] = sqlite_writes[n].get("troupe")
                row["ratio_troupe_over_sqlite"] = ratio(troupe_tps,
                                                        (sqlite or {}).get("ops_per_sec"))
            if workload == "select" and n in sqlite_reads:
                sqlite = sqlite_reads[n].get("sqlite")
                row["sqlite"] = sqlite
                row["ratio_troupe_over_sqlite"] = ratio(troupe_tps,
                                                        (sqlite or {}).get("ops_per_sec"))
            cells.append(row)

    scale = []
    if (raw / "scale.tsv").exists():
        for stage in parse_tsv(raw / "scale.tsv"):
            out = raw / "sysbench" / ("troupe-create-%d.txt" % stage["actors"])
            created = parse_sysbench(out.read_text()) if out.exists() else {"ok": False}
            stage["create"] = created
            actors = stage["actors"]
            stage["disk_bytes_per_actor"] = stage["du_allocated_bytes"] / actors if actors else None
            stage["disk_apparent_bytes_per_actor"] = (stage["du_apparent_bytes"] / actors
                                                      if actors else None)
            scale.append(stage)

    results = {
        "tool": "tests/bench/run.sh",
        "started_utc": meta.get("started_utc"),
        "finished_utc": meta.get("finished_utc"),
        "quick": meta.get("quick") == "1",
        "elapsed_s": int(meta["elapsed_s"]) if meta.get("elapsed_s") else None,
        "machine": {
            "cpus": int(meta["cpus"]) if meta.get("cpus") else None,
            "cpu_model": meta.get("cpu_model"),
            "memory_bytes": int(meta["memory_bytes"]) if meta.get("memory_bytes") else None,
            "kernel": meta.get("kernel"),
            "filesystem": filesystem,
            "load_average_start": meta.get("load_average_start"),
            "load_average_end": meta.get("load_average_end"),
            "disk_floor": floor,
            "disk_floor_end": floor_end,
        },
        "versions": {
            "troupe": meta.get("troupe_revision"),
            "troupe_server": meta.get("troupe_version"),
            "mariadb": meta.get("mariadb_version"),
            "sysbench": meta.get("sysbench_version"),
            "sqlite": (storage or {}).get("versions", {}).get("sqlite"),
            "lmdb": (storage or {}).get("versions", {}).get("lmdb"),
        },
        "settings": {k: v for k, v in meta.items() if k.startswith(("cmd_", "setting_"))},
        "workloads": workloads,
        "threads": threads,
        "cells": cells,
        "scale": scale,
        "storage_bench": storage,
    }
    results["goals"] = goals(results)
    return results


def find_cell(results, workload, threads):
    for cell in results["cells"]:
        if cell["workload"] == workload and cell["threads"] == threads:
            return cell
    return None


def tps(cell, system):
    entry = (cell or {}).get(system)
    return entry.get("tx_per_sec") if entry and entry.get("ok") else None


def goals(results):
    """The issue's targets, judged as met / not met / not measured; never enforced."""
    out = []
    c64 = find_cell(results, "insert", 64)
    r = ratio(tps(c64, "troupe"), tps(c64, "mariadb"))
    out.append({"goal": "durable inserts at 64 threads: at least 1.5x MariaDB "
                        "(TroupeDB / MariaDB >= 1.5)",
                "measured": None if r is None else round(r, 3),
                "met": None if r is None else r >= 1.5})
    c1 = find_cell(results, "insert", 1)
    floors = [(results["machine"][key].get("append_1_thread") or {}).get("ops_per_sec")
              for key in ("disk_floor", "disk_floor_end")]
    floors = [f for f in floors if f]
    r = ratio(tps(c1, "troupe"), max(floors) if floors else None)
    out.append({"goal": "durable inserts at 1 thread: within 2x of the disk's fdatasync floor "
                        "(TroupeDB tx/s / fdatasync appends/s >= 0.5; the faster of the two floor "
                        "readings)",
                "measured": None if r is None else round(r, 3),
                "met": None if r is None else r >= 0.5})
    ratios = []
    for n in results["threads"]:
        cell = find_cell(results, "select", n)
        ratios.append(ratio(tps(cell, "troupe"), tps(cell, "mariadb")))
    measured = [x for x in ratios if x is not None]
    out.append({"goal": "point selects: at least MariaDB's rate at every thread count "
                        "(each TroupeDB / MariaDB >= 1)",
                "measured": [None if x is None else round(x, 3) for x in ratios],
                "met": None if not measured else all(x >= 1.0 for x in measured)})
    scale = results["scale"]
    r = heap = None
    if len(scale) >= 2 and scale[0].get("vmrss_kb") and scale[0].get("rssanon_kb"):
        r = scale[-1]["vmrss_kb"] / scale[0]["vmrss_kb"]
        heap = scale[-1]["rssanon_kb"] / scale[0]["rssanon_kb"]
    out.append({"goal": "RSS with the most actors within 20% of RSS with 10k actors "
                        "(VmRSS ratio <= 1.2)",
                "measured": None if r is None else round(r, 3),
                "measured_heap": None if heap is None else round(heap, 3),
                "detail": None if r is None else "VmRSS %.2f×, heap (RssAnon) %.2f×" % (r, heap),
                "met": None if r is None else r <= 1.2})
    return out


# --- Markdown ----------------------------------------------------------------------------------

def fmt_int(x):
    return "—" if x is None else "{:,.0f}".format(x)


def fmt_ms(x):
    if x is None:
        return "—"
    if x < 0.1:  # in-process SQLite reads take microseconds
        return "%.3f" % x
    if x < 1:
        return "%.2f" % x
    if x < 100:
        return "%.1f" % x
    return "%.0f" % x


def fmt_ratio(x):
    return "—" if x is None else "%.2f×" % x


def fmt_mib(kib):
    return "—" if kib is None else "%.1f MiB" % (kib / 1024.0)


def sysbench_cell(entry):
    if entry is None:
        return "not run"
    if not entry.get("ok"):
        error = str(entry.get("error", "?"))
        # "FATAL: mysql_drv_query() returned error 1030 (<message>) for query '...'"
        driver = re.search(r"returned error (\d+) \((.*)\) for query", error)
        if driver:
            message = driver.group(2).split(' (in "')[0]
            error = "error %s: %s" % (driver.group(1), message)
        if len(error) > 110:
            error = error[:107] + "..."
        return "failed: " + error.replace("|", "/")
    lat = entry["latency"]
    return "%s (%s / %s / %s)" % (fmt_int(entry["tx_per_sec"]), fmt_ms(lat["p50_ms"]),
                                  fmt_ms(lat["p95_ms"]), fmt_ms(lat["p99_ms"]))


def storage_cell(entry):
    """ops/s (p50 / p95 / p99 ms); p50 / p99 from a troupe-storage-bench without p95."""
    if not entry:
        return "—"
    keys = ("p50_us", "p95_us", "p99_us") if "p95_us" in entry else ("p50_us", "p99_us")
    return "%s (%s)" % (fmt_int(entry.get("ops_per_sec")),
                        " / ".join(fmt_ms(entry.get(k, 0) / 1000) for k in keys))


def table(header, rows, align=None):
    align = align or ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def floor_line(floor):
    if not floor:
        return "not measured"
    one = floor.get("append_1_thread") or {}
    many = floor.get("append_n_threads") or {}
    return "%s/s with 1 thread (p50 %s ms), %s/s with %s threads; overwrites in place: %s/s" % (
        fmt_int(one.get("ops_per_sec")), fmt_ms(one.get("p50_us", 0) / 1000),
        fmt_int(many.get("ops_per_sec")), many.get("threads", "?"),
        fmt_int((floor.get("overwrite_1_thread") or {}).get("ops_per_sec")))


def render_markdown(results):
    m = results["machine"]
    v = results["versions"]
    s = results["settings"]
    md = ["# TroupeDB side by side with MariaDB, plain SQLite and the disk",
          "",
          "`tests/bench/run.sh%s`, %s to %s (UTC, %s s), TroupeDB %s." % (
              " --quick" if results["quick"] else "", results["started_utc"],
              results["finished_utc"], results["elapsed_s"], v["troupe"]),
          "",
          "## Machine",
          "",
          "- %s CPUs (%s), %.1f GiB RAM, %s" % (
              m["cpus"], m["cpu_model"], (m["memory_bytes"] or 0) / 2**30, m["kernel"]),
          "- data on %s" % m["filesystem"],
          "- disk floor, 4 KiB appends + fdatasync, before the workloads: "
          + floor_line(m["disk_floor"]),
          "- the same after the workloads and the scale test: " + floor_line(m["disk_floor_end"]),
          "- load average (1/5/15 min) at the start %s, at the end %s" % (
              m["load_average_start"], m["load_average_end"]),
          "- versions: %s; %s; %s; SQLite %s; LMDB %s" % (
              v["troupe_server"], v["mariadb"], v["sysbench"], v["sqlite"], v["lmdb"]),
          "",
          "## Workloads over the MySQL protocol",
          "",
          "Throughput in transactions per second (latency p50 / p95 / p99 in ms), one sysbench run "
          "per cell, sysbench client threads each on their own actors (TroupeDB) or tables "
          "(MariaDB). Plain SQLite: in-process, from troupe-storage-bench (p50 / p95 / p99 ms), "
          "WAL, `synchronous=FULL`; inserts: one file per writer; point selects: one file per "
          "actor, each thread cycling through as many actors with as many rows as its sysbench "
          "counterpart, a prepared `SELECT v FROM t WHERE id = ?`.",
          ""]
    header = ["workload", "threads", "TroupeDB", "MariaDB", "plain SQLite", "TroupeDB / MariaDB",
              "TroupeDB / SQLite"]
    rows = []
    for cell in results["cells"]:
        rows.append([WORKLOAD_TITLES.get(cell["workload"], cell["workload"]), cell["threads"],
                     sysbench_cell(cell.get("troupe")), sysbench_cell(cell.get("mariadb")),
                     storage_cell(cell.get("sqlite"))
                     if cell["workload"] in ("insert", "select") else "—",
                     fmt_ratio(cell.get("ratio_troupe_over_mariadb")),
                     fmt_ratio(cell.get("ratio_troupe_over_sqlite"))])
    md += [table(header, rows, ["---", "---:", "---:", "---:", "---:", "---:", "---:"]), ""]

    engine_rows = []
    for cell in results["cells"]:
        if cell["workload"] == "insert" and cell.get("engine_in_process"):
            engine_rows.append([cell["threads"], storage_cell(cell["engine_in_process"]),
                                sysbench_cell(cell.get("troupe")),
                                fmt_ratio(ratio(tps(cell, "troupe"),
                                                cell["engine_in_process"].get("ops_per_sec")))])
    if engine_rows:
        md += ["What the MySQL protocol and the query layer cost: the same durable inserts through "
               "TroupeDB's storage engine in-process (troupe-storage-bench, p50 / p99 ms) and "
               "through the server's MySQL port.", "",
               table(["threads", "engine in-process", "server over MySQL", "MySQL / in-process"],
                     engine_rows, ["---:", "---:", "---:", "---:"]), ""]

    if results["scale"]:
        md += ["## Scale: actors created through the MySQL port", "",
               "Each stage creates actors (`ACTOR bench(<name>) create; INSERT INTO t (v) VALUES "
               "(n)`, one request each) with %s sysbench threads on a fresh server, continuing "
               "from the previous stage; disk is `du` of the data directory (allocated blocks), "
               "memory the server's `/proc/<pid>/status` after %s s idle." % (
                   s.get("setting_scale_threads", "?"), s.get("setting_scale_idle_s", "?")), ""]
        rows = []
        for st in results["scale"]:
            c = st["create"]
            rows.append([fmt_int(st["actors"]),
                         "%.1f s" % c["total_time_s"] if c.get("ok") else "failed",
                         fmt_int(c.get("tx_per_sec")) if c.get("ok") else "—",
                         fmt_ms((c.get("latency") or {}).get("p99_ms")),
                         fmt_int(st["disk_bytes_per_actor"]),
                         fmt_mib(st.get("vmrss_kb")), fmt_mib(st.get("vmhwm_kb")),
                         fmt_mib(st.get("rssanon_kb"))])
        md += [table(["actors", "stage time", "actors/s", "p99 ms", "disk bytes/actor", "VmRSS",
                      "VmHWM", "RssAnon (heap)"], rows,
                     ["---:"] * 8), ""]

    md += ["## Goals (issue 5; reported, never enforced)", ""]
    rows = []
    for g in results["goals"]:
        measured = g["measured"]
        if g.get("detail"):
            measured = g["detail"]
        elif isinstance(measured, list):
            measured = ", ".join(fmt_ratio(x) for x in measured)
        else:
            measured = fmt_ratio(measured)
        met = {True: "met", False: "not met", None: "not measured"}[g["met"]]
        rows.append([g["goal"], measured, met])
    md += [table(["goal", "measured", "judged"], rows), ""]

    md += ["## Settings", ""]
    for key in sorted(s):
        md.append("- %s: `%s`" % (key.replace("cmd_", "command, ").replace("setting_", ""),
                                  s[key]))
    md += ["", "Latency percentiles: nearest rank over sysbench's latency histogram of the "
           "measured window (1,024 log buckets, ~1.8% wide), the same computation as sysbench's "
           "`--percentile`, so p50, p95 and p99 come from one run.", ""]
    return "\n".join(md)


def write_report(raw, out):
    results = build_results(raw)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    markdown = render_markdown(results)
    (out / "report.md").write_text(markdown)
    return results, markdown


# --- self-test ---------------------------------------------------------------------------------

def self_test(canned):
    """Checks parsing, percentiles, ratios, goals and both outputs on canned raw results."""
    failures = []

    def check(condition, what):
        if not condition:
            failures.append(what)

    check(percentile_from_histogram([(1.0, 50), (2.0, 45), (3.0, 5)], 50) == 1.0, "p50 rank")
    check(percentile_from_histogram([(1.0, 50), (2.0, 45), (3.0, 5)], 95) == 2.0, "p95 rank")
    check(percentile_from_histogram([(1.0, 50), (2.0, 45), (3.0, 5)], 99) == 3.0, "p99 rank")
    check(percentile_from_histogram([], 50) is None, "empty histogram")

    tmp = Path(tempfile.mkdtemp(prefix="harness-selftest."))
    try:
        results, markdown = write_report(canned, tmp)
        loaded = json.loads((tmp / "results.json").read_text())
        check(loaded["cells"] == json.loads(json.dumps(results["cells"])), "JSON round trip")
        ins1 = find_cell(loaded, "insert", 1)
        t = ins1["troupe"]
        check(t["ok"] and t["transactions"] == 2000 and t["tx_per_sec"] == 1000.0, "troupe tps")
        check(t["latency"]["histogram_events"] == 2000, "histogram events = transactions")
        check((t["latency"]["p50_ms"], t["latency"]["p95_ms"], t["latency"]["p99_ms"]) ==
              (0.8, 1.5, 4.0), "troupe percentiles %r" % (t["latency"],))
        check(t["latency"].get("sysbench_p99_ms") == t["latency"]["p99_ms"],
              "sysbench's own p99 agrees")
        check(abs(ins1["ratio_troupe_over_mariadb"] - 2.0) < 1e-9, "ratio vs MariaDB")
        check(abs(ins1["ratio_troupe_over_sqlite"] - 0.5) < 1e-9, "ratio vs SQLite")
        sel1 = find_cell(loaded, "select", 1)
        check(sel1["mariadb"]["ok"] is False and "Lost connection" in sel1["mariadb"]["error"],
              "a failed cell is reported as failed")
        check(sel1["ratio_troupe_over_mariadb"] is None, "no ratio for a failed cell")
        check(sel1["sqlite"]["ops_per_sec"] == 32000.0, "plain SQLite point selects")
        check(abs(sel1["ratio_troupe_over_sqlite"] - 0.25) < 1e-9, "select ratio vs SQLite")
        check(loaded["scale"][1]["disk_bytes_per_actor"] == 500.0, "disk per actor")
        goals_by_name = {g["goal"][:20]: g for g in loaded["goals"]}
        floor_goal = goals_by_name["durable inserts at 1"]
        check(floor_goal["met"] is True and floor_goal["measured"] == 0.556,
              "fsync-floor goal against the faster floor reading: %r" % floor_goal)
        check("ext4 on /dev/vda (/)" in markdown, "file system from troupe-storage-bench")
        check("VmRSS 1.50×, heap (RssAnon) 1.03×" in markdown, "RSS goal detail")
        check(goals_by_name["RSS with the most ac"]["met"] is False, "RSS goal")
        # Markdown: every table row has as many cells as its header.
        for block in markdown.split("\n\n"):
            rows = [l for l in block.splitlines() if l.startswith("|")]
            if rows:
                widths = {l.count("|") for l in rows}
                check(len(widths) == 1, "ragged table:\n" + "\n".join(rows))
        check("| durable single-row inserts | 1 | 1,000 (0.80 / 1.5 / 4.0) | 500 (" in markdown,
              "insert row in the Markdown")
        check("failed: error 2013: Lost connection to server during query |" in markdown,
              "failed cell in the Markdown")
        check("2.00×" in markdown and "0.50×" in markdown, "ratios in the Markdown")
        check("| point selects by primary key | 1 | 8,000 (" in markdown and
              "| 32,000 (0.020 / 0.040 / 0.060) | — | 0.25× |" in markdown,
              "point-select row with the plain SQLite baseline in the Markdown")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for failure in failures:
        print("self-test FAILED: " + failure, file=sys.stderr)
    if not failures:
        print("harness_report.py self-test: ok (%s)" % canned)
    return 0 if not failures else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, help="raw results of one run.sh run")
    parser.add_argument("--out", type=Path, help="where report.md and results.json go")
    parser.add_argument("--self-test", action="store_true",
                        help="check the writer on the canned results in tests/bench/selftest")
    args = parser.parse_args()
    if args.self_test:
        return self_test(Path(__file__).resolve().parent / "selftest")
    if not args.raw or not args.out:
        parser.error("--raw and --out are required (or --self-test)")
    _, markdown = write_report(args.raw, args.out)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
