package ui

import (
	"encoding/json"
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
	"unsafe"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
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

// procView is one process as /api/processes serves it.
type procView struct {
	EntityID       string   `json:"entity_id"`
	PID            int      `json:"pid"`
	PPID           int      `json:"ppid"`
	ParentEntityID string   `json:"parent_entity_id"`
	Executable     string   `json:"executable"`
	Args           []string `json:"args"`
	UserID         string   `json:"user_id"`
	Start          int64    `json:"start"`
	LastSeen       int64    `json:"last_seen"`
	Exited         bool     `json:"exited"`
	Exit           *int64   `json:"exit"`
	ExitCode       *int     `json:"exit_code"`
	Alerts         int      `json:"alerts"`
}

type processesResp struct {
	Now       int64      `json:"now"`
	Processes []procView `json:"processes"`
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
	ByCategory map[string]uint64 `json:"by_category"`
	Sources    []Health          `json:"sources"`
}

func processes(t testing.TB, s *Server, query string) map[string]procView {
	t.Helper()
	w := get(t, s, "/api/processes"+query, bearer(s.Token()))
	if w.Code != http.StatusOK {
		t.Fatalf("/api/processes: %d %s", w.Code, w.Body)
	}
	resp := decode[processesResp](t, w)
	m := make(map[string]procView, len(resp.Processes))
	for _, p := range resp.Processes {
		if _, dup := m[p.EntityID]; dup {
			t.Fatalf("entity %s listed twice", p.EntityID)
		}
		m[p.EntityID] = p
	}
	return m
}

// pipe is the agent's pipeline as the view sees it: every event goes
// through the lineage graph, then to Observe; the view draws the graph's
// snapshots and keeps what it evicts.
type pipe struct {
	g *graph.Graph
	s *Server
}

func newPipe(t testing.TB, cfg Config, gc graph.Config) *pipe {
	t.Helper()
	if gc.Host == "" {
		gc.Host = "testhost"
	}
	g := graph.New(gc)
	cfg.Processes = g.Snapshot
	s := newTestServer(t, cfg)
	g.OnEvict(s.Evicted)
	return &pipe{g: g, s: s}
}

// feed enriches e and observes it; it returns e's entity id.
func (p *pipe) feed(e *event.Event) string {
	p.g.Enrich(e)
	p.s.Observe(e)
	return e.Process.EntityID
}

func execEvent(t int64, pid, ppid int, exe string, args []string) *event.Event {
	return &event.Event{
		ID: "ev-exec-" + strconv.Itoa(pid), TimeMsec: t, Kind: event.KindEvent,
		Category: "process", Type: "start", Action: "executed", Outcome: "success",
		Process: event.Process{PID: pid, PPID: ppid, Executable: exe, Args: args},
		User:    event.User{ID: "1000"},
	}
}

func exitEvent(t int64, pid, code int) *event.Event {
	return &event.Event{
		ID: "ev-exit-" + strconv.Itoa(pid), TimeMsec: t, Kind: event.KindEvent,
		Category: "process", Type: "end", Action: "exited", Outcome: "success",
		Process: event.Process{PID: pid, ExitCode: &code},
	}
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
			var logs syncBuffer
			s := New(Config{Addr: addr, TokenFile: tokFile, Host: "h", Log: zerolog.New(&logs)})
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
			if l := logs.String(); strings.Contains(l, s.Token()) {
				t.Errorf("token logged: %q", l)
			}
		})
	}
}

// syncBuffer is a log destination the server's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
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

// observeChain feeds pid 1 (found running) → sh → sh → echo through the
// graph, each an exec, then echo and the inner sh exit (codes 0 and 3). It
// returns the entity ids the graph gave them, by name.
func observeChain(p *pipe) map[string]string {
	ids := map[string]string{}
	ids["init"] = p.feed(&event.Event{
		TimeMsec: base - 5000, Kind: event.KindEvent, Category: "process", Type: "info", Action: "existing", Outcome: "success",
		Process: event.Process{PID: 1, Executable: "/sbin/init", Args: []string{"/sbin/init", "splash"}, StartMsec: base - 1_000_000},
		User:    event.User{ID: "0"},
	})
	ids["sh1"] = p.feed(execEvent(base-400, 100, 1, "/bin/sh", []string{"sh", "-c", "sh -c 'echo hi; exit 3'"}))
	ids["sh2"] = p.feed(execEvent(base-300, 101, 100, "/bin/sh", []string{"sh", "-c", "echo hi; exit 3"}))
	ids["echo"] = p.feed(execEvent(base-200, 102, 101, "/bin/echo", []string{"echo", "hi"}))
	p.feed(exitEvent(base-100, 102, 0))
	p.feed(exitEvent(base-50, 101, 3))
	return ids
}

func TestTree(t *testing.T) {
	p := newPipe(t, Config{}, graph.Config{})
	ids := observeChain(p)
	m := processes(t, p.s, "")
	if len(m) != 4 {
		t.Fatalf("%d processes, want 4: %+v", len(m), m)
	}
	for child, parent := range map[string]string{"sh1": "init", "sh2": "sh1", "echo": "sh2"} {
		if got := m[ids[child]].ParentEntityID; got != ids[parent] {
			t.Errorf("%s: parent %q, want %s's %q", child, got, parent, ids[parent])
		}
	}
	echo := m[ids["echo"]]
	if echo.Executable != "/bin/echo" || strings.Join(echo.Args, " ") != "echo hi" || echo.PID != 102 || echo.PPID != 101 || echo.UserID != "1000" {
		t.Errorf("echo: %+v", echo)
	}
	if echo.Start != base-200 || !echo.Exited || echo.Exit == nil || *echo.Exit != base-100 || echo.ExitCode == nil || *echo.ExitCode != 0 {
		t.Errorf("echo times: %+v", echo)
	}
	if sh2 := m[ids["sh2"]]; sh2.ExitCode == nil || *sh2.ExitCode != 3 {
		t.Errorf("inner sh: %+v, want exit code 3", sh2)
	}
	if sh1 := m[ids["sh1"]]; sh1.Exit != nil || sh1.ExitCode != nil || sh1.Exited {
		t.Errorf("outer sh still runs: %+v", sh1)
	}
	if init := m[ids["init"]]; init.PID != 1 || init.Start != base-1_000_000 || init.UserID != "0" {
		t.Errorf("init: %+v", init)
	}
	// The JSON leaves exit and exit_code out while a process runs.
	w := get(t, p.s, "/api/processes", bearer(p.s.Token()))
	var raw struct {
		Processes []map[string]any `json:"processes"`
	}
	json.Unmarshal(w.Body.Bytes(), &raw)
	for _, q := range raw.Processes {
		_, hasExit := q["exit"]
		_, hasCode := q["exit_code"]
		running := q["entity_id"] == ids["init"] || q["entity_id"] == ids["sh1"]
		if running == (hasExit || hasCode) {
			t.Errorf("%v: exit present %v, exit_code present %v", q["entity_id"], hasExit, hasCode)
		}
	}
	// No snapshot function: an empty tree, not an error.
	s := newTestServer(t, Config{})
	if len(processes(t, s, "")) != 0 {
		t.Error("a view without Processes lists processes")
	}
}

// The view invents nothing: a process whose parent the graph never saw
// is a root that names its parent's pid.
func TestTreeUnknownParent(t *testing.T) {
	p := newPipe(t, Config{}, graph.Config{})
	sshd := p.feed(execEvent(base, 200, 1, "/usr/sbin/sshd", []string{"sshd"}))
	curl := p.feed(execEvent(base+1, 300, 250, "/usr/bin/curl", []string{"curl", "x"}))
	bash := p.feed(execEvent(base+2, 400, 200, "/bin/bash", nil))
	m := processes(t, p.s, "")
	if len(m) != 3 {
		t.Fatalf("%d processes, want 3: %+v", len(m), m)
	}
	if c := m[curl]; c.ParentEntityID != "" || c.PPID != 250 {
		t.Errorf("curl: %+v, want a root with ppid 250", c)
	}
	if b := m[bash]; b.ParentEntityID != sshd {
		t.Errorf("bash: %+v, want below sshd", b)
	}
}

// Failed execs and later non-exec events do not rewrite the program.
func TestTreeExecOnly(t *testing.T) {
	p := newPipe(t, Config{}, graph.Config{})
	id := p.feed(execEvent(base, 10, 1, "/bin/bash", []string{"bash"}))
	failed := execEvent(base+1, 10, 1, "/nonexistent", []string{"nonexistent"})
	failed.Outcome = "failure"
	p.feed(failed)
	p.feed(&event.Event{TimeMsec: base + 2, Kind: event.KindEvent, Category: "file", Action: "opened-file",
		Process: event.Process{PID: 10, Executable: "/usr/bin/bash"}})
	if q := processes(t, p.s, "")[id]; q.Executable != "/bin/bash" || q.LastSeen != base+2 {
		t.Errorf("%+v", q)
	}
	p.feed(execEvent(base+3, 10, 1, "/usr/bin/python3", []string{"python3", "-c", "pass"}))
	if q := processes(t, p.s, "")[id]; q.Executable != "/usr/bin/python3" || len(q.Args) != 3 {
		t.Errorf("after exec: %+v", q)
	}
}

// A pid reused after an exit is a new process; the old one stays listed
// as exited.
func TestTreePIDReuse(t *testing.T) {
	p := newPipe(t, Config{}, graph.Config{})
	a := p.feed(execEvent(base, 10, 1, "/bin/a", []string{"a"}))
	p.feed(exitEvent(base+1, 10, 0))
	b := p.feed(execEvent(base+2, 10, 1, "/bin/b", []string{"b"}))
	m := processes(t, p.s, "")
	if a == b || m[a].Executable != "/bin/a" || !m[a].Exited {
		t.Errorf("old instance: %+v", m[a])
	}
	if q := m[b]; q.Executable != "/bin/b" || q.Exited || q.Start != base+2 {
		t.Errorf("new instance: %+v", q)
	}
}

func TestObserveAlert(t *testing.T) {
	p := newPipe(t, Config{}, graph.Config{})
	ids := observeChain(p)
	s := p.s
	// The detector's alert is a copy of the echo exec (enriched: it names
	// echo's entity id). It is counted on echo; the view takes nothing
	// else from it.
	a := execEvent(base-10, 102, 101, "/bin/echo", []string{"echo", "hi"})
	a.Process.EntityID = ids["echo"]
	a.ID, a.Kind = "alert-1", event.KindAlert
	a.Alert = &event.Alert{RuleID: "lineaged.test", RuleName: "Test rule", Severity: 3, Reason: "echo said hi",
		Techniques: []string{"T1059.004"}}
	s.Observe(a)
	b := *a
	b.ID, b.TimeMsec = "alert-2", base-5
	b.Alert = &event.Alert{RuleID: "lineaged.other", RuleName: "Other", Severity: 1, Reason: "again"}
	s.Observe(&b)

	m := processes(t, s, "")
	if q := m[ids["echo"]]; q.Alerts != 2 || q.Exit == nil || *q.Exit != base-100 {
		t.Errorf("echo: %+v, want 2 alerts and its exit unchanged", q)
	}
	if q := m[ids["sh2"]]; q.Alerts != 0 {
		t.Errorf("sh2 counted %d alerts", q.Alerts)
	}
	w := get(t, s, "/api/alerts", bearer(s.Token()))
	resp := decode[alertsResp](t, w)
	if len(resp.Alerts) != 2 || resp.Total != 2 {
		t.Fatalf("%+v", resp)
	}
	got := resp.Alerts[1] // newest first
	if resp.Alerts[0].ID != "alert-2" || got.ID != "alert-1" || got.RuleID != "lineaged.test" || got.RuleName != "Test rule" ||
		got.Severity != 3 || got.Reason != "echo said hi" || got.EntityID != ids["echo"] || got.PID != 102 ||
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

// TestBounds: a flood of short-lived processes. The graph forgets their
// exits after its TTL; the view keeps the last MaxExited of those, and
// serves at most limit processes from the graph plus as many kept.
func TestBounds(t *testing.T) {
	p := newPipe(t, Config{MaxProcesses: 32, MaxExited: 16, ExitedTTL: time.Hour}, graph.Config{ExitTTL: 1000, MaxNodes: 4096})
	p.feed(&event.Event{TimeMsec: base - 10_000, Kind: event.KindEvent, Category: "process", Action: "existing",
		Process: event.Process{PID: 1, Executable: "/sbin/init"}})
	var ids []string
	for i := range 5000 {
		t0 := base - 8000 + int64(i)
		ids = append(ids, p.feed(execEvent(t0, 1000+i, 1, "/bin/true", []string{"true"})))
		p.feed(exitEvent(t0, 1000+i, 0))
		p.s.mu.Lock()
		n := len(p.s.exited)
		p.s.mu.Unlock()
		if n > 16 {
			t.Fatalf("after %d jobs: %d exited processes kept, bound 16", i+1, n)
		}
	}
	m := processes(t, p.s, "?limit=1000")
	if len(m) > 32+1+16 {
		t.Errorf("%d processes served, bound 32 from the graph, init above them, 16 kept", len(m))
	}
	if _, ok := m[ids[4999]]; !ok {
		t.Error("newest job missing")
	}
	if _, ok := m[ids[0]]; ok {
		t.Error("oldest job still listed")
	}
	// The kept ones are the last 16 the graph evicted, 1 s (its exit
	// TTL) before the newest: jobs 3984 to 3999.
	for _, i := range []int{3984, 3999} {
		if q, ok := m[ids[i]]; !ok || !q.Exited || q.ExitCode == nil {
			t.Errorf("job %d, evicted by the graph a moment ago, not kept: %+v", i, q)
		}
		if _, ok := p.g.Lookup(1000 + i); ok {
			t.Fatalf("the scenario needs the graph to have evicted job %d", i)
		}
	}
	if _, ok := m[ids[3983]]; ok {
		t.Error("job 3983 kept beyond MaxExited")
	}
}

// TestExitedTTL: an exited process the graph evicted stays in the view
// until ExitedTTL after its exit, by the wall clock.
func TestExitedTTL(t *testing.T) {
	p := newPipe(t, Config{ExitedTTL: time.Minute}, graph.Config{ExitTTL: 50})
	now := base
	p.s.now = func() time.Time { return time.UnixMilli(now) }
	run := p.feed(execEvent(base, 10, 1, "/bin/sleep", nil))
	gone := p.feed(execEvent(base, 11, 1, "/bin/true", nil))
	p.feed(exitEvent(base+10, 11, 4))
	p.feed(&event.Event{TimeMsec: base + 100, Category: "file", Process: event.Process{PID: 10}}) // the graph's TTL passes
	if _, ok := p.g.Lookup(11); ok {
		t.Fatal("the graph kept the exit past its TTL")
	}
	now = base + 10 + 59_000
	if q, ok := processes(t, p.s, "")[gone]; !ok || q.ExitCode == nil || *q.ExitCode != 4 {
		t.Errorf("exited process left the view before its TTL: %+v", q)
	}
	now = base + 10 + 61_000
	m := processes(t, p.s, "")
	if _, ok := m[gone]; ok {
		t.Error("exited process kept past its TTL")
	}
	if _, ok := m[run]; !ok {
		t.Error("running process left the view")
	}
}

func TestProcessesLimit(t *testing.T) {
	p := newPipe(t, Config{}, graph.Config{})
	p.feed(&event.Event{TimeMsec: base - 10_000, Category: "process", Action: "existing",
		Process: event.Process{PID: 1, Executable: "/sbin/init", StartMsec: base - 10_000}})
	// A deep chain, then many leaves under its bottom.
	for i := range 10 {
		ppid := 9 + i
		if i == 0 {
			ppid = 1
		}
		p.feed(execEvent(base-5000+int64(i), 10+i, ppid, "/bin/sh", nil))
	}
	var leaves []string
	for i := range 100 {
		leaves = append(leaves, p.feed(execEvent(base+int64(i), 1000+i, 19, "/bin/true", nil)))
	}
	m := processes(t, p.s, "?limit=5")
	for i := 95; i < 100; i++ {
		if _, ok := m[leaves[i]]; !ok {
			t.Errorf("leaf%d (among the 5 newest) missing", i)
		}
	}
	if _, ok := m[leaves[94]]; ok {
		t.Error("leaf94 listed beyond the limit")
	}
	if len(m) != 5+11 {
		t.Errorf("%d processes, want 5 leaves + 11 ancestors", len(m))
	}
	for id, q := range m {
		if q.ParentEntityID != "" {
			if _, ok := m[q.ParentEntityID]; !ok {
				t.Errorf("%s: parent %s not listed: the tree is cut", id, q.ParentEntityID)
			}
		}
	}
	if len(processes(t, p.s, "?limit=100000")) != 111 {
		t.Error("a limit above the bound should list everything")
	}
	// The limit asked of the graph is capped at MaxProcesses.
	asked := 0
	s := newTestServer(t, Config{MaxProcesses: 50, Processes: func(limit int) []graph.Node { asked = limit; return nil }})
	processes(t, s, "?limit=100000")
	if asked != 50 {
		t.Errorf("asked the graph for %d, want MaxProcesses 50", asked)
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
	catBuf := []byte("process")
	args := []string{"echo", "hello"}
	techs := []string{"T1059"}
	e := execEvent(base, 10, 5, exe, args)
	e.Process.EntityID = id
	e.Category = event.Category(unsafe.String(&catBuf[0], len(catBuf)))
	s.Observe(e)
	a := *e
	a.Kind = event.KindAlert
	a.Alert = &event.Alert{RuleID: "r", RuleName: "n", Reason: "why", Techniques: techs}
	s.Observe(&a)

	// The caller reuses everything.
	copy(exeBuf, "/XXX/XXXX")
	copy(idBuf, "XXXXXX")
	copy(catBuf, "XXXXXXX")
	args[1] = "changed"
	techs[0] = "T0000"

	al := decode[alertsResp](t, get(t, s, "/api/alerts", bearer(s.Token()))).Alerts[0]
	if al.Executable != "/bin/echo" || strings.Join(al.Args, " ") != "echo hello" || al.Techniques[0] != "T1059" || al.EntityID != "e-copy" {
		t.Errorf("stored alert changed with the event: %+v", al)
	}
	if h := decode[healthResp](t, get(t, s, "/api/health", bearer(s.Token()))); h.ByCategory["process"] != 2 {
		t.Errorf("category key changed with the event: %v", h.ByCategory)
	}
}

// TestConcurrent is for -race: one goroutine runs the pipeline (graph,
// evictions into the view, Observe) while others serve every endpoint.
func TestConcurrent(t *testing.T) {
	g := graph.New(graph.Config{Host: "h", ExitTTL: 20, MaxNodes: 256})
	s := New(Config{MaxProcesses: 256, MaxAlerts: 16, MaxExited: 32, Processes: g.Snapshot, Health: func() []Health {
		return []Health{{Name: "audit", State: "running"}}
	}})
	g.OnEvict(s.Evicted)
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		args := []string{"sh", "-c", "x"}
		for i := range 20000 {
			t0 := time.Now().UnixMilli()
			args = []string{"sh", "-c", strconv.Itoa(i)} // Enrich keeps an exec's args
			e := execEvent(t0, 100+i%30000, 1, "/bin/sh", args)
			g.Enrich(e)
			s.Observe(e)
			if i%50 == 0 {
				e.Kind = event.KindAlert
				e.Alert = &event.Alert{RuleID: "r", Severity: event.Severity(1 + i%4)}
				s.Observe(e)
			}
			x := exitEvent(t0, 100+i%30000, i%3)
			g.Enrich(x)
			s.Observe(x)
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

// BenchmarkObserve is what the view costs the agent per process: an exec
// and its exit (the graph's cost is graph's BenchmarkEnrich).
func BenchmarkObserve(b *testing.B) {
	s := New(Config{})
	t0 := time.Now().UnixMilli()
	exec := execEvent(t0, 0, 900, "/usr/bin/curl", []string{"curl", "-s", "https://example.com/health"})
	exit := exitEvent(t0, 0, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pid := 1000 + i%30000
		exec.Process.PID = pid
		exec.TimeMsec = t0 + int64(i/100)
		s.Observe(exec)
		exit.Process.PID = pid
		exit.TimeMsec = exec.TimeMsec
		s.Observe(exit)
	}
}

// BenchmarkObserveSteady is the bulk of the stream: a syscall event.
func BenchmarkObserveSteady(b *testing.B) {
	s := New(Config{})
	t0 := time.Now().UnixMilli()
	e := execEvent(t0, 1000, 900, "/usr/bin/curl", nil)
	e.Category, e.Action = "network", "connected-to"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.TimeMsec = t0 + int64(i/100)
		s.Observe(e)
	}
}

// BenchmarkProcesses is one poll of the tree at the live graph's scale:
// 2,000 of 20,000 processes, a full ring of exited ones and of alerts.
func BenchmarkProcesses(b *testing.B) {
	p := newPipe(b, Config{}, graph.Config{ExitTTL: 10, MaxNodes: 65536})
	for i := range 20000 {
		p.feed(execEvent(base+int64(i), 100+i, 1, "/bin/sh", []string{"sh", "-c", strconv.Itoa(i)}))
		if i%10 == 0 {
			p.feed(exitEvent(base+int64(i), 100+i, 0))
		}
	}
	for i := range defaultMaxAlerts {
		p.s.Observe(&event.Event{ID: strconv.Itoa(i), Kind: event.KindAlert, Process: event.Process{EntityID: strconv.Itoa(i)},
			Alert: &event.Alert{RuleID: "r"}})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(p.s.processes(base+20000, 2000)) < 2000 {
			b.Fatal("short")
		}
	}
}
