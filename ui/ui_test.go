package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/lineaged/lineaged/event"
)

// base is the tests' event clock; each test's Server reads it as now.
const base = int64(1_700_000_000_000)

func newTestServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Host == "" {
		cfg.Host = "testhost"
	}
	s := New(cfg)
	s.now = func() time.Time { return time.UnixMilli(base + 1000) }
	return s
}

// get sends a request through the Server's handler with a loopback Host,
// as a browser on the same machine would.
func get(t testing.TB, s *Server, target string, mod func(*http.Request)) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Host = "127.0.0.1:7300"
	if mod != nil {
		mod(r)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	return w
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func decode[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %q: %v", w.Body.String(), err)
	}
	return v
}

type processesResp struct {
	Now       int64      `json:"now"`
	Processes []procJSON `json:"processes"`
}

type alertsResp struct {
	Total  uint64      `json:"total"`
	Alerts []alertJSON `json:"alerts"`
}

type healthResp struct {
	Host       string            `json:"host"`
	UptimeS    int64             `json:"uptime_s"`
	Events     uint64            `json:"events"`
	Alerts     uint64            `json:"alerts"`
	Processes  int               `json:"processes"`
	ByCategory map[string]uint64 `json:"by_category"`
	Sources    []Health          `json:"sources"`
}

func processes(t testing.TB, s *Server, query string) map[string]procJSON {
	t.Helper()
	w := get(t, s, "/api/processes"+query, bearer(s.Token()))
	if w.Code != http.StatusOK {
		t.Fatalf("/api/processes: %d %s", w.Code, w.Body)
	}
	resp := decode[processesResp](t, w)
	m := make(map[string]procJSON, len(resp.Processes))
	for _, p := range resp.Processes {
		if _, dup := m[p.EntityID]; dup {
			t.Fatalf("entity %s listed twice", p.EntityID)
		}
		m[p.EntityID] = p
	}
	return m
}

func ref(id string, pid int, exe string) event.ProcRef {
	return event.ProcRef{EntityID: id, PID: pid, Executable: exe, Args: []string{exe}, UserID: "0"}
}

func execEvent(t int64, id string, pid, ppid int, exe string, args []string, ancestry ...event.ProcRef) *event.Event {
	e := &event.Event{
		ID: "ev-" + id, TimeMsec: t, Kind: event.KindEvent,
		Category: "process", Type: "start", Action: "executed", Outcome: "success",
		Process: event.Process{EntityID: id, PID: pid, PPID: ppid, Executable: exe, Args: args},
		User:    event.User{ID: "1000"},
	}
	if len(ancestry) > 0 {
		p := ancestry[0]
		e.Parent = &p
		e.Ancestry = ancestry
	}
	return e
}

func exitEvent(t int64, id string, pid, ppid, code int, ancestry ...event.ProcRef) *event.Event {
	e := &event.Event{
		ID: "ev-exit-" + id, TimeMsec: t, Kind: event.KindEvent,
		Category: "process", Type: "end", Action: "exited", Outcome: "success",
		Process: event.Process{EntityID: id, PID: pid, PPID: ppid, ExitCode: &code},
	}
	if len(ancestry) > 0 {
		p := ancestry[0]
		e.Parent = &p
		e.Ancestry = ancestry
	}
	return e
}

func TestTokenRequired(t *testing.T) {
	s := newTestServer(t, Config{})
	paths := []string{"/", "/api/processes", "/api/alerts", "/api/health"}
	for _, p := range paths {
		for name, mod := range map[string]func(*http.Request){
			"none":         nil,
			"wrong bearer": bearer(strings.Repeat("0", 64)),
			"wrong query":  func(r *http.Request) { r.URL.RawQuery = "token=abc" },
			"wrong cookie": func(r *http.Request) { r.AddCookie(&http.Cookie{Name: cookieName, Value: "abc"}) },
			"empty bearer": func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") },
			"basic scheme": func(r *http.Request) { r.Header.Set("Authorization", "Basic "+s.Token()) },
		} {
			w := get(t, s, p, mod)
			if w.Code != http.StatusUnauthorized {
				t.Errorf("%s with %s: %d, want 401", p, name, w.Code)
			}
			body := w.Body.String()
			if !strings.Contains(body, "token required: see the token file") || strings.Contains(body, s.Token()) {
				t.Errorf("%s with %s: body %q", p, name, body)
			}
		}
		for name, mod := range map[string]func(*http.Request){
			"bearer":           bearer(s.Token()),
			"bearer lowercase": func(r *http.Request) { r.Header.Set("Authorization", "bearer "+s.Token()) },
			"query":            func(r *http.Request) { r.URL.RawQuery = "token=" + s.Token() },
			"cookie":           func(r *http.Request) { r.AddCookie(&http.Cookie{Name: cookieName, Value: s.Token()}) },
		} {
			if w := get(t, s, p, mod); w.Code != http.StatusOK {
				t.Errorf("%s with %s: %d %s, want 200", p, name, w.Code, w.Body)
			}
		}
	}
	if len(s.Token()) != 64 {
		t.Errorf("token %q: want 64 hex digits", s.Token())
	}
	if New(Config{}).Token() == s.Token() {
		t.Error("two servers share a token")
	}
}

func TestSecurityHeadersEverywhere(t *testing.T) {
	s := newTestServer(t, Config{})
	for _, c := range []struct {
		path string
		mod  func(*http.Request)
		code int
	}{
		{"/", bearer(s.Token()), 200},
		{"/api/health", bearer(s.Token()), 200},
		{"/api/health", nil, 401},
		{"/nope", bearer(s.Token()), 404},
		{"/api/health", func(r *http.Request) { r.Host = "evil.example" }, 403},
	} {
		w := get(t, s, c.path, c.mod)
		if w.Code != c.code {
			t.Errorf("%s: %d, want %d", c.path, w.Code, c.code)
		}
		for k, v := range map[string]string{
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "no-referrer",
		} {
			if got := w.Header().Get(k); got != v {
				t.Errorf("%s (%d): %s = %q, want %q", c.path, w.Code, k, got, v)
			}
		}
	}
}

func TestMethodsAndPaths(t *testing.T) {
	s := newTestServer(t, Config{})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		for _, p := range []string{"/", "/api/processes", "/api/alerts", "/api/health"} {
			r := httptest.NewRequest(m, p, nil)
			r.Host = "localhost:7300"
			r.Header.Set("Authorization", "Bearer "+s.Token())
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, r)
			if w.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", m, p, w.Code)
			}
		}
	}
	r := httptest.NewRequest(http.MethodHead, "/api/health", nil)
	r.Host = "localhost"
	r.Header.Set("Authorization", "Bearer "+s.Token())
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("HEAD: %d", w.Code)
	}
	for _, p := range []string{"/index.html", "/api", "/api/", "/api/processes/x", "/favicon.ico"} {
		if w := get(t, s, p, bearer(s.Token())); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, w.Code)
		}
	}
	if w := get(t, s, "/api/processes?limit=x", bearer(s.Token())); w.Code != http.StatusBadRequest {
		t.Errorf("limit=x: %d, want 400", w.Code)
	}
}

func TestHostHeader(t *testing.T) {
	s := newTestServer(t, Config{})
	for host, want := range map[string]int{
		"evil.example":        403,
		"evil.example:7300":   403,
		"127.0.0.1.evil.test": 403,
		"localhost.evil.test": 403,
		"10.0.0.1:7300":       403,
		"":                    403,
		"127.0.0.1:7300":      200,
		"127.0.0.1":           200,
		"127.1.2.3:80":        200,
		"localhost:7300":      200,
		"LOCALHOST":           200,
		"[::1]:7300":          200,
		"[::1]":               200,
	} {
		w := get(t, s, "/api/health", func(r *http.Request) {
			r.Host = host
			r.Header.Set("Authorization", "Bearer "+s.Token())
		})
		if w.Code != want {
			t.Errorf("Host %q: %d, want %d", host, w.Code, want)
		}
		if want == 403 && strings.Contains(w.Body.String(), s.Token()) {
			t.Errorf("Host %q: the token leaked", host)
		}
	}
	remote := newTestServer(t, Config{AllowRemote: true})
	w := get(t, remote, "/api/health", func(r *http.Request) {
		r.Host = "viewer.example:7300"
		r.Header.Set("Authorization", "Bearer "+remote.Token())
	})
	if w.Code != 200 {
		t.Errorf("AllowRemote, foreign Host: %d, want 200", w.Code)
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", ":0", "[::]:0", "example.com:0", "nonsense"} {
		s := New(Config{Addr: addr, TokenFile: filepath.Join(t.TempDir(), "token")})
		if err := s.Start(); err == nil {
			s.Close()
			t.Errorf("Start(%q) succeeded, want refusal", addr)
		}
		if _, err := os.Stat(s.cfg.TokenFile); !os.IsNotExist(err) {
			t.Errorf("Start(%q) refused but left a token file (%v)", addr, err)
		}
	}
	// With AllowRemote the address is not judged (not bound here: a test
	// must not listen beyond loopback).
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", ":0"} {
		if err := checkListenAddr(addr, true); err != nil {
			t.Errorf("checkListenAddr(%q, remote): %v", addr, err)
		}
	}
}

func TestStartServeClose(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		t.Run(addr, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run", "lineaged")
			tokFile := filepath.Join(dir, "ui.token")
			var logs []string
			var logMu sync.Mutex
			s := New(Config{Addr: addr, TokenFile: tokFile, Host: "h", Logf: func(f string, a ...any) {
				logMu.Lock()
				defer logMu.Unlock()
				logs = append(logs, fmt.Sprintf(f, a...))
			}})
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Start(); err == nil {
				t.Error("second Start succeeded")
			}
			if s.Addr() == "" || strings.HasSuffix(s.Addr(), ":0") {
				t.Fatalf("Addr() = %q", s.Addr())
			}
			fi, err := os.Stat(tokFile)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
			}
			if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
				t.Errorf("token dir: %v %v, want 0700", di.Mode().Perm(), err)
			}
			b, err := os.ReadFile(tokFile)
			if err != nil || string(b) != s.Token() {
				t.Errorf("token file holds %q (%v), want Token()", b, err)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("token dir holds %d entries, want 1 (no temporary left)", len(ents))
			}

			// A real round trip: the Host the client sends is the
			// bound address.
			c := &http.Client{Timeout: 5 * time.Second}
			req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr()+"/api/health", nil)
			req.Header.Set("Authorization", "Bearer "+s.Token())
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("GET over TCP: %d", resp.StatusCode)
			}
			resp, err = c.Get("http://" + s.Addr() + "/api/health")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Errorf("GET over TCP without token: %d", resp.StatusCode)
			}

			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if _, err := os.Stat(tokFile); !os.IsNotExist(err) {
				t.Errorf("token file after Close: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if _, err := c.Get("http://" + s.Addr() + "/api/health"); err == nil {
				t.Error("still serving after Close")
			}
			logMu.Lock()
			defer logMu.Unlock()
			for _, l := range logs {
				if strings.Contains(l, s.Token()) {
					t.Errorf("token logged: %q", l)
				}
			}
		})
	}
}

// An old token file readable by others is replaced, not rewritten in
// place: the new one is 0600 from its first byte.
func TestTokenFileReplacesOld(t *testing.T) {
	tokFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokFile, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := New(Config{Addr: "127.0.0.1:0", TokenFile: tokFile})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(tokFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if b, _ := os.ReadFile(tokFile); string(b) != s.Token() {
		t.Errorf("holds %q", b)
	}
	// A newer agent's token in the file is not ours to remove.
	if err := os.WriteFile(tokFile, []byte("someone else's"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(tokFile); err != nil {
		t.Errorf("Close removed a token file it did not write: %v", err)
	}
}

// observeChain feeds pid 1 (found running) → sh → sh → echo, each exec
// with the graph's ancestry, then echo and the inner sh exit.
func observeChain(s *Server) {
	initRef := ref("e1", 1, "/sbin/init")
	sh1 := ref("e100", 100, "/bin/sh")
	sh2 := ref("e101", 101, "/bin/sh")
	s.Observe(&event.Event{
		TimeMsec: base - 5000, Category: "process", Type: "info", Action: "existing", Outcome: "success",
		Process: event.Process{EntityID: "e1", PID: 1, Executable: "/sbin/init", Args: []string{"/sbin/init", "splash"}, StartMsec: base - 1_000_000},
		User:    event.User{ID: "0"},
	})
	s.Observe(execEvent(base-400, "e100", 100, 1, "/bin/sh", []string{"sh", "-c", "sh -c 'echo hi; exit 3'"}, initRef))
	s.Observe(execEvent(base-300, "e101", 101, 100, "/bin/sh", []string{"sh", "-c", "echo hi; exit 3"}, sh1, initRef))
	s.Observe(execEvent(base-200, "e102", 102, 101, "/bin/echo", []string{"echo", "hi"}, sh2, sh1, initRef))
	s.Observe(exitEvent(base-100, "e102", 102, 101, 0, sh2, sh1, initRef))
	s.Observe(exitEvent(base-50, "e101", 101, 100, 3, sh1, initRef))
}

func TestObserveChain(t *testing.T) {
	s := newTestServer(t, Config{})
	observeChain(s)
	m := processes(t, s, "")
	if len(m) != 4 {
		t.Fatalf("%d processes, want 4: %+v", len(m), m)
	}
	for id, parent := range map[string]string{"e100": "e1", "e101": "e100", "e102": "e101"} {
		if got := m[id].ParentEntityID; got != parent {
			t.Errorf("%s: parent %q, want %q", id, got, parent)
		}
	}
	echo := m["e102"]
	if echo.Executable != "/bin/echo" || strings.Join(echo.Args, " ") != "echo hi" || echo.PID != 102 || echo.PPID != 101 || echo.UserID != "1000" {
		t.Errorf("echo: %+v", echo)
	}
	if echo.Start != base-200 || echo.Exit == nil || *echo.Exit != base-100 || echo.ExitCode == nil || *echo.ExitCode != 0 {
		t.Errorf("echo times: %+v", echo)
	}
	if sh2 := m["e101"]; sh2.ExitCode == nil || *sh2.ExitCode != 3 {
		t.Errorf("inner sh: %+v, want exit code 3", sh2)
	}
	if sh1 := m["e100"]; sh1.Exit != nil || sh1.ExitCode != nil {
		t.Errorf("outer sh still runs: %+v", sh1)
	}
	if init := m["e1"]; init.PID != 1 || init.Start != base-1_000_000 || init.UserID != "0" || init.Unknown {
		t.Errorf("init: %+v", init)
	}
	// The JSON leaves exit and exit_code out while a process runs.
	w := get(t, s, "/api/processes", bearer(s.Token()))
	var raw struct {
		Processes []map[string]any `json:"processes"`
	}
	json.Unmarshal(w.Body.Bytes(), &raw)
	for _, p := range raw.Processes {
		_, hasExit := p["exit"]
		_, hasCode := p["exit_code"]
		running := p["entity_id"] == "e1" || p["entity_id"] == "e100"
		if running == (hasExit || hasCode) {
			t.Errorf("%v: exit present %v, exit_code present %v", p["entity_id"], hasExit, hasCode)
		}
	}
}

// Ancestors never seen themselves are created from the ancestry, up to
// the top; an Unknown top entry makes an unknown node.
func TestObserveAncestryFill(t *testing.T) {
	s := newTestServer(t, Config{})
	s.Observe(execEvent(base, "e300", 300, 250, "/usr/bin/curl", []string{"curl", "x"},
		ref("e250", 250, "/usr/bin/bash"), ref("e200", 200, "/usr/sbin/sshd"), ref("e1", 1, "/sbin/init")))
	s.Observe(execEvent(base, "e400", 400, 399, "/bin/true", nil,
		event.ProcRef{EntityID: "e399", PID: 399, Executable: "/bin/sh"}, event.ProcRef{PID: 7, Unknown: true}))
	// A non-exec event of a process not seen yet, without ancestry, and
	// with no graph (pid keys): linked by ppid.
	s.Observe(&event.Event{TimeMsec: base, Category: "network", Action: "connected-to",
		Process: event.Process{PID: 500, PPID: 300, Executable: "/usr/bin/nc"}})
	m := processes(t, s, "")
	for id, want := range map[string]struct {
		pid    int
		exe    string
		parent string
	}{
		"e250":    {250, "/usr/bin/bash", "e200"},
		"e200":    {200, "/usr/sbin/sshd", "e1"},
		"e1":      {1, "/sbin/init", ""},
		"e399":    {399, "/bin/sh", "pid:7"},
		"pid:7":   {7, "", ""},
		"pid:500": {500, "/usr/bin/nc", "pid:300"},
	} {
		p, ok := m[id]
		if !ok {
			t.Errorf("%s missing", id)
			continue
		}
		if p.PID != want.pid || p.Executable != want.exe || p.ParentEntityID != want.parent {
			t.Errorf("%s: %+v, want %+v", id, p, want)
		}
	}
	if !m["pid:7"].Unknown || m["e399"].Unknown {
		t.Errorf("unknown flags: %+v %+v", m["pid:7"], m["e399"])
	}
	if m["e200"].Start != 0 || m["e200"].PPID != 1 {
		t.Errorf("ancestor-only node: %+v, want start 0 (unknown), ppid 1", m["e200"])
	}
}

// Failed execs and later non-exec events do not rewrite the program.
func TestObserveExecOnly(t *testing.T) {
	s := newTestServer(t, Config{})
	s.Observe(execEvent(base, "e1", 10, 1, "/bin/bash", []string{"bash"}))
	failed := execEvent(base+1, "e1", 10, 1, "/nonexistent", []string{"nonexistent"})
	failed.Outcome = "failure"
	s.Observe(failed)
	s.Observe(&event.Event{TimeMsec: base + 2, Category: "file", Action: "opened-file",
		Process: event.Process{EntityID: "e1", PID: 10, Executable: "/usr/bin/bash"}})
	if p := processes(t, s, "")["e1"]; p.Executable != "/bin/bash" || p.LastSeen != base+2 {
		t.Errorf("%+v", p)
	}
	s.Observe(execEvent(base+3, "e1", 10, 1, "/usr/bin/python3", []string{"python3", "-c", "pass"}))
	if p := processes(t, s, "")["e1"]; p.Executable != "/usr/bin/python3" || len(p.Args) != 3 {
		t.Errorf("after exec: %+v", p)
	}
}

// With pid keys (no graph), a pid reused after an exit is a new process.
func TestObservePIDReuse(t *testing.T) {
	s := newTestServer(t, Config{})
	s.Observe(execEvent(base, "", 10, 1, "/bin/a", []string{"a"}))
	s.Observe(exitEvent(base+1, "", 10, 1, 0))
	s.Observe(execEvent(base+2, "", 10, 1, "/bin/b", []string{"b"}))
	p := processes(t, s, "")["pid:10"]
	if p.Executable != "/bin/b" || p.Exit != nil || p.Start != base+2 {
		t.Errorf("%+v", p)
	}
}

func TestObserveAlert(t *testing.T) {
	s := newTestServer(t, Config{})
	observeChain(s)
	// The detector's alert is a copy of the echo exec: it must count, not
	// exec the (exited) echo again.
	a := execEvent(base-10, "e102", 102, 101, "/bin/echo", []string{"echo", "hi"}, ref("e101", 101, "/bin/sh"))
	a.ID, a.Kind = "alert-1", event.KindAlert
	a.Alert = &event.Alert{RuleID: "lineaged.test", RuleName: "Test rule", Severity: 3, Reason: "echo said hi",
		Techniques: []string{"T1059.004"}}
	s.Observe(a)
	b := *a
	b.ID, b.TimeMsec = "alert-2", base-5
	b.Alert = &event.Alert{RuleID: "lineaged.other", RuleName: "Other", Severity: 1, Reason: "again"}
	s.Observe(&b)

	p := processes(t, s, "")["e102"]
	if p.Alerts != 2 {
		t.Errorf("alerts on echo: %d, want 2", p.Alerts)
	}
	if p.Exit == nil || *p.Exit != base-100 {
		t.Errorf("the alert re-executed or re-exited echo: %+v", p)
	}
	w := get(t, s, "/api/alerts", bearer(s.Token()))
	resp := decode[alertsResp](t, w)
	if len(resp.Alerts) != 2 || resp.Total != 2 {
		t.Fatalf("%+v", resp)
	}
	got := resp.Alerts[1] // newest first
	if resp.Alerts[0].ID != "alert-2" || got.ID != "alert-1" || got.RuleID != "lineaged.test" || got.RuleName != "Test rule" ||
		got.Severity != 3 || got.Reason != "echo said hi" || got.EntityID != "e102" || got.PID != 102 ||
		got.Executable != "/bin/echo" || strings.Join(got.Args, " ") != "echo hi" || got.Time != base-10 ||
		len(got.Techniques) != 1 || got.Techniques[0] != "T1059.004" {
		t.Errorf("alert: %+v", got)
	}
	h := decode[healthResp](t, get(t, s, "/api/health", bearer(s.Token())))
	if h.Alerts != 2 || h.Events != 8 || h.ByCategory["process"] != 8 || h.Host != "testhost" {
		t.Errorf("health: %+v", h)
	}
}

func TestAlertRing(t *testing.T) {
	s := newTestServer(t, Config{MaxAlerts: 5})
	for i := range 12 {
		s.Observe(&event.Event{ID: strconv.Itoa(i), TimeMsec: base + int64(i), Kind: event.KindAlert,
			Alert: &event.Alert{RuleID: "r", Severity: 2}})
	}
	resp := decode[alertsResp](t, get(t, s, "/api/alerts", bearer(s.Token())))
	var ids []string
	for _, a := range resp.Alerts {
		ids = append(ids, a.ID)
	}
	if strings.Join(ids, ",") != "11,10,9,8,7" || resp.Total != 12 {
		t.Errorf("ring: %v (total %d)", ids, resp.Total)
	}
}

func TestBoundsMaxProcesses(t *testing.T) {
	s := newTestServer(t, Config{MaxProcesses: 64, ExitedTTL: time.Hour})
	initRef := ref("e1", 1, "/sbin/init")
	s.Observe(&event.Event{TimeMsec: base - 10_000, Category: "process", Action: "existing",
		Process: event.Process{EntityID: "e1", PID: 1, Executable: "/sbin/init"}})
	// A few long-running processes, then a flood of short-lived ones.
	for i := range 8 {
		id := "daemon" + strconv.Itoa(i)
		s.Observe(execEvent(base-9000+int64(i), id, 50+i, 1, "/usr/sbin/d", nil, initRef))
	}
	for i := range 5000 {
		id := "job" + strconv.Itoa(i)
		t0 := base - 8000 + int64(i)
		s.Observe(execEvent(t0, id, 1000+i, 1, "/bin/true", []string{"true"}, initRef))
		s.Observe(exitEvent(t0, id, 1000+i, 1, 0, initRef))
		s.mu.Lock()
		n := len(s.procs)
		s.mu.Unlock()
		if n > 64 {
			t.Fatalf("after %d jobs: %d processes kept, bound 64", i+1, n)
		}
	}
	m := processes(t, s, "")
	for i := range 8 {
		if _, ok := m["daemon"+strconv.Itoa(i)]; !ok {
			t.Errorf("running daemon%d evicted before exited jobs", i)
		}
	}
	if _, ok := m["e1"]; !ok {
		t.Error("init evicted")
	}
	if _, ok := m["job4999"]; !ok {
		t.Error("newest exited job evicted")
	}
	if _, ok := m["job0"]; ok {
		t.Error("oldest exited job kept")
	}
	// With only running processes, the least recently seen go.
	s2 := newTestServer(t, Config{MaxProcesses: 32})
	for i := range 1000 {
		s2.Observe(execEvent(base+int64(i), "p"+strconv.Itoa(i), 100+i, 1, "/bin/sleep", nil))
	}
	if m := processes(t, s2, ""); len(m) > 32 || m["p999"].PID == 0 {
		t.Errorf("running flood: %d kept, newest present %v", len(m), m["p999"].PID != 0)
	}
}

func TestBoundsExitedTTL(t *testing.T) {
	s := newTestServer(t, Config{ExitedTTL: time.Minute})
	now := base
	s.now = func() time.Time { return time.UnixMilli(now) }
	s.Observe(execEvent(base, "run", 10, 1, "/bin/sleep", nil))
	s.Observe(execEvent(base, "gone", 11, 1, "/bin/true", nil))
	s.Observe(exitEvent(base+10, "gone", 11, 1, 0))
	if m := processes(t, s, ""); len(m) != 2 {
		t.Fatalf("%d processes, want 2", len(m))
	}
	now = base + 10 + 59_000
	if _, ok := processes(t, s, "")["gone"]; !ok {
		t.Error("exited process evicted before its TTL")
	}
	now = base + 10 + 61_000
	m := processes(t, s, "")
	if _, ok := m["gone"]; ok {
		t.Error("exited process kept past its TTL")
	}
	if _, ok := m["run"]; !ok {
		t.Error("running process evicted by the TTL")
	}
	// The sweep also runs from Observe, without any request.
	s.Observe(execEvent(now, "g2", 12, 1, "/bin/true", nil))
	s.Observe(exitEvent(now, "g2", 12, 1, 0))
	now += 120_000
	for i := range sweepEvery {
		s.Observe(&event.Event{TimeMsec: now, Category: "file", Process: event.Process{EntityID: "run", PID: 10}, ID: strconv.Itoa(i)})
	}
	s.mu.Lock()
	_, kept := s.procs["g2"]
	s.mu.Unlock()
	if kept {
		t.Error("Observe never swept the exited process")
	}
}

func TestProcessesLimit(t *testing.T) {
	s := newTestServer(t, Config{})
	chain := []event.ProcRef{ref("e1", 1, "/sbin/init")}
	s.Observe(&event.Event{TimeMsec: base - 10_000, Category: "process", Action: "existing",
		Process: event.Process{EntityID: "e1", PID: 1, Executable: "/sbin/init", StartMsec: base - 10_000}})
	// A deep chain, then many leaves under its bottom.
	for i := range 10 {
		id := "mid" + strconv.Itoa(i)
		s.Observe(execEvent(base-5000+int64(i), id, 10+i, chain[0].PID, "/bin/sh", nil, chain...))
		chain = append([]event.ProcRef{ref(id, 10+i, "/bin/sh")}, chain...)
	}
	for i := range 100 {
		s.Observe(execEvent(base+int64(i), "leaf"+strconv.Itoa(i), 1000+i, 19, "/bin/true", nil, chain...))
	}
	m := processes(t, s, "?limit=5")
	for i := 95; i < 100; i++ {
		if _, ok := m["leaf"+strconv.Itoa(i)]; !ok {
			t.Errorf("leaf%d (among the 5 newest) missing", i)
		}
	}
	if _, ok := m["leaf94"]; ok {
		t.Error("leaf94 listed beyond the limit")
	}
	if len(m) != 5+11 {
		t.Errorf("%d processes, want 5 leaves + 11 ancestors", len(m))
	}
	for id, p := range m {
		if p.ParentEntityID != "" {
			if _, ok := m[p.ParentEntityID]; !ok {
				t.Errorf("%s: parent %s not listed: the tree is cut", id, p.ParentEntityID)
			}
		}
	}
	if len(processes(t, s, "?limit=100000")) != 111 {
		t.Error("a limit above the bound should list everything")
	}
}

var nonceRE = regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9+/=]+)'`)

func TestPage(t *testing.T) {
	s := newTestServer(t, Config{Host: `web<01>&"x"`})
	w := get(t, s, "/?token="+s.Token(), nil)
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", w.Code, w.Header().Get("Content-Type"))
	}
	body := w.Body.String()
	for _, id := range []string{"health", "alerts", "tree", "filter", "status"} {
		if !strings.Contains(body, `id="`+id+`"`) {
			t.Errorf("page lacks id %q", id)
		}
	}
	if !strings.Contains(body, "<title>lineaged — web&lt;01&gt;&amp;&#34;x&#34; live view</title>") {
		t.Errorf("title not escaped or missing: %s", body[:strings.Index(body, "</title>")+8])
	}
	if strings.Contains(body, s.Token()) {
		t.Error("the page embeds the token")
	}
	csp := w.Header().Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "connect-src 'self'", "img-src 'self' data:"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	mm := nonceRE.FindStringSubmatch(csp)
	if mm == nil {
		t.Fatalf("no script nonce in CSP %q", csp)
	}
	nonce := mm[1]
	if !strings.Contains(csp, "style-src 'nonce-"+nonce+"'") {
		t.Errorf("style nonce differs from script nonce: %q", csp)
	}
	if !strings.Contains(body, `<script nonce="`+nonce+`">`) || !strings.Contains(body, `<style nonce="`+nonce+`">`) {
		t.Error("script or style tag does not carry the CSP nonce")
	}
	if strings.Count(body, "<script") != 1 || strings.Count(body, "<style") != 1 || strings.Contains(body, "{{") {
		t.Error("expected exactly one inline script and style, all placeholders filled")
	}
	for _, ext := range []string{"http://", "https://", "src=\"", "@import"} {
		if strings.Contains(body, ext) {
			t.Errorf("page refers to an external resource (%q)", ext)
		}
	}
	w2 := get(t, s, "/", bearer(s.Token()))
	if m2 := nonceRE.FindStringSubmatch(w2.Header().Get("Content-Security-Policy")); m2 == nil || m2[1] == nonce {
		t.Error("nonce reused across responses")
	}
	var ck *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName {
			ck = c
		}
	}
	if ck == nil || ck.Value != s.Token() || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" {
		t.Errorf("cookie: %+v", ck)
	}
}

func TestHealth(t *testing.T) {
	calls := 0
	s := newTestServer(t, Config{Host: "h1", Health: func() []Health {
		calls++
		return []Health{{Name: "audit", State: "running", Detail: "multicast", Events: 5}, {Name: "fanotify", State: "off", Detail: "off: kernel lacks FAN_REPORT_FID"}}
	}})
	s.Observe(&event.Event{Category: "file"})
	s.Observe(&event.Event{Category: "file"})
	s.Observe(&event.Event{Category: "network"})
	h := decode[healthResp](t, get(t, s, "/api/health", bearer(s.Token())))
	if h.Host != "h1" || h.Events != 3 || len(h.Sources) != 2 || h.Sources[1].Detail != "off: kernel lacks FAN_REPORT_FID" ||
		h.ByCategory["file"] != 2 || h.ByCategory["network"] != 1 || calls != 1 {
		t.Errorf("%+v (calls %d)", h, calls)
	}
	// No callback: an empty list, not null.
	s2 := newTestServer(t, Config{})
	if body := get(t, s2, "/api/health", bearer(s2.Token())).Body.String(); !strings.Contains(body, `"sources":[]`) {
		t.Errorf("no Health: %s", body)
	}
}

// Observe keeps nothing that points into the event: the caller reuses
// the event's slices and may build strings over reused buffers.
func TestObserveCopies(t *testing.T) {
	s := newTestServer(t, Config{})
	exeBuf := []byte("/bin/echo")
	exe := unsafe.String(&exeBuf[0], len(exeBuf)) // as a zero-copy parser would
	idBuf := []byte("e-copy")
	id := unsafe.String(&idBuf[0], len(idBuf))
	args := []string{"echo", "hello"}
	techs := []string{"T1059"}
	anc := []event.ProcRef{{EntityID: "par", PID: 5, Executable: "/bin/sh", Args: []string{"sh"}}}
	e := execEvent(base, id, 10, 5, exe, args, anc...)
	s.Observe(e)
	a := *e
	a.Kind = event.KindAlert
	a.Alert = &event.Alert{RuleID: "r", RuleName: "n", Reason: "why", Techniques: techs}
	s.Observe(&a)

	// The caller reuses everything.
	copy(exeBuf, "/XXX/XXXX")
	copy(idBuf, "XXXXXX")
	args[1] = "changed"
	techs[0] = "T0000"
	anc[0].Executable = "/changed"
	anc[0].Args[0] = "changed"
	e.Process.Args[0] = "changed"

	m := processes(t, s, "")
	p, ok := m["e-copy"]
	if !ok {
		t.Fatalf("entity key not copied: %v", m)
	}
	if p.Executable != "/bin/echo" || strings.Join(p.Args, " ") != "echo hello" || p.EntityID != "e-copy" {
		t.Errorf("stored process changed with the event: %+v", p)
	}
	if par := m["par"]; par.Executable != "/bin/sh" || strings.Join(par.Args, " ") != "sh" {
		t.Errorf("stored parent changed with the event: %+v", par)
	}
	al := decode[alertsResp](t, get(t, s, "/api/alerts", bearer(s.Token()))).Alerts[0]
	if al.Executable != "/bin/echo" || strings.Join(al.Args, " ") != "echo hello" || al.Techniques[0] != "T1059" {
		t.Errorf("stored alert changed with the event: %+v", al)
	}
}

func TestCapArgs(t *testing.T) {
	if capArgs(nil) != nil {
		t.Error("nil args")
	}
	many := make([]string, 40)
	for i := range many {
		many[i] = "a" + strconv.Itoa(i)
	}
	got := capArgs(many)
	if len(got) != maxArgs || got[maxArgs-1] != "a15"+ellipsis || got[0] != "a0" {
		t.Errorf("40 args: %q", got)
	}
	long := []string{"cmd", strings.Repeat("é", 400), "tail"}
	got = capArgs(long)
	total := 0
	for _, a := range got {
		total += len(a)
		if !utf8.ValidString(a) {
			t.Errorf("cut inside a character: %q", a)
		}
	}
	if len(got) != 2 || total > maxArgBytes+len(ellipsis) || !strings.HasSuffix(got[1], ellipsis) {
		t.Errorf("long args: %d args, %d bytes", len(got), total)
	}
	exact := []string{"x", "y"}
	if got := capArgs(exact); strings.Join(got, ",") != "x,y" {
		t.Errorf("short args changed: %q", got)
	}
	first := []string{strings.Repeat("z", 2000)}
	if got := capArgs(first); len(got) != 1 || len(got[0]) != maxArgBytes+len(ellipsis) {
		t.Errorf("one huge arg: %d bytes", len(got[0]))
	}
}

// TestConcurrent is for -race: one goroutine observes while others serve
// every endpoint.
func TestConcurrent(t *testing.T) {
	s := New(Config{MaxProcesses: 256, MaxAlerts: 16, Health: func() []Health {
		return []Health{{Name: "audit", State: "running"}}
	}})
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		initRef := ref("e1", 1, "/sbin/init")
		args := []string{"sh", "-c", "x"}
		for i := range 20000 {
			id := "c" + strconv.Itoa(i)
			t0 := time.Now().UnixMilli()
			args[2] = strconv.Itoa(i) // the caller's reuse
			e := execEvent(t0, id, 100+i%30000, 1, "/bin/sh", args, initRef)
			s.Observe(e)
			if i%50 == 0 {
				e.Kind = event.KindAlert
				e.Alert = &event.Alert{RuleID: "r", Severity: event.Severity(1 + i%4)}
				s.Observe(e)
			}
			s.Observe(exitEvent(t0, id, 100+i%30000, 1, i%3, initRef))
		}
	}()
	paths := []string{"/", "/api/processes", "/api/processes?limit=10", "/api/alerts", "/api/health"}
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				w := get(t, s, paths[(g+i)%len(paths)], bearer(s.Token()))
				if w.Code != 200 {
					t.Errorf("%s: %d", paths[(g+i)%len(paths)], w.Code)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkObserve is the hot path the agent pays per process: an exec
// with a 4-deep ancestry and its exit.
func BenchmarkObserve(b *testing.B) {
	s := New(Config{})
	chain := []event.ProcRef{ref("bash", 900, "/bin/bash"), ref("sshd2", 800, "/usr/sbin/sshd"),
		ref("sshd", 700, "/usr/sbin/sshd"), ref("init", 1, "/sbin/init")}
	const pool = 1 << 16
	ids := make([]string, pool)
	for i := range ids {
		ids[i] = fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15)
	}
	t0 := time.Now().UnixMilli()
	code := 0
	exec := execEvent(t0, "", 0, 900, "/usr/bin/curl", []string{"curl", "-s", "https://example.com/health"}, chain...)
	exit := exitEvent(t0, "", 0, 900, 0, chain...)
	exit.Process.ExitCode = &code
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id, pid := ids[i%pool], 1000+i%30000
		exec.Process.EntityID, exec.Process.PID = id, pid
		exec.TimeMsec = t0 + int64(i/100)
		s.Observe(exec)
		exit.Process.EntityID, exit.Process.PID = id, pid
		exit.TimeMsec = exec.TimeMsec
		s.Observe(exit)
	}
	b.StopTimer()
	s.mu.Lock()
	b.ReportMetric(float64(len(s.procs)), "nodes")
	s.mu.Unlock()
}

// BenchmarkObserveSteady is the bulk of the stream: a syscall event of a
// process already in the view.
func BenchmarkObserveSteady(b *testing.B) {
	s := New(Config{})
	chain := []event.ProcRef{ref("bash", 900, "/bin/bash"), ref("sshd2", 800, "/usr/sbin/sshd"),
		ref("sshd", 700, "/usr/sbin/sshd"), ref("init", 1, "/sbin/init")}
	t0 := time.Now().UnixMilli()
	s.Observe(execEvent(t0, "curl", 1000, 900, "/usr/bin/curl", []string{"curl", "-s", "x"}, chain...))
	e := execEvent(t0, "curl", 1000, 900, "/usr/bin/curl", nil, chain...)
	e.Category, e.Action = "network", "connected-to"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.TimeMsec = t0 + int64(i/100)
		s.Observe(e)
	}
}
