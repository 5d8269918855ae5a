#!/usr/bin/env bash
# Records testdata/sample/audit.log: a small, real audit log made by
# Debian's auditd on this machine's kernel, of a workload run under its own
# login uid (auid 4242) so that nothing else on the host gets in. Run as
# root on a host where no audit daemon is running; it restores the audit
# rules, enabled flag and backlog settings it changes.
#
#   bash testdata/sample/record.sh    (as root; needs: apt-get install auditd python3)
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD/audit.log
# A fixed directory, so paths read the same in text and in hex fields.
work=/tmp/lineaged-sample
rm -rf "$work"
mkdir -p "$work/etc/cron.d"

if [ "$(auditctl -s | awk '$1=="pid"{print $2}')" != 0 ]; then
	echo "an audit daemon is running; stop it first" >&2
	exit 1
fi
saved_enabled=$(auditctl -s | awk '$1=="enabled"{print $2}')
saved_wait=$(auditctl -s | awk '$1=="backlog_wait_time"{print $2}')
auditctl -l | grep -v '^No rules' > "$work/saved.rules" || true
restore() {
	auditctl -D >/dev/null
	[ -s "$work/saved.rules" ] && auditctl -R "$work/saved.rules" >/dev/null
	auditctl --backlog_wait_time "$saved_wait" >/dev/null
	auditctl -e "$saved_enabled" >/dev/null
	[ -n "${dpid:-}" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null || true
	rm -rf "$work"
}
trap restore EXIT
auditctl --backlog_wait_time 0 >/dev/null

mkdir -p "$work/plugins.d"
cat > "$work/auditd.conf" <<CONF
local_events = yes
write_logs = yes
log_file = $work/audit.log
log_group = root
log_format = RAW
flush = SYNC
max_log_file = 64
max_log_file_action = IGNORE
space_left = 2
space_left_action = IGNORE
admin_space_left = 1
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
name_format = NONE
plugin_dir = $work/plugins.d
CONF
auditd -n -c "$work" -s enable &
dpid=$!
for _ in $(seq 100); do
	[ "$(auditctl -s | awk '$1=="pid"{print $2}')" != 0 ] && break
	sleep 0.1
done

A=4242
for arch in b64 b32; do
	auditctl -a always,exit -F arch=$arch -S execve -F auid=$A -k exec >/dev/null
	auditctl -a always,exit -F arch=$arch -S connect,bind -F auid=$A -k net >/dev/null
	auditctl -a always,exit -F arch=$arch -S setuid,setresuid,setgid -F auid=$A -k priv >/dev/null
	auditctl -a always,exit -F arch=$arch -S exit_group -F auid=$A -k exit >/dev/null
done
auditctl -a always,exit -F arch=b64 -S openat,unlinkat,renameat -F dir="$work/etc" -F auid=$A -k persistence >/dev/null

# The workload, as login uid 4242 (a new audit session).
bash -c "
echo $A > /proc/self/loginuid
cd $work
sh -c 'uname -a; id' >/dev/null
printf 'a\nb\na\n' | sort | uniq -c >/dev/null
python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(1); c=socket.create_connection(s.getsockname()); c.close()'
echo '* * * * * root /tmp/x' > $work/etc/cron.d/job
mv $work/etc/cron.d/job $work/etc/cron.d/job2
rm -f $work/etc/cron.d/job2
setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/id >/dev/null
env -i /bin/sh -c 'exit 3' || true
" 
sleep 3
auditctl -D >/dev/null
kill "$dpid"; wait "$dpid" || true
dpid=
# Keep the workload's session and the daemon's start/end records.
grep -E 'auid=4242|type=DAEMON_' "$work/audit.log" > "$out.tmp"
# Pull in the other records of each kept event (EXECVE, PATH, ... carry no auid).
awk 'NR==FNR { if (match($0, /audit\([0-9.]+:[0-9]+\)/)) keep[substr($0, RSTART, RLENGTH)]=1; next }
     match($0, /audit\([0-9.]+:[0-9]+\)/) && (substr($0, RSTART, RLENGTH) in keep)' "$out.tmp" "$work/audit.log" > "$out"
rm -f "$out.tmp"
echo "wrote $(wc -l < "$out") lines to $out"
