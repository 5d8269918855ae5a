package detect

import (
	"strconv"
	"testing"

	"github.com/lineaged/lineaged/baseline"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
)

// benchEvents is a live-like mix: a shell running short programs, each an
// exec and an exit, with a file read now and then; enriched once through
// a graph, so each event comes with its process's node.
func benchEvents() ([]*event.Event, []graph.Proc) {
	w := newWorld(Config{})
	var evs []*event.Event
	var ps []graph.Proc
	sh := login.child(50, "/usr/bin/bash", "bash", "build.sh")
	for i := range 64 {
		p := sh.child(100+i, "/usr/bin/"+[]string{"true", "cc", "make", "grep"}[i%4], "x", "-c", strconv.Itoa(i))
		mk := func(action event.Action, mod func(*event.Event)) {
			w.introduce(p.up)
			e := w.event(p, action, mod)
			e.ID = "e" + strconv.Itoa(i)
			evs = append(evs, e)
			ps = append(ps, w.g.Enrich(e))
		}
		mk(event.ActionExecuted, nil)
		if i%8 == 0 {
			mk(event.ActionOpenedFile, func(e *event.Event) {
				e.File = &event.File{Path: "/etc/ld.so.cache", Operation: "read"}
			})
		}
		mk(event.ActionExited, nil)
	}
	return evs, ps
}

// benchObserve is Observe alone. The processes' nodes stay (the graph
// does not run), so their memory is made once: BenchmarkPipeline is the
// whole per-event cost.
func benchObserve(b *testing.B, cfg Config) {
	evs, ps := benchEvents()
	en := New(cfg)
	emit := func(*event.Event) {}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := evs[i%len(evs)]
		e.TimeMsec += 1000
		en.Observe(e, ps[i%len(evs)], emit)
	}
}

// BenchmarkObserveLearning: every event's keys observed (the first day).
func BenchmarkObserveLearning(b *testing.B) {
	benchObserve(b, Config{Baseline: baseline.New(), Learning: true})
}

// BenchmarkObserveDetecting: judged against a baseline that knows them.
func BenchmarkObserveDetecting(b *testing.B) {
	base := baseline.New()
	en := New(Config{Baseline: base, Learning: true})
	evs, ps := benchEvents()
	for i, e := range evs {
		en.Observe(e, ps[i], func(*event.Event) {})
	}
	benchObserve(b, Config{Baseline: base})
}

// pipelineStream is a shell running 4,096 short programs (exec, a file
// read for one in eight, exit), two a millisecond, as a source emits
// them: no entity ids, no ancestry.
func pipelineStream() []event.Event {
	var evs []event.Event
	add := func(t int64, pid, ppid int, action event.Action, exe string, args []string) *event.Event {
		evs = append(evs, event.Event{TimeMsec: t, Kind: event.KindEvent, Action: action, Outcome: event.OutcomeSuccess,
			Module: event.ModuleAudit, Host: "h", Category: event.CategoryProcess,
			Process: event.Process{PID: pid, PPID: ppid, Executable: exe, Args: args}, User: event.User{ID: "0"}})
		return &evs[len(evs)-1]
	}
	add(0, 1, 0, event.ActionExisting, "/usr/lib/systemd/systemd", []string{"/sbin/init"})
	add(0, 500, 1, event.ActionExisting, "/usr/sbin/sshd", []string{"sshd", "-D"})
	add(0, 600, 500, event.ActionExecuted, "/usr/bin/bash", []string{"-bash"})
	add(0, 650, 600, event.ActionExecuted, "/usr/bin/bash", []string{"bash", "build.sh"})
	exes := []string{"/usr/bin/true", "/usr/bin/cc", "/usr/bin/make", "/usr/bin/grep"}
	for i := range 4096 {
		t := int64(1 + i/2)
		pid := 1000 + i
		add(t, pid, 650, event.ActionExecuted, exes[i%4], []string{"x", "-c", strconv.Itoa(i)})
		if i%8 == 0 {
			r := add(t, pid, 650, event.ActionOpenedFile, exes[i%4], nil)
			r.Category = event.CategoryFile
			r.File = &event.File{Path: "/etc/ld.so.cache", Operation: "read"}
		}
		add(t, pid, 650, event.ActionExited, "", nil)
	}
	return evs
}

// BenchmarkPipeline is the per-event cost the agent pays for lineage and
// detection: Enrich, then Observe with the node Enrich returned, on the
// live graph's settings, detecting against an empty baseline (novelty
// alerts fold).
func BenchmarkPipeline(b *testing.B) {
	stream := pipelineStream()
	g := graph.New(graph.Config{Host: "h", ExitTTL: 10_000, MaxNodes: 65536, ClockSkew: 100})
	en := New(Config{Baseline: baseline.New()})
	emit := func(*event.Event) {}
	span := stream[len(stream)-1].TimeMsec + 1
	var e event.Event
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e = stream[i%len(stream)]
		round := i / len(stream)
		e.TimeMsec += int64(round) * span
		if e.Process.PID >= 1000 {
			e.Process.PID += (round % 7) * 4096 // pids move on, as the kernel's do
		}
		e.ID = "x"
		en.Observe(&e, g.Enrich(&e), emit)
	}
}
