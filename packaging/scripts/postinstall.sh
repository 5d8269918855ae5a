#!/bin/sh
# lineaged post-install script, shared by the .deb (postinst) and the
# .rpm (%post). Enables and starts the service; on an upgrade restarts
# it if it runs. Never fails the installation: when the service cannot be
# enabled or started (no init system we know, starts blocked by
# policy-rc.d in a container or image build) it says so and exits 0.
#
#   deb: $1 = configure [old-version] | abort-upgrade | abort-remove | abort-deconfigure
#   rpm: $1 = 1 (install) | 2 and more (upgrade)
#
# Coexistence: nothing here touches auditd (see lineaged replace-auditd).

set -u
PATH=/sbin:/usr/sbin:/bin:/usr/bin

say() { echo "lineaged: $*"; }

action=${1:-}
old=${2:-}
upgrade=no
case "$action" in
configure)
	[ -n "$old" ] && upgrade=yes
	;;
abort-upgrade | abort-remove | abort-deconfigure)
	upgrade=yes
	;;
[0-9]*)
	[ "$action" -ge 2 ] && upgrade=yes
	;;
*)
	exit 0
	;;
esac

# Modes of the directories, should a local policy have changed them.
chmod 0700 /var/lib/lineaged 2>/dev/null || true
chmod 0750 /var/log/lineaged 2>/dev/null || true

# started_msg EXIT DONE-WORDS COMMAND: report how the start went.
started_msg() {
	if [ "$1" -eq 0 ]; then
		say "service $2"
	elif [ "$1" -eq 101 ]; then
		say "service start blocked by policy-rc.d (exit 101) or not allowed in this runlevel; start it later with: $3"
	else
		say "could not start the service (exit $1); see the logs, then: $3"
	fi
}

if [ -d /run/systemd/system ]; then
	# systemd is PID 1.
	systemctl daemon-reload >/dev/null 2>&1 || true
	if [ "$upgrade" = no ]; then
		systemctl enable lineaged.service >/dev/null 2>&1 ||
			say "could not enable lineaged.service: systemctl enable lineaged.service"
	fi
	if [ "$upgrade" = yes ]; then verb=try-restart; done_word="restarted (if it was running)"; else verb=start; done_word=started; fi
	if command -v deb-systemd-invoke >/dev/null 2>&1; then
		# Honours policy-rc.d, but exits 0 when it denies: ask systemd
		# whether the service runs.
		deb-systemd-invoke "$verb" lineaged.service >/dev/null 2>&1
		rc=$?
		if [ $rc -eq 0 ] && [ "$verb" = start ] && ! systemctl is-active --quiet lineaged.service; then
			rc=101
		fi
	else
		systemctl "$verb" lineaged.service >/dev/null 2>&1
		rc=$?
	fi
	started_msg $rc "$done_word" "systemctl $verb lineaged.service"
	exit 0
fi

# No systemd: the SysV init script.
if command -v update-rc.d >/dev/null 2>&1; then
	update-rc.d lineaged defaults >/dev/null 2>&1 ||
		say "update-rc.d lineaged defaults failed: enable the service by hand"
elif command -v chkconfig >/dev/null 2>&1; then
	chkconfig --add lineaged >/dev/null 2>&1 ||
		say "chkconfig --add lineaged failed: enable the service by hand"
else
	say "no systemd, update-rc.d or chkconfig here: lineaged is installed but not enabled at boot;"
	say "run /etc/init.d/lineaged start, or start /usr/bin/lineaged run from your init system"
	exit 0
fi

if [ "$upgrade" = yes ]; then verb=try-restart; done_word="restarted (if it was running)"; else verb=start; done_word=started; fi
if command -v invoke-rc.d >/dev/null 2>&1; then
	# Debian: invoke-rc.d honours policy-rc.d (exit 101: no service
	# starts); --disclose-deny makes it say so by its exit status (101)
	# instead of exiting 0. It also denies a start in a runlevel without
	# a start link (chroots, containers without a runlevel).
	invoke-rc.d --disclose-deny lineaged "$verb" >/dev/null 2>&1
	rc=$?
elif command -v service >/dev/null 2>&1; then
	service lineaged "$verb" >/dev/null 2>&1
	rc=$?
else
	/etc/init.d/lineaged "$verb" >/dev/null 2>&1
	rc=$?
fi
started_msg $rc "$done_word" "/etc/init.d/lineaged $verb"
exit 0
