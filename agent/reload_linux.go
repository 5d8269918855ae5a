//go:build linux

package agent

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
	"github.com/lineaged/lineaged/proc"
)

// reload applies a new configuration. Each part is applied on its own: a
// bad rule file keeps the rules in force and still lets the rest change.
// The output is flushed and reopened first, so that lines written before
// the reload are in the old file, later ones in the new.
func (a *liveAgent) reload(rl Reload) error {
	var errs []error
	if err := a.out.reopen(); err != nil {
		errs = append(errs, err)
	}
	if rl.Err != nil {
		err := fmt.Errorf("configuration not reloaded, the one in force stays: %w", rl.Err)
		a.failedReload(errors.Join(append(errs, err)...))
		return err
	}
	for _, n := range KeepRestartOnly(a.set.Config, rl.Config) {
		a.log.Warn().Msg("reload: " + n)
	}
	next, err := FromConfig(rl.Config, rl.Source)
	if err != nil {
		err = fmt.Errorf("configuration not reloaded, the one in force stays: %w", err)
		a.failedReload(errors.Join(append(errs, err)...))
		return err
	}
	for _, n := range next.RuleNotes {
		a.log.Warn().Msg(n)
	}
	if a.audit.Mode() == audit.ModeOwn {
		rs, err := next.ownRules(a.proc != nil)
		if err == nil {
			err = a.audit.Reload(rs)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("audit rules: %w (the previous rules stay in force)", err))
		}
	}
	a.p.SetRedact(next.Redact)
	errs = append(errs, a.reloadFiles(next))
	a.set = next
	a.settingsEvent(event.ActionReloaded)
	if err := errors.Join(errs...); err != nil {
		a.failedReload(err)
		return err
	}
	return nil
}

// reloadFiles puts the new watch policy in force: the new watcher is
// opened before the old one closes, so no file event falls between them
// (some may come twice).
func (a *liveAgent) reloadFiles(next *Settings) error {
	old := a.files
	a.files = nil
	var err error
	if next.Files != nil {
		if a.files = a.openFiles(next.Files); a.files == nil {
			err = errors.New("fanotify: the new watch policy could not be opened")
		}
	} else {
		a.sourceOff("fanotify", "turned off by configuration (files.enabled: false)")
	}
	if old != nil {
		a.filesOverflowsBefore += old.Watcher().Stats().Overflows // counters stay totals across reloads
		old.Close()
	}
	return err
}

// failedReload reports what a reload could not do.
func (a *liveAgent) failedReload(err error) {
	a.log.Error().Err(err).Msg("reload")
	e := event.Event{
		TimeMsec: time.Now().UnixMilli(),
		Category: event.CategoryConfiguration, Type: event.TypeChange, Action: event.ActionReloadFailed, Outcome: event.OutcomeFailure,
		Module: event.ModuleLineaged, Message: err.Error(),
	}
	a.p.Write(&e, graph.Proc{})
}

// self writes one of lineaged's own events.
func (a *liveAgent) self(action event.Action, msg string) {
	e := event.Event{
		TimeMsec: time.Now().UnixMilli(),
		Category: event.CategoryHost, Type: event.TypeInfo, Action: action, Outcome: event.OutcomeSuccess,
		Module: event.ModuleLineaged, Message: msg,
	}
	a.p.Write(&e, graph.Proc{})
}

// settingsEvent writes what is in force: the settings and the audit rules
// the kernel has now (SPEC §5: at start and on every reload).
func (a *liveAgent) settingsEvent(action event.Action) {
	kv := append(a.set.KV[:len(a.set.KV):len(a.set.KV)], kernelSettings()...)
	info := &event.ConfigInfo{Source: a.set.Source, Settings: kv}
	msg := "lineaged settings in force"
	if a.audit.Mode() != audit.ModeOff {
		rules, err := a.audit.Rules()
		if err != nil {
			msg += "; the audit rules could not be listed: " + err.Error()
		}
		info.Rules = rules
	} else {
		msg += "; audit is off: no rules"
	}
	e := event.Event{
		TimeMsec: time.Now().UnixMilli(),
		Category: event.CategoryConfiguration, Type: event.TypeInfo, Action: action, Outcome: event.OutcomeSuccess,
		Module: event.ModuleLineaged, Message: msg, Config: info,
	}
	a.p.Write(&e, graph.Proc{})
}

// checkDropped reports lines the output dropped, once writes work again
// (an event written while the disk is full would be dropped in turn).
func (a *liveAgent) checkDropped(now time.Time) {
	n, failing := a.out.dropped()
	if failing || n <= a.droppedReported {
		return
	}
	lost := n - a.droppedReported
	a.droppedReported = n
	e := event.Event{
		TimeMsec: now.UnixMilli(),
		Category: event.CategoryHost, Type: event.TypeInfo, Action: event.ActionOutputLinesDropped, Outcome: event.OutcomeFailure,
		Module:  event.ModuleLineaged,
		Message: fmt.Sprintf("%d event lines could not be written to the output (disk full or I/O error) and were dropped; writing works again", lost),
		Labels:  []event.KV{{Key: "count", Value: strconv.FormatUint(lost, 10)}, {Key: "total", Value: strconv.FormatUint(n, 10)}},
	}
	a.p.Write(&e, graph.Proc{})
}

// heartbeat writes the agent's counters: a SIEM that stops receiving them
// knows the agent (or its forwarding) is down.
func (a *liveAgent) heartbeat(now time.Time) {
	a.lastBeat = now
	c := a.counters(now)
	labels := []event.KV{
		{Key: "uptime_s", Value: strconv.FormatInt(c.UptimeSeconds, 10)},
		{Key: "events_written", Value: strconv.FormatUint(c.EventsWritten, 10)},
		{Key: "execs_merged", Value: strconv.FormatUint(c.ExecsMerged, 10)},
		{Key: "events_merged", Value: strconv.FormatUint(c.EventsMerged, 10)},
		{Key: "audit_receive_errors", Value: strconv.FormatUint(c.AuditReceiveErrs, 10)},
		{Key: "audit_sequence_gaps", Value: strconv.FormatUint(c.AuditSequenceGaps, 10)},
		{Key: "proc_overruns", Value: strconv.FormatUint(c.ProcOverruns, 10)},
		{Key: "graph_processes", Value: strconv.Itoa(c.GraphProcesses)},
	}
	if a.files != nil {
		h := a.files.Health()
		labels = append(labels,
			event.KV{Key: "fanotify_events", Value: strconv.FormatUint(a.files.Watcher().Stats().Events, 10)},
			event.KV{Key: "fanotify_overflows", Value: strconv.FormatUint(h.Lost, 10)})
	}
	e := event.Event{
		TimeMsec: now.UnixMilli(),
		Category: event.CategoryHost, Type: event.TypeInfo, Action: event.ActionHeartbeat, Outcome: event.OutcomeSuccess,
		Module: event.ModuleLineaged, Message: "lineaged is running", Labels: labels,
	}
	a.p.Write(&e, graph.Proc{})
}

func (a *liveAgent) procStats() proc.SourceStats {
	if a.proc == nil {
		return proc.SourceStats{}
	}
	return a.proc.Stats()
}

// publish hands the counters to the metrics endpoint and the live view.
func (a *liveAgent) publish(now time.Time) { a.latest.Store(a.counters(now)) }

// counters gathers the agent's figures.
func (a *liveAgent) counters(now time.Time) *Counters {
	ps := a.p.Stats()
	as := a.audit.Stats()
	dropped, failing := a.out.dropped()
	c := &Counters{
		EventsWritten: ps.Written, BySource: ps.BySource, Alerts: ps.Alerts,
		AuditKernelLost: as.KernelLost, AuditSequenceGaps: as.SequenceGaps, AuditReceiveErrs: as.ReceiveErrs,
		AuditLogErrors: as.RecordLogErrs, AuditInFlight: as.InFlight,
		ProcOverruns: a.procStats().Overruns, OutputErrors: ps.OutErrs, OutputDropped: dropped,
		ExecsMerged: a.merge.merged, EventsMerged: ps.Merged, PendingExecs: len(a.merge.pending),
		GraphProcesses: a.p.GraphStats().Nodes,
		UptimeSeconds:  int64(now.Sub(a.started) / time.Second),
	}
	c.FanotifyOverflows = a.filesOverflowsBefore
	c.Sources = append(c.Sources, a.audit.Health())
	for _, s := range []event.Source{a.procSource(), a.filesSource(), a.socketsSource()} {
		if s != nil {
			c.Sources = append(c.Sources, s.Health())
		}
	}
	c.Sources = append(c.Sources, a.off...)
	if a.files != nil {
		c.FanotifyOverflows += a.files.Health().Lost
	}
	c.Sources = append(c.Sources, a.outputHealth(ps, dropped, failing))
	if a.out.slog != nil {
		st := a.out.slog.Stats()
		c.Syslog = &st
	}
	if a.out.kafka != nil {
		st := a.out.kafka.Stats()
		c.Kafka = &st
	}
	return c
}

// The running sources as event.Source, nil when not running (a nil
// pointer in an interface is not nil).
func (a *liveAgent) procSource() event.Source {
	if a.proc == nil {
		return nil
	}
	return a.proc
}

func (a *liveAgent) filesSource() event.Source {
	if a.files == nil {
		return nil
	}
	return a.files
}

func (a *liveAgent) socketsSource() event.Source {
	if a.sockets == nil {
		return nil
	}
	return a.sockets
}

// outputHealth is the output's row of the health table.
func (a *liveAgent) outputHealth(ps PipelineStats, dropped uint64, failing bool) event.Health {
	h := event.Health{Name: "output", State: event.StateRunning, Detail: "writing", Events: ps.Written, Lost: dropped + ps.OutErrs}
	switch {
	case failing:
		h.State, h.Detail = event.StateDegraded, "dropping lines: the output cannot be written (disk full or I/O error)"
	case a.p.Err() != nil:
		h.State, h.Detail = event.StateDegraded, a.p.Err().Error()
	case dropped > 0:
		h.Detail = fmt.Sprintf("writing again; %d lines were dropped", dropped)
	}
	return h
}
