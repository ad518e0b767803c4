#!/usr/bin/python3
"""Attacks a running troupe-server the way issue 13 found it could be crashed or hung.

    /usr/bin/python3 hostile.py --mysql-port N --http-port N --reader USER:PASS --root USER:PASS

Run by tests/integration/tst_hostile.cpp (CTest label `hostile`), which starts the server with
short limits, creates the actors used here, and afterwards checks that the server still serves
and stops on SIGTERM. Every attack runs as the `reader` user (granted only `read` on type1)
unless it needs a write; each one must get a clear error (or a correct answer) within a bound,
and after each one the server must still answer another client. Use Debian's /usr/bin/python3
(python3-pymysql). Prints one line per attack and a summary (tried, survived); the exit code is
the number of failures.
"""

import argparse
import socket
import threading
import time
import traceback

import pymysql

args = None
results = []


def connect(cred, database=None, **extra):
    user, password = cred.split(":", 1)
    kwargs = dict(host="127.0.0.1", port=args.mysql_port, user=user, password=password,
                  connect_timeout=10, read_timeout=30, write_timeout=30)
    if database:
        kwargs["database"] = database
    kwargs.update(extra)
    return pymysql.connect(**kwargs)


def query(cred, sql, database=None, **extra):
    """Runs sql; returns ('ok', rows) or ('error', (code, message))."""
    conn = connect(cred, database, **extra)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return "ok", cur.fetchall()
    except pymysql.err.MySQLError as e:
        return "error", (e.args[0] if e.args else None, str(e))
    finally:
        try:
            conn.close()
        except Exception:
            pass


def http_get(path, timeout=5.0):
    with socket.create_connection(("127.0.0.1", args.http_port), timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


def server_serves():
    """Another client gets a correct answer at once, and /health says 200."""
    started = time.monotonic()
    kind, rows = query(args.root, "ACTOR type1(hostile_ok); SELECT count(*) FROM tab")
    if kind != "ok" or rows[0][0] != 3:
        return "root's read on type1(hostile_ok) gave %s %s" % (kind, rows)
    if time.monotonic() - started > 5:
        return "root's read took %.1f s" % (time.monotonic() - started)
    if http_get("/health") != 200:
        return "/health is not 200"
    return None


def attack(name):
    def wrap(fn):
        def run():
            started = time.monotonic()
            try:
                problem = fn()
            except Exception:
                problem = "raised:\n" + traceback.format_exc()
            if problem is None:
                problem = server_serves()
            took = time.monotonic() - started
            results.append((name, problem))
            print("%s  %-44s %5.1f s%s" % ("SURVIVED" if problem is None else "FAILED  ", name,
                                           took, "" if problem is None else "  " + problem),
                  flush=True)
        return run
    return wrap


def expect_error(sql, codes=None, database=None, within=10.0, cred=None, session_limit_ms=None):
    started = time.monotonic()
    if session_limit_ms is None:
        kind, what = query(cred or args.reader, sql, database)
    else:  # the session lowers the server's statement_timeout, as MySQL's max_execution_time
        kind, what = query(cred or args.reader, sql, database,
                           init_command="SET max_execution_time = %d" % session_limit_ms)
    took = time.monotonic() - started
    if kind != "error":
        return "no error for %r: %s" % (sql[:60], what)
    if codes and what[0] not in codes:
        return "error %s for %r, expected one of %s" % (what, sql[:60], codes)
    if took > within:
        return "the error took %.1f s" % took
    return None


# 1. SQLite features that crash or leak (fts3_tokenizer, extensions, sqlite_stmt, dbstat).
@attack("fts3_tokenizer with a pointer, then MATCH")
def fts_pointer():
    problem = expect_error("ACTOR type1(hostile_fts); SELECT fts3_tokenizer('simple', "
                           "x'4141414141414141')")
    if problem:
        return problem
    kind, rows = query(args.reader, "ACTOR type1(hostile_fts); SELECT x FROM ft WHERE ft MATCH "
                       "'hello'")
    if kind != "ok" or len(rows) != 1:
        return "MATCH after the attempt gave %s %s" % (kind, rows)
    return None


@attack("fts3_tokenizer address leak")
def fts_leak():
    return expect_error("ACTOR type1(hostile_fts); SELECT hex(fts3_tokenizer('simple'))")


@attack("load_extension")
def load_extension():
    return expect_error("ACTOR type1(hostile_fts); SELECT load_extension('libc.so.6')")


@attack("sqlite_stmt shows cached SQL")
def sqlite_stmt():
    return expect_error("ACTOR type1(hostile_fts); SELECT sql FROM sqlite_stmt")


@attack("dbstat as a reader")
def dbstat():
    return expect_error("ACTOR type1(hostile_fts); SELECT count(*) FROM dbstat")


# 2. NUL bytes.
@attack("NUL byte after a statement")
def nul_statement():
    return expect_error("ACTOR type1(hostile_ok); SELECT 1\x00;", within=5)


@attack("NUL byte in an actor name")
def nul_name():
    return expect_error("ACTOR type1(hostile\x00ok); SELECT count(*) FROM tab", within=5)


# 3. Statements that never end, and clients that leave.
ENDLESS = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
           "SELECT count(*) FROM c")


@attack("endless statements on every executor")
def endless():
    problems = []

    def one(i):
        problem = expect_error("ACTOR type1(hostile_loop%d); %s" % (i % 3, ENDLESS),
                               codes=(3024,), within=args.session_limit + 10,
                               session_limit_ms=int(args.session_limit * 1000))
        if problem:
            problems.append(problem)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(args.endless)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    problem = server_serves()  # while they run
    for t in threads:
        t.join()
    return problem or (problems[0] if problems else None)


@attack("client leaves during an endless statement")
def leaves():
    conn = connect(args.reader)
    sock = conn._sock
    body = ("ACTOR type1(hostile_loop0); " + ENDLESS).encode()
    header = (len(body) + 1).to_bytes(3, "little") + b"\x00" + b"\x03"
    sock.sendall(header + body)
    time.sleep(0.5)
    # pymysql's reader still holds the descriptor: shut the connection down, then close it.
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    started = time.monotonic()
    kind, rows = query(args.reader, "ACTOR type1(hostile_loop0); SELECT 1")
    took = time.monotonic() - started
    if kind != "ok":
        return "the actor after the client left: %s %s" % (kind, rows)
    # Well before the statement's own time limit would have freed the actor.
    if took > args.time_limit / 2:
        return "the actor was held %.1f s after its client left" % took
    return None


# 5. One request over very many actors.
@attack("a request over too many actors")
def many_actors():
    names = ",".join("h%d" % i for i in range(args.many_actors))
    return expect_error("ACTOR type1(%s); SELECT 1" % names, within=20)


# Protocol edges.
@attack("a query of 16 MiB + 10 bytes")
def huge_packet():
    sql = "SELECT '" + "x" * ((16 << 20) + 10 - 9) + "'"
    return expect_error(sql, codes=(1153,), within=30)


# 4. Connections: idle sockets and slowloris on every port.
@attack("400 idle and dribbling connections")
def slowloris():
    socks = []
    try:
        for i in range(400):
            port = (args.http_port, args.mysql_port)[i % 2]
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if port == args.http_port:
                s.sendall(b"GET /health HTTP/1.1\r\nX-a: ")
            socks.append(s)
        started = time.monotonic()
        status = http_get("/health", timeout=5)
        took = time.monotonic() - started
        if status != 200 or took > 3:
            return "/health gave %s after %.1f s under 400 idle connections" % (status, took)
        return None
    finally:
        for s in socks:
            s.close()


# Security basics: repeated failed logins from one source.
@attack("failed logins from one source are slowed down")
def failed_logins():
    user = args.reader.split(":", 1)[0]
    refused_fast = 0
    for _ in range(args.login_failures + 3):
        try:
            pymysql.connect(host="127.0.0.1", port=args.mysql_port, user=user, password="wrong",
                            bind_address="127.0.0.2", connect_timeout=10).close()
            return "a wrong password was accepted"
        except pymysql.err.MySQLError as e:
            if e.args and e.args[0] != 1045:
                refused_fast += 1  # blocked: no longer a plain 'access denied'
    if refused_fast == 0:
        return "no back-off after %d failures" % (args.login_failures + 3)
    return None


def main():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--mysql-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--reader", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--time-limit", type=float, default=8.0)  # the server's, in seconds
    parser.add_argument("--session-limit", type=float, default=1.5)  # max_execution_time, s
    parser.add_argument("--endless", type=int, default=6)
    parser.add_argument("--many-actors", type=int, default=20000)
    parser.add_argument("--login-failures", type=int, default=10)
    args = parser.parse_args()
    for run in (fts_pointer, fts_leak, load_extension, sqlite_stmt, dbstat, nul_statement,
                nul_name, endless, leaves, many_actors, huge_packet, slowloris, failed_logins):
        run()
    failed = sum(1 for _, problem in results if problem)
    print("hostile: tried %d, survived %d" % (len(results), len(results) - failed))
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
