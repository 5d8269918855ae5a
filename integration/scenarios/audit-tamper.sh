#!/bin/bash
# audit-tamper.sh SCRATCHDIR: tampering with audit. Adds a watch rule and
# deletes it again:
#   /usr/sbin/auditctl -w SCRATCHDIR/watched -p wa -k lineaged-scn
#   /usr/sbin/auditctl -W SCRATCHDIR/watched -p wa -k lineaged-scn
# then, in /var/log/audit (made when absent, and removed after), writes
# lineaged-scn.log with /usr/bin/tee, empties it with
# /usr/bin/truncate -s 0 and deletes it with /usr/bin/rm. It never runs
# auditctl -e, -D or -f, never touches audit.log, and changes no audit rule
# but its own (the trap deletes that one if it is still there). Fails when
# the audit configuration is locked (enabled 2).
#
# Expected alert: rule lineaged.audit-tamper
#   process.executable  /usr/sbin/auditctl   (the rule deletion: CONFIG_CHANGE
#                       op=remove_rule key="lineaged-scn")
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin audit-tamper "$@"

auditctl=/usr/sbin/auditctl
[ -x "$auditctl" ] || die "no $auditctl (Debian: apt-get install auditd)"
watched=$SCRATCH/watched
rule="-w $watched -p wa -k lineaged-scn"
created "$watched"
: >"$watched"
# Registered before the rule exists, so that restore-stale.sh removes it too.
on_restore "$(printf '%q -W %q -p wa -k lineaged-scn >/dev/null 2>&1 || true' "$auditctl" "$watched")"
if "$auditctl" -l 2>/dev/null | grep -qxF -- "$rule"; then
	die "the rule is there already: $rule"
fi
"$auditctl" -w "$watched" -p wa -k lineaged-scn >/dev/null
"$auditctl" -l | grep -qxF -- "$rule" || die "auditctl -l does not list the new rule"
"$auditctl" -W "$watched" -p wa -k lineaged-scn >/dev/null
! "$auditctl" -l | grep -qxF -- "$rule" || die "the rule is still listed after auditctl -W"

logdir=/var/log/audit
log=$logdir/lineaged-scn.log
backup "$logdir"
backup "$log"
[ -d "$logdir" ] || /usr/bin/mkdir -m 0700 "$logdir"
echo "type=USER msg=audit(0.000:0): lineaged scenario line" | /usr/bin/tee "$log" >/dev/null
/usr/bin/truncate -s 0 "$log"
/usr/bin/rm -f "$log"
