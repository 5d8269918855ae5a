#!/bin/bash
# benign.sh SCRATCHDIR [ITERATIONS]  (or: benign.sh ITERATIONS, in a fresh
# mktemp -d directory under /tmp): a benign developer-box workload, adapted
# from shared/testdata/recorded/workload.sh: a git repository with one commit
# per iteration, make and cc building a C program that is then run, a local
# web server (/usr/bin/python3 -m http.server on 127.0.0.1:18282) and its
# curl clients, text pipelines, an xz tar archive in /tmp tested and deleted,
# getent and stat. All in SCRATCHDIR/devbox, except the archive
# (/tmp/lineaged-benign.txz).
#
# Deterministic: the same commands, with the same arguments, every run and
# every iteration; the occasional steps (archive every 10 iterations,
# getent/stat every 15) start at iteration 1, so a run of any length does
# each at least once, and a baseline learned from one run covers another.
# Default ITERATIONS: 30 (a few seconds). Expected alerts: none.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap restore_all EXIT

iterations=30
if [ $# -eq 1 ] && [[ $1 =~ ^[0-9]+$ ]]; then
	iterations=$1
	tmp=$(mktemp -d /tmp/lineaged-benign-XXXXXX)
	scn_begin benign "$tmp"
	created "$tmp"
else
	scn_begin benign "$@"
	[ $# -lt 2 ] || iterations=$2
fi
[[ $iterations =~ ^[0-9]+$ ]] || die "ITERATIONS must be a number: $iterations"

port=18282
port_free "$port" || die "127.0.0.1:$port is in use"
W=$SCRATCH/devbox
archive=/tmp/lineaged-benign.txz
created "$W"
backup "$archive"
/usr/bin/mkdir -p "$W/src" "$W/www"
cd "$W"
printf '#include <stdio.h>\nint main(void){puts("ok");return 0;}\n' >src/hello.c
printf 'all: hello\nhello: hello.c\n\t/usr/bin/cc -O2 -o hello hello.c\nclean:\n\t/usr/bin/rm -f hello\n' >src/Makefile
echo '<h1>devbox</h1>' >www/index.html

(cd www && exec /usr/bin/python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
hp=$!
track_pid "$hp"
for _ in $(seq 100); do
	/usr/bin/curl -fs --noproxy '*' -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.05
done

# No system or global git configuration: same behaviour on every machine.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
/usr/bin/git init -q repo
cd repo
/usr/bin/git config user.email dev@example.com
/usr/bin/git config user.name dev
for i in $(seq 1 "$iterations"); do
	echo "line $i" >>notes.txt
	/usr/bin/git add notes.txt
	/usr/bin/git commit -qm "note $i"
	(cd "$W/src" && /usr/bin/make -s clean >/dev/null 2>&1 && /usr/bin/make -s >/dev/null && ./hello >/dev/null)
	/usr/bin/curl -s --noproxy '*' "http://127.0.0.1:$port/" | /usr/bin/grep -c devbox >/dev/null
	/usr/bin/awk '{print $1}' /etc/services | /usr/bin/sort | /usr/bin/uniq -c | /usr/bin/sort -rn | /usr/bin/head -3 >/dev/null || true # head may close the pipe early
	/usr/bin/find /usr/share/doc -maxdepth 1 -type d | /usr/bin/wc -l >/dev/null
	if ((i % 10 == 1)); then
		/usr/bin/tar cJf "$archive" -C "$W" src
		/usr/bin/xz -t "$archive"
		/usr/bin/rm -f "$archive"
	fi
	if ((i % 15 == 1)); then
		/usr/bin/getent passwd root >/dev/null
		/usr/bin/stat /etc/shadow >/dev/null
	fi
done
log "$iterations iterations"
