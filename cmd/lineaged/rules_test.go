package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineaged/lineaged/baseline"
)

// TestRulesCommand: lineaged rules lists every built-in detection and,
// with --sigma, the Sigma rules loaded and skipped with the reason.
func TestRulesCommand(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.yml"), []byte("title: x\nlogsource: {product: windows, category: process_creation}\ndetection: {sel: {Image: a}, condition: sel}\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "good.yml"), []byte("title: Good\nid: 11111111-2222-3333-4444-555555555555\nlevel: high\ntags: [attack.t1059.004]\nlogsource: {product: linux, category: process_creation}\ndetection: {sel: {Image|endswith: /nc}, condition: sel}\n"), 0o600)
	var out, errb bytes.Buffer
	if rc := run([]string{"rules", "--sigma", dir}, nil, &out, &errb); rc != 0 {
		t.Fatalf("rc %d: %s", rc, errb.String())
	}
	s := out.String()
	for _, want := range []string{"lineaged.reverse-shell", "lineaged.persistence-write", "lineaged.novel", "lineaged.package-manager",
		"1 loaded, 1 skipped", "11111111-2222-3333-4444-555555555555", "bad.yml"} {
		if !strings.Contains(s, want) {
			t.Errorf("rules output lacks %q:\n%s", want, s)
		}
	}
}

// TestReplayDetects: replay --learn builds a baseline from the sample log;
// replay --baseline against it raises no novelty for the same log, and
// the module-load scenario's recorded lines raise their alert.
func TestReplayDetects(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "b.jsonl")
	log := filepath.Join("..", "..", "testdata", "sample", "audit.log")
	var out, errb bytes.Buffer
	if rc := run([]string{"replay", "--learn", "--baseline", base, "--output", os.DevNull, "--progress", "never", log}, nil, &out, &errb); rc != 0 {
		t.Fatalf("learn: rc %d\n%s", rc, errb.String())
	}
	if _, err := baseline.Load(base); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if rc := run([]string{"replay", "--baseline", base, "--alerts-only", "--progress", "never", log}, nil, &out, &errb); rc != 0 {
		t.Fatalf("detect: rc %d\n%s", rc, errb.String())
	}
	if strings.Contains(out.String(), `"lineaged.novel"`) {
		t.Errorf("the log the baseline learned must not be novel:\n%s", out.String())
	}
	if !strings.Contains(errb.String(), "lineaged: detection:") {
		t.Errorf("no detection summary on stderr:\n%s", errb.String())
	}
	out.Reset()
	errb.Reset()
	mod := filepath.Join("..", "..", "integration", "scenarios", "testdata", "module-load.log")
	if rc := run([]string{"replay", "--baseline", base, "--alerts-only", "--progress", "never", mod}, nil, &out, &errb); rc != 0 {
		t.Fatalf("rc %d\n%s", rc, errb.String())
	}
	if !strings.Contains(out.String(), `"rule":{"id":"lineaged.module-load"`) {
		t.Errorf("no module-load alert:\n%s", out.String())
	}
	// A baseline that does not exist is an error without --learn.
	if rc := run([]string{"replay", "--baseline", filepath.Join(dir, "nope.jsonl"), log}, nil, &out, &errb); rc != 1 {
		t.Errorf("missing baseline: rc %d, want 1", rc)
	}
}
