#!/bin/bash
# account-create.sh SCRATCHDIR: a backdoor account (ATT&CK T1136.001).
#   /usr/sbin/useradd -M -s /usr/sbin/nologin lineagedscn
#   /usr/sbin/userdel lineagedscn
# Before useradd, every file the shadow tools may write is backed up:
# /etc/{passwd,shadow,group,gshadow,subuid,subgid}, their "-" backups, their
# "+" temporaries and ".lock" files, /etc/.pwd.lock, /var/log/lastlog,
# /var/log/faillog and the mail spool /var/mail/lineagedscn; the trap puts
# each back exactly (content, mode, owner, mtime; an absent one is deleted),
# so the user, its group and its subordinate ids are gone after.
#
# Expected alert: rule lineaged.persistence-write (T1136.001)
#   process.executable  /usr/sbin/useradd   (it writes /etc/passwd+,
#                       /etc/shadow+, ... and renames them over /etc/passwd,
#                       /etc/shadow, ...)
# Note: the backup itself reads /etc/shadow and /etc/gshadow (/usr/bin/cp),
# and the restore writes /etc/passwd- and the like back (/usr/bin/cp to
# FILE.lineaged-restore, /usr/bin/mv over FILE) and resets the mtimes of
# the others (/usr/bin/touch): match alerts on their executable.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT
scn_begin account-create "$@"

user=lineagedscn
if /usr/bin/getent passwd "$user" >/dev/null || /usr/bin/getent group "$user" >/dev/null; then
	die "user or group $user already exists (left by an earlier run? bash $(dirname "$0")/restore-stale.sh)"
fi
for f in passwd shadow group gshadow subuid subgid; do
	for s in '' - + .lock; do
		backup "/etc/$f$s"
	done
done
backup /etc/.pwd.lock
backup /var/log/lastlog
backup /var/log/faillog
backup "/var/mail/$user"

/usr/sbin/useradd -M -s /usr/sbin/nologin "$user"
log "created: $(/usr/bin/getent passwd "$user")"
/usr/sbin/userdel "$user"
! /usr/bin/getent passwd "$user" >/dev/null || die "userdel left $user"
