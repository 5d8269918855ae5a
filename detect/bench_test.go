package detect

import (
	"strconv"
	"testing"

	"github.com/lineaged/lineaged/baseline"
	"github.com/lineaged/lineaged/event"
)

// benchEvents is a live-like mix: a shell running short programs, each an
// exec and an exit, with a file read now and then.
func benchEvents() []*event.Event {
	var evs []*event.Event
	sh := login.child(50, "/usr/bin/bash", "bash", "build.sh")
	for i := range 64 {
		p := sh.child(100+i, "/usr/bin/"+[]string{"true", "cc", "make", "grep"}[i%4], "x", "-c", strconv.Itoa(i))
		ref := p.ref()
		mk := func(action event.Action) *event.Event {
			return &event.Event{ID: "e" + strconv.Itoa(i), TimeMsec: int64(i) * 10, Kind: event.KindEvent, Action: action, Outcome: "success",
				Module: "auditd", Host: "h", Process: event.Process{EntityID: ref.EntityID, PID: p.pid, Executable: p.exe, Args: p.args},
				User: event.User{ID: "0"}, Ancestry: p.anc, Parent: &p.anc[0]}
		}
		evs = append(evs, mk("executed"))
		if i%8 == 0 {
			r := mk("opened-file")
			r.File = &event.File{Path: "/etc/ld.so.cache", Operation: "read"}
			evs = append(evs, r)
		}
		evs = append(evs, mk("exited"))
	}
	return evs
}

func benchObserve(b *testing.B, cfg Config) {
	evs := benchEvents()
	en := New(cfg)
	emit := func(*event.Event) {}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := evs[i%len(evs)]
		e.TimeMsec += 1000
		en.Observe(e, emit)
	}
}

// BenchmarkObserveLearning: every event's keys observed (the first day).
func BenchmarkObserveLearning(b *testing.B) {
	benchObserve(b, Config{Baseline: baseline.New(), Learning: true})
}

// BenchmarkObserveDetecting: judged against a baseline that knows them.
func BenchmarkObserveDetecting(b *testing.B) {
	base := baseline.New()
	New(Config{Baseline: base, Learning: true}).Observe(&event.Event{}, func(*event.Event) {})
	en := New(Config{Baseline: base, Learning: true})
	for _, e := range benchEvents() {
		en.Observe(e, func(*event.Event) {})
	}
	benchObserve(b, Config{Baseline: base})
}
