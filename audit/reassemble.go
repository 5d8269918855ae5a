package audit

// Reassembly of multi-record events.
//
// The kernel writes one event as several records that share a serial
// (SYSCALL, EXECVE, CWD, PATH..., PROCTITLE, then EOE on netlink). Records
// of concurrent events interleave, and netlink may deliver them out of
// order. auditd does not write EOE to audit.log, so a log reader must also
// decide completion by other signs: PROCTITLE is the last record the kernel
// emits for a syscall event (audit_log_exit, kernel/auditsc.c, since 3.16;
// EL7 backports it), and user-space and daemon messages (types 1100-1299,
// 2100+) are single records. Everything else completes when the in-flight
// window overflows (lowest serial first) or when it is older than the
// timeout. The clock is the caller's: log time in replay, wall time live.
//
// Loss is detected by gaps between consecutive emitted serials, as
// go-libaudit does; unlike it, a record that arrives after its serial was
// already emitted is delivered as a late partial event and counted, not
// turned into a huge negative gap.

// Group is one reassembled event: the records of one serial in arrival
// order. It and its records are valid only during the callback.
type Group struct {
	Serial  uint32
	Records []*Record
	// Late is set when the records arrived after their serial had already
	// been emitted (a partial event).
	Late bool
}

// ReassemblerStats are counters of the reassembler.
type ReassemblerStats struct {
	Events       uint64 // groups emitted
	Records      uint64 // records pushed (EOE included)
	Lost         uint64 // serials missing between emitted events (sequence gaps)
	Late         uint64 // records that arrived after their event was emitted
	Resets       uint64 // serial sequences restarted (reboot, log files out of order)
	Expired      uint64 // events completed by timeout
	Overflowed   uint64 // events completed because the window was full
	MaxInFlight  int    // the highest number of events held at once
	CompletedEOE uint64 // events completed by an explicit sign (EOE, PROCTITLE, single-record type)
}

// Reassembler groups records by serial. It is not safe for concurrent use:
// one goroutine pushes and maintains (go-libaudit's design, without its
// mutex: the pipeline owns the reassembler).
type Reassembler struct {
	maxInFlight int
	timeout     int64 // msec
	emit        func(*Group)

	inflight []*pending // sorted by serial (serial arithmetic)
	free     []*pending
	pool     *RecordPool

	last     uint32
	haveLast bool
	stats    ReassemblerStats
	group    Group
	late     []*Record // the one-record group of a late arrival
	reorder  int64     // msec a complete event waits for a lower serial (SetReorder)
}

type pending struct {
	serial   uint32
	records  []*Record
	complete bool
	first    int64 // clock value when the first record arrived
}

// NewReassembler returns a reassembler that holds at most maxInFlight
// incomplete events and completes an event timeoutMsec after its first
// record. emit is called for every completed event, in serial order
// (except late partial events).
func NewReassembler(maxInFlight int, timeoutMsec int64, emit func(*Group)) *Reassembler {
	if maxInFlight < 1 {
		maxInFlight = 1
	}
	return &Reassembler{maxInFlight: maxInFlight, timeout: timeoutMsec, emit: emit, pool: &RecordPool{}}
}

// SetReorder makes a complete event wait up to msec (from its first
// record) while the serial before it has not been emitted: the kernel
// numbers an event when it starts logging it, and a long one (an execve's
// seven records) on one CPU can reach the socket after a short one (an
// exit_group) numbered after it on another. Without the wait the long one
// arrives after its successor was emitted and is split into late
// partials (an exec without its arguments: 100 of 600,000 at 2,000
// execs/s, make soak). Live only; 0 (the default) emits at once.
func (a *Reassembler) SetReorder(msec int64) { a.reorder = msec }

// SetPool makes the reassembler take and return records through pool, so
// several reassemblers (one per audit node) can share one.
func (a *Reassembler) SetPool(pool *RecordPool) { a.pool = pool }

// RecordPool recycles records, so that steady-state parsing allocates
// nothing. Not safe for concurrent use.
type RecordPool struct{ free []*Record }

// Get returns a record to parse into.
func (p *RecordPool) Get() *Record {
	if n := len(p.free); n > 0 {
		r := p.free[n-1]
		p.free = p.free[:n-1]
		return r
	}
	return &Record{}
}

// Put returns a record that is no longer referenced. The pool keeps at most
// maxPooled records: when records come from elsewhere (a live reader on
// another goroutine) it must not grow without bound.
func (p *RecordPool) Put(r *Record) {
	if len(p.free) < maxPooled {
		p.free = append(p.free, r)
	}
}

const maxPooled = 4096

// Record returns a record to parse the next line into. Hand it to Push, or
// back with Release if parsing failed.
func (a *Reassembler) Record() *Record { return a.pool.Get() }

// Release returns a record obtained from Record that was not pushed.
func (a *Reassembler) Release(r *Record) { a.pool.Put(r) }

// InFlight is the number of events being assembled now.
func (a *Reassembler) InFlight() int { return len(a.inflight) }

// Stats returns the counters.
func (a *Reassembler) Stats() ReassemblerStats { return a.stats }

// seqBefore reports whether serial x comes before y, modulo 2^32: serials
// roll over, and within half the space the difference says which is older.
func seqBefore(x, y uint32) bool { return int32(x-y) < 0 }

// resetDistance is how far behind the last emitted serial a record may
// arrive and still be a late record of a recent event. Real stragglers are
// within the in-flight window (tens of events); thousands behind is a new
// sequence.
const resetDistance = 4096

func isDaemon(t uint16) bool { return t >= TypeDaemonStart && t <= TypeLastDaemon }

// completes reports whether a record of type t ends its event: PROCTITLE
// (the kernel's last record of a syscall event), user-space and daemon
// messages (1100-1299) and the anomaly/integrity types (2100+), which are
// single records. Unlike go-libaudit, the 1000-1099 range does not
// complete: LOGIN (1006) is written inside the syscall that set the login
// uid, before that syscall's SYSCALL and PROCTITLE records, and ending the
// event at LOGIN split it in three.
func completes(t uint16) bool {
	return t == TypeProctitle || (t >= TypeFirstUser && t <= TypeLastDaemon) || t >= TypeAnomFirst
}

// Push adds a parsed record; now is the caller's clock in msec. The
// reassembler owns r from here on.
func (a *Reassembler) Push(r *Record, now int64) {
	a.stats.Records++
	seq := r.Serial
	if a.haveLast && !seqBefore(a.last, seq) && !isDaemon(r.Type) && a.last-seq > resetDistance {
		// Far behind the last emitted serial: not a straggler but a new
		// sequence (the kernel restarted at a reboot, or log files come
		// newest first). Finish what is held and start over.
		a.Flush()
		a.haveLast = false
		a.stats.Resets++
	}
	if a.haveLast && !seqBefore(a.last, seq) && !isDaemon(r.Type) {
		// Its event was already emitted: deliver it alone, flagged. An
		// EOE after the PROCTITLE that completed its event is the
		// normal end, not a late record: nothing is missing.
		if r.Type == TypeEOE {
			a.Release(r)
			return
		}
		a.stats.Late++
		a.late = append(a.late[:0], r)
		a.group = Group{Serial: seq, Records: a.late, Late: true}
		a.stats.Events++
		a.emit(&a.group)
		a.Release(r)
		return
	}
	p := a.find(seq)
	if r.Type == TypeEOE {
		if p != nil {
			p.complete = true
		}
		a.Release(r)
		a.cleanup(now)
		return
	}
	if p == nil {
		p = a.insert(seq, now)
	}
	p.records = append(p.records, r)
	if completes(r.Type) {
		p.complete = true
	}
	a.cleanup(now)
}

// Maintain completes events whose timeout has passed at time now.
func (a *Reassembler) Maintain(now int64) { a.cleanup(now) }

// Flush emits every held event (end of input, shutdown).
func (a *Reassembler) Flush() {
	for len(a.inflight) > 0 {
		a.pop()
	}
}

func (a *Reassembler) find(seq uint32) *pending {
	for i := len(a.inflight) - 1; i >= 0; i-- {
		if a.inflight[i].serial == seq {
			return a.inflight[i]
		}
	}
	return nil
}

func (a *Reassembler) insert(seq uint32, now int64) *pending {
	var p *pending
	if n := len(a.free); n > 0 {
		p = a.free[n-1]
		a.free = a.free[:n-1]
	} else {
		p = &pending{}
	}
	p.serial, p.complete, p.first, p.records = seq, false, now, p.records[:0]
	// Serials mostly arrive in order: search for the slot from the end.
	i := len(a.inflight)
	for i > 0 && seqBefore(seq, a.inflight[i-1].serial) {
		i--
	}
	a.inflight = append(a.inflight, nil)
	copy(a.inflight[i+1:], a.inflight[i:])
	a.inflight[i] = p
	if len(a.inflight) > a.stats.MaxInFlight {
		a.stats.MaxInFlight = len(a.inflight)
	}
	return p
}

// cleanup emits events from the lowest serial up while the lowest is
// complete, expired, or the window is over its size — the same order rule
// as go-libaudit, so output stays in serial order.
func (a *Reassembler) cleanup(now int64) {
	for len(a.inflight) > 0 {
		p := a.inflight[0]
		switch {
		case p.complete && a.reorder > 0 && a.haveLast && p.serial != a.last+1 &&
			now-p.first < a.reorder && len(a.inflight) <= a.maxInFlight:
			return // a lower serial may still be on its way
		case p.complete:
			a.stats.CompletedEOE++
		case len(a.inflight) > a.maxInFlight:
			a.stats.Overflowed++
		case now-p.first >= a.timeout:
			a.stats.Expired++
		default:
			return
		}
		a.pop()
	}
}

func (a *Reassembler) pop() {
	p := a.inflight[0]
	copy(a.inflight, a.inflight[1:])
	a.inflight[len(a.inflight)-1] = nil
	a.inflight = a.inflight[:len(a.inflight)-1]
	// auditd numbers its own DAEMON_* records (1200-1299) from a counter
	// of its own, so they take no part in the kernel's serial sequence.
	if len(p.records) == 0 || !isDaemon(p.records[0].Type) {
		if a.haveLast {
			a.stats.Lost += uint64(p.serial - a.last - 1)
		}
		a.last, a.haveLast = p.serial, true
	}
	if len(p.records) > 0 {
		a.group = Group{Serial: p.serial, Records: p.records}
		a.stats.Events++
		a.emit(&a.group)
	}
	for _, r := range p.records {
		a.pool.Put(r)
	}
	for i := range p.records {
		p.records[i] = nil
	}
	p.records = p.records[:0]
	a.free = append(a.free, p)
}
