package proc

import (
	"strconv"
	"time"

	"github.com/lineaged/lineaged/event"
)

// Kind is the type of a proc connector event.
type Kind uint8

// Event kinds, one per PROC_EVENT_* value the kernel sends. KindUnknown is a
// what this package does not know (a newer kernel's): such events are
// returned, not dropped, with their raw bytes in Event.Data.
const (
	KindUnknown  Kind = iota
	KindFork          // fork, vfork or clone, threads included
	KindExec          // a successful execve/execveat
	KindUID           // real/effective/saved/fs uid changed
	KindGID           // real/effective/saved/fs gid changed
	KindSID           // setsid
	KindPtrace        // ptrace attach or detach (2.6.36)
	KindComm          // a thread renamed itself (2.6.36)
	KindCoredump      // a core dump started (3.10)
	KindExit          // a thread exited
	numKinds
)

var kindNames = [numKinds]string{"unknown", "fork", "exec", "uid", "gid", "sid", "ptrace", "comm", "coredump", "exit"}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one decoded proc connector event.
//
// Linux numbers threads and processes from one space: PID is the thread
// (task) id and TGID the thread-group id, i.e. the process id user space
// sees. The connector reports threads as well as processes: a new thread
// is a fork event with PID != TGID, and every thread's exit is an exit
// event. Ids are per thread too: glibc's setuid() changes every thread of
// a process, one uid event each. All are returned; IsThread tells them
// apart, and a caller that only wants processes drops the events for which
// it is true.
type Event struct {
	Kind Kind
	What uint32 // proc_event.what as the kernel sent it

	// CPU is the CPU the event was generated on, and Seq that CPU's
	// message counter (cn_msg.seq). A gap in one CPU's sequence hints at
	// lost events, but the counter also numbers acknowledgements and, on
	// old kernels, two events of one CPU could be queued out of order: it
	// is a diagnostic, not a loss counter.
	CPU uint32
	Seq uint32

	// TimestampNS is CLOCK_MONOTONIC in nanoseconds: time since boot,
	// not counting time suspended. Time converts it to wall-clock time.
	TimestampNS uint64

	// PID and TGID are the subject: the new child for fork, the process
	// that exec'd, changed ids, started a session, was traced, was
	// renamed, dumped core or exited.
	PID, TGID int

	// ParentPID and ParentTGID are, for fork, the child's parent (its
	// real_parent: for a new thread, the process's parent, not the thread
	// that called clone); for exit and coredump, the parent at exit, on
	// kernels 4.18 and later. 0 when the kernel did not say.
	ParentPID, ParentTGID int

	// TracerPID and TracerTGID are, for ptrace, the tracer on attach; both
	// are 0 on detach.
	TracerPID, TracerTGID int

	// RealID and EffectiveID are the uids (KindUID) or gids (KindGID)
	// after the change, in the initial user namespace.
	RealID, EffectiveID uint32

	// ExitStatus is the exit's wait(2) status (task->exit_code): see
	// ExitCode, Signal and CoreDumped. ExitSignal is the signal the parent
	// is sent (SIGCHLD usually, -1 for a thread, 0 for a detached one).
	ExitStatus uint32
	ExitSignal int

	// Comm is the new name of a comm event (at most 15 bytes).
	Comm string

	// Data holds the event_data bytes of an Unknown event (a copy).
	Data []byte
}

// IsThread reports whether the event is about a thread that is not its
// process's main thread (PID != TGID): a thread created (fork), exiting
// (exit) or renamed (comm).
func (ev *Event) IsThread() bool { return ev.PID != ev.TGID }

// ExitCode is the exit's code as a shell reports it: the status passed to
// exit(2), or 128 + the signal that killed the process.
func (ev *Event) ExitCode() int {
	if sig := ev.Signal(); sig != 0 {
		return 128 + sig
	}
	return int(ev.ExitStatus>>8) & 0xff
}

// Signal is the signal that killed the process, 0 if it exited.
func (ev *Event) Signal() int { return int(ev.ExitStatus & 0x7f) }

// CoreDumped reports whether the killing signal dumped core.
func (ev *Event) CoreDumped() bool { return ev.Signal() != 0 && ev.ExitStatus&0x80 != 0 }

// Time converts TimestampNS to wall-clock time with the boot offset
// computed once per process (see the package documentation).
func (ev *Event) Time() time.Time {
	return time.Unix(0, clocks().realNS(ev.TimestampNS))
}

// ToEvent fills e, overwriting all of it, with the normalised form of ev
// (Module "proc"). It reuses e.Labels' backing array; the values e points
// to are fresh, so e.Clone is only needed to keep e past the next reuse
// of its Labels.
//
//   - fork:     process/start/forked (a thread: process/info/thread-started),
//     Process.PID the child's TGID, PPID the parent's TGID, StartMsec the
//     child's start rounded down to a clock tick, as /proc/PID/stat has it
//   - exec:     process/start/executed (no executable: the connector does
//     not carry it; merge with audit or read /proc/PID/exe)
//   - exit:     process/end/exited with Process.ExitCode (a thread:
//     process/info/thread-exited)
//   - uid, gid: iam/change/changed-identity-of, Target the new ids
//   - sid:      session/start/started-session
//   - ptrace:   process/access/traced-process, Process the tracer and
//     labels target_pid/target_tid the tracee (as audit reports ptrace);
//     detach: process/info/detached-trace, Process the tracee
//   - comm:     process/change/renamed (a thread: labels tid, thread_name)
//   - coredump: process/info/dumped-core
//   - unknown:  process/info/unknown-proc-event, label what
//
// Only the kernel's facts are set; entity ids, ancestry and the executable
// are the graph's and the merger's business.
func (ev *Event) ToEvent(e *event.Event) {
	labels := e.Labels[:0]
	*e = event.Event{
		Kind:     event.KindEvent,
		Module:   event.ModuleProc,
		Outcome:  event.OutcomeSuccess,
		TimeMsec: clocks().realNS(ev.TimestampNS) / 1e6,
	}
	p := &e.Process
	p.PID = ev.TGID
	tid := func() {
		if ev.IsThread() {
			labels = append(labels, event.KV{Key: "tid", Value: strconv.Itoa(ev.PID)})
		}
	}

	switch ev.Kind {
	case KindFork:
		p.PPID = ev.ParentTGID
		if ev.IsThread() {
			e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeInfo, event.ActionThreadStarted
			tid()
			break
		}
		e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeStart, event.ActionForked
		// Only a new process carries a start time: the graph takes a
		// different StartMsec on a known pid for pid reuse.
		p.StartMsec = clocks().startMsec(ev.TimestampNS)
	case KindExec:
		e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeStart, event.ActionExecuted
	case KindExit:
		if ev.ParentTGID > 0 {
			p.PPID = ev.ParentTGID
		}
		code := ev.ExitCode()
		if ev.IsThread() {
			e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeInfo, event.ActionThreadExited
			tid()
		} else {
			e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeEnd, event.ActionExited
			p.ExitCode = &code
		}
		if sig := ev.Signal(); sig != 0 {
			labels = append(labels, event.KV{Key: "signal", Value: strconv.Itoa(sig)})
			if ev.CoreDumped() {
				labels = append(labels, event.KV{Key: "core_dumped", Value: "true"})
			}
		}
	case KindUID:
		e.Category, e.Type, e.Action = event.CategoryIam, event.TypeChange, event.ActionChangedIdentityOf
		e.Target = &event.User{ID: idString(ev.RealID), EffectiveID: idString(ev.EffectiveID)}
		tid()
	case KindGID:
		e.Category, e.Type, e.Action = event.CategoryIam, event.TypeChange, event.ActionChangedIdentityOf
		e.Target = &event.User{GroupID: idString(ev.RealID), EffGroupID: idString(ev.EffectiveID)}
		tid()
	case KindSID:
		e.Category, e.Type, e.Action = event.CategorySession, event.TypeStart, event.ActionStartedSession
	case KindPtrace:
		if ev.TracerTGID == 0 {
			e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeInfo, event.ActionDetachedTrace
			tid()
			break
		}
		e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeAccess, event.ActionTracedProcess
		p.PID = ev.TracerTGID
		labels = append(labels,
			event.KV{Key: "target_pid", Value: strconv.Itoa(ev.TGID)},
			event.KV{Key: "target_tid", Value: strconv.Itoa(ev.PID)})
	case KindComm:
		e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeChange, event.ActionRenamed
		if ev.IsThread() {
			// A thread's name is not the process's (process.name is
			// the main thread's comm).
			tid()
			labels = append(labels, event.KV{Key: "thread_name", Value: ev.Comm})
		} else {
			p.Name = ev.Comm
		}
	case KindCoredump:
		e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeInfo, event.ActionDumpedCore
		if ev.ParentTGID > 0 {
			p.PPID = ev.ParentTGID
		}
		tid()
	default:
		e.Category, e.Type, e.Action = event.CategoryProcess, event.TypeInfo, event.ActionUnknownProcEvent
		labels = append(labels, event.KV{Key: "what", Value: "0x" + strconv.FormatUint(uint64(ev.What), 16)})
	}
	if len(labels) > 0 {
		e.Labels = labels
	}
}

// idString spells a uid or gid as event.User does: decimal, with the
// (uid_t)-1 "no id" spelled "unset". The proc connector maps ids that have
// no mapping in the initial namespace to the overflow id (65534), never -1,
// so "unset" only shows up from a corrupt message.
func idString(id uint32) string {
	if id == 0xffffffff {
		return "unset"
	}
	return strconv.FormatUint(uint64(id), 10)
}
