#!/usr/bin/env python3
"""Writes the hand-made seeds (seed-*) of the corpora of the thrift, sql_dialect, config,
http_request and storage_records fuzz targets under tests/fuzz/corpus/<target>/. The fuzzer's
own finds, merged with -merge=1, are named by their SHA-1 and are left alone. (The MySQL codec's
seeds have their own script, make_mysql_codec_seeds.py.)

Each input is laid out as the comment at the top of the target's source says. Run from
anywhere:

    tests/fuzz/make_fuzz_seeds.py            # (re)write every seed-* file of these targets
    tests/fuzz/make_fuzz_seeds.py thrift     # only the named targets
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


# ---- thrift: byte 0 seeds the read sizes, the rest is what a client sends -------------------

T_BOOL, T_BYTE, T_DOUBLE, T_I16, T_I32, T_I64, T_STRING, T_STRUCT, T_MAP, T_LIST = \
    2, 3, 4, 6, 8, 10, 11, 12, 13, 15
CALL, REPLY, EXCEPTION, ONEWAY = 1, 2, 3, 4


def tstr(s):
    s = s.encode() if isinstance(s, str) else s
    return struct.pack(">i", len(s)) + s


def field(ftype, fid, value):
    return struct.pack(">bh", ftype, fid) + value


def tlist(etype, items):
    return struct.pack(">bi", etype, len(items)) + b"".join(items)


def strings(items):
    return tlist(T_STRING, [tstr(s) for s in items])


def val(kind, v):
    """A Val union: kind is its member name."""
    fields = {"bigint": (T_I64, 1, lambda x: struct.pack(">q", x)),
              "integer": (T_I32, 2, lambda x: struct.pack(">i", x)),
              "smallint": (T_I16, 3, lambda x: struct.pack(">h", x)),
              "real": (T_DOUBLE, 4, lambda x: struct.pack(">d", x)),
              "bval": (T_BOOL, 5, lambda x: bytes([x])),
              "text": (T_STRING, 6, tstr), "isnull": (T_BOOL, 7, lambda x: bytes([x])),
              "blob": (T_STRING, 8, tstr)}
    ftype, fid, enc = fields[kind]
    return field(ftype, fid, enc(v)) + b"\0"


def rows(rs):
    return tlist(T_LIST, [tlist(T_STRUCT, [val(k, v) for k, v in r]) for r in rs])


def message(name, fields, seqid=1, mtype=CALL):
    return struct.pack(">I", 0x80010000 | mtype) + tstr(name) + struct.pack(">i", seqid) + \
        b"".join(fields) + b"\0"


def framed(msg):
    return struct.pack(">I", len(msg)) + msg


def thrift_seeds():
    s = {}
    login = message("login", [field(T_STRING, 1, tstr("root")), field(T_STRING, 2, tstr("pw"))])
    single = message("exec_single", [field(T_STRING, 1, tstr("a1")),
                                     field(T_STRING, 2, tstr("type1")),
                                     field(T_STRING, 3, tstr("SELECT * FROM tab")),
                                     field(T_LIST, 4, strings(["create"]))], seqid=2)
    param = message("exec_single_param", [
        field(T_STRING, 1, tstr("a1")), field(T_STRING, 2, tstr("type1")),
        field(T_STRING, 3, tstr("INSERT INTO tab VALUES (?1, ?2, :x, @y, $z, ?)")),
        field(T_LIST, 4, strings(["create", "fsync"])),
        field(T_LIST, 5, rows([[("bigint", -5), ("text", "héllo"), ("real", 0.5),
                                ("blob", b"\0\1"), ("isnull", 1), ("bval", 1)],
                               [("integer", 7), ("smallint", -2), ("real", float("nan")),
                                ("text", ""), ("isnull", 1), ("bval", 0)]]))], seqid=3)
    batch = message("exec_single_batch_param", [
        field(T_STRING, 1, tstr("a1")), field(T_STRING, 2, tstr("type1")),
        field(T_STRING, 3, tstr("INSERT INTO t VALUES (?)")),
        field(T_LIST, 5, tlist(T_LIST, [rows([[("bigint", 1)], [("bigint", 2)]]),
                                        rows([])]))], seqid=4)
    sql_param = message("exec_sql_param", [
        field(T_STRING, 1, tstr("ACTOR type1(a) create; SELECT ?1, ?, ?3")),
        field(T_LIST, 2, rows([[("text", "x"), ("bigint", 2), ("real", 1e300)]]))], seqid=5)
    s["unframed-login-then-exec"] = b"\x01" + login + single
    s["framed-login-then-exec"] = b"\x07" + framed(login) + framed(single)
    s["framed-param"] = b"\x03" + framed(login) + framed(param)
    s["unframed-batch"] = b"\x05" + batch + sql_param
    for name in ["protocolVersion", "salt", "actor_types", "uniqid", "admin_cluster_info",
                 "admin_metrics"]:
        s["framed-" + name] = b"\x09" + framed(message(name, []))
    s["unframed-actor-columns"] = b"\x0b" + message("actor_columns", [
        field(T_STRING, 1, tstr("type1")), field(T_STRING, 2, tstr("tab"))])
    s["unframed-admin-list"] = b"\x0d" + message("admin_list_actors", [
        field(T_STRING, 1, tstr("type1")), field(T_STRING, 2, tstr("a")),
        field(T_I32, 4, struct.pack(">i", -1))])
    s["framed-exec-multi"] = b"\x11" + framed(message("exec_multi", [
        field(T_LIST, 1, strings(["a", "b", "c"])), field(T_STRING, 2, tstr("type1")),
        field(T_STRING, 3, tstr("SELECT 1")), field(T_LIST, 4, strings(["bogus"]))]))
    s["framed-unknown-method"] = b"\x13" + framed(message("no_such_call", [])) + \
        framed(message("protocolVersion", []))
    s["framed-oneway"] = b"\x15" + framed(message("exec_sql", [field(T_STRING, 1, tstr("x"))],
                                                  mtype=ONEWAY))
    s["framed-reply-type"] = b"\x17" + framed(message("exec_sql", [], mtype=REPLY))
    s["framed-too-long"] = b"\x19" + struct.pack(">I", 1 << 20) + b"\0" * 16
    s["framed-zero"] = b"\x1b" + struct.pack(">I", 0)
    s["framed-short-frame"] = b"\x1d" + struct.pack(">I", 8) + single
    s["framed-long-frame"] = b"\x1f" + struct.pack(">I", len(single) + 9) + single + b"\0" * 9
    s["unframed-truncated"] = b"\x21" + single[:-3]
    s["unframed-huge-string"] = b"\x23" + message("exec_sql", [field(T_STRING, 1, b"")])[:-2] + \
        struct.pack(">i", 0x7FFFFFF0) + b"abc"
    s["unframed-huge-list"] = b"\x25" + message("exec_multi", [])[:-1] + \
        field(T_LIST, 1, struct.pack(">bi", T_STRING, 0x40000000))
    s["unframed-negative-length"] = b"\x27" + message("exec_sql", [])[:-1] + \
        field(T_STRING, 1, struct.pack(">i", -5))
    s["unframed-wrong-field-type"] = b"\x29" + message("exec_sql", [
        field(T_I64, 1, struct.pack(">q", 1)), field(T_MAP, 9, b"\x0b\x0b\0\0\0\0")])
    s["unframed-deep-struct"] = b"\x2b" + message("exec_sql", [])[:-1] + \
        b"".join(field(T_STRUCT, 9, b"") for _ in range(100))
    s["unframed-empty-val"] = b"\x2d" + message("exec_sql_param", [
        field(T_STRING, 1, tstr("SELECT ?")), field(T_LIST, 2, tlist(T_LIST, [
            tlist(T_STRUCT, [b"\0"])]))])
    s["unframed-bad-version"] = b"\x2f" + b"\x80\x02" + login[2:]
    s["tls-hello"] = b"\x31" + b"\x16\x03\x01\x00\x05hello"
    s["http-get"] = b"\x33" + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    return s


# ---- sql_dialect: mode byte (0 segment, 1 ACTOR, 2 literal, 3 variables), then text ----------

def sql_seeds():
    seg = {
        "single": "ACTOR type1(a1) create; INSERT INTO tab VALUES (1,'x;y'); SELECT 1",
        "list": "actor type1(a, 'b c', \"d\") safe fsync;\nSELECT * FROM t -- c;\n;",
        "all-where": "ACTOR type1(* WHERE id LIKE 'ab%') ; SELECT count(*) FROM t;",
        "foreach": "ACTOR t(a); {{RES}}SELECT id FROM t; ACTOR t2(FOR X.id IN RES); "
                   "INSERT INTO u VALUES ({{X.id}});",
        "trigger": "ACTOR t(a) create; CREATE TRIGGER tr AFTER INSERT ON t BEGIN "
                   "UPDATE u SET n = CASE WHEN 1 THEN 2 END; INSERT INTO v VALUES (1); END; "
                   "SELECT 1;",
        "transactions": "ACTOR t(a); BEGIN; SAVEPOINT x; INSERT INTO t VALUES (1); "
                        "RELEASE x; COMMIT; ROLLBACK TO y; END",
        "comments": "/* c1 */ ACTOR t(a) -- c2\n; /* only */ ; -- x\n SELECT '/*', \"--\", "
                    "`;`, [a;b];",
        "no-actor": "USE config; INSERT INTO groups VALUES ('grp1','cluster');",
        "loose-then-actor": "SELECT 1; ACTOR t(a); SELECT 2",
        "unterminated-quote": "ACTOR t(a); SELECT 'abc",
        "unterminated-comment": "ACTOR t(a); SELECT 1 /* never ends ;",
        "unterminated-marker": "ACTOR t(a); SELECT {{curactor",
        "stray-quote-in-name": "ACTOR t(it's); SELECT 1",
        "bad-flag": "ACTOR t(a) creat; SELECT 1",
        "empty-name": "ACTOR t(); SELECT 1",
        "nul-byte": "ACTOR t(a); SELECT 1\0; SELECT '\0'",
        "pragmas": "ACTOR t(a); PRAGMA list LIMIT 5 OFFSET 2; PRAGMA count; PRAGMA exists; "
                   "PRAGMA copy=other; SHOW tables; PRAGMA delete",
        "prepare": "ACTOR t(a); PREPARE p1 (int, text) FOR t AS INSERT INTO x VALUES (?1,?2); "
                   "EXECUTE p1 (1, 'x''y'); PREPARE DELETE p1",
    }
    s = {}
    for name, text in seg.items():
        s["segment-" + name] = b"\0" + text.encode()
    actor = ["ACTOR type1(a1)", "ACTOR t( 'x''y' , b ) CREATE,safe", "ACTOR t(*)",
             "ACTOR t(* WHERE id LIKE 'a''%')", "ACTOR t(FOR X.c IN R) fsync",
             "ACTOR /* c */ t(a) -- x", "ACTOR t(a))", "ACTOR t", "ACTOR (a)", "ACTOR t-x(a)"]
    for i, text in enumerate(actor):
        s["actor-%d" % i] = b"\1" + text.encode()
    literals = ["12", "-9223372036854775808", "9223372036854775808", "1.5", "-0.0", "1e308",
                "1e999", "inf", "nan", "'it''s'", "''", "X'00ff'", "x'0'", "NULL", "  7  ",
                "'a'b'", "0x10", "1.0"]
    for i, text in enumerate(literals):
        s["literal-%d" % i] = b"\2" + text.encode()
    variables = ["SELECT {{curactor}}, '{{uniqid}}', {{hash('k')}}",
                 "SELECT {{a{{b}}c}} -- {{not}}\n, '{{x.y}}'''",
                 "{{RES}}SELECT 1", "{{X.c=INFO.d}}", "SELECT {{", "SELECT {{}}",
                 "SELECT {{HASH( 'it''s' )}}, {{hash(bare)}}"]
    for i, text in enumerate(variables):
        s["variables-%d" % i] = b"\3" + text.encode()
    return s


# ---- config: mode byte (0 TOML file, 1 flags split at NUL, 2 sizes/durations) ----------------

def config_seeds():
    s = {}
    with open(os.path.join(ROOT, "resources", "troupe.conf"), "rb") as f:
        s["file-troupe-conf"] = b"\0" + f.read()
    files = {
        "minimal": 'data_dir = "data"\n[network]\nthrift_port = 1234\n',
        "all-types": '[storage]\nfsync = "interval"\nfsync_interval = 250\n'
                     'initial_map_size = "64 MiB"\nmax_map_size = "unlimited"\n'
                     '[sql]\npage_cache = 1048576\nmax_request_size = "1GiB"\n'
                     '[mysql]\nidle_timeout = "2min"\nrequire_secure_transport = false\n'
                     '[log]\nlevel = "debug"\nfile = "/var/log/t.log"\n',
        "tls": '[tls]\ncert_file = "c.pem"\nkey_file = "k.pem"\n'
               '[mysql]\nrequire_secure_transport = true\n',
        "unknown-key": '[network]\nno_such = 1\n',
        "wrong-type": '[network]\nlisten = 5\n',
        "section-not-table": 'network = 1\n',
        "syntax-error": '[network\nlisten = "x"\n',
        "same-ports": '[network]\nthrift_port = 1\nmysql_port = 1\n',
        "escapes": 'node_name = "n\\u0001\\"\\\\\\t"\ninit = "\\u00e9"\n',
        "array": 'data_dir = ["a"]\n',
    }
    for name, text in files.items():
        s["file-" + name] = b"\0" + text.encode()
    flags = [["--data-dir", "/d", "--thrift-port", "1"], ["--help"], ["--version"],
             ["--check-config", "--log-level", "trace"], ["--fsync", "off", "--bogus"],
             ["--mysql-require-secure-transport", "yes"], ["--config", "/etc/passwd"],
             ["--node-name", "a\"b\\c\x01\x7f"], ["--max-map-size", "1KiB"]]
    for i, args in enumerate(flags):
        s["flags-%d" % i] = b"\1" + "\0".join(args).encode()
    values = ["256MiB", "1 GiB", "18446744073709551615", "16EiB", "17179869184TiB", "250ms",
              "2min", "1h", "9223372036854775807ms", "-1", " 5 s "]
    for i, text in enumerate(values):
        s["values-%d" % i] = b"\2" + bytes(range(1, 9)) + text.encode()
    return s


# ---- http_request: options byte, then the stream ----------------------------------------------

def http_seeds():
    get = b"GET /metrics?x=1 HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n"
    s = {
        "get": b"\x00" + get,
        "pipelined": b"\x00" + get + b"HEAD /ready HTTP/1.1\r\nHost: h\r\n\r\n" + get,
        "post-body": b"\x0c" + b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
        "http10-keepalive": b"\x00" + b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "absolute-form": b"\x00" + b"GET http://h:1/health HTTP/1.1\r\nHost: h\r\n\r\n",
        "asterisk": b"\x00" + b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
        "bare-lf": b"\x00" + b"GET / HTTP/1.1\nHost: h\n\n",
        "leading-empty-lines": b"\x00" + b"\r\n" * 3 + get,
        "too-many-empty-lines": b"\x00" + b"\r\n" * 20 + get,
        "obs-fold": b"\x00" + b"GET / HTTP/1.1\r\nHost: h\r\n x\r\n\r\n",
        "te-and-cl": b"\x00" + b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                               b"Content-Length: 3\r\n\r\nabc",
        "cl-list": b"\x00" + b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\n\r\nab",
        "cl-conflict": b"\x00" + b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n"
                                 b"Content-Length: 3\r\n\r\nabc",
        "two-hosts": b"\x00" + b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "http2": b"\x00" + b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "long-request-line": b"\x01" + b"GET /" + b"a" * 100 + b" HTTP/1.1\r\nHost: h\r\n\r\n",
        "long-head": b"\x02" + b"GET / HTTP/1.1\r\nHost: h\r\n" + b"X-A: b\r\n" * 40 + b"\r\n",
        "many-headers": b"\x10" + b"GET / HTTP/1.1\r\nHost: h\r\n" + b"A: b\r\n" * 5 + b"\r\n",
        "body-too-large": b"\x04" + b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx",
        "control-in-target": b"\x00" + b"GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n",
        "nul-in-header": b"\x00" + b"GET / HTTP/1.1\r\nHost: h\0\r\n\r\n",
        "close": b"\x00" + b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close, x\r\n\r\n" + get,
        "incomplete": b"\x00" + b"GET / HTTP/1.1\r\nHost: h\r\n",
    }
    return s


# ---- storage_records: mode byte (0 page, 1 log entry, 2 raft state, 3 catalog, 4 raft log) ----

def be(fmt, *v):
    return struct.pack(">" + fmt, *v)


def lz4_zero_page():
    """An LZ4 block of 4096 zero bytes: one literal, a match at offset 1, five last literals."""
    rest = (4096 - 1 - 5 - 4) - 15  # match length beyond the minimum 4 and the token's 15
    ext = bytes([255] * (rest // 255)) + bytes([rest % 255])
    return bytes([0x1F, 0x00]) + struct.pack("<H", 1) + ext + bytes([0x50]) + b"\0" * 5


def log_entry(ops=(), write_sets=(), meta=None):
    out = bytes([2 if meta is not None else 1]) + be("I", len(ops))
    for kind, aid, h, flags, typ, name in ops:
        out += bytes([kind]) + be("QIB", aid, h, flags) + bytes([len(typ)]) + typ + \
            be("H", len(name)) + name
    out += be("I", len(write_sets))
    for aid, db_pages, pages in write_sets:
        out += be("QII", aid, db_pages, len(pages))
        for pgno, stored in pages:
            out += be("II", pgno, len(stored)) + stored
    if meta is not None:
        out += be("I", len(meta))
        for kind, key, value in meta:
            out += bytes([kind]) + be("H", len(key)) + key + be("I", len(value)) + value
    return out


def storage_seeds():
    lz4 = lz4_zero_page()
    page_text = (b"SQLite format 3\0" + bytes(range(256)) * 4).ljust(4096, b"\0")
    s = {
        "page-zero": b"\0\x02",
        "page-raw": b"\0\x00" + page_text,
        "page-raw-short": b"\0\x00" + page_text[:100],
        "page-lz4-zeros": b"\0\x01" + lz4,
        "page-lz4-truncated": b"\0\x01" + lz4[:-3],
        "page-zero-payload": b"\0\x02x",
        "page-unknown-format": b"\0\x07",
        "entry-empty": b"\1" + log_entry(),
        "entry-create-and-pages": b"\1" + log_entry(
            ops=[(1, 7, 0xDEADBEEF, 0, b"type1", b"actor-a"), (2, 8, 1, 0, b"t", b"b")],
            write_sets=[(7, 2, [(1, b"\x02"), (2, b"\x01" + lz4)]), (8, 0, [])]),
        "entry-meta": b"\1" + log_entry(meta=[(1, b"sql/schema", b"v1"), (2, b"sql/x", b"")]),
        "entry-meta-empty": b"\1" + log_entry(meta=[]),
        "entry-huge-count": b"\1\x01" + be("I", 0xFFFFFFFF),
        "entry-trailing": b"\1" + log_entry() + b"\0",
        "entry-bad-kind": b"\1" + log_entry(ops=[(3, 1, 1, 0, b"t", b"a")]),
        "raftstate-v1": b"\2\x00" + b"\x01" + be("QQQQ", 3, 1, 10, 9),
        "raftstate-v2": b"\2\x01" + b"\x02" + be("QQQQQQ", 3, 1, 10, 9, 5, 2) +
        be("I", 2) + be("QQ", 1, 2) + be("I", 1) + be("Q", 3),
        "raftstate-v2-short-ids": b"\2\x02" + b"\x02" + be("QQQQQQ", 3, 1, 10, 9, 5, 2) +
        be("I", 0x10000000),
        "raftstate-v1-long": b"\2\x00" + b"\x01" + be("QQQQ", 3, 1, 10, 9) + b"x",
        "catalog-record": b"\3\x05type1\x07actor-a" + b"\x01" + be("QIB", 42, 0x12345678, 1),
        "catalog-bad-version": b"\3\x01t\x01a" + b"\x02" + be("QIB", 1, 1, 0),
        "catalog-short": b"\3\x01t\x01a\x01",
        "raftlog-entry": b"\4\x00\x00" + be("QB", 5, 0) + log_entry(),
        "raftlog-confchange": b"\4\x03\x09" + be("QB", 2, 2) + b"conf",
        "raftlog-truncated": b"\4\x00\x00" + b"\x00" * 5,
    }
    return s


TARGETS = {"thrift": thrift_seeds, "sql_dialect": sql_seeds, "config": config_seeds,
           "http_request": http_seeds, "storage_records": storage_seeds}


def main():
    names = sys.argv[1:] or list(TARGETS)
    for name in names:
        corpus = os.path.join(HERE, "corpus", name)
        os.makedirs(corpus, exist_ok=True)
        seeds = TARGETS[name]()
        for seed, data in seeds.items():
            with open(os.path.join(corpus, "seed-" + seed), "wb") as f:
                f.write(data)
        print(f"wrote {len(seeds)} seeds to {corpus}")


if __name__ == "__main__":
    main()
