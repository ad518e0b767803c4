#!/usr/bin/env bash
# TroupeDB side by side with MariaDB, plain SQLite and the disk, in one run on this machine
# (resources/docs/benchmarks.md, issue 5). Installs what it needs, builds a release
# troupe-server and troupe-storage-bench, starts TroupeDB and MariaDB on loopback in a temporary
# directory, drives both with sysbench over the MySQL protocol, creates many actors, and writes
# report.md + results.json (and the raw outputs) to --out.
#
#   tests/bench/run.sh [--quick] [--out DIR] [--no-build] [--keep]
#   tests/bench/run.sh --self-test      check the report writer on canned input (seconds; CTest)
#
#   --quick       under 3 minutes: threads 1,64, 1 s warm-up + 3 s per cell, 10k actors
#                 (full: threads 1,16,64, 2 s + 10 s per cell, 10k/100k/1M actors; under 20 min)
#   --out DIR     where the results go (default var/bench/<UTC time>)
#   --no-build    use the binaries already in build/release (skips install-deps and the build)
#   --keep        keep the temporary directory (data directories, logs) for inspection
# A benchmark, not a test: it fails only when it cannot measure, never because a number is low.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bench="$repo/tests/bench"
# Debian's interpreter when there is one (the report writer needs only the standard library).
python=/usr/bin/python3
[[ -x $python ]] || python=python3
quick=0
build=1
keep=0
out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    --out)
        [[ $# -ge 2 ]] || { echo "--out needs a directory" >&2; exit 2; }
        out="$2"
        shift
        ;;
    --out=*) out="${1#--out=}" ;;
    --self-test) exec "$python" "$bench/harness_report.py" --self-test ;;
    -h | --help)
        sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "run.sh: unknown option '$1' (see --help)" >&2
        exit 2
        ;;
    esac
    shift
done

if [[ $quick == 1 ]]; then
    threads=(1 64)
    warmup=1
    measure=3
    scale_stages=(10000)
    storage_args=(--quick --writers "1,64" --fsync-threads 16)
else
    threads=(1 16 64)
    warmup=2
    measure=10
    scale_stages=(10000 100000 1000000)
    storage_args=(--duration 5 --warmup 1 --repeat 1 --writers "1,16,64" --fsync-threads 16)
fi
workloads=(insert select mix multi)
actors_per_thread=10 # every workload uses the same 10 actors (tables) per thread
seed_rows=10         # troupe_actors.lua's --seed-rows default: the ids point selects read
scale_threads=64
idle=2
started_epoch=$(date +%s)
stamp=$(date -u +%Y%m%d-%H%M%S)
out="${out:-$repo/var/bench/$stamp}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
raw="$out/raw"
mkdir -p "$raw/sysbench" "$raw/logs"

section() { printf '\n== %s (%ss)\n' "$1" "$(($(date +%s) - started_epoch))"; }

# --- tools and binaries ------------------------------------------------------------------------
release="$repo/build/release"
if [[ $build == 1 ]]; then
    section "dependencies (installers/dev/install-deps.sh --bench)"
    "$repo/installers/dev/install-deps.sh" --bench
    section "building troupe-server and troupe-storage-bench (release preset)"
    (cd "$repo" && cmake --preset release >/dev/null &&
        cmake --build --preset release -j "$(nproc 2>/dev/null || echo 2)" \
            --target troupe-server troupe-storage-bench)
fi
server="$release/daemon/app/troupe-server"
storage_bench="$release/tests/bench/troupe-storage-bench"
for tool in "$server" "$storage_bench"; do
    [[ -x $tool ]] || { echo "run.sh: $tool is missing (run without --no-build)" >&2; exit 1; }
done
for tool in sysbench mariadbd mariadb-install-db mariadb-admin "$python"; do
    command -v "$tool" >/dev/null || {
        echo "run.sh: $tool is missing: installers/dev/install-deps.sh --bench" >&2
        exit 1
    }
done

# --- the temporary directory and the servers' lifetime ------------------------------------------
# Durable-write figures need a disk: TMPDIR unless it is in memory, else under var/ (git-ignored).
work="$(mktemp -d "${TMPDIR:-/tmp}/troupe-bench.XXXXXX")"
case "$(stat -f -c %T "$work")" in
tmpfs | ramfs)
    rmdir "$work"
    mkdir -p "$repo/var/bench"
    work="$(mktemp -d "$repo/var/bench/tmp.XXXXXX")"
    ;;
esac
troupe_pid=""
maria_pid=""

# Stops a server started by this script: SIGTERM, then SIGKILL after 60 s.
stop_pid() {
    local pid="$1"
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 600); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "run.sh: pid $pid did not stop in 60 s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}
stop_troupe() {
    stop_pid "$troupe_pid"
    troupe_pid=""
}
stop_mariadb() {
    stop_pid "$maria_pid"
    maria_pid=""
}
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_troupe
    stop_mariadb
    for log in "$work"/*/troupe.log "$work"/mariadb/error.log; do
        if [[ -f $log ]]; then
            cp "$log" "$raw/logs/$(basename "$(dirname "$log")")-$(basename "$log")"
        fi
    done
    if [[ $keep == 1 ]]; then
        echo "kept $work"
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

# Free TCP ports on loopback (bound and released; nothing else is expected to grab them).
free_ports() {
    "$python" - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

wait_for() { # wait_for <seconds> <pid> <command...>: polls the command while the pid lives
    local deadline=$(($(date +%s) + $1)) pid="$2"
    shift 2
    until "$@" >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || return 1
        [[ $(date +%s) -lt $deadline ]] || return 1
        sleep 0.1
    done
}

# TroupeDB: a fresh data directory initialised with resources/init.sql + the `bench` type.
cat "$repo/resources/init.sql" "$bench/sysbench/schema.sql" >"$work/init.sql"
start_troupe() { # start_troupe <name>: data in $work/<name>
    local dir="$work/$1" ports
    read -r -a ports <<<"$(free_ports 4)"
    troupe_mysql_port=${ports[0]}
    troupe_http_port=${ports[1]}
    mkdir -p "$dir"
    troupe_cmd=("$server" --data-dir "$dir/data" --init "$work/init.sql" --listen 127.0.0.1
        --mysql-port "${ports[0]}" --http-port "${ports[1]}" --thrift-port "${ports[2]}"
        --node-port "${ports[3]}" --log-file "$dir/troupe.log")
    "${troupe_cmd[@]}" </dev/null >"$dir/stdout.log" 2>&1 &
    troupe_pid=$!
    troupe_data="$dir/data"
    if ! wait_for 60 "$troupe_pid" curl -fsS "http://127.0.0.1:$troupe_http_port/ready"; then
        cat "$dir/stdout.log" "$dir/troupe.log" >&2 2>/dev/null || true
        echo "run.sh: troupe-server did not become ready" >&2
        exit 1
    fi
}

# MariaDB: its own datadir, socket and port in $work; durable commits (redo log flushed at every
# commit, binary log on and synced at every commit); no grant tables (loopback only). The table
# caches hold all the tables of the run (64 threads x 10): with the default definition cache
# (400) statements would reopen tables. Statistics are not recalculated automatically: a table of
# ten rows changes by more than 10% at every insert, so InnoDB would recompute the statistics of
# the 640 tables all the time and INSERTs would queue on the dictionary latch behind it (~100
# tx/s at 64 threads instead of ~5,000) - an artefact of mapping small actors to tables.
start_mariadb() {
    local dir="$work/mariadb"
    mkdir -p "$dir"
    maria_port=$(free_ports 1)
    local as_user=()
    [[ $(id -u) == 0 ]] && as_user=(--user=root)
    mariadb-install-db --no-defaults --datadir="$dir/data" "${as_user[@]}" --skip-test-db \
        --auth-root-authentication-method=normal >"$dir/install.log" 2>&1 || {
        cat "$dir/install.log" >&2
        exit 1
    }
    maria_cmd=(mariadbd --no-defaults "${as_user[@]}" --datadir="$dir/data" --bind-address=127.0.0.1
        --port="$maria_port" --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid"
        --log-error="$dir/error.log" --skip-grant-tables --skip-name-resolve
        --max-connections=500 --table-open-cache=4000 --table-definition-cache=4000
        --innodb-stats-auto-recalc=OFF
        --innodb-flush-log-at-trx-commit=1 --sync-binlog=1
        --log-bin="$dir/data/binlog" --server-id=1)
    "${maria_cmd[@]}" </dev/null >"$dir/stdout.log" 2>&1 &
    maria_pid=$!
    if ! wait_for 120 "$maria_pid" mariadb-admin --no-defaults --protocol=tcp -h 127.0.0.1 \
        -P "$maria_port" -u root ping; then
        cat "$dir/error.log" >&2 2>/dev/null || true
        echo "run.sh: mariadbd did not become ready" >&2
        exit 1
    fi
    mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$maria_port" -u root \
        -e "CREATE DATABASE bench"
}

# --- the run's description ---------------------------------------------------------------------
meta="$raw/meta.txt"
{
    echo "started_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "quick=$quick"
    echo "cpus=$(nproc)"
    echo "cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "memory_bytes=$(($(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) * 1024))"
    echo "kernel=$(uname -s -r -m)"
    echo "filesystem=$(stat -f -c %T "$work") on $(df -P "$work" | awk 'NR == 2 { print $1 " (" $6 ")" }')"
    echo "load_average_start=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "troupe_revision=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"
    echo "troupe_version=$("$server" --version)"
    echo "mariadb_version=$(mariadbd --version | sed 's/ for .*//; s/  */ /g')"
    echo "sysbench_version=$(sysbench --version)"
    echo "workloads=$(IFS=,; echo "${workloads[*]}")"
    echo "threads=$(IFS=,; echo "${threads[*]}")"
    echo "setting_cell=$warmup s warm-up (sysbench --report-checkpoints=$warmup: reported, then reset) + $measure s measured, one run per cell, TroupeDB and MariaDB alternating"
    echo "setting_actors_per_thread=$actors_per_thread actors (TroupeDB) or tables (MariaDB) per sysbench thread, 10 seed rows each"
    echo "setting_sqlite=in-process (troupe-storage-bench), one file per actor, journal_mode=WAL, synchronous=FULL; inserts: one file per writer thread, prepared INSERT, autocommit; point selects: $actors_per_thread files of $seed_rows rows per thread, cycled through, prepared SELECT v FROM t WHERE id = ?1, ids drawn like sysbench's default special distribution"
    echo "setting_mix=--mix-reads=4: 4 point selects then 1 insert on one actor/table, then the next"
    echo "setting_multi=TroupeDB: one request ACTOR bench(t<n>_0,...,t<n>_9) create; INSERT INTO t (v) VALUES (x); MariaDB: BEGIN, 10 INSERTs into the thread's 10 tables, COMMIT"
    echo "setting_scale_threads=$scale_threads"
    echo "setting_scale_idle_s=$idle"
    echo "setting_troupe=fsync=always (the default), executor threads = cores, 1024 open actors at most"
    echo "setting_mariadb=InnoDB, innodb_flush_log_at_trx_commit=1, sync_binlog=1, log-bin, table_open_cache and table_definition_cache 4000 (all tables of the run), innodb_stats_auto_recalc=OFF, other settings default (buffer pool 128 MiB, flush method O_DIRECT)"
} >"$meta"
cat "$meta"

# --- 1. disk floor and plain SQLite (troupe-storage-bench) --------------------------------------
section "disk floor and plain SQLite: troupe-storage-bench --sections fsync,writes,reads"
mkdir -p "$work/storage" "$raw/storage-bench"
revision="$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"
storage_cmd=("$storage_bench" --dir "$work/storage" --out "$raw/storage-bench"
    --sections "fsync,writes,reads" --revision "$revision" "${storage_args[@]}"
    --read-threads "$(IFS=,; echo "${threads[*]}")" --read-actors "$actors_per_thread"
    --read-rows "$seed_rows")
echo "cmd_storage_bench=${storage_cmd[*]}" >>"$meta"
if ! "${storage_cmd[@]}" >"$raw/storage-bench.log" 2>&1; then
    tail -20 "$raw/storage-bench.log" >&2
    echo "run.sh: troupe-storage-bench failed" >&2
    exit 1
fi
grep -E '^\[|^  [a-z0-9]' "$raw/storage-bench.log" || true
storage_json=("$raw"/storage-bench/storage-bench-*.json)
cp "${storage_json[0]}" "$raw/storage-bench.json"
rm -rf "$work/storage"

# --- 2. workloads over the MySQL protocol -------------------------------------------------------
section "starting TroupeDB and MariaDB"
start_troupe troupe
start_mariadb
echo "cmd_troupe=${troupe_cmd[*]}" >>"$meta"
echo "cmd_mariadb=${maria_cmd[*]}" >>"$meta"
echo "TroupeDB pid $troupe_pid, MySQL port $troupe_mysql_port; MariaDB pid $maria_pid, port $maria_port"

common=(--time=$((warmup + measure)) --report-checkpoints="$warmup" --histogram=on
    --percentile=99 --actors-per-thread="$actors_per_thread" --mix-reads=4 --txn-actors=10)
echo "cmd_sysbench_troupe=sysbench $bench/sysbench/troupe_actors.lua --mysql-host=127.0.0.1 --mysql-port=PORT --mysql-user=root --mysql-password=rootpass --mysql-db=bench --threads=N --mode=MODE ${common[*]} run" >>"$meta"
echo "cmd_sysbench_mariadb=sysbench $bench/sysbench/mariadb_rows.lua --mysql-host=127.0.0.1 --mysql-port=PORT --mysql-user=root --mysql-db=bench --threads=N --mode=MODE ${common[*]} run" >>"$meta"

run_cell() { # run_cell <system> <workload> <threads>
    local system="$1" workload="$2" n="$3" file rc
    local args=(--mysql-host=127.0.0.1 --mysql-user=root --mysql-db=bench --threads="$n"
        --mode="$workload" "${common[@]}")
    if [[ $system == troupe ]]; then
        args=("$bench/sysbench/troupe_actors.lua" --mysql-port="$troupe_mysql_port"
            --mysql-password=rootpass "${args[@]}")
    else
        args=("$bench/sysbench/mariadb_rows.lua" --mysql-port="$maria_port" "${args[@]}")
    fi
    file="$raw/sysbench/$system-$workload-$n"
    echo "# command: sysbench ${args[*]} run" >"$file.txt"
    rc=0
    sysbench "${args[@]}" run >>"$file.txt" 2>&1 || rc=$?
    echo "$rc" >"$file.rc"
    awk -v s="$system" -v w="$workload" -v n="$n" -v rc="$rc" '
        /SQL statistics:/ { final = 1 }
        final && /transactions:/ { tps = $3; sub(/\(/, "", tps) }
        final && /th percentile:/ { p = $3 }
        END { printf "  %-8s %-7s %3d threads: %s tx/s, p99 %s ms%s\n", s, w, n, tps, p,
              rc != 0 ? "  (sysbench exit " rc ")" : "" }' "$file.txt"
}

# Every actor and table the cells use exists, with its seed rows, before the first measurement.
max_threads=$(printf '%s\n' "${threads[@]}" | sort -n | tail -1)
section "creating $((max_threads * actors_per_thread)) actors and as many tables (sysbench prepare)"
for script in troupe_actors.lua mariadb_rows.lua; do
    if [[ $script == troupe_actors.lua ]]; then
        target=(--mysql-port="$troupe_mysql_port" --mysql-password=rootpass)
    else
        target=(--mysql-port="$maria_port")
    fi
    sysbench "$bench/sysbench/$script" --mysql-host=127.0.0.1 --mysql-user=root --mysql-db=bench \
        "${target[@]}" --threads="$max_threads" --actors-per-thread="$actors_per_thread" \
        prepare >"$raw/sysbench/prepare-${script%.lua}.txt" 2>&1 || {
        tail -5 "$raw/sysbench/prepare-${script%.lua}.txt" >&2
        exit 1
    }
done

for workload in "${workloads[@]}"; do
    section "workload $workload"
    for n in "${threads[@]}"; do
        run_cell troupe "$workload" "$n"
        run_cell mariadb "$workload" "$n"
    done
done
stop_troupe
stop_mariadb

# --- 3. scale: actors created through the MySQL port --------------------------------------------
section "scale: creating ${scale_stages[*]} actors with $scale_threads threads"
start_troupe scale
printf 'actors\tdu_allocated_bytes\tdu_apparent_bytes\tvmrss_kb\tvmhwm_kb\trssanon_kb\trssfile_kb\n' \
    >"$raw/scale.tsv"
status_kb() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$troupe_pid/status"; }
created=0
stage=0
for target in "${scale_stages[@]}"; do
    stage=$((stage + 1))
    file="$raw/sysbench/troupe-create-$target"
    args=("$bench/sysbench/troupe_actors.lua" --mysql-host=127.0.0.1
        --mysql-port="$troupe_mysql_port" --mysql-user=root --mysql-password=rootpass
        --mysql-db=bench --threads="$scale_threads" --mode=create --actor-prefix="s${stage}_"
        --events=$((target - created)) --time=0 --histogram=on --percentile=99)
    echo "# command: sysbench ${args[*]} run" >"$file.txt"
    rc=0
    sysbench "${args[@]}" run >>"$file.txt" 2>&1 || rc=$?
    echo "$rc" >"$file.rc"
    [[ $rc == 0 ]] || { tail -5 "$file.txt" >&2; echo "run.sh: creating actors failed" >&2; exit 1; }
    created=$target
    sleep "$idle" # idle: the memory reading of a server that is not busy
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" \
        "$(du -s -B1 "$troupe_data" | cut -f1)" "$(du -s -b "$troupe_data" | cut -f1)" \
        "$(status_kb VmRSS)" "$(status_kb VmHWM)" "$(status_kb RssAnon)" "$(status_kb RssFile)" \
        >>"$raw/scale.tsv"
    awk -v a="$target" '/transactions:/ { r = $3; sub(/\(/, "", r) } /total time:/ { t = $3 }
        END { printf "  %d actors: stage %s, %s actors/s\n", a, t, r }' "$file.txt"
done
stop_troupe

# --- 4. the disk floor once more: a shared or virtual disk changes speed during a run ------------
section "disk floor again: troupe-storage-bench --sections fsync"
mkdir -p "$work/storage" "$raw/storage-bench-end"
floor_cmd=("$storage_bench" --dir "$work/storage" --out "$raw/storage-bench-end"
    --sections fsync --revision "$revision" "${storage_args[@]}")
if "${floor_cmd[@]}" >"$raw/storage-bench-end.log" 2>&1; then
    grep -E '^  [a-z0-9]' "$raw/storage-bench-end.log" || true
    storage_json=("$raw"/storage-bench-end/storage-bench-*.json)
    cp "${storage_json[0]}" "$raw/storage-bench-end.json"
else
    echo "run.sh: the second disk-floor reading failed (the report goes on without it)" >&2
fi
rm -rf "$work/storage"

# --- 5. the report -----------------------------------------------------------------------------
{
    echo "load_average_end=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "finished_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "elapsed_s=$(($(date +%s) - started_epoch))"
} >>"$meta"
section "report"
"$python" "$bench/harness_report.py" --raw "$raw" --out "$out"
printf '\nresults: %s/report.md\n         %s/results.json\n         %s/ (raw outputs)\n' \
    "$out" "$out" "$raw"
