package proc

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Connector addressing, from include/uapi/linux/connector.h:
// https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/connector.h
//
// The proc connector uses index 1 both as its callback id (cb_id.idx) and
// as the netlink multicast group its events are broadcast to.
const (
	cnIdxProc = 0x1 // CN_IDX_PROC
	cnValProc = 0x1 // CN_VAL_PROC
)

// Multicast control operations, enum proc_cn_mcast_op in
// include/uapi/linux/cn_proc.h:
// https://github.com/torvalds/linux/blob/v6.1/include/uapi/linux/cn_proc.h
//
// The kernel only generates events while its listener count is above zero;
// LISTEN increments it and IGNORE decrements it. Before 6.6 the count is a
// bare global counter that the kernel does not tie to the socket, so an
// IGNORE without a LISTEN (or two IGNOREs) drives it down for every other
// listener on the host: Conn sends IGNORE once, and only after a LISTEN.
const (
	mcastListen uint32 = 1 // PROC_CN_MCAST_LISTEN
	mcastIgnore uint32 = 2 // PROC_CN_MCAST_IGNORE
)

// proc_event.what values (enum what, cn_proc.h). Bits, so that 6.6's event
// filter (struct proc_input) can name sets of them.
const (
	whatNone     uint32 = 0x00000000 // PROC_EVENT_NONE: the acknowledgement of a mcast op
	whatFork     uint32 = 0x00000001 // since 2.6.15
	whatExec     uint32 = 0x00000002 // since 2.6.15
	whatUID      uint32 = 0x00000004 // since 2.6.15
	whatGID      uint32 = 0x00000040 // since 2.6.15
	whatSID      uint32 = 0x00000080 // since 2.6.32
	whatPtrace   uint32 = 0x00000100 // since 2.6.36
	whatComm     uint32 = 0x00000200 // since 2.6.36
	whatCoredump uint32 = 0x40000000 // since 3.10
	whatExit     uint32 = 0x80000000 // since 2.6.15

	// PROC_EVENT_NONZERO_EXIT (6.6) is a filter bit only: a listener that
	// asks for it gets the exits with a nonzero code, still as
	// PROC_EVENT_EXIT. lineaged needs every exit and sends the legacy
	// 4-byte LISTEN, which 6.6+ takes as "all events".
)

// Wire sizes. struct proc_event has an 8-byte-aligned timestamp, so its
// layout is the same on 32- and 64-bit kernels; the union is as large as
// its largest member (comm: two pids and 16 bytes), which makes every
// event 40 bytes long on every kernel since 2.6.36.
const (
	cnMsgLen        = 20 // sizeof(struct cn_msg): cb_id(8) seq(4) ack(4) len(2) flags(2)
	procEventHdrLen = 16 // what(4) cpu(4) timestamp_ns(8)
	taskCommLen     = 16 // TASK_COMM_LEN

	forkLen     = 16 // parent_pid, parent_tgid, child_pid, child_tgid
	execLen     = 8  // process_pid, process_tgid
	idLen       = 16 // process_pid, process_tgid, r.ruid|rgid, e.euid|egid
	sidLen      = 8  // process_pid, process_tgid
	ptraceLen   = 16 // process_pid, process_tgid, tracer_pid, tracer_tgid
	commLen     = 8 + taskCommLen
	coredumpLen = 8  // process_pid, process_tgid; parent_pid/tgid follow on 4.18+
	exitLen     = 16 // process_pid, process_tgid, exit_code, exit_signal; parents follow on 4.18+
	parentsLen  = 8  // the parent_pid, parent_tgid pair 4.18 appended
	ackLen      = 4  // err
)

// Decoding errors. A message that fails to decode is dropped and counted
// (Stats.Malformed); the errors name which struct was cut short.
var (
	errShortCnMsg     = errors.New("proc: message shorter than struct cn_msg")
	errShortPayload   = errors.New("proc: cn_msg.len exceeds the message")
	errShortProcEvent = errors.New("proc: payload shorter than the proc_event header")
	errShortAck       = errors.New("proc: short acknowledgement")
	errShortFork      = errors.New("proc: short fork event")
	errShortExec      = errors.New("proc: short exec event")
	errShortID        = errors.New("proc: short uid/gid event")
	errShortSID       = errors.New("proc: short sid event")
	errShortPtrace    = errors.New("proc: short ptrace event")
	errShortComm      = errors.New("proc: short comm event")
	errShortCoredump  = errors.New("proc: short coredump event")
	errShortExit      = errors.New("proc: short exit event")
	errForeign        = errors.New("proc: message for another connector callback")
)

// Host byte order throughout: the connector is a local interface and the
// kernel writes its native integers (binary.NativeEndian).
var ne = binary.NativeEndian

// cbID mirrors struct cb_id.
type cbID struct {
	Idx uint32
	Val uint32
}

// cnMsg mirrors struct cn_msg, the connector header that precedes every
// payload. Data aliases the len bytes after the header.
type cnMsg struct {
	ID    cbID
	Seq   uint32 // a per-CPU event counter (acks before ~4.x: the request's seq)
	Ack   uint32 // proc events: 0; acks: the request's ack + 1
	Len   uint16 // length of Data
	Flags uint16
	Data  []byte
}

// UnmarshalBinary decodes a cn_msg header and slices its payload out of b.
// It does not copy: Data aliases b.
func (m *cnMsg) UnmarshalBinary(b []byte) error {
	if len(b) < cnMsgLen {
		return errShortCnMsg
	}
	m.ID.Idx = ne.Uint32(b[0:4])
	m.ID.Val = ne.Uint32(b[4:8])
	m.Seq = ne.Uint32(b[8:12])
	m.Ack = ne.Uint32(b[12:16])
	m.Len = ne.Uint16(b[16:18])
	m.Flags = ne.Uint16(b[18:20])
	// Netlink pads a message to 4 bytes, so the slice may be longer than
	// len; it must never be shorter.
	if int(m.Len) > len(b)-cnMsgLen {
		return errShortPayload
	}
	m.Data = b[cnMsgLen : cnMsgLen+int(m.Len)]
	return nil
}

// MarshalBinary encodes the header followed by Data; Len is taken from
// len(Data).
func (m cnMsg) MarshalBinary() ([]byte, error) {
	b := make([]byte, cnMsgLen, cnMsgLen+len(m.Data))
	ne.PutUint32(b[0:4], m.ID.Idx)
	ne.PutUint32(b[4:8], m.ID.Val)
	ne.PutUint32(b[8:12], m.Seq)
	ne.PutUint32(b[12:16], m.Ack)
	ne.PutUint16(b[16:18], uint16(len(m.Data)))
	ne.PutUint16(b[18:20], m.Flags)
	return append(b, m.Data...), nil
}

// mcastOp builds the 4-byte LISTEN/IGNORE request, marked with cookie in
// cn_msg.ack. The kernel acknowledges with ack = cookie + 1 on every
// version; it echoed seq too until the per-CPU counter of send_msg() took
// that field over, so seq cannot identify the answer on current kernels.
//
// The 8-byte struct proc_input of 6.6+ would let us filter events in the
// kernel, but 3.10 to 6.5 drop any request whose length is not exactly 4
// without an answer, so the legacy form is the only one that works
// everywhere.
func mcastOp(op, cookie uint32) []byte {
	var data [4]byte
	ne.PutUint32(data[:], op)
	b, _ := cnMsg{ID: cbID{cnIdxProc, cnValProc}, Seq: cookie, Ack: cookie, Data: data[:]}.MarshalBinary()
	return b
}

// procEventHeader mirrors the fixed head of struct proc_event.
type procEventHeader struct {
	What        uint32
	CPU         uint32 // the CPU that generated the event
	TimestampNS uint64 // ktime_get_ns(): CLOCK_MONOTONIC, suspend excluded
}

func (h *procEventHeader) UnmarshalBinary(b []byte) error {
	if len(b) < procEventHdrLen {
		return errShortProcEvent
	}
	h.What = ne.Uint32(b[0:4])
	h.CPU = ne.Uint32(b[4:8])
	h.TimestampNS = ne.Uint64(b[8:16])
	return nil
}

// pid reads a __kernel_pid_t (a C int).
func pid(b []byte) int { return int(int32(ne.Uint32(b))) }

// ackEvent mirrors event_data.ack: the kernel's answer to a mcast op, sent
// to the whole multicast group with what == PROC_EVENT_NONE. err is a
// positive errno: 0, EPERM (before 6.6: the sender lacks CAP_NET_ADMIN in
// the initial user namespace), EINVAL (unknown op) or ENOMEM (6.6+: no
// memory for the per-socket filter). A request from outside the initial
// user and pid namespaces gets no answer at all.
type ackEvent struct{ Err uint32 }

func (a *ackEvent) UnmarshalBinary(b []byte) error {
	if len(b) < ackLen {
		return errShortAck
	}
	a.Err = ne.Uint32(b[0:4])
	return nil
}

// forkEvent mirrors struct fork_proc_event. The parent is the child's
// real_parent, which for a new thread (CLONE_THREAD) or CLONE_PARENT is
// the creator's own parent, not the creator.
type forkEvent struct{ ParentPID, ParentTGID, ChildPID, ChildTGID int }

func (f *forkEvent) UnmarshalBinary(b []byte) error {
	if len(b) < forkLen {
		return errShortFork
	}
	f.ParentPID, f.ParentTGID = pid(b[0:4]), pid(b[4:8])
	f.ChildPID, f.ChildTGID = pid(b[8:12]), pid(b[12:16])
	return nil
}

// execEvent mirrors struct exec_proc_event. The kernel sends it after
// de_thread(), so the exec'ing thread is already the group leader and
// pid == tgid.
type execEvent struct{ PID, TGID int }

func (e *execEvent) UnmarshalBinary(b []byte) error {
	if len(b) < execLen {
		return errShortExec
	}
	e.PID, e.TGID = pid(b[0:4]), pid(b[4:8])
	return nil
}

// idEvent mirrors struct id_proc_event, for PROC_EVENT_UID (ruid, euid)
// and PROC_EVENT_GID (rgid, egid): the ids after the change, as seen from
// the initial user namespace. commit_creds() sends it when any of the
// real, effective, saved or fs ids changed, including the setuid bit of
// an exec.
type idEvent struct {
	PID, TGID       int
	Real, Effective uint32
}

func (e *idEvent) UnmarshalBinary(b []byte) error {
	if len(b) < idLen {
		return errShortID
	}
	e.PID, e.TGID = pid(b[0:4]), pid(b[4:8])
	e.Real, e.Effective = ne.Uint32(b[8:12]), ne.Uint32(b[12:16])
	return nil
}

// sidEvent mirrors struct sid_proc_event: setsid(2) succeeded.
type sidEvent struct{ PID, TGID int }

func (e *sidEvent) UnmarshalBinary(b []byte) error {
	if len(b) < sidLen {
		return errShortSID
	}
	e.PID, e.TGID = pid(b[0:4]), pid(b[4:8])
	return nil
}

// ptraceEvent mirrors struct ptrace_proc_event: PTRACE_ATTACH/SEIZE with
// the tracer's ids, PTRACE_DETACH with zeros.
type ptraceEvent struct{ PID, TGID, TracerPID, TracerTGID int }

func (e *ptraceEvent) UnmarshalBinary(b []byte) error {
	if len(b) < ptraceLen {
		return errShortPtrace
	}
	e.PID, e.TGID = pid(b[0:4]), pid(b[4:8])
	e.TracerPID, e.TracerTGID = pid(b[8:12]), pid(b[12:16])
	return nil
}

// commEvent mirrors struct comm_proc_event: prctl(PR_SET_NAME) or a
// write to /proc/PID/comm renamed a thread. exec renames too but sends no
// comm event.
type commEvent struct {
	PID, TGID int
	Comm      [taskCommLen]byte // NUL-padded
}

func (e *commEvent) UnmarshalBinary(b []byte) error {
	if len(b) < commLen {
		return errShortComm
	}
	e.PID, e.TGID = pid(b[0:4]), pid(b[4:8])
	copy(e.Comm[:], b[8:commLen])
	return nil
}

// name returns the comm up to its first NUL.
func (e *commEvent) name() string {
	for i, c := range e.Comm {
		if c == 0 {
			return string(e.Comm[:i])
		}
	}
	return string(e.Comm[:])
}

// coredumpEvent mirrors struct coredump_proc_event (3.10). The parent
// pair was appended in 4.18; before it those bytes are zero (the kernel
// clears the union), which reads as "unknown".
type coredumpEvent struct{ PID, TGID, ParentPID, ParentTGID int }

func (e *coredumpEvent) UnmarshalBinary(b []byte) error {
	if len(b) < coredumpLen {
		return errShortCoredump
	}
	e.PID, e.TGID = pid(b[0:4]), pid(b[4:8])
	e.ParentPID, e.ParentTGID = 0, 0
	if len(b) >= coredumpLen+parentsLen {
		e.ParentPID, e.ParentTGID = pid(b[8:12]), pid(b[12:16])
	}
	return nil
}

// exitEvent mirrors struct exit_proc_event, sent from do_exit() for every
// thread. exit_code is task->exit_code, a wait(2) status (code << 8, or
// the killing signal | 0x80 for a core dump); exit_signal is the signal
// the parent will get (SIGCHLD, or -1 for a thread). The parent pair is
// 4.18+, as for coredump.
type exitEvent struct {
	PID, TGID             int
	ExitCode              uint32
	ExitSignal            int
	ParentPID, ParentTGID int
}

func (e *exitEvent) UnmarshalBinary(b []byte) error {
	if len(b) < exitLen {
		return errShortExit
	}
	e.PID, e.TGID = pid(b[0:4]), pid(b[4:8])
	e.ExitCode = ne.Uint32(b[8:12])
	e.ExitSignal = int(int32(ne.Uint32(b[12:16])))
	e.ParentPID, e.ParentTGID = 0, 0
	if len(b) >= exitLen+parentsLen {
		e.ParentPID, e.ParentTGID = pid(b[16:20]), pid(b[20:24])
	}
	return nil
}

// message is one decoded connector message: either an acknowledgement of
// a mcast op (isAck) or a process event.
type message struct {
	hdr    cnMsg
	isAck  bool
	ackErr uint32
	ev     Event
}

// UnmarshalBinary decodes the payload of one netlink message from the
// connector: a struct cn_msg followed by a struct proc_event. Every read is
// bounds-checked; a short message yields an errShortX error, never a
// panic. An unknown what is not an error: it gives an Event of kind
// Unknown carrying a copy of the event data.
func (m *message) UnmarshalBinary(b []byte) error {
	*m = message{}
	if err := m.hdr.UnmarshalBinary(b); err != nil {
		return err
	}
	if m.hdr.ID != (cbID{cnIdxProc, cnValProc}) {
		// Only the proc connector broadcasts to group 1, but the id is
		// what the connector core routes by: refuse anything else.
		return errForeign
	}
	var h procEventHeader
	if err := h.UnmarshalBinary(m.hdr.Data); err != nil {
		return err
	}
	data := m.hdr.Data[procEventHdrLen:]

	ev := &m.ev
	ev.What, ev.CPU, ev.TimestampNS, ev.Seq = h.What, h.CPU, h.TimestampNS, m.hdr.Seq
	switch h.What {
	case whatNone:
		var a ackEvent
		if err := a.UnmarshalBinary(data); err != nil {
			return err
		}
		m.isAck, m.ackErr = true, a.Err
	case whatFork:
		var f forkEvent
		if err := f.UnmarshalBinary(data); err != nil {
			return err
		}
		ev.Kind = KindFork
		ev.PID, ev.TGID = f.ChildPID, f.ChildTGID
		ev.ParentPID, ev.ParentTGID = f.ParentPID, f.ParentTGID
	case whatExec:
		var x execEvent
		if err := x.UnmarshalBinary(data); err != nil {
			return err
		}
		ev.Kind, ev.PID, ev.TGID = KindExec, x.PID, x.TGID
	case whatUID, whatGID:
		var x idEvent
		if err := x.UnmarshalBinary(data); err != nil {
			return err
		}
		ev.Kind = KindUID
		if h.What == whatGID {
			ev.Kind = KindGID
		}
		ev.PID, ev.TGID = x.PID, x.TGID
		ev.RealID, ev.EffectiveID = x.Real, x.Effective
	case whatSID:
		var x sidEvent
		if err := x.UnmarshalBinary(data); err != nil {
			return err
		}
		ev.Kind, ev.PID, ev.TGID = KindSID, x.PID, x.TGID
	case whatPtrace:
		var x ptraceEvent
		if err := x.UnmarshalBinary(data); err != nil {
			return err
		}
		ev.Kind, ev.PID, ev.TGID = KindPtrace, x.PID, x.TGID
		ev.TracerPID, ev.TracerTGID = x.TracerPID, x.TracerTGID
	case whatComm:
		var x commEvent
		if err := x.UnmarshalBinary(data); err != nil {
			return err
		}
		ev.Kind, ev.PID, ev.TGID, ev.Comm = KindComm, x.PID, x.TGID, x.name()
	case whatCoredump:
		var x coredumpEvent
		if err := x.UnmarshalBinary(data); err != nil {
			return err
		}
		ev.Kind, ev.PID, ev.TGID = KindCoredump, x.PID, x.TGID
		ev.ParentPID, ev.ParentTGID = x.ParentPID, x.ParentTGID
	case whatExit:
		var x exitEvent
		if err := x.UnmarshalBinary(data); err != nil {
			return err
		}
		ev.Kind, ev.PID, ev.TGID = KindExit, x.PID, x.TGID
		ev.ExitStatus, ev.ExitSignal = x.ExitCode, x.ExitSignal
		ev.ParentPID, ev.ParentTGID = x.ParentPID, x.ParentTGID
	default:
		// A newer kernel's event: keep it, with its bytes, so it is
		// counted and can be looked at rather than lost.
		ev.Kind = KindUnknown
		ev.Data = bytes.Clone(data) // non-nil, even when empty

	}
	return nil
}
