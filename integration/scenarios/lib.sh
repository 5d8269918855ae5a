# shellcheck shell=bash
# lib.sh: helpers shared by the attack scenarios of this directory. Sourced by
# each scenario (and by restore-stale.sh), never run.
#
# A scenario starts with
#
#	trap restore_all EXIT
#	scn_begin NAME "$@"          # checks SCRATCHDIR, sets $SCRATCH
#
# and, BEFORE it changes anything outside SCRATCHDIR, registers what it will
# change; restore_all (the EXIT trap, which bash also runs on SIGTERM/SIGINT)
# undoes every registration in reverse order, deletes the backup and, when
# the scenario and the restore both succeeded, prints "scenario NAME: done".
#
#	backup PATH        a system file or directory about to be written,
#	                   created or deleted. Existing file: its copy (content,
#	                   mode, owner, times) is put back. Existing directory:
#	                   its mode and owner are put back (its files are backed
#	                   up one by one). Absent path: it is deleted again (a
#	                   directory only while empty).
#	created PATH       a file or directory the scenario made (or is about to
#	                   make) under /tmp, /var/tmp, /dev/shm or SCRATCHDIR:
#	                   deleted, recursively.
#	on_restore CMD     a bash command run at restore (idempotent: it may run
#	                   again from restore-stale.sh), e.g. removing an audit rule.
#	track_pid PID      a background process: killed at restore (TERM, then KILL).
#
# The backup lives in /var/lib/lineaged-scenario-backup/NAME/, one directory
# per registration, NNN (a sequence number), holding:
#	kind     file | created | undo | pid
#	path     the absolute path (file, created)
#	existed  1 or 0: whether the path existed when it was registered (file)
#	type     f | l | d: regular file, symlink, directory (file, existed=1)
#	stat     "mode uid gid" before the change (file, existed=1)
#	data     a cp -a copy of the file or symlink (file, existed=1, not d)
#	cmd      the command (undo)
#	pid      "PID STARTTIME" (pid; STARTTIME from /proc/PID/stat guards
#	         against a reused PID)
# An entry is written as NNN.part and renamed to NNN once complete, so NNN
# exists only when whole and before the change it protects. NAME/owner holds
# "PID STARTTIME" of the running scenario: restore-stale.sh leaves a backup
# alone while its owner lives, and restores it otherwise (a run killed with
# SIGKILL, a crashed VM).

SCN_ROOT=/var/lib/lineaged-scenario-backup
# Programs are named by absolute path in the scenarios; PATH only matters
# for what they run themselves (dpkg wants ldconfig, tar wants xz): keep it
# to the system's directories, never a pyenv shim.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

SCN_NAME=
SCN_DIR=
SCRATCH=
SCN_SEQ=0
SCN_E=
SCN_TAKEN=

log() { printf '%s: %s\n' "${SCN_NAME:-scenario}" "$*" >&2; }
die() {
	log "FAIL: $*"
	exit 1
}

# rd VAR FILE: reads the first line of FILE into VAR, with no process run
# (the scenarios keep their own process tree small and the same every run).
rd() {
	local line=
	IFS= read -r line <"$2" || [ -n "$line" ] || return 1
	printf -v "$1" '%s' "$line"
}

# proc_start PID: the start time (clock ticks after boot) of PID, field 22 of
# /proc/PID/stat; fails when PID does not exist.
proc_start() {
	local s f
	rd s "/proc/$1/stat" 2>/dev/null || return 1
	s=${s##*) }
	read -ra f <<<"$s"
	[ -n "${f[19]:-}" ] || return 1
	printf '%s\n' "${f[19]}"
}

# alive PID STARTTIME: whether that very process still runs (a zombie does
# not count).
alive() {
	local s f
	rd s "/proc/$1/stat" 2>/dev/null || return 1
	s=${s##*) }
	read -ra f <<<"$s"
	[ "${f[19]:-}" = "$2" ] && [ "${f[0]}" != Z ]
}

# scn_begin NAME SCRATCHDIR: starts a scenario's backup; restores first what
# an earlier run of the same scenario left (killed midway). Two runs of one
# scenario at once: the second fails.
scn_begin() {
	SCN_NAME=$1
	local scratch=${2:-}
	[ "$EUID" = 0 ] || die "must run as root"
	[ -n "$scratch" ] || die "usage: bash $SCN_NAME.sh SCRATCHDIR"
	case $scratch in
	/*) ;;
	*) die "SCRATCHDIR must be an absolute path: $scratch" ;;
	esac
	[ -d "$scratch" ] || die "SCRATCHDIR is not a directory: $scratch"
	[ "$(scn_depth "$scratch")" -ge 2 ] || die "SCRATCHDIR too close to /: $scratch"
	SCRATCH=${scratch%/}
	local d=$SCN_ROOT/$SCN_NAME claim pid st
	# The backup directory is claimed whole: made under another name with
	# its owner file, then renamed into place, which fails when it exists.
	for _ in 1 2 3 4 5; do
		# (another scenario ending now may remove an empty $SCN_ROOT)
		mkdir -p "$SCN_ROOT" 2>/dev/null || continue
		chmod 0700 "$SCN_ROOT" 2>/dev/null || continue
		claim=$(mktemp -d "$SCN_ROOT/.claim.XXXXXX" 2>/dev/null) || continue
		printf '%s %s\n' "$$" "$(proc_start $$)" >"$claim/owner" 2>/dev/null || continue
		if mv -T "$claim" "$d" 2>/dev/null; then
			SCN_DIR=$d
			SCN_SEQ=0
			return 0
		fi
		rm -rf "$claim"
		if read -r pid st 2>/dev/null <"$d/owner" && alive "$pid" "$st"; then
			die "another run of $SCN_NAME (pid $pid) is in progress"
		fi
		if scn_take "$d"; then
			log "restoring what an earlier, interrupted run left in $d"
			scn_restore_dir "$SCN_TAKEN" || die "could not restore the stale backup (now $SCN_TAKEN)"
		fi
	done
	die "could not claim $d"
}

# scn_take DIR: takes a stale backup to restore it: renames it to a name of
# this process's own (of two takers, one wins) and makes this process its
# owner. Sets SCN_TAKEN to the new path; fails when another process took it.
scn_take() {
	local to
	to="$SCN_ROOT/${1##*/}"
	to="${to%%.stale.*}.stale.$$-$RANDOM"
	mv -T "$1" "$to" 2>/dev/null || return 1
	printf '%s %s\n' "$$" "$(proc_start $$)" >"$to/owner"
	SCN_TAKEN=$to
}

# scn_depth PATH: the number of components of an absolute path.
scn_depth() {
	local p=${1%/} n=0
	while [ -n "$p" ] && [ "$p" != / ]; do
		n=$((n + 1))
		p=${p%/*}
	done
	echo "$n"
}

# scn_entry: makes a new entry directory (NNN.part), in $SCN_E.
scn_entry() {
	if [ -z "$SCN_DIR" ] || [ ! -d "$SCN_DIR" ]; then die "scn_begin was not called"; fi
	SCN_SEQ=$((SCN_SEQ + 1))
	SCN_E=$(printf '%s/%03d.part' "$SCN_DIR" "$SCN_SEQ")
	rm -rf "$SCN_E"
	mkdir "$SCN_E" || die "cannot create $SCN_E"
}

# scn_commit ENTRY: makes ENTRY (NNN.part) count, atomically.
scn_commit() {
	mv -T "$1" "${1%.part}"
}

scn_check_path() {
	case $1 in
	/*) ;;
	*) die "not an absolute path: $1" ;;
	esac
	case $1/ in
	*/../* | */./* | *//*) die "not a plain path: $1" ;;
	esac
	[ "$(scn_depth "$1")" -ge 2 ] || die "refusing a path this close to /: $1"
}

backup() {
	local p=$1 e
	scn_check_path "$p"
	scn_entry
	e=$SCN_E
	echo file >"$e/kind"
	printf '%s\n' "$p" >"$e/path"
	if [ -e "$p" ] || [ -L "$p" ]; then
		echo 1 >"$e/existed"
		stat -c '%a %u %g' -- "$p" >"$e/stat"
		if [ -L "$p" ]; then
			echo l >"$e/type"
			cp -a -- "$p" "$e/data"
		elif [ -d "$p" ]; then
			echo d >"$e/type"
		elif [ -f "$p" ]; then
			echo f >"$e/type"
			cp -a -- "$p" "$e/data"
		else
			die "neither a file, a symlink nor a directory: $p"
		fi
	else
		echo 0 >"$e/existed"
	fi
	scn_commit "$e"
}

created() {
	local p=$1 e
	scn_check_path "$p"
	scn_created_ok "$p" "$SCRATCH" || die "created: not under /tmp, /var/tmp, /dev/shm or SCRATCHDIR: $p"
	scn_entry
	e=$SCN_E
	echo created >"$e/kind"
	printf '%s\n' "$p" >"$e/path"
	printf '%s\n' "$SCRATCH" >"$e/scratch"
	scn_commit "$e"
}

# scn_created_ok PATH SCRATCH: whether PATH may be deleted recursively.
scn_created_ok() {
	case $1 in
	/tmp/?* | /var/tmp/?* | /dev/shm/?*) return 0 ;;
	esac
	[ -n "$2" ] && [ "$(scn_depth "$2")" -ge 2 ] && case $1 in "$2"/?*) true ;; *) false ;; esac
}

on_restore() {
	local e
	scn_entry
	e=$SCN_E
	echo undo >"$e/kind"
	printf '%s\n' "$1" >"$e/cmd"
	scn_commit "$e"
}

track_pid() {
	local e st
	st=$(proc_start "$1") || return 0 # already gone
	scn_entry
	e=$SCN_E
	echo pid >"$e/kind"
	printf '%s %s\n' "$1" "$st" >"$e/pid"
	scn_commit "$e"
}

# wait_file FILE [SECONDS]: waits until FILE exists (a server's "ready").
wait_file() {
	local n=$((${2:-5} * 20))
	while [ ! -e "$1" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || die "timed out waiting for $1"
		sleep 0.05
	done
}

# port_free PORT: fails when something listens on TCP PORT.
port_free() {
	[ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# scn_restore_entry ENTRY: undoes one registration. Fails (and keeps the
# entry) when it could not.
scn_restore_entry() {
	local e=$1 kind p existed
	rd kind "$e/kind" 2>/dev/null || return 1
	case $kind in
	pid)
		local pid st
		read -r pid st <"$e/pid" || return 1
		if alive "$pid" "$st"; then
			kill -TERM "$pid" 2>/dev/null || true
			local n=20
			while alive "$pid" "$st" && [ "$n" -gt 0 ]; do
				sleep 0.05
				n=$((n - 1))
			done
			alive "$pid" "$st" && kill -KILL "$pid" 2>/dev/null
		fi
		# Reap our own child; a no-op for another shell's.
		wait "$pid" 2>/dev/null || true
		! alive "$pid" "$st" || {
			sleep 0.1
			! alive "$pid" "$st"
		}
		;;
	undo)
		local cmd
		rd cmd "$e/cmd" || return 1
		bash -c "$cmd"
		;;
	created)
		local scratch=
		rd p "$e/path" || return 1
		rd scratch "$e/scratch" 2>/dev/null || true
		scn_created_ok "$p" "$scratch" || return 1
		rm -rf -- "$p"
		;;
	file)
		rd p "$e/path" || return 1
		rd existed "$e/existed" || return 1
		if [ "$existed" = 0 ]; then
			if [ -d "$p" ] && [ ! -L "$p" ]; then
				rmdir -- "$p" || return 1
			else
				rm -f -- "$p"
			fi
			return 0
		fi
		local type mode uid gid
		rd type "$e/type" || return 1
		read -r mode uid gid <"$e/stat"
		case $type in
		d)
			[ -d "$p" ] || mkdir -p -- "$p"
			chown "$uid:$gid" -- "$p" && chmod "$mode" -- "$p"
			;;
		l)
			[ -L "$p" ] && [ "$(readlink -- "$p")" = "$(readlink -- "$e/data")" ] && return 0
			cp -a -- "$e/data" "$p.lineaged-restore" && mv -fT -- "$p.lineaged-restore" "$p"
			;;
		f)
			# A file with the same content, mode and owner only gets its
			# times back (no write); any other is replaced whole (a copy
			# beside it, renamed over it: never seen half-written).
			if [ -f "$p" ] && [ ! -L "$p" ] && cmp -s -- "$e/data" "$p" &&
				[ "$(stat -c '%a %u %g' -- "$p")" = "$mode $uid $gid" ]; then
				touch -c -m -r "$e/data" -- "$p"
				return 0
			fi
			cp -a -- "$e/data" "$p.lineaged-restore" && mv -fT -- "$p.lineaged-restore" "$p" || return 1
			[ "$(stat -c '%a %u %g' -- "$p")" = "$mode $uid $gid" ]
			;;
		*) return 1 ;;
		esac
		;;
	*) return 1 ;;
	esac
}

# scn_restore_dir DIR: undoes every entry of a backup, newest first, deletes
# each once undone, then the backup itself. Fails if any entry could not be
# undone (those stay, for restore-stale.sh).
scn_restore_dir() {
	local d=$1 e i failed=0 entries what
	rm -rf "$d"/*.part
	# The glob sorts the entries oldest first: undo them newest first.
	entries=("$d"/[0-9][0-9][0-9])
	for ((i = ${#entries[@]} - 1; i >= 0; i--)); do
		e=${entries[i]}
		[ -d "$e" ] || continue
		if scn_restore_entry "$e"; then
			rm -rf -- "$e"
		else
			what=
			rd what "$e/path" 2>/dev/null || rd what "$e/cmd" 2>/dev/null || rd what "$e/pid" 2>/dev/null || true
			printf 'restore: could not undo %s (%s)\n' "$e" "$what" >&2
			failed=1
		fi
	done
	[ "$failed" = 0 ] || return 1
	# Renamed away first: the name is free again at once, for a new run.
	local gone=$SCN_ROOT/.done.$$-$RANDOM
	mv -T "$d" "$gone" && rm -rf -- "$gone" || return 1
	rmdir "$SCN_ROOT" 2>/dev/null || true
}

# restore_all: the scenarios' EXIT trap.
restore_all() {
	local rc=$?
	set +e
	trap - EXIT
	cd / || true
	if [ -n "$SCN_DIR" ] && [ -d "$SCN_DIR" ]; then
		if ! scn_restore_dir "$SCN_DIR"; then
			log "FAIL: restore incomplete; the backup stays in $SCN_DIR (bash $(dirname "${BASH_SOURCE[0]}")/restore-stale.sh)"
			[ "$rc" != 0 ] || rc=1
		fi
	fi
	if [ "$rc" = 0 ] && [ -n "$SCN_NAME" ]; then
		echo "scenario $SCN_NAME: done"
	fi
	exit "$rc"
}

# restore_stale: restores every backup whose scenario no longer runs.
restore_stale() {
	local d c pid st failed=0 n=0 busy=0
	[ -d "$SCN_ROOT" ] || {
		echo "restore-stale: nothing to restore"
		return 0
	}
	for d in "$SCN_ROOT"/*; do
		[ -d "$d" ] || continue
		if read -r pid st 2>/dev/null <"$d/owner" && alive "$pid" "$st"; then
			echo "restore-stale: ${d##*/} is running (pid $pid); left alone"
			busy=1
			continue
		fi
		SCN_NAME=${d##*/}
		SCN_NAME=${SCN_NAME%%.stale.*}
		scn_take "$d" || continue # another process took it
		if scn_restore_dir "$SCN_TAKEN"; then
			echo "restore-stale: restored $SCN_NAME"
			n=$((n + 1))
		else
			echo "restore-stale: could not fully restore $SCN_NAME ($SCN_TAKEN kept)" >&2
			failed=1
		fi
	done
	# Claims and finished backups of runs killed at that very moment: they
	# hold no change to undo.
	for c in "$SCN_ROOT"/.claim.* "$SCN_ROOT"/.done.*; do
		[ -d "$c" ] || continue
		if read -r pid st 2>/dev/null <"$c/owner" && alive "$pid" "$st"; then
			continue
		fi
		rm -rf -- "$c"
	done
	rmdir "$SCN_ROOT" 2>/dev/null || true
	[ "$n" -gt 0 ] || [ "$failed" = 1 ] || [ "$busy" = 1 ] || echo "restore-stale: nothing to restore"
	return "$failed"
}
