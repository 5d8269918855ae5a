#!/bin/bash
# persist-sudoers.sh SCRATCHDIR: persistence through sudo. /usr/bin/install
# writes /etc/sudoers.d/lineaged-scn, mode 0440, holding only a comment line
# (a syntax error there would break sudo); removed after. /etc/sudoers.d is
# made (0755) when absent and removed again.
# Note: where /etc/sudoers.d did not exist when an audit watch on it was
# loaded, that watch sees the directory's creation (/usr/bin/mkdir), not the
# file in it.
#
# Expected alert: rule lineaged.persistence-write
#   process.executable  /usr/bin/install
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin persist-sudoers "$@"

dir=/etc/sudoers.d
target=$dir/lineaged-scn
created "$SCRATCH/lineaged-scn.sudoers"
printf '# lineaged detection scenario: comment only, grants nothing\n' >"$SCRATCH/lineaged-scn.sudoers"
backup "$dir"
backup "$target"
[ -d "$dir" ] || /usr/bin/mkdir -m 0755 "$dir"
/usr/bin/install -m 0440 -o root -g root "$SCRATCH/lineaged-scn.sudoers" "$target"
/usr/bin/rm -f "$target"
