package audit

import (
	"errors"
	"fmt"

	"github.com/lineaged/lineaged/event"
)

// RecordLog receives every kernel audit record as read, before anything
// else looks at it: the native audit.log (package auditlog), so that
// ausearch and aureport keep working when lineaged replaces auditd.
type RecordLog interface {
	Write(typ uint16, payload []byte) error
	Flush() error
}

// Records turns kernel audit records (type and payload, as netlink
// carries them) into events: the native log, parsing, reassembly into
// events and normalisation. It is the part of the live audit source that
// does not touch the kernel, so that recorded records can be fed through
// the very path live ones take (the live/replay agreement test feeds a
// recorded audit.log through it). Not safe for concurrent use.
type Records struct {
	ra   *Reassembler
	norm *Normalizer
	log  RecordLog
	ev   event.Event
	emit func(*event.Event)

	events       uint64
	parseErrs    uint64 // records that did not parse (counted, first ones kept)
	recordLogErr uint64 // records or flushes the native log refused
	lastErr      error
}

// Reassembly bounds of a live source: events in flight and how long an
// incomplete one waits (msec of the clock passed to Feed).
const (
	liveMaxInFlight = 256
	liveTimeoutMsec = 2000
	// liveReorderMsec is how long a complete event waits for a lower
	// serial still missing: the kernel can deliver an exec numbered
	// before an exit after it (at 2,000 execs/s, 100 of 600,000 execs
	// lost their arguments without it).
	liveReorderMsec = 100
)

// NewRecords returns the record stage of a live source: events are named
// host (host.name), every record goes to log first when log is set.
func NewRecords(host string, log RecordLog) *Records {
	r := &Records{norm: NewNormalizer(host), log: log}
	r.ra = NewReassembler(liveMaxInFlight, liveTimeoutMsec, r.complete)
	r.ra.SetReorder(liveReorderMsec)
	return r
}

func (r *Records) complete(g *Group) {
	e := &r.ev
	r.norm.Normalize(g, e)
	e.Module = event.ModuleAudit
	r.events++
	r.emit(e)
}

// Feed handles one record received at nowMsec (the clock of reassembly
// timeouts), handing any event it completes to emit.
func (r *Records) Feed(typ uint16, payload []byte, nowMsec int64, emit func(*event.Event)) {
	if r.log != nil {
		if err := r.log.Write(typ, payload); err != nil {
			r.recordLogErr++
			r.lastErr = fmt.Errorf("native audit log: %w", err)
		}
	}
	rec := r.ra.Record()
	if err := rec.ParseKernel(typ, payload); err != nil {
		r.ra.Release(rec)
		r.parseErrs++
		r.lastErr = fmt.Errorf("audit record type %d: %w", typ, err)
		return
	}
	r.push(rec, nowMsec, emit)
}

// push hands a parsed record (from the pool) to the reassembler.
func (r *Records) push(rec *Record, nowMsec int64, emit func(*event.Event)) {
	r.emit = emit
	r.ra.Push(rec, nowMsec)
	r.emit = nil
}

// Maintain completes the events whose wait is over as of nowMsec and
// flushes the native log.
func (r *Records) Maintain(nowMsec int64, emit func(*event.Event)) {
	r.emit = emit
	r.ra.Maintain(nowMsec)
	r.emit = nil
	r.flushLog()
}

// Flush completes every event in flight (at exit) and flushes the log.
func (r *Records) Flush(emit func(*event.Event)) {
	r.emit = emit
	r.ra.Flush()
	r.emit = nil
	r.flushLog()
}

func (r *Records) flushLog() {
	if r.log == nil {
		return
	}
	if err := r.log.Flush(); err != nil {
		r.recordLogErr++
		r.lastErr = fmt.Errorf("native audit log: %w", err)
	}
}

// TakeError returns the latest record or log error since the last call,
// for the caller to log (nil when none).
func (r *Records) TakeError() error {
	err := r.lastErr
	r.lastErr = nil
	return err
}

// SequenceGaps is the number of serials that never arrived.
func (r *Records) SequenceGaps() uint64 { return r.ra.Stats().Lost }

// InFlight is the number of events being reassembled.
func (r *Records) InFlight() int { return r.ra.InFlight() }

// errNotKernelLine is what FeedLine says of a log line without the
// "type=T msg=audit(...)" that a kernel record becomes in a log.
var errNotKernelLine = errors.New("not a kernel audit record line")

// FeedLine feeds one line of a RAW audit.log as the kernel would have
// sent it: the type number (from type=NAME or type=UNKNOWN[N]) and the
// payload from "audit(" on. It is the bridge that lets a test drive the
// live path with a recorded log; node= prefixes are not kernel data and
// are refused.
func (r *Records) FeedLine(line []byte, nowMsec int64, emit func(*event.Event)) error {
	typ, payload, err := KernelRecord(line)
	if err != nil {
		return err
	}
	r.Feed(typ, payload, nowMsec, emit)
	return nil
}

// KernelRecord splits a RAW audit.log line into the record type and the
// payload the kernel sent ("audit(SEC.MSEC:SERIAL): fields").
func KernelRecord(line []byte) (uint16, []byte, error) {
	const typePrefix, msgPrefix = "type=", " msg="
	if len(line) < len(typePrefix) || string(line[:len(typePrefix)]) != typePrefix {
		return 0, nil, errNotKernelLine
	}
	rest := line[len(typePrefix):]
	sp := 0
	for sp < len(rest) && rest[sp] != ' ' {
		sp++
	}
	name := string(rest[:sp])
	typ, ok := TypeByName(name)
	if !ok {
		return 0, nil, fmt.Errorf("%w: unknown record type %q", errNotKernelLine, name)
	}
	rest = rest[sp:]
	if len(rest) < len(msgPrefix) || string(rest[:len(msgPrefix)]) != msgPrefix {
		return 0, nil, errNotKernelLine
	}
	return typ, rest[len(msgPrefix):], nil
}

// TypeByName returns the number of a record type named as audit.log
// spells it: a known name (SYSCALL) or UNKNOWN[1334].
func TypeByName(name string) (uint16, bool) {
	t := lookupType([]byte(name))
	return t, t != 0
}
