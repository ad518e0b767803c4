#!/usr/bin/env bash
# Windows smoke test: runs the cross-built troupe-server.exe under Wine on a fresh data directory
# with free loopback ports, and checks with the Linux curl that /health and /ready answer 200
# over 127.0.0.1 -- a Linux client talking to the Windows daemon -- and that the Thrift port
# answers protocolVersion() (raw bytes from python3) and the Windows shell troupe.exe initialises
# the node and queries it over Thrift (with fts4, fts5 and a math function); checks that a second server on
# the same data directory is refused (the Win32 file lock); then stops the server with Ctrl+C (as
# Wine delivers SIGINT to a console program), expecting a clean exit 0, and cleans up.
#
#   tests/windows/smoke.sh path/to/troupe-server.exe
#
# The Wine prefix is created once and reused: $TROUPE_WINEPREFIX, default "wine-prefix" next to
# the dependency prefix ($TROUPE_WINDOWS_PREFIX, default $HOME/.cache/troupe/windows-deps), so
# ~/.cache/troupe/wine-prefix. Runs that share a prefix take turns (flock). Every wine command
# runs alone, with a timeout, stdin from /dev/null and its output in a file (resources/docs/windows.md).
# TROUPE_SMOKE_KEEP=1 keeps the work directory (data, logs) for inspection.
set -Eeuo pipefail
trap 'echo "smoke.sh: error: line $LINENO failed: $BASH_COMMAND" >&2' ERR

die() {
    echo "smoke.sh: FAIL: $*" >&2
    exit 1
}
say() { echo "smoke.sh: $*"; }

[ $# -eq 1 ] || die "usage: $0 path/to/troupe-server.exe"
[ -f "$1" ] || die "no such file: $1"
exe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
for tool in wine wineserver curl timeout flock; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (installers/dev/install-deps.sh --windows)"
done

home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)} # CI may run without HOME
deps_prefix=${TROUPE_WINDOWS_PREFIX:-$home/.cache/troupe/windows-deps}
export WINEPREFIX=${TROUPE_WINEPREFIX:-$(dirname "$deps_prefix")/wine-prefix}
export WINEARCH=win64
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=" # no Mono/Gecko install dialogs
unset DISPLAY WAYLAND_DISPLAY             # no windows, ever

start_time=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/troupe-winsmoke.XXXXXX")
log=$work/server.log
server_pid=
passed=0
wineserver_started=0

# wine_cmd NAME SECONDS CMD...: one Wine command, alone, bounded, output in $work/NAME.log.
wine_cmd() {
    local name=$1 seconds=$2
    shift 2
    timeout --kill-after=10 "$seconds" "$@" </dev/null >"$work/$name.log" 2>&1
}

cleanup() {
    local rc=$?
    set +e
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    # Ends every Wine process of this prefix (ours: the prefix is locked) and the wineserver.
    [ "$wineserver_started" = 1 ] && wine_cmd wineserver-kill 30 wineserver -k
    if [ "$passed" != 1 ] && [ -f "$log" ]; then
        echo "----- troupe-server log ($log) -----" >&2
        tail -n 200 "$log" >&2
        echo "----- end of log -----" >&2
    fi
    if [ "${TROUPE_SMOKE_KEEP:-0}" = 1 ]; then
        echo "smoke.sh: kept $work" >&2
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT

# --- the Wine prefix: created once, then reused ------------------------------------------------
mkdir -p "$(dirname "$WINEPREFIX")"
exec 9>"$WINEPREFIX.lock"
flock -w 900 9 || die "another smoke test has held $WINEPREFIX.lock for 15 minutes"
if [ ! -f "$WINEPREFIX/.troupe-ready" ]; then
    say "creating the Wine prefix $WINEPREFIX (once)"
    rm -rf "$WINEPREFIX"
    wineserver_started=1
    wine_cmd wineboot 300 wine wineboot --init || {
        cat "$work/wineboot.log" >&2
        die "wineboot --init failed for $WINEPREFIX"
    }
    wine_cmd wineserver-wait 120 wineserver -w || true
    [ -f "$WINEPREFIX/system.reg" ] || die "wineboot left no registry in $WINEPREFIX"
    touch "$WINEPREFIX/.troupe-ready"
fi
# A persistent wineserver for this prefix, so that Wine start-up is paid once and the server's
# process does not race a wineserver that is shutting down.
wineserver_started=1
wine_cmd wineserver-start 60 wineserver -p || die "wineserver -p failed (see $work/wineserver-start.log)"

# --- free loopback ports -----------------------------------------------------------------------
# Random ports below Linux's ephemeral range that nothing answers on.
declare -A taken=()
free_port() {
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 12000))
        [ -n "${taken[$p]:-}" ] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            taken[$p]=1
            echo "$p"
            return 0
        fi
    done
    die "found no free port on 127.0.0.1"
}
http_port=$(free_port)
thrift_port=$(free_port)
mysql_port=$(free_port)
node_port=$(free_port)

# --- run the server ----------------------------------------------------------------------------
# The data directory as Windows sees it: Wine maps drive Z: to /.
data_dir=$work/data
win_data_dir="Z:${data_dir//\//\\}"
say "starting $(basename "$exe") under Wine: data $win_data_dir, http $http_port," \
    "thrift $thrift_port, mysql $mysql_port, node $node_port"
cd "$work"
timeout --kill-after=10 600 wine "$exe" --data-dir "$win_data_dir" --listen 127.0.0.1 \
    --http-port "$http_port" --thrift-port "$thrift_port" --mysql-port "$mysql_port" \
    --node-port "$node_port" </dev/null >"$log" 2>&1 &
server_pid=$!

# poll PATH SECONDS: wait for 200 from http://127.0.0.1:$http_port/PATH, or fail.
poll() {
    local path=$1 deadline=$((SECONDS + $2)) code
    while :; do
        kill -0 "$server_pid" 2>/dev/null || {
            wait "$server_pid" && code=0 || code=$?
            server_pid=
            die "troupe-server exited (status $code) before /$path answered 200"
        }
        code=$(curl -s -o "$work/$path.body" -w '%{http_code}' --max-time 5 \
            "http://127.0.0.1:$http_port/$path" || true)
        [ "$code" = 200 ] && return 0
        [ "$SECONDS" -lt "$deadline" ] || die "/$path did not answer 200 within $2 s (last status: ${code:-none})"
        sleep 0.5
    done
}
poll health 120
say "/health: 200 after $((SECONDS - start_time)) s ($(head -c 200 "$work/health.body" | tr -d '\r\n'))"
poll ready 60
say "/ready: 200 ($(head -c 200 "$work/ready.body" | tr -d '\r\n'))"
curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$http_port/metrics" ||
    die "/metrics did not answer 200"
say "/metrics: 200"

# --- the Thrift port: ActorDB's protocolVersion() as raw framed binary-protocol bytes ----------
thrift_answer=$(timeout 30 python3 - "$thrift_port" <<'PY' || true
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
name = b"protocolVersion"
msg = b"\x80\x01\x00\x01" + struct.pack(">I", len(name)) + name + struct.pack(">I", 1) + b"\x00"
s.sendall(struct.pack(">I", len(msg)) + msg)
data = b""
while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print("1.4.0" if b"1.4.0" in data else "unexpected answer %r" % data)
PY
)
[ "$thrift_answer" = 1.4.0 ] || die "Thrift protocolVersion() on port $thrift_port: ${thrift_answer:-no answer}"
say "Thrift: protocolVersion() answered 1.4.0 on a framed connection"

# --- the Windows shell (troupe.exe, if built): initialise the node and query it over Thrift ------
shell_exe=$(dirname "$exe")/../../shell/troupe.exe
if [ -f "$shell_exe" ]; then
    win_init="Z:${repo//\//\\}\\resources\\init.sql"
    wine_cmd shell-init 120 wine "$shell_exe" -prootpass -f "$win_init" "127.0.0.1:$thrift_port" ||
        { cat "$work/shell-init.log" >&2; die "troupe.exe -f init.sql failed"; }
    wine_cmd shell-write 120 wine "$shell_exe" -prootpass -q \
        "ACTOR type1(win) create; INSERT INTO tab (txt) VALUES ('from windows')" \
        "127.0.0.1:$thrift_port" ||
        { cat "$work/shell-write.log" >&2; die "troupe.exe -q INSERT failed"; }
    wine_cmd shell-read 120 wine "$shell_exe" -prootpass --print csv -q \
        "ACTOR type1(win); SELECT txt FROM tab" "127.0.0.1:$thrift_port" ||
        { cat "$work/shell-read.log" >&2; die "troupe.exe -q SELECT failed"; }
    grep -q "from windows" "$work/shell-read.log" ||
        { cat "$work/shell-read.log" >&2; die "troupe.exe did not read back its row"; }
    say "troupe.exe: initialised the node from resources/init.sql, wrote and read a row"
    # The SQLite of the Windows build has Debian's features (installers/windows/build-deps.sh,
    # sqlite_flags): FTS4, FTS5 and math functions, so an actor opens the same on both.
    features="ACTOR type1(win); CREATE VIRTUAL TABLE f4 USING fts4(b);"
    features+=" CREATE VIRTUAL TABLE f5 USING fts5(b); INSERT INTO f4 VALUES ('fts four');"
    features+=" INSERT INTO f5 VALUES ('fts five'); SELECT 'features-' ||"
    features+=" ((SELECT count(*) FROM f4 WHERE f4 MATCH 'four') +"
    features+=" (SELECT count(*) FROM f5 WHERE f5 MATCH 'five')) || '-' || CAST(sqrt(16) AS INTEGER)"
    wine_cmd shell-features 120 wine "$shell_exe" -prootpass --print csv -q "$features" \
        "127.0.0.1:$thrift_port" ||
        { cat "$work/shell-features.log" >&2; die "troupe.exe: fts4/fts5/math query failed"; }
    grep -q "features-2-4" "$work/shell-features.log" ||
        { cat "$work/shell-features.log" >&2; die "fts4, fts5 or sqrt() missing on Windows"; }
    say "troupe.exe: fts4 and fts5 tables and sqrt() work on the Windows server"
else
    say "no troupe.exe next to the server (skipping the shell check)"
fi

# --- a second server on the same data directory must refuse (Win32 file lock) ------------------
second_port=$(free_port)
wine_cmd second 120 wine "$exe" --data-dir "$win_data_dir" --listen 127.0.0.1 \
    --http-port "$second_port" --thrift-port "$(free_port)" --mysql-port "$(free_port)" \
    --node-port "$(free_port)" && code=0 || code=$?
if [ "$code" != 1 ] || ! grep -q "in use" "$work/second.log"; then
    cat "$work/second.log" >&2
    die "a second troupe-server on the same data directory exited with $code (expected 1, 'in use')"
fi
say "second server on the same data directory refused: $(grep -m1 "in use" "$work/second.log" | tr -d '\r')"

# --- stop it -----------------------------------------------------------------------------------
# SIGINT reaches the Windows process as Ctrl+C (a console control event): the server's own
# shutdown path, which must end it with status 0. (cleanup() forces anything left.)
kill -INT "$server_pid" 2>/dev/null || true
deadline=$((SECONDS + 30))
while kill -0 "$server_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.5; done
kill -0 "$server_pid" 2>/dev/null && die "troupe-server did not stop within 30 s of Ctrl+C"
wait "$server_pid" && code=0 || code=$?
server_pid=
[ "$code" = 0 ] || die "troupe-server exited with status $code after Ctrl+C (expected 0)"
say "troupe-server stopped on Ctrl+C with exit status 0"

passed=1
say "PASS in $((SECONDS - start_time)) s"
