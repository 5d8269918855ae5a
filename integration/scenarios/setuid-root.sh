#!/bin/bash
# setuid-root.sh SCRATCHDIR: a planted setuid-root binary run by an
# unprivileged user. /usr/bin/id is copied to SCRATCHDIR/suid-id, owned by
# root, mode 4755, and run as uid/gid 65534 (nobody) with
#   setpriv --reuid=65534 --regid=65534 --clear-groups SCRATCHDIR/suid-id
# the scenario checks that it prints euid=0. SCRATCHDIR must be on a file
# system mounted without nosuid, and searchable by uid 65534.
#
# Expected alert: rule lineaged.setuid-root
#   process.executable  SCRATCHDIR/suid-id  (as the kernel resolves it: if
#                       SCRATCHDIR holds a symlink, the resolved path)
#   user: uid 65534, euid 0; parent /usr/bin/setpriv execs it
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin setuid-root "$@"

bin=$SCRATCH/suid-id
created "$bin"
/usr/bin/cp /usr/bin/id "$bin"
/usr/bin/chown root:root "$bin"
/usr/bin/chmod 4755 "$bin"
out=$(/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups "$bin")
log "$bin as 65534: $out"
case $out in
*euid=0\(*) ;;
*) die "no euid=0: is $SCRATCH on a nosuid mount?" ;;
esac
