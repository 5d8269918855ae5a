#!/bin/bash
# memfd-exec.sh SCRATCHDIR: fileless execution. /usr/bin/python3 creates a
# memfd (os.memfd_create("payload", 0)), writes the bytes of a system binary
# into it and os.execv's /proc/self/fd/N. The payload is /usr/bin/sleep
# (0.5 s) rather than /usr/bin/true, so that the process lives long enough
# for /proc/PID/exe to be read (the scenario checks it; so can an agent
# without audit). Nothing is written to any file system.
#
# Expected alert: rule lineaged.exec-deleted
#   process.executable  "/memfd:payload (deleted)"  (verified on kernel 6.x:
#                       readlink /proc/PID/exe; audit's exe= carries the same
#                       string, hex-encoded since it holds spaces; comm is
#                       the fd number, e.g. "3"; argv[0] is "payload")
#   parent              the scenario's bash (the exec replaced python3.11)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin memfd-exec "$@"

/usr/bin/python3 -c '
import os
fd = os.memfd_create("payload", 0)
with open("/usr/bin/sleep", "rb") as f:
    data = f.read()
n = 0
while n < len(data):
    n += os.write(fd, data[n:])
os.execv("/proc/self/fd/%d" % fd, ["payload", "0.5"])
' &
p=$!
track_pid "$p"

# Check what the kernel reports for the running payload.
exe=
for _ in $(seq 40); do
	exe=$(readlink "/proc/$p/exe" 2>/dev/null) || break
	case $exe in /memfd:payload*) break ;; esac
	sleep 0.02
done
log "/proc/$p/exe -> $exe"
case $exe in
/memfd:payload*) ;;
*) die "the payload did not run from the memfd (exe: ${exe:-gone})" ;;
esac
wait "$p" || die "the payload exited with $?"
