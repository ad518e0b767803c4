#!/usr/bin/python3
"""Drives a running troupe-server's MySQL port with a real Python driver.

    /usr/bin/python3 python_clients.py --driver pymysql|MySQLdb --port N --actor NAME

Run by tests/integration/tst_mysql.cpp. Use Debian's /usr/bin/python3: it has python3-pymysql
(pure-Python text protocol) and python3-mysqldb (mysqlclient on libmariadb). Every check runs even
when an earlier one failed; each prints PASS or FAIL with what it saw, and the exit code is the
number of failures (0: all passed). Exit code 77 means the driver module is not installed.
"""

import argparse
import sys
import traceback

# MySQL column type codes (FIELD_TYPE.* in both drivers).
LONGLONG, DOUBLE, NULL_TYPE, BLOB, VAR_STRING = 8, 5, 6, 252, 253


class Driver:
    def __init__(self, name, port):
        self.name = name
        self.port = port
        if name == "pymysql":
            import pymysql

            self.module = pymysql
            self.error = pymysql.err.MySQLError
        else:
            import MySQLdb

            self.module = MySQLdb
            self.error = MySQLdb.MySQLError

    def connect(self, database=None, password="rootpass", user="root", **extra):
        kwargs = dict(host="127.0.0.1", port=self.port, user=user, connect_timeout=10)
        if self.name == "pymysql":
            kwargs.update(password=password, read_timeout=30, write_timeout=30)
            if database is not None:
                kwargs["database"] = database
        else:
            kwargs.update(passwd=password, read_timeout=30, write_timeout=30)
            if database is not None:
                kwargs["db"] = database
        kwargs.update(extra)
        return self.module.connect(**kwargs)

    def ping(self, conn):
        if self.name == "pymysql":
            conn.ping(reconnect=False)  # a reconnect would hide a dropped connection
        else:
            conn.ping()


failures = []


def check(name):
    def wrap(fn):
        def run(*args):
            try:
                fn(*args)
                print(f"PASS {name}")
            except Exception:  # report and go on: one run shows every broken check
                failures.append(name)
                print(f"FAIL {name}:\n" + traceback.format_exc())

        run.check_name = name
        return run

    return wrap


def expect(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def expect_error(d, conn, sql, code, text=None):
    """sql must fail with MySQL error `code` (and a message containing `text`)."""
    cur = conn.cursor()
    try:
        cur.execute(sql)
        rows = cur.fetchall()
    except d.error as e:
        expect(e.args[0], code, f"error code of {sql!r} ({e})")
        if text is not None and text not in str(e.args[1]):
            raise AssertionError(f"error of {sql!r} should mention {text!r}: {e}")
        return
    raise AssertionError(f"{sql!r} should fail with {code}, returned {rows!r}")


def scalar(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    rows = cur.fetchall()
    expect(len(rows), 1, f"rows of {sql!r}")
    return rows[0][0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--driver", choices=["pymysql", "MySQLdb"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--actor", required=True)
    args = parser.parse_args()
    try:
        d = Driver(args.driver, args.port)
    except ImportError as e:
        print(f"SKIP {e}")
        return 77
    actor = args.actor
    db = f"type1.{actor}"

    @check("inline ACTOR request creates the actor, inserts; rowcount and lastrowid")
    def inline_actor():
        conn = d.connect(autocommit=True)
        cur = conn.cursor()
        cur.execute(f"ACTOR type1({actor}) create; INSERT INTO tab (id, txt, i) VALUES (1, 'one', 10)")
        expect(cur.rowcount, 1, "rowcount")
        expect(cur.lastrowid, 1, "lastrowid")
        cur.execute(f"ACTOR type1({actor}); INSERT INTO tab (txt, i) VALUES ('h\u00e9llo \u2713', NULL)")
        expect(cur.rowcount, 1, "rowcount")
        expect(cur.lastrowid, 2, "lastrowid")
        conn.close()

    @check("database type1.<actor> selects the actor; typed values come back")
    def database_selects_actor():
        conn = d.connect(database=db, autocommit=True)
        cur = conn.cursor()
        cur.execute("SELECT id, txt, i, i * 0.5 AS half FROM tab WHERE id <= 2 ORDER BY id")
        rows = tuple(tuple(r) for r in cur.fetchall())
        expect(rows, ((1, "one", 10, 5.0), (2, "h\u00e9llo \u2713", None, None)), "rows")
        expect([type(v) for v in rows[0]], [int, str, int, float], "Python types of row 1")
        expect([c[0] for c in cur.description], ["id", "txt", "i", "half"], "column names")
        expect(scalar(conn, "SELECT DATABASE()"), db, "SELECT DATABASE()")
        conn.close()

    @check("several statements in one query: one result each (nextset); all or nothing")
    def multi_results():
        conn = d.connect(autocommit=True)
        cur = conn.cursor()
        multi = f"type1({actor}_multi)"
        cur.execute(f"ACTOR {multi} create; INSERT INTO tab (txt) VALUES ('a');"
                    " INSERT INTO tab (txt) VALUES ('b'); SELECT txt FROM tab ORDER BY id;"
                    " UPDATE tab SET i = 7; SELECT count(*) FROM tab WHERE i = 7")
        sets = []
        while True:
            sets.append((cur.rowcount, tuple(tuple(r) for r in (cur.fetchall() or ()))))
            if not cur.nextset():
                break
        expect(sets, [(1, ()), (1, ()), (2, (("a",), ("b",))), (2, ()), (1, ((2,),))],
               "(rowcount, rows) per statement")
        # A failing statement undoes the earlier ones: one error, no partial results.
        expect_error(d, conn, f"ACTOR {multi}; INSERT INTO tab (txt) VALUES ('c');"
                              " INSERT INTO nosuch VALUES (1)", 1146)
        expect(scalar(conn, f"ACTOR {multi}; SELECT count(*) FROM tab"), 2, "rows after the error")
        conn.close()

    @check("column types: LONGLONG, DOUBLE, VAR_STRING, BLOB, NULL")
    def column_types():
        conn = d.connect(database=db, autocommit=True)
        cur = conn.cursor()
        cur.execute("SELECT 7 AS a, 2.5 AS b, 'x' AS c, x'00ff' AS d, NULL AS e")
        expect([c[1] for c in cur.description], [LONGLONG, DOUBLE, VAR_STRING, BLOB, NULL_TYPE],
               "type codes")
        expect(tuple(cur.fetchall()[0]), (7, 2.5, "x", b"\x00\xff", None), "values")
        conn.close()

    @check("plain INSERT in the selected actor: rowcount and lastrowid")
    def sticky_insert():
        conn = d.connect(database=db, autocommit=True)
        cur = conn.cursor()
        cur.execute("INSERT INTO tab (txt, i) VALUES (%s, %s)", ("three", 3))
        expect(cur.rowcount, 1, "rowcount")
        expect(cur.lastrowid, 3, "lastrowid")
        cur.execute("UPDATE tab SET i = i + 1 WHERE i IS NOT NULL")
        expect(cur.rowcount, 2, "rowcount of UPDATE")
        expect(scalar(conn, "SELECT i FROM tab WHERE id = 3"), 4, "updated value")
        conn.close()

    @check("errors map to MySQL numbers and the connection stays usable")
    def errors_keep_connection():
        conn = d.connect(database=db, autocommit=True)
        expect_error(d, conn, "SELECT * FROM nosuch", 1146, "nosuch")
        expect(scalar(conn, "SELECT count(*) FROM tab"), 3, "count after 1146")
        expect_error(d, conn, "SELEC 1", 1064)
        expect(scalar(conn, "SELECT count(*) FROM tab"), 3, "count after 1064")
        expect_error(d, conn, "INSERT INTO tab (id, txt) VALUES (1, 'dup')", 1062)
        expect(scalar(conn, "SELECT count(*) FROM tab"), 3, "count after 1062")
        expect_error(d, conn, "ACTOR type1(no_such_actor_here); SELECT * FROM tab", 1049)
        expect_error(d, conn, "ACTOR nosuchtype(x) create; SELECT 1", 1049)
        expect(scalar(conn, "SELECT txt FROM tab WHERE id = 1"), "one", "select after 1049")
        conn.close()

    @check("a query without an actor says how to name one")
    def no_actor():
        conn = d.connect(autocommit=True)
        cur = conn.cursor()
        try:
            cur.execute("SELECT * FROM tab")
            raise AssertionError(f"should fail, returned {cur.fetchall()!r}")
        except d.error as e:
            if "ACTOR" not in str(e.args[1] if len(e.args) > 1 else e):
                raise AssertionError(f"message should mention ACTOR: {e}")
        expect(scalar(conn, f"ACTOR type1({actor}); SELECT count(*) FROM tab"), 3, "then a count")
        conn.close()

    @check("select_db (COM_INIT_DB) and ping (COM_PING)")
    def select_db_and_ping():
        conn = d.connect(autocommit=True)
        conn.select_db(db)
        expect(scalar(conn, "SELECT count(*) FROM tab"), 3, "count after select_db")
        d.ping(conn)
        expect(scalar(conn, "SELECT DATABASE()"), db, "DATABASE() after select_db")
        conn.close()

    @check("the driver's default connection (autocommit off) inserts and commit() succeeds")
    def default_autocommit_and_commit():
        conn = d.connect(database=db)
        cur = conn.cursor()
        cur.execute("INSERT INTO tab (id, txt, i) VALUES (100, 'committed', 100)")
        conn.commit()
        conn.close()
        other = d.connect(database=db, autocommit=True)
        expect(scalar(other, "SELECT txt FROM tab WHERE id = 100"), "committed", "row seen")
        other.cursor().execute("DELETE FROM tab WHERE id = 100")
        other.close()

    @check("5000-row result arrives complete")
    def many_rows():
        conn = d.connect(database=db, autocommit=True)
        cur = conn.cursor()
        cur.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000)"
                    " SELECT x, 'row' || x FROM c")
        rows = cur.fetchall()
        expect(len(rows), 5000, "row count")
        expect(tuple(rows[-1]), (5000, "row5000"), "last row")
        conn.close()

    @check("driver probes: @@version_comment, @@version, SHOW DATABASES, SET NAMES")
    def probes():
        conn = d.connect(autocommit=True)
        cur = conn.cursor()
        cur.execute("SELECT @@version_comment LIMIT 1")
        expect(len(cur.fetchall()), 1, "rows of @@version_comment")
        version = scalar(conn, "SELECT @@version")
        if not str(version)[:1].isdigit():
            raise AssertionError(f"@@version should start with a number: {version!r}")
        cur.execute("SHOW DATABASES")
        names = {r[0] for r in cur.fetchall()}
        if not {"type1", "thread", "user", "counters"} <= names:
            raise AssertionError(f"SHOW DATABASES: {names!r}")
        cur.execute("SET NAMES utf8mb4")
        cur.execute("SET autocommit=1")
        conn.close()

    @check("wrong password and unknown user: error 1045")
    def bad_password():
        for user, password in (("root", "wrong"), ("nobody", "rootpass")):
            try:
                d.connect(user=user, password=password).close()
                raise AssertionError(f"{user}/{password} should be refused")
            except d.error as e:
                expect(e.args[0], 1045, f"error code for {user} ({e})")
                if "Access denied" not in str(e.args[1]):
                    raise AssertionError(f"message: {e}")
        d.connect(autocommit=True).close()  # and the right one still works

    for test in (inline_actor, database_selects_actor, multi_results, column_types, sticky_insert,
                 errors_keep_connection, no_actor, select_db_and_ping,
                 default_autocommit_and_commit, many_rows, probes, bad_password):
        test()
    print(f"{args.driver}: {len(failures)} failed" + (": " + "; ".join(failures) if failures else ""))
    return min(len(failures), 76)


if __name__ == "__main__":
    sys.exit(main())
