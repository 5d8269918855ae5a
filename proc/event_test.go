package proc

import (
	"reflect"
	"testing"
	"time"

	"github.com/lineaged/lineaged/event"
)

// fixClocks pins the boot offset so conversions are exact in tests.
func fixClocks(t *testing.T, c clockOffsets) {
	t.Helper()
	old := clocks
	clocks = func() clockOffsets { return c }
	t.Cleanup(func() { clocks = old })
}

// boot is the test host's boot instant: 2023-11-14T22:13:20Z.
const bootNS = 1_700_000_000_000_000_000

func TestToEvent(t *testing.T) {
	fixClocks(t, clockOffsets{monoToRealNS: bootNS, hz: 100})
	const ts = 5_123_456_789 // 5.12 s after boot
	const at = 1_700_000_005_123
	code := func(c int) *int { return &c }
	base := func(cat event.Category, typ event.Type, action event.Action, pid int) event.Event {
		return event.Event{Kind: event.KindEvent, Module: "proc", Outcome: "success", TimeMsec: at,
			Category: cat, Type: typ, Action: action, Process: event.Process{PID: pid}}
	}
	with := func(e event.Event, f func(*event.Event)) event.Event { f(&e); return e }
	kv := func(kv ...string) []event.KV {
		var out []event.KV
		for i := 0; i < len(kv); i += 2 {
			out = append(out, event.KV{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}

	tests := []struct {
		name string
		ev   Event
		want event.Event
	}{
		{
			name: "fork",
			ev:   Event{Kind: KindFork, PID: 200, TGID: 200, ParentPID: 101, ParentTGID: 100},
			want: with(base("process", "start", "forked", 200), func(e *event.Event) {
				e.Process.PPID = 100
				e.Process.StartMsec = 1_700_000_005_120 // truncated to the 10 ms tick
			}),
		},
		{
			name: "thread created",
			ev:   Event{Kind: KindFork, PID: 201, TGID: 200, ParentPID: 100, ParentTGID: 100},
			want: with(base("process", "info", "thread-started", 200), func(e *event.Event) {
				e.Process.PPID = 100
				e.Labels = kv("tid", "201")
			}),
		},
		{
			name: "exec",
			ev:   Event{Kind: KindExec, PID: 200, TGID: 200},
			want: base("process", "start", "executed", 200),
		},
		{
			name: "exit with code 3",
			ev:   Event{Kind: KindExit, PID: 200, TGID: 200, ExitStatus: 3 << 8, ExitSignal: 17, ParentPID: 100, ParentTGID: 100},
			want: with(base("process", "end", "exited", 200), func(e *event.Event) {
				e.Process.PPID = 100
				e.Process.ExitCode = code(3)
			}),
		},
		{
			name: "killed by SIGSEGV with a core, pre-4.18",
			ev:   Event{Kind: KindExit, PID: 200, TGID: 200, ExitStatus: 11 | 0x80, ExitSignal: 17},
			want: with(base("process", "end", "exited", 200), func(e *event.Event) {
				e.Process.ExitCode = code(139)
				e.Labels = kv("signal", "11", "core_dumped", "true")
			}),
		},
		{
			name: "thread exit",
			ev:   Event{Kind: KindExit, PID: 202, TGID: 200, ExitSignal: -1},
			want: with(base("process", "info", "thread-exited", 200), func(e *event.Event) {
				e.Labels = kv("tid", "202")
			}),
		},
		{
			name: "uid",
			ev:   Event{Kind: KindUID, PID: 200, TGID: 200, RealID: 1000, EffectiveID: 0},
			want: with(base("iam", "change", "changed-identity-of", 200), func(e *event.Event) {
				e.Target = &event.User{ID: "1000", EffectiveID: "0"}
			}),
		},
		{
			name: "gid from a thread",
			ev:   Event{Kind: KindGID, PID: 201, TGID: 200, RealID: 100, EffectiveID: 4294967295},
			want: with(base("iam", "change", "changed-identity-of", 200), func(e *event.Event) {
				e.Target = &event.User{GroupID: "100", EffGroupID: "unset"}
				e.Labels = kv("tid", "201")
			}),
		},
		{
			name: "sid",
			ev:   Event{Kind: KindSID, PID: 200, TGID: 200},
			want: base("session", "start", "started-session", 200),
		},
		{
			name: "ptrace attach",
			ev:   Event{Kind: KindPtrace, PID: 201, TGID: 200, TracerPID: 300, TracerTGID: 300},
			want: with(base("process", "access", "traced-process", 300), func(e *event.Event) {
				e.Labels = kv("target_pid", "200", "target_tid", "201")
			}),
		},
		{
			name: "ptrace detach",
			ev:   Event{Kind: KindPtrace, PID: 200, TGID: 200},
			want: base("process", "info", "detached-trace", 200),
		},
		{
			name: "comm",
			ev:   Event{Kind: KindComm, PID: 200, TGID: 200, Comm: "renamed"},
			want: with(base("process", "change", "renamed", 200), func(e *event.Event) { e.Process.Name = "renamed" }),
		},
		{
			name: "comm of a thread",
			ev:   Event{Kind: KindComm, PID: 203, TGID: 200, Comm: "worker"},
			want: with(base("process", "change", "renamed", 200), func(e *event.Event) {
				e.Labels = kv("tid", "203", "thread_name", "worker")
			}),
		},
		{
			name: "coredump",
			ev:   Event{Kind: KindCoredump, PID: 200, TGID: 200, ParentPID: 100, ParentTGID: 100},
			want: with(base("process", "info", "dumped-core", 200), func(e *event.Event) { e.Process.PPID = 100 }),
		},
		{
			name: "unknown",
			ev:   Event{Kind: KindUnknown, What: 0x400},
			want: with(base("process", "info", "unknown-proc-event", 0), func(e *event.Event) { e.Labels = kv("what", "0x400") }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ev.TimestampNS = ts
			// A reused event: stale fields must go, Labels' array is reused.
			got := event.Event{ID: "stale", Host: "h", Message: "m", Labels: make([]event.KV, 0, 4), Audit: &event.Audit{}}
			tt.ev.ToEvent(&got)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ToEvent\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestExitStatus(t *testing.T) {
	for _, tt := range []struct {
		status      uint32
		code, sig   int
		coreDumped  bool
		description string
	}{
		{0, 0, 0, false, "exit(0)"},
		{3 << 8, 3, 0, false, "exit(3)"},
		{255 << 8, 255, 0, false, "exit(-1)"},
		{9, 137, 9, false, "SIGKILL"},
		{6 | 0x80, 134, 6, true, "SIGABRT, core"},
	} {
		ev := Event{Kind: KindExit, ExitStatus: tt.status}
		if ev.ExitCode() != tt.code || ev.Signal() != tt.sig || ev.CoreDumped() != tt.coreDumped {
			t.Errorf("%s: code %d sig %d core %v", tt.description, ev.ExitCode(), ev.Signal(), ev.CoreDumped())
		}
	}
}

func TestEventTime(t *testing.T) {
	fixClocks(t, clockOffsets{monoToRealNS: bootNS, hz: 100})
	ev := Event{TimestampNS: 1_500_000_001}
	if got, want := ev.Time(), time.Unix(1_700_000_001, 500_000_001); !got.Equal(want) {
		t.Fatalf("Time = %v, want %v", got, want)
	}
}

// A fork seen by the connector and the same process found by a /proc walk
// get the same start time: both truncate to the clock tick.
func TestStartTimesAgree(t *testing.T) {
	fixClocks(t, clockOffsets{monoToRealNS: bootNS + 123_456, hz: 100})
	for _, ns := range []uint64{0, 9_999_999, 10_000_000, 4_123_456_789, 86_400_000_000_017} {
		ticks := ns / 10_000_000
		walk := clocks().bootMsec(ticksToMsec(ticks, 100))
		if fork := clocks().startMsec(ns); fork != walk {
			t.Errorf("%d ns: fork start %d, walk start %d", ns, fork, walk)
		}
	}
	// Suspended for 2 s: /proc's boottime ticks run ahead of the
	// connector's monotonic clock by that much, and bootMsec takes it off.
	fixClocks(t, clockOffsets{monoToRealNS: bootNS, sleptMsec: 2000, hz: 100})
	if fork, walk := clocks().startMsec(5_000_000_000), clocks().bootMsec(ticksToMsec(700, 100)); fork != walk {
		t.Errorf("after suspend: fork start %d, walk start %d", fork, walk)
	}
}

func TestFloorDiv(t *testing.T) {
	for _, tt := range [][3]int64{{7, 2, 3}, {-7, 2, -4}, {-8, 2, -4}, {0, 5, 0}} {
		if got := floorDiv(tt[0], tt[1]); got != tt[2] {
			t.Errorf("floorDiv(%d, %d) = %d, want %d", tt[0], tt[1], got, tt[2])
		}
	}
}
