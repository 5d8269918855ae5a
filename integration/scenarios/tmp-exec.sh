#!/bin/bash
# tmp-exec.sh SCRATCHDIR: a dropped binary run from a world-writable
# directory. A copy of a system binary is written to
# /tmp/lineaged-scn-XXXXXX/payload (mktemp -d) and to
# /dev/shm/lineaged-scn-payload, and each is run; both are deleted after.
# The payload is /usr/bin/sleep run for 0.3 s rather than /usr/bin/true, so
# that the process still exists when an agent without audit reads
# /proc/PID/exe.
#
# Expected alerts: rule lineaged.exec-from-tmp
#   process.executable  /tmp/lineaged-scn-XXXXXX/payload   (random suffix;
#                       printed on stderr)
#   and                 /dev/shm/lineaged-scn-payload
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin tmp-exec "$@"

dir=$(mktemp -d /tmp/lineaged-scn-XXXXXX)
created "$dir"
/usr/bin/cp /usr/bin/sleep "$dir/payload"
log "running $dir/payload"
"$dir/payload" 0.3

shm=/dev/shm/lineaged-scn-payload
[ -d /dev/shm ] || die "no /dev/shm"
backup "$shm"
/usr/bin/cp /usr/bin/sleep "$shm"
log "running $shm"
"$shm" 0.3
