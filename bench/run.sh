#!/usr/bin/env bash
# bench/run.sh -- replay throughput benchmark: lineaged vs laurel 0.5.1.
# See bench/README.md. Run from the repo root: bash bench/run.sh [--strict]
#
# Environment (all optional; relative paths are relative to the repo root):
#   LINEAGED_BIN      lineaged binary (default bin/lineaged, built if missing)
#   LINEAGED_SHARED   shared data dir (default ../shared)
#   BENCH_LINES       minimum input lines (default 600000)
#   BENCH_FORMAT      enriched|raw input log format (default enriched)
#   BENCH_RUNS        timed runs per tool, median reported (default 3)
#   BENCH_CPU         CPU to pin the tools to with taskset (default 0)
#   BENCH_AUSEARCH    1|0: also time `ausearch --format raw` if installed (default 1)
#   LAUREL_CONFIG     laurel config (default bench/laurel.toml)
#
# Exit status: 0 = measured (targets may have been missed), 1 = --strict and
# a target was missed, 2 = a tool failed to build or run, or bad usage.
set -euo pipefail
export LC_ALL=C

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
STRICT=0
while [ $# -gt 0 ]; do
	case "$1" in
	--strict) STRICT=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=bench/out
mkdir -p "$OUT"

SHARED=${LINEAGED_SHARED:-../shared}
RECORDED=$SHARED/testdata/recorded/devbox.log.xz
LINES=${BENCH_LINES:-600000}
FORMAT=${BENCH_FORMAT:-enriched}
RUNS=${BENCH_RUNS:-3}
CPU=${BENCH_CPU:-0}
AUSEARCH=${BENCH_AUSEARCH:-1}
LAUREL_CONFIG=${LAUREL_CONFIG:-bench/laurel.toml}
LINEAGED_BIN=${LINEAGED_BIN:-}
RESULTS=$OUT/results.txt
RUNLOG=$OUT/runs.tsv

# Targets for lineaged.
TARGET_RATIO=4
TARGET_LPS=300000
TARGET_RSS_MIB=64

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'run.sh: %s\n' "$*" >&2; }

case "$FORMAT" in enriched | raw) ;; *) warn "BENCH_FORMAT must be enriched or raw"; exit 2 ;; esac
case "$RUNS" in '' | *[!0-9]* | 0) warn "BENCH_RUNS must be a positive integer"; exit 2 ;; esac
case "$LINES" in '' | *[!0-9]* | 0) warn "BENCH_LINES must be a positive integer"; exit 2 ;; esac

# ---------------------------------------------------------------- packages
missing=()
[ -x /usr/bin/time ] || missing+=(time)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
LAUREL=$(PATH=$PATH:/usr/sbin:/sbin command -v laurel 2>/dev/null || true)
[ -n "$LAUREL" ] || missing+=(laurel)
command -v xz >/dev/null 2>&1 || missing+=(xz-utils)
if [ ${#missing[@]} -gt 0 ]; then
	say "installing missing Debian packages: ${missing[*]}"
	SUDO=()
	[ "$(id -u)" -eq 0 ] || SUDO=(sudo)
	export DEBIAN_FRONTEND=noninteractive
	if ! "${SUDO[@]}" apt-get install -y "${missing[@]}" >&2; then
		"${SUDO[@]}" apt-get update >&2
		"${SUDO[@]}" apt-get install -y "${missing[@]}" >&2
	fi
	LAUREL=$(PATH=$PATH:/usr/sbin:/sbin command -v laurel)
fi

# ---------------------------------------------------------------- lineaged
lineaged_ok=1
SUM_STATUS_LINEAGED=
if [ -z "$LINEAGED_BIN" ]; then
	LINEAGED_BIN=bin/lineaged
	if [ ! -x "$LINEAGED_BIN" ]; then
		say "building $LINEAGED_BIN"
		if ! go build -o "$LINEAGED_BIN" ./cmd/lineaged; then
			warn "go build ./cmd/lineaged failed: lineaged will not be measured"
			lineaged_ok=0
			SUM_STATUS_LINEAGED="build failed"
		fi
	fi
fi
if [ "$lineaged_ok" = 1 ] && ! [ -x "$LINEAGED_BIN" ] && ! command -v "$LINEAGED_BIN" >/dev/null 2>&1; then
	warn "lineaged binary $LINEAGED_BIN not found: lineaged will not be measured"
	lineaged_ok=0
	SUM_STATUS_LINEAGED="not found"
fi

# ---------------------------------------------------------------- input log
if [ ! -f "$RECORDED" ]; then
	warn "recorded log $RECORDED not found (set LINEAGED_SHARED)"
	exit 2
fi
say "building bench/genlog"
go build -o "$OUT/genlog" ./bench/genlog
BIG=$OUT/audit-$FORMAT-$LINES.log
gen_args=(-in "$RECORDED" -lines "$LINES" -o "$BIG.tmp")
[ "$FORMAT" = raw ] && gen_args+=(-raw)
say "generating $BIG"
"$OUT/genlog" "${gen_args[@]}"
mv -f "$BIG.tmp" "$BIG"
IN_LINES=$(wc -l <"$BIG")
IN_BYTES=$(stat -c %s "$BIG")
# events in the input: distinct msg=audit(TIME:SERIAL) ids
IN_EVENTS=$(awk 'match($0, /msg=audit\([0-9.]+:[0-9]+\)/) {k = substr($0, RSTART, RLENGTH); if (!(k in s)) {s[k]; n++}} END {print n + 0}' "$BIG")
cat "$BIG" >/dev/null # warm the page cache for every tool alike

# ---------------------------------------------------------------- timing
# measure NAME RUN STDIN CMD...: one run pinned to $CPU under /usr/bin/time -v,
# stdout discarded. Wall time is taken with $EPOCHREALTIME around the call
# (microseconds; GNU time's own elapsed field is only 1/100 s); CPU and
# peak RSS come from /usr/bin/time -v. Appends a row to $RUNLOG.
measure() {
	local name=$1 run=$2 stdin=$3
	shift 3
	local tv=$OUT/$name.time.$run err=$OUT/$name.stderr.$run rc=0 t0 t1
	t0=$EPOCHREALTIME
	/usr/bin/time -v -o "$tv" taskset -c "$CPU" "$@" <"$stdin" >/dev/null 2>"$err" || rc=$?
	t1=$EPOCHREALTIME
	local user sys rss
	user=$(awk -F': ' '/User time \(seconds\)/ {print $2}' "$tv")
	sys=$(awk -F': ' '/System time \(seconds\)/ {print $2}' "$tv")
	rss=$(awk -F': ' '/Maximum resident set size \(kbytes\)/ {print $2}' "$tv")
	local wall
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$run" "$wall" "${user:-NA}" "${sys:-NA}" "${rss:-NA}" "$rc" >>"$RUNLOG"
	printf '    %-9s run %d: wall %8.3f s  user %6s s  sys %6s s  maxrss %8s KiB  rc %d\n' \
		"$name" "$run" "$wall" "${user:-?}" "${sys:-?}" "${rss:-?}" "$rc" >&2
	return "$rc"
}

# median of the numbers on stdin (mean of the two middle ones if even)
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# summarize NAME OUTLINES: median row for NAME from $RUNLOG, into SUMMARY[]
declare -A SUM_LPS SUM_WALL SUM_CPU SUM_RSS SUM_OUT SUM_STATUS
summarize() {
	local name=$1 out=$2 wall cpu rss
	wall=$(awk -F'\t' -v n="$name" '$1 == n {print $3}' "$RUNLOG" | median)
	cpu=$(awk -F'\t' -v n="$name" '$1 == n {print $4 + $5}' "$RUNLOG" | median)
	rss=$(awk -F'\t' -v n="$name" '$1 == n {print $6 / 1024}' "$RUNLOG" | median)
	SUM_WALL[$name]=$wall
	SUM_CPU[$name]=$cpu
	SUM_RSS[$name]=$rss
	SUM_LPS[$name]=$(awk -v l="$IN_LINES" -v w="$wall" 'BEGIN {printf "%.0f", l / w}')
	SUM_OUT[$name]=$out
	SUM_STATUS[$name]=ok
}

# count_output NAME STDIN CMD...: one untimed run with the tool's stdout
# piped into a counter (awk; LC_ALL=C, so length is in bytes). Sets
# CNT_LINES and CNT_BYTES (all output), CNT_SUMLINES and CNT_SUMBYTES
# (lineaged's replay-summary line) and CNT_IDS (distinct laurel event ids,
# the "ID" each of its lines starts with); keeps the first 5 lines in
# $OUT/NAME.sample.txt.
count_output() {
	local name=$1 stdin=$2 counts rc=0
	shift 2
	counts=$(taskset -c "$CPU" "$@" <"$stdin" 2>"$OUT/$name.stderr.verify" |
		awk -v s="$OUT/$name.sample.txt" '
			NR <= 5 {print > s}
			{bytes += length($0) + 1}
			/"action":"replay-summary"/ {sl++; sb += length($0) + 1}
			match($0, /^\{"ID":"[^"]*"/) {k = substr($0, RSTART, RLENGTH); if (!(k in ids)) {ids[k]; nid++}}
			END {printf "%d %d %d %d %d\n", NR, bytes, sl, sb, nid}') || rc=$?
	if [ "$rc" -ne 0 ]; then
		warn "$name failed (exit $rc), see $OUT/$name.stderr.verify"
		return 1
	fi
	read -r CNT_LINES CNT_BYTES CNT_SUMLINES CNT_SUMBYTES CNT_IDS <<<"$counts"
}

# bytes_of KEY: per-event bytes from the last count_output into B_EVENTS[KEY],
# B_BYTES[KEY]: lineaged's replay-summary line is subtracted from both its
# lines and its bytes (it is not an event); laurel writes none.
declare -A B_EVENTS B_BYTES
bytes_of() {
	B_EVENTS[$1]=$((CNT_LINES - CNT_SUMLINES))
	B_BYTES[$1]=$((CNT_BYTES - CNT_SUMBYTES))
	say "$1: ${B_EVENTS[$1]} events, ${B_BYTES[$1]} bytes, $(per_event "$1") B/event"
}
per_event() { awk -v b="${B_BYTES[$1]}" -v e="${B_EVENTS[$1]}" 'BEGIN {if (e > 0) printf "%.1f", b / e; else print "n/a"}'; }

# bench_tool NAME KEY STDIN CMD...: one untimed run counting output lines
# and bytes (count_output; the bytes are kept under KEY), then $RUNS timed
# runs of TIMED_CMD with stdout to /dev/null.
bench_tool() {
	local name=$1 key=$2 stdin=$3
	shift 3
	say "$name: verification run (output lines and bytes counted)"
	count_output "$name" "$stdin" "$@" || return 1
	local outlines=$CNT_LINES
	bytes_of "$key"
	say "$name: $outlines output lines; $RUNS timed runs"
	local i
	for ((i = 1; i <= RUNS; i++)); do
		measure "$name" "$i" "$stdin" "${TIMED_CMD[@]}" || {
			warn "$name run $i failed, see $OUT/$name.stderr.$i"
			return 1
		}
	done
	summarize "$name" "$outlines"
}

: >"$RUNLOG"
failed=()
rm -f "$OUT"/*.time.* "$OUT"/*.stderr.* "$OUT"/*.sample.txt "$OUT"/*.sample.jsonl

# lineaged is timed with output.ancestry compact (the default); its bytes
# are counted in each of the three modes, full and ids in one more untimed
# run each.
if [ "$lineaged_ok" = 1 ]; then
	TIMED_CMD=("$LINEAGED_BIN" replay --ancestry compact --output /dev/null "$BIG")
	if bench_tool lineaged lineaged-compact /dev/null "$LINEAGED_BIN" replay --ancestry compact --output - "$BIG"; then
		for mode in full ids; do
			say "lineaged --ancestry $mode: untimed run (output lines and bytes counted)"
			if count_output "lineaged-$mode" /dev/null "$LINEAGED_BIN" replay --ancestry "$mode" --output - "$BIG"; then
				bytes_of "lineaged-$mode"
			else
				failed+=("lineaged-$mode")
			fi
		done
	else
		SUM_STATUS[lineaged]=failed
		failed+=(lineaged)
	fi
else
	SUM_STATUS[lineaged]=$SUM_STATUS_LINEAGED
	failed+=(lineaged)
fi

# laurel reads the log on stdin and runs in $OUT (its `directory = "."`;
# env -C execs laurel in place, so /usr/bin/time still measures laurel).
TIMED_CMD=(env -C "$OUT" "$LAUREL" -c "$PWD/$LAUREL_CONFIG")
if bench_tool laurel laurel "$BIG" "${TIMED_CMD[@]}"; then
	# laurel's own accounting: "Stopped laurel processed N lines M events with E errors in total"
	lp=$(sed -n 's/.*processed \([0-9]*\) lines.*/\1/p' "$OUT/laurel.stderr.verify" | tail -n 1)
	le=$(sed -n 's/.* with \([0-9]*\) errors.*/\1/p' "$OUT/laurel.stderr.verify" | tail -n 1)
	LAUREL_NOTE="laurel reports: processed ${lp:-?} lines, ${le:-?} errors"
	if [ "${lp:-0}" != "$IN_LINES" ] || [ "${le:-1}" != 0 ]; then
		warn "laurel did not process the whole input cleanly: $LAUREL_NOTE (input $IN_LINES lines)"
		SUM_STATUS[laurel]=failed
		failed+=(laurel)
	fi
	# One line per event: as many lines as distinct event ids in them, and
	# as the input has. (laurel's own "M events" counter says 0 here.)
	LAUREL_EVENTS_NOTE="laurel: ${B_EVENTS[laurel]} lines, $CNT_IDS distinct event ids in them, $IN_EVENTS events in the input"
	if [ "${B_EVENTS[laurel]}" != "$CNT_IDS" ] || [ "$CNT_IDS" != "$IN_EVENTS" ]; then
		warn "laurel's lines are not one per event: $LAUREL_EVENTS_NOTE; its bytes/event is not comparable"
		LAUREL_EVENTS_NOTE+=" -- NOT one line per event"
		B_EVENTS[laurel]=
	fi
else
	SUM_STATUS[laurel]=failed
	failed+=(laurel)
fi

AUSEARCH_NOTE=
if [ "$AUSEARCH" = 1 ]; then
	AUS=$(PATH=$PATH:/usr/sbin:/sbin command -v ausearch 2>/dev/null || true)
	if [ -n "$AUS" ]; then
		TIMED_CMD=("$AUS" -if "$BIG" --format raw)
		if ! bench_tool ausearch ausearch /dev/null "$AUS" -if "$BIG" --format raw; then
			AUSEARCH_NOTE="ausearch failed; ignored (informational only)"
		fi
	else
		AUSEARCH_NOTE="ausearch not installed (package auditd): skipped"
	fi
fi

# ---------------------------------------------------------------- report
fmt_row() { printf '%-10s %12s %9s %9s %14s %12s\n' "$@"; }
{
	echo "lineaged replay benchmark -- $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host:     $(uname -srm); $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)); load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "commit:   $(git rev-parse --short HEAD 2>/dev/null || echo none)$( [ -n "$(git status --porcelain 2>/dev/null | head -n 1)" ] && echo ' (dirty tree)')"
	echo "tools:    lineaged=$LINEAGED_BIN; laurel $("$LAUREL" --version 2>&1 | head -n 1) ($LAUREL -c $LAUREL_CONFIG); $(go version | cut -d' ' -f3)"
	echo "input:    $BIG: $IN_LINES lines, $IN_BYTES bytes, $FORMAT format (from $RECORDED)"
	echo "method:   each tool pinned with taskset -c $CPU, stdout -> /dev/null, median of $RUNS runs"
	echo "          (lines/s = input lines / median wall; CPU = user+sys; RSS = max resident set size);"
	echo "          lineaged timed with --ancestry compact; bytes counted in separate untimed runs (stdout piped to a counter)"
	echo
	fmt_row tool lines/s "wall s" "CPU s" "peak RSS MiB" "output lines"
	for t in lineaged laurel ausearch; do
		if [ "${SUM_STATUS[$t]:-}" = ok ]; then
			fmt_row "$t" "${SUM_LPS[$t]}" "$(printf '%.3f' "${SUM_WALL[$t]}")" "$(printf '%.2f' "${SUM_CPU[$t]}")" \
				"$(printf '%.1f' "${SUM_RSS[$t]}")" "${SUM_OUT[$t]}"
		elif [ -n "${SUM_STATUS[$t]:-}" ]; then
			fmt_row "$t" "${SUM_STATUS[$t]}" - - - -
		fi
	done
	echo
	[ -n "${LAUREL_NOTE:-}" ] && echo "$LAUREL_NOTE"
	[ -n "$AUSEARCH_NOTE" ] && echo "$AUSEARCH_NOTE"
	[ "$AUSEARCH" = 1 ] && [ -z "$AUSEARCH_NOTE" ] && echo "ausearch --format raw: informational only (regroups and re-prints records, no JSON, no lineage)"
	echo
	echo "bytes per event = output bytes / events, events = output lines ($IN_EVENTS events in the input);"
	echo "lineaged's one replay-summary line (not an event) is subtracted from its lines and its bytes"
	fmt_bytes() { printf '%-18s %10s %12s %9s\n' "$@"; }
	fmt_bytes tool events bytes B/event
	for k in lineaged-full lineaged-compact lineaged-ids laurel; do
		if [ -n "${B_EVENTS[$k]:-}" ]; then
			fmt_bytes "${k/-/ }" "${B_EVENTS[$k]}" "${B_BYTES[$k]}" "$(per_event "$k")"
		else
			fmt_bytes "${k/-/ }" "not measured" - -
		fi
	done
	[ -n "${LAUREL_EVENTS_NOTE:-}" ] && echo "$LAUREL_EVENTS_NOTE"
	echo

	verdict() { # name ok(1/0) detail
		printf '%-34s %s  (%s)\n' "$1" "$([ "$2" = 1 ] && echo PASS || echo FAIL)" "$3"
	}
	missed=0
	if [ "${SUM_STATUS[lineaged]}" = ok ] && [ "${SUM_STATUS[laurel]}" = ok ]; then
		ratio=$(awk -v a="${SUM_LPS[lineaged]}" -v b="${SUM_LPS[laurel]}" 'BEGIN {printf "%.2f", a / b}')
		echo "ratio lineaged/laurel (lines/s): ${ratio}x"
	else
		ratio=
		echo "ratio lineaged/laurel (lines/s): n/a"
	fi
	echo
	if [ "${SUM_STATUS[lineaged]}" = ok ]; then
		if [ -n "$ratio" ]; then
			ok=$(awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN {print (r >= t) ? 1 : 0}')
			verdict "lines/s >= ${TARGET_RATIO}x laurel" "$ok" "${ratio}x"
			[ "$ok" = 1 ] || missed=1
		else
			echo "lines/s >= ${TARGET_RATIO}x laurel            n/a   (laurel not measured)"
		fi
		ok=$(awk -v v="${SUM_LPS[lineaged]}" -v t="$TARGET_LPS" 'BEGIN {print (v >= t) ? 1 : 0}')
		verdict "lines/s >= $TARGET_LPS" "$ok" "${SUM_LPS[lineaged]} lines/s"
		[ "$ok" = 1 ] || missed=1
		ok=$(awk -v v="${SUM_RSS[lineaged]}" -v t="$TARGET_RSS_MIB" 'BEGIN {print (v <= t) ? 1 : 0}')
		verdict "peak RSS <= $TARGET_RSS_MIB MiB" "$ok" "$(printf '%.1f' "${SUM_RSS[lineaged]}") MiB"
		[ "$ok" = 1 ] || missed=1
		if [ -n "${B_EVENTS[lineaged-compact]:-}" ] && [ -n "${B_EVENTS[laurel]:-}" ]; then
			c=$(per_event lineaged-compact) l=$(per_event laurel)
			ok=$(awk -v c="$c" -v l="$l" 'BEGIN {print (c + 0 <= l + 0) ? 1 : 0}')
			verdict "bytes/event (compact) <= laurel's" "$ok" \
				"$c vs $l B/event, $(awk -v c="$c" -v l="$l" 'BEGIN {printf "%.2f", c / l}')x"
			[ "$ok" = 1 ] || missed=1
		else
			echo "bytes/event (compact) <= laurel's n/a   (not both measured)"
		fi
	else
		echo "targets: not evaluated, lineaged ${SUM_STATUS[lineaged]}"
	fi
	echo "$missed" >"$OUT/.missed"
	echo
	echo "per-run data: $RUNLOG (tool run wall user sys maxrss_kib rc); tool stderr: $OUT/*.stderr.*"
} | tee "$RESULTS"
missed=$(cat "$OUT/.missed")
rm -f "$OUT/.missed"

if [ ${#failed[@]} -gt 0 ]; then
	warn "failed or unavailable: ${failed[*]}"
	exit 2
fi
if [ "$STRICT" = 1 ] && [ "$missed" = 1 ]; then
	warn "--strict: a target was missed"
	exit 1
fi
exit 0
