package graph

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lineaged/lineaged/event"
)

// ev builds an event. kind is "exec" (successful execve), "execfail",
// "exit", or anything else for a plain syscall event.
type ev struct {
	t         int64
	pid, ppid int
	kind      string
	exe       string
	args      []string
	uid       string
	cwd       string
}

func (v ev) event() *event.Event {
	e := &event.Event{TimeMsec: v.t, Host: "h1", Outcome: "success", Action: "connected-to"}
	switch v.kind {
	case "exec":
		e.Action = "executed"
	case "execfail":
		e.Action, e.Outcome = "executed", "failure"
	case "exit":
		e.Action = "exited"
	}
	e.Process = event.Process{PID: v.pid, PPID: v.ppid, Executable: v.exe, Args: v.args}
	e.Process.WorkingDirectory = v.cwd
	e.User.ID = v.uid
	return e
}

func run(g *Graph, evs ...ev) *event.Event {
	var last *event.Event
	for _, v := range evs {
		last = v.event()
		g.Enrich(last)
	}
	return last
}

// summary renders an ancestry as "pid:exe" entries, "?pid" for unknown.
func summary(anc []event.ProcRef) string {
	var parts []string
	for _, r := range anc {
		if r.Unknown {
			parts = append(parts, "?"+strconv.Itoa(r.PID))
		} else {
			parts = append(parts, strconv.Itoa(r.PID)+":"+r.Executable)
		}
	}
	return strings.Join(parts, " ")
}

// The make → cc → cc1 build seen in an audit log that starts after make's
// parent (pid 50) was running.
var build = []ev{
	{t: 1000, pid: 100, ppid: 50, kind: "exec", exe: "/usr/bin/make", args: []string{"make", "-j2"}, uid: "1000"},
	{t: 1010, pid: 200, ppid: 100, kind: "exec", exe: "/usr/bin/cc", args: []string{"cc", "-c", "x.c"}, uid: "1000"},
	{t: 1020, pid: 300, ppid: 200, kind: "exec", exe: "/usr/libexec/gcc/cc1", args: []string{"cc1", "x.c"}, uid: "1000"},
}

func TestAncestry(t *testing.T) {
	cat := func(a ...[]ev) []ev {
		var out []ev
		for _, x := range a {
			out = append(out, x...)
		}
		return out
	}
	tests := []struct {
		name string
		evs  []ev // the last one is checked
		want string
	}{
		{"chain", build, "200:/usr/bin/cc 100:/usr/bin/make ?50"},
		{"first event", build[:1], "?50"},
		{"no ppid", []ev{{t: 1, pid: 7, exe: "/bin/x"}}, ""},
		{"pid 1 has none", []ev{{t: 1, pid: 1, ppid: 0, exe: "/sbin/init"}}, ""},
		{"pid 1 ends the chain", []ev{
			{t: 1, pid: 1, exe: "/sbin/init"},
			{t: 2, pid: 10, ppid: 1, kind: "exec", exe: "/usr/sbin/sshd"},
			{t: 3, pid: 11, ppid: 10, kind: "exec", exe: "/bin/bash"},
		}, "10:/usr/sbin/sshd 1:/sbin/init"},
		{"init unknown", []ev{
			{t: 2, pid: 10, ppid: 1, kind: "exec", exe: "/usr/sbin/sshd"},
			{t: 3, pid: 11, ppid: 10, kind: "exec", exe: "/bin/bash"},
		}, "10:/usr/sbin/sshd ?1"},
		{"lazy link to a parent seen later but born earlier", []ev{
			{t: 5, pid: 20, ppid: 10, exe: "/bin/child"},
			{t: 5, pid: 10, ppid: 1, exe: "/bin/parent"},
			{t: 6, pid: 20},
		}, "10:/bin/parent ?1"},
		{"no link to a parent born after the child", []ev{
			{t: 5, pid: 20, ppid: 10, exe: "/bin/child"},
			{t: 9, pid: 10, ppid: 1, exe: "/bin/notparent"},
			{t: 10, pid: 20},
		}, "?10"},
		{"no link to a parent that exited before the child", []ev{
			{t: 1, pid: 10, ppid: 1, exe: "/bin/old"},
			{t: 2, pid: 10, ppid: 1, kind: "exit"},
			{t: 3, pid: 20, ppid: 10, exe: "/bin/child"},
		}, "?10"},
		{"parent exited after the child appeared", []ev{
			{t: 1, pid: 10, ppid: 1, exe: "/bin/sh"},
			{t: 2, pid: 20, ppid: 10, exe: "/bin/child"},
			{t: 3, pid: 10, kind: "exit"},
			{t: 4, pid: 20},
		}, "10:/bin/sh ?1"},
		{"ancestor shows its latest exec", cat(build, []ev{
			{t: 1030, pid: 100, kind: "exec", exe: "/usr/bin/gmake"},
			{t: 1040, pid: 300},
		}), "200:/usr/bin/cc 100:/usr/bin/gmake ?50"},
		{"failed exec changes nothing", cat(build, []ev{
			{t: 1030, pid: 200, kind: "execfail", exe: "/nope"},
			{t: 1040, pid: 300},
		}), "200:/usr/bin/cc 100:/usr/bin/make ?50"},
		{"ppid learnt later", []ev{
			{t: 1, pid: 10, ppid: 1, exe: "/bin/sh"},
			{t: 2, pid: 20, exe: "/bin/x"},
			{t: 3, pid: 20, ppid: 10},
		}, "10:/bin/sh ?1"},
		{"ppid == pid", []ev{{t: 1, pid: 5, ppid: 5, exe: "/bin/self"}}, ""},
		{"A and B parents of each other", []ev{
			{t: 1, pid: 5, ppid: 6, exe: "/bin/a"},
			{t: 1, pid: 6, ppid: 5, exe: "/bin/b"},
			{t: 2, pid: 5},
		}, "?6"},
		{"A and B, asked from B", []ev{
			{t: 1, pid: 5, ppid: 6, exe: "/bin/a"},
			{t: 1, pid: 6, ppid: 5, exe: "/bin/b"},
			{t: 2, pid: 5},
			{t: 2, pid: 6},
		}, "5:/bin/a ?6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan *event.Event)
			go func() { done <- run(New(Config{Host: "h1"}), tt.evs...) }()
			var e *event.Event
			select {
			case e = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Enrich did not return (cycle?)")
			}
			if got := summary(e.Ancestry); got != tt.want {
				t.Errorf("ancestry = %q, want %q", got, tt.want)
			}
			if len(e.Ancestry) == 0 {
				if e.Parent != nil {
					t.Errorf("Parent = %+v with no ancestry", e.Parent)
				}
			} else if e.Parent != &e.Ancestry[0] {
				t.Errorf("Parent does not point at Ancestry[0]")
			}
			for _, r := range e.Ancestry {
				if r.Unknown && (r.EntityID != "" || r.Executable != "" || r.Args != nil || r.UserID != "") {
					t.Errorf("unknown entry carries data: %+v", r)
				}
				if !r.Unknown && r.EntityID == "" {
					t.Errorf("known entry without entity id: %+v", r)
				}
			}
		})
	}
}

func TestAncestryFields(t *testing.T) {
	g := New(Config{Host: "h1"})
	e := run(g, build...)
	cc, _ := g.Lookup(200)
	mk, _ := g.Lookup(100)
	want := []event.ProcRef{
		{EntityID: cc.EntityID, PID: 200, Executable: "/usr/bin/cc", Args: []string{"cc", "-c", "x.c"}, UserID: "1000"},
		{EntityID: mk.EntityID, PID: 100, Executable: "/usr/bin/make", Args: []string{"make", "-j2"}, UserID: "1000"},
		{PID: 50, Unknown: true},
	}
	if !reflect.DeepEqual(e.Ancestry, want) {
		t.Errorf("ancestry =\n%+v\nwant\n%+v", e.Ancestry, want)
	}
	cc1, _ := g.Lookup(300)
	if e.Process.EntityID != cc1.EntityID || e.Process.StartMsec != 1020 {
		t.Errorf("process = %q start %d, want %q start 1020", e.Process.EntityID, e.Process.StartMsec, cc1.EntityID)
	}
	if cc1.ParentEntityID != cc.EntityID || cc.Children != 1 || mk.Children != 1 {
		t.Errorf("links: cc1.parent %q (cc %q), children cc %d make %d", cc1.ParentEntityID, cc.EntityID, cc.Children, mk.Children)
	}
	ids := map[string]bool{cc.EntityID: true, mk.EntityID: true, cc1.EntityID: true}
	if len(ids) != 3 {
		t.Errorf("entity ids not distinct: %v", ids)
	}
}

func TestPIDReuse(t *testing.T) {
	tests := []struct {
		name    string
		reuse   []ev // events after the build that touch pid 100 again
		newInst bool
	}{
		{"new ppid", []ev{{t: 2000, pid: 100, ppid: 60, kind: "exec", exe: "/usr/bin/vim"}}, true},
		{"after exit", []ev{
			{t: 1500, pid: 100, kind: "exit"},
			{t: 2000, pid: 100, ppid: 50, kind: "exec", exe: "/usr/bin/vim"},
		}, true},
		{"late record of the exited one", []ev{
			{t: 1500, pid: 100, kind: "exit"},
			{t: 1500, pid: 100, ppid: 50},
		}, false},
		{"reparent to init", []ev{{t: 2000, pid: 100, ppid: 1}}, false},
		{"same ppid", []ev{{t: 2000, pid: 100, ppid: 50}}, false},
		{"no ppid claimed", []ev{{t: 2000, pid: 100}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(Config{Host: "h1"})
			run(g, build...)
			old, _ := g.Lookup(100)
			run(g, tt.reuse...)
			cur, ok := g.Lookup(100)
			if !ok {
				t.Fatal("pid 100 not indexed")
			}
			if got := cur.EntityID != old.EntityID; got != tt.newInst {
				t.Errorf("new instance = %v, want %v (ids %s → %s)", got, tt.newInst, old.EntityID, cur.EntityID)
			}
			wantReuse := uint64(0)
			if tt.newInst {
				wantReuse = 1
			}
			if s := g.Stats(); s.PIDReuse != wantReuse {
				t.Errorf("PIDReuse = %d, want %d", s.PIDReuse, wantReuse)
			}
			// The old child still names the old parent, by pointer.
			e := run(g, ev{t: 2100, pid: 200})
			if got, want := summary(e.Ancestry), "100:/usr/bin/make ?50"; got != want {
				t.Errorf("child ancestry = %q, want %q", got, want)
			}
			if e.Ancestry[0].EntityID != old.EntityID {
				t.Errorf("child's parent id = %s, want the old %s", e.Ancestry[0].EntityID, old.EntityID)
			}
			if tt.newInst && (len(cur.Execs) != 1 || cur.Executable != "/usr/bin/vim") {
				t.Errorf("new instance: exe %q execs %+v", cur.Executable, cur.Execs)
			}
		})
	}
}

func TestReparent(t *testing.T) {
	// sh (10) → daemon (20) → worker (30); sh lives under a subreaper (5)
	// whose parent (2) is unknown.
	base := []ev{
		{t: 1, pid: 5, ppid: 2, kind: "exec", exe: "/usr/lib/systemd/systemd"},
		{t: 2, pid: 10, ppid: 5, kind: "exec", exe: "/bin/sh"},
		{t: 3, pid: 20, ppid: 10, kind: "exec", exe: "/usr/bin/daemon"},
	}
	tests := []struct {
		name     string
		evs      []ev
		newInst  bool
		ancestry string
	}{
		{"to init after the parent exited", []ev{{t: 4, pid: 10, kind: "exit"}, {t: 5, pid: 20, ppid: 1}},
			false, "10:/bin/sh 5:/usr/lib/systemd/systemd ?2"},
		{"to init, parent exit not seen", []ev{{t: 5, pid: 20, ppid: 1}},
			false, "10:/bin/sh 5:/usr/lib/systemd/systemd ?2"},
		{"to a subreaper ancestor", []ev{{t: 4, pid: 10, kind: "exit"}, {t: 5, pid: 20, ppid: 5}, {t: 6, pid: 20, ppid: 5}},
			false, "10:/bin/sh 5:/usr/lib/systemd/systemd ?2"},
		{"to the unknown top of the chain", []ev{{t: 4, pid: 10, kind: "exit"}, {t: 5, pid: 20, ppid: 2}},
			false, "10:/bin/sh 5:/usr/lib/systemd/systemd ?2"},
		{"ancestor pid but parent alive", []ev{{t: 5, pid: 20, ppid: 5}},
			true, "5:/usr/lib/systemd/systemd ?2"},
		{"unrelated pid after the parent exited", []ev{{t: 4, pid: 10, kind: "exit"}, {t: 5, pid: 20, ppid: 77}},
			true, "?77"},
		{"subreaper itself exited", []ev{{t: 4, pid: 5, kind: "exit"}, {t: 4, pid: 10, kind: "exit"}, {t: 5, pid: 20, ppid: 5}},
			true, "?5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(Config{Host: "h1"})
			run(g, base...)
			old, _ := g.Lookup(20)
			e := run(g, tt.evs...)
			cur, _ := g.Lookup(20)
			if got := cur.EntityID != old.EntityID; got != tt.newInst {
				t.Errorf("new instance = %v, want %v", got, tt.newInst)
			}
			if got := summary(e.Ancestry); got != tt.ancestry {
				t.Errorf("ancestry = %q, want %q", got, tt.ancestry)
			}
			if !tt.newInst && (cur.PPID != 10 || cur.ReparentedTo != e.Process.PPID) {
				t.Errorf("PPID %d ReparentedTo %d, want 10 and %d", cur.PPID, cur.ReparentedTo, e.Process.PPID)
			}
		})
	}
}

func TestExitTTL(t *testing.T) {
	g := New(Config{Host: "h1", ExitTTL: 100})
	run(g, build...)
	run(g, ev{t: 2000, pid: 200, kind: "exit"})
	if s := g.Stats(); s.Nodes != 3 || s.Exited != 1 || s.Evicted != 0 {
		t.Fatalf("after exit: %+v", s)
	}
	run(g, ev{t: 2099, pid: 300}) // 99 ms after the exit: kept
	if _, ok := g.Lookup(200); !ok {
		t.Fatal("evicted before ExitTTL")
	}
	e := run(g, ev{t: 2100, pid: 300})
	s := g.Stats()
	if _, ok := g.Lookup(200); ok || s.Nodes != 2 || s.Exited != 0 || s.Evicted != 1 {
		t.Fatalf("after ExitTTL: indexed=%v %+v", ok, s)
	}
	// The evicted parent is still cc1's parent.
	if got, want := summary(e.Ancestry), "200:/usr/bin/cc 100:/usr/bin/make ?50"; got != want {
		t.Errorf("ancestry = %q, want %q", got, want)
	}
	// A new process with the evicted pid is a new node, not a reuse.
	run(g, ev{t: 2200, pid: 200, ppid: 100, exe: "/bin/true"})
	if s := g.Stats(); s.PIDReuse != 0 || s.Created != 4 {
		t.Errorf("after pid comes back: %+v", s)
	}
}

func TestIdleTTL(t *testing.T) {
	g := New(Config{Host: "h1", IdleTTL: 1000})
	run(g, build...)
	// make and cc were last seen at 1020, when cc1 was born (a new child
	// refreshes its ancestors); at 2019 nothing is idle for 1000 ms yet.
	run(g, ev{t: 2019, pid: 300})
	if s := g.Stats(); s.Nodes != 3 || s.Evicted != 0 {
		t.Fatalf("stats = %+v, want nothing evicted yet", s)
	}
	run(g, ev{t: 2020, pid: 300})
	if s := g.Stats(); s.Nodes != 1 || s.Evicted != 2 {
		t.Fatalf("stats = %+v, want make and cc evicted", s)
	}
	if _, ok := g.Lookup(100); ok {
		t.Error("make still indexed")
	}
	// Time going backwards does not resurrect or evict anything.
	run(g, ev{t: 5, pid: 300})
	if s := g.Stats(); s.Nodes != 1 {
		t.Errorf("after an old timestamp: %+v", s)
	}
}

func TestMaxNodes(t *testing.T) {
	const max = 10
	g := New(Config{Host: "h1", MaxNodes: max})
	for i := 1; i <= 100; i++ {
		run(g, ev{t: int64(i), pid: 1000 + i, ppid: 1000 + i - 1, exe: "/bin/x"})
		// Keep the first one hot: it must survive.
		run(g, ev{t: int64(i), pid: 1001})
		if s := g.Stats(); s.Nodes > max {
			t.Fatalf("after %d: %d nodes indexed, cap %d", i, s.Nodes, max)
		}
	}
	s := g.Stats()
	if s.Nodes != max || s.Evicted != 100-max {
		t.Errorf("stats = %+v", s)
	}
	if _, ok := g.Lookup(1001); !ok {
		t.Error("the most recently seen node was evicted")
	}
	if _, ok := g.Lookup(1100); !ok {
		t.Error("the newest node was evicted")
	}
	if _, ok := g.Lookup(1050); ok {
		t.Error("an old idle node is still indexed")
	}
	// The newest still sees its chain through evicted nodes, capped.
	e := run(g, ev{t: 200, pid: 1100})
	if len(e.Ancestry) != MaxAncestry {
		t.Errorf("ancestry length %d", len(e.Ancestry))
	}
}

func TestFill(t *testing.T) {
	tests := []struct {
		name     string
		in       ev
		wantExe  string
		wantArgs []string
	}{
		{"no exe", ev{t: 2000, pid: 200}, "/usr/bin/cc", []string{"cc", "-c", "x.c"}},
		{"same exe, no args", ev{t: 2000, pid: 200, exe: "/usr/bin/cc"}, "/usr/bin/cc", []string{"cc", "-c", "x.c"}},
		{"own args kept", ev{t: 2000, pid: 200, exe: "/usr/bin/cc", args: []string{"x"}}, "/usr/bin/cc", []string{"x"}},
		{"other exe: args not paired with it", ev{t: 2000, pid: 200, exe: "/usr/bin/gcc-12"}, "/usr/bin/gcc-12", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(Config{Host: "h1"})
			run(g, build...)
			run(g, ev{t: 1500, pid: 200, cwd: "/src"})
			e := tt.in.event()
			e.Process.WorkingDirectory = ""
			g.Enrich(e)
			if e.Process.Executable != tt.wantExe || !reflect.DeepEqual(e.Process.Args, tt.wantArgs) {
				t.Errorf("exe %q args %q, want %q %q", e.Process.Executable, e.Process.Args, tt.wantExe, tt.wantArgs)
			}
			if e.Process.WorkingDirectory != "/src" {
				t.Errorf("cwd = %q, want /src", e.Process.WorkingDirectory)
			}
			if e.Process.PPID != 100 {
				t.Errorf("PPID = %d, want 100", e.Process.PPID)
			}
			if n, _ := g.Lookup(200); n.Executable != "/usr/bin/cc" {
				t.Errorf("a non-exec event changed the node's exe to %q", n.Executable)
			}
		})
	}
}

func TestFillFirstSighting(t *testing.T) {
	g := New(Config{Host: "h1"})
	e := &event.Event{TimeMsec: 1, Action: "connected-to", Process: event.Process{PID: 9, Executable: "/usr/sbin/nginx", WorkingDirectory: "/srv"}}
	g.Enrich(e)
	e = &event.Event{TimeMsec: 2, Action: "opened-file", Process: event.Process{PID: 9}}
	g.Enrich(e)
	if e.Process.Executable != "/usr/sbin/nginx" || e.Process.Args != nil || e.Process.WorkingDirectory != "/srv" {
		t.Errorf("filled %+v", e.Process)
	}
}

func TestExecHistory(t *testing.T) {
	g := New(Config{Host: "h1"})
	run(g, ev{t: 1, pid: 10, ppid: 1, kind: "exec", exe: "/bin/sh", args: []string{"sh", "-c", "x"}})
	for i := 0; i < 40; i++ {
		run(g, ev{t: int64(2 + i), pid: 10, kind: "exec", exe: fmt.Sprintf("/bin/p%d", i)})
	}
	run(g, ev{t: 100, pid: 10, kind: "execfail", exe: "/bin/denied"})
	n, _ := g.Lookup(10)
	if len(n.Execs) != maxExecs {
		t.Fatalf("%d execs kept, want %d", len(n.Execs), maxExecs)
	}
	if n.Execs[0].Executable != "/bin/sh" || n.Execs[maxExecs-1].Executable != "/bin/p39" || n.Executable != "/bin/p39" {
		t.Errorf("first %q last %q current %q", n.Execs[0].Executable, n.Execs[maxExecs-1].Executable, n.Executable)
	}
	for i := 1; i < maxExecs; i++ {
		if n.Execs[i].TimeMsec <= n.Execs[i-1].TimeMsec {
			t.Fatalf("exec history out of order: %+v", n.Execs)
		}
	}
}

func TestNoProcess(t *testing.T) {
	g := New(Config{Host: "h1"})
	e := &event.Event{TimeMsec: 1, Action: "lost"}
	g.Enrich(e)
	if e.Process.EntityID != "" || e.Parent != nil || e.Ancestry != nil || g.Stats().Created != 0 {
		t.Errorf("pid 0 event touched: %+v, %+v", e, g.Stats())
	}
}

// Handed-out ancestries are never rewritten, and are reused while the
// chain does not change.
func TestAncestrySharing(t *testing.T) {
	g := New(Config{Host: "h1"})
	first := run(g, build...)
	snapshot := summary(first.Ancestry)
	again := run(g, ev{t: 1100, pid: 300})
	if &again.Ancestry[0] != &first.Ancestry[0] {
		t.Error("unchanged chain was rebuilt")
	}
	run(g, ev{t: 1200, pid: 100, kind: "exec", exe: "/usr/bin/gmake"}, ev{t: 1201, pid: 100, uid: "0"})
	later := run(g, ev{t: 1300, pid: 300})
	if got := summary(first.Ancestry); got != snapshot {
		t.Errorf("old event's ancestry changed to %q", got)
	}
	if got := summary(later.Ancestry); got != "200:/usr/bin/cc 100:/usr/bin/gmake ?50" || later.Ancestry[1].UserID != "0" {
		t.Errorf("new ancestry %q %+v", got, later.Ancestry[1])
	}
	allocs := testing.AllocsPerRun(100, func() {
		e := event.Event{TimeMsec: 1400, Action: "connected-to", Process: event.Process{PID: 300, PPID: 200}}
		g.Enrich(&e)
	})
	if allocs != 0 {
		t.Errorf("steady-state Enrich allocates %v times", allocs)
	}
}

// A process that forks a child and exits, forever, must not pin an
// unbounded chain.
func TestRetention(t *testing.T) {
	g := New(Config{Host: "h1", ExitTTL: 1})
	var e *event.Event
	for i := 1; i <= 1000; i++ {
		pid := 1000 + i
		e = run(g, ev{t: int64(2 * i), pid: pid, ppid: pid - 1, exe: "/tmp/x"}, ev{t: int64(2*i + 1), pid: pid - 1, kind: "exit"})
	}
	if len(e.Ancestry) != MaxAncestry {
		t.Errorf("ancestry length %d, want %d", len(e.Ancestry), MaxAncestry)
	}
	hops := 0
	for n := g.index[2000]; n != nil && n.parent != nil; n = n.parent {
		hops++
	}
	if hops > retainDepth {
		t.Errorf("newest node pins %d ancestors, bound %d", hops, retainDepth)
	}
	if s := g.Stats(); s.Nodes > 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestEntityID(t *testing.T) {
	h := fnv.New64a()
	h.Write([]byte("web1\x0042\x001700000000123"))
	if got, want := entityID("web1", 42, 1700000000123, false), base64.RawURLEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, h.Sum64())); got != want || len(got) != 11 {
		t.Errorf("entityID = %s, want %s", got, want)
	}
	g1, g2, g3 := New(Config{Host: "a"}), New(Config{Host: "a"}), New(Config{Host: "b"})
	e1, e2, e3 := run(g1, build...), run(g2, build...), run(g3, build...)
	if e1.Process.EntityID != e2.Process.EntityID || e1.Ancestry[1].EntityID != e2.Ancestry[1].EntityID {
		t.Error("same input, different ids")
	}
	if e1.Process.EntityID == e3.Process.EntityID {
		t.Error("different hosts, same id")
	}
	// Reuse at the same msec (bad input) still gives a new id.
	g := New(Config{Host: "a"})
	run(g, ev{t: 5, pid: 9, ppid: 3})
	a, _ := g.Lookup(9)
	run(g, ev{t: 5, pid: 9, ppid: 4})
	b, _ := g.Lookup(9)
	if a.EntityID == b.EntityID {
		t.Error("two instances share an id")
	}
}

func TestSourceStartTime(t *testing.T) {
	g := New(Config{Host: "boot"})
	e := &event.Event{TimeMsec: 500, Process: event.Process{PID: 9, PPID: 3, StartMsec: 400}}
	g.Enrich(e)
	if e.Process.StartMsec != 400 || e.Process.EntityID != entityID("boot", 9, 400, false) {
		t.Errorf("start %d id %s", e.Process.StartMsec, e.Process.EntityID)
	}
	// Same ppid, different start time: a new instance.
	e = &event.Event{TimeMsec: 600, Process: event.Process{PID: 9, PPID: 3, StartMsec: 550}}
	g.Enrich(e)
	if e.Process.StartMsec != 550 || g.Stats().PIDReuse != 1 {
		t.Errorf("start %d, %+v", e.Process.StartMsec, g.Stats())
	}
}

// Cycles cannot be built through Enrich (see the A/B cases above); if one
// ever were, the walk must still end, without repeating a node.
func TestCycleGuard(t *testing.T) {
	g := New(Config{Host: "h1"})
	run(g, ev{t: 1, pid: 5, ppid: 6, exe: "/bin/a"}, ev{t: 1, pid: 6, ppid: 5, exe: "/bin/b"}, ev{t: 1, pid: 7, ppid: 5, exe: "/bin/c"})
	a, b := g.index[5], g.index[6]
	a.parent, b.parent = b, a // forced
	g.changed(a)
	done := make(chan []event.ProcRef)
	go func() { done <- g.ancestry(g.index[7]) }()
	select {
	case anc := <-done:
		if got := summary(anc); got != "5:/bin/a 6:/bin/b" {
			t.Errorf("ancestry = %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ancestry walk did not end on a cycle")
	}
}

// TestNewChildKeepsAncestorsIndexed: with a small MaxNodes, a quiet parent
// whose children keep appearing is not evicted, while idle leaves are.
func TestNewChildKeepsAncestorsIndexed(t *testing.T) {
	g := New(Config{Host: "h", MaxNodes: 8})
	ts := int64(1000)
	ev := func(pid, ppid int, exe string) *event.Event {
		ts++
		e := &event.Event{TimeMsec: ts, Action: "executed", Outcome: "success",
			Process: event.Process{PID: pid, PPID: ppid, Executable: exe, Args: []string{exe}}}
		g.Enrich(e)
		return e
	}
	ev(100, 1, "/usr/sbin/sshd")
	ev(200, 100, "/bin/bash")
	for i := 0; i < 50; i++ {
		e := ev(1000+i, 200, "/bin/true")
		if len(e.Ancestry) < 2 || e.Ancestry[1].Executable != "/usr/sbin/sshd" {
			t.Fatalf("child %d: ancestry %+v", i, e.Ancestry)
		}
	}
	if _, ok := g.Lookup(100); !ok {
		t.Error("sshd, the grandparent of every new process, was evicted")
	}
	if _, ok := g.Lookup(1000); ok {
		t.Error("the oldest idle leaf should have been evicted by MaxNodes")
	}
	if st := g.Stats(); st.Nodes > 8 {
		t.Errorf("index holds %d nodes, cap 8", st.Nodes)
	}
}

// TestSessionChangeIsNewInstance: pid 600 ran ls in a user's session; later
// pid 600 is a service started by init (ppid 1, no session). Not an orphan:
// a new process, with its own entity id and no borrowed ancestry.
func TestSessionChangeIsNewInstance(t *testing.T) {
	g := New(Config{Host: "h"})
	mk := func(ts int64, pid, ppid int, exe, ses string) *event.Event {
		e := &event.Event{TimeMsec: ts, Action: "executed", Outcome: "success", Audit: &event.Audit{Session: ses},
			Process: event.Process{PID: pid, PPID: ppid, Executable: exe, Args: []string{exe}}}
		g.Enrich(e)
		return e
	}
	mk(1000, 500, 400, "/bin/bash", "7")
	ls := mk(1001, 600, 500, "/bin/ls", "7")
	cron := mk(5000, 600, 1, "/usr/sbin/cron", "unset")
	if cron.Process.EntityID == ls.Process.EntityID {
		t.Fatal("cron took over ls's entity id")
	}
	for _, a := range cron.Ancestry {
		if a.Executable == "/bin/bash" {
			t.Fatalf("cron's ancestry borrowed ls's parent: %+v", cron.Ancestry)
		}
	}
	// A LOGIN moving a process from unset to a session keeps it.
	a := mk(6000, 700, 1, "/usr/sbin/sshd", "unset")
	b := mk(6001, 700, 1, "/usr/sbin/sshd", "9")
	if a.Process.EntityID != b.Process.EntityID {
		t.Error("setting the login session made a new process")
	}
}

// TestNodeArgsBounded: a huge argv is kept whole on its own exec event but
// bounded in the node, so descendants' ancestry does not repeat it.
func TestNodeArgsBounded(t *testing.T) {
	g := New(Config{Host: "h"})
	big := make([]string, 10000)
	for i := range big {
		big[i] = "arg"
	}
	e := &event.Event{TimeMsec: 1, Action: "executed", Outcome: "success",
		Process: event.Process{PID: 10, PPID: 1, Executable: "/bin/x", Args: big}}
	g.Enrich(e)
	if len(e.Process.Args) != 10000 {
		t.Fatalf("the exec event lost arguments: %d", len(e.Process.Args))
	}
	c := &event.Event{TimeMsec: 2, Action: "executed", Outcome: "success",
		Process: event.Process{PID: 11, PPID: 10, Executable: "/bin/y", Args: []string{"y"}}}
	g.Enrich(c)
	a := c.Ancestry[0].Args
	if len(a) != maxNodeArgs+1 || a[len(a)-1] != "[+9936 more]" {
		t.Errorf("ancestry args: %d, last %q", len(a), a[len(a)-1])
	}
	if got := boundArgs([]string{"a", "b"}); len(got) != 2 {
		t.Errorf("short argv changed: %q", got)
	}
	long := []string{"a", string(make([]byte, 5000)), "c"}
	if got := boundArgs(long); len(got) != 2 || got[1] != "[+2 more]" {
		t.Errorf("byte bound: %q", got)
	}
}

// TestOneExecTwoSources: the proc connector's exec (no args) and audit's
// (with args) within the clock skew are one exec in the history.
func TestOneExecTwoSources(t *testing.T) {
	g := New(Config{Host: "h", ClockSkew: 100})
	mk := func(ts int64, exe string, args []string, mod event.Module) {
		e := &event.Event{TimeMsec: ts, Action: "executed", Outcome: "success", Module: mod,
			Process: event.Process{PID: 50, PPID: 1, Executable: exe, Args: args}}
		g.Enrich(e)
	}
	mk(1000, "/usr/bin/curl", nil, "proc")
	mk(1003, "/usr/bin/curl", []string{"curl", "-s", "http://x"}, "auditd")
	n, _ := g.Lookup(50)
	if len(n.Execs) != 1 || len(n.Execs[0].Args) != 3 || n.Executable != "/usr/bin/curl" {
		t.Errorf("execs %+v", n.Execs)
	}
	mk(5000, "/usr/bin/sh", []string{"sh"}, "auditd") // a real second exec
	n, _ = g.Lookup(50)
	if len(n.Execs) != 2 {
		t.Errorf("a later exec was merged: %+v", n.Execs)
	}
}

// TestContainerInherited: a container id learnt from /proc for a process
// is carried by its events and inherited by the children it forks.
func TestContainerInherited(t *testing.T) {
	g := New(Config{Host: "h"})
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	seed := &event.Event{TimeMsec: 1, Action: "existing", ContainerID: id,
		Process: event.Process{PID: 70, PPID: 1, Executable: "/usr/sbin/nginx"}}
	g.Enrich(seed)
	child := &event.Event{TimeMsec: 2, Action: "executed", Outcome: "success",
		Process: event.Process{PID: 71, PPID: 70, Executable: "/bin/sh", Args: []string{"sh"}}}
	g.Enrich(child)
	if child.ContainerID != id {
		t.Errorf("child container %q", child.ContainerID)
	}
	later := &event.Event{TimeMsec: 3, Action: "connected-to", Process: event.Process{PID: 70}}
	g.Enrich(later)
	if later.ContainerID != id {
		t.Errorf("parent's later event container %q", later.ContainerID)
	}
	host := &event.Event{TimeMsec: 4, Action: "executed", Outcome: "success",
		Process: event.Process{PID: 80, PPID: 1, Executable: "/bin/ls", Args: []string{"ls"}}}
	g.Enrich(host)
	if host.ContainerID != "" {
		t.Errorf("host process got container %q", host.ContainerID)
	}
}

func TestNetNSInheritedAndSet(t *testing.T) {
	g := New(Config{Host: "h1"})
	p := ev{t: 1, pid: 10, ppid: 1, kind: "exec", exe: "/usr/sbin/sshd"}.event()
	p.Process.NetNS = 4026531840
	g.Enrich(p)
	c := ev{t: 2, pid: 11, ppid: 10, kind: "exec", exe: "/bin/sh"}.event()
	g.Enrich(c)
	if c.Process.NetNS != 4026531840 {
		t.Fatalf("child netns %d, want the parent's (fork keeps it)", c.Process.NetNS)
	}
	// The child enters another namespace: the source says so, and the
	// node keeps it for later events of that process.
	u := ev{t: 3, pid: 11}.event()
	u.Process.NetNS = 4026532999
	g.Enrich(u)
	later := ev{t: 4, pid: 11}.event()
	g.Enrich(later)
	if later.Process.NetNS != 4026532999 {
		t.Fatalf("netns after the change %d", later.Process.NetNS)
	}
	if n, _ := g.Lookup(10); n.NetNS != 4026531840 {
		t.Errorf("parent's netns changed with its child's: %d", n.NetNS)
	}
}

func TestLinkIPC(t *testing.T) {
	g := New(Config{Host: "h1"})
	g.Enrich(ev{t: 1, pid: 20, ppid: 1, kind: "exec", exe: "/usr/bin/server"}.event())
	g.Enrich(ev{t: 2, pid: 21, ppid: 1, kind: "exec", exe: "/usr/bin/client"}.event())
	if g.LinkIPC(21, 99, "unix", 3) {
		t.Fatal("an edge to an unknown process was recorded")
	}
	if !g.LinkIPC(21, 20, "unix", 3) || !g.LinkIPC(21, 20, "unix", 5) {
		t.Fatal("LinkIPC between known processes failed")
	}
	s, _ := g.Lookup(20)
	c, _ := g.Lookup(21)
	if len(s.Peers) != 1 || s.Peers[0].EntityID != c.EntityID || s.Peers[0].TimeMsec != 5 {
		t.Fatalf("server peers %+v: want one edge to the client, refreshed at 5", s.Peers)
	}
	if len(c.Peers) != 1 || c.Peers[0].PID != 20 || c.Peers[0].Transport != "unix" {
		t.Fatalf("client peers %+v", c.Peers)
	}
	for i := 0; i < maxPeers+5; i++ {
		pid := 100 + i
		g.Enrich(ev{t: int64(10 + i), pid: pid, ppid: 1, kind: "exec", exe: "/usr/bin/c"}.event())
		g.LinkIPC(pid, 20, "tcp", int64(10+i))
	}
	s, _ = g.Lookup(20)
	if len(s.Peers) != maxPeers || s.Peers[len(s.Peers)-1].PID != 100+maxPeers+4 {
		t.Fatalf("server keeps %d peers (last %+v), want the %d most recent", len(s.Peers), s.Peers[len(s.Peers)-1], maxPeers)
	}
}

// TestSecondExit: the live agent hears one exit twice (audit's exit_group,
// then the proc connector's, a few ms later): both name the same process
// instance. An exit later than the clock skew is another instance's.
func TestSecondExit(t *testing.T) {
	g := New(Config{Host: "h1", ClockSkew: 100})
	first := run(g, ev{t: 1000, pid: 100, ppid: 50, kind: "exec", exe: "/usr/bin/id"}, ev{t: 1200, pid: 100, kind: "exit"})
	second := run(g, ev{t: 1203, pid: 100, kind: "exit"})
	if second.Process.EntityID != first.Process.EntityID || second.Process.Executable != "/usr/bin/id" {
		t.Errorf("second exit: %s %q, want the first's %s /usr/bin/id", second.Process.EntityID, second.Process.Executable, first.Process.EntityID)
	}
	if s := g.Stats(); s.PIDReuse != 0 {
		t.Errorf("PIDReuse = %d, want 0", s.PIDReuse)
	}
	// The connector's fork, stamped by its clock after audit's exit:
	// the same instance too.
	fork := run(g, ev{t: 1210, pid: 100, ppid: 50})
	if fork.Process.EntityID != first.Process.EntityID {
		t.Errorf("a record 10 ms after the exit (skew 100) made a new instance")
	}
	late := run(g, ev{t: 1500, pid: 100, kind: "exit"})
	if late.Process.EntityID == first.Process.EntityID {
		t.Error("an exit 300 ms after the first (skew 100) was taken for the same instance")
	}
}

// TestLeaders: a child inherits its parent's session and process group at
// fork, takes the ones /proc shows at exec (a shell's job in a group of
// its own), and names the leaders by entity id while the graph has them.
func TestLeaders(t *testing.T) {
	g := New(Config{Host: "h"})
	ev := func(at int64, action event.Action, pid, ppid, sid, pgid int) *event.Event {
		return &event.Event{TimeMsec: at, Category: event.CategoryProcess, Action: action,
			Process: event.Process{PID: pid, PPID: ppid, SID: sid, PGID: pgid, StartMsec: at}}
	}
	shell := ev(1000, event.ActionExisting, 100, 1, 100, 100)
	g.Enrich(shell)
	child := ev(2000, event.ActionForked, 200, 100, 0, 0)
	g.Enrich(child)
	if p := child.Process; p.SID != 100 || p.PGID != 100 || p.SessionLeader != shell.Process.EntityID || p.GroupLeader != shell.Process.EntityID {
		t.Errorf("forked child: sid %d pgid %d leaders %q %q; want 100, 100 and the shell %q", p.SID, p.PGID, p.SessionLeader, p.GroupLeader, shell.Process.EntityID)
	}
	exec := ev(2001, event.ActionExecuted, 200, 100, 100, 200)
	exec.Process.StartMsec = 0
	g.Enrich(exec)
	if p := exec.Process; p.PGID != 200 || p.GroupLeader != child.Process.EntityID || p.SessionLeader != shell.Process.EntityID {
		t.Errorf("exec in its own group: pgid %d leaders %q %q", p.PGID, p.SessionLeader, p.GroupLeader)
	}
	later := ev(3000, event.ActionExited, 200, 100, 0, 0)
	later.Process.StartMsec = 0
	g.Enrich(later)
	if later.Process.PGID != 200 {
		t.Errorf("exit: pgid %d, want the one read at exec", later.Process.PGID)
	}
	// Unknown: no leader named.
	lone := ev(4000, event.ActionExecuted, 300, 1, 0, 0)
	g.Enrich(lone)
	if p := lone.Process; p.SID != 0 || p.SessionLeader != "" {
		t.Errorf("a process without a known session: %d %q", p.SID, p.SessionLeader)
	}
}
