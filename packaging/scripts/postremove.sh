#!/bin/sh
# lineaged post-removal script, shared by the .deb (postrm) and the .rpm
# (%postun).
#
#   deb: $1 = remove | purge | upgrade | disappear | failed-upgrade |
#        abort-install | abort-upgrade
#        purge removes the state (/var/lib/lineaged) and the logs
#        (/var/log/lineaged) and the init script's rc links.
#   rpm: $1 = 0 (erase) | 1 and more (upgrade)
#        erase removes the state (/var/lib/lineaged) and leaves the logs
#        (/var/log/lineaged: events may be evidence; rpm has no purge).

set -u
PATH=/sbin:/usr/sbin:/bin:/usr/bin

reload_systemd() {
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload >/dev/null 2>&1 || true
	fi
}

case "${1:-}" in
purge)
	rm -rf /var/lib/lineaged /var/log/lineaged
	if command -v update-rc.d >/dev/null 2>&1; then
		update-rc.d lineaged remove >/dev/null 2>&1 || true
	fi
	if command -v deb-systemd-helper >/dev/null 2>&1; then
		deb-systemd-helper purge lineaged.service >/dev/null 2>&1 || true
	fi
	reload_systemd
	;;
remove | abort-install | disappear)
	reload_systemd
	;;
0)
	rm -rf /var/lib/lineaged
	if [ -d /var/log/lineaged ]; then
		echo "lineaged: /var/log/lineaged is kept (events); remove it by hand when no longer needed"
	fi
	reload_systemd
	;;
esac
exit 0
