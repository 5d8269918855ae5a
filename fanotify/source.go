package fanotify

import (
	"strconv"
	"sync/atomic"

	"github.com/lineaged/lineaged/event"
)

// Source is an open Watcher as an event.Source. Its ReadBatch blocks in
// the watcher's poll until events arrive or Close (FD is -1): the agent
// reads it from a goroutine of its own and hands the events to its loop.
type Source struct {
	w      *Watcher
	buf    []byte
	out    []event.Event
	events atomic.Uint64 // Health is read by the loop while ReadBatch runs
}

// NewSource wraps an open watcher; Close closes it.
func NewSource(w *Watcher) *Source {
	return &Source{w: w, buf: make([]byte, 64<<10)}
}

// Name is "fanotify".
func (s *Source) Name() string { return "fanotify" }

// FD is -1: ReadBatch blocks.
func (s *Source) FD() int { return -1 }

// ReadBatch waits for file events and emits them (a queue overflow as an
// event of its own). After Close it returns ErrClosed.
func (s *Source) ReadBatch(emit func(*event.Event)) error {
	fes, err := s.w.Read(s.buf)
	s.out = s.out[:0]
	for _, fe := range fes {
		s.out = AppendEvents(s.out, fe)
	}
	for i := range s.out {
		emit(&s.out[i])
	}
	s.events.Add(uint64(len(s.out)))
	return err
}

// Watcher is the open watcher (its marks, notes and capabilities).
func (s *Source) Watcher() *Watcher { return s.w }

// Health says how many paths are watched and how often the queue overflowed.
func (s *Source) Health() event.Health {
	st := s.w.Stats()
	return event.Health{Name: "fanotify", State: event.StateRunning,
		Detail: strconv.Itoa(len(s.w.Marks())) + " marks", Events: s.events.Load(), Lost: st.Overflows}
}

// Close removes every mark and unblocks ReadBatch.
func (s *Source) Close() error { return s.w.Close() }
