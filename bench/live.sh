#!/usr/bin/env bash
# bench/live.sh -- live benchmark: `lineaged run` vs Debian's auditd (RAW log)
# under an exec storm from bench/loadgen. See bench/README.md.
# Run from the repo root, as root: bash bench/live.sh [--strict]
#
# Environment (all optional; relative paths are relative to the repo root):
#   LINEAGED_BIN     lineaged binary (default bin/lineaged, built if missing)
#   BENCH_RATE       execs per second (default 1000)
#   BENCH_DURATION   seconds of load (default 10)
#   BENCH_GRACE      seconds to wait for late lines after the load (default 5)
#   BENCH_SETTLE     seconds between a tool being ready and the load (default 2)
#   BENCH_TOOLS      which runs: "lineaged auditd" (default), or one of them
#   LINEAGED_ARGS    extra `lineaged run` flags, for diagnosis only (e.g.
#                    --no-file-watch, --snapshot-every 0); the Must figures
#                    are for the default: all sources on
#
# Exit status: 0 = measured (targets may have been missed) or skipped (audit
# owned by a running daemon, or immutable); 1 = --strict and a Must was
# missed; 2 = a tool failed to build or run, or bad usage.
set -euo pipefail
export LC_ALL=C

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
STRICT=0
while [ $# -gt 0 ]; do
	case "$1" in
	--strict) STRICT=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "live.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
mkdir -p "$OUT"

RATE=${BENCH_RATE:-1000}
DURATION=${BENCH_DURATION:-10}
GRACE=${BENCH_GRACE:-5}
SETTLE=${BENCH_SETTLE:-2}
LINEAGED_BIN=${LINEAGED_BIN:-}
TOOLS=${BENCH_TOOLS:-lineaged auditd}
read -r -a LINEAGED_EXTRA <<<"${LINEAGED_ARGS:-}"
RESULTS=$OUT/live-results.txt

# Targets for lineaged (Must), and the aim (informational).
TARGET_P99_MS=200
AIM_RATIO=0.55

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'live.sh: %s\n' "$*" >&2; }

for v in RATE DURATION GRACE SETTLE; do
	case "${!v}" in '' | *[!0-9.]* | .*) warn "BENCH_$v must be a positive number"; exit 2 ;; esac
done
for t in $TOOLS; do
	case "$t" in lineaged | auditd) ;; *) warn "BENCH_TOOLS: unknown tool $t"; exit 2 ;; esac
done
want() { [[ " $TOOLS " == *" $1 "* ]]; }
if [ "$(id -u)" -ne 0 ]; then
	warn "needs root (audit control, the proc connector, fanotify)"
	exit 2
fi
PATH=$PATH:/usr/sbin:/sbin
for c in auditctl auditd; do
	if ! command -v "$c" >/dev/null 2>&1; then
		warn "$c not found: install Debian's auditd package (make deps does)"
		exit 2
	fi
done
if [ ! -x /usr/bin/time ]; then
	say "installing missing Debian package: time"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y time >&2 || { apt-get update >&2 && apt-get install -y time >&2; }
fi
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- audit state
# The kernel's audit configuration as found, saved once; put back after each
# run and by the trap, however the script ends. -e 2 and -f 2 are never set.
S_ENABLED= S_FAILURE= S_PID= S_RATE= S_BACKLOG= S_WAIT=
SAVED_RULES=$OUT/live-audit-rules.saved
audit_field() { auditctl -s | awk -v k="$1" '$1 == k {print $2; exit}'; }
save_audit() {
	auditctl -s >"$OUT/live-audit-status.before"
	auditctl -l >"$OUT/live-audit-rules.before"
	S_ENABLED=$(awk '$1 == "enabled" {print $2}' "$OUT/live-audit-status.before")
	S_FAILURE=$(awk '$1 == "failure" {print $2}' "$OUT/live-audit-status.before")
	S_PID=$(awk '$1 == "pid" {print $2}' "$OUT/live-audit-status.before")
	S_RATE=$(awk '$1 == "rate_limit" {print $2}' "$OUT/live-audit-status.before")
	S_BACKLOG=$(awk '$1 == "backlog_limit" {print $2}' "$OUT/live-audit-status.before")
	S_WAIT=$(awk '$1 == "backlog_wait_time" {print $2}' "$OUT/live-audit-status.before")
	grep -vx 'No rules' "$OUT/live-audit-rules.before" >"$SAVED_RULES" || true
}
TOUCHED=0 # 1 once this script changed the audit state
restore_audit() {
	[ "$TOUCHED" = 1 ] || return 0
	local rc=0
	auditctl -D >/dev/null || rc=1
	if [ -s "$SAVED_RULES" ]; then auditctl -R "$SAVED_RULES" >/dev/null || rc=1; fi
	if [ -n "$S_WAIT" ]; then auditctl --backlog_wait_time "$S_WAIT" >/dev/null || rc=1; fi
	auditctl -b "$S_BACKLOG" >/dev/null || rc=1
	auditctl -r "$S_RATE" >/dev/null || rc=1
	case "$S_FAILURE" in 0 | 1) auditctl -f "$S_FAILURE" >/dev/null || rc=1 ;; esac
	case "$S_ENABLED" in 0 | 1) auditctl -e "$S_ENABLED" >/dev/null || rc=1 ;; esac
	local pid i
	for ((i = 0; i < 50; i++)); do
		pid=$(audit_field pid)
		[ "$pid" = 0 ] && break
		sleep 0.1
	done
	if [ "$pid" != 0 ]; then
		warn "audit pid is $pid after restoring, expected 0"
		rc=1
	fi
	[ "$rc" = 0 ] || warn "restoring the audit state had errors; compare auditctl -s/-l with $OUT/live-audit-*.before"
	return "$rc"
}

# Processes this script started (time's child is the tool itself: see
# start_tool), so the trap can stop them.
TOOL_TPID= TOOL_PID= LOADGEN_PID=
stop_tool() {
	[ -n "$TOOL_TPID" ] || return 0
	local i
	[ -z "$TOOL_PID" ] || kill -TERM "$TOOL_PID" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		kill -0 "$TOOL_TPID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$TOOL_TPID" 2>/dev/null; then
		warn "pid $TOOL_PID did not stop within 15 s of SIGTERM: SIGKILL"
		[ -z "$TOOL_PID" ] || kill -KILL "$TOOL_PID" 2>/dev/null || true
	fi
	TOOL_RC=0
	wait "$TOOL_TPID" 2>/dev/null || TOOL_RC=$?
	TOOL_TPID= TOOL_PID=
}
cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM HUP
	if [ -n "$LOADGEN_PID" ]; then
		kill -TERM "$LOADGEN_PID" 2>/dev/null
		wait "$LOADGEN_PID" 2>/dev/null
	fi
	stop_tool || true
	restore_audit || true
	exit "$rc"
}
trap cleanup EXIT
trap 'warn "interrupted"; exit 130' INT
trap 'warn "terminated"; exit 143' TERM HUP

# start_tool NAME CMD...: starts CMD under /usr/bin/time -v in the
# background; time's child execs CMD in place, so TOOL_PID is the tool.
# Its files: bench/out/live-NAME.{pid,time,stdout,stderr}.
start_tool() {
	local name=live-$1 i
	shift
	rm -f "$OUT/$name.pid"
	/usr/bin/time -v -o "$OUT/$name.time" bash -c 'echo $$ >"$0"; exec "$@"' "$OUT/$name.pid" "$@" \
		>"$OUT/$name.stdout" 2>"$OUT/$name.stderr" &
	TOOL_TPID=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$OUT/$name.pid" ] && break
		sleep 0.02
	done
	TOOL_PID=$(cat "$OUT/$name.pid" 2>/dev/null || true)
	[ -n "$TOOL_PID" ]
}
tool_alive() { [ -n "$TOOL_PID" ] && kill -0 "$TOOL_PID" 2>/dev/null; }
# CPU seconds (user+sys, all threads) of a live process.
cpu_s() { awk -v t="$CLK_TCK" '{sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t}' "/proc/$1/stat"; }
# key from a loadgen result file
lg() { awk -v k="$1" '$1 == k {print $2; exit}' "$2"; }

# ---------------------------------------------------------------- build
failed=()
declare -A ST # per tool: status (ok or why not)
lineaged_ok=1
if [ -z "$LINEAGED_BIN" ]; then
	LINEAGED_BIN=bin/lineaged
	if [ ! -x "$LINEAGED_BIN" ]; then
		say "building $LINEAGED_BIN"
		if ! CGO_ENABLED=0 go build -trimpath -o "$LINEAGED_BIN" ./cmd/lineaged; then
			warn "go build ./cmd/lineaged failed: lineaged will not be measured"
			lineaged_ok=0
			ST[lineaged]="build failed"
		fi
	fi
fi
if [ "$lineaged_ok" = 1 ] && ! [ -x "$LINEAGED_BIN" ]; then
	warn "lineaged binary $LINEAGED_BIN not found: lineaged will not be measured"
	lineaged_ok=0
	ST[lineaged]="not found"
fi
LINEAGED_BIN=$(realpath "$LINEAGED_BIN" 2>/dev/null || echo "$LINEAGED_BIN")
say "building bench/loadgen"
go build -o "$OUT/loadgen" ./bench/loadgen
LOADGEN=$OUT/loadgen

# ---------------------------------------------------------------- preflight
save_audit
if [ "$S_PID" != 0 ]; then
	comm=$(cat "/proc/$S_PID/comm" 2>/dev/null || echo "not running")
	warn "SKIPPED: an audit daemon is registered (audit pid $S_PID, $comm); this benchmark needs audit free."
	warn "Stop it (e.g. systemctl stop auditd, or service auditd stop) and run again. Nothing was changed."
	echo "live benchmark skipped: audit pid $S_PID ($comm) registered" >"$RESULTS"
	exit 0
fi
if [ "$S_ENABLED" = 2 ]; then
	warn "SKIPPED: audit is immutable (-e 2) until reboot; nothing was changed."
	echo "live benchmark skipped: audit immutable" >"$RESULTS"
	exit 0
fi
for ((i = 0; i < 3; i++)); do
	# A quieter machine first: the load average is in the report.
	load1=$(cut -d' ' -f1 /proc/loadavg)
	awk -v l="$load1" 'BEGIN {exit !(l < 1.0)}' && break
	[ "$i" = 0 ] && say "load average $load1: waiting up to 30 s for the machine to calm down"
	sleep 10
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# rules shared by both runs: the same single execve rule
RULE=(-a always,exit -F arch=b64 -S execve -k bench)
declare -A R_STARTED R_SEEN R_LOST R_KLOST R_CPU R_LCPU R_PCT R_RSS R_P50 R_P99 R_MAX R_RATE R_NOTE

# after_load NAME LGFILE PID LOST0 CPU0: figures from a run's load phase
after_load() {
	local name=$1 lgf=$2 pid=$3 lost0=$4 cpu0=$5 cpu1 lost1 elapsed
	cpu1=$(cpu_s "$pid")
	lost1=$(audit_field lost)
	elapsed=$(lg elapsed_s "$lgf")
	R_STARTED[$name]=$(lg started "$lgf")
	R_RATE[$name]=$(lg rate "$lgf")
	R_KLOST[$name]=$((lost1 - lost0))
	R_LCPU[$name]=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.2f", b - a}')
	R_PCT[$name]=$(awk -v c="${R_LCPU[$name]}" -v e="$elapsed" 'BEGIN {printf "%.1f", 100 * c / e}')
	R_P50[$name]=$(lg p50_ms "$lgf")
	R_P99[$name]=$(lg p99_ms "$lgf")
	R_MAX[$name]=$(lg max_ms "$lgf")
	local se
	se=$(lg spawn_errors "$lgf")
	[ "${se:-0}" = 0 ] || warn "$name: loadgen had $se spawn errors (not counted as started)"
}
# after_stop NAME COUNTFILE: figures once the tool has exited
after_stop() {
	local name=$1 cf=$2 tv=$OUT/live-$1.time user sys rss
	user=$(awk -F': ' '/User time \(seconds\)/ {print $2}' "$tv")
	sys=$(awk -F': ' '/System time \(seconds\)/ {print $2}' "$tv")
	rss=$(awk -F': ' '/Maximum resident set size \(kbytes\)/ {print $2}' "$tv")
	R_CPU[$name]=$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN {printf "%.2f", u + s}')
	R_RSS[$name]=$(awk -v r="${rss:-0}" 'BEGIN {printf "%.1f", r / 1024}')
	R_SEEN[$name]=$(lg seen "$cf")
	R_LOST[$name]=$((R_STARTED[$name] - R_SEEN[$name]))
	ST[$name]=ok
}

MARKER_BASE=lgbench$(date +%s)

# ---------------------------------------------------------------- run A: lineaged
run_lineaged() {
	local name=lineaged marker=${MARKER_BASE}a
	local rules=$OUT/live-rules events=$OUT/live-lineaged.jsonl lgf=$OUT/live-lineaged.loadgen i
	rm -rf "$rules" && mkdir -p "$rules"
	cat >"$rules/10-bench.rules" <<-EOF
		# bench/live.sh: the same single execve rule as the auditd run
		--backlog_wait_time 0
		-b 65536
		${RULE[*]}
	EOF
	rm -f "$events" "$OUT/live-$name".{pid,time,stdout,stderr,loadgen,count,lat}
	# Detection on, as installed, but with its own state and a fresh
	# baseline (so: learning, every event's keys observed), not the host's.
	rm -rf "$OUT/live-state"; mkdir -p "$OUT/live-state"
	TOUCHED=1
	auditctl -D >/dev/null # lineaged starts from no rules, like auditd below
	say "lineaged: starting (audit own, all sources), output $events"
	if ! start_tool "$name" "$LINEAGED_BIN" run --output "$events" --audit-mode own --rules-dir "$rules" \
		--state-dir "$OUT/live-state" --baseline "$OUT/live-state/baseline.jsonl" "${LINEAGED_EXTRA[@]}"; then
		warn "lineaged did not start, see $OUT/live-$name.stderr"
		stop_tool; return 1
	fi
	for ((i = 0; i < 400; i++)); do
		[ -s "$events" ] && break
		tool_alive || break
		sleep 0.05
	done
	if ! [ -s "$events" ] || ! tool_alive; then
		warn "lineaged wrote nothing within 20 s or exited; see $OUT/live-$name.stderr"
		stop_tool; return 1
	fi
	sleep "$SETTLE"
	tool_alive || { warn "lineaged exited early; see $OUT/live-$name.stderr"; stop_tool; return 1; }
	auditctl -s >"$OUT/live-lineaged-audit-status.during"
	auditctl -l >"$OUT/live-lineaged-audit-rules.during"
	local cpu0 lost0
	lost0=$(audit_field lost)
	cpu0=$(cpu_s "$TOOL_PID")
	say "lineaged: load $RATE/s for ${DURATION}s (marker $marker)"
	"$LOADGEN" -rate "$RATE" -duration "${DURATION}s" -marker "$marker" -tail "$events" -grace "${GRACE}s" \
		-lat "$OUT/live-$name.lat" >"$lgf" &
	LOADGEN_PID=$!
	wait "$LOADGEN_PID" || { LOADGEN_PID=; warn "loadgen failed"; stop_tool; return 1; }
	LOADGEN_PID=
	tool_alive || { warn "lineaged exited during the load; see $OUT/live-$name.stderr"; stop_tool; return 1; }
	after_load "$name" "$lgf" "$TOOL_PID" "$lost0" "$cpu0"
	say "lineaged: stopping (SIGTERM)"
	stop_tool
	[ "$TOOL_RC" = 0 ] || warn "lineaged exited with status $TOOL_RC; see $OUT/live-$name.stderr"
	"$LOADGEN" -count "$events" -marker "$marker" >"$OUT/live-$name.count"
	after_stop "$name" "$OUT/live-$name.count"
	local stopline
	stopline=$(grep '"action":"stopped"' "$events" | tail -n 1 | sed -n 's/.*"message":"\(lineaged stopping:[^"]*\)".*/\1/p')
	R_NOTE[$name]="${stopline:-no stopped line (exit status $TOOL_RC)}"
	local a
	for a in audit-records-lost audit-sequence-gap proc-overrun; do
		local n
		n=$(grep -c "\"action\":\"$a\"" "$events" || true)
		[ "$n" = 0 ] || R_NOTE[$name]+="; $n $a events"
	done
	[ "$TOOL_RC" = 0 ] || return 1
}

# ---------------------------------------------------------------- run B: auditd
run_auditd() {
	local name=auditd marker=${MARKER_BASE}b
	local conf=$OUT/live-auditd-conf log=$OUT/live-auditd.log lgf=$OUT/live-auditd.loadgen i pid
	rm -rf "$conf" && mkdir -p "$conf/plugins.d"
	chmod 750 "$conf" "$conf/plugins.d"
	rm -f "$log" "$log".[0-9]* "$OUT/live-$name".{pid,time,stdout,stderr,loadgen,count,lat}
	# Debian's defaults where they matter for speed (log_format RAW here,
	# flush INCREMENTAL_ASYNC freq 50, priority_boost 4); no plugins, the
	# log in bench/out, and no disk-space action that could suspend it.
	cat >"$conf/auditd.conf" <<-EOF
		local_events = yes
		write_logs = yes
		log_file = $log
		log_group = root
		log_format = RAW
		flush = INCREMENTAL_ASYNC
		freq = 50
		priority_boost = 4
		max_log_file = 1024
		num_logs = 2
		max_log_file_action = IGNORE
		space_left = 2
		space_left_action = IGNORE
		admin_space_left = 1
		admin_space_left_action = IGNORE
		disk_full_action = IGNORE
		disk_error_action = IGNORE
		name_format = NONE
		plugin_dir = $conf/plugins.d
		q_depth = 2000
		overflow_action = IGNORE
		end_of_event_timeout = 2
	EOF
	chmod 640 "$conf/auditd.conf"
	TOUCHED=1
	auditctl -D >/dev/null
	auditctl --backlog_wait_time 0 >/dev/null
	auditctl -b 65536 >/dev/null
	say "auditd: starting (RAW, flush INCREMENTAL_ASYNC), log $log"
	if ! start_tool "$name" "$(command -v auditd)" -n -c "$conf" -s enable; then
		warn "auditd did not start, see $OUT/live-$name.stderr"
		stop_tool; return 1
	fi
	for ((i = 0; i < 200; i++)); do
		pid=$(audit_field pid)
		[ "$pid" != 0 ] && break
		tool_alive || break
		sleep 0.05
	done
	if [ "$pid" != "$TOOL_PID" ]; then
		warn "auditd (pid $TOOL_PID) did not register as the audit daemon (audit pid $pid); see $OUT/live-$name.stderr"
		stop_tool; return 1
	fi
	auditctl "${RULE[@]}" >/dev/null
	sleep "$SETTLE"
	tool_alive || { warn "auditd exited early; see $OUT/live-$name.stderr"; stop_tool; return 1; }
	auditctl -s >"$OUT/live-auditd-audit-status.during"
	auditctl -l >"$OUT/live-auditd-audit-rules.during"
	local cpu0 lost0
	lost0=$(audit_field lost)
	cpu0=$(cpu_s "$TOOL_PID")
	say "auditd: load $RATE/s for ${DURATION}s (marker $marker)"
	"$LOADGEN" -rate "$RATE" -duration "${DURATION}s" -marker "$marker" -tail "$log" -grace "${GRACE}s" \
		-lat "$OUT/live-$name.lat" >"$lgf" &
	LOADGEN_PID=$!
	wait "$LOADGEN_PID" || { LOADGEN_PID=; warn "loadgen failed"; stop_tool; return 1; }
	LOADGEN_PID=
	tool_alive || { warn "auditd exited during the load; see $OUT/live-$name.stderr"; stop_tool; return 1; }
	after_load "$name" "$lgf" "$TOOL_PID" "$lost0" "$cpu0"
	# Rules off before the daemon goes (else the kernel would printk them).
	auditctl -D >/dev/null
	say "auditd: stopping (SIGTERM)"
	stop_tool
	[ "$TOOL_RC" = 0 ] || warn "auditd exited with status $TOOL_RC; see $OUT/live-$name.stderr"
	"$LOADGEN" -count "$log" -marker "$marker" >"$OUT/live-$name.count"
	after_stop "$name" "$OUT/live-$name.count"
	R_NOTE[$name]="log $(wc -l <"$log") lines, $(stat -c %s "$log") bytes"
	[ "$TOOL_RC" = 0 ] || return 1
}

if ! want lineaged; then
	ST[lineaged]="not run"
elif [ "$lineaged_ok" = 1 ]; then
	if ! run_lineaged; then
		ST[lineaged]=failed
		failed+=(lineaged)
	fi
	restore_audit || failed+=(restore)
	want auditd && sleep 2 # let the machine calm down between the runs
else
	failed+=(lineaged)
fi
if ! want auditd; then
	ST[auditd]="not run"
elif [ "$(audit_field pid)" != 0 ]; then
	warn "audit pid is $(audit_field pid) before the auditd run: not starting auditd"
	ST[auditd]="audit not free"
	failed+=(auditd)
elif ! run_auditd; then
	ST[auditd]=failed
	failed+=(auditd)
fi
restore_audit || failed+=(restore)
TOUCHED=0

# ---------------------------------------------------------------- report
fmt_row() { printf '%-9s %8s %8s %6s %7s %7s %6s %8s %7s %7s %7s\n' "$@"; }
ok() { [ "${ST[$1]:-}" = ok ]; }
{
	echo "lineaged live benchmark -- $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host:     $(uname -srm); $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)); load before $LOAD_BEFORE"
	echo "commit:   $(git rev-parse --short HEAD 2>/dev/null || echo none)$( [ -n "$(git status --porcelain 2>/dev/null | head -n 1)" ] && echo ' (dirty tree)')"
	echo "tools:    $("$LINEAGED_BIN" version 2>/dev/null | head -n 1) ($LINEAGED_BIN run --audit-mode own, proc connector, fanotify default policy, sock_diag every 10s, detection learning a fresh baseline);"
	[ ${#LINEAGED_EXTRA[@]} -eq 0 ] || echo "          NOT THE DEFAULT: lineaged run ${LINEAGED_EXTRA[*]} (diagnosis only)"
	echo "          auditd $(auditctl -v 2>/dev/null | awk '{print $NF}') -n, log_format RAW, flush INCREMENTAL_ASYNC freq 50, no plugins; $(go version | cut -d' ' -f3)"
	echo "load:     bench/loadgen: /bin/true MARKER-SEQ-NS at $RATE/s for ${DURATION}s; rule: ${RULE[*]}; -b 65536, --backlog_wait_time 0"
	echo "method:   each tool alone, output to bench/out (disk); CPU s = user+sys of the tool's whole life (/usr/bin/time -v);"
	echo "          CPU % = user+sys during load+drain (/proc/PID/stat) / load seconds; kernel-side audit work is in neither;"
	echo "          latency = wall time loadgen's reader saw the line - wall time before the fork (reader polls every 2 ms)"
	echo
	fmt_row tool started seen lost "k.lost" "CPU s" "CPU %" "RSS MiB" "p50 ms" "p99 ms" "max ms"
	for t in lineaged auditd; do
		if ok "$t"; then
			fmt_row "$t" "${R_STARTED[$t]}" "${R_SEEN[$t]}" "${R_LOST[$t]}" "${R_KLOST[$t]}" "${R_CPU[$t]}" \
				"${R_PCT[$t]}" "${R_RSS[$t]}" "${R_P50[$t]}" "${R_P99[$t]}" "${R_MAX[$t]}"
		else
			fmt_row "$t" "${ST[$t]:-not run}" - - - - - - - - -
		fi
	done
	echo
	for t in lineaged auditd; do
		ok "$t" || continue
		echo "$t: achieved rate ${R_RATE[$t]}/s; CPU during load+drain ${R_LCPU[$t]} s; ${R_NOTE[$t]}"
	done
	ratio= lratio=
	if ok lineaged && ok auditd; then
		ratio=$(awk -v a="${R_CPU[lineaged]}" -v b="${R_CPU[auditd]}" 'BEGIN {if (b > 0) printf "%.2f", a / b}')
		lratio=$(awk -v a="${R_LCPU[lineaged]}" -v b="${R_LCPU[auditd]}" 'BEGIN {if (b > 0) printf "%.2f", a / b}')
		echo "ratio lineaged/auditd CPU: ${ratio:-n/a}x whole run, ${lratio:-n/a}x during the load"
	else
		echo "ratio lineaged/auditd CPU: n/a"
	fi
	echo
	verdict() { # name ok(1/0) detail
		printf '%-34s %s  (%s)\n' "$1" "$([ "$2" = 1 ] && echo PASS || echo FAIL)" "$3"
	}
	missed=0
	if ok lineaged; then
		if [ -n "$ratio" ]; then
			v=$(awk -v a="${R_CPU[lineaged]}" -v b="${R_CPU[auditd]}" 'BEGIN {print (a <= b) ? 1 : 0}')
			verdict "Must: lineaged CPU <= auditd CPU" "$v" "${R_CPU[lineaged]} s vs ${R_CPU[auditd]} s, ${ratio}x"
			[ "$v" = 1 ] || missed=1
		else
			echo "Must: lineaged CPU <= auditd CPU  n/a   (auditd not measured)"
			missed=1
		fi
		v=$([ "${R_LOST[lineaged]}" = 0 ] && [ "${R_KLOST[lineaged]}" = 0 ] && echo 1 || echo 0)
		verdict "Must: 0 events lost" "$v" "${R_LOST[lineaged]} execs missing, kernel lost +${R_KLOST[lineaged]}"
		[ "$v" = 1 ] || missed=1
		v=$(awk -v p="${R_P99[lineaged]}" -v t="$TARGET_P99_MS" 'BEGIN {print (p != "NA" && p + 0 < t) ? 1 : 0}')
		verdict "Must: p99 exec->line < $TARGET_P99_MS ms" "$v" "${R_P99[lineaged]} ms"
		[ "$v" = 1 ] || missed=1
		if [ -n "$ratio" ]; then
			v=$(awk -v r="$ratio" -v t="$AIM_RATIO" 'BEGIN {print (r <= t) ? 1 : 0}')
			printf '%-34s %s  (%s)\n' "Aim: ${AIM_RATIO}x auditd CPU" "$([ "$v" = 1 ] && echo met || echo 'not met')" \
				"${ratio}x whole run, ${lratio}x during the load; informational"
		fi
	else
		echo "targets: not evaluated, lineaged ${ST[lineaged]:-not run}"
		missed=1
	fi
	echo "$missed" >"$OUT/.live-missed"
	echo
	echo "files in $OUT: live-lineaged.jsonl, live-auditd.log, live-{lineaged,auditd}.{loadgen,count,lat,time,stderr},"
	echo "          live-audit-{status,rules}.before, live-*-audit-{status,rules}.during"
} | tee "$RESULTS"
cp "$RESULTS" "$OUT/live-results-${RATE}x${DURATION}s.txt"
missed=$(cat "$OUT/.live-missed")
rm -f "$OUT/.live-missed"

if [ ${#failed[@]} -gt 0 ]; then
	warn "failed or unavailable: ${failed[*]}"
	exit 2
fi
if [ "$STRICT" = 1 ] && [ "$missed" = 1 ]; then
	warn "--strict: a Must was missed"
	exit 1
fi
exit 0
