package integration

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// metricsURL waits for the "metrics on URL" line of a run's stderr.
func metricsURL(t *testing.T, run *agentRun) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, l := range strings.Split(run.stderr.String(), "\n") {
			if _, u, ok := strings.Cut(l, "metrics on "); ok {
				return strings.TrimSpace(u)
			}
		}
	}
	t.Fatalf("no metrics address logged; stderr:\n%s", run.stderr.String())
	return ""
}

// metric scrapes url and returns the value of an unlabelled metric (-1
// when absent).
func metric(t *testing.T, url, name string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+]+)$`).FindStringSubmatch(string(b))
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// waitMetric polls until the metric is above zero.
func waitMetric(t *testing.T, url, name string) float64 {
	t.Helper()
	var v float64
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if v = metric(t, url, name); v > 0 {
			return v
		}
	}
	t.Errorf("%s stayed %v", name, v)
	return v
}

// stopped runs fn while the agent is stopped (SIGSTOP), so the kernel's
// queues fill as they do when the agent cannot keep up; it always resumes
// the agent.
func stopped(t *testing.T, run *agentRun, fn func()) {
	t.Helper()
	if err := run.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer run.cmd.Process.Signal(syscall.SIGCONT)
	fn()
}

// forkStorm forks n children that exit at once (perl forks in about
// 0.3 ms: 12,000 forks are 24,000 connector events, more than its 8 MiB
// receive buffer holds while the agent is stopped).
func forkStorm(t *testing.T, n int) {
	t.Helper()
	script := "use POSIX; for (1.." + strconv.Itoa(n) + ") { my $p = fork; if (!$p) { POSIX::_exit(0) } waitpid($p, 0) }"
	if out, err := exec.Command("perl", "-e", script).CombinedOutput(); err != nil {
		t.Fatalf("fork storm: %v\n%s", err, out)
	}
}

// TestIntegrationProcOverrun: the proc connector's receive buffer
// overflows (ENOBUFS) while the agent is stopped under a fork storm. The
// agent must count it (event and metric), repair its graph from /proc,
// and keep going: a process born during the overrun, whose fork and exec
// the kernel dropped, is known by its executable when it exits. Audit is
// off, so no audit backlog fills meanwhile.
func TestIntegrationProcOverrun(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	out := filepath.Join(dir, "events.jsonl")
	cfgPath := filepath.Join(dir, "lineaged.yml")
	os.WriteFile(cfgPath, []byte("audit:\n  mode: \"off\"\nfiles:\n  enabled: false\nnetwork:\n  snapshot_every: 0\nmetrics:\n  listen: \"127.0.0.1:0\"\n"), 0o600)
	run := startRun(t, out, "--config", cfgPath)
	url := metricsURL(t, run)
	waitStarted(t, out)

	probe := filepath.Join(dir, "lineaged-overrun-probe")
	sleep, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(probe, sleep, 0o755)
	var cmd *exec.Cmd
	stopped(t, run, func() {
		forkStorm(t, 12000)
		// Born while the buffer is full: its fork and exec are lost.
		cmd = exec.Command(probe, "3")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	})
	pid := cmd.Process.Pid
	overrun := waitAction(t, out, "proc-overrun", 20*time.Second, run)
	t.Logf("%s", str(overrun, "message"))
	if n := waitMetric(t, url, "lineaged_proc_overruns_total"); n < 1 {
		t.Errorf("lineaged_proc_overruns_total = %v", n)
	}
	cmd.Wait()

	var exit map[string]any
	for deadline := time.Now().Add(10 * time.Second); exit == nil && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, e := range readEvents(t, out) {
			if pv, _ := get(e, "process.pid").(float64); str(e, "event.action") == "exited" && int(pv) == pid {
				exit = e
			}
		}
	}
	if exit == nil {
		t.Fatalf("no exit event for pid %d (born during the overrun)", pid)
	}
	if got := str(exit, "process.executable"); got != probe {
		t.Errorf("the exit of pid %d names %q, want %s: the graph was not repaired from /proc", pid, got, probe)
	}
	// An exit line names its parent by id (its exec's line, or here the
	// /proc walk, has the whole chain): the graph knows it.
	if str(exit, "process.parent.entity_id") == "" || get(exit, "lineaged.parent_unknown") == true {
		t.Errorf("the exit of pid %d names no known parent: %v", pid, get(exit, "process.parent"))
	}
	// Still running: a later exec is seen.
	exec.Command("/bin/true").Run()
	if err := run.Stop(); err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationFanotifyOverflow: fanotify's queue (16,384 events)
// overflows while the agent is stopped and 20,000 files are written in a
// watched directory. The agent must report a queue-overflow event, count
// it in lineaged_fanotify_overflows_total, and keep watching: a file
// written afterwards is reported. Audit is off.
func TestIntegrationFanotifyOverflow(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	dir := t.TempDir()
	watched := filepath.Join(dir, "watched")
	os.Mkdir(watched, 0o755)
	out := filepath.Join(dir, "events.jsonl")
	cfgPath := filepath.Join(dir, "lineaged.yml")
	os.WriteFile(cfgPath, []byte("audit:\n  mode: \"off\"\nnetwork:\n  snapshot_every: 0\nmetrics:\n  listen: \"127.0.0.1:0\"\n"), 0o600)
	run := startRun(t, out, "--config", cfgPath, "--watch", watched)
	url := metricsURL(t, run)
	waitStarted(t, out)

	stopped(t, run, func() {
		script := "import os\nd = " + strconv.Quote(watched) + "\nfor i in range(20000):\n  with open(os.path.join(d, 'f%d' % i), 'w') as f:\n    f.write('x')\n"
		if out, err := exec.Command("python3", "-c", script).CombinedOutput(); err != nil {
			t.Fatalf("writing files: %v\n%s", err, out)
		}
	})
	ov := waitAction(t, out, "queue-overflow", 30*time.Second, run)
	t.Logf("%s", str(ov, "message"))
	if n := waitMetric(t, url, "lineaged_fanotify_overflows_total"); n < 1 {
		t.Errorf("lineaged_fanotify_overflows_total = %v", n)
	}

	after := filepath.Join(watched, "after-the-overflow")
	var seen bool
	for deadline := time.Now().Add(20 * time.Second); !seen && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		os.WriteFile(after, []byte("y"), 0o644)
		for _, e := range readEvents(t, out) {
			if str(e, "file.path") == after {
				seen = true
			}
		}
	}
	if !seen {
		t.Error("a file written after the overflow was never reported: the agent stopped watching")
	}
	if err := run.Stop(); err != nil {
		t.Fatal(err)
	}
}

// TestIntegrationAuditBacklogOverflow: a tiny audit backlog (-b 8, with
// backlog_wait_time 0 so that no process ever waits on it) overflows
// while the agent is stopped and a process makes 200,000 audited system
// calls. The kernel's lost count must surface as an audit-records-lost
// event and in lineaged_audit_kernel_lost_total, and the backlog settings
// must be put back when the agent stops.
func TestIntegrationAuditBacklogOverflow(t *testing.T) {
	requireFreeAudit(t)
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "events.jsonl")
	rules := filepath.Join(dir, "rules.d")
	os.Mkdir(rules, 0o755)
	os.WriteFile(filepath.Join(rules, "10-it.rules"), []byte("--backlog_wait_time 0\n-b 8\n-a always,exit -F arch=b64 -S getppid -k lineaged-it-backlog\n"), 0o600)
	cfgPath := filepath.Join(dir, "lineaged.yml")
	os.WriteFile(cfgPath, []byte("files:\n  enabled: false\nnetwork:\n  snapshot_every: 0\nmetrics:\n  listen: \"127.0.0.1:0\"\n"), 0o600)
	// The wait time goes to 0 before the backlog shrinks, by the test
	// itself: under a legacy profile (before 3.14) lineaged does not set
	// it, and the kernel's default (60 s) would stall every process on
	// the host behind a full backlog of 8. Put back whatever happens.
	saved := saveAuditState(t)
	t.Cleanup(func() { saved.restore(t) })
	auditctl(t, "--backlog_wait_time", "0")
	before := auditctlState(t)
	run := startRun(t, out, "--config", cfgPath, "--audit-mode", "own", "--rules-dir", rules)
	url := metricsURL(t, run)
	waitStarted(t, out)
	stopped(t, run, func() {
		if out, err := exec.Command("perl", "-e", "getppid() for 1..200000").CombinedOutput(); err != nil {
			t.Fatalf("syscall storm: %v\n%s", err, out)
		}
	})
	loss := waitAction(t, out, "audit-records-lost", 20*time.Second, run)
	n, _ := strconv.Atoi(str(loss, "labels.count"))
	t.Logf("%s", str(loss, "message"))
	if n < 1 || str(loss, "event.outcome") != "failure" {
		t.Errorf("loss event: count %d, outcome %s", n, str(loss, "event.outcome"))
	}
	if v := waitMetric(t, url, "lineaged_audit_kernel_lost_total"); v < float64(n) {
		t.Errorf("lineaged_audit_kernel_lost_total = %v, below the event's %d", v, n)
	}
	if err := run.Stop(); err != nil {
		t.Fatal(err)
	}
	assertRestored(t, before, "audit state (backlog limit, wait time) after the overflow differs")
}
