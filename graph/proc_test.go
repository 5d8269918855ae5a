package graph

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/lineaged/lineaged/event"
)

// enrich runs v through g and returns the event and its Proc.
func enrich(g *Graph, v ev) (*event.Event, Proc) {
	e := v.event()
	return e, g.Enrich(e)
}

// TestProcHandle: Enrich returns the event's node; Parent walks the same
// chain the event's ancestry shows.
func TestProcHandle(t *testing.T) {
	g := New(Config{Host: "h1"})
	run(g, build[:2]...)
	e, p := enrich(g, build[2])
	if !p.Valid() || p.Graph() != g || p.EntityID() != e.Process.EntityID || p.PID() != 300 ||
		p.Executable() != "/usr/libexec/gcc/cc1" || strings.Join(p.Args(), " ") != "cc1 x.c" || p.Exited() {
		t.Fatalf("proc %+v for event %+v", p.Node(), e.Process)
	}
	i := 0
	for q := p.Parent(); q.Valid(); q = q.Parent() {
		if i >= len(e.Ancestry) || e.Ancestry[i].EntityID != q.EntityID() || e.Ancestry[i].PID != q.PID() {
			t.Fatalf("Parent step %d is %s (pid %d); ancestry %s", i, q.EntityID(), q.PID(), summary(e.Ancestry))
		}
		i++
	}
	// make's parent (pid 50) was never seen: the chain ends in an unknown
	// entry that has no node.
	if i != 2 || len(e.Ancestry) != 3 || !e.Ancestry[2].Unknown {
		t.Errorf("walked %d parents; ancestry %s", i, summary(e.Ancestry))
	}
	if x, ok := p.LastExec(); !ok || x.TimeMsec != 1020 || x.Executable != "/usr/libexec/gcc/cc1" {
		t.Errorf("LastExec %+v %v", x, ok)
	}
	if got := p.Ancestry(); summary(got) != summary(e.Ancestry) {
		t.Errorf("Ancestry() %s, want %s", summary(got), summary(e.Ancestry))
	}

	var zero Proc
	if p := g.Enrich(&event.Event{TimeMsec: 5}); p.Valid() {
		t.Error("an event without a process got a Proc")
	}
	if zero.Valid() || zero.Parent().Valid() || zero.EntityID() != "" || zero.Graph() != nil || zero.Ancestry() != nil {
		t.Error("the zero Proc must read as no process")
	}
	if _, ok := zero.LastExec(); ok {
		t.Error("zero Proc has an exec")
	}
}

func TestFindAndProcOf(t *testing.T) {
	g := New(Config{Host: "h1"})
	e, p := enrich(g, ev{t: 10, pid: 7, ppid: 1, kind: "exec", exe: "/bin/a"})
	if f := g.Find(7); f != p {
		t.Errorf("Find(7) = %s, want %s", f.EntityID(), p.EntityID())
	}
	if f := g.Find(8); f.Valid() {
		t.Error("Find of an unknown pid")
	}
	if f := g.ProcOf(e); f != p {
		t.Error("ProcOf the enriched event")
	}
	// The pid reused: the old event's node is no longer the indexed one.
	run(g, ev{t: 20, pid: 7, kind: "exit"}, ev{t: 30, pid: 7, ppid: 1, kind: "exec", exe: "/bin/b"})
	if f := g.ProcOf(e); f.Valid() {
		t.Errorf("ProcOf an event of a replaced instance gave %s", f.EntityID())
	}
	if f := g.Find(7); f.Executable() != "/bin/b" || f == p {
		t.Errorf("Find after reuse: %+v", f.Node())
	}
	// The old handle still describes the old instance.
	if p.Executable() != "/bin/a" || !p.Exited() {
		t.Errorf("old handle: %+v", p.Node())
	}
	if f := g.ProcOf(&event.Event{Process: event.Process{PID: 7}}); f.Valid() {
		t.Error("ProcOf an event without an entity id")
	}
}

func TestSlots(t *testing.T) {
	g1, g2 := New(Config{Host: "h1"}), New(Config{Host: "h2"})
	a, b, c := NewSlot(), NewSlot(), NewSlot()
	_, p := enrich(g1, ev{t: 1, pid: 5, kind: "exec", exe: "/bin/x"})
	_, q := enrich(g2, ev{t: 1, pid: 5, kind: "exec", exe: "/bin/x"})
	if p.Get(a) != nil {
		t.Fatal("a new node holds a value")
	}
	p.Set(a, "a1")
	p.Set(b, 2)
	p.Set(c, 3.0)
	q.Set(b, "q")
	if p.Get(a) != "a1" || p.Get(b) != 2 || p.Get(c) != 3.0 || q.Get(b) != "q" || q.Get(a) != nil {
		t.Fatalf("values %v %v %v / %v %v", p.Get(a), p.Get(b), p.Get(c), q.Get(b), q.Get(a))
	}
	p.Set(b, 22)
	p.Set(a, nil)
	if p.Get(a) != nil || p.Get(b) != 22 || p.Get(c) != 3.0 {
		t.Fatalf("after updates: %v %v %v", p.Get(a), p.Get(b), p.Get(c))
	}
	// A later event of the process reaches the same node and value.
	if _, p2 := enrich(g1, ev{t: 2, pid: 5}); p2.Get(b) != 22 {
		t.Error("value lost between events")
	}
	var zs Slot
	p.Set(zs, "x")
	if p.Get(zs) != nil {
		t.Error("the zero slot held a value")
	}
	Proc{}.Set(a, "x") // no process: nothing, no panic
	// The inline slot costs no allocation.
	d := NewSlot()
	_, r := enrich(g1, ev{t: 3, pid: 6, kind: "exec", exe: "/bin/y"})
	v := any(&struct{}{})
	if n := testing.AllocsPerRun(100, func() { r.Set(d, v); _ = r.Get(d) }); n != 0 {
		t.Errorf("Set+Get: %.0f allocs", n)
	}
}

// TestOnEvict: every way a node leaves the index calls the callbacks, once
// the lock is released (a callback may use the graph).
func TestOnEvict(t *testing.T) {
	g := New(Config{Host: "h1", ExitTTL: 100, MaxNodes: 3})
	var gone []string
	g.OnEvict(func(p Proc) {
		s := p.Executable()
		if p.Exited() {
			s += "(exited " + strconv.Itoa(*p.Node().ExitCode) + ")"
		}
		gone = append(gone, s)
		g.Snapshot(10) // would deadlock under the lock
		g.Stats()
	})
	code := 3
	x := ev{t: 10, pid: 10, ppid: 1, kind: "exec", exe: "/bin/short"}.event()
	g.Enrich(x)
	exit := ev{t: 20, pid: 10, kind: "exit"}.event()
	exit.Process.ExitCode = &code
	g.Enrich(exit)
	run(g, ev{t: 50, pid: 11, ppid: 1, kind: "exec", exe: "/bin/a"})
	if len(gone) != 0 {
		t.Fatalf("evicted early: %v", gone)
	}
	run(g, ev{t: 120, pid: 12, ppid: 1, kind: "exec", exe: "/bin/b"}) // ExitTTL
	if strings.Join(gone, ",") != "/bin/short(exited 3)" {
		t.Fatalf("after ExitTTL: %v", gone)
	}
	run(g, ev{t: 130, pid: 13, ppid: 1, kind: "exec", exe: "/bin/c"},
		ev{t: 140, pid: 14, ppid: 1, kind: "exec", exe: "/bin/d"}) // MaxNodes: a goes
	if strings.Join(gone, ",") != "/bin/short(exited 3),/bin/a" {
		t.Fatalf("after MaxNodes: %v", gone)
	}
	run(g, ev{t: 150, pid: 14, ppid: 99, kind: "exec", exe: "/bin/e"}) // pid reuse
	if strings.Join(gone, ",") != "/bin/short(exited 3),/bin/a,/bin/d" {
		t.Fatalf("after pid reuse: %v", gone)
	}
}

func TestExitCode(t *testing.T) {
	g := New(Config{Host: "h1", ClockSkew: 100})
	run(g, ev{t: 10, pid: 10, ppid: 1, kind: "exec", exe: "/bin/false"}, ev{t: 20, pid: 10, kind: "exit"})
	if n, _ := g.Lookup(10); !n.Exited || n.ExitCode != nil {
		t.Fatalf("an exit without a code: %+v", n)
	}
	// The other source's report of the exit carries the code.
	code := 1
	e := ev{t: 22, pid: 10, kind: "exit"}.event()
	e.Process.ExitCode = &code
	g.Enrich(e)
	n, _ := g.Lookup(10)
	if n.ExitCode == nil || *n.ExitCode != 1 || n.ExitMsec != 20 {
		t.Fatalf("exit %+v", n)
	}
	code = 7 // the event's memory is the caller's
	if s := g.Snapshot(10); len(s) != 1 || s[0].ExitCode == nil || *s[0].ExitCode != 1 {
		t.Fatalf("snapshot %+v", s)
	}
}

// TestStartWithinSkew: /proc and the connector stamp one process's start a
// tick apart; within the clock skew it is the same instance.
func TestStartWithinSkew(t *testing.T) {
	g := New(Config{Host: "boot", ClockSkew: 100})
	a := &event.Event{TimeMsec: 500, Process: event.Process{PID: 9, PPID: 3, StartMsec: 400}}
	g.Enrich(a)
	b := &event.Event{TimeMsec: 600, Process: event.Process{PID: 9, PPID: 3, StartMsec: 410}}
	g.Enrich(b)
	if b.Process.EntityID != a.Process.EntityID || b.Process.StartMsec != 400 || g.Stats().PIDReuse != 0 {
		t.Errorf("a start 10 ms off (skew 100) made a new instance: %+v", g.Stats())
	}
	c := &event.Event{TimeMsec: 700, Process: event.Process{PID: 9, PPID: 3, StartMsec: 650}}
	g.Enrich(c)
	if c.Process.EntityID == a.Process.EntityID || g.Stats().PIDReuse != 1 {
		t.Errorf("a start 250 ms off (skew 100) was taken for the same instance")
	}
}

func TestSnapshot(t *testing.T) {
	g := New(Config{Host: "h1"})
	if len(g.Snapshot(10)) != 0 || g.Snapshot(0) != nil {
		t.Fatal("an empty graph lists processes")
	}
	// init → 10 mids in a chain → 100 leaves under the bottom one.
	run(g, ev{t: 1, pid: 1, kind: "exec", exe: "/sbin/init"})
	ppid := 1
	for i := range 10 {
		run(g, ev{t: int64(10 + i), pid: 10 + i, ppid: ppid, kind: "exec", exe: "/bin/sh"})
		ppid = 10 + i
	}
	for i := range 100 {
		run(g, ev{t: int64(100 + i), pid: 1000 + i, ppid: 19, kind: "exec", exe: "/bin/true", args: []string{"true", strconv.Itoa(i)}})
	}
	s := g.Snapshot(5)
	ids := map[string]Node{}
	for i, n := range s {
		ids[n.EntityID] = n
		if i > 0 && s[i-1].StartMsec > n.StartMsec {
			t.Errorf("not in start order at %d", i)
		}
	}
	for i := 95; i < 100; i++ {
		if _, ok := ids[entityID("h1", 1000+i, int64(100+i), false)]; !ok {
			t.Errorf("leaf %d (among the 5 newest) missing", i)
		}
	}
	if len(s) != 5+11 {
		t.Errorf("%d nodes, want 5 leaves + 11 ancestors", len(s))
	}
	for _, n := range s {
		if _, ok := ids[n.ParentEntityID]; n.ParentEntityID != "" && !ok {
			t.Errorf("%d: parent %s not listed: the tree is cut", n.PID, n.ParentEntityID)
		}
		if n.Execs != nil || n.Peers != nil {
			t.Errorf("%d: a snapshot carries execs or peers", n.PID)
		}
	}
	if top := ids[entityID("h1", 19, 19, false)]; top.Children != 100 || top.PPID != 18 {
		t.Errorf("bottom sh: %+v", top)
	}
	if all := g.Snapshot(1000); len(all) != 111 {
		t.Errorf("a limit above the count lists %d, want all 111", len(all))
	}
	// Plain data: a JSON round trip keeps it.
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back []Node
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, s) {
		t.Errorf("JSON round trip: %v\n%s", err, b)
	}
	if !strings.Contains(string(b), `"entity_id":`) || !strings.Contains(string(b), `"parent_entity_id":`) {
		t.Errorf("JSON names: %s", b)
	}
}

// TestSnapshotAncestorsEvicted: an ancestor no longer indexed (its exit
// expired) but linked from a living child is still listed.
func TestSnapshotAncestorsEvicted(t *testing.T) {
	g := New(Config{Host: "h1", ExitTTL: 100})
	run(g, ev{t: 1, pid: 5, ppid: 1, kind: "exec", exe: "/bin/parent"},
		ev{t: 2, pid: 6, ppid: 5, kind: "exec", exe: "/bin/child"},
		ev{t: 3, pid: 5, kind: "exit"},
		ev{t: 500, pid: 6})
	if _, ok := g.Lookup(5); ok {
		t.Fatal("the parent's exit did not expire")
	}
	s := g.Snapshot(10)
	if len(s) != 2 || s[0].Executable != "/bin/parent" || !s[0].Exited || s[1].ParentEntityID != s[0].EntityID {
		t.Errorf("%+v", s)
	}
}

func TestSnapshotArgs(t *testing.T) {
	g := New(Config{Host: "h1"})
	short := []string{"ls", "-l"}
	many := make([]string, 40)
	for i := range many {
		many[i] = "a" + strconv.Itoa(i)
	}
	run(g, ev{t: 1, pid: 5, kind: "exec", exe: "/bin/ls", args: short},
		ev{t: 2, pid: 6, kind: "exec", exe: "/bin/x", args: many})
	s := g.Snapshot(10)
	if &s[0].Args[0] != &short[0] {
		t.Error("args within the bounds were copied, not shared")
	}
	if got := s[1].Args; len(got) != SnapshotMaxArgs || got[SnapshotMaxArgs-1] != "a15…" {
		t.Errorf("40 args: %q", got)
	}
	n, _ := g.Lookup(6)
	if len(n.Args) != 40 {
		t.Errorf("the node lost args to the snapshot's cap: %d", len(n.Args))
	}
}

func TestCapArgs(t *testing.T) {
	const maxArgs, maxBytes = SnapshotMaxArgs, SnapshotMaxArgBytes
	if CapArgs(nil, maxArgs, maxBytes) != nil {
		t.Error("nil args")
	}
	many := make([]string, 40)
	for i := range many {
		many[i] = "a" + strconv.Itoa(i)
	}
	got := CapArgs(many, maxArgs, maxBytes)
	if len(got) != maxArgs || got[maxArgs-1] != "a15"+snapshotCut || got[0] != "a0" {
		t.Errorf("40 args: %q", got)
	}
	long := []string{"cmd", strings.Repeat("é", 400), "tail"}
	got = CapArgs(long, maxArgs, maxBytes)
	total := 0
	for _, a := range got {
		total += len(a)
		if !utf8.ValidString(a) {
			t.Errorf("cut inside a character: %q", a)
		}
	}
	if len(got) != 2 || total > maxBytes+len(snapshotCut) || !strings.HasSuffix(got[1], snapshotCut) {
		t.Errorf("long args: %d args, %d bytes", len(got), total)
	}
	exact := []string{"x", "y"}
	if got := CapArgs(exact, maxArgs, maxBytes); strings.Join(got, ",") != "x,y" || &got[0] == &exact[0] {
		t.Errorf("short args changed or not copied: %q", got)
	}
	first := []string{strings.Repeat("z", 2000)}
	if got := CapArgs(first, maxArgs, maxBytes); len(got) != 1 || len(got[0]) != maxBytes+len(snapshotCut) {
		t.Errorf("one huge arg: %d bytes", len(got[0]))
	}
}

// TestSnapshotConcurrent is for -race: snapshots, Lookup and Stats from
// other goroutines while Enrich runs, evicting and replacing nodes.
func TestSnapshotConcurrent(t *testing.T) {
	g := New(Config{Host: "h1", ExitTTL: 50, MaxNodes: 500})
	slot := NewSlot()
	evicted := 0
	g.OnEvict(func(p Proc) {
		evicted++
		_ = p.Node()
	})
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := range 20000 {
			t0 := int64(i)
			_, p := enrich(g, ev{t: t0, pid: 100 + i%3000, ppid: 1, kind: "exec", exe: "/bin/sh", args: []string{"sh", strconv.Itoa(i)}})
			p.Set(slot, i)
			if p.Parent().Valid() {
				p.Parent().Get(slot)
			}
			if i%2 == 0 {
				code := i % 4
				e := ev{t: t0, pid: 100 + i%3000, kind: "exit"}.event()
				e.Process.ExitCode = &code
				g.Enrich(e)
			}
		}
	}()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				for _, n := range g.Snapshot(200) {
					_ = n.Args
				}
				g.Lookup(150)
				g.Stats()
			}
		}()
	}
	wg.Wait()
	if evicted == 0 {
		t.Error("nothing evicted")
	}
}

// BenchmarkSnapshot: what a live view's poll costs the graph at its live
// bound's scale, limit 2000 of 20,000 nodes.
func BenchmarkSnapshot(b *testing.B) {
	g := New(Config{Host: "bench", MaxNodes: 65536})
	run(g, ev{t: 1, pid: 1, kind: "exec", exe: "/sbin/init"})
	for i := range 20000 {
		ppid := 1 // the first hundred under init, the rest under them
		if i >= 100 {
			ppid = 100 + i%100
		}
		run(g, ev{t: int64(10 + i), pid: 100 + i, ppid: ppid, kind: "exec", exe: "/bin/sh", args: []string{"sh", "-c", strconv.Itoa(i)}})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(g.Snapshot(2000)) < 2000 {
			b.Fatal("short snapshot")
		}
	}
}
