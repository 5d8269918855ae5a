#!/bin/bash
# restore-stale.sh: puts back what scenario runs that died midway (SIGKILL,
# a crashed VM) left. For each /var/lib/lineaged-scenario-backup/NAME/ whose
# scenario no longer runs, it undoes every entry newest first, exactly as
# the scenario's EXIT trap would have: kills the background processes it
# started (when they are still the same processes), runs its undo commands
# (the audit-tamper rule, the package-manager package), deletes what it
# created, restores backed-up files (content, mode, owner, times) and
# deletes files and directories that did not exist before. Then it deletes
# the backup. CI runs it before the tests; it is safe to run any time, and
# leaves a running scenario's backup alone.
#
# Exit status: 0 when nothing is left, 1 when some entry could not be
# undone (it stays, and is named on stderr).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ "$EUID" = 0 ] || die "must run as root"
restore_stale
