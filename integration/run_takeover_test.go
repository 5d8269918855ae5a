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

// TestIntegrationRunTakeoverAfterKill: lineaged killed with -9 while it
// owns audit leaves the kernel as it set it (its rules, its backlog
// limit). The next start takes over cleanly: it reports the gap with the
// killed run's pid, collects again, and at its own stop restores the state
// the host had before the killed run, which it read from the state file.
func TestIntegrationRunTakeoverAfterKill(t *testing.T) {
	before := requireFreeAudit(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	rulesA, rulesB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.Mkdir(rulesA, 0o755)
	os.Mkdir(rulesB, 0o755)
	os.WriteFile(filepath.Join(rulesA, "10-it.rules"), []byte("--backlog_wait_time 0\n-b 4321\n-a always,exit -F arch=b64 -S execve -k lineaged-it-killed\n"), 0o600)
	os.WriteFile(filepath.Join(rulesB, "10-it.rules"), []byte("--backlog_wait_time 0\n-a always,exit -F arch=b64 -S execve -k lineaged-it-takeover\n"), 0o600)
	restoreIfChanged(t, before)
	t.Cleanup(func() {
		// Whatever happened, audit must not stay registered to a dead
		// process with rules queueing records for it (the kernel drops
		// the registration at its next failed send; this makes sure).
		st := auditctlState(t)
		for _, l := range strings.Split(st, "\n") {
			if pid, ok := strings.CutPrefix(l, "pid "); ok && pid != "0" {
				if _, err := os.Stat("/proc/" + pid); err != nil {
					exec.Command("auditctl", "-D").Run()
					exec.Command("auditctl", "-e", "0").Run()
				}
			}
		}
	})

	outA := filepath.Join(dir, "a.jsonl")
	first := startRun(t, outA, "--audit-mode", "own", "--rules-dir", rulesA, "--state-dir", state)
	waitStarted(t, outA)
	fi, err := os.Stat(filepath.Join(state, "audit-saved.json"))
	if err != nil {
		t.Fatalf("no saved audit state while owning audit: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	killedPID := first.cmd.Process.Pid
	first.cmd.Process.Kill()
	first.cmd.Wait()
	first.stopped = true
	mid := auditctlState(t)
	if !strings.Contains(mid, "lineaged-it-killed") || !strings.Contains(mid, "backlog_limit 4321") {
		t.Fatalf("after kill -9 the killed run's settings should still be in force:\n%s", mid)
	}

	outB := filepath.Join(dir, "b.jsonl")
	second := startRun(t, outB, "--audit-mode", "own", "--rules-dir", rulesB, "--state-dir", state)
	marker := fmt.Sprintf("lineaged-takeover-%d", time.Now().UnixNano())
	deadline := time.Now().Add(15 * time.Second)
	var takeover, seen bool
	for !(takeover && seen) {
		if time.Now().After(deadline) {
			t.Fatalf("takeover event %v, exec seen after takeover %v; stderr:\n%s", takeover, seen, second.stderr.String())
		}
		exec.Command("/bin/echo", marker).Run()
		time.Sleep(200 * time.Millisecond)
		for _, e := range readEvents(t, outB) {
			if str(e, "event.action") == "audit-takeover" {
				takeover = str(e, "labels.previous_pid") == strconv.Itoa(killedPID) && str(e, "labels.gap_ms") != ""
			}
			if args, _ := get(e, "process.args").([]any); len(args) == 2 && args[1] == marker && str(e, "event.module") == "auditd" {
				seen = true
			}
		}
	}
	if err := second.Stop(); err != nil {
		t.Fatal(err)
	}
	assertRestored(t, before, "after the takeover run stopped, audit is not as before the killed run")
	if _, err := os.Stat(filepath.Join(state, "audit-saved.json")); !os.IsNotExist(err) {
		t.Errorf("state file left after a clean stop: %v", err)
	}
}

// TestIntegrationRunMulticastSilent: beside a running auditd, a multicast
// subscription that is accepted but delivers nothing (EL7's 3.10 does
// this) must not be trusted. A user-message filter rule dropping the
// probe's TRUSTED_APP message makes this kernel behave the same way for
// the probe: auto then runs without audit, on the other sources, and
// says why; an explicit --audit-mode multicast refuses to start.
func TestIntegrationRunMulticastSilent(t *testing.T) {
	_, _, stopAuditd, saved := startAuditd(t)
	defer stopAuditd()
	// User-filter rules take no key; .ci/run removes a leftover of this one.
	auditctl(t, "-a", "never,user", "-F", "msgtype=TRUSTED_APP")
	legacy := os.Getenv("LINEAGED_KERNEL_PROFILE") == "3.10" // no multicast at all there

	out := filepath.Join(t.TempDir(), "events.jsonl")
	run := startRun(t, out, "--audit-mode", "auto", "--snapshot-every", "0", "--no-file-watch")
	marker := fmt.Sprintf("lineaged-silent-%d", time.Now().UnixNano())
	deadline := time.Now().Add(15 * time.Second)
	var off, procExec bool
	for !(off && procExec) {
		if time.Now().After(deadline) {
			t.Fatalf("started with audit off %v, exec from the proc connector %v; stderr:\n%s", off, procExec, run.stderr.String())
		}
		exec.Command("/bin/echo", marker).Run()
		time.Sleep(200 * time.Millisecond)
		for _, e := range readEvents(t, out) {
			if str(e, "event.action") == "started" {
				off = strings.Contains(str(e, "message"), "audit mode off")
			}
			if args, _ := get(e, "process.args").([]any); len(args) == 2 && args[1] == marker && str(e, "event.module") == "proc" {
				procExec = true
			}
		}
	}
	if e := run.stderr.String(); !legacy && !strings.Contains(e, "delivered nothing") {
		t.Errorf("auto did not say why audit is off: %s", e)
	}
	if err := run.Stop(); err != nil {
		t.Error(err)
	}

	cmd := exec.Command(lineagedBin, "run", "--output", filepath.Join(t.TempDir(), "x.jsonl"), "--state-dir", t.TempDir(),
		"--audit-mode", "multicast", "--snapshot-every", "0", "--no-file-watch")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("--audit-mode multicast started although nothing is delivered")
		}
		if want := "delivered nothing"; !legacy && !strings.Contains(stderr.String(), want) {
			t.Errorf("multicast refusal does not say %q: %s", want, stderr.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("--audit-mode multicast kept running; stderr: %s", stderr.String())
	}
	saved.restore(t)
}

// TestIntegrationRunRestoresOnSIGINT: Ctrl-C (SIGINT) stops a run in own
// mode as cleanly as SIGTERM: exit 0, a stopped event, audit as before.
func TestIntegrationRunRestoresOnSIGINT(t *testing.T) {
	before := requireFreeAudit(t)
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.d")
	os.Mkdir(rules, 0o755)
	os.WriteFile(filepath.Join(rules, "10-it.rules"), []byte("--backlog_wait_time 0\n-b 2345\n-a always,exit -F arch=b64 -S execve -k lineaged-it-sigint\n"), 0o600)
	restoreIfChanged(t, before)
	out := filepath.Join(dir, "events.jsonl")
	run := startRun(t, out, "--audit-mode", "own", "--rules-dir", rules, "--snapshot-every", "0", "--no-file-watch")
	waitStarted(t, out)
	if mid := auditctlState(t); !strings.Contains(mid, "backlog_limit 2345") {
		t.Fatalf("the run's settings are not in force:\n%s", mid)
	}
	run.stopped = true
	run.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- run.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v; stderr:\n%s", err, run.stderr.String())
		}
	case <-time.After(20 * time.Second):
		run.cmd.Process.Kill()
		<-done
		t.Fatal("no exit within 20 s of SIGINT")
	}
	assertRestored(t, before, "audit state after SIGINT differs")
	evs := readEvents(t, out)
	if len(evs) == 0 || str(evs[len(evs)-1], "event.action") != "stopped" {
		t.Error("no stopped event last")
	}
}
