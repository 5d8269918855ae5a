#!/bin/sh
# lineaged pre-removal script, shared by the .deb (prerm) and the .rpm
# (%preun). On removal (not on an upgrade) it stops the service, which
# puts back the audit rules and settings lineaged changed, disables it,
# and, if "lineaged replace-auditd" replaced auditd, gives auditd back
# ("lineaged replace-auditd --undo"). Never fails the removal.
#
#   deb: $1 = remove | upgrade | deconfigure | failed-upgrade
#   rpm: $1 = 0 (erase) | 1 and more (upgrade)

set -u
PATH=/sbin:/usr/sbin:/bin:/usr/bin

say() { echo "lineaged: $*"; }

case "${1:-}" in
remove | deconfigure | 0) ;;
*) exit 0 ;; # upgrade: the post-install script restarts the new version
esac

MARKER=/var/lib/lineaged/replaced-auditd

if [ -d /run/systemd/system ]; then
	if command -v deb-systemd-invoke >/dev/null 2>&1; then
		deb-systemd-invoke stop lineaged.service >/dev/null 2>&1
	else
		systemctl stop lineaged.service >/dev/null 2>&1
	fi || say "could not stop lineaged.service (exit $?)"
	systemctl disable lineaged.service >/dev/null 2>&1 || true
	# An instance started by hand with the init script, outside systemd.
	if [ -x /etc/init.d/lineaged ] && /etc/init.d/lineaged status >/dev/null 2>&1; then
		/etc/init.d/lineaged stop >/dev/null 2>&1 || say "could not stop lineaged (exit $?)"
	fi
elif [ -x /etc/init.d/lineaged ]; then
	if command -v invoke-rc.d >/dev/null 2>&1; then
		invoke-rc.d lineaged stop >/dev/null 2>&1
	else
		/etc/init.d/lineaged stop >/dev/null 2>&1
	fi || say "could not stop lineaged (exit $?)"
	# rpm: the init script goes with the package; deb: it is a conffile,
	# its links go at purge (post-removal script).
	case "${1:-}" in
	0) command -v chkconfig >/dev/null 2>&1 && chkconfig --del lineaged >/dev/null 2>&1 ;;
	esac
fi

# Removal gives auditd back if lineaged replaced it. lineaged was
# stopped first, so auditd can become the audit daemon again.
if [ -e "$MARKER" ]; then
	if /usr/bin/lineaged replace-auditd --undo; then
		say "auditd re-enabled as it was before lineaged replace-auditd"
	else
		say "could not give auditd back; $MARKER says what replace-auditd did: re-enable and start auditd by hand"
	fi
fi
exit 0
