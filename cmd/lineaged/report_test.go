package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "events.jsonl")
	lines := `{"@timestamp":"2026-11-20T09:00:00.000Z","event":{"id":"a-1","kind":"event","category":["process"],"action":"executed","outcome":"success"},"host":{"name":"h"},"process":{"entity_id":"e1","pid":10,"executable":"/usr/bin/sudo","args":["sudo","id"]},"user":{"id":"1000","effective":{"id":"0"}}}
not json
{"@timestamp":"2026-11-21T09:00:00.000Z","event":{"id":"a-2","kind":"event","category":["process"],"action":"executed","outcome":"success"},"host":{"name":"h"},"process":{"entity_id":"e2","pid":11,"executable":"/usr/bin/late"},"user":{"id":"0"}}
`
	rules := filepath.Join(dir, "rules.txt")
	os.WriteFile(in, []byte(lines), 0o600)
	os.WriteFile(rules, []byte("# auditctl -l\n-w /etc/sudoers -p wa -k scope\n-w /etc/sudoers.d -p wa -k scope\n"), 0o600)
	out := filepath.Join(dir, "out")
	var so, se bytes.Buffer
	code := run([]string{"report", "--format", "md,json", "--until", "2026-11-21", "--rules", rules, "--out", out, in}, nil, &so, &se)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	if got := strings.Fields(so.String()); len(got) != 2 || got[0] != filepath.Join(out, "report.md") {
		t.Errorf("stdout = %q", so.String())
	}
	if !strings.Contains(se.String(), in+":2: not a JSON object") {
		t.Errorf("stderr does not name the bad line: %s", se.String())
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| 4.1.14 | Changes to system administration scope (sudoers) are collected | **covered**", "/usr/bin/sudo", "rules file " + rules} {
		if !strings.Contains(string(md), s) {
			t.Errorf("report lacks %q", s)
		}
	}
	if strings.Contains(string(md), "/usr/bin/late") {
		t.Error("an event after --until is in the report")
	}
	for _, bad := range [][]string{
		{"report", "--out", out},
		{"report", "--format", "pdf", "--out", out, in},
		{"report", "--since", "yesterday", "--out", out, in},
		{"report", "--since", "2026-11-22", "--until", "2026-11-21", "--out", out, in},
		{"report", "--rules", filepath.Join(dir, "none"), "--out", out, in},
	} {
		se.Reset()
		if code := run(bad, nil, &so, &se); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, code, se.String())
		}
	}
	if code := run([]string{"report", "--out", out, filepath.Join(dir, "missing.jsonl")}, nil, &so, &se); code != 1 {
		t.Errorf("missing input: exit %d, want 1", code)
	}
}

func TestParseReportTime(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-11-20T08:30:00Z": time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC),
		"2026-11-20":           time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		"24h":                  now.Add(-24 * time.Hour),
	} {
		got, err := parseReportTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	if _, err := parseReportTime("-5h", now); err == nil {
		t.Error("a negative duration was taken")
	}
}
