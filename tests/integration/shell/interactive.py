"""Drives the troupe shell's interactive mode through a pseudo-terminal (run by tst_shell).

    interactive.py <troupe binary> <port> <home dir>

Statements are buffered until commit (the prompt shows a *), rollback drops them, `use` switches
the mode (shown in the prompt), `show ...` admin commands run at once and keep the buffer, `h`
helps, `q` quits with status 0; the history is saved in
<home>/.troupe_history. Prints "INTERACTIVE OK" at the end; any failure exits with status 1."""

import os
import pty
import re
import select
import sys
import time

troupe, port, home = sys.argv[1], sys.argv[2], sys.argv[3]
env = dict(os.environ, HOME=home, TERM="dumb")
pid, fd = pty.fork()
if pid == 0:
    os.execve(troupe, [troupe, "-prootpass", ":" + port], env)

seen = b""


def expect(pattern, timeout=20):
    """Reads until `pattern` (a regex on the text since the last match) shows up."""
    global seen
    deadline = time.time() + timeout
    while True:
        m = re.search(pattern.encode(), seen)
        if m:
            before, seen = seen[:m.end()], seen[m.end():]
            return before.decode(errors="replace")
        left = deadline - time.time()
        if left <= 0:
            sys.exit("timed out waiting for %r; got %r" % (pattern, seen))
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                sys.exit("the shell ended while waiting for %r; got %r" % (pattern, seen))
            seen += chunk


def send(line):
    os.write(fd, line.encode() + b"\r")


expect(r"troupe\(actordb\)> ")
send("actor type1(tty) create")
expect(r"troupe\(actordb\)\*> ")
# An admin command runs at once and keeps the buffered statements.
send("show actors type1 like 'musi%'")
expect(r"\| music +\|")
expect(r"troupe\(actordb\)\*> ")
send("insert into tab (txt) values ('dropped')")
expect(r"troupe\(actordb\)\*> ")
send("r")
expect(r"troupe\(actordb\)> ")
send("actor type1(tty) create")
expect(r"\*> ")
send("insert into tab (txt) values ('kept')")
expect(r"\*> ")
send("c")
expect(r"OK, 1 row changed")
expect(r"troupe\(actordb\)> ")
send("actor type1(tty)")
send("select txt from tab")
send("commit")
table = expect(r"1 row\r?\n")
assert "kept" in table and "dropped" not in table, table
expect(r"troupe\(actordb\)> ")
send("actor nosuch(x); select 1")
send("c")
expect(r"ERROR invalid_type")
expect(r"troupe\(actordb\)> ")  # an error does not end the session
send("use schema")
expect(r"troupe\(schema\)> ")
send("h")
expect(r"rollback")
expect(r"troupe\(schema\)> ")
send("q")
_, status = os.waitpid(pid, 0)
assert os.WEXITSTATUS(status) == 0, status
# libedit writes its history with each space as \040.
history = open(os.path.join(home, ".troupe_history")).read().replace("\\040", " ")
assert "insert into tab (txt) values ('kept')" in history, history
print("INTERACTIVE OK")
