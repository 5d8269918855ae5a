package fanotify

import (
	"strconv"
	"time"

	"github.com/lineaged/lineaged/event"
)

// Event is one fanotify event after filtering: a file operation (or
// several the kernel merged) by a process, or a queue overflow.
type Event struct {
	Time  time.Time // when lineaged read it (fanotify carries no timestamp)
	Mask  uint64    // FAN_* bits as delivered
	Ops   Op        // the operations reported (Mask, filtered by the policy)
	PID   int       // the acting process (its thread group id)
	Path  string    // the file, as this mount namespace sees it; "" if unresolvable
	Class string    // the class of the covering watch; "" if matched by inode only

	// Overflow marks a FAN_Q_OVERFLOW: the kernel's queue was full and
	// dropped events. Overflows is the watcher's running total.
	Overflow  bool
	Overflows uint64
}

// Module is the event.module of everything this source emits.
const Module = event.ModuleFanotify

// AppendEvents appends the normalised events of e to dst: one per
// reported operation, in the order exec, open, modify, close-write (the
// order they happen in), or one for an overflow. The new events share no
// memory with dst's others.
func AppendEvents(dst []event.Event, e Event) []event.Event {
	ms := e.Time.UnixMilli()
	if e.Overflow {
		return append(dst, event.Event{
			TimeMsec: ms, Kind: event.KindEvent, Module: Module,
			Category: event.CategoryHost, Type: event.TypeInfo, Action: event.ActionQueueOverflow, Outcome: event.OutcomeFailure,
			Message: "fanotify queue overflowed: the kernel dropped file events",
			Labels:  []event.KV{{Key: "fanotify.overflows", Value: strconv.FormatUint(e.Overflows, 10)}},
		})
	}
	for _, a := range actions {
		if e.Ops&a.op == 0 {
			continue
		}
		ev := event.Event{
			TimeMsec: ms, Kind: event.KindEvent, Module: Module,
			Category: event.CategoryFile, Type: a.typ, Action: a.action, Outcome: event.OutcomeSuccess,
			Process: event.Process{PID: e.PID},
			File:    &event.File{Path: e.Path, Operation: a.operation},
		}
		if e.Class != "" {
			ev.Labels = []event.KV{{Key: "fanotify.class", Value: e.Class}}
		}
		dst = append(dst, ev)
	}
	return dst
}

// actions maps operations to ECS event.type, event.action and
// file.operation (the audit source's words for the same operations).
var actions = []struct {
	op        Op
	typ       event.Type
	action    event.Action
	operation string
}{
	{OpExec, event.TypeAccess, event.ActionExecutedFile, "exec"},
	{OpOpen, event.TypeAccess, event.ActionOpenedFile, "open"},
	{OpModify, event.TypeChange, event.ActionModifiedFile, "write"},
	{OpCloseWrite, event.TypeChange, event.ActionWroteToFile, "write"},
}
