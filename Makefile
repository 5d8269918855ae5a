# lineaged — build, test and benchmark.
#
#   make deps         install the Debian packages the tests need (root)
#   make build        static binary in bin/lineaged (CGO off)
#   make test         everything CI runs: vet, gofmt, unit, golden, integration, short fuzz
#   make unit         unprivileged tests only (no root, no kernel state touched)
#   make integration  root tests against the live kernel (TestIntegration*), also under each legacy profile
#   make fuzz         short fuzz runs (FUZZTIME each, default 15s)
#   make fuzz-long    long fuzz runs (FUZZTIME=10m), not in CI
#   make bench        go benchmarks + lineaged vs laurel on a ≥500k-line log (lines/s, bytes per event), not in CI
#   make bench-live   live agent (each output.ancestry mode) vs Debian's auditd and go-audit (GOAUDIT_BIN) under 1,000 execs/s: CPU, latency, bytes per exec (root, audit free), not in CI
#   make soak         2,000 execs/s with every source for 5 minutes: RSS flat, graph evicting, nothing lost (root), not in CI
#   make demo         replay the sample log the repository ships and show what came out

SHELL     := /bin/bash
GO        ?= go
FUZZTIME  ?= 15s
# A new input is minimised for at most this long (go test's default, 60s,
# can take a short run's whole time on a target whose input is costly).
FUZZMINTIME ?= 3s
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
SHARED    ?= $(abspath ../shared)
export LINEAGED_SHARED ?= $(SHARED)

# Every native fuzz target: package and function.
FUZZ_TARGETS := ./agent:FuzzReplay ./audit:FuzzKernelRecord ./agent:FuzzFilePolicy ./audit:FuzzParse ./audit:FuzzParseRules ./internal/auditrule:FuzzParse ./netlink:FuzzInetDiagMsg ./netlink:FuzzUnixDiagMsg ./proc:FuzzDecodeMessage ./proc:FuzzParseStat ./proc:FuzzParseCgroup ./proc:FuzzParseMessages ./audit:FuzzDecodeSockaddr ./audit:FuzzNormalize ./output:FuzzAppendJSON ./fanotify:FuzzDecodeEvents ./audit:FuzzStateFile ./internal/spool:FuzzSpoolRead ./kafkaout:FuzzHostName ./config:FuzzParse ./auditd:FuzzParseMarker ./auditlog:FuzzWrite ./baseline:FuzzLoad ./baseline:FuzzPath ./detect:FuzzObserve ./sigma:FuzzLoad ./sigma:FuzzMatch ./report:FuzzReport ./internal/accounts:FuzzParseLine ./internal/accounts:FuzzParseTable ./internal/hostinfo:FuzzParseOSRelease ./internal/hostinfo:FuzzParseRedhatRelease ./internal/hostinfo:FuzzParseID

# Debian packages the tests use: xz (the recorded log), auditd (the live
# recording test and its ausearch oracle), iproute2 (network namespaces for
# the sock_diag tests), procps, util-linux.
DEB_DEPS := xz-utils auditd procps util-linux iproute2 rpm rsyslog rsyslog-gnutls chromium fonts-dejavu-core

.PHONY: deps build test unit integration lint fuzz fuzz-long fuzz-seeds bench bench-live soak demo clean

deps:
	@missing=$$(for p in $(DEB_DEPS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# Debian's auditd package may start the daemon where an init system
	@# runs; the tests need audit free, so stop a daemon they would find.
	@if command -v auditctl >/dev/null && [ "$$(auditctl -s 2>/dev/null | awk '$$1=="pid"{print $$2}')" != 0 ] && pgrep -x auditd >/dev/null; then \
		echo "note: an auditd is running; the live recording test will skip itself"; fi
	@command -v $(GO) >/dev/null || { echo "Go not found: install Go >= 1.26 (/usr/local/go/bin on PATH)"; exit 1; }

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/lineaged ./cmd/lineaged

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@# Replay, the pipeline, detection and the reports build anywhere: the
	@# kernel sources answer "Linux only" through their _others.go stubs.
	GOOS=darwin $(GO) build ./...

unit:
	$(GO) test -count=1 -skip 'TestIntegration' $$($(GO) list ./... | grep -v /integration)

# Root tests against the live kernel (TestIntegration* in every package),
# then again under each legacy kernel profile, so every fallback runs here.
PROFILES := 3.10 4.4 4.15
# -p 1: the packages' integration tests share the host's audit state, so
# they must not run at the same time.
integration: build
	$(GO) test -p 1 -count=1 -v -run 'TestIntegration' ./... 2>&1 | grep -Ev '^=== (RUN|PAUSE|CONT)|no test files|no tests to run'; exit $${PIPESTATUS[0]}
	@set -e; for p in $(PROFILES); do \
		echo "integration tests under LINEAGED_KERNEL_PROFILE=$$p"; \
		LINEAGED_KERNEL_PROFILE=$$p $(GO) test -p 1 -count=1 -run 'TestIntegration' ./... 2>&1 | grep -Ev 'no test files|no tests to run'; \
		[ $${PIPESTATUS[0]} -eq 0 ]; \
	done

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn for $(FUZZTIME)"; \
		GO=$(GO) tools/fuzz/run.sh $$pkg $$fn $(FUZZTIME) $(FUZZMINTIME); \
	done

fuzz-long:
	$(MAKE) fuzz FUZZTIME=10m

# Seed corpora (PKG/testdata/fuzz/FuzzX/seed-*) from real input: the
# sample audit log recorded on this kernel, the shared public logs, rule
# sets, Sigma rules, the default configuration, a baseline learned from the
# sample, lineaged's own JSON lines and this host's /proc, and (as root,
# tools/kernelseeds) the kernel's own proc connector datagrams, fanotify
# read buffers and sock_diag replies. Committed; rerunning adds only what
# is new.
SEED := $(GO) run ./tools/fuzzseed
fuzz-seeds: build
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	$(SEED) -dir agent/testdata/fuzz/FuzzReplay -chunk 8 testdata/sample/audit.log; \
	xz -dc $(SHARED)/testdata/recorded/devbox.log.xz | head -4000 > $$tmp/devbox.log; \
	$(SEED) -dir agent/testdata/fuzz/FuzzReplay -chunk 8 $(SHARED)/testdata/public/go-libaudit/auparse/testdata/audit-rhel7.log $$tmp/devbox.log; \
	$(SEED) -dir audit/testdata/fuzz/FuzzParse -lines 60 testdata/sample/audit.log $$tmp/devbox.log $(SHARED)/testdata/public/go-libaudit/auparse/testdata/audit-rhel6.log; \
	$(SEED) -dir audit/testdata/fuzz/FuzzNormalize -type string -chunk 12 testdata/sample/audit.log; \
	$(SEED) -dir audit/testdata/fuzz/FuzzParseRules -type string audit/default.rules $(SHARED)/testdata/public/go-libaudit/rule/testdata/*.rules; \
	grep -oh 'saddr=[0-9A-F]*' testdata/sample/audit.log $$tmp/devbox.log | cut -d= -f2 | sort -u | head -40 > $$tmp/saddr; \
	$(SEED) -dir audit/testdata/fuzz/FuzzDecodeSockaddr -lines 40 $$tmp/saddr; \
	$(SEED) -dir config/testdata/fuzz/FuzzParse config/default.yml; \
	bin/lineaged replay --learn --baseline $$tmp/baseline.jsonl --output /dev/null testdata/sample/audit.log 2>/dev/null; \
	$(SEED) -dir baseline/testdata/fuzz/FuzzLoad -type string $$tmp/baseline.jsonl; \
	$(SEED) -dir sigma/testdata/fuzz/FuzzLoad $$(find $(SHARED)/testdata/public/sigma -name '*.yml' | sort | head -12); \
	$(SEED) -dir report/testdata/fuzz/FuzzReport -lines 30 testdata/sample/audit.log.golden.jsonl; \
	$(SEED) -dir report/testdata/fuzz/FuzzReport -chunk 6 testdata/sample/audit.log.golden.jsonl; \
	$(SEED) -dir proc/testdata/fuzz/FuzzParseStat -type string -lines 4 /proc/1/stat /proc/self/stat; \
	$(SEED) -dir proc/testdata/fuzz/FuzzParseCgroup -type string /proc/1/cgroup /proc/self/cgroup; \
	$(GO) run ./tools/kernelseeds

test: lint unit integration fuzz
	@echo "make test: all passed"

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./audit/ ./graph/ ./output/ ./config/
	bash bench/run.sh

# Live: lineaged run (all sources) vs auditd RAW, same execve rule, bench/loadgen's exec storm.
bench-live: build
	bash bench/live.sh

# Soak (issue 7): 2,000 execs/s, every source, 5 minutes (SOAK_DURATION, SOAK_RATE, SOAK_RSS_MAX_MIB).
soak: build
	bash bench/soak.sh

demo: build
	./bin/lineaged replay --output /tmp/lineaged-demo.jsonl testdata/sample/audit.log
	@echo "--- one exec event with its ancestry (of $$(wc -l < /tmp/lineaged-demo.jsonl) lines in /tmp/lineaged-demo.jsonl):"
	@grep '"action":"executed"' /tmp/lineaged-demo.jsonl | grep '"ancestry"' | tail -1 | \
		(command -v python3 >/dev/null && python3 -m json.tool || cat)

clean:
	rm -rf bin dist bench/out

include packaging/package.mk
