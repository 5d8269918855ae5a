package agent

import (
	"fmt"
	"io"
)

// Counters are the live agent's figures, published for the metrics
// endpoint (SPEC §6): totals since start unless named otherwise.
type Counters struct {
	EventsWritten uint64
	// BySource counts written events per event.module.
	BySource map[string]uint64
	// Loss and overflow: nothing is dropped without a count here.
	AuditKernelLost   uint64 // the kernel's lost counter, since start
	AuditSequenceGaps uint64 // serials that never arrived
	AuditReceiveErrs  uint64 // datagrams that could not be read or parsed
	ProcOverruns      uint64 // proc connector ENOBUFS
	FanotifyOverflows uint64 // fanotify queue overflows
	OutputErrors      uint64 // lines the output refused
	OutputDropped     uint64 // lines dropped because the output could not be written (disk full)
	AuditLogErrors    uint64 // records or flushes the native audit.log refused
	ExecsMerged       uint64 // execs seen by audit and the connector, written once
	// Gauges.
	GraphProcesses int // processes in the lineage graph
	PendingExecs   int // connector execs waiting for their audit twin
	AuditInFlight  int // audit events being reassembled
	Alerts         uint64
	UptimeSeconds  int64
	// Sources says, per source, whether it runs and how (for the live
	// view's health table).
	Sources []SourceState
}

// SourceState is one source's state: Name is audit, proc, fanotify,
// sock_diag or output; State is running, off or degraded; Detail says why
// or how (the audit mode, the reason a source is off).
type SourceState struct {
	Name, State, Detail string
}

// WritePrometheus writes c in the Prometheus text exposition format.
func WritePrometheus(w io.Writer, c *Counters) error {
	var err error
	p := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, a...)
		}
	}
	metric := func(name, typ, help string, v any) {
		p("# HELP %s %s\n# TYPE %s %s\n%s %v\n", name, help, name, typ, name, v)
	}
	p("# HELP lineaged_events_total Events written, by source (event.module).\n# TYPE lineaged_events_total counter\n")
	for _, src := range []string{"auditd", "proc", "fanotify", "sock_diag", "lineaged"} {
		p("lineaged_events_total{source=%q} %d\n", src, c.BySource[src])
	}
	metric("lineaged_audit_kernel_lost_total", "counter", "Audit records the kernel dropped since lineaged started (backlog full or rate limit).", c.AuditKernelLost)
	metric("lineaged_audit_sequence_gaps_total", "counter", "Audit serials that never reached lineaged.", c.AuditSequenceGaps)
	metric("lineaged_audit_receive_errors_total", "counter", "Audit datagrams that could not be read or parsed.", c.AuditReceiveErrs)
	metric("lineaged_proc_overruns_total", "counter", "Proc connector receive-buffer overruns (events lost; graph repaired from /proc).", c.ProcOverruns)
	metric("lineaged_fanotify_overflows_total", "counter", "fanotify queue overflows (file events lost).", c.FanotifyOverflows)
	metric("lineaged_output_errors_total", "counter", "Events the output could not write.", c.OutputErrors)
	metric("lineaged_output_dropped_lines_total", "counter", "Event lines dropped because the output could not be written (disk full, I/O error).", c.OutputDropped)
	metric("lineaged_audit_log_errors_total", "counter", "Records or flushes the native audit.log could not write.", c.AuditLogErrors)
	metric("lineaged_execs_merged_total", "counter", "Execs reported by both audit and the proc connector, written once.", c.ExecsMerged)
	metric("lineaged_alerts_total", "counter", "Alerts raised.", c.Alerts)
	metric("lineaged_graph_processes", "gauge", "Processes in the lineage graph.", c.GraphProcesses)
	metric("lineaged_pending_execs", "gauge", "Connector execs waiting for their audit twin.", c.PendingExecs)
	metric("lineaged_audit_events_in_flight", "gauge", "Audit events being reassembled.", c.AuditInFlight)
	metric("lineaged_uptime_seconds", "gauge", "Seconds since lineaged started.", c.UptimeSeconds)
	return err
}
