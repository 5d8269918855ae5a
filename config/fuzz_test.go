package config

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzParse: Parse never panics, and whatever it accepts is within the
// documented bounds and usable (Settings, Redact, watches fanotify would
// take: agent's FuzzFilePolicy builds the policy itself).
func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML())
	for _, s := range []string{
		"",
		"# only a comment\n",
		"audit:\n  mode: own\n  backlog_wait_time: 100\n",
		"audit:\n  mdoe: own\n",
		"audit:\n  mode: own\n  mode: off\n",
		"audit: [1, 2]\n",
		"network:\n  snapshot_every: 10 parsecs\n",
		"files:\n  defaults: false\n  watches:\n    - {path: /srv, ops: [open, exec], recursive: true}\n  exclude: [/srv/tmp]\n",
		"files:\n  watches:\n    - path: rel\n      ops: opne\n",
		"files:\n  watches:\n    - {path: '/home/*/.ssh', ops: 'exec open,all'}\n  exclude: ['/a/../b', /]\n",
		"log:\n  format: json\n  level: warn\n",
		"output:\n  kafka:\n    brokers: [k:9092]\n    topics: {event: e, alert: e}\n    sasl: {mechanism: PLAIN, username: u, password_file: /p}\n",
		"output:\n  kafka:\n    brokers: [k]\n    topics: {event: 'a b'}\n    sasl: {mechanism: x}\n",
		"log:\n  format: text\n  level: [info]\n",
		"redact:\n  - name: x\n    pattern: (a)(?P<n>b)\n    replacement: ${n}$1$$\n",
		"redact:\n  - name: x\n    pattern: (unclosed\n",
		"a: &x [*x]\nhost: *x\n",
		"x: 1\n---\ny: 2\n",
		"{host: [}\n",
		"\t\x00\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			if c != nil {
				t.Fatal("Parse returned a configuration with an error")
			}
			return
		}
		switch c.Audit.Mode {
		case "auto", "own", "multicast", "off":
		default:
			t.Fatalf("audit.mode %q", c.Audit.Mode)
		}
		a := c.Audit
		if a.BacklogLimit < 1 || a.BacklogLimit > 10000000 || a.Failure > 1 ||
			(a.BacklogWaitTime != nil && *a.BacklogWaitTime > 600000) {
			t.Fatalf("audit out of range: %+v", a)
		}
		for _, p := range []string{c.StateDir, a.RulesDir} {
			if !strings.HasPrefix(p, "/") {
				t.Fatalf("relative path %q accepted", p)
			}
		}
		if c.Output.File != "-" && !strings.HasPrefix(c.Output.File, "/") {
			t.Fatalf("output.file %q accepted", c.Output.File)
		}
		if d := c.Network.SnapshotEvery; d != 0 && d < 100*time.Millisecond {
			t.Fatalf("snapshot_every %v", d)
		}
		if d := c.Output.FlushEvery; d < time.Millisecond || d > 10*time.Second {
			t.Fatalf("flush_every %v", d)
		}
		if d := c.BatchWindow; d < 0 || d > time.Second {
			t.Fatalf("batch_window %v", d)
		}
		if d := c.HeartbeatEvery; d != 0 && d < time.Second {
			t.Fatalf("heartbeat_every %v", d)
		}
		for _, r := range c.Redactions {
			if r.Re == nil || r.Name == "" {
				t.Fatalf("redaction %+v", r)
			}
		}
		if c.Files.Enabled && !c.Files.Defaults && len(c.Files.Watches) == 0 {
			t.Fatal("files enabled with nothing to watch")
		}
		for _, w := range c.Files.Watches {
			if checkFilePath(w.Path) != "" || len(w.Ops) == 0 {
				t.Fatalf("watch %+v accepted", w)
			}
			last := -1
			for _, o := range w.Ops {
				i := slices.Index(FileOps, o)
				if i <= last {
					t.Fatalf("ops %q: unknown, repeated or out of order", w.Ops)
				}
				last = i
			}
		}
		for _, e := range c.Files.Exclude {
			if checkFilePath(e) != "" || hasPattern(e) {
				t.Fatalf("exclude %q accepted", e)
			}
		}
		kc := c.Output.Kafka
		for _, b := range kc.Brokers {
			if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
				t.Fatalf("broker %q accepted", b)
			}
		}
		if !slices.Contains(KafkaCompressions, kc.Compression) || kc.SASL.Mechanism != "" && !slices.Contains(KafkaMechanisms, kc.SASL.Mechanism) {
			t.Fatalf("kafka %+v", kc)
		}
		for _, tp := range []string{kc.Topics.Event, kc.Topics.Alert} {
			if !kafkaTopicName.MatchString(tp) || tp == "." || tp == ".." {
				t.Fatalf("topic %q accepted", tp)
			}
		}
		if !strings.HasPrefix(kc.SpoolDir, "/") || len(kc.Brokers) > 0 && kc.SASL.Mechanism != "" && (kc.SASL.Username == "" || kc.SASL.PasswordFile == "") {
			t.Fatalf("kafka %+v", kc)
		}
		if !slices.Contains(LogFormats, c.Log.Format) || !slices.Contains(LogLevels, c.Log.Level) {
			t.Fatalf("log %+v", c.Log)
		}
		if len(c.Settings()) < 21 {
			t.Fatal("Settings lost keys")
		}
		c.Redact(string(data))
	})
}
