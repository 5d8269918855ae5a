package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineaged/lineaged/baseline"
)

// TestBaselineCommands drives replay --learn and the baseline commands on
// the sample log shipped in testdata/.
func TestBaselineCommands(t *testing.T) {
	dir := t.TempDir()
	b1 := filepath.Join(dir, "b1.jsonl")
	log := filepath.Join("..", "..", "testdata", "sample", "audit.log")
	var out, errb bytes.Buffer
	if rc := run([]string{"replay", "--learn", "--baseline", b1, "--output", filepath.Join(dir, "ev.jsonl"), "--progress", "never", log}, nil, &out, &errb); rc != 0 {
		t.Fatalf("replay --learn: rc %d\n%s", rc, errb.String())
	}
	b, err := baseline.Load(b1)
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() == 0 {
		t.Fatal("learning from the sample log recorded nothing")
	}
	// show lists every entry.
	out.Reset()
	if rc := run([]string{"baseline", "show", b1}, nil, &out, &errb); rc != 0 {
		t.Fatalf("show: rc %d %s", rc, errb.String())
	}
	if n := strings.Count(out.String(), "\n"); n != b.Len()+2 {
		t.Errorf("show printed %d lines for %d entries:\n%s", n, b.Len(), out.String())
	}
	// approve a new key; diff shows it; merge keeps it; a bad key changes nothing.
	b2 := filepath.Join(dir, "b2.jsonl")
	data, _ := os.ReadFile(b1)
	os.WriteFile(b2, data, 0o600)
	key := baseline.ExecEdgeKey([]string{"/usr/sbin/sshd", "/usr/bin/bash"}, "/usr/bin/nc")
	if rc := run([]string{"baseline", "approve", b2, key}, nil, &out, &errb); rc != 0 {
		t.Fatalf("approve %s: rc %d %s", key, rc, errb.String())
	}
	errb.Reset()
	if rc := run([]string{"baseline", "approve", b2, "not-a-key"}, nil, &out, &errb); rc == 0 || !strings.Contains(errb.String(), "not-a-key") {
		t.Errorf("approve of a bad key: rc %d %s", rc, errb.String())
	}
	out.Reset()
	if rc := run([]string{"baseline", "diff", b1, b2}, nil, &out, &errb); rc != 3 || strings.TrimSpace(out.String()) != "+ "+key+" (count 0)" {
		t.Errorf("diff: rc %d\n%s", rc, out.String())
	}
	m := filepath.Join(dir, "m.jsonl")
	if rc := run([]string{"baseline", "merge", "-o", m, b1, b2}, nil, &out, &errb); rc != 0 {
		t.Fatalf("merge: rc %d %s", rc, errb.String())
	}
	mb, err := baseline.Load(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := mb.Lookup(key); !ok || mb.Len() != b.Len()+1 {
		t.Errorf("merge: %d entries, approved key present %v", mb.Len(), ok)
	}
	// Expire what was last seen over a minute ago: everything learned from
	// the sample (recorded earlier), not the key approved just now.
	if rc := run([]string{"baseline", "expire", "--older-than", "1m", b2}, nil, &out, &errb); rc != 0 {
		t.Fatalf("expire: rc %d %s", rc, errb.String())
	}
	eb, _ := baseline.Load(b2)
	if _, ok := eb.Lookup(key); !ok {
		t.Error("expire dropped the key approved just now")
	}
	if eb.Len() >= b.Len()+1 {
		t.Errorf("expire kept %d of %d entries although the sample log is older than a minute", eb.Len(), b.Len()+1)
	}
	// --learn without --baseline is refused.
	if rc := run([]string{"replay", "--learn", log}, nil, &out, &errb); rc != 2 {
		t.Errorf("--learn without --baseline: rc %d", rc)
	}
}
