#!/bin/bash
# masquerade.sh SCRATCHDIR: processes dressed as something else, both run
# at once:
#   ( exec -a '[kworker/0:2]' /usr/bin/sleep 1 )   argv[0] of a kernel thread
#   SCRATCHDIR/sshd 0.5                            a copy of /usr/bin/sleep
#                                                  named like the SSH daemon
#
# Expected alerts: rule lineaged.masquerade
#   process.executable  /usr/bin/sleep       (args[0] "[kworker/0:2]"; comm
#                       is still "sleep")
#   and                 SCRATCHDIR/sshd      (comm "sshd", not /usr/sbin/sshd)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin masquerade "$@"

fake=$SCRATCH/sshd
created "$fake"
/usr/bin/cp /usr/bin/sleep "$fake"

(exec -a '[kworker/0:2]' /usr/bin/sleep 1) &
kw=$!
track_pid "$kw"
"$fake" 0.5 &
sd=$!
track_pid "$sd"
wait "$sd" || die "$fake exited with $?"
wait "$kw" || die "the [kworker/0:2] sleep exited with $?"
