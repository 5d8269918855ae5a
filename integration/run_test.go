package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// auditctlState is auditctl -s (the settings a run may change) and -l.
func auditctlState(t *testing.T) string {
	t.Helper()
	s, err := exec.Command("auditctl", "-s").Output()
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.Split(string(s), "\n") {
		k, _, _ := strings.Cut(strings.TrimSpace(l), " ")
		switch k {
		case "enabled", "failure", "pid", "rate_limit", "backlog_limit", "backlog_wait_time":
			keep = append(keep, strings.TrimSpace(l))
		}
	}
	r, err := exec.Command("auditctl", "-l").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(keep, "\n") + "\n" + string(r)
}

// requireFreeAudit skips unless the test may own audit (root, auditctl
// as the oracle, no daemon registered) and returns the state to restore.
func requireFreeAudit(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("auditctl"); err != nil {
		t.Skip("auditctl not installed (the oracle)")
	}
	before := auditctlState(t)
	if !strings.Contains(before, "pid 0") {
		t.Skip("an audit daemon owns audit: not disturbing it")
	}
	return before
}

func readEvents(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, _ := os.ReadFile(path)
	// A line still being written has no newline yet: not an event yet.
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1]
	} else {
		data = nil
	}
	var evs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4<<20), 4<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %v: %s", err, sc.Bytes())
		}
		checkECS(t, sc.Bytes())
		evs = append(evs, m)
	}
	return evs
}

// agentRun is a `lineaged run` started by a test.
type agentRun struct {
	t       *testing.T
	cmd     *exec.Cmd
	out     string
	stderr  bytes.Buffer
	stopped bool
	err     error
}

// startRun starts `lineaged run --output OUT args...`, stops it at cleanup
// whatever happens, and waits until it has written its first line.
func startRun(t *testing.T, out string, args ...string) *agentRun {
	t.Helper()
	a := &agentRun{t: t, out: out}
	if !slices.Contains(args, "--state-dir") {
		// Isolated from the host's /var/lib/lineaged.
		args = append([]string{"--state-dir", t.TempDir()}, args...)
	}
	if !slices.Contains(args, "--baseline") {
		// Not the host's baseline either: detections that need none.
		args = append([]string{"--baseline", ""}, args...)
	}
	a.cmd = exec.Command(lineagedBin, append([]string{"run", "--output", out}, args...)...)
	a.cmd.Stderr = &a.stderr
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop() })
	deadline := time.Now().Add(10 * time.Second)
	for len(readEvents(t, out)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("lineaged run wrote nothing in 10 s; stderr:\n%s", a.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return a
}

// Stop sends SIGTERM and waits, killing it after 20 s (then an error:
// a run that ignores SIGTERM would not restore the audit state). Safe to
// call more than once; it returns the first result.
func (a *agentRun) Stop() error {
	if a.stopped {
		return a.err
	}
	a.stopped = true
	a.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case a.err = <-done:
		if a.err != nil {
			a.err = fmt.Errorf("lineaged run: %w; stderr:\n%s", a.err, a.stderr.String())
		}
	case <-time.After(20 * time.Second):
		a.cmd.Process.Kill()
		<-done
		a.err = fmt.Errorf("lineaged run did not stop within 20 s of SIGTERM; stderr:\n%s", a.stderr.String())
	}
	return a.err
}

// assertRestored fails the test when auditctl's view differs from before
// (what lineaged must leave behind when it stops).
func assertRestored(t *testing.T, before, what string) {
	t.Helper()
	if after := auditctlState(t); after != before {
		t.Errorf("%s:\nbefore:\n%s\nafter:\n%s", what, before, after)
	}
}

// restoreIfChanged puts audit back after a run that failed to (the test
// has already reported it).
func restoreIfChanged(t *testing.T, before string) {
	t.Cleanup(func() {
		if auditctlState(t) != before {
			exec.Command("auditctl", "-D").Run()
			exec.Command("auditctl", "-r", "0").Run()
			exec.Command("auditctl", "-e", "0").Run()
		}
	})
}

// TestIntegrationRun starts the live agent in audit own mode, makes the
// kernel exec a chain, write a watched file and listen on a port, and
// checks what came out: exec events from audit and the proc connector
// with ancestry up to the processes found in /proc at start, a fanotify
// write event, a sock_diag listening socket, and, after SIGTERM, the
// kernel's audit state exactly as it was before.
func TestIntegrationRun(t *testing.T) {
	before := requireFreeAudit(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "events.jsonl")
	watched := filepath.Join(dir, "etc-cron.d")
	os.Mkdir(watched, 0o755)
	rules := filepath.Join(dir, "rules.d")
	os.Mkdir(rules, 0o755)
	// exit_group too, with the proc connector running: each exit is then
	// reported twice, and must be written once.
	os.WriteFile(filepath.Join(rules, "10-it.rules"), []byte("--backlog_wait_time 0\n-a always,exit -F arch=b64 -S execve -k lineaged-it-run\n"+
		"-a always,exit -F arch=b64 -S exit_group -k lineaged-it-exit\n"), 0o600)

	restoreIfChanged(t, before)
	run := startRun(t, out, "--audit-mode", "own", "--rules-dir", rules, "--snapshot-every", "200ms", "--watch", watched)
	var missing string // what the last check still lacked
	waitFor := func(what string, ok func([]map[string]any) bool) []map[string]any {
		deadline := time.Now().Add(15 * time.Second)
		for {
			evs := readEvents(t, out)
			if ok(evs) {
				return evs
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never appeared (%d events; %s); stderr:\n%s", what, len(evs), missing, run.stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("the started event", func(evs []map[string]any) bool {
		for _, e := range evs {
			if str(e, "event.action") == "started" {
				return true
			}
		}
		return false
	})
	marker := fmt.Sprintf("lineaged-run-%d", time.Now().UnixNano())
	if err := exec.Command("/bin/sh", "-c", "/bin/sh -c '/bin/echo "+marker+" > "+watched+"/job'").Run(); err != nil {
		t.Fatal(err)
	}
	// A listener, and a child of it connected to it over loopback: the
	// two ends are two processes, an IPC edge.
	ln := exec.Command("python3", "-c", `
import os, socket, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
pid = os.fork()
if pid == 0:
    c = socket.create_connection(s.getsockname()); s.close(); time.sleep(3); os._exit(0)
a, _ = s.accept()
print(s.getsockname()[1], pid, flush=True)
time.sleep(3); os.waitpid(pid, 0)
`)
	lnOut, _ := ln.StdoutPipe()
	if err := ln.Start(); err != nil {
		t.Skipf("python3: %v", err)
	}
	var port, clientPID int
	fmt.Fscan(lnOut, &port, &clientPID)
	defer ln.Wait()

	evs := waitFor("the echo's exec from audit and proc, the write and the listener", func(evs []map[string]any) bool {
		var auditExec, procExec, write, listen, ipc bool
		echoPID := -1
		for _, e := range evs {
			args, _ := get(e, "process.args").([]any)
			if len(args) == 2 && args[1] == marker && str(e, "event.module") == "auditd" && str(e, "event.action") == "executed" {
				auditExec, echoPID = true, int(numf(get(e, "process.pid")))
			}
		}
		execsOfEcho := 0
		for _, e := range evs {
			if str(e, "event.action") == "executed" && int(numf(get(e, "process.pid"))) == echoPID {
				execsOfEcho++
			}
		}
		// Audit and the proc connector both saw the exec: one event.
		procExec = execsOfEcho == 1
		for _, e := range evs {
			switch {
			case str(e, "event.module") == "fanotify" && strings.HasPrefix(str(e, "file.path"), watched):
				write = true
			case str(e, "event.module") == "sock_diag" && int(numf(get(e, "source.port"))) == port:
				listen = true
			// The client (the forked child) to the server (python3 itself),
			// the peer named from the graph.
			case str(e, "event.action") == "ipc-connected" && int(numf(get(e, "process.pid"))) == clientPID &&
				str(e, "labels.peer_pid") == strconv.Itoa(ln.Process.Pid) && strings.Contains(str(e, "labels.peer_executable"), "python"):
				ipc = true
			}
		}
		missing = fmt.Sprintf("audit exec %v, exactly one exec event %v, fanotify write %v, sock_diag listener %v, ipc edge %v", auditExec, procExec, write, listen, ipc)
		return auditExec && procExec && write && listen && ipc
	})
	// The echo's ancestry: sh (the inner), sh (the outer), then this test
	// binary, then what ran it — all known from /proc or exec events.
	for _, e := range evs {
		args, _ := get(e, "process.args").([]any)
		if len(args) != 2 || args[1] != marker || str(e, "event.module") != "auditd" {
			continue
		}
		anc := ancestry(e)
		if len(anc) < 3 {
			t.Fatalf("ancestry too short: %v", anc)
		}
		if !strings.HasSuffix(str(anc[0], "executable"), "sh") || !strings.HasSuffix(str(anc[1], "executable"), "sh") {
			line, _ := json.Marshal(e)
			t.Errorf("parents %s, %s; the event:\n%s", str(anc[0], "executable"), str(anc[1], "executable"), line)
		}
		if int(numf(get(anc[2], "pid"))) != os.Getpid() || get(anc[2], "unknown") == true {
			t.Errorf("the test process (pid %d, seeded from /proc) is not the third ancestor: %v", os.Getpid(), anc[2])
		}
		last := anc[len(anc)-1]
		if get(last, "unknown") == true && int(numf(get(last, "pid"))) > 1 {
			t.Errorf("ancestry ends in an unknown process despite the /proc seed: %v", last)
		}
	}
	checkExitOnce(t, evs, marker, waitFor)
	if err := run.Stop(); err != nil {
		t.Fatal(err)
	}
	assertRestored(t, before, "audit state after run differs")
	last := readEvents(t, out)
	if l := last[len(last)-1]; str(l, "event.action") != "stopped" {
		t.Errorf("last event is not 'stopped': %v", l)
	}
	ids := map[string]bool{}
	for _, e := range last {
		id := str(e, "event.id")
		if ids[id] {
			t.Fatalf("duplicate event.id %s", id)
		}
		ids[id] = true
	}
}

func numf(v any) float64 {
	f, _ := v.(float64)
	return f
}

// TestIntegrationRunReportsLoss: with the kernel's rate limit at 1 record
// per second (-r 1 in the rule files), an exec burst makes the kernel drop
// records; lineaged reports the loss as an event with the count, and puts
// the rate limit back at exit.
func TestIntegrationRunReportsLoss(t *testing.T) {
	before := requireFreeAudit(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "events.jsonl")
	rules := filepath.Join(dir, "rules.d")
	os.Mkdir(rules, 0o755)
	os.WriteFile(filepath.Join(rules, "10-it.rules"), []byte("--backlog_wait_time 0\n-r 1\n-a always,exit -F arch=b64 -S execve -k lineaged-it-loss\n"), 0o600)
	restoreIfChanged(t, before)
	run := startRun(t, out, "--audit-mode", "own", "--rules-dir", rules, "--snapshot-every", "0", "--no-file-watch")
	for i := 0; i < 30; i++ {
		exec.Command("/bin/true").Run()
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var loss map[string]any
		for _, e := range readEvents(t, out) {
			if str(e, "event.action") == "audit-records-lost" {
				loss = e
			}
		}
		if loss != nil {
			if atoi(str(loss, "labels.count")) < 1 || str(loss, "event.outcome") != "failure" {
				t.Errorf("loss event %v", loss)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit-records-lost event; stderr: %s", run.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := run.Stop(); err != nil {
		t.Fatal(err)
	}
	assertRestored(t, before, "audit state after run differs")
}

// TestIntegrationRunBesideAuditd: with Debian's auditd running, `auto`
// picks multicast and both see the same exec: auditd in its log, lineaged
// in its events; auditd keeps the audit PID and its rules throughout.
func TestIntegrationRunBesideAuditd(t *testing.T) {
	_, logPath, stopAuditd, saved := startAuditd(t)
	if feature := os.Getenv("LINEAGED_KERNEL_PROFILE"); feature == "3.10" {
		// EL7's kernel has no multicast group: auto must then say so and
		// run without audit rather than fight auditd for the PID.
		t.Log("3.10 profile: multicast is off; checking that auto does not take audit from auditd")
	}
	auditctl(t, "-a", "always,exit", "-F", "arch=b64", "-S", "execve", "-F", "key=lineaged-it-mc")
	daemon := saveAuditState(t).pid

	out := filepath.Join(t.TempDir(), "events.jsonl")
	run := startRun(t, out, "--audit-mode", "auto", "--snapshot-every", "0", "--no-file-watch")
	multicast := os.Getenv("LINEAGED_KERNEL_PROFILE") != "3.10"
	marker := fmt.Sprintf("lineaged-mc-%d", time.Now().UnixNano())
	exec.Command("/bin/echo", marker).Run()
	deadline := time.Now().Add(10 * time.Second)
	for {
		logged, _ := os.ReadFile(logPath)
		seen := false
		for _, e := range readEvents(t, out) {
			args, _ := get(e, "process.args").([]any)
			if len(args) == 2 && args[1] == marker && str(e, "event.module") == "auditd" {
				seen = true
			}
		}
		if bytes.Contains(logged, []byte(marker)) && (seen || !multicast) {
			if !multicast && seen {
				t.Error("audit records reached lineaged under the 3.10 profile (no multicast there)")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("marker exec: in auditd's log %v, in lineaged's events %v; stderr: %s", bytes.Contains(logged, []byte(marker)), seen, run.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if e := run.stderr.String(); multicast && (!strings.Contains(e, "multicast beside it") || !strings.Contains(e, "multicast delivery confirmed")) {
		t.Errorf("auto did not say it chose multicast and proved delivery: %s", e)
	}
	if st := saveAuditState(t); st.pid != daemon {
		t.Errorf("audit PID changed from auditd's %s to %s", daemon, st.pid)
	}
	if err := run.Stop(); err != nil {
		t.Error(err)
	}
	if st := saveAuditState(t); st.pid != daemon || len(st.rules) != 1 {
		t.Errorf("after lineaged stopped: pid %s (auditd %s), rules %v", st.pid, daemon, st.rules)
	}
	saved.restore(t)
	stopAuditd()
}

// checkExitOnce: the echo that printed marker exited once, and audit's
// exit_group (the test's rules) and the proc connector both reported it:
// one line, with the executable and the exit code. Counted once a later
// exec has been written, so that both reports have been through.
func checkExitOnce(t *testing.T, evs []map[string]any, marker string, waitFor func(string, func([]map[string]any) bool) []map[string]any) {
	t.Helper()
	var echo string
	for _, e := range evs {
		if args, _ := get(e, "process.args").([]any); len(args) == 2 && args[1] == marker && str(e, "event.action") == "executed" {
			echo = str(e, "process.entity_id")
		}
	}
	later := marker + "-later"
	if err := exec.Command("/bin/sh", "-c", "/bin/echo "+later+" >/dev/null; /bin/true").Run(); err != nil {
		t.Fatal(err)
	}
	evs = waitFor("a later exec and its exit", func(evs []map[string]any) bool {
		for _, e := range evs {
			if args, _ := get(e, "process.args").([]any); len(args) == 2 && args[1] == later && str(e, "event.action") == "executed" {
				return true
			}
		}
		return false
	})
	var exits []map[string]any
	for _, e := range evs {
		if str(e, "event.action") == "exited" && str(e, "process.entity_id") == echo {
			exits = append(exits, e)
		}
	}
	if len(exits) != 1 {
		t.Fatalf("the echo (%s) exited in %d lines, want 1: %v", echo, len(exits), exits)
	}
	if x := exits[0]; !strings.HasSuffix(str(x, "process.executable"), "/echo") || get(x, "process.exit_code") != float64(0) {
		t.Errorf("the echo's exit line lacks the executable or the code: %v", x)
	}
}
