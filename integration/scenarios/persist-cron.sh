#!/bin/bash
# persist-cron.sh SCRATCHDIR: persistence through cron. /usr/bin/cp writes
# /etc/cron.d/lineaged-scn, a cron.d file holding only a comment (it
# schedules nothing), from a copy prepared in SCRATCHDIR; the file is
# removed after.
#
# Expected alert: rule lineaged.persistence-write
#   process.executable  /usr/bin/cp   (the writer of /etc/cron.d/lineaged-scn)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin persist-cron "$@"

target=/etc/cron.d/lineaged-scn
[ -d /etc/cron.d ] || die "no /etc/cron.d"
created "$SCRATCH/lineaged-scn.cron"
printf '# lineaged detection scenario: comment only, schedules nothing\n' >"$SCRATCH/lineaged-scn.cron"
backup "$target"
/usr/bin/cp "$SCRATCH/lineaged-scn.cron" "$target"
/usr/bin/rm -f "$target"
