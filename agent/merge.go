package agent

import (
	"time"

	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
)

// execMergeWindow is how long a connector exec waits for its audit twin
// (audit records are complete a few ms after the syscall returns; a
// batch window and a reorder wait come on top).
const execMergeWindow = 500 * time.Millisecond

// stages is what the merge needs of the pipeline.
type stages interface {
	Enrich(e *event.Event) graph.Proc
	Write(e *event.Event, p graph.Proc)
}

// procReader is what the merge reads of /proc (proc.FS).
type procReader interface {
	// NetNS is pid's network namespace inode, 0 when gone.
	NetNS(pid int) uint64
	// Leaders is pid's session and process group, zeros when gone.
	Leaders(pid int) (sid, pgid int)
	// Exec is pid's executable and arguments now.
	Exec(pid int) (exe string, args []string)
}

// execMerge makes one event of an exec that audit and the proc connector
// both report (SPEC §5: one fact, one event). Audit's has the arguments,
// the working directory and the ids; the connector's has none of them but
// is never lost to a missing rule. So the connector's exec waits up to
// execMergeWindow for audit's and is dropped when it comes (the written
// exec is labelled sources=auditd,proc); an audit exec that comes first
// is written at once and suppresses the connector's when it follows. A
// connector exec whose twin never comes (no exec rule, a lost record,
// audit off) is written when its wait is over, with what /proc still
// shows of the program.
//
// It also reads each exec's network namespace once, by whichever source
// reports it first: `ip netns exec`, unshare and container runtimes enter
// a namespace just before they exec.
//
// Both sources' events go through the graph on arrival, so it learns the
// exec at once, whichever event is written. Time is the wall clock (now):
// the windows are about delivery, not about the events' own stamps.
type execMerge struct {
	p   stages
	fs  procReader
	now func() time.Time
	// exiting reports a process whose exit is in the connector batch
	// being handled: no /proc lookup for it (nil: none known).
	exiting func(pid int) bool
	// snapshot, when set, is called for every successful audited
	// connect, bind, listen or accept (sock_diag then looks soon).
	snapshot func()
	// auditExecs is set when audit reports execs: the connector's exec
	// then waits for audit's instead of being written at once.
	auditExecs bool

	pending map[int]*heldExec // connector execs waiting, by pid
	recent  map[int]time.Time // audit execs written, by pid
	merged  uint64            // execs seen by both and written once
	forks   uint64            // connector forks (fed to the graph, not written)
}

// heldExec is a connector exec waiting for audit's view of it, and the
// connector's exit of the same process when it came meanwhile (a short
// process: fork, exec and exit in a millisecond, before audit's records
// are through reassembly). The exit waits too, and goes through the graph
// only once the exec has, so that its line names the executable (SPEC §5:
// an exit is written once, with the executable and the code).
type heldExec struct {
	e    *event.Event
	proc graph.Proc
	due  time.Time
	exit *event.Event
}

func newExecMerge(p stages, fs procReader, now func() time.Time) *execMerge {
	return &execMerge{p: p, fs: fs, now: now, pending: map[int]*heldExec{}, recent: map[int]time.Time{}}
}

func isExec(e *event.Event) bool {
	return e.Action == event.ActionExecuted && e.Outcome == event.OutcomeSuccess && e.Process.PID > 0
}

func (m *execMerge) gone(pid int) bool { return m.exiting != nil && m.exiting(pid) }

// audit handles an event from audit.
func (m *execMerge) audit(e *event.Event) {
	exec := isExec(e)
	pid := e.Process.PID
	if exec {
		if _, twin := m.pending[pid]; !twin && !m.gone(pid) {
			e.Process.NetNS = m.fs.NetNS(pid) // the connector's twin has not come yet
			e.Process.SID, e.Process.PGID = m.fs.Leaders(pid)
		}
	}
	proc := m.p.Enrich(e)
	if m.snapshot != nil && e.Category == event.CategoryNetwork && e.Outcome == event.OutcomeSuccess {
		switch e.Action {
		case event.ActionConnectedTo, event.ActionBoundSocket, event.ActionListenForConnections, event.ActionAcceptedConnectionFrom:
			m.snapshot()
		}
	}
	var held *heldExec
	if exec {
		if h, ok := m.pending[pid]; ok {
			held = h
			delete(m.pending, pid)
			e.Labels = append(e.Labels, event.KV{Key: "sources", Value: "auditd,proc"})
			m.merged++
		} else {
			m.recent[pid] = m.now()
		}
	}
	m.p.Write(e, proc)
	if held != nil {
		m.releaseExit(held)
	}
}

// releaseExit hands over the exit held with an exec, once the exec is.
func (m *execMerge) releaseExit(h *heldExec) {
	if x := h.exit; x != nil {
		h.exit = nil
		m.p.Write(x, m.p.Enrich(x))
	}
}

// proc handles an event from the proc connector. Forks feed the graph
// (every exec's parent comes from one) but are not written: each exec
// would otherwise cost two lines.
func (m *execMerge) proc(e *event.Event) {
	pid := e.Process.PID
	exec := e.Action == event.ActionExecuted
	if exec {
		if _, twin := m.recent[pid]; !twin && !m.gone(pid) {
			e.Process.NetNS = m.fs.NetNS(pid)
			e.Process.SID, e.Process.PGID = m.fs.Leaders(pid)
		}
	}
	if h, ok := m.pending[pid]; ok && e.Action == event.ActionExited && h.exit == nil {
		h.exit = e.Clone() // after the exec it ends
		return
	}
	proc := m.p.Enrich(e)
	switch {
	case e.Action == event.ActionForked:
		m.forks++
		return
	case !exec:
		m.p.Write(e, proc)
		return
	}
	if t, ok := m.recent[pid]; ok && m.now().Sub(t) <= 2*execMergeWindow {
		delete(m.recent, pid) // audit's event, written already, had it all
		m.merged++
		return
	}
	if !m.auditExecs {
		m.p.Write(e, proc) // no twin will come: the source read /proc already
		return
	}
	m.pending[pid] = &heldExec{e: e.Clone(), proc: proc, due: m.now().Add(execMergeWindow)}
}

// release writes the connector execs whose audit twin did not come in
// time (all of them at the end) and forgets old audit execs.
func (m *execMerge) release(all bool) {
	now := m.now()
	for pid, h := range m.pending {
		if !all && !now.After(h.due) {
			continue
		}
		delete(m.pending, pid)
		if h.e.Process.Executable == "" {
			// No audit twin came (no exec rule, or a lost record): what
			// /proc still shows, else the graph's view.
			h.e.Process.Executable, h.e.Process.Args = m.fs.Exec(pid)
			h.proc = m.p.Enrich(h.e)
		}
		m.p.Write(h.e, h.proc)
		m.releaseExit(h)
	}
	for pid, t := range m.recent {
		if now.Sub(t) > 2*execMergeWindow {
			delete(m.recent, pid)
		}
	}
}

// due is when the next held exec must be released (zero when none).
func (m *execMerge) due() time.Time {
	var d time.Time
	for _, h := range m.pending {
		if d.IsZero() || h.due.Before(d) {
			d = h.due
		}
	}
	return d
}
