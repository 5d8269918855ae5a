package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIntegrationRunOutputDiskFull: the events file on a small tmpfs that
// fills up. lineaged says so on stderr, keeps running and drops lines
// (counted) instead of stopping; when space returns it writes again and
// reports how many lines were lost, in an event.
func TestIntegrationRunOutputDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (mount)")
	}
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.Mkdir(small, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", small).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", small).Run() })
	out := filepath.Join(small, "events.jsonl")
	cfgPath := filepath.Join(dir, "lineaged.yml")
	os.WriteFile(cfgPath, []byte("audit:\n  mode: \"off\"\nfiles:\n  enabled: false\nnetwork:\n  snapshot_every: 0\noutput:\n  max_size: 0\n"), 0o600)
	run := startRun(t, out, "--config", cfgPath)
	waitStarted(t, out)

	// Fill the filesystem.
	fill := filepath.Join(small, "fill")
	exec.Command("dd", "if=/dev/zero", "of="+fill, "bs=4k").Run() // ends with ENOSPC
	before, _ := os.ReadFile(out)
	for i := 0; i < 40; i++ {
		exec.Command("/bin/true", "lineaged-full-"+strconv.Itoa(i)).Run()
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(run.stderr.String(), "dropping lines") {
		if time.Now().After(deadline) {
			t.Fatalf("no word of the full disk on stderr:\n%s", run.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if mid, _ := os.ReadFile(out); strings.Contains(string(mid[len(before):]), "lineaged-full-") && !strings.HasSuffix(string(mid), "\n") {
		t.Error("a partial line was left in the file")
	}
	if run.cmd.ProcessState != nil {
		t.Fatal("lineaged exited on a full disk")
	}

	// Space returns.
	os.Remove(fill)
	marker := fmt.Sprintf("lineaged-space-%d", time.Now().UnixNano())
	deadline = time.Now().Add(15 * time.Second)
	for {
		// Audit is off: the args come from /proc, so the process must
		// live long enough to be read.
		exec.Command("/bin/sh", "-c", "sleep 0.3", marker).Run()
		var dropped, after bool
		for _, e := range readEvents(t, out) {
			if str(e, "event.action") == "output-lines-dropped" {
				n, _ := strconv.Atoi(str(e, "labels.count"))
				dropped = n > 0
			}
			if args, _ := get(e, "process.args").([]any); len(args) == 4 && args[3] == marker {
				after = true
			}
		}
		if dropped && after {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after space returned: drop report %v, new events %v; stderr:\n%s", dropped, after, run.stderr.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
	// Every line in the file is whole JSON (readEvents fails the test
	// otherwise).
	readEvents(t, out)
	if err := run.Stop(); err != nil {
		t.Fatal(err)
	}
}
