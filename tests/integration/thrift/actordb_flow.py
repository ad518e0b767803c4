"""ActorDB's documented getting-started flow over Thrift, with Python code generated from
shared/idl/troupe.thrift by `thrift --gen py` and Debian's python3-thrift (run by tst_thrift).

    actordb_flow.py <generated gen-py dir> <port> framed|unframed

The node starts uninitialised: exec_config sets it up before any login, as with ActorDB.
Prints one line per step and "FLOW OK" at the end; any failure raises (exit status 1)."""

import hashlib
import sys

sys.path.insert(0, sys.argv[1])

from thrift.protocol import TBinaryProtocol  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402

from actordb import Actordb  # noqa: E402
from actordb.constants import VERSION  # noqa: E402
from actordb.ttypes import ErrorCode, InvalidRequestException, Val  # noqa: E402

port = int(sys.argv[2])
framed = sys.argv[3] == "framed"


def connect():
    sock = TSocket.TSocket("127.0.0.1", port)
    sock.setTimeout(30000)
    transport = TTransport.TFramedTransport(sock) if framed else TTransport.TBufferedTransport(sock)
    transport.open()
    return transport, Actordb.Client(TBinaryProtocol.TBinaryProtocol(transport))


def expect_error(code, call, *args):
    try:
        call(*args)
    except InvalidRequestException as e:
        assert e.code == code, "expected code %d, got %d (%s)" % (code, e.code, e.info)
        return e
    raise AssertionError("expected InvalidRequestException code %d" % code)


def scramble(salt, password):
    stage1 = hashlib.sha1(password).digest()
    stage2 = hashlib.sha1(stage1).digest()
    mix = hashlib.sha1(salt + stage2).digest()
    return bytes(a ^ b for a, b in zip(stage1, mix))


def values(row, columns):
    out = []
    for c in columns:
        v = row[c]
        if v.isnull:
            out.append(None)
        elif v.bigint is not None:
            out.append(v.bigint)
        elif v.real is not None:
            out.append(v.real)
        elif v.text is not None:
            out.append(v.text)
        else:
            out.append(v.blob)
    return out


transport, client = connect()
assert client.protocolVersion() == VERSION == "1.4.0"
print("protocolVersion", VERSION)

expect_error(ErrorCode.NotLoggedIn, client.exec_sql, "ACTOR type1(music) create; SELECT 1")

# 1. Initialise the node: groups, nodes, the root user (no login needed on a fresh node).
res = client.exec_config(
    "insert into groups values ('grp1','cluster');"
    "insert into nodes values ('node1@127.0.0.1','grp1');"
    "CREATE USER 'root' IDENTIFIED BY 'rootpass'")
print("exec_config", "wrRes" if res.wrRes is not None else "rdRes")
transport.close()

# 2. Log in: a wrong password, then salt + scrambled password.
transport, client = connect()
expect_error(ErrorCode.LoginFailed, client.login, "root", b"wrong")
salt = client.salt()
assert len(salt) == 20
login = client.login("root", scramble(salt, b"rootpass"))
assert login.success
print("login scrambled ok")

# 3. Schema.
client.exec_schema(
    "actor type1; CREATE TABLE tab (id INTEGER PRIMARY KEY, txt TEXT);"
    "ALTER TABLE tab ADD i INTEGER;"
    "actor type2; CREATE TABLE tab2 (id INTEGER PRIMARY KEY, txt TEXT)")
print("exec_schema ok")

# 4. exec_single with create, then a read.
res = client.exec_single("music", "type1", "INSERT INTO tab (id, txt, i) VALUES (1, 'hello', 5)",
                         ["create"])
assert res.wrRes.rowsChanged == 1 and res.wrRes.lastChangeRowid == 1, res
res = client.exec_single("music", "type1", "SELECT * FROM tab", [])
rows = [values(r, res.rdRes.columns) for r in res.rdRes.rows]
assert res.rdRes.columns == ["id", "txt", "i"], res.rdRes.columns
assert rows == [[1, "hello", 5]], rows
print("exec_single", rows)
expect_error(ErrorCode.NoCreate, client.exec_single, "missing", "type1", "SELECT 1", [])
expect_error(ErrorCode.InvalidType, client.exec_single, "x", "nosuch", "SELECT 1", ["create"])
expect_error(ErrorCode.SqlError, client.exec_single, "music", "type1", "SELEKT", [])

# 5. Parameters: two rows insert twice; every Val member binds.
res = client.exec_single_param("music", "type1", "INSERT INTO tab (id, txt, i) VALUES (?1,?2,?3)",
                               [], [[Val(bigint=2), Val(text="two"), Val(smallint=2)],
                                    [Val(integer=3), Val(text="three"), Val(isnull=True)]])
assert res.wrRes.rowsChanged == 2, res
res = client.exec_single_param("music", "type1", "SELECT txt FROM tab WHERE id = ?1 OR i = ?2",
                               [], [[Val(bigint=3), Val(bval=True)]])
assert [values(r, ["txt"]) for r in res.rdRes.rows] == [["three"]], res
res = client.exec_single_param("music", "type1", "SELECT ?1 AS b, ?2 AS r", [],
                               [[Val(blob=b"\x00\xff"), Val(real=2.5)]])
assert values(res.rdRes.rows[0], ["b", "r"]) == [b"\x00\xff", 2.5], res
print("exec_single_param ok")

# 6. Batch: per-statement rows, one result per statement.
res = client.exec_single_batch_param(
    "music", "type1",
    "INSERT INTO tab (txt) VALUES (?1); SELECT count(*) AS c FROM tab", [],
    [[[Val(text="b1")], [Val(text="b2")]], []])
assert len(res.batchRes) == 2, res
assert res.batchRes[0].wrRes.rowsChanged == 2, res
assert values(res.batchRes[1].rdRes.rows[0], ["c"]) == [5], res
print("exec_single_batch_param ok")

# 7. Several actors, then all of them with {{RESULT}}.
res = client.exec_multi(["user1", "user2"], "type1", "INSERT INTO tab (txt) VALUES ('multi')",
                        ["create"])
print("exec_multi", res.wrRes)
res = client.exec_all("type1", "{{RESULT}}SELECT count(*) AS c FROM tab", [])
assert "actor" in res.rdRes.columns, res.rdRes.columns
counts = {r["actor"].text: r["c"].bigint for r in res.rdRes.rows}
assert counts == {"music": 5, "user1": 1, "user2": 1}, counts
print("exec_all", sorted(counts.items()))

# 8. exec_sql with ACTOR statements, with and without parameters.
res = client.exec_sql("ACTOR type2(t) create; INSERT INTO tab2 (txt) VALUES ('sql');"
                      "ACTOR type1(user1); INSERT INTO tab (txt) VALUES ('sql')")
res = client.exec_sql("ACTOR type2(t); SELECT txt FROM tab2")
assert [values(r, ["txt"]) for r in res.rdRes.rows] == [["sql"]], res
res = client.exec_sql_param("ACTOR type1(music); SELECT txt FROM tab WHERE id = ?1",
                            [[Val(bigint=1)]])
assert [values(r, ["txt"]) for r in res.rdRes.rows] == [["hello"]], res
print("exec_sql ok")

# 9. uniqid and introspection.
a, b = client.uniqid(), client.uniqid()
assert a != b and a > 0 and b > 0, (a, b)
assert client.actor_types() == ["type1", "type2"], client.actor_types()
assert client.actor_tables("type1") == ["tab"], client.actor_tables("type1")
assert client.actor_columns("type1", "tab") == {"id": "INTEGER", "txt": "TEXT", "i": "INTEGER"}
print("uniqid and introspection ok")
transport.close()
print("FLOW OK")
