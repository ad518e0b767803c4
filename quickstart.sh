#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds TroupeDB (release preset), and starts a
# single-node server in the background with its data in var/quickstart/, then prints how to
# reach it. Run it again to rebuild and restart; `./quickstart.sh stop` stops the server.
set -euo pipefail
cd "$(dirname "$0")"

root=$PWD
state=$root/var/quickstart
pidfile=$state/troupe-server.pid
http_port=${TROUPE_HTTP_PORT:-33380}
mysql_port=${TROUPE_MYSQL_PORT:-33307}
thrift_port=${TROUPE_THRIFT_PORT:-33306}

stop_server() {
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "Stopping troupe-server (pid $(cat "$pidfile"))"
        kill -TERM "$(cat "$pidfile")"
        for _ in $(seq 1 100); do
            kill -0 "$(cat "$pidfile")" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -f "$pidfile"
}

if [ "${1:-}" = stop ]; then
    stop_server
    exit 0
fi

installers/dev/install-deps.sh
echo "Building (release preset)..."
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc 2>/dev/null || echo 2)" --target troupe-server troupe

stop_server
mkdir -p "$state"
# A self-signed certificate for TLS on the MySQL port, made once (clients that verify the server
# need --ssl-ca=$state/tls/cert.pem; replace it with a real one for anything but this machine).
if [ ! -s "$state/tls/cert.pem" ] || [ ! -s "$state/tls/key.pem" ]; then
    mkdir -p "$state/tls"
    (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 825 \
        -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$state/tls/key.pem" -out "$state/tls/cert.pem" 2>/dev/null)
fi
server=$root/build/release/daemon/app/troupe-server
shell=$root/build/release/shell/troupe
nohup "$server" --data-dir "$state/data" --listen 127.0.0.1 --http-port "$http_port" \
    --mysql-port "$mysql_port" --thrift-port "$thrift_port" \
    --tls-cert "$state/tls/cert.pem" --tls-key "$state/tls/key.pem" \
    --log-file "$state/troupe.log" </dev/null >"$state/stdout.log" 2>&1 &
echo $! >"$pidfile"

ready=
for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$http_port/ready" >/dev/null 2>&1; then
        ready=1
        break
    fi
    kill -0 "$(cat "$pidfile")" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$ready" ]; then
    echo "troupe-server did not become ready; its log:" >&2
    cat "$state/stdout.log" "$state/troupe.log" >&2 2>/dev/null || true
    exit 1
fi

# The first start initialises the node over Thrift with the shell, as an operator would: a
# node without config accepts any login and only `use config` until resources/init.sql (the
# demo schema and the root user) has run. Later starts find it initialised and skip this.
probe=$("$shell" -u root -prootpass -q "show cluster" "127.0.0.1:$thrift_port" 2>&1 >/dev/null) ||
    true
if [[ "$probe" == *not_initialized* ]]; then
    echo "Initialising the node: troupe -f resources/init.sql"
    if ! "$shell" -u root -f "$root/resources/init.sql" "127.0.0.1:$thrift_port" >/dev/null; then
        echo "initialising the node failed; the server's log is in $state/troupe.log" >&2
        exit 1
    fi
elif [ -n "$probe" ]; then
    echo "note: the node did not answer as root/rootpass ($probe); it was initialised before" \
        "with other settings, so resources/init.sql was not run" >&2
fi

cat <<MSG

TroupeDB is running (pid $(cat "$pidfile")), data in $state/data, log in $state/troupe.log.

  MySQL:    mariadb -h 127.0.0.1 -P $mysql_port -u root -prootpass -D type1.music
            then: ACTOR type1(music) create; INSERT INTO tab (txt) VALUES ('hello');
                  SELECT * FROM tab;
            over TLS: add --ssl (self-signed certificate in $state/tls/cert.pem;
                  --ssl-ca=$state/tls/cert.pem --ssl-verify-server-cert checks it)
  Shell:    build/release/shell/troupe -prootpass 127.0.0.1:$thrift_port
            then: actor type1(music) create
                  insert into tab (txt) values ('hello')
                  commit        (or -q "..." and --print csv|json for scripts)
            admin: show cluster, show actors type1, show actor type1(music), show metrics
  Thrift:   ActorDB's API (1.4.0) on 127.0.0.1:$thrift_port, framed or unframed, TLS optional;
            clients and examples: resources/docs/thrift.md
  Health:   curl http://127.0.0.1:$http_port/health
  Metrics:  curl http://127.0.0.1:$http_port/metrics
  Stop:     ./quickstart.sh stop

On its first start the node was initialised over Thrift with "troupe -f resources/init.sql":
user root (password rootpass) and the demo actor types type1, thread, user and counters (KV);
the SQL dialect is described in resources/docs/sql.md; the shell in resources/docs/shell.md. The desktop console is not in this
build yet; when it lands, quickstart prints how to start it here.
MSG
