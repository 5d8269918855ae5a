//go:build linux

package agent

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/fanotify"
)

// openFiles opens the fanotify watcher for pol (nil: the default policy),
// reporting why when it cannot: the agent runs on without file watches.
func (r *liveRun) openFiles(pol *fanotify.Policy) *fanotify.Watcher {
	p := fanotify.DefaultPolicy()
	if pol != nil {
		p = *pol
	}
	p.Exclude = append(append([]string(nil), p.Exclude...), r.cfg.OwnPaths...)
	fw, err := fanotify.Open(p)
	if err != nil {
		r.cfg.Logf("fanotify unavailable, continuing without it: %v", err)
		r.self(event.ActionSourceUnavailable, "fanotify unavailable: "+err.Error())
		r.setSource("fanotify", "off", err.Error())
		return nil
	}
	r.setSource("fanotify", "running", fmt.Sprintf("%d paths watched", len(p.Watches)))
	for _, n := range fw.Notes() {
		r.cfg.Logf("fanotify: %s", n)
	}
	if sk := fw.Skipped(); len(sk) > 0 {
		var names []string
		for _, x := range sk {
			names = append(names, x.Path)
		}
		r.cfg.Logf("fanotify: %d watch paths absent on this host, skipped: %s", len(sk), strings.Join(names, ", "))
	}
	return fw
}

// settingsEvent writes what is in force: the settings and the audit rules
// the kernel has now (SPEC §5: at start and on every reload).
func (r *liveRun) settingsEvent(action event.Action, source string, settings []event.KV) {
	info := &event.ConfigInfo{Source: source, Settings: append(settings[:len(settings):len(settings)], kernelSettings()...)}
	if info.Source == "" {
		info.Source = "built-in"
	}
	msg := "lineaged settings in force"
	if r.live != nil && r.live.Mode() != audit.ModeOff {
		rules, err := r.live.Rules()
		if err != nil {
			msg += "; the audit rules could not be listed: " + err.Error()
		}
		info.Rules = rules
	} else {
		msg += "; audit is off: no rules"
	}
	e := &r.ev
	*e = event.Event{
		TimeMsec: time.Now().UnixMilli(),
		Category: event.CategoryConfiguration, Type: event.TypeInfo, Action: action, Outcome: event.OutcomeSuccess,
		Module: event.ModuleLineaged, Message: msg, Config: info,
	}
	r.write(e)
}

// kernelSettings are the kernel's side of what is in force, as the
// report's CIS 4.1.1.3, 4.1.2.4 and 4.1.17 need it: the audit state
// (enabled 2 is immutable) and audit= / audit_backlog_limit= on the kernel
// command line. What cannot be read is left out (the report then says to
// check by hand), never guessed.
func kernelSettings() []event.KV {
	var kv []event.KV
	if st, err := audit.ReadStatus(); err == nil {
		kv = append(kv,
			event.KV{Key: "kernel.audit_enabled", Value: strconv.FormatUint(uint64(st.Enabled), 10)},
			event.KV{Key: "kernel.audit_backlog_limit", Value: strconv.FormatUint(uint64(st.BacklogLimit), 10)},
			event.KV{Key: "kernel.audit_failure", Value: strconv.FormatUint(uint64(st.Failure), 10)})
	}
	if b, err := os.ReadFile("/proc/cmdline"); err == nil {
		audit, backlog := "absent", "absent"
		for _, f := range strings.Fields(string(b)) {
			if v, ok := strings.CutPrefix(f, "audit="); ok {
				audit = v
			}
			if v, ok := strings.CutPrefix(f, "audit_backlog_limit="); ok {
				backlog = v
			}
		}
		kv = append(kv, event.KV{Key: "kernel.cmdline_audit", Value: audit},
			event.KV{Key: "kernel.cmdline_audit_backlog_limit", Value: backlog})
	}
	return kv
}

// reload applies a new configuration. Each part is applied on its own: a
// bad rule file keeps the rules in force and still lets the rest change.
// The output is flushed and reopened first, so that lines written before
// the reload are in the old file, later ones in the new.
func (r *liveRun) reload(rl Reload, readFiles func(*fanotify.Watcher)) error {
	var errs []error
	if err := r.sink.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("flushing the output: %w", err))
	}
	if ro, ok := r.sink.(Reopener); ok {
		if err := ro.Reopen(); err != nil {
			errs = append(errs, fmt.Errorf("reopening the output: %w", err))
		}
	}
	if rl.Invalid != nil {
		err := fmt.Errorf("configuration not reloaded, the one in force stays: %w", rl.Invalid)
		errs = append(errs, err)
		r.failedReload(errors.Join(errs...))
		return err
	}
	if r.live != nil && r.live.Mode() == audit.ModeOwn {
		rs := rl.Rules
		var err error
		if rs == nil {
			rs, err = audit.ParseRules("built-in default.rules", strings.NewReader(audit.DefaultRules))
		}
		if err == nil {
			err = r.live.Reload(rs)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("audit rules: %w (the previous rules stay in force)", err))
		}
	}
	r.cfg.Redact = rl.Redact
	r.cfg.Heartbeat = rl.Heartbeat
	if rl.FlushEvery > 0 {
		r.cfg.FlushEvery = rl.FlushEvery
	}
	switch {
	case rl.BatchWindow == 0:
		r.cfg.BatchWindow = DefaultBatchWindow
	default:
		r.cfg.BatchWindow = rl.BatchWindow
	}
	// File watches: the new watcher is opened before the old one closes,
	// so no file event falls between them (some may come twice).
	old := r.fw
	r.fw = nil
	if !rl.FilesOff {
		r.fw = r.openFiles(rl.Files)
		if r.fw != nil {
			go readFiles(r.fw)
		} else {
			errs = append(errs, errors.New("fanotify: the new watch policy could not be opened"))
		}
	}
	if old != nil {
		r.filesOverflowsBefore += old.Stats().Overflows // counters stay totals across reloads
		old.Close()
	}
	r.cfg.Files, r.cfg.FilesOff = rl.Files, rl.FilesOff
	r.cfg.Settings, r.cfg.ConfigSource = rl.Settings, rl.Source
	r.settingsEvent(event.ActionReloaded, rl.Source, rl.Settings)
	if err := errors.Join(errs...); err != nil {
		r.failedReload(err)
		return err
	}
	return nil
}

// failedReload reports what a reload could not do.
func (r *liveRun) failedReload(err error) {
	r.cfg.Logf("reload: %v", err)
	e := &r.ev
	*e = event.Event{
		TimeMsec: time.Now().UnixMilli(),
		Category: event.CategoryConfiguration, Type: event.TypeChange, Action: event.ActionReloadFailed, Outcome: event.OutcomeFailure,
		Module: event.ModuleLineaged, Message: err.Error(),
	}
	r.write(e)
}

// heartbeat writes the agent's counters: a SIEM that stops receiving them
// knows the agent (or its forwarding) is down.
func (r *liveRun) heartbeat(now time.Time) {
	r.lastBeat = now
	gs := r.graph.Stats()
	labels := []event.KV{
		{Key: "uptime_s", Value: strconv.FormatInt(int64(now.Sub(r.started)/time.Second), 10)},
		{Key: "events_written", Value: strconv.FormatUint(r.written, 10)},
		{Key: "execs_merged", Value: strconv.FormatUint(r.merged, 10)},
		{Key: "audit_receive_errors", Value: strconv.FormatUint(r.auditErrs, 10)},
		{Key: "audit_sequence_gaps", Value: strconv.FormatUint(r.ra.Stats().Lost, 10)},
		{Key: "proc_overruns", Value: strconv.FormatUint(r.overruns, 10)},
		{Key: "graph_processes", Value: strconv.Itoa(gs.Nodes)},
	}
	if r.fw != nil {
		fs := r.fw.Stats()
		labels = append(labels,
			event.KV{Key: "fanotify_events", Value: strconv.FormatUint(fs.Events, 10)},
			event.KV{Key: "fanotify_overflows", Value: strconv.FormatUint(fs.Overflows, 10)})
	}
	e := &r.ev
	*e = event.Event{
		TimeMsec: now.UnixMilli(),
		Category: event.CategoryHost, Type: event.TypeInfo, Action: event.ActionHeartbeat, Outcome: event.OutcomeSuccess,
		Module: event.ModuleLineaged, Message: "lineaged is running", Labels: labels,
	}
	r.write(e)
}

// redact applies the configured redaction to an event's command line.
// Args are copied before rewriting: sources may share them.
func (r *liveRun) redact(e *event.Event) {
	f := r.cfg.Redact
	if f == nil {
		return
	}
	p := &e.Process
	var out []string
	for i, a := range p.Args {
		if ra := f(a); ra != a {
			if out == nil {
				out = append([]string(nil), p.Args...)
			}
			out[i] = ra
		}
	}
	if out != nil {
		p.Args = out
	}
	if p.Title != "" {
		p.Title = f(p.Title)
	}
}

// counters snapshots the agent's figures for Publish.
func (r *liveRun) counters(now time.Time) *Counters {
	c := &Counters{
		EventsWritten:     r.written,
		Alerts:            r.alerts,
		BySource:          make(map[string]uint64, len(r.bySource)),
		AuditKernelLost:   r.kernelLost,
		AuditSequenceGaps: r.ra.Stats().Lost,
		AuditReceiveErrs:  r.auditErrs,
		ProcOverruns:      r.overruns,
		OutputErrors:      r.outErrs,
		OutputDropped:     r.outDropped,
		AuditLogErrors:    r.recordLogErrs,
		ExecsMerged:       r.merged,
		GraphProcesses:    r.graph.Stats().Nodes,
		PendingExecs:      len(r.pendingProc),
		AuditInFlight:     r.ra.InFlight(),
		UptimeSeconds:     int64(now.Sub(r.started) / time.Second),
	}
	for k, v := range r.bySource {
		c.BySource[k] = v
	}
	c.Sources = append([]SourceState(nil), r.sources...)
	out := SourceState{Name: "output", State: "running", Detail: "writing"}
	switch {
	case r.outFailing:
		out.State, out.Detail = "degraded", "dropping lines: the output cannot be written (disk full or I/O error)"
	case r.sinkErr != nil:
		out.State, out.Detail = "degraded", r.sinkErr.Error()
	case r.outDropped > 0:
		out.Detail = fmt.Sprintf("writing again; %d lines were dropped", r.outDropped)
	}
	c.Sources = append(c.Sources, out)
	c.FanotifyOverflows = r.filesOverflowsBefore
	if r.fw != nil {
		c.FanotifyOverflows += r.fw.Stats().Overflows
	}
	return c
}
