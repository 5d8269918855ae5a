#!/bin/bash
# persist-systemd.sh SCRATCHDIR: persistence through a systemd unit.
# /usr/bin/cp writes /etc/systemd/system/lineaged-scn.service (a valid
# oneshot unit that would run /bin/true; never enabled, started or
# daemon-reloaded), from a copy prepared in SCRATCHDIR; removed after.
#
# Expected alert: rule lineaged.persistence-write
#   process.executable  /usr/bin/cp
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin persist-systemd "$@"

target=/etc/systemd/system/lineaged-scn.service
[ -d /etc/systemd/system ] || die "no /etc/systemd/system"
created "$SCRATCH/lineaged-scn.service"
cat >"$SCRATCH/lineaged-scn.service" <<'UNIT'
[Unit]
Description=lineaged detection scenario (never enabled or started)

[Service]
Type=oneshot
ExecStart=/bin/true
UNIT
backup "$target"
/usr/bin/cp "$SCRATCH/lineaged-scn.service" "$target"
/usr/bin/rm -f "$target"
