package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

type statusJSON struct {
	Kernel  string `json:"kernel"`
	Profile string `json:"profile"`
	Audit   *struct {
		Enabled uint32 `json:"enabled"`
		PID     uint32 `json:"pid"`
		Mode    string `json:"mode"`
	} `json:"audit"`
	Capabilities []struct {
		Feature   string `json:"feature"`
		Available bool   `json:"available"`
		Reason    string `json:"reason"`
	} `json:"capabilities"`
}

func status(t *testing.T, env ...string) statusJSON {
	t.Helper()
	cmd := exec.Command(lineagedBin, "status", "--json")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lineaged status --json: %v", err)
	}
	var s statusJSON
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return s
}

// TestIntegrationStatus: lineaged status reports this kernel, the audit
// state as auditctl sees it, and a capability table in which a legacy
// profile switches the newer features off with their minimum release.
func TestIntegrationStatus(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (AUDIT_GET)")
	}
	s := status(t)
	if s.Kernel == "" || s.Audit == nil {
		t.Fatalf("status: %+v", s)
	}
	if out, err := exec.Command("auditctl", "-s").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if k, v, _ := strings.Cut(l, " "); k == "pid" && v != strings.TrimSpace(itoa32(s.Audit.PID)) {
				t.Errorf("audit pid %d, auditctl says %s", s.Audit.PID, v)
			}
		}
	}
	want := map[string]bool{"audit.multicast": false}
	old := status(t, "LINEAGED_KERNEL_PROFILE=3.10")
	if old.Profile != "3.10" {
		t.Errorf("profile not reported: %+v", old)
	}
	for _, c := range old.Capabilities {
		if _, ok := want[c.Feature]; ok {
			want[c.Feature] = true
			if c.Available || !strings.Contains(c.Reason, "requires >= 3.16") {
				t.Errorf("3.10 profile: %+v", c)
			}
		}
	}
	for f, seen := range want {
		if !seen {
			t.Errorf("capability %s missing from the table", f)
		}
	}
	// A profile that is not a known kernel is refused clearly.
	cmd := exec.Command(lineagedBin, "status")
	cmd.Env = append(os.Environ(), "LINEAGED_KERNEL_PROFILE=2.4")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "3.10, 4.4, 4.15") {
		t.Errorf("bad profile: %v %s", err, out)
	}
}

func itoa32(n uint32) string {
	b, _ := json.Marshal(n)
	return string(b)
}
