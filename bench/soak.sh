#!/usr/bin/env bash
# bench/soak.sh -- soak test (issue 7): `lineaged run` with every source
# (audit own mode, proc connector, fanotify default policy, sock_diag every
# 10 s, detection learning a fresh baseline, metrics on loopback) under
# bench/loadgen spawning /bin/true at SOAK_RATE (2,000/s) for SOAK_DURATION
# (5m). Every 5 s it samples lineaged's RSS (VmRSS) and, from the metrics
# endpoint, the graph's size and the loss counters. Not in CI: `make soak`.
#
# It fails (exit 1) when a promise breaks:
#   - RSS above SOAK_RSS_MAX_MIB (128) at any sample;
#   - RSS still growing: the highest sample of the last quarter more than
#     15% above the highest of the second quarter (flat within a bound);
#   - the graph not bounded: still growing like RSS (it forgets exited
#     processes 10 s after their exit), or above its cap of 65,536;
#   - execs lost: the kernel's lost counter grew, or fewer marked execs in
#     the output than loadgen started.
# Root, audit free (no auditd registered). Restores the audit state.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${SOAK_RATE:-2000}
DURATION=${SOAK_DURATION:-5m}
RSS_MAX=${SOAK_RSS_MAX_MIB:-128}
OUT=bench/out/soak
BIN=${LINEAGED_BIN:-bin/lineaged}
PORT=${SOAK_METRICS_PORT:-19464}
[ "$(id -u)" = 0 ] || { echo "soak: needs root" >&2; exit 2; }
[ -x "$BIN" ] || make build >/dev/null
go build -o bench/out/loadgen ./bench/loadgen
rm -rf "$OUT"; mkdir -p "$OUT/state"
before_status=$(auditctl -s); before_rules=$(auditctl -l)
case "$before_status" in *"pid 0"*) ;; *) echo "soak: an audit daemon owns audit; not disturbing it" >&2; exit 2;; esac

cat >"$OUT/lineaged.yml" <<YML
audit:
  mode: own
  backlog_limit: 65536
  backlog_wait_time: 0
metrics:
  listen: 127.0.0.1:$PORT
output:
  file: $PWD/$OUT/events.jsonl
  max_size: 0
YML
chmod 600 "$OUT/lineaged.yml"
"$BIN" run ${SOAK_MEMPROFILE:+--memprofile "$SOAK_MEMPROFILE"} --config "$OUT/lineaged.yml" --state-dir "$OUT/state" --baseline "$OUT/state/baseline.jsonl" 2>"$OUT/lineaged.stderr" &
LPID=$!
cleanup() {
	kill "$LPID" 2>/dev/null || true
	wait "$LPID" 2>/dev/null || true
	if [ "$(auditctl -l)" != "$before_rules" ]; then
		echo "soak: audit rules not restored by lineaged; restoring" >&2
		auditctl -D >/dev/null; [ "$before_rules" = "No rules" ] || echo "$before_rules" | while read -r r; do auditctl $r >/dev/null 2>&1 || true; done
	fi
}
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$OUT/events.jsonl" ] && break; sleep 0.1; done

metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1==m {print $2}'; }
lost0=$(metric lineaged_audit_kernel_lost_total || echo 0)
marker="soak-$$"
bench/out/loadgen -rate "$RATE" -duration "$DURATION" -marker "$marker" >"$OUT/loadgen.out" 2>"$OUT/loadgen.err" &
GPID=$!
echo "t_s rss_mib graph_processes procs_on_host audit_events cpu_s" >"$OUT/samples.txt"
t0=$(date +%s); clk=$(getconf CLK_TCK)
while kill -0 "$GPID" 2>/dev/null; do
	sleep 5
	rss=$(awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$LPID/status")
	cpu=$(awk -v c="$clk" '{printf "%.2f", ($14+$15)/c}' "/proc/$LPID/stat")
	echo "$(( $(date +%s) - t0 )) $rss $(metric lineaged_graph_processes) $(ls -d /proc/[0-9]* | wc -l) $(metric 'lineaged_events_total{source="auditd"}') $cpu" >>"$OUT/samples.txt"
done
wait "$GPID" || true
sleep 3
lost1=$(metric lineaged_audit_kernel_lost_total || echo 0)
started=$(awk '$1=="started" {print $2}' "$OUT/loadgen.out")
kill -TERM "$LPID"; wait "$LPID" || true
trap - EXIT
cleanup
seen=$(bench/out/loadgen -count "$OUT/events.jsonl" -marker "$marker" | awk '$1=="seen" {print $2}')
for f in "$OUT"/events.jsonl.*; do
	[ -e "$f" ] || continue
	s=$(bench/out/loadgen -count "$f" -marker "$marker" | awk '$1=="seen" {print $2}'); seen=$((seen + s))
done

python3 - "$OUT/samples.txt" "$RSS_MAX" "${lost0:-0}" "${lost1:-0}" "${started:-0}" "${seen:-0}" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]).read().splitlines()[1:] if l.strip()]
rows = [[float(x) if x.replace('.', '', 1).isdigit() else 0 for x in r] for r in rows]
rss_max, lost0, lost1, started, seen = float(sys.argv[2]), int(float(sys.argv[3])), int(float(sys.argv[4])), int(sys.argv[5]), int(sys.argv[6])
n = len(rows)
if n < 8:
    print("soak: too few samples (%d)" % n); sys.exit(1)
q = n // 4
rss = [r[1] for r in rows]
second, last = max(rss[q:2*q]), max(rss[3*q:])
graph_max = max(r[2] for r in rows)
procs_max = max(r[3] for r in rows)
cpu = rows[-1][5]
fails = []
if max(rss) > rss_max: fails.append("RSS %.1f MiB above the %.0f MiB bound" % (max(rss), rss_max))
if last > second * 1.15: fails.append("RSS still growing: last quarter's max %.1f MiB > 1.15 x second quarter's %.1f MiB" % (last, second))
g2, g4 = max(r[2] for r in rows[q:2*q]), max(r[2] for r in rows[3*q:])
if graph_max > 65536 or g4 > g2 * 1.15 + 100: fails.append("graph not bounded: max %d, second quarter %d, last quarter %d" % (graph_max, g2, g4))
if lost1 > lost0: fails.append("kernel lost %d records" % (lost1 - lost0))
if seen < started: fails.append("%d execs started, %d in the output" % (started, seen))
print("soak: %d samples over %ds; RSS min %.1f / max %.1f MiB (second quarter max %.1f, last quarter max %.1f); graph max %d processes (host max %d); CPU %.1f s; execs %d started, %d seen; kernel lost %d"
      % (n, rows[-1][0], min(rss), max(rss), second, last, graph_max, procs_max, cpu, started, seen, lost1 - lost0))
for f in fails: print("soak: FAIL:", f)
sys.exit(1 if fails else 0)
PY
