package integration

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIntegrationRunConfigReload drives `lineaged run --config FILE`: the
// settings event says what is in force (source, settings, the rules the
// kernel has), secrets in command lines are redacted, heartbeats come on
// their period; then, under a continuous exec load, the events file is
// rotated by rename and the rules changed, and SIGHUP reopens the file and
// swaps the rules: every exec of the load is in one of the two files; a
// broken configuration on the next SIGHUP is reported with file:line and
// changes nothing; and at stop audit is as it was.
func TestIntegrationRunConfigReload(t *testing.T) {
	before := requireFreeAudit(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "events.jsonl")
	rules := filepath.Join(dir, "rules.d")
	os.Mkdir(rules, 0o755)
	ruleFile := filepath.Join(rules, "10-it.rules")
	writeRules := func(key string) {
		os.WriteFile(ruleFile, []byte("--backlog_wait_time 0\n-a always,exit -F arch=b64 -S execve -k "+key+"\n"), 0o600)
	}
	writeRules("lineaged-it-cfga")
	cfgPath := filepath.Join(dir, "lineaged.yml")
	good := fmt.Sprintf(`# test configuration
state_dir: %s
audit:
  mode: own
  rules_dir: %s
files:
  enabled: false
network:
  snapshot_every: 0s
output:
  file: %s
heartbeat_every: 1s
`, filepath.Join(dir, "state"), rules, out)
	os.WriteFile(cfgPath, []byte(good), 0o600)

	restoreIfChanged(t, before)
	run := startRun(t, out, "--config", cfgPath)
	settings := waitEvent(t, out, "settings", run)
	if src := str(settings, "lineaged.config.source"); src != cfgPath {
		t.Errorf("settings source %q, want %s", src, cfgPath)
	}
	// Settings keys are dotted names, members of one object.
	if s, _ := get(settings, "lineaged.config.settings").(map[string]any); s["audit.mode"] != "own" || s["heartbeat_every"] != "1s" {
		t.Errorf("settings do not say audit.mode own and heartbeat_every 1s: %v", s)
	}
	if r := fmt.Sprint(get(settings, "lineaged.config.rules")); !strings.Contains(r, "lineaged-it-cfga") || !strings.Contains(r, "lineaged-self") {
		t.Errorf("rules in force not listed: %s", r)
	}
	waitEvent(t, out, "heartbeat", run)

	// A secret on a command line.
	exec.Command("/bin/echo", "--password=hunter2", "lineaged-it-redact").Run()
	// A continuous load across the reload.
	stopLoad := make(chan struct{})
	loadDone := make(chan int)
	prefix := fmt.Sprintf("lineaged-it-load-%d-", time.Now().UnixNano())
	go func() {
		n := 0
		for {
			select {
			case <-stopLoad:
				loadDone <- n
				return
			default:
			}
			exec.Command("/bin/true", prefix+fmt.Sprint(n)).Run()
			n++
			time.Sleep(5 * time.Millisecond)
		}
	}()
	time.Sleep(500 * time.Millisecond)
	rotated := out + ".1"
	if err := os.Rename(out, rotated); err != nil {
		t.Fatal(err)
	}
	writeRules("lineaged-it-cfgb")
	run.cmd.Process.Signal(syscall.SIGHUP)
	reloaded := waitEvent(t, out, "reloaded", run)
	time.Sleep(500 * time.Millisecond)
	close(stopLoad)
	n := <-loadDone
	if r := fmt.Sprint(get(reloaded, "lineaged.config.rules")); !strings.Contains(r, "lineaged-it-cfgb") || strings.Contains(r, "lineaged-it-cfga") {
		t.Errorf("rules after reload: %s", r)
	}
	if l, _ := exec.Command("auditctl", "-l").Output(); !strings.Contains(string(l), "lineaged-it-cfgb") || strings.Contains(string(l), "lineaged-it-cfga") {
		t.Errorf("kernel rules after reload:\n%s", l)
	}

	// Every exec of the load, before and after the reload, in one file or
	// the other.
	deadline := time.Now().Add(10 * time.Second)
	for {
		seen := map[string]bool{}
		for _, p := range []string{rotated, out} {
			for _, e := range readEvents(t, p) {
				if args, _ := get(e, "process.args").([]any); len(args) == 2 && str(e, "event.action") == "executed" {
					if a, _ := args[1].(string); strings.HasPrefix(a, prefix) {
						seen[a] = true
					}
				}
			}
		}
		if len(seen) == n {
			break
		}
		if time.Now().After(deadline) {
			var missing []string
			for i := 0; i < n; i++ {
				if !seen[prefix+fmt.Sprint(i)] {
					missing = append(missing, fmt.Sprint(i))
				}
			}
			t.Fatalf("%d of %d execs across the reload missing: %v", len(missing), n, missing)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d execs across the rotation and reload, none lost", n)

	// The secret never reached the output.
	all, _ := os.ReadFile(rotated)
	cur, _ := os.ReadFile(out)
	if strings.Contains(string(all)+string(cur), "hunter2") {
		t.Error("a password on a command line reached the output")
	}
	if !strings.Contains(string(all)+string(cur), "--password=[REDACTED]") {
		t.Error("the redacted argument is not in the output")
	}

	// A broken configuration: reported, nothing changes.
	os.WriteFile(cfgPath, []byte(good+"audit:\n  mdoe: own\n"), 0o600)
	run.cmd.Process.Signal(syscall.SIGHUP)
	failed := waitEvent(t, out, "reload-failed", run)
	if msg := str(failed, "message"); !strings.Contains(msg, cfgPath+":") {
		t.Errorf("reload failure does not name the file and line: %s", msg)
	}
	if l, _ := exec.Command("auditctl", "-l").Output(); !strings.Contains(string(l), "lineaged-it-cfgb") {
		t.Errorf("a failed reload changed the rules:\n%s", l)
	}
	if err := run.Stop(); err != nil {
		t.Fatal(err)
	}
	assertRestored(t, before, "audit state after run differs")
}

// waitEvent waits 15 s for an event with the action, in the file as it
// is now.
func waitEvent(t *testing.T, out, action string, run *agentRun) map[string]any {
	t.Helper()
	return waitAction(t, out, action, 15*time.Second, run)
}

// TestIntegrationRunMetrics: metrics.listen serves Prometheus text with
// the agent's counters; an address off loopback is refused at start
// unless metrics.allow_remote says otherwise.
func TestIntegrationRunMetrics(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "events.jsonl")
	cfgPath := filepath.Join(dir, "lineaged.yml")
	os.WriteFile(cfgPath, []byte("audit:\n  mode: \"off\"\nfiles:\n  enabled: false\nnetwork:\n  snapshot_every: 0\nmetrics:\n  listen: \"127.0.0.1:0\"\n"), 0o600)
	run := startRun(t, out, "--config", cfgPath)
	url := metricsURL(t, run)
	deadline := time.Now().Add(10 * time.Second)
	exec.Command("/bin/true").Run()
	var body string
	for {
		time.Sleep(600 * time.Millisecond) // published twice a second
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		if strings.Contains(body, `lineaged_events_total{source="proc"} `) && !strings.Contains(body, `lineaged_events_total{source="proc"} 0`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("proc events never counted:\n%s", body)
		}
	}
	for _, m := range []string{"lineaged_audit_kernel_lost_total", "lineaged_proc_overruns_total", "lineaged_fanotify_overflows_total", "lineaged_graph_processes", "lineaged_alerts_total"} {
		if !strings.Contains(body, "\n"+m+" ") {
			t.Errorf("metric %s missing", m)
		}
	}
	if err := run.Stop(); err != nil {
		t.Fatal(err)
	}

	os.WriteFile(cfgPath, []byte("audit:\n  mode: \"off\"\nmetrics:\n  listen: \"0.0.0.0:0\"\n"), 0o600)
	cmd := exec.Command(lineagedBin, "run", "--config", cfgPath, "--output", out)
	msg, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "not a loopback address") {
		t.Errorf("a metrics address off loopback was not refused: %v\n%s", err, msg)
	}
}

// TestIntegrationRunAuditLog: `lineaged run --audit-log FILE` in own mode
// writes the kernel's records in auditd's format: Debian's ausearch finds
// an exec by its key in the file, and the file starts and ends with
// lineaged's DAEMON_START and DAEMON_END.
func TestIntegrationRunAuditLog(t *testing.T) {
	before := requireFreeAudit(t)
	if _, err := exec.LookPath("ausearch"); err != nil {
		t.Skip("ausearch not installed")
	}
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.d")
	os.Mkdir(rules, 0o755)
	os.WriteFile(filepath.Join(rules, "10-it.rules"), []byte("--backlog_wait_time 0\n-a always,exit -F arch=b64 -S execve -k lineaged-it-alog\n"), 0o600)
	restoreIfChanged(t, before)
	out := filepath.Join(dir, "events.jsonl")
	alog := filepath.Join(dir, "log", "audit.log")
	run := startRun(t, out, "--audit-mode", "own", "--rules-dir", rules, "--audit-log", alog, "--snapshot-every", "0", "--no-file-watch")
	marker := fmt.Sprintf("lineaged-alog-%d", time.Now().UnixNano())
	exec.Command("/bin/echo", marker).Run()
	waitFor := time.Now().Add(10 * time.Second)
	for {
		found := false
		for _, e := range readEvents(t, out) {
			if args, _ := get(e, "process.args").([]any); len(args) == 2 && args[1] == marker {
				found = true
			}
		}
		if found {
			break
		}
		if time.Now().After(waitFor) {
			t.Fatalf("the marker exec never came; stderr:\n%s", run.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := run.Stop(); err != nil {
		t.Fatal(err)
	}
	assertRestored(t, before, "audit state differs after the run")
	res, err := exec.Command("ausearch", "-if", alog, "-k", "lineaged-it-alog", "-i").CombinedOutput()
	if err != nil || !strings.Contains(string(res), marker) {
		t.Fatalf("ausearch -if %s -k lineaged-it-alog did not find the exec: %v\n%s", alog, err, res)
	}
	data, _ := os.ReadFile(alog)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if !strings.HasPrefix(lines[0], "type=DAEMON_START ") || !strings.HasPrefix(lines[len(lines)-1], "type=DAEMON_END ") {
		t.Errorf("audit.log does not run from DAEMON_START to DAEMON_END:\n%s\n...\n%s", lines[0], lines[len(lines)-1])
	}
	if fi, _ := os.Stat(alog); fi.Mode().Perm() != 0o600 {
		t.Errorf("audit.log mode %v, want 0600", fi.Mode().Perm())
	}
}
