//go:build linux

package proc

import (
	"errors"
	"time"

	"github.com/lineaged/lineaged/event"
)

// SourceConfig configures the proc connector source.
type SourceConfig struct {
	// FS is /proc, read for the exec's program when ReadExec is set and
	// to repair the graph after an overrun.
	FS FS
	// ReadExec fills an exec's executable and arguments from /proc as
	// soon as the connector reports it: set when audit is off, since the
	// connector carries neither (a process that short-lived may be gone
	// before the read).
	ReadExec bool
}

// Source is the proc connector as an event.Source: every fork, exec and
// exit (thread events dropped, except what a thread does to the process:
// ptrace, a core dump), polled by the agent's loop. After an overrun
// (ENOBUFS: the kernel dropped events, how many is unknown) it emits a
// proc-overrun event and every running process from /proc, so the graph
// is repaired.
//
// The agent reads the connector before the other sources of a batch and
// hands its events over after them (Prefetch, then ReadBatch): audit's
// execs, which carry the arguments, then come before the connector's
// exits of the same processes, and Exiting tells which processes of the
// batch are gone already, so nobody looks them up in /proc in vain.
type Source struct {
	conn     *Conn
	fs       FS
	readExec bool

	buf        []Event
	prefetched bool
	prefErr    error
	gone       map[int]struct{}
	ev         event.Event

	events, overruns, recvErrs uint64
}

// OpenSource dials the proc connector.
func OpenSource(cfg SourceConfig) (*Source, error) {
	c, err := Dial(nil)
	if err != nil {
		return nil, err
	}
	return &Source{conn: c, fs: cfg.FS, readExec: cfg.ReadExec, buf: make([]Event, 0, 256), gone: map[int]struct{}{}}, nil
}

// SetReadExec sets SourceConfig.ReadExec once the agent knows whether
// audit reports execs (it opens the connector first; see the agent's
// Run). Call it before the first read.
func (s *Source) SetReadExec(on bool) { s.readExec = on }

// Name is "proc".
func (s *Source) Name() string { return "proc" }

// FD is the connector socket.
func (s *Source) FD() int { return s.conn.PollFD() }

// Prefetch reads the queued connector events and holds them for the next
// ReadBatch.
func (s *Source) Prefetch() {
	s.buf, s.prefErr = s.conn.ReceiveBatch(s.buf[:0], false)
	s.prefetched = true
	for i := range s.buf {
		if pe := &s.buf[i]; pe.Kind == KindExit && !pe.IsThread() {
			s.gone[pe.TGID] = struct{}{}
		}
	}
}

// Exiting reports whether pid's exit is among the prefetched events.
func (s *Source) Exiting(pid int) bool {
	_, ok := s.gone[pid]
	return ok
}

// ReadBatch emits the prefetched events (or reads them now).
func (s *Source) ReadBatch(emit func(*event.Event)) error {
	err := s.prefErr
	if !s.prefetched {
		s.buf, err = s.conn.ReceiveBatch(s.buf[:0], false)
	}
	s.prefetched, s.prefErr = false, nil
	for i := range s.buf {
		s.handle(&s.buf[i], emit)
	}
	clear(s.gone)
	switch {
	case errors.Is(err, ErrOverrun):
		s.overruns++
		e := event.Event{
			TimeMsec: time.Now().UnixMilli(),
			Category: event.CategoryHost, Type: event.TypeInfo, Action: event.ActionProcOverrun, Outcome: event.OutcomeFailure,
			Module: event.ModuleLineaged, Message: "proc connector queue overrun: events lost, graph repaired from /proc",
		}
		emit(&e)
		if serr := s.fs.Seed(emit); serr != nil {
			return serr
		}
		return nil
	case err != nil:
		s.recvErrs++
	}
	return err
}

func (s *Source) handle(pe *Event, emit func(*event.Event)) {
	switch pe.Kind {
	case KindFork, KindExec, KindExit, KindComm, KindUID, KindGID:
		if pe.IsThread() {
			return // a thread's, not the process's
		}
	}
	e := &s.ev
	pe.ToEvent(e)
	if pe.Kind == KindExec && s.readExec {
		e.Process.Executable, e.Process.Args = s.fs.Exec(e.Process.PID)
	}
	s.events++
	emit(e)
}

// SourceStats are the connector's counters.
type SourceStats struct {
	Overruns    uint64 // ENOBUFS: events lost, graph repaired from /proc
	ReceiveErrs uint64 // other receive errors
}

// Stats returns the counters.
func (s *Source) Stats() SourceStats {
	return SourceStats{Overruns: s.overruns, ReceiveErrs: s.recvErrs}
}

// Health says the connector runs and what it lost.
func (s *Source) Health() event.Health {
	return event.Health{Name: "proc", State: event.StateRunning, Detail: "exec, fork, exit",
		Events: s.events, Lost: s.overruns + s.recvErrs}
}

// Close closes the socket.
func (s *Source) Close() error { return s.conn.Close() }
