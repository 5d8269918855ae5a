//go:build linux

package audit

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/event"
)

// SourceConfig configures the live audit source.
type SourceConfig struct {
	Live LiveConfig
	// Host is host.name of the events.
	Host string
	// RecordLog, when set, gets every record as read (the native audit.log).
	RecordLog RecordLog
	Log       zerolog.Logger
}

// Source is the live audit source (event.Source): NETLINK_AUDIT in the
// configured mode, its records reassembled and normalised into events,
// and what was lost turned into events of its own: the kernel's lost
// counter (backlog full or rate limit) and serials that never arrived.
// The agent's loop polls FD and calls ReadBatch and Tick from one
// goroutine.
type Source struct {
	live  *Live
	rec   *Records
	batch *Batch
	log   zerolog.Logger

	recvErrs      uint64 // datagrams that could not be read or parsed
	kernelLost    uint64 // the kernel's lost counter since start
	lastLost      uint64
	lostInit      bool
	lastGaps      uint64
	lastLossCheck time.Time
	lossEvents    []event.Event // built by Tick, emitted in order
}

// readBatchSize is how many datagrams one recvmmsg takes; drainBatches
// bounds one ReadBatch, so a storm cannot starve the other sources.
const (
	readBatchSize = 64
	drainBatches  = 1024
	// lossCheckEvery is how often the kernel's lost counter is read (and
	// the state file touched, so a run after a crash knows when the gap
	// began).
	lossCheckEvery = 5 * time.Second
)

// OpenSource opens audit in cfg.Live's mode (own mode saves the kernel's
// audit state, Close restores it).
func OpenSource(cfg SourceConfig) (*Source, error) {
	live, err := OpenLive(cfg.Live)
	if err != nil {
		return nil, err
	}
	s := &Source{live: live, rec: NewRecords(cfg.Host, cfg.RecordLog), log: cfg.Log}
	if live.Mode() != ModeOff {
		s.batch = NewBatch(readBatchSize)
		// The kernel's lost counter before we start: only what is lost
		// from here on is ours to report.
		if st, err := ReadStatus(); err == nil {
			s.lastLost, s.lostInit = uint64(st.Lost), true
		}
	}
	for _, n := range live.Notes {
		s.log.Info().Msg(n)
	}
	return s, nil
}

// Name is "audit".
func (s *Source) Name() string { return "audit" }

// FD is the audit socket, or -1 when audit is off.
func (s *Source) FD() int {
	if s.live.Mode() == ModeOff {
		return -1
	}
	return s.live.PollFD()
}

// Mode is the mode in force (auto resolved).
func (s *Source) Mode() Mode { return s.live.Mode() }

// Rules lists the audit rules the kernel has now, as auditctl -l prints them.
func (s *Source) Rules() ([]string, error) { return s.live.Rules() }

// Reload puts rs in force in own mode (Live.Reload); other modes change
// no rules.
func (s *Source) Reload(rs *RuleSet) error {
	if s.live.Mode() != ModeOwn {
		return nil
	}
	return s.live.Reload(rs)
}

// Start emits what the source knows before its first read: the gap left
// by an earlier run that owned audit and was killed, and the records the
// multicast probe read.
func (s *Source) Start(emit func(*event.Event)) {
	if tk := s.live.Takeover; tk != nil {
		e := takeoverEvent(tk, time.Now())
		emit(&e)
	}
	now := time.Now().UnixMilli()
	for _, raw := range s.live.Pending() {
		s.rec.Feed(raw.Type, raw.Data, now, emit)
	}
}

// ReadBatch reads every queued datagram, a batch at a time (at most
// drainBatches), and emits the events they complete.
func (s *Source) ReadBatch(emit func(*event.Event)) error {
	if s.batch == nil {
		return nil
	}
	var first error
	for range drainBatches {
		err := s.live.ReadBatch(s.batch, false)
		if err != nil {
			if errors.Is(err, event.ErrClosed) {
				return err
			}
			s.recvErrs++
			if first == nil {
				first = err
			}
		}
		now := time.Now().UnixMilli()
		b := s.batch
		for i := 0; i < b.Len(); i++ {
			typ, payload, rerr := b.Raw(i)
			switch {
			case rerr == nil:
				s.rec.Feed(typ, payload, now, emit)
			case !errors.Is(rerr, ErrNotRecord): // a reply or ack is not a loss
				s.recvErrs++
				if first == nil {
					first = rerr
				}
			}
		}
		if err != nil || !b.Full() {
			break
		}
	}
	if err := s.rec.TakeError(); err != nil && first == nil {
		first = err
	}
	return first
}

// Tick completes events whose wait is over, flushes the native log, and
// every lossCheckEvery turns new losses into events.
func (s *Source) Tick(now time.Time, emit func(*event.Event)) {
	if s.batch == nil {
		return
	}
	s.rec.Maintain(now.UnixMilli(), emit)
	if now.Sub(s.lastLossCheck) < lossCheckEvery {
		return
	}
	s.lastLossCheck = now
	s.live.Touch()
	if st, err := ReadStatus(); err == nil {
		lost := uint64(st.Lost)
		if s.lostInit && lost > s.lastLost {
			n := lost - s.lastLost
			s.kernelLost += n
			e := lossEvent(now, event.ActionAuditRecordsLost, n,
				fmt.Sprintf("the kernel dropped %d audit records (backlog %d/%d): raise the backlog limit or lower the rule volume", n, st.Backlog, st.BacklogLimit))
			emit(&e)
		}
		s.lastLost, s.lostInit = lost, true
	}
	if gaps := s.rec.SequenceGaps(); gaps > s.lastGaps {
		e := lossEvent(now, event.ActionAuditSequenceGap, gaps-s.lastGaps,
			fmt.Sprintf("%d audit serials never reached lineaged", gaps-s.lastGaps))
		s.lastGaps = gaps
		emit(&e)
	}
}

// Flush completes every event in flight (at exit).
func (s *Source) Flush(emit func(*event.Event)) { s.rec.Flush(emit) }

// SourceStats are the audit source's counters.
type SourceStats struct {
	KernelLost    uint64 // the kernel's lost counter since start
	SequenceGaps  uint64 // serials that never arrived
	ReceiveErrs   uint64 // datagrams that could not be read or parsed
	RecordLogErrs uint64 // records or flushes the native audit.log refused
	InFlight      int    // events being reassembled
}

// Stats returns the counters.
func (s *Source) Stats() SourceStats {
	return SourceStats{KernelLost: s.kernelLost, SequenceGaps: s.rec.SequenceGaps(),
		ReceiveErrs: s.recvErrs + s.rec.parseErrs, RecordLogErrs: s.rec.recordLogErr, InFlight: s.rec.InFlight()}
}

// Health says how audit runs: its mode, or why it is off.
func (s *Source) Health() event.Health {
	h := event.Health{Name: "audit", State: event.StateRunning, Detail: "mode " + string(s.live.Mode()), Events: s.rec.events}
	st := s.Stats()
	h.Lost = st.KernelLost + st.SequenceGaps + st.ReceiveErrs
	if s.live.Mode() == ModeOff {
		h.State, h.Detail = event.StateOff, "audit.mode off"
		for _, n := range s.live.Notes {
			h.Detail = n // why auto chose off
		}
	}
	return h
}

// Close restores the audit state in own mode.
func (s *Source) Close() error { return s.live.Close() }

func lossEvent(now time.Time, action event.Action, n uint64, msg string) event.Event {
	return event.Event{
		TimeMsec: now.UnixMilli(),
		Category: event.CategoryHost, Type: event.TypeInfo, Action: action, Outcome: event.OutcomeFailure,
		Module: event.ModuleLineaged, Message: msg,
		Labels: []event.KV{{Key: "count", Value: strconv.FormatUint(n, 10)}},
	}
}

// takeoverEvent reports an earlier run that owned audit and ended without
// restoring it: the gap in collection, and that its saved state (not its
// rules, found loaded) is what this run restores.
func takeoverEvent(tk *Takeover, now time.Time) event.Event {
	from := tk.LastAlive
	if from.IsZero() {
		from = tk.Started
	}
	gap := now.Sub(from).Round(time.Millisecond)
	lost := uint32(0)
	if tk.LostNow > tk.LostThen {
		lost = tk.LostNow - tk.LostThen
	}
	return event.Event{
		TimeMsec: now.UnixMilli(),
		Category: event.CategoryHost, Type: event.TypeInfo, Action: event.ActionAuditTakeover, Outcome: event.OutcomeFailure,
		Module: event.ModuleLineaged,
		Message: fmt.Sprintf("lineaged pid %d (started %s) ended without restoring audit (killed or crashed); last alive %s: audit records from then until this start, %s, were not collected; the kernel counted %d lost records since it started. Its saved audit state will be restored at exit.",
			tk.PID, tk.Started.Format(time.RFC3339), from.UTC().Format(time.RFC3339Nano), gap, lost),
		Labels: []event.KV{
			{Key: "previous_pid", Value: strconv.Itoa(tk.PID)},
			{Key: "gap_start", Value: from.UTC().Format(time.RFC3339Nano)},
			{Key: "gap_ms", Value: strconv.FormatInt(gap.Milliseconds(), 10)},
			{Key: "lost", Value: strconv.FormatUint(uint64(lost), 10)},
		},
	}
}
