package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// auditState is the part of the kernel's audit configuration a test may
// change, saved so it can be put back.
type auditState struct {
	enabled, failure, pid, rateLimit, backlogLimit, backlogWait string
	rules                                                       []string
}

func auditctl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("auditctl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("auditctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func saveAuditState(t *testing.T) auditState {
	var s auditState
	for _, l := range strings.Split(auditctl(t, "-s"), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		switch k {
		case "enabled":
			s.enabled = v
		case "failure":
			s.failure = v
		case "pid":
			s.pid = v
		case "rate_limit":
			s.rateLimit = v
		case "backlog_limit":
			s.backlogLimit = v
		case "backlog_wait_time":
			s.backlogWait = v
		}
	}
	for _, l := range strings.Split(auditctl(t, "-l"), "\n") {
		if l = strings.TrimSpace(l); l != "" && l != "No rules" {
			s.rules = append(s.rules, l)
		}
	}
	return s
}

// restore puts the saved state back. It never sets -e 2 (immutable): a
// saved 2 could not have been changed by the test in the first place.
func (s auditState) restore(t *testing.T) {
	run := func(args ...string) {
		if out, err := exec.Command("auditctl", args...).CombinedOutput(); err != nil {
			t.Errorf("restoring audit state: auditctl %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("-D")
	if len(s.rules) > 0 {
		f := filepath.Join(t.TempDir(), "saved.rules")
		os.WriteFile(f, []byte(strings.Join(s.rules, "\n")+"\n"), 0o600)
		run("-R", f)
	}
	run("--backlog_wait_time", s.backlogWait)
	run("-b", s.backlogLimit)
	run("-r", s.rateLimit)
	if s.failure == "0" || s.failure == "1" {
		run("-f", s.failure)
	}
	if s.enabled == "0" || s.enabled == "1" {
		run("-e", s.enabled)
	}
}

// TestIntegrationRecordWithAuditdAndReplay records a real workload with
// Debian's auditd on this kernel, then replays the log: the exec chain
// bash → sh → echo comes out with its ancestry, the watched file write is a
// file event, and the number of events carrying the test's key equals what
// ausearch finds in the same log.
func TestIntegrationRecordWithAuditdAndReplay(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (audit control)")
	}
	if _, err := exec.LookPath("ausearch"); err != nil {
		t.Skip("ausearch not installed")
	}
	dir, logPath, stop, saved := startAuditd(t)
	watched := filepath.Join(dir, "watched")
	os.WriteFile(watched, nil, 0o600)
	auditctl(t, "-a", "always,exit", "-F", "arch=b64", "-S", "execve", "-F", "key=lineaged-it")
	auditctl(t, "-w", watched, "-p", "wa", "-k", "lineaged-it-file")

	marker := fmt.Sprintf("lineaged-it-%d", time.Now().UnixNano())
	script := fmt.Sprintf(`sh -c '/bin/echo %s >/dev/null'; echo data >> %s`, marker, watched)
	if out, err := exec.Command("/bin/bash", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("workload: %v: %s", err, out)
	}
	// Wait until the echo's EXECVE is in the log, then stop auditd so the
	// log is complete (DAEMON_END written).
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(logPath)
		if bytes.Contains(b, []byte(marker)) && bytes.Contains(b, []byte("lineaged-it-file")) {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			keep := filepath.Join(os.TempDir(), "lineaged-it-audit.log")
			os.WriteFile(keep, b, 0o600)
			t.Fatalf("the workload's records never reached %s (copy kept in %s)", logPath, keep)
		}
		time.Sleep(50 * time.Millisecond)
	}
	saved.restore(t) // rules off before the daemon goes
	stop()

	// Full ancestry: the test reads the grandparent's arguments.
	evs, stderr := runReplay(t, nil, "--ancestry", "full", logPath)
	var echo, fileEv map[string]any
	keyed := 0
	for _, e := range evs {
		tags, _ := get(e, "tags").([]any)
		if str(e, "event.kind") != "event" || get(e, "rule") != nil {
			tags = nil // an alert (or its repeat count) carries its event's tags; ausearch counts events
		}
		for _, tg := range tags {
			if tg == "lineaged-it" || tg == "lineaged-it-file" {
				keyed++
				break
			}
		}
		args, _ := get(e, "process.args").([]any)
		if len(args) == 2 && args[1] == marker {
			echo = e
		}
		if str(e, "file.path") == watched && str(e, "event.category") == "" && get(e, "event.category") != nil {
			fileEv = e
		}
		if cats, _ := get(e, "event.category").([]any); len(cats) == 1 && cats[0] == "file" && str(e, "file.path") == watched {
			fileEv = e
		}
	}
	if echo == nil {
		t.Fatalf("no exec event for /bin/echo %s; stderr: %s", marker, stderr)
	}
	anc := ancestry(echo)
	if len(anc) < 3 {
		t.Fatalf("ancestry too short: %v", anc)
	}
	if exe := str(anc[0], "executable"); !strings.HasSuffix(exe, "sh") || strings.HasSuffix(exe, "bash") {
		t.Errorf("parent is %q, want the sh (dash) that ran echo", exe)
	}
	if exe := str(anc[1], "executable"); !strings.HasSuffix(exe, "/bash") {
		t.Errorf("grandparent is %q, want bash", exe)
	}
	if a, _ := get(anc[1], "args").([]any); len(a) != 3 || a[1] != "-c" {
		t.Errorf("grandparent args %v", a)
	}
	// The test binary exec'd before the rule existed: unknown, not guessed.
	if get(anc[2], "unknown") != true || int(get(anc[2], "pid").(float64)) != os.Getpid() {
		t.Errorf("great-grandparent should be the unknown test process %d: %v", os.Getpid(), anc[2])
	}
	if str(echo, "process.executable") != "/usr/bin/echo" && str(echo, "process.executable") != "/bin/echo" {
		t.Errorf("executable %q", str(echo, "process.executable"))
	}
	if fileEv == nil {
		t.Fatalf("no file event for %s", watched)
	}
	if op := str(fileEv, "lineaged.file.operation"); op != "write" && op != "create" {
		t.Errorf("file operation %q", op)
	}
	if !strings.HasSuffix(str(fileEv, "process.executable"), "bash") {
		t.Errorf("file event process %q", str(fileEv, "process.executable"))
	}
	// Oracle: ausearch counts the same keyed events in the same log.
	out, err := exec.Command("ausearch", "-if", logPath, "-k", "lineaged-it", "--raw").Output()
	if err != nil {
		t.Fatalf("ausearch: %v", err)
	}
	serials := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if i := strings.Index(l, "msg=audit("); i >= 0 {
			if j := strings.IndexByte(l[i:], ')'); j > 0 {
				serials[l[i:i+j]] = true
			}
		}
	}
	if keyed != len(serials) {
		t.Errorf("%d events carry the test's keys, ausearch -k finds %d:\n%s", keyed, len(serials), out)
		keep := filepath.Join(os.TempDir(), "lineaged-it-audit.log")
		b, _ := os.ReadFile(logPath)
		os.WriteFile(keep, b, 0o600)
	}
	t.Logf("recorded %d events (%d keyed, ausearch %d); chain %s > %s > %s", len(evs), keyed, len(serials),
		str(anc[1], "executable"), str(anc[0], "executable"), str(echo, "process.executable"))
}

// startAuditd starts Debian's auditd on this kernel with a private
// configuration (its log in a temp dir, no plugins), waits until it owns
// audit, and registers cleanups that stop it and restore the audit state
// found before. It skips the test where that cannot be done safely.
func startAuditd(t *testing.T) (dir, logPath string, stop func(), saved auditState) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (audit control)")
	}
	auditdPath, err := exec.LookPath("auditd")
	if err != nil {
		t.Skip("auditd not installed (apt-get install auditd; .ci/run does)")
	}
	saved = saveAuditState(t)
	if saved.pid != "0" && saved.pid != "" {
		t.Skipf("an audit daemon (pid %s) owns audit on this host; not disturbing it", saved.pid)
	}
	if saved.enabled == "2" {
		t.Skip("audit is immutable (-e 2) on this host")
	}
	t.Cleanup(func() { saved.restore(t) })
	// A slow daemon must never stall the host: no waiting for backlog room.
	auditctl(t, "--backlog_wait_time", "0")

	dir = t.TempDir()
	logPath = filepath.Join(dir, "audit.log")
	os.Mkdir(filepath.Join(dir, "plugins.d"), 0o750)
	conf := fmt.Sprintf(`local_events = yes
write_logs = yes
log_file = %s
log_group = root
log_format = ENRICHED
flush = SYNC
max_log_file = 64
num_logs = 2
max_log_file_action = IGNORE
space_left = 2
space_left_action = IGNORE
admin_space_left = 1
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
name_format = NONE
plugin_dir = %s
q_depth = 2000
overflow_action = IGNORE
end_of_event_timeout = 2
`, logPath, filepath.Join(dir, "plugins.d"))
	if err := os.WriteFile(filepath.Join(dir, "auditd.conf"), []byte(conf), 0o640); err != nil {
		t.Fatal(err)
	}
	var dlog bytes.Buffer
	// -n: no fork, so the test owns the process; not -f, which sends
	// records to stderr instead of the log.
	d := exec.Command(auditdPath, "-n", "-c", dir, "-s", "enable")
	d.Stdout, d.Stderr = &dlog, &dlog
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		d.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- d.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			d.Process.Kill()
			<-done
		}
	}
	t.Cleanup(stop)
	// Wait for auditd to register as the audit PID.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st := saveAuditState(t); st.pid != "0" && st.pid != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("auditd did not register; its output:\n%s", dlog.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return dir, logPath, stop, saved
}
