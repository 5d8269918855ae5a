package integration

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestIntegrationReplayGolden diffs the binary's whole output on the
// repository's sample log (recorded by auditd on a real kernel) against a
// golden file, so any drift in parsing, lineage or encoding shows.
// Regenerate after an intended change with: go test ./integration -run Golden -update
func TestIntegrationReplayGolden(t *testing.T) {
	const in, golden = "../testdata/sample/audit.log", "../testdata/sample/audit.log.golden.jsonl"
	cmd := exec.Command(lineagedBin, "replay", "--host", "sample", "--run-id", "golden", in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	got := strings.Split(out.String(), "\n")
	wl := strings.Split(string(want), "\n")
	for i := 0; i < len(got) || i < len(wl); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("line %d differs from %s:\ngot:  %s\nwant: %s", i+1, golden, g, w)
		}
	}
}
