package integration

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIntegrationLiveView starts `lineaged run --ui` and looks at the view
// as a browser does: the token file is 0600; requests without the token,
// with a wrong one, or naming a foreign Host are refused; a process started
// during the test (a copy of sleep under a name of its own, run from /tmp,
// so also alerted) shows in the rendered tree with its exit, and in the
// alert stream. The test polls the page until the process is there; it
// asserts no timing. The screenshot stays in integration/out.
func TestIntegrationLiveView(t *testing.T) {
	before := requireFreeAudit(t)
	restoreIfChanged(t, before)
	chromiumPath(t)

	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	state := filepath.Join(dir, "state")
	out := filepath.Join(dir, "events.jsonl")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	run := startRun(t, out, "--state-dir", state, "--ui", addr, "--snapshot-every", "10s")

	tokenFile := filepath.Join(state, "ui.token")
	var token string
	for deadline := time.Now().Add(10 * time.Second); token == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(tokenFile)
		token = string(b)
	}
	if token == "" {
		t.Fatalf("no token in %s", tokenFile)
	}
	if st, err := os.Stat(tokenFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	base := "http://" + addr

	// Refusals.
	get := func(path, auth, host string) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		path, auth, host string
		want             int
	}{
		{"/", "", "", 401},
		{"/api/processes", "", "", 401},
		{"/api/alerts", "wrong" + token[:8], "", 401},
		{"/api/health", token, "attacker.example:80", 403},
		{"/api/health", token, "", 200},
	} {
		if code, body := get(c.path, c.auth, c.host); code != c.want {
			t.Errorf("GET %s (token %v, Host %q): %d, want %d: %.200s", c.path, c.auth == token, c.host, code, c.want, body)
		} else if code == 401 && strings.Contains(body, token) {
			t.Error("a refusal carries the token")
		}
	}
	var health struct {
		Sources []struct{ Name, State string }
	}
	var body string
	for deadline := time.Now().Add(10 * time.Second); len(health.Sources) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, body = get("/api/health", token, "")
		if err := json.Unmarshal([]byte(body), &health); err != nil {
			t.Fatalf("health: %v: %s", err, body)
		}
	}
	states := map[string]string{}
	for _, s := range health.Sources {
		states[s.Name] = s.State
	}
	for _, s := range []string{"audit", "proc", "fanotify", "sock_diag", "output"} {
		if states[s] == "" {
			t.Errorf("health lacks %s: %s", s, body)
		}
	}
	t.Logf("health: %v", states)

	// The process: started, run to its end, then looked for on the page.
	probe := filepath.Join(dir, "lineaged-ui-probe")
	sleep, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(probe, sleep, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(probe, "0.5")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.ProcessState.Pid()
	t.Logf("probe pid %d", pid)

	page := base + "/?token=" + token
	li := regexp.MustCompile(`(?s)<li class="proc([^"]*)" data-pid="` + strconv.Itoa(pid) + `"[^>]*><div class="row">(.*?)</div>`)
	var row, cls, dom string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		dom = browse(t, page, 3*time.Second, "", 1280, 1400)
		for _, m := range li.FindAllStringSubmatch(dom, -1) {
			if strings.Contains(m[2], "lineaged-ui-probe") {
				cls, row = m[1], m[2]
			}
		}
		if row != "" && strings.Contains(cls, "exited") {
			break
		}
	}
	if row == "" {
		t.Fatalf("the live view never showed pid %d (lineaged-ui-probe); status: %s", pid, statusText(dom))
	}
	if !strings.Contains(cls, "exited") || !strings.Contains(row, "exited 0") {
		t.Errorf("pid %d is not shown exited with 0: class %q row %s", pid, cls, row)
	}
	alerts := regexp.MustCompile(`(?s)id="alerts".*?</table>`).FindString(dom)
	if !strings.Contains(alerts, "lineaged-ui-probe") {
		t.Errorf("the alert stream does not show the probe run from /tmp: %.400s", alerts)
	}
	browse(t, page, 3*time.Second, testOut(t, "liveview.png"), 1280, 1400)

	// The page without the token is refused, in the browser too.
	if dom := browse(t, base+"/", time.Second, "", 800, 600); !strings.Contains(dom, "token required") || strings.Contains(dom, `id="tree"`) {
		t.Errorf("the page without a token: %.300s", dom)
	}

	if err := run.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tokenFile); !os.IsNotExist(err) {
		t.Errorf("token file left behind after stop: %v", err)
	}
	assertRestored(t, before, "audit state after the live view run differs")
}

func statusText(dom string) string {
	return regexp.MustCompile(`<span id="status"[^>]*>([^<]*)<`).FindStringSubmatch(dom + "<span id=\"status\">?<")[1]
}
