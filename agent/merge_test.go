package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
)

// fakeStages records what the merge hands the pipeline.
type fakeStages struct {
	enriched []string // "module action pid"
	written  []*event.Event
}

func (f *fakeStages) Enrich(e *event.Event) graph.Proc {
	f.enriched = append(f.enriched, string(e.Module)+" "+string(e.Action)+" "+itoa(e.Process.PID))
	return graph.Proc{}
}

func (f *fakeStages) Write(e *event.Event, _ graph.Proc) { f.written = append(f.written, e.Clone()) }

// writes lists what was written as "module action pid exe".
func (f *fakeStages) writes() string {
	var s []string
	for _, e := range f.written {
		s = append(s, string(e.Module)+" "+string(e.Action)+" "+itoa(e.Process.PID)+" "+e.Process.Executable)
	}
	return strings.Join(s, "; ")
}

// fakeProc is /proc as the merge reads it.
type fakeProc struct {
	exe    map[int]string
	netns  map[int]uint64
	lookup int // NetNS calls
}

func (f *fakeProc) NetNS(pid int) uint64       { f.lookup++; return f.netns[pid] }
func (f *fakeProc) Leaders(pid int) (int, int) { return 0, 0 }
func (f *fakeProc) Exec(pid int) (string, []string) {
	if x, ok := f.exe[pid]; ok {
		return x, []string{x}
	}
	return "", nil
}

// clock is a fake wall clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestMerge(auditOn bool) (*execMerge, *fakeStages, *fakeProc, *clock) {
	st := &fakeStages{}
	fp := &fakeProc{exe: map[int]string{}, netns: map[int]uint64{}}
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	m := newExecMerge(st, fp, c.now)
	m.auditExecs = auditOn
	return m, st, fp, c
}

func auditExec(pid int, exe string) *event.Event {
	return &event.Event{Module: event.ModuleAudit, Category: event.CategoryProcess, Action: event.ActionExecuted, Outcome: event.OutcomeSuccess,
		Process: event.Process{PID: pid, Executable: exe, Args: []string{exe, "-x"}}}
}

func procEvent(pid int, action event.Action) *event.Event {
	return &event.Event{Module: event.ModuleProc, Category: event.CategoryProcess, Action: action, Outcome: event.OutcomeSuccess,
		Process: event.Process{PID: pid}}
}

// TestMergeConnectorFirst: the connector's exec waits; audit's twin comes
// within the window and is the one line, labelled with both sources.
func TestMergeConnectorFirst(t *testing.T) {
	m, st, fp, c := newTestMerge(true)
	fp.netns[42] = 7
	m.proc(procEvent(42, event.ActionExecuted))
	if len(st.written) != 0 || len(m.pending) != 1 {
		t.Fatalf("connector exec written at once (%s) or not held (%d)", st.writes(), len(m.pending))
	}
	c.advance(30 * time.Millisecond)
	m.audit(auditExec(42, "/usr/bin/id"))
	m.release(false)
	c.advance(time.Second)
	m.release(false)
	if got := st.writes(); got != "auditd executed 42 /usr/bin/id" {
		t.Fatalf("written %q", got)
	}
	if e := st.written[0]; !hasLabel(e, "sources", "auditd,proc") || m.merged != 1 {
		t.Errorf("merged exec labels %v, merged %d", e.Labels, m.merged)
	}
	// The namespace was read once, by the first source (the connector's
	// exec); the audit exec, whose twin was pending, did not read again.
	if fp.lookup != 1 {
		t.Errorf("netns read %d times, want 1", fp.lookup)
	}
	// Both went through the graph on arrival.
	if strings.Join(st.enriched, ",") != "proc executed 42,auditd executed 42" {
		t.Errorf("enriched %v", st.enriched)
	}
}

// TestMergeAuditFirst: audit's exec is written at once; the connector's,
// coming after (out of order), is dropped.
func TestMergeAuditFirst(t *testing.T) {
	m, st, _, c := newTestMerge(true)
	m.audit(auditExec(43, "/usr/bin/ls"))
	c.advance(5 * time.Millisecond)
	m.proc(procEvent(43, event.ActionExecuted))
	m.release(true)
	if got := st.writes(); got != "auditd executed 43 /usr/bin/ls" || m.merged != 1 {
		t.Fatalf("written %q, merged %d", got, m.merged)
	}
}

// TestMergeLateAudit: audit's exec comes after the window: the connector's
// was written with what /proc showed, and audit's, with its arguments, is
// written too (the one case of two lines: the first could not wait longer).
func TestMergeLateAudit(t *testing.T) {
	m, st, fp, c := newTestMerge(true)
	fp.exe[44] = "/usr/bin/sleep"
	m.proc(procEvent(44, event.ActionExecuted))
	c.advance(execMergeWindow + time.Millisecond)
	m.release(false)
	if got := st.writes(); got != "proc executed 44 /usr/bin/sleep" {
		t.Fatalf("after the window: %q", got)
	}
	m.audit(auditExec(44, "/usr/bin/sleep"))
	if len(st.written) != 2 || m.merged != 0 {
		t.Fatalf("late audit exec: %q, merged %d", st.writes(), m.merged)
	}
}

// TestMergeConnectorOnly: audit on but no twin (no exec rule, a lost
// record): written when the window ends, program from /proc, enriched
// again with it; a process already gone keeps an empty program.
func TestMergeConnectorOnly(t *testing.T) {
	m, st, fp, c := newTestMerge(true)
	fp.exe[45] = "/usr/sbin/cron"
	m.proc(procEvent(45, event.ActionExecuted))
	m.proc(procEvent(46, event.ActionExecuted)) // gone before the window ends
	if d := m.due(); !d.Equal(c.t.Add(execMergeWindow)) {
		t.Errorf("due %v, want the window's end", d)
	}
	c.advance(execMergeWindow)
	m.release(false)
	if len(st.written) != 0 {
		t.Fatalf("released at the window's end exactly: %q", st.writes())
	}
	c.advance(time.Millisecond)
	m.release(false)
	got := st.writes()
	if !strings.Contains(got, "proc executed 45 /usr/sbin/cron") || !strings.Contains(got, "proc executed 46 ") || len(st.written) != 2 {
		t.Fatalf("written %q", got)
	}
	if n := strings.Count(strings.Join(st.enriched, ","), "proc executed"); n != 4 {
		t.Errorf("each held exec enriched on arrival and again with /proc's program: %d, want 4", n)
	}
}

// TestMergeAuditOff: without audit the connector's exec is all there is:
// written at once, before the exit that follows it.
func TestMergeAuditOff(t *testing.T) {
	m, st, _, _ := newTestMerge(false)
	e := procEvent(47, event.ActionExecuted)
	e.Process.Executable = "/usr/bin/true" // the source read /proc
	m.proc(e)
	m.proc(procEvent(47, event.ActionExited))
	if got := st.writes(); got != "proc executed 47 /usr/bin/true; proc exited 47 " || len(m.pending) != 0 {
		t.Fatalf("written %q, %d held", got, len(m.pending))
	}
}

// TestMergePIDReuse: after an exec is merged, a new exec at the same pid
// (pid reuse, or the process execs again) is not taken for its twin.
func TestMergePIDReuse(t *testing.T) {
	m, st, _, c := newTestMerge(true)
	m.audit(auditExec(48, "/bin/a"))
	m.proc(procEvent(48, event.ActionExecuted)) // merged: the pair is done
	c.advance(100 * time.Millisecond)
	m.proc(procEvent(48, event.ActionExecuted)) // a second exec: waits for its own twin
	c.advance(10 * time.Millisecond)
	m.audit(auditExec(48, "/bin/b"))
	m.release(true)
	if got := st.writes(); got != "auditd executed 48 /bin/a; auditd executed 48 /bin/b" || m.merged != 2 {
		t.Fatalf("written %q, merged %d", got, m.merged)
	}
}

// TestMergeForksAndGone: forks feed the graph but are not written; a
// process whose exit is in the batch being handled is not looked up.
func TestMergeForksAndGone(t *testing.T) {
	m, st, fp, _ := newTestMerge(true)
	m.exiting = func(pid int) bool { return pid == 50 }
	m.proc(procEvent(49, event.ActionForked))
	m.audit(auditExec(50, "/bin/short"))
	if len(st.written) != 1 || m.forks != 1 || st.enriched[0] != "proc forked 49" {
		t.Fatalf("written %q, forks %d, enriched %v", st.writes(), m.forks, st.enriched)
	}
	if fp.lookup != 0 {
		t.Errorf("looked up the namespace of an exited process %d times", fp.lookup)
	}
}

// TestMergeSnapshotTrigger: a successful audited connect asks sock_diag
// for a snapshot; a failed one does not.
func TestMergeSnapshotTrigger(t *testing.T) {
	m, _, _, _ := newTestMerge(true)
	n := 0
	m.snapshot = func() { n++ }
	conn := &event.Event{Module: event.ModuleAudit, Category: event.CategoryNetwork, Action: event.ActionConnectedTo, Outcome: event.OutcomeSuccess, Process: event.Process{PID: 9}}
	m.audit(conn)
	conn.Outcome = event.OutcomeFailure
	m.audit(conn)
	if n != 1 {
		t.Errorf("snapshot asked %d times, want 1", n)
	}
}

func hasLabel(e *event.Event, k, v string) bool {
	for _, kv := range e.Labels {
		if kv.Key == k && kv.Value == v {
			return true
		}
	}
	return false
}

// TestMergeExitWaitsForExec: a short process's connector exit comes while
// its exec waits for audit's; the exit waits too and is written after the
// exec, with the executable audit gave, whether audit's twin comes or the
// wait runs out.
func TestMergeExitWaitsForExec(t *testing.T) {
	m, st, fp, c := newTestMerge(true)
	m.proc(procEvent(44, event.ActionExecuted))
	code := 0
	exit := procEvent(44, event.ActionExited)
	exit.Process.ExitCode = &code
	m.proc(exit)
	if len(st.written) != 0 || len(st.enriched) != 1 {
		t.Fatalf("the exit was written (%s) or enriched (%v) before its exec", st.writes(), st.enriched)
	}
	c.advance(30 * time.Millisecond)
	m.audit(auditExec(44, "/usr/bin/echo"))
	if got := st.writes(); got != "auditd executed 44 /usr/bin/echo; proc exited 44 " {
		t.Fatalf("written %q", got)
	}
	if strings.Join(st.enriched, ",") != "proc executed 44,auditd executed 44,proc exited 44" {
		t.Errorf("enriched %v", st.enriched)
	}

	// No twin: the exit follows the connector's exec when its wait ends.
	m, st, fp, c = newTestMerge(true)
	fp.exe[45] = "/usr/bin/true"
	m.proc(procEvent(45, event.ActionExecuted))
	m.proc(procEvent(45, event.ActionExited))
	c.advance(time.Second)
	m.release(false)
	if got := st.writes(); got != "proc executed 45 /usr/bin/true; proc exited 45 " {
		t.Fatalf("without a twin: written %q", got)
	}
}
