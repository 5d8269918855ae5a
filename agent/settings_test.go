package agent

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lineaged/lineaged/config"
)

// TestKeepRestartOnly: a reload keeps the running value of what only a
// restart can change, says so once per key, and lets the rest through.
func TestKeepRestartOnly(t *testing.T) {
	running := config.Default()
	next := config.Default()
	next.Audit.Mode = "off"
	next.Output.File = "/elsewhere.jsonl"
	next.Detect.FoldWindow = time.Minute
	next.HeartbeatEvery = time.Minute // reloadable
	next.BatchWindow = 0              // reloadable
	notes := KeepRestartOnly(running, next)
	if len(notes) != 3 {
		t.Fatalf("notes %q, want audit.mode, output.file and detect", notes)
	}
	for i, key := range []string{"audit.mode", "output.file", "detect"} {
		if !strings.HasPrefix(notes[i], key+" changed") || !strings.Contains(notes[i], "next start") {
			t.Errorf("note %d: %q", i, notes[i])
		}
	}
	if next.Audit.Mode != running.Audit.Mode || next.Output.File != running.Output.File || next.Detect.FoldWindow != running.Detect.FoldWindow {
		t.Errorf("restart-only values not kept: %q %q %v", next.Audit.Mode, next.Output.File, next.Detect.FoldWindow)
	}
	if next.HeartbeatEvery != time.Minute || next.BatchWindow != 0 {
		t.Errorf("reloadable values changed back: %v %v", next.HeartbeatEvery, next.BatchWindow)
	}
}

// TestFromConfig: the settings the agent builds: the fanotify policy
// never reports lineaged's own output and state, the settings event lists
// every key, no redaction function without patterns.
func TestFromConfig(t *testing.T) {
	c := config.Default()
	c.Audit.RulesDir = t.TempDir() // no *.rules: the built-in set
	c.AuditLog.File = "/var/log/lineaged/audit.log"
	s, err := FromConfig(c, "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Source != "built-in" || s.Rules != nil || s.Files == nil || s.Redact == nil {
		t.Fatalf("settings %+v", s)
	}
	for _, own := range []string{c.Output.File, c.StateDir, c.AuditLog.File} {
		if !slices.Contains(s.Files.Exclude, own) {
			t.Errorf("%s is not excluded from file events: %v", own, s.Files.Exclude)
		}
	}
	if len(s.KV) != len(c.Settings()) {
		t.Errorf("%d settings, want %d", len(s.KV), len(c.Settings()))
	}
	c.Redactions = nil
	c.Files.Enabled = false
	if s, err = FromConfig(c, "x.yml"); err != nil || s.Redact != nil || s.Files != nil {
		t.Errorf("without redactions and files: %+v, %v", s, err)
	}
	c.Files.Enabled, c.Files.Defaults, c.Files.Watches = true, false, nil
	if _, err := FromConfig(c, "x.yml"); err == nil || !strings.Contains(err.Error(), "files.watches") {
		t.Errorf("no path to watch: %v", err)
	}
}
