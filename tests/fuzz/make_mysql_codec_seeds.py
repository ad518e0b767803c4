#!/usr/bin/env python3
"""Writes the hand-made seeds of tests/fuzz/corpus/mysql_codec/ (named seed-*; the fuzzer's own
finds, merged with -merge=1, are named by their SHA-1 and are left alone).

Each input starts with the mode byte of mysql_codec_fuzz.cpp; the layouts are described above
each mode there. Run from anywhere:

    tests/fuzz/make_mysql_codec_seeds.py                     # (re)write the seed-* files
    tests/fuzz/make_mysql_codec_seeds.py --capture-mariadb   # also capture real client bytes

--capture-mariadb plays a MySQL server on loopback for the `mariadb` command-line client: it
sends a HandshakeV10 and saves the client's HandshakeResponse41 (and, with SSL offered, its
SSLRequest) as seed-real-*. Those bytes name the capturing machine's client version and pid,
so they are captured once and committed, not regenerated on every run.
"""

import os
import socket
import struct
import subprocess
import sys
import threading

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "mysql_codec")

# Modes (enum Mode in mysql_codec_fuzz.cpp).
(PACKET_STREAM, PACKET_ROUND_TRIP, HANDSHAKE, STMT_EXECUTE, WIRE, CLIENT_PARSERS, ROWS,
 CHANGE_USER) = range(8)

# Capabilities (messages.h).
LONG_PASSWORD, FOUND_ROWS, LONG_FLAG, CONNECT_WITH_DB = 1, 2, 4, 8
PROTOCOL_41, SSL, TRANSACTIONS, SECURE_CONNECTION = 1 << 9, 1 << 11, 1 << 13, 1 << 15
MULTI_STATEMENTS, MULTI_RESULTS, PS_MULTI_RESULTS = 1 << 16, 1 << 17, 1 << 18
PLUGIN_AUTH, CONNECT_ATTRS, LENENC_CLIENT_DATA, DEPRECATE_EOF = 1 << 19, 1 << 20, 1 << 21, 1 << 24
SERVER_CAPS = (LONG_PASSWORD | FOUND_ROWS | LONG_FLAG | CONNECT_WITH_DB | PROTOCOL_41
               | TRANSACTIONS | SECURE_CONNECTION | MULTI_STATEMENTS | MULTI_RESULTS
               | PS_MULTI_RESULTS | PLUGIN_AUTH | CONNECT_ATTRS | LENENC_CLIENT_DATA
               | DEPRECATE_EOF)
MARIADB_CAPS = 0x01BFA68D  # what libmariadb sends (tst_mysql_codec.cpp's capturedResponse)

# Column types (resultset.h).
T = dict(DECIMAL=0x00, TINY=0x01, SHORT=0x02, LONG=0x03, FLOAT=0x04, DOUBLE=0x05, NULL=0x06,
         TIMESTAMP=0x07, LONGLONG=0x08, INT24=0x09, DATE=0x0A, TIME=0x0B, DATETIME=0x0C,
         YEAR=0x0D, VARCHAR=0x0F, BIT=0x10, JSON=0xF5, NEWDECIMAL=0xF6, ENUM=0xF7, SET=0xF8,
         TINY_BLOB=0xF9, MEDIUM_BLOB=0xFA, LONG_BLOB=0xFB, BLOB=0xFC, VAR_STRING=0xFD,
         STRING=0xFE, GEOMETRY=0xFF)
UNSIGNED = 0x80


def lenenc_int(v):
    if v < 0xFB:
        return bytes([v])
    if v <= 0xFFFF:
        return b"\xfc" + struct.pack("<H", v)
    if v <= 0xFFFFFF:
        return b"\xfd" + struct.pack("<I", v)[:3]
    return b"\xfe" + struct.pack("<Q", v)


def lenenc_str(s):
    return lenenc_int(len(s)) + s


def packet(payload, seq):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


# ---- connection phase -------------------------------------------------------------------

def handshake_v10(caps=SERVER_CAPS, salt=b"abcdefghij0123456789", version=b"8.0.0-TroupeDB",
                  auth_length=None):
    """As the server builds it; auth_length overrides the auth data length (salt part 2 is then
    max(13, auth_length - 8) bytes: salt[8:] padded with NULs)."""
    if auth_length is None:
        auth_length = 21 if caps & PLUGIN_AUTH else 0
    out = b"\x0a" + version + b"\0" + struct.pack("<I", 7) + salt[:8] + b"\0"
    out += struct.pack("<HBHH", caps & 0xFFFF, 45, 2, caps >> 16)
    out += bytes([auth_length]) + b"\0" * 10
    if caps & SECURE_CONNECTION:
        out += salt[8:].ljust(max(13, auth_length - 8), b"\0")
    if caps & PLUGIN_AUTH:
        out += b"mysql_native_password\0"
    return out


def handshake_response(caps=MARIADB_CAPS, user=b"root", auth=bytes(range(1, 21)),
                       db=b"user.alice", plugin=b"mysql_native_password",
                       attrs=((b"_client_name", b"libmariadb"), (b"_pid", b"4242"))):
    out = struct.pack("<IIB", caps, 1 << 24, 45) + b"\0" * 23
    if caps & SSL and user is None:
        return out  # SSLRequest
    out += user + b"\0"
    if caps & LENENC_CLIENT_DATA:
        out += lenenc_str(auth)
    elif caps & SECURE_CONNECTION:
        out += bytes([len(auth)]) + auth
    else:
        out += auth + b"\0"
    if caps & CONNECT_WITH_DB:
        out += db + b"\0"
    if caps & PLUGIN_AUTH:
        out += plugin + b"\0"
    if caps & CONNECT_ATTRS:
        out += lenenc_str(b"".join(lenenc_str(k) + lenenc_str(v) for k, v in attrs))
    return out


def ok_packet(affected=1, insert_id=0, status=2, warnings=0, info=b"", header=0):
    return bytes([header]) + lenenc_int(affected) + lenenc_int(insert_id) + \
        struct.pack("<HH", status, warnings) + info


def err_packet(code=1064, state=b"42000", message=b"You have an error in your SQL syntax"):
    return b"\xff" + struct.pack("<H", code) + b"#" + state + message


def column_definition(name=b"id", schema=b"user.alice", charset=63, length=20, type_=0x08,
                      flags=128, decimals=0):
    out = b"".join(lenenc_str(s) for s in (b"def", schema, b"", b"", name, name))
    return out + lenenc_int(0x0C) + struct.pack("<HIBHBH", charset, length, type_, flags,
                                                decimals, 0)


# ---- COM_STMT_EXECUTE ---------------------------------------------------------------------

def stmt_execute(stmt_id, params, bound=True, nulls=(), flags=0, iterations=1):
    """params: (type, value bytes) pairs; value None leaves it out (NULL or long data)."""
    out = b"\x17" + struct.pack("<IBI", stmt_id, flags, iterations)
    if not params:
        return out
    bitmap = bytearray((len(params) + 7) // 8)
    for i in nulls:
        bitmap[i // 8] |= 1 << (i % 8)
    out += bytes(bitmap) + bytes([1 if bound else 0])
    if bound:
        out += b"".join(bytes([t, 0]) for t, _ in params)
    return out + b"".join(v for _, v in params if v is not None)


def stmt_input(payload, count, bound_types=None, long_mask=None):
    """A STMT_EXECUTE fuzz input: count < 17 or one of the large counts by index."""
    options = (1 if bound_types is not None else 0) | (2 if long_mask is not None else 0)
    out = bytes([STMT_EXECUTE, count, options])
    if bound_types is not None:
        out += bytes(bound_types)
    if long_mask is not None:
        out += bytes(long_mask)
    return out + payload


# Index of each type in kTypes of mysql_codec_fuzz.cpp (for bound types).
K_TYPES = ["DECIMAL", "TINY", "SHORT", "LONG", "FLOAT", "DOUBLE", "NULL", "TIMESTAMP",
           "LONGLONG", "INT24", "DATE", "TIME", "DATETIME", "YEAR", "VARCHAR", "BIT", "JSON",
           "NEWDECIMAL", "ENUM", "SET", "TINY_BLOB", "MEDIUM_BLOB", "LONG_BLOB", "BLOB",
           "VAR_STRING", "STRING", "GEOMETRY"]


def seeds():
    s = {}

    # Packet streams: options, first sequence id, split seed, segments.
    def small(seq, body):
        return b"\xfe" + bytes([len(body), seq]) + body

    query = b"\x03SELECT 1"
    s["stream-one-command"] = bytes([PACKET_STREAM, 4, 0, 7]) + small(0, query)
    s["stream-two-commands"] = bytes([PACKET_STREAM, 4, 0, 9]) + small(0, query) + \
        small(0, b"\x0e") + small(0, b"\x01")
    s["stream-handshake-then-auth-switch"] = bytes([PACKET_STREAM, 0, 1, 3]) + \
        small(1, handshake_response()[:200]) + small(2, bytes(range(20)))
    s["stream-out-of-order"] = bytes([PACKET_STREAM, 4, 0, 5]) + small(1, query)
    s["stream-truncated-body"] = bytes([PACKET_STREAM, 4, 0, 5]) + b"\x1f" + \
        packet(query, 0)[:7]
    s["stream-empty-payload"] = bytes([PACKET_STREAM, 4, 0, 5]) + small(0, b"")
    s["stream-sequence-wraps"] = bytes([PACKET_STREAM, 0, 0xFF, 5]) + small(0xFF, query) + \
        small(0, query)
    s["stream-small-limit"] = bytes([PACKET_STREAM, 2, 1, 0, 5]) + small(0, b"x" * 40)
    s["stream-split-exactly-max-body"] = bytes([PACKET_STREAM, 1, 0, 11]) + \
        b"\xff\xb1\x00\x00" + small(1, b"")
    s["stream-split-16mib"] = bytes([PACKET_STREAM, 0, 0, 13]) + b"\xff\xb1\x00\x00" + small(1, b"y")
    s["stream-split-over-16mib"] = bytes([PACKET_STREAM, 0, 0, 13]) + b"\xff\xb1\x00\x00" + \
        small(1, b"yz")
    s["stream-split-limit-max-body"] = bytes([PACKET_STREAM, 3, 0, 19]) + b"\xff\xb1\x00\x00" + \
        small(1, b"")
    s["stream-split-short-first"] = bytes([PACKET_STREAM, 1, 0, 23]) + b"\xff\xb1\x01\x00" + \
        small(1, query)
    s["stream-split-bad-continuation"] = bytes([PACKET_STREAM, 1, 0, 29]) + \
        b"\xff\xb1\x00\x00" + small(5, b"")

    # Round trips: sequence id, size (0xB1 n: large), split seed, payload.
    s["roundtrip-empty"] = bytes([PACKET_ROUND_TRIP, 0, 9, 1])
    s["roundtrip-query"] = bytes([PACKET_ROUND_TRIP, 0xFF, 9, 2]) + query
    s["roundtrip-long"] = bytes([PACKET_ROUND_TRIP, 0x80, 0, 3]) + bytes(range(256)) * 3
    for i, name in enumerate(["max-body-minus-1", "max-body", "16mib"]):
        s["roundtrip-" + name] = bytes([PACKET_ROUND_TRIP, 3, 0xB1, i, 5]) + b"0123456789abcdef"

    # Handshake responses.
    h = lambda payload: bytes([HANDSHAKE]) + payload
    s["handshake-mariadb-like"] = h(handshake_response())
    s["handshake-no-db"] = h(handshake_response(caps=MARIADB_CAPS & ~CONNECT_WITH_DB))
    s["handshake-secure-connection"] = h(handshake_response(
        caps=(MARIADB_CAPS & ~LENENC_CLIENT_DATA)))
    s["handshake-nul-auth"] = h(handshake_response(
        caps=PROTOCOL_41 | CONNECT_WITH_DB, auth=b"plain"))
    s["handshake-no-password"] = h(handshake_response(auth=b"", db=b""))
    s["handshake-caching-sha2"] = h(handshake_response(plugin=b"caching_sha2_password",
                                                       auth=bytes(range(32))))
    s["handshake-protocol-320"] = h(handshake_response(caps=MARIADB_CAPS & ~PROTOCOL_41))
    s["handshake-ends-after-auth"] = h(handshake_response()[:32 + 5 + 21])
    s["handshake-ends-in-plugin"] = h(handshake_response()[:32 + 5 + 21 + 11 + 5])
    s["handshake-attrs-too-long"] = h(handshake_response()[:-3])
    s["handshake-attrs-lenenc-fc"] = h(handshake_response(
        attrs=((b"k" * 300, b"v" * 20), (b"_os", b"Linux"))))
    s["handshake-attrs-bad-pair"] = h(handshake_response(attrs=())[:-1] + b"\x02\x05k")
    s["sslrequest"] = h(struct.pack("<IIB", MARIADB_CAPS | SSL, 1 << 24, 45) + b"\0" * 23)
    s["sslrequest-without-ssl-flag"] = h(struct.pack("<IIB", MARIADB_CAPS, 1 << 24, 45) +
                                         b"\0" * 23)
    s["handshake-ssl-flag-full"] = h(handshake_response(caps=MARIADB_CAPS | SSL))
    s["handshake-31-bytes"] = h(handshake_response()[:31])

    # COM_CHANGE_USER bodies: options (bit 0 SECURE_CONNECTION, bit 1 PLUGIN_AUTH), body.
    cu = lambda options, body: bytes([CHANGE_USER, options]) + body
    attrs = lenenc_str(lenenc_str(b"_client_name") + lenenc_str(b"libmariadb"))
    s["change-user-libmariadb"] = cu(3, b"bob\0" + bytes([20]) + bytes(range(1, 21)) +
                                     b"user.alice\0" + b"\x2d\x00" +
                                     b"mysql_native_password\0" + attrs)
    s["change-user-caching-sha2"] = cu(3, b"bob\0" + bytes([32]) + bytes(range(32)) + b"\0" +
                                       b"\x2d\x00caching_sha2_password\0")
    s["change-user-no-password"] = cu(3, b"bob\0\0\0")
    s["change-user-nul-auth"] = cu(0, b"bob\0plain\0db\0\x21\x00")
    s["change-user-no-plugin-cap"] = cu(1, b"bob\0\x01x\0\x2d\x00ignored\0")
    s["change-user-charset-cut"] = cu(3, b"bob\0\0db\0\x2d")
    s["change-user-auth-cut"] = cu(1, b"bob\0\x14abc")
    s["change-user-plugin-unterminated"] = cu(3, b"bob\0\0db\0\x2d\x00mysql_native")

    # COM_STMT_EXECUTE, one parameter of each type (signed and unsigned where it matters).
    values = {
        "TINY": struct.pack("<b", -5), "SHORT": struct.pack("<h", -300),
        "YEAR": struct.pack("<H", 2024), "LONG": struct.pack("<i", -70000),
        "INT24": struct.pack("<i", 70000), "LONGLONG": struct.pack("<q", -(1 << 40)),
        "FLOAT": struct.pack("<f", 1.5), "DOUBLE": struct.pack("<d", -2.25),
        "NULL": b"", "DATE": b"\x04\xe8\x07\x02\x1d",
        "DATETIME": b"\x07\xe8\x07\x02\x1d\x17\x3b\x3a",
        "TIMESTAMP": b"\x0b\xe8\x07\x02\x1d\x17\x3b\x3a\x40\xe2\x01\x00",
        "TIME": b"\x0c\x01\x02\x00\x00\x00\x03\x04\x05\x01\x00\x00\x00",
        "DECIMAL": lenenc_str(b"12.50"), "NEWDECIMAL": lenenc_str(b"-0.001"),
        "VARCHAR": lenenc_str(b"hello"), "VAR_STRING": lenenc_str("héllo".encode()),
        "STRING": lenenc_str(b""), "ENUM": lenenc_str(b"red"), "SET": lenenc_str(b"a,b"),
        "JSON": lenenc_str(b'{"a":1}'), "TINY_BLOB": lenenc_str(b"\0\1\2"),
        "MEDIUM_BLOB": lenenc_str(b"\xff" * 300), "LONG_BLOB": lenenc_str(b"x"),
        "BLOB": lenenc_str(bytes(range(256))), "BIT": lenenc_str(b"\x05"),
        "GEOMETRY": lenenc_str(b"\0\0\0\0\1\1\0\0\0"),
    }
    for name, value in values.items():
        s["stmt-" + name.lower()] = stmt_input(stmt_execute(1, [(T[name], value)]), 1)
    unsigned = lambda t, v: stmt_execute(2, []) + b"\x00\x01" + bytes([t, UNSIGNED]) + v
    s["stmt-tiny-unsigned"] = stmt_input(unsigned(T["TINY"], b"\xfb"), 1)
    s["stmt-longlong-unsigned-max"] = stmt_input(unsigned(T["LONGLONG"], b"\xff" * 8), 1)
    s["stmt-long-unsigned"] = stmt_input(unsigned(T["LONG"], b"\xff\xff\xff\xff"), 1)
    s["stmt-double-nan"] = stmt_input(stmt_execute(1, [(T["DOUBLE"], b"\0" * 6 + b"\xf8\x7f")]), 1)
    s["stmt-float-inf"] = stmt_input(stmt_execute(1, [(T["FLOAT"], b"\0\0\x80\x7f")]), 1)
    s["stmt-date-empty"] = stmt_input(stmt_execute(1, [(T["DATE"], b"\x00")]), 1)
    s["stmt-datetime-bad-length"] = stmt_input(stmt_execute(1, [(T["DATETIME"], b"\x05" + b"\0" * 5)]), 1)
    s["stmt-time-8"] = stmt_input(stmt_execute(1, [(T["TIME"], b"\x08\x00" + b"\xff" * 7)]), 1)
    s["stmt-no-params"] = stmt_input(stmt_execute(3, []), 0)
    s["stmt-no-params-trailing"] = stmt_input(stmt_execute(3, []) + b"\0", 0)
    mixed = [(T["LONGLONG"], struct.pack("<q", 42)), (T["VAR_STRING"], None),
             (T["DOUBLE"], struct.pack("<d", 0.5)), (T["BLOB"], lenenc_str(b"\0x")),
             (T["NULL"], None), (T["TINY"], b"\x01"), (T["VARCHAR"], lenenc_str(b"a" * 251)),
             (T["SHORT"], b"\x01\x00"), (T["DATE"], None)]
    s["stmt-nine-params-null-bitmap"] = stmt_input(stmt_execute(4, mixed, nulls=(1, 4, 8)), 9)
    s["stmt-all-null"] = stmt_input(stmt_execute(5, [(T["LONG"], None)] * 16, nulls=range(16)), 16)
    rebound = [(T["LONGLONG"], struct.pack("<q", 7)), (T["VAR_STRING"], lenenc_str(b"b"))]
    s["stmt-rebound-types"] = stmt_input(stmt_execute(6, rebound, bound=False), 2,
                                         bound_types=[K_TYPES.index("LONGLONG"),
                                                      K_TYPES.index("VAR_STRING")])
    s["stmt-rebound-unsigned"] = stmt_input(stmt_execute(6, [(T["TINY"], b"\xff")], bound=False),
                                            1, bound_types=[0x80 | K_TYPES.index("TINY")])
    s["stmt-no-bound-types"] = stmt_input(stmt_execute(6, rebound, bound=False), 2)
    s["stmt-long-data"] = stmt_input(stmt_execute(7, [(T["BLOB"], None),
                                                      (T["LONG"], b"\1\0\0\0")]), 2,
                                     long_mask=[1])
    s["stmt-unknown-type"] = stmt_input(stmt_execute(1, [(0x0E, b"")]), 1)
    s["stmt-bad-bound-flag"] = stmt_input(stmt_execute(1, []) + b"\x00\x02", 1)
    s["stmt-truncated-value"] = stmt_input(stmt_execute(1, [(T["LONGLONG"], b"\1\2\3")]), 1)
    s["stmt-truncated-bitmap"] = stmt_input(stmt_execute(1, []) + b"\x00", 12)
    s["stmt-string-too-long"] = stmt_input(stmt_execute(1, [(T["VARCHAR"], b"\xfc\xff\xff")]), 1)
    s["stmt-string-null-marker"] = stmt_input(stmt_execute(1, [(T["VARCHAR"], b"\xfb")]), 1)
    s["stmt-wrong-command"] = stmt_input(b"\x16" + stmt_execute(1, [])[1:], 0)
    s["stmt-short-header"] = stmt_input(b"\x17\x01\x00", 0)
    s["stmt-65535-params-short"] = stmt_input(stmt_execute(1, []) + b"\0" * 64, 0xFE)
    s["stmt-255-params-null"] = stmt_input(stmt_execute(1, [(T["TINY"], None)] * 255,
                                                        nulls=range(255)), 0xFA)

    # Wire reader scripts: data length, data, reads (Int1..Fail = 0..11; Bytes takes a count).
    wire = lambda data, reads: bytes([WIRE, len(data)]) + data + bytes(reads)
    s["wire-lenenc-widths"] = wire(b"\x05\xfc\x00\x01\xfd\x00\x00\x01\xfe" + b"\1" * 8,
                                   [5, 5, 5, 5, 5])
    s["wire-lenenc-non-canonical"] = wire(b"\xfc\x01\x00\xfe\x02" + b"\0" * 7, [5, 5])
    s["wire-lenenc-markers"] = wire(b"\xfb\xff", [5, 0, 5])
    s["wire-fixed-ints"] = wire(bytes(range(1, 19)), [0, 1, 2, 3, 4, 4])
    s["wire-strings"] = wire(b"\x03abcnul\0tail", [7, 8, 10, 9, 10])
    s["wire-bytes-then-fail"] = wire(b"0123456789", [6, 4, 6, 20, 11, 0, 9])
    s["wire-nul-missing"] = wire(b"no terminator", [8, 0])
    s["wire-lenenc-string-too-long"] = wire(b"\xfc\x00\x10ab", [7, 9])

    # Client-side parsers: which (0 HandshakeV10, 1 OK, 2 ERR, 3 column definition), payload.
    c = lambda which, payload: bytes([CLIENT_PARSERS, which]) + payload
    s["client-handshake-v10"] = c(0, handshake_v10())
    s["client-handshake-v10-ssl"] = c(0, handshake_v10(caps=SERVER_CAPS | SSL))
    s["client-handshake-v10-old"] = c(0, handshake_v10(caps=PROTOCOL_41))
    s["client-handshake-v10-long-auth"] = c(0, handshake_v10(salt=b"s" * 250, auth_length=255))
    s["client-ok"] = c(1, ok_packet(affected=3, insert_id=70000, info=b"Rows matched: 3"))
    s["client-ok-as-eof"] = c(1, ok_packet(affected=0, header=0xFE))
    s["client-ok-big-ids"] = c(1, ok_packet(affected=1 << 40, insert_id=0x10000))
    s["client-err"] = c(2, err_packet())
    s["client-err-short-state"] = c(2, err_packet()[:7])
    s["client-column-definition"] = c(3, column_definition())
    s["client-column-definition-text"] = c(3, column_definition(name=b"name" * 70, charset=45,
                                                                length=262140, type_=0xFD, flags=0))

    # Rows: columns, rows, values (tag 0 NULL, 1 integer, 2 real, 3 text, 4 blob).
    def val(tag, data=b""):
        if tag in (1, 2):
            return bytes([tag]) + data
        if tag in (3, 4):
            return bytes([tag, len(data)]) + data
        return b"\0"

    dbl = lambda d: struct.pack(">d", d)
    s["rows-each-class"] = bytes([ROWS, 5, 2]) + val(0) + val(1, struct.pack(">q", -1)) + \
        val(2, dbl(0.1)) + val(3, b"text") + val(4, b"\0blob") + val(1, struct.pack(">q", 5)) + \
        val(0) + val(3, b"") + val(4, b"") + val(0)
    s["rows-mixed-classes"] = bytes([ROWS, 2, 3]) + val(1, b"\0" * 7 + b"\x09") + val(3, b"12") + \
        val(3, b"3.5e2") + val(1, b"\x80" + b"\0" * 7) + val(4, b"77") + val(2, dbl(1e300))
    s["rows-special-reals"] = bytes([ROWS, 4, 1]) + val(2, dbl(float("nan"))) + \
        val(2, dbl(float("inf"))) + val(2, dbl(-0.0)) + val(2, dbl(5e-324))
    s["rows-long-text"] = bytes([ROWS, 1, 1]) + val(3, b"z" * 255)
    s["rows-all-null"] = bytes([ROWS, 8, 4])
    return s


# ---- capturing a real client ----------------------------------------------------------------

def capture_mariadb(offer_ssl):
    """The first packet the mariadb CLI sends after our HandshakeV10."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    args = ["mariadb", "-h", "127.0.0.1", "-P", str(port), "-u", "root", "-psecret",
            "-D", "user.alice", "-e", "SELECT 1"]
    args += ["--ssl"] if offer_ssl else ["--skip-ssl"]
    client = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn, _ = server.accept()
    caps = SERVER_CAPS | (SSL if offer_ssl else 0)
    conn.sendall(packet(handshake_v10(caps=caps), 0))
    header = conn.recv(4, socket.MSG_WAITALL)
    length = int.from_bytes(header[:3], "little")
    payload = conn.recv(length, socket.MSG_WAITALL) if length else b""
    conn.close()
    server.close()
    client.kill()
    client.wait()
    return header + payload, payload


def main():
    os.makedirs(CORPUS, exist_ok=True)
    files = seeds()
    if "--capture-mariadb" in sys.argv[1:]:
        for offer_ssl, name in ((False, "seed-real-mariadb-handshake-response"),
                                (True, "seed-real-mariadb-sslrequest")):
            framed, payload = capture_mariadb(offer_ssl)
            files[name[5:]] = bytes([HANDSHAKE]) + payload
            files[name[5:] + "-framed"] = bytes([PACKET_STREAM, 0, 1, 3]) + \
                b"".join(bytes([31]) + framed[i:i + 32] for i in range(0, len(framed), 32))
    for name, data in files.items():
        with open(os.path.join(CORPUS, "seed-" + name), "wb") as f:
            f.write(data)
    print(f"wrote {len(files)} seeds to {CORPUS}")


if __name__ == "__main__":
    main()
