package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	l, err := New(&b, FormatJSON, "info", "lineaged")
	if err != nil {
		t.Fatal(err)
	}
	l.Debug().Msg("hidden")
	l.Warn().Str("source", "audit").Msg("backlog full")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want 1 line (debug filtered), got %q", b.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	if m["level"] != "warn" || m["source"] != "audit" || m["message"] != "backlog full" || m["time"] == nil {
		t.Errorf("entry %v", m)
	}
}

func TestConsole(t *testing.T) {
	var b bytes.Buffer
	l, err := New(&b, FormatConsole, "debug", "lineaged run")
	if err != nil {
		t.Fatal(err)
	}
	l.Debug().Int("n", 3).Msg("read a batch")
	if s := b.String(); !strings.Contains(s, "DBG") || !strings.Contains(s, "lineaged run: read a batch") || !strings.Contains(s, "n=3") {
		t.Errorf("console line %q", s)
	}
}

func TestBadSettings(t *testing.T) {
	if _, err := New(nil, "xml", "info", "x"); err == nil || !strings.Contains(err.Error(), "console, json") {
		t.Errorf("format: %v", err)
	}
	if _, err := New(nil, "json", "loud", "x"); err == nil || !strings.Contains(err.Error(), "debug, info, warn, error") {
		t.Errorf("level: %v", err)
	}
}
