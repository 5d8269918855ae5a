package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIntegrationSelfProtection (issue 7): with lineaged owning audit,
// another program appending to its baseline, attaching to it with ptrace
// (PTRACE_SEIZE, which does not stop it), and adding then deleting an
// audit rule each raise an alert naming that program.
func TestIntegrationSelfProtection(t *testing.T) {
	before := requireFreeAudit(t)
	restoreIfChanged(t, before)
	dir := t.TempDir()
	baseDir := filepath.Join(dir, "state")
	os.Mkdir(baseDir, 0o700)
	base := filepath.Join(baseDir, "baseline.jsonl")
	out := filepath.Join(dir, "events.jsonl")
	// The baseline's directory is watched by fanotify (--watch) so the
	// write is seen whatever the audit rules; learning for an hour:
	// these detections alert while learning too.
	run := startRun(t, out, "--audit-mode", "own", "--baseline", base, "--learn-for", "1h", "--watch", baseDir, "--snapshot-every", "0")
	waitStarted(t, out)
	pid := run.cmd.Process.Pid

	if err := exec.Command("/bin/sh", "-c", "echo '{}' | /usr/bin/tee -a "+base+" >/dev/null").Run(); err != nil {
		t.Fatal(err)
	}
	seize := exec.Command("/usr/bin/python3", "-c", `
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
# PTRACE_SEIZE attaches without stopping the tracee; exiting detaches.
sys.exit(0 if libc.ptrace(0x4206, int(sys.argv[1]), 0, 0) == 0 else 1)
`, strconv.Itoa(pid))
	if out, err := seize.CombinedOutput(); err != nil {
		t.Fatalf("ptrace seize: %v %s", err, out)
	}
	watch := filepath.Join(dir, "watched-by-another")
	if out, err := exec.Command("auditctl", "-w", watch, "-p", "wa", "-k", "lineaged-it-selfprot").CombinedOutput(); err != nil {
		t.Fatalf("auditctl -w: %v %s", err, out)
	}
	if out, err := exec.Command("auditctl", "-W", watch, "-p", "wa", "-k", "lineaged-it-selfprot").CombinedOutput(); err != nil {
		t.Fatalf("auditctl -W: %v %s", err, out)
	}

	want := map[string]func(a map[string]any) bool{
		"baseline write": func(a map[string]any) bool {
			return str(a, "rule.id") == "lineaged.self-tamper" && str(a, "file.path") == base && str(a, "process.executable") == "/usr/bin/tee"
		},
		"ptrace": func(a map[string]any) bool {
			return str(a, "rule.id") == "lineaged.self-tamper" && strings.HasPrefix(str(a, "process.executable"), "/usr/bin/python3") &&
				strings.Contains(str(a, "event.reason"), "ptrace")
		},
		"rule added": func(a map[string]any) bool {
			return str(a, "rule.id") == "lineaged.audit-tamper" && str(a, "process.executable") == "/usr/sbin/auditctl" &&
				strings.Contains(str(a, "event.reason"), "added")
		},
		"rule deleted": func(a map[string]any) bool {
			return str(a, "rule.id") == "lineaged.audit-tamper" && str(a, "process.executable") == "/usr/sbin/auditctl" &&
				strings.Contains(str(a, "event.reason"), "removed")
		},
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(want) > 0 && time.Now().Before(deadline) {
		for _, a := range alertsFrom(readEvents(t, out)) {
			for name, ok := range want {
				if ok(a) {
					t.Logf("%s: %s", name, str(a, "event.reason"))
					delete(want, name)
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	for name := range want {
		var got []string
		for _, a := range alertsFrom(readEvents(t, out)) {
			got = append(got, alertID(a)+": "+str(a, "event.reason"))
		}
		t.Errorf("no alert for %s; alerts: %q", name, got)
	}
	if err := run.Stop(); err != nil {
		t.Fatal(err)
	}
	assertRestored(t, before, "audit state after the self-protection run differs")
	// Least privilege: what lineaged writes is not world-readable.
	for path, want := range map[string]os.FileMode{out: 0o640, base: 0o600} {
		if fi, err := os.Stat(path); err != nil {
			t.Error(err)
		} else if fi.Mode().Perm()&^want != 0 {
			t.Errorf("%s has mode %o, want at most %o", path, fi.Mode().Perm(), want)
		}
	}
}
