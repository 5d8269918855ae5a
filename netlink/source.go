package netlink

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lineaged/lineaged/event"
)

// Tracker turns successive snapshots of every namespace into events: the
// sockets that opened, changed state or closed since the previous
// snapshot (Diff), and each IPC edge (both ends of a loopback TCP or UNIX
// connection owned by known processes) once, when it first appears. A
// namespace that disappears reports its sockets closed. It keeps the
// previous snapshot per namespace and the edges seen; not safe for
// concurrent use.
type Tracker struct {
	prev  map[uint64]*Snapshot
	edges map[edgeKey]bool
}

type edgeKey struct{ ns, client, server uint64 }

// NewTracker returns a tracker with no previous snapshot: the first
// Update reports edges but no socket changes (everything is "already
// there").
func NewTracker() *Tracker {
	return &Tracker{prev: map[uint64]*Snapshot{}, edges: map[edgeKey]bool{}}
}

// Update compares snaps (one per namespace, taken together) with the
// previous ones and appends the events to dst.
func (t *Tracker) Update(snaps []*Snapshot, dst []event.Event) []event.Event {
	seen := make(map[uint64]bool, len(snaps))
	nowEdges := make(map[edgeKey]bool, len(t.edges))
	for _, s := range snaps {
		for _, ed := range s.Edges() {
			k := edgeKey{ed.NetNS, ed.Client.Inode, ed.Server.Inode}
			nowEdges[k] = true
			if t.edges[k] || ed.Client.PID <= 0 || ed.Server.PID <= 0 {
				continue
			}
			dst = append(dst, event.Event{
				TimeMsec: s.Time.UnixMilli(), Module: event.ModuleSockDiag,
				Category: event.CategoryNetwork, Type: event.TypeConnection, Action: event.ActionIpcConnected, Outcome: event.OutcomeSuccess,
				Process: event.Process{PID: ed.Client.PID},
				Network: &event.Network{Transport: ed.Transport, NetNS: ed.NetNS},
				Labels:  []event.KV{{Key: "peer_pid", Value: strconv.Itoa(ed.Server.PID)}},
			})
		}
		seen[s.NetNS] = true
		if p, ok := t.prev[s.NetNS]; ok {
			for _, c := range Diff(p, s) {
				dst = append(dst, c.Event())
			}
		}
		t.prev[s.NetNS] = s
	}
	t.edges = nowEdges
	for ino, p := range t.prev {
		if !seen[ino] {
			for _, c := range Diff(p, nil) {
				dst = append(dst, c.Event())
			}
			delete(t.prev, ino)
		}
	}
	return dst
}

// SourceConfig configures the sock_diag source.
type SourceConfig struct {
	// Every is the snapshot period (> 0).
	Every time.Duration
	// Delay is how long after a Trigger the snapshot is taken, so that
	// the socket has reached its state (default 100 ms); MinGap is the
	// least time between the end of one snapshot and a triggered one
	// (default DefaultMinScanInterval, the owner index's own bound, so
	// the snapshot may walk /proc and a new socket gets its owner).
	Delay, MinGap time.Duration
}

// Source snapshots every network namespace's sockets every Every and
// soon after each Trigger (an audited connect, bind, listen or accept),
// as an event.Source whose ReadBatch blocks until the next snapshot is
// due (FD is -1: the agent runs it in a goroutine of its own).
type Source struct {
	cfg     SourceConfig
	col     *Collector
	tracker *Tracker
	trigger chan struct{}
	closed  chan struct{}
	once    sync.Once
	ticker  *time.Ticker
	started bool
	last    time.Time
	out     []event.Event
	events  atomic.Uint64
	errs    atomic.Uint64
	lastErr atomic.Value // string
}

// NewSource returns a sock_diag source with its own collector and owner
// index.
func NewSource(cfg SourceConfig) *Source {
	if cfg.Delay <= 0 {
		cfg.Delay = 100 * time.Millisecond
	}
	if cfg.MinGap <= 0 {
		cfg.MinGap = DefaultMinScanInterval
	}
	return &Source{cfg: cfg, col: &Collector{Owners: &OwnerIndex{}}, tracker: NewTracker(),
		trigger: make(chan struct{}, 1), closed: make(chan struct{}), ticker: time.NewTicker(cfg.Every)}
}

// Name is "sock_diag".
func (s *Source) Name() string { return "sock_diag" }

// FD is -1: ReadBatch blocks.
func (s *Source) FD() int { return -1 }

// Trigger asks for a snapshot soon; any number of triggers before it is
// taken make one (a connect storm must not become a /proc storm). Safe
// from any goroutine; never blocks.
func (s *Source) Trigger() {
	select {
	case s.trigger <- struct{}{}:
	default: // one is pending already
	}
}

// ReadBatch takes a snapshot (the first at once, then each when due) and
// emits what changed. It returns event.ErrClosed after Close.
func (s *Source) ReadBatch(emit func(*event.Event)) error {
	if !s.started {
		s.started = true
	} else if err := s.wait(); err != nil {
		return err
	}
	snaps, err := s.col.SnapshotAll()
	// Measured from the end: the owner walk inside began before, so the
	// next snapshot, MinGap on, is allowed its walk.
	s.last = time.Now()
	s.out = s.tracker.Update(snaps, s.out[:0])
	for i := range s.out {
		emit(&s.out[i])
	}
	s.events.Add(uint64(len(s.out)))
	if err != nil && len(snaps) == 0 {
		s.errs.Add(1)
		s.lastErr.Store(err.Error())
		return err
	}
	return nil
}

// wait blocks until the next snapshot is due.
func (s *Source) wait() error {
	select {
	case <-s.ticker.C:
		return nil
	case <-s.trigger:
		d := max(s.cfg.Delay, s.cfg.MinGap-time.Since(s.last))
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-s.closed:
			return event.ErrClosed
		}
	case <-s.closed:
		return event.ErrClosed
	}
}

// Health says how often snapshots are taken and whether the last failed.
func (s *Source) Health() event.Health {
	h := event.Health{Name: "sock_diag", State: event.StateRunning,
		Detail: "snapshot every " + s.cfg.Every.String() + " and on socket syscalls", Events: s.events.Load(), Lost: s.errs.Load()}
	if e, ok := s.lastErr.Load().(string); ok && e != "" {
		h.Detail += "; last error: " + e
	}
	return h
}

// Close unblocks ReadBatch; later calls return event.ErrClosed.
func (s *Source) Close() error {
	s.once.Do(func() {
		close(s.closed)
		s.ticker.Stop()
	})
	return nil
}
