package event

import "os"

// ErrClosed is what a source's ReadBatch returns once it is closed (the
// same value as os.ErrClosed and fanotify.ErrClosed).
var ErrClosed = os.ErrClosed

// Source is one kernel interface (or a recorded log) that emits events:
// audit, the proc connector, fanotify, sock_diag, or a replayed audit.log
// (SPEC §8). The agent owns the loop and one goroutine per source; a
// source starts no goroutine of its own.
//
// Two shapes, told apart by FD:
//   - FD() >= 0: a descriptor the agent's loop waits on with poll(2)
//     beside the others; ReadBatch then takes what is queued without
//     blocking (audit, the proc connector: the busy sources, read in one
//     thread so that a burst costs one wake-up per batch).
//   - FD() < 0: ReadBatch blocks until the source has something (a
//     fanotify read, the next sock_diag snapshot, the next lines of a
//     log); the agent runs it in a goroutine of its own and hands the
//     events over to the loop. Close unblocks it.
//
// Events passed to emit are valid only during the call: a source reuses
// them, and a consumer that keeps one clones it.
type Source interface {
	// Name is the source's name in health tables and metrics: audit,
	// proc, fanotify, sock_diag, or log for a replay.
	Name() string
	// FD is the descriptor to poll, or -1 (see above).
	FD() int
	// ReadBatch reads what the source has and hands each event to emit,
	// in order. An error it returns is one the caller logs and counts
	// (a lost datagram, an overrun reported as an event besides); the
	// source stays usable unless it is ErrClosed.
	ReadBatch(emit func(*Event)) error
	// Health says how the source runs now and what it has counted.
	Health() Health
	// Close releases the source. It is idempotent and unblocks a
	// ReadBatch that waits.
	Close() error
}

// Health is a source's state for the live view, lineaged status and the
// metrics: whether it runs, how (or why not), and its two figures.
type Health struct {
	Name   string `json:"name"`
	State  string `json:"state"`            // StateRunning, StateOff or StateDegraded
	Detail string `json:"detail,omitempty"` // how it runs (the audit mode) or why it is off
	Events uint64 `json:"events"`           // events emitted since start
	Lost   uint64 `json:"lost"`             // what the source knows it could not deliver
}

// Source states.
const (
	StateRunning  = "running"
	StateOff      = "off"
	StateDegraded = "degraded"
)
