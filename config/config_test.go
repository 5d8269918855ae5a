package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func mustParse(t *testing.T, data string) *Config {
	t.Helper()
	c, err := Parse("lineaged.yml", []byte(data))
	if err != nil {
		t.Fatalf("Parse(%q): %v", data, err)
	}
	return c
}

// equal compares a parsed configuration with an expected one whose
// regexps are left nil: got's must be compiled from their pattern.
func equal(got, want *Config) bool {
	g := *got
	g.Redactions = nil
	for _, r := range got.Redactions {
		if r.Re == nil || r.Re.String() != r.Pattern || r.need != requiredLiteral(r.Pattern) ||
			!reflect.DeepEqual(r.needAny, requiredAnyFold(r.Pattern)) {
			return false
		}
		r.Re, r.need, r.needAny = nil, "", nil
		g.Redactions = append(g.Redactions, r)
	}
	return reflect.DeepEqual(&g, want)
}

// plainDefault is Default with the regexps left out, for equal.
func plainDefault() *Config {
	c := Default()
	for i := range c.Redactions {
		c.Redactions[i].Re, c.Redactions[i].need, c.Redactions[i].needAny = nil, "", nil
	}
	return c
}

// TestDefault pins the defaults the embedded file gives.
func TestDefault(t *testing.T) {
	c := Default()
	want := &Config{
		Host:     "",
		StateDir: "/var/lib/lineaged",
		Audit: Audit{Mode: "auto", RulesDir: "/etc/lineaged/rules.d", BacklogLimit: 8192,
			RateLimit: 0, Failure: 1, BacklogWaitTime: nil, AllowImmutable: false},
		Proc:    Proc{Enabled: true},
		Files:   Files{Enabled: true, Defaults: true, Watches: []Watch{}, Exclude: []string{}},
		Network: Network{SnapshotEvery: 10 * time.Second},
		Output: Output{File: "/var/log/lineaged/events.jsonl", FlushEvery: 100 * time.Millisecond,
			MaxSize: 100 << 20, Keep: 5, Ancestry: "compact",
			Syslog: Syslog{SpoolDir: "/var/lib/lineaged/spool", MaxSpool: 256 << 20, Facility: 13},
			Kafka: Kafka{Brokers: []string{}, Topics: KafkaTopics{Event: "lineaged-events", Alert: "lineaged-alerts"}, Compression: "zstd",
				SpoolDir: "/var/lib/lineaged/kafka-spool", MaxSpool: 256 << 20}},
		AuditLog: AuditLog{MaxSize: 8 << 20, Keep: 4},
		Detect: Detect{Enabled: true, Baseline: "/var/lib/lineaged/baseline.jsonl", LearnFor: 24 * time.Hour, SaveEvery: 5 * time.Minute,
			SigmaDirs: []string{"/etc/lineaged/sigma"}, FoldWindow: time.Hour, RateLimit: 20, RateWindow: 10 * time.Minute},
		Log:            Log{Format: "console", Level: "info"},
		BatchWindow:    20 * time.Millisecond,
		HeartbeatEvery: 5 * time.Minute,
		Redactions: []Redaction{
			{Name: "key-value", Pattern: `(?i)(password|passwd|pwd|secret|token|api[_-]?key)=\S+`, Replacement: "${1}=[REDACTED]"},
			{Name: "url-credentials", Pattern: `([a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]+):[^\s/@]+@`, Replacement: "${1}:[REDACTED]@"},
		},
	}
	if !equal(c, want) {
		t.Fatalf("Default() =\n%+v\nwant\n%+v", c, want)
	}
	// Each call returns its own copy.
	c.Redactions[0].Name = "changed"
	c.Files.Watches = append(c.Files.Watches[:0], Watch{Path: "/x"})
	if !equal(Default(), want) {
		t.Fatal("changing one Default() changed the next")
	}
}

// TestDefaultFileDocumentsEveryKey: default.yml holds every key Settings
// reports, each with a comment, and no other key.
func TestDefaultFileDocumentsEveryKey(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(DefaultYAML(), &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := join(prefix, k.Value)
			if v.Kind == yaml.MappingNode {
				walk(v, key)
				continue
			}
			keys = append(keys, key)
			if strings.TrimSpace(k.HeadComment) == "" {
				t.Errorf("default.yml:%d: %s has no comment", k.Line, key)
			}
		}
	}
	walk(doc.Content[0], "")
	var settings []string
	for _, kv := range Default().Settings() {
		settings = append(settings, kv.Key)
	}
	if !reflect.DeepEqual(keys, settings) {
		t.Fatalf("default.yml keys\n%v\nSettings keys\n%v", keys, settings)
	}
}

// TestEmptyIsDefault: no keys, only comments, an empty document or empty
// sections all give the defaults.
func TestEmptyIsDefault(t *testing.T) {
	for _, in := range []string{"", "\n\n", "# nothing here\n  # indented\n", "---\n", "~\n",
		"audit:\nfiles:\n  # enabled: false\nproc: null\n"} {
		if c := mustParse(t, in); !equal(c, plainDefault()) {
			t.Errorf("Parse(%q) differs from Default():\n%+v", in, c)
		}
	}
}

// TestOverlay: present keys override, absent ones keep their default.
func TestOverlay(t *testing.T) {
	c := mustParse(t, "audit:\n  mode: own\noutput:\n  flush_every: 1s\n")
	want := plainDefault()
	want.Audit.Mode = "own"
	want.Output.FlushEvery = time.Second
	if !equal(c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

// TestEveryKey sets every key to something other than its default.
func TestEveryKey(t *testing.T) {
	c := mustParse(t, `
host: web-1
state_dir: /srv/lineaged/state/
audit:
  mode: multicast
  rules_dir: /srv/rules
  backlog_limit: 0x10000
  rate_limit: 500
  failure: 0
  backlog_wait_time: 15000
  allow_immutable: true
proc:
  enabled: false
files:
  enabled: false
  defaults: false
  watches:
    - path: /srv/app/config
      ops: modify,close-write
      class: app-config
    - path: /opt/*/bin
      ops: [exec, open]
      recursive: true
  exclude: [/srv/app/config/cache]
  unlimited_queue: true
network:
  snapshot_every: 0
output:
  file: "-"
  flush_every: 1ms
  max_size: 0
  keep: 9
  ancestry: ids
  record_types: true
  host_details: true
  syslog:
    address: siem.example:6514
    tls: true
    ca_file: /etc/ssl/siem-ca.pem
    server_name: siem.example
    spool_dir: /srv/spool
    max_spool: 2G
    facility: 10
  kafka:
    brokers: [kafka-1.example:9093, "[2001:db8::1]:9093"]
    topics: {event: ids.events, alert: ids_alerts-1}
    compression: lz4
    tls: true
    ca_file: /etc/ssl/kafka-ca.pem
    server_name: kafka.example
    sasl:
      mechanism: SCRAM-SHA-512
      username: lineaged
      password_file: /etc/lineaged/kafka.password
    spool_dir: /srv/kafka-spool/
    max_spool: 1G
audit_log:
  file: /var/log/audit/audit.log
  max_size: 2M
  keep: 9
detect:
  enabled: false
  baseline: /srv/base.jsonl
  learn_for: 2h
  save_every: 1m
  expire_after: 720h
  sigma_dirs: [/srv/sigma, /etc/sigma]
  fold_window: 10m
  rate_limit: 5
  rate_window: 1m
  disable: [lineaged.novel]
log:
  format: json
  level: debug
metrics:
  listen: 0.0.0.0:9464
  allow_remote: true
batch_window: 0s
heartbeat_every: 1h30m
redact:
  - name: bearer
    pattern: (?i)(bearer)\s+\S+
    replacement: $1 ***
  - name: digits
    pattern: '[0-9]{16}'
    replacement: ""
`)
	wait := uint32(15000)
	want := &Config{
		Host:     "web-1",
		StateDir: "/srv/lineaged/state",
		Audit: Audit{Mode: "multicast", RulesDir: "/srv/rules", BacklogLimit: 65536, RateLimit: 500,
			Failure: 0, BacklogWaitTime: &wait, AllowImmutable: true},
		Proc: Proc{Enabled: false},
		Files: Files{Enabled: false, Defaults: false, Watches: []Watch{
			{Path: "/srv/app/config", Ops: []string{"modify", "close-write"}, Class: "app-config"},
			{Path: "/opt/*/bin", Ops: []string{"open", "exec"}, Recursive: true},
		}, Exclude: []string{"/srv/app/config/cache"}, UnlimitedQueue: true},
		Network: Network{SnapshotEvery: 0},
		Output: Output{File: "-", FlushEvery: time.Millisecond, MaxSize: 0, Keep: 9, Ancestry: "ids", RecordTypes: true, HostDetails: true,
			Syslog: Syslog{Address: "siem.example:6514", TLS: true, CAFile: "/etc/ssl/siem-ca.pem", ServerName: "siem.example",
				SpoolDir: "/srv/spool", MaxSpool: 2 << 30, Facility: 10},
			Kafka: Kafka{Brokers: []string{"kafka-1.example:9093", "[2001:db8::1]:9093"}, Topics: KafkaTopics{Event: "ids.events", Alert: "ids_alerts-1"},
				Compression: "lz4", TLS: true, CAFile: "/etc/ssl/kafka-ca.pem", ServerName: "kafka.example",
				SASL:     KafkaSASL{Mechanism: "SCRAM-SHA-512", Username: "lineaged", PasswordFile: "/etc/lineaged/kafka.password"},
				SpoolDir: "/srv/kafka-spool", MaxSpool: 1 << 30}},
		AuditLog: AuditLog{File: "/var/log/audit/audit.log", MaxSize: 2 << 20, Keep: 9},
		Metrics:  Metrics{Listen: "0.0.0.0:9464", AllowRemote: true},
		Detect: Detect{Enabled: false, Baseline: "/srv/base.jsonl", LearnFor: 2 * time.Hour, SaveEvery: time.Minute, ExpireAfter: 720 * time.Hour,
			SigmaDirs: []string{"/srv/sigma", "/etc/sigma"}, FoldWindow: 10 * time.Minute, RateLimit: 5, RateWindow: time.Minute,
			Disable: []string{"lineaged.novel"}},
		Log:            Log{Format: "json", Level: "debug"},
		BatchWindow:    0,
		HeartbeatEvery: 90 * time.Minute,
		Redactions: []Redaction{
			{Name: "bearer", Pattern: `(?i)(bearer)\s+\S+`, Replacement: "$1 ***"},
			{Name: "digits", Pattern: `[0-9]{16}`, Replacement: ""},
		},
	}
	if !equal(c, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", c, want)
	}
	if got := c.Redact("curl -H 'Authorization: Bearer abc.def' card 4111111111111111"); got != "curl -H 'Authorization: Bearer *** card " {
		t.Fatalf("Redact: %q", got)
	}
}

// TestKafka: brokers turn the output on; SASL is optional, one topic may
// take both kinds, and null or "" is no mechanism.
func TestKafka(t *testing.T) {
	c := mustParse(t, "output:\n  kafka:\n    brokers: [k-1:9092, k-2:9092]\n    topics: {event: all, alert: all}\n    sasl: {mechanism: ~}\n")
	k := c.Output.Kafka
	if !slices.Equal(k.Brokers, []string{"k-1:9092", "k-2:9092"}) || k.Topics != (KafkaTopics{"all", "all"}) || k.SASL != (KafkaSASL{}) ||
		k.SpoolDir != "/var/lib/lineaged/kafka-spool" || k.Compression != "zstd" {
		t.Fatalf("%+v", k)
	}
	// Off (no brokers), the section is not checked as a whole.
	mustParse(t, "output:\n  kafka:\n    sasl: {username: u}\n")
	// Each Default has its own brokers list.
	d := Default()
	d.Output.Kafka.Brokers = append(d.Output.Kafka.Brokers, "x:1")
	if len(Default().Output.Kafka.Brokers) != 0 {
		t.Fatal("changing one Default()'s brokers changed the next")
	}
}

// TestBacklogWaitTimeNull: null puts back "keep the kernel's" over a value.
func TestBacklogWaitTimeNull(t *testing.T) {
	if c := mustParse(t, "audit:\n  backlog_wait_time: 0\n"); c.Audit.BacklogWaitTime == nil || *c.Audit.BacklogWaitTime != 0 {
		t.Fatalf("0: %v", c.Audit.BacklogWaitTime)
	}
	if c := mustParse(t, "audit:\n  backlog_wait_time: ~\n"); c.Audit.BacklogWaitTime != nil {
		t.Fatalf("null: %v", *c.Audit.BacklogWaitTime)
	}
}

// TestErrors: each mistake gives name:line: key: and what is allowed.
func TestErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"host: web\n\naudit:\n  mode: own\n  rules_dir: /x\n\n  mdoe: own\n",
			"lineaged.yml:7: audit.mdoe: unknown key (allowed: mode, rules_dir, backlog_limit, rate_limit, failure, backlog_wait_time, allow_immutable)"},
		{"# c\n\naudit:\n  mode: sideways\n",
			`lineaged.yml:4: audit.mode: "sideways" is not one of auto, own, multicast, off`},
		{"audit:\n  mode: [own]\n", `lineaged.yml:2: audit.mode: a list is not one of auto, own, multicast, off`},
		{"colour: red\n", "lineaged.yml:1: colour: unknown key (allowed: host, state_dir, audit, proc, files, network, output, audit_log, metrics, ui, detect, log, batch_window, heartbeat_every, redact)"},
		{"host:\n  - a\n", "lineaged.yml:2: host: a list is not a string"},
		{"host: 1234\n", `lineaged.yml:1: host: "1234" is not a string (quote it if it is meant as text)`},
		{"audit:\n  backlog_limit: abc\n", `lineaged.yml:2: audit.backlog_limit: "abc" is not a whole number from 1 to 10000000`},
		{"audit:\n  backlog_limit: 0\n", `lineaged.yml:2: audit.backlog_limit: "0" is not a whole number from 1 to 10000000`},
		{"audit:\n  backlog_limit: 10000001\n", `lineaged.yml:2: audit.backlog_limit: "10000001" is not a whole number from 1 to 10000000`},
		{"audit_log:\n  keep: 999\n", `lineaged.yml:2: audit_log.keep: "999" is not a whole number from 1 to 998`},
		{"audit:\n  rate_limit: -1\n", `lineaged.yml:2: audit.rate_limit: "-1" is not a whole number from 0 to 4294967295`},
		{"audit:\n  rate_limit: 4294967296\n", `lineaged.yml:2: audit.rate_limit: "4294967296" is not a whole number from 0 to 4294967295`},
		{"audit:\n  failure: 2\n", "lineaged.yml:2: audit.failure: 2 (panic) is refused: lost audit records would halt the host; use 1 (kernel log line) or 0 (nothing)"},
		{"audit:\n  failure: 3\n", "lineaged.yml:2: audit.failure: 3 is not 0 (nothing) or 1 (kernel log line)"},
		{"audit:\n  backlog_wait_time: 60s\n", `lineaged.yml:2: audit.backlog_wait_time: "60s" is not a whole number from 0 to 600000`},
		{"audit:\n  allow_immutable: yes\n", `lineaged.yml:2: audit.allow_immutable: "yes" is not true or false`},
		{"network:\n  snapshot_every: 10 parsecs\n", `lineaged.yml:2: network.snapshot_every: "10 parsecs" is not a duration such as 100ms, 10s or 5m (allowed: 0 (off) or at least 100ms)`},
		{"network:\n  snapshot_every: 10\n", `lineaged.yml:2: network.snapshot_every: "10" is not a duration such as 100ms, 10s or 5m (allowed: 0 (off) or at least 100ms)`},
		{"network:\n  snapshot_every: 50ms\n", "lineaged.yml:2: network.snapshot_every: 50ms is out of range (allowed: 0 (off) or at least 100ms)"},
		{"output:\n  flush_every: 0s\n", "lineaged.yml:2: output.flush_every: 0s is out of range (allowed: 1ms to 10s)"},
		{"output:\n  flush_every: 11s\n", "lineaged.yml:2: output.flush_every: 11s is out of range (allowed: 1ms to 10s)"},
		{"batch_window: 2s\n", "lineaged.yml:1: batch_window: 2s is out of range (allowed: 0 to 1s)"},
		{"output:\n  max_size: 10 parsecs\n", `lineaged.yml:2: output.max_size: "10 parsecs" is not 0 (never) or a size such as 512K, 100M or 2G, at least 1048576 bytes`},
		{"output:\n  max_size: 100K\n", "lineaged.yml:2: output.max_size: 102400 bytes is too small (allowed: 0 (never) or a size such as 512K, 100M or 2G, at least 1048576 bytes)"},
		{"output:\n  keep: 0\n", `lineaged.yml:2: output.keep: "0" is not a whole number from 1 to 1000`},
		{"output:\n  syslog:\n    address: siem\n", `lineaged.yml:3: output.syslog.address: "siem" is not host:port`},
		{"output:\n  syslog:\n    facility: 24\n", `lineaged.yml:3: output.syslog.facility: "24" is not a whole number from 0 to 23`},
		{"output:\n  syslog:\n    ca_file: ca.pem\n", `lineaged.yml:3: output.syslog.ca_file: "ca.pem" is not an absolute path (or "" for off)`},
		{"output:\n  syslog:\n    adress: a:1\n", "lineaged.yml:3: output.syslog.adress: unknown key (allowed: address, tls, ca_file, server_name, spool_dir, max_spool, facility)"},
		{"output:\n  kafka:\n    brokers: kafka-1:9092\n", `lineaged.yml:3: output.kafka.brokers: "kafka-1:9092" is not a list; want a list of host:port addresses (one "- " line each, or [] for none)`},
		{"output:\n  kafka:\n    brokers: [kafka-1]\n", `lineaged.yml:3: output.kafka.brokers[0]: "kafka-1" is not host:port`},
		{"output:\n  kafka:\n    brokers: [9092]\n", `lineaged.yml:3: output.kafka.brokers[0]: "9092" is not a string (quote it if it is meant as text)`},
		{"output:\n  kafka:\n    topics:\n      alert: \"ids alerts\"\n", `lineaged.yml:4: output.kafka.topics.alert: "ids alerts" is not a Kafka topic name (1 to 249 of letters, digits, ".", "_" and "-")`},
		{"output:\n  kafka:\n    topics:\n      event: ..\n", `lineaged.yml:4: output.kafka.topics.event: ".." is not a Kafka topic name (1 to 249 of letters, digits, ".", "_" and "-")`},
		{"output:\n  kafka:\n    topics:\n      event: \"\"\n", `lineaged.yml:4: output.kafka.topics.event: "" is not a Kafka topic name (1 to 249 of letters, digits, ".", "_" and "-")`},
		{"output:\n  kafka:\n    topics:\n      events: x\n", "lineaged.yml:4: output.kafka.topics.events: unknown key (allowed: event, alert)"},
		{"output:\n  kafka:\n    compression: gzip\n", `lineaged.yml:3: output.kafka.compression: "gzip" is not one of zstd, lz4`},
		{"output:\n  kafka:\n    sasl:\n      mechanism: GSSAPI\n", `lineaged.yml:4: output.kafka.sasl.mechanism: "GSSAPI" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`},
		{"output:\n  kafka:\n    sasl:\n      password: hunter2\n", "lineaged.yml:4: output.kafka.sasl.password: unknown key (allowed: mechanism, username, password_file)"},
		{"output:\n  kafka:\n    sasl:\n      password_file: kafka.pw\n", `lineaged.yml:4: output.kafka.sasl.password_file: "kafka.pw" is not an absolute path (or "" for off)`},
		{"output:\n  kafka:\n    spool_dir: spool\n", `lineaged.yml:3: output.kafka.spool_dir: "spool" is not an absolute path`},
		{"output:\n  kafka:\n    max_spool: 100K\n", "lineaged.yml:3: output.kafka.max_spool: 102400 bytes is out of range (allowed: a size such as 512K, 100M or 2G, from 1048576 to 1099511627776 bytes)"},
		{"output:\n  kafka:\n    brokers: [k:9092]\n    sasl:\n      mechanism: PLAIN\n      username: lineaged\n",
			"lineaged.yml:5: output.kafka.sasl: mechanism PLAIN needs username and password_file"},
		{"output:\n  kafka:\n    brokers: [k:9092]\n    sasl:\n      username: lineaged\n",
			"lineaged.yml:5: output.kafka.sasl.mechanism: empty, but username or password_file is set: name the mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)"},
		{"output:\n  syslog:\n    address: siem:514\n    spool_dir: /srv/spool\n  kafka:\n    brokers: [k:9092]\n    spool_dir: /srv/spool\n",
			"lineaged.yml:7: output.kafka.spool_dir: /srv/spool is output.syslog.spool_dir too: each output needs a spool of its own"},
		{"audit_log:\n  file: audit.log\n", `lineaged.yml:2: audit_log.file: "audit.log" is not an absolute path (or "" for off)`},
		{"audit_log:\n  max_size: 3T\n", `lineaged.yml:2: audit_log.max_size: "3T" is not a size such as 512K, 100M or 2G, from 1048576 to 1099511627776 bytes`},
		{"detect:\n  learn_for: 30s\n  rate_limit: 0\n", "lineaged.yml:2: detect.learn_for: 30s is out of range (allowed: 0 (detect at once) or at least 1m)\nlineaged.yml:3: detect.rate_limit: \"0\" is not a whole number from 1 to 100000"},
		{"metrics:\n  listen: 0.0.0.0:9464\n", `lineaged.yml:2: metrics.listen: "0.0.0.0:9464" is not a loopback address; set metrics.allow_remote: true to serve other hosts`},
		{"ui:\n  listen: 0.0.0.0:7300\n", `lineaged.yml:2: ui.listen: "0.0.0.0:7300" is not a loopback address; set ui.allow_remote: true to serve other hosts`},
		{"metrics:\n  listen: 9464\n", `lineaged.yml:2: metrics.listen: "9464" is not a string (quote it if it is meant as text)`},
		{"batch_window: -1ms\n", `lineaged.yml:1: batch_window: "-1ms" is not a duration such as 100ms, 10s or 5m (allowed: 0 to 1s)`},
		{"heartbeat_every: 500ms\n", "lineaged.yml:1: heartbeat_every: 500ms is out of range (allowed: 0 (off) or at least 1s)"},
		{"audit:\n  mode: own\nproc:\n  enabled: true\naudit:\n  mode: off\n",
			"lineaged.yml:5: audit: duplicate key (first at line 1): keep one"},
		{"audit:\n  mode: own\n  rate_limit: 1\n  mode: off\n",
			"lineaged.yml:4: audit.mode: duplicate key (first at line 2): keep one"},
		{"state_dir: var/lib/lineaged\n", `lineaged.yml:1: state_dir: "var/lib/lineaged" is not an absolute path`},
		{"audit:\n  rules_dir: rules.d\n", `lineaged.yml:2: audit.rules_dir: "rules.d" is not an absolute path`},
		{"output:\n  file: events.jsonl\n", `lineaged.yml:2: output.file: "events.jsonl" is not an absolute path or "-" for standard output`},
		{"output:\n  file:\n", `lineaged.yml:2: output.file: no value; want an absolute path or "-" for standard output`},
		{"redact:\n  - name: x\n    pattern: (unclosed\n",
			"lineaged.yml:3: redact[0].pattern: error parsing regexp: missing closing ): `(unclosed` (Go RE2 syntax)"},
		{"redact:\n  - name: x\n    pattern: a*\n", `lineaged.yml:3: redact[0].pattern: "a*" matches the empty string, so it would insert its replacement everywhere`},
		{"redact:\n  - name: x\n    pattern: (a)b\n    replacement: $2\n",
			`lineaged.yml:4: redact[0].replacement: "$2" refers to group 2, but the pattern has 1; write $$ for a literal $`},
		{"redact:\n  - name: x\n    pattern: (a)b\n    replacement: $1x\n",
			`lineaged.yml:4: redact[0].replacement: "$1x" refers to a group named "1x", which the pattern does not have (write ${1}x, not $1x, when letters follow; $$ for a literal $)`},
		{"redact:\n  - name: x\n    pattern: a\n  - name: x\n    pattern: b\n",
			`lineaged.yml:4: redact[1].name: "x" is already the name of the entry at line 2: names must be unique`},
		{"redact:\n  - name: a b\n    pattern: a\n", `lineaged.yml:2: redact[0].name: "a b": use letters, digits, "-", "_" or "."`},
		{"redact:\n  - pattern: a\n", "lineaged.yml:2: redact[0]: name is missing (each redaction needs name and pattern)"},
		{"redact:\n  -\n", "lineaged.yml:2: redact[0]: empty entry; want one of redactions (name, pattern, replacement)"},
		{"redact: key-value\n", `lineaged.yml:1: redact: "key-value" is not a list; want a list of redactions (name, pattern, replacement) (one "- " line each, or [] for none)`},
		{"files:\n  watches:\n    - path: /srv\n      ops: opne\n",
			`lineaged.yml:4: files.watches[0].ops: "opne": unknown file operation "opne" (want open, modify, close-write, exec or all)`},
		{"files:\n  watches:\n    - path: /srv\n      ops: [open, 3]\n",
			"lineaged.yml:4: files.watches[0].ops: a list: want open, modify, close-write, exec or all, as a list or separated by commas"},
		{"files:\n  watches:\n    - path: srv/app\n      ops: open\n", `lineaged.yml:3: files.watches[0]: path "srv/app": not absolute`},
		{"files:\n  watches:\n    - path: /srv/app/\n      ops: open\n", `lineaged.yml:3: files.watches[0]: path "/srv/app/": not clean (write "/srv/app")`},
		{"files:\n  watches:\n    - path: /srv/[\n      ops: open\n", `lineaged.yml:3: files.watches[0]: path "/srv/[": syntax error in pattern`},
		{"files:\n  watches:\n    - path: /srv\n", "lineaged.yml:3: files.watches[0]: ops is missing (each watch needs path and ops)"},
		{"files:\n  watches:\n    - path: /srv\n      ops: open\n      recurse: true\n",
			"lineaged.yml:5: files.watches[0].recurse: unknown key (allowed: path, ops, class, recursive)"},
		{"files:\n  exclude:\n    - tmp\n", `lineaged.yml:3: files.exclude[0]: "tmp": not absolute`},
		{"files:\n  exclude: [/home/*/cache]\n", `lineaged.yml:2: files.exclude[0]: "/home/*/cache": patterns are not supported here`},
		{"files:\n  watches:\n    - path: /srv\n      ops: \"\"\n",
			`lineaged.yml:4: files.watches[0].ops: "": no file operation named`},
		{"files:\n  watches:\n    - path: /srv\n      ops: 3\n",
			`lineaged.yml:4: files.watches[0].ops: "3": want open, modify, close-write, exec or all, as a list or separated by commas`},
		{"files:\n  watches:\n    - path: /\n      ops: open\n", `lineaged.yml:3: files.watches[0]: path "/": / itself cannot be watched: name the directories`},
		{"files:\n  exclude: [/srv/../x]\n", `lineaged.yml:2: files.exclude[0]: "/srv/../x": not clean (write "/x")`},
		{"log:\n  format: text\n", `lineaged.yml:2: log.format: "text" is not one of console, json`},
		{"log:\n  level: verbose\n", `lineaged.yml:2: log.level: "verbose" is not one of debug, info, warn, error`},
		{"log:\n  level: INFO\n", `lineaged.yml:2: log.level: "INFO" is not one of debug, info, warn, error`},
		{"log:\n  colour: red\n", "lineaged.yml:2: log.colour: unknown key (allowed: format, level)"},
		{"log: json\n", `lineaged.yml:1: log: "json" is not a mapping; want keys: format, level`},
		{"files:\n  defaults: false\n", "lineaged.yml:2: files.watches: no path to watch: files.defaults is false and files.watches is empty; add a watch, set files.defaults: true, or files.enabled: false"},
		{"files:\n  defaults: false\n  watches: []\n", "lineaged.yml:3: files.watches: no path to watch: files.defaults is false and files.watches is empty; add a watch, set files.defaults: true, or files.enabled: false"},
		{"audit: own\n", `lineaged.yml:1: audit: "own" is not a mapping; want keys: mode, rules_dir, backlog_limit, rate_limit, failure, backlog_wait_time, allow_immutable`},
		{"- a\n- b\n", "lineaged.yml:1: (top level): a list is not a mapping; want keys: host, state_dir, audit, proc, files, network, output, audit_log, metrics, ui, detect, log, batch_window, heartbeat_every, redact"},
		{"x: &m /a\nstate_dir: *m\n", "lineaged.yml:1: x: unknown key (allowed: host, state_dir, audit, proc, files, network, output, audit_log, metrics, ui, detect, log, batch_window, heartbeat_every, redact)\n" +
			"lineaged.yml:2: state_dir: aliases (*m) are not supported: write the value out"},
		{"audit:\n  <<: {mode: own}\n", "lineaged.yml:2: audit: a key must be a plain name; allowed: mode, rules_dir, backlog_limit, rate_limit, failure, backlog_wait_time, allow_immutable"},
		{"audit:\n  mode: own\n---\nhost: x\n", "lineaged.yml:3: a second YAML document (after ---): put everything in one (YAML syntax)"},
		{"audit:\n  mode: own\n   rules_dir: /x\n", "lineaged.yml:3: mapping values are not allowed in this context (YAML syntax)"},
	} {
		_, err := Parse("lineaged.yml", []byte(tc.in))
		if err == nil {
			t.Errorf("Parse(%q): no error, want %s", tc.in, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("Parse(%q):\n got %s\nwant %s", tc.in, err, tc.want)
		}
	}
}

// TestErrorsAllReported: one Parse lists every mistake, each with its line.
func TestErrorsAllReported(t *testing.T) {
	_, err := Parse("/etc/lineaged/lineaged.yml", []byte("audit:\n  mode: x\n  failure: 2\noutput:\n  file: rel\n"))
	want := `/etc/lineaged/lineaged.yml:2: audit.mode: "x" is not one of auto, own, multicast, off` + "\n" +
		"/etc/lineaged/lineaged.yml:3: audit.failure: 2 (panic) is refused: lost audit records would halt the host; use 1 (kernel log line) or 0 (nothing)\n" +
		`/etc/lineaged/lineaged.yml:5: output.file: "rel" is not an absolute path or "-" for standard output`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	var b strings.Builder
	for i := 0; i < 50; i++ {
		b.WriteString("k" + strings.Repeat("x", i) + ": 1\n")
	}
	_, err = Parse("f", []byte(b.String()))
	if err == nil || strings.Count(err.Error(), "\n") != maxErrors || !strings.HasSuffix(err.Error(), "f: more errors not shown") {
		t.Fatalf("error count not bounded: %v", err)
	}
}

// TestListsReplace: a list in the file replaces the default list, and
// files.watches adds to the default watches.
func TestListsReplace(t *testing.T) {
	c := mustParse(t, "redact: []\nfiles:\n  watches:\n    - {path: /srv, ops: all}\n")
	if len(c.Redactions) != 0 {
		t.Fatalf("redact: [] left %d redactions", len(c.Redactions))
	}
	if s := "mysql --password=hunter2"; c.Redact(s) != s {
		t.Fatalf("no redactions, yet %q changed", s)
	}
	if len(c.Files.Watches) != 1 || !reflect.DeepEqual(c.Files.Watches[0], Watch{Path: "/srv", Ops: FileOps}) || !c.Files.Defaults {
		t.Fatalf("files: %+v", c.Files)
	}
}

// TestFileOps: the ops of a watch come out in FileOps's order, once
// each, whatever order and form the file gave them in.
func TestFileOps(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"open", []string{"open"}},
		{"exec,open", []string{"open", "exec"}},
		{"close-write open close-write", []string{"open", "close-write"}},
		{"[exec, 'modify,open']", []string{"open", "modify", "exec"}},
		{"all", FileOps},
		{"modify,all", FileOps},
		{"[all]", FileOps},
	} {
		c := mustParse(t, "files:\n  watches:\n    - path: /srv\n      ops: "+tc.in+"\n")
		if got := c.Files.Watches[0].Ops; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ops: %s gave %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFiles(t *testing.T) {
	c := mustParse(t, "files:\n  defaults: false\n  watches:\n    - path: /srv\n      ops: open\n      class: app\n  exclude: [/srv/cache]\n  unlimited_queue: true\n")
	want := Files{
		Enabled:        true,
		Watches:        []Watch{{Path: "/srv", Ops: []string{"open"}, Class: "app"}},
		Exclude:        []string{"/srv/cache"},
		UnlimitedQueue: true,
	}
	if !reflect.DeepEqual(c.Files, want) {
		t.Fatalf("got %+v want %+v", c.Files, want)
	}
	// files.enabled: false needs no watch at all.
	mustParse(t, "files:\n  enabled: false\n  defaults: false\n")
	// A copy shares no watch, nor a watch's ops, with its original.
	c2 := c.clone()
	c2.Files.Watches[0].Ops[0] = "exec"
	c2.Files.Watches[0].Path = "/x"
	if !reflect.DeepEqual(c.Files, want) {
		t.Fatalf("changing a copy changed the original: %+v", c.Files)
	}
}

func TestRedact(t *testing.T) {
	c := Default()
	for in, want := range map[string]string{
		"mysql -u root --password=hunter2":               "mysql -u root --password=[REDACTED]",
		"curl -H token=abc123":                           "curl -H token=[REDACTED]",
		"app --API-KEY=k1 --client_secret=s2 x":          "app --API-KEY=[REDACTED] --client_secret=[REDACTED] x",
		"curl https://bob:s3cr3t@example.com/a?b=c":      "curl https://bob:[REDACTED]@example.com/a?b=c",
		"git clone https://example.com/repo.git":         "git clone https://example.com/repo.git",
		"ls -la /etc/passwd":                             "ls -la /etc/passwd",
		"/usr/sbin/sshd -D -o PasswordAuthentication=no": "/usr/sbin/sshd -D -o PasswordAuthentication=no",
		"": "",
	} {
		if got := c.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	// In order: the second redaction sees the first one's output.
	c = mustParse(t, "redact:\n  - {name: a, pattern: secret, replacement: hidden}\n  - {name: b, pattern: hidden, replacement: gone}\n")
	if got := c.Redact("a secret"); got != "a gone" {
		t.Fatalf("order: %q", got)
	}
	// replacement absent: [REDACTED].
	c = mustParse(t, "redact:\n  - {name: a, pattern: 's3cr3t'}\n")
	if got := c.Redact("x s3cr3t y"); got != "x [REDACTED] y" {
		t.Fatalf("default replacement: %q", got)
	}
	// A named group and a literal dollar.
	c = mustParse(t, "redact:\n  - {name: a, pattern: '(?P<k>pin)=\\d+', replacement: '${k}=$$$$'}\n")
	if got := c.Redact("pin=1234"); got != "pin=$$" {
		t.Fatalf("named group: %q", got)
	}
}

// TestSettings: every key, in a fixed order, with the values in force.
func TestSettings(t *testing.T) {
	c := mustParse(t, "audit:\n  mode: own\n  backlog_wait_time: 250\nfiles:\n  watches:\n    - {path: /srv, ops: [open, exec], class: app, recursive: true}\n  exclude: [/a, /b]\n")
	got := c.Settings()
	if !reflect.DeepEqual(got, c.Settings()) {
		t.Fatal("Settings is not deterministic")
	}
	want := []KV{
		{"host", ""},
		{"state_dir", "/var/lib/lineaged"},
		{"audit.mode", "own"},
		{"audit.rules_dir", "/etc/lineaged/rules.d"},
		{"audit.backlog_limit", "8192"},
		{"audit.rate_limit", "0"},
		{"audit.failure", "1"},
		{"audit.backlog_wait_time", "250"},
		{"audit.allow_immutable", "false"},
		{"proc.enabled", "true"},
		{"files.enabled", "true"},
		{"files.defaults", "true"},
		{"files.watches", "1 (+ defaults)"},
		{"files.watches[0]", "/srv ops=open,exec class=app recursive"},
		{"files.exclude", "/a, /b"},
		{"files.unlimited_queue", "false"},
		{"network.snapshot_every", "10s"},
		{"output.file", "/var/log/lineaged/events.jsonl"},
		{"output.flush_every", "100ms"},
		{"output.ancestry", "compact"},
		{"output.record_types", "false"},
		{"output.host_details", "false"},
		{"output.max_size", "104857600"},
		{"output.keep", "5"},
		{"output.syslog.address", ""},
		{"output.syslog.tls", "false"},
		{"output.syslog.ca_file", ""},
		{"output.syslog.server_name", ""},
		{"output.syslog.spool_dir", "/var/lib/lineaged/spool"},
		{"output.syslog.max_spool", "268435456"},
		{"output.syslog.facility", "13"},
		{"output.kafka.brokers", ""},
		{"output.kafka.topics.event", "lineaged-events"},
		{"output.kafka.topics.alert", "lineaged-alerts"},
		{"output.kafka.compression", "zstd"},
		{"output.kafka.tls", "false"},
		{"output.kafka.ca_file", ""},
		{"output.kafka.server_name", ""},
		{"output.kafka.sasl.mechanism", ""},
		{"output.kafka.sasl.username", ""},
		{"output.kafka.sasl.password_file", ""},
		{"output.kafka.spool_dir", "/var/lib/lineaged/kafka-spool"},
		{"output.kafka.max_spool", "268435456"},
		{"audit_log.file", ""},
		{"audit_log.max_size", "8388608"},
		{"audit_log.keep", "4"},
		{"metrics.listen", ""},
		{"metrics.allow_remote", "false"},
		{"ui.listen", ""},
		{"ui.allow_remote", "false"},
		{"ui.token_file", ""},
		{"detect.enabled", "true"}, {"detect.baseline", "/var/lib/lineaged/baseline.jsonl"}, {"detect.learn_for", "24h0m0s"},
		{"detect.save_every", "5m0s"}, {"detect.expire_after", "0s"}, {"detect.sigma_dirs", "/etc/lineaged/sigma"},
		{"detect.fold_window", "1h0m0s"}, {"detect.rate_limit", "20"}, {"detect.rate_window", "10m0s"}, {"detect.disable", ""},
		{"log.format", "console"},
		{"log.level", "info"},
		{"batch_window", "20ms"},
		{"heartbeat_every", "5m0s"},
		{"redact", "key-value, url-credentials"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%v\nwant\n%v", got, want)
	}
	if s := Default().Settings(); s[7] != (KV{"audit.backlog_wait_time", "null"}) {
		t.Fatalf("unset backlog_wait_time: %v", s[7])
	}
	c = mustParse(t, "files:\n  defaults: false\n  watches:\n    - {path: /srv, ops: all}\n")
	if i := slices.IndexFunc(c.Settings(), func(kv KV) bool { return kv.Key == "files.watches" }); c.Settings()[i].Value != "1" || c.Settings()[i+1].Value != "/srv ops=open,modify,close-write,exec" {
		t.Fatalf("without defaults: %v", c.Settings()[i:i+2])
	}
}

func writeFile(t *testing.T, mode fs.FileMode, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lineaged.yml")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask would hide o+w
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	path := writeFile(t, 0o644, "audit:\n  mode: off\n")
	c, err := Load(path)
	if err != nil || c.Audit.Mode != "off" {
		t.Fatalf("Load: %v, %+v", err, c)
	}

	// Errors name the path as given.
	path = writeFile(t, 0o640, "audit:\n  mode: sideways\n")
	if _, err := Load(path); err == nil || err.Error() != path+`:2: audit.mode: "sideways" is not one of auto, own, multicast, off` {
		t.Fatalf("bad value: %v", err)
	}

	missing := filepath.Join(t.TempDir(), "none.yml")
	if _, err := Load(missing); !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), missing+": ") {
		t.Fatalf("missing file: %v", err)
	}

	path = writeFile(t, 0o666, "")
	if _, err := Load(path); err == nil || err.Error() != path+": writable by others (mode 0666): refused; fix with chmod o-w "+path {
		t.Fatalf("world-writable: %v", err)
	}
	path = writeFile(t, 0o602, "")
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "(mode 0602)") {
		t.Fatalf("o+w only: %v", err)
	}

	dir := t.TempDir()
	if _, err := Load(dir); err == nil || err.Error() != dir+": not a regular file (d---------): refused" {
		t.Fatalf("directory: %v", err)
	}
	// A FIFO is refused before it is opened, which would block.
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Load(fifo); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("fifo: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Load blocked on a FIFO")
	}

	big := writeFile(t, 0o644, "# "+strings.Repeat("x", maxSize)+"\n")
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized: %v", err)
	}

	// A symlink is followed: configuration management often installs one.
	link := filepath.Join(t.TempDir(), "link.yml")
	if err := os.Symlink(writeFile(t, 0o644, "proc:\n  enabled: false\n"), link); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(link); err != nil || c.Proc.Enabled {
		t.Fatalf("symlink: %v", err)
	}
}

func TestDefaultYAMLIsACopy(t *testing.T) {
	b := DefaultYAML()
	b[0] = 'X'
	if DefaultYAML()[0] == 'X' {
		t.Fatal("DefaultYAML returns the embedded bytes themselves")
	}
}

func TestRequiredLiteral(t *testing.T) {
	for _, tc := range []struct{ pattern, want string }{
		{`(?i)(password|passwd|pwd|secret|token|api[_-]?key)=\S+`, "="},
		{`([a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]+):[^\s/@]+@`, "://"},
		{`token:\s*\S+`, "token:"},
		{`(?i)token:\s*\S+`, ""}, // folded letters: no plain substring test
		{`a|b`, ""},
		{`x?y*`, ""},
		{`(ab){2}c`, "ab"},
	} {
		if got := requiredLiteral(tc.pattern); got != tc.want {
			t.Errorf("requiredLiteral(%q) = %q, want %q", tc.pattern, got, tc.want)
		}
	}
	// The shortcut must never skip a string the regexp would change.
	c := Default()
	for _, s := range []string{"PASSWORD=x", "https://u:p@h/", "a=b", "plain"} {
		want := s
		for _, r := range c.Redactions {
			want = r.Re.ReplaceAllString(want, r.Replacement)
		}
		if got := c.Redact(s); got != want {
			t.Errorf("Redact(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestMetricsLoopback(t *testing.T) {
	for _, a := range []string{"127.0.0.1:9464", "[::1]:9464", "localhost:9464", "127.8.9.1:1"} {
		if _, err := Parse("x.yml", []byte("metrics:\n  listen: \""+a+"\"\n")); err != nil {
			t.Errorf("%s refused: %v", a, err)
		}
	}
	for _, a := range []string{"0.0.0.0:9464", "[::]:9464", "10.0.0.1:9464", ":9464"} {
		if IsLoopback(a) {
			t.Errorf("IsLoopback(%q) = true", a)
		}
	}
	if _, err := Parse("x.yml", []byte("metrics:\n  listen: \"0.0.0.0:9464\"\n  allow_remote: true\n")); err != nil {
		t.Errorf("allow_remote does not allow: %v", err)
	}
}

// TestRedactSieves: the literal and the word list Redact checks before
// running a pattern never skip a string the pattern would change (random
// strings built from the patterns' own words and others, every case), and
// they are the ones expected for the defaults.
func TestRedactSieves(t *testing.T) {
	c := Default()
	if any := strings.Join(c.Redactions[0].needAny, ","); c.Redactions[0].need != "=" || !strings.Contains(any, "secret") || !strings.Contains(any, "token") {
		t.Errorf("key-value sieves %q %q", c.Redactions[0].need, c.Redactions[0].needAny)
	}
	if c.Redactions[1].need != "://" {
		t.Errorf("url sieve %q", c.Redactions[1].need)
	}
	for _, p := range []string{`(?i)ÄBC=x`, `a|\d`, `(?i)x?y`} {
		if w := requiredAnyFold(p); w != nil && p != `(?i)x?y` {
			t.Errorf("requiredAnyFold(%q) = %q, want nil", p, w)
		}
	}
	parts := []string{"password", "PassWD", "pWd", "SECRET", "Token", "api-key", "API_KEY", "apikey", "=", "==", "x", "://", "u:p@", "@", " ", "-", "ä", "pass", "wd"}
	rnd := uint64(1)
	next := func() int {
		rnd ^= rnd << 13
		rnd ^= rnd >> 7
		rnd ^= rnd << 17
		return int(rnd % uint64(len(parts)))
	}
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for n := next() % 6; n >= 0; n-- {
			b.WriteString(parts[next()])
		}
		s := b.String()
		want := s
		for _, r := range c.Redactions {
			want = r.Re.ReplaceAllString(want, r.Replacement)
		}
		if got := c.Redact(s); got != want {
			t.Fatalf("Redact(%q) = %q, the patterns alone give %q", s, got, want)
		}
	}
}
