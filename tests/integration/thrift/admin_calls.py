"""TroupeDB's admin methods from Python code generated from shared/idl/troupe.thrift by
`thrift --gen py` (run by tst_thrift_admin against an initialised node):

    admin_calls.py <generated gen-py dir> <port>

ActorDB's old methods and the appended admin ones answer on one connection, so appending did
not move ActorDB's method ids or argument field ids. Prints "ADMIN OK" at the end; any failure
raises (exit status 1)."""

import sys

sys.path.insert(0, sys.argv[1])

from thrift.protocol import TBinaryProtocol  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402

from actordb import Actordb  # noqa: E402
from actordb.ttypes import ErrorCode, InvalidRequestException  # noqa: E402

sock = TSocket.TSocket("127.0.0.1", int(sys.argv[2]))
sock.setTimeout(30000)
transport = TTransport.TFramedTransport(sock)
transport.open()
client = Actordb.Client(TBinaryProtocol.TBinaryProtocol(transport))

assert client.protocolVersion() == "1.4.0"
try:
    client.admin_cluster_info()
    raise AssertionError("admin_cluster_info before login must fail")
except InvalidRequestException as e:
    assert e.code == ErrorCode.NotLoggedIn, e

assert client.login("root", b"rootpass").success
rows = client.exec_single("user_00", "notes", "SELECT count(*) AS c FROM note", []).rdRes.rows
assert rows[0]["c"].bigint >= 1, rows
print("old methods answer")

info = client.admin_cluster_info()
assert info.nodeName == "node1@127.0.0.1", info
assert info.nodes[0].name == "node1@127.0.0.1" and info.groups[0].name == "grp1", info
assert all(s.leader == info.nodeName for s in info.shards), info.shards
print("admin_cluster_info:", info.nodeName, len(info.shards), "shards")

page = client.admin_list_actors("notes", "user_", "", 10)
assert page.names[0] == "user_00" and len(page.names) == 10, page
assert page.nextCursor == "user_09", page
print("admin_list_actors:", page.names[0], "...", page.nextCursor)

# An old method after the new ones: the connection and the ids still line up.
assert "notes" in client.actor_types()
print("ADMIN OK")
transport.close()
