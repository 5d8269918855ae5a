//go:build linux

package audit

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

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
