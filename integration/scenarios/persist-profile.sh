#!/bin/bash
# persist-profile.sh SCRATCHDIR: persistence through login shells.
# /usr/bin/cp writes /etc/profile.d/lineaged-scn.sh holding only a comment
# line, from a copy prepared in SCRATCHDIR; removed after.
#
# Expected alert: rule lineaged.persistence-write
#   process.executable  /usr/bin/cp
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin persist-profile "$@"

target=/etc/profile.d/lineaged-scn.sh
[ -d /etc/profile.d ] || die "no /etc/profile.d"
created "$SCRATCH/lineaged-scn.profile"
printf '# lineaged detection scenario: comment only\n' >"$SCRATCH/lineaged-scn.profile"
backup "$target"
/usr/bin/cp "$SCRATCH/lineaged-scn.profile" "$target"
/usr/bin/rm -f "$target"
