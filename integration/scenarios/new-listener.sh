#!/bin/bash
# new-listener.sh SCRATCHDIR: a backdoor listener. /usr/bin/python3 listens
# on 127.0.0.1:8931 (a port no benign workload uses, outside the scenarios'
# 47100-47199 range on purpose) for 1.5 s and answers one connection, made
# by another /usr/bin/python3, with a line.
#
# Expected alert: rule lineaged.new-listener
#   process.executable  /usr/bin/python3.11   (the listener: bind+listen on
#                       127.0.0.1:8931)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin new-listener "$@"

port=8931
port_free "$port" || die "127.0.0.1:$port is in use"
created "$SCRATCH/listener.ready"
/usr/bin/python3 -c '
import socket, sys, time
start = time.monotonic()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8931))
s.listen(1)
open(sys.argv[1], "w").close()
s.settimeout(1.5)
try:
    c, _ = s.accept()
    c.sendall(b"lineaged-scn\n")
    c.close()
except socket.timeout:
    sys.exit(1)
time.sleep(max(0.0, 1.5 - (time.monotonic() - start)))
' "$SCRATCH/listener.ready" &
srv=$!
track_pid "$srv"
wait_file "$SCRATCH/listener.ready"

got=$(/usr/bin/python3 -c '
import socket
with socket.create_connection(("127.0.0.1", 8931), timeout=3) as c:
    print(c.recv(100).decode().strip())
')
[ "$got" = lineaged-scn ] || die "unexpected answer from the listener: $got"
wait "$srv" || die "the listener exited with $?"
