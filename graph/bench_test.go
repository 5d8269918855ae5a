package graph

import (
	"math/rand"
	"strconv"
	"testing"

	"github.com/lineaged/lineaged/event"
)

// workload simulates a busy host: a few hundred live processes in trees at
// most 8 deep (ancestry ~5 on average, as under systemd → sshd → bash); about 3% of events are fork+exec of a new process, 3%
// exits, the rest syscalls of live processes (connects, opens) that carry
// exe and ppid but no args, as audit SYSCALL records do. 100 events/msec.
func workload(n int) []event.Event {
	rng := rand.New(rand.NewSource(1))
	type proc struct{ pid, ppid, depth int }
	live := []proc{{pid: 1000, ppid: 1, depth: 1}}
	exes := []string{"/bin/bash", "/usr/bin/python3", "/usr/sbin/nginx", "/usr/bin/curl", "/usr/lib/jvm/bin/java"}
	nextPID := 1001
	evs := make([]event.Event, 0, n)
	for i := 0; i < n; i++ {
		t := int64(1700000000000 + i/100)
		r := rng.Intn(100)
		switch {
		case r < 3 || len(live) < 50:
			par := live[rng.Intn(len(live))]
			for try := 0; par.depth >= 8 && try < 4; try++ {
				par = live[rng.Intn(len(live))]
			}
			if par.depth >= 8 {
				par = live[0]
			}
			p := proc{pid: nextPID, ppid: par.pid, depth: par.depth + 1}
			nextPID++
			if nextPID > 32768 {
				nextPID = 1001
			}
			live = append(live, p)
			exe := exes[rng.Intn(len(exes))]
			evs = append(evs, event.Event{TimeMsec: t, Action: "executed", Outcome: "success",
				Process: event.Process{PID: p.pid, PPID: p.ppid, Executable: exe, Args: []string{exe, "-x", strconv.Itoa(i)}},
				User:    event.User{ID: "1000"}})
		case r < 6 && len(live) > 200:
			k := 1 + rng.Intn(len(live)-1)
			p := live[k]
			live[k] = live[len(live)-1]
			live = live[:len(live)-1]
			evs = append(evs, event.Event{TimeMsec: t, Action: "exited", Outcome: "success",
				Process: event.Process{PID: p.pid, PPID: p.ppid}})
		default:
			p := live[rng.Intn(len(live))]
			evs = append(evs, event.Event{TimeMsec: t, Action: "connected-to", Outcome: "success",
				Process: event.Process{PID: p.pid, PPID: p.ppid, Executable: "/usr/bin/curl"},
				User:    event.User{ID: "1000"}})
		}
	}
	return evs
}

func BenchmarkEnrich(b *testing.B) {
	evs := workload(200000)
	span := evs[len(evs)-1].TimeMsec - evs[0].TimeMsec + 1
	g := New(Config{Host: "bench"})
	var e event.Event
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e = evs[i%len(evs)]
		e.TimeMsec += int64(i/len(evs)) * span // replaying the stream again moves on in time
		g.Enrich(&e)
	}
	b.StopTimer()
	s := g.Stats()
	b.ReportMetric(float64(s.Nodes), "nodes")
}

// BenchmarkEnrichSteady is the hot path alone: a syscall event of a known
// process whose chain has not changed.
func BenchmarkEnrichSteady(b *testing.B) {
	g := New(Config{Host: "bench"})
	run(g, build...)
	tmpl := event.Event{TimeMsec: 2000, Action: "connected-to", Outcome: "success",
		Process: event.Process{PID: 300, PPID: 200, Executable: "/usr/libexec/gcc/cc1"}}
	var e event.Event
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e = tmpl
		g.Enrich(&e)
	}
}
