//go:build linux

package audit

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lineaged/lineaged/feature"
)

// TestIntegrationReadStatusMatchesAuditctl: the kernel's audit state as we
// read it equals auditctl -s (Debian's auditd package, the oracle).
func TestIntegrationReadStatusMatchesAuditctl(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("auditctl"); err != nil {
		t.Skip("auditctl not installed")
	}
	st, err := ReadStatus()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("auditctl", "-s").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint32{}
	for _, l := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		if n, err := strconv.ParseUint(v, 10, 32); err == nil {
			want[k] = uint32(n)
		}
	}
	check := func(k string, got uint32) {
		if w, ok := want[k]; ok && w != got {
			t.Errorf("%s = %d, auditctl says %d", k, got, w)
		}
	}
	check("enabled", st.Enabled)
	check("failure", st.Failure)
	check("pid", st.PID)
	check("rate_limit", st.RateLimit)
	check("backlog_limit", st.BacklogLimit)
	if _, ok := want["backlog_wait_time"]; ok && feature.Profile() == "" {
		if !st.HasBacklogWaitTime {
			t.Error("kernel reports backlog_wait_time but we say it has none")
		}
		check("backlog_wait_time", st.BacklogWaitTime)
	}
}

// TestIntegrationProbeMulticast: joins on this kernel (6.x), and a 3.10
// profile reports it missing with the minimum release.
func TestIntegrationProbeMulticast(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	c := ProbeMulticast()
	if feature.Disabled(feature.AuditMulticast) != nil {
		if c.Available || !strings.Contains(c.Reason, "requires >= 3.16") {
			t.Errorf("under profile %s: %+v", feature.Profile(), c)
		}
		return
	}
	if !c.Available {
		t.Errorf("multicast not available on this kernel: %s", c.Reason)
	}
	t.Setenv(feature.ProfileEnv, "3.10")
	if c := ProbeMulticast(); c.Available {
		t.Errorf("3.10 profile still reports multicast: %+v", c)
	}
}

// auditSnapshot is what auditctl reports, for before/after comparisons.
func auditSnapshot(t *testing.T) (status map[string]string, rules string) {
	t.Helper()
	out, err := exec.Command("auditctl", "-s").Output()
	if err != nil {
		t.Fatal(err)
	}
	status = map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		switch k {
		case "enabled", "failure", "pid", "rate_limit", "backlog_limit", "backlog_wait_time":
			status[k] = v
		}
	}
	r, err := exec.Command("auditctl", "-l").Output()
	if err != nil {
		t.Fatal(err)
	}
	return status, string(r)
}

// TestIntegrationOwnModeRestores: own mode registers as the audit daemon,
// loads rules, excludes itself, delivers the records of an exec it did not
// make, and at Close puts back exactly the audit state it found.
func TestIntegrationOwnModeRestores(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("auditctl"); err != nil {
		t.Skip("auditctl not installed (the oracle)")
	}
	st, err := ReadStatus()
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != 0 || st.Immutable() {
		t.Skipf("audit is in use (pid %d, enabled %d): not disturbing it", st.PID, st.Enabled)
	}
	beforeStatus, beforeRules := auditSnapshot(t)
	rs, err := ParseRules("it.rules", strings.NewReader("-a always,exit -F arch=b64 -S execve,uname -k lineaged-it-live\n--backlog_wait_time 0\n-b 320\n"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := OpenLive(LiveConfig{Mode: ModeOwn, Rules: rs})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			l.Close()
		}
	})
	if l.Mode() != ModeOwn {
		t.Fatalf("mode %s", l.Mode())
	}
	during, rules := auditSnapshot(t)
	if during["pid"] != strconv.Itoa(os.Getpid()) || during["enabled"] != "1" || during["backlog_limit"] != "320" {
		t.Errorf("while owning: %v", during)
	}
	if !strings.Contains(rules, "lineaged-it-live") || !strings.Contains(rules, SelfKey) {
		t.Errorf("rules while owning:\n%s", rules)
	}
	// uname(2) from us must be excluded by the self rule; the same call
	// from the child's uname(1) must come through.
	var u unix.Utsname
	for i := 0; i < 5; i++ {
		unix.Uname(&u)
	}
	marker := "lineaged-live-" + strconv.Itoa(os.Getpid())
	if err := exec.Command("/bin/sh", "-c", "/bin/echo "+marker+" >/dev/null; uname -r >/dev/null").Run(); err != nil {
		t.Fatal(err)
	}
	// Read until the echo's EXECVE arrives. Our own execs (none here) would
	// be excluded; the kernel keeps the records queued for us.
	found, childUname := false, false
	var r Record
	for i := 0; i < 2000 && !(found && childUname); i++ {
		if err := l.Receive(&r); err != nil {
			t.Fatal(err)
		}
		if r.Type == TypeExecve && strings.Contains(string(r.Line), marker) {
			found = true
		}
		if r.Type != TypeSyscall {
			continue
		}
		sc, _ := r.Get("syscall")
		arch, _ := r.Get("arch")
		n, _ := ParseInt(sc)
		p, _ := r.Get("pid")
		if SyscallName(ParseArch(arch), int(n)) == "uname" {
			if string(p) == strconv.Itoa(os.Getpid()) {
				t.Errorf("our own uname got through the %s rule: %s", SelfKey, r.Line)
			} else {
				childUname = true
			}
		}
	}
	if !found || !childUname {
		t.Fatalf("the workload's records never arrived (execve %v, child uname %v)", found, childUname)
	}
	if err := l.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	closed = true
	afterStatus, afterRules := auditSnapshot(t)
	for k, v := range beforeStatus {
		if afterStatus[k] != v {
			t.Errorf("%s was %s before, %s after", k, v, afterStatus[k])
		}
	}
	if afterRules != beforeRules {
		t.Errorf("rules before:\n%s\nafter:\n%s", beforeRules, afterRules)
	}
}
