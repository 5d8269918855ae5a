#!/usr/bin/env bash
# Runs one native Go fuzz target for a while: tools/fuzz/run.sh PKG FUNC FUZZTIME MINTIME
#
# Go 1.26's fuzz coordinator can fail a target with a bare "context
# deadline exceeded" at the -fuzztime boundary: the parent context's
# deadline fires before the workers' child context is cancelled, and the
# coordinator reports its own shutdown as a failure (go.dev/issue/75804,
# fixed in Go 1.27). CI hit it once on fanotify's FuzzDecodeEvents with no
# input written. A real finding writes its input under
# PKG/testdata/fuzz/FUNC; so a failure that wrote none and printed only
# that error is run once more, and said so. Any other failure, or the same
# one twice, fails.
set -uo pipefail
pkg=$1 fn=$2 fuzztime=$3 mintime=$4
go=${GO:-go}
corpus="$pkg/testdata/fuzz/$fn"

count() { find "$corpus" -type f 2>/dev/null | wc -l; }

for attempt in 1 2; do
	before=$(count)
	out=$($go test -run '^$' -fuzz "^$fn\$" -fuzztime "$fuzztime" -fuzzminimizetime "$mintime" "$pkg" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "$out" | grep -E 'execs:' | tail -1
		echo "$out" | tail -1
		exit 0
	fi
	after=$(count)
	# The race's signature: the FAIL line is followed by nothing but the
	# context error, and no failing input was written.
	if [ "$after" -eq "$before" ] && [ $attempt -eq 1 ] &&
		echo "$out" | grep -A1 -E "^--- FAIL: $fn " | tail -1 | grep -qxE '[[:space:]]*context deadline exceeded' &&
		! echo "$out" | grep -qE 'panic:|Failing input written|testdata/fuzz/'; then
		echo "fuzz $pkg $fn: Go's fuzz coordinator reported its own shutdown deadline (go.dev/issue/75804) and wrote no input: running once more"
		continue
	fi
	echo "$out" | tail -40
	exit 1
done
exit 1
