package agent

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/kafkaout"
	"github.com/lineaged/lineaged/syslogout"
)

// Counters are the live agent's figures, published twice a second for
// the metrics endpoint and the live view (SPEC §6): totals since start
// unless named otherwise.
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
	EventsMerged      uint64 // exits and connects another source had already written, left out
	// Gauges.
	GraphProcesses int // processes in the lineage graph
	PendingExecs   int // connector execs waiting for their audit twin
	AuditInFlight  int // audit events being reassembled
	Alerts         uint64
	UptimeSeconds  int64
	// Sources says, per source and for the output, whether it runs, how,
	// and its two figures (the live view's health table).
	Sources []event.Health
	// Syslog is the syslog writer's counters (nil without output.syslog).
	Syslog *syslogout.Stats
	// Kafka is the Kafka writer's counters (nil without output.kafka).
	Kafka *kafkaout.Stats
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
	for _, src := range []event.Module{event.ModuleAudit, event.ModuleProc, event.ModuleFanotify, event.ModuleSockDiag, event.ModuleLineaged} {
		p("lineaged_events_total{source=%q} %d\n", src, c.BySource[string(src)])
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
	metric("lineaged_events_merged_total", "counter", "Exits and connects reported by a second source after the first was written, left out (one fact, one line).", c.EventsMerged)
	metric("lineaged_alerts_total", "counter", "Alerts raised.", c.Alerts)
	metric("lineaged_graph_processes", "gauge", "Processes in the lineage graph.", c.GraphProcesses)
	metric("lineaged_pending_execs", "gauge", "Connector execs waiting for their audit twin.", c.PendingExecs)
	metric("lineaged_audit_events_in_flight", "gauge", "Audit events being reassembled.", c.AuditInFlight)
	metric("lineaged_uptime_seconds", "gauge", "Seconds since lineaged started.", c.UptimeSeconds)
	if c.Syslog != nil {
		writeSyslog(p, c.Syslog)
	}
	if c.Kafka != nil {
		writeKafka(p, c.Kafka)
	}
	return err
}

// writeSyslog adds the syslog writer's counters.
func writeSyslog(p func(string, ...any), st *syslogout.Stats) {
	up := 0
	if st.Connected {
		up = 1
	}
	p("# HELP lineaged_syslog_messages_total Syslog messages by outcome (sent includes resends).\n# TYPE lineaged_syslog_messages_total counter\n")
	for _, x := range []struct {
		k string
		v uint64
	}{{"sent", st.Sent}, {"resent", st.Resent}, {"confirmed", st.Confirmed}, {"spooled", st.Spooled}, {"dropped", st.Dropped}, {"corrupt", st.Corrupt}} {
		p("lineaged_syslog_messages_total{outcome=%q} %d\n", x.k, x.v)
	}
	p("# HELP lineaged_syslog_queued Syslog messages not yet confirmed.\n# TYPE lineaged_syslog_queued gauge\nlineaged_syslog_queued %d\n", st.Queued)
	p("# HELP lineaged_syslog_connected Whether the syslog receiver is connected.\n# TYPE lineaged_syslog_connected gauge\nlineaged_syslog_connected %d\n", up)
}

// writeKafka adds the Kafka writer's counters.
func writeKafka(p func(string, ...any), st *kafkaout.Stats) {
	failing := 0
	if st.Failing {
		failing = 1
	}
	p("# HELP lineaged_kafka_lines_total Lines for Kafka by outcome (sent: acknowledged by the brokers).\n# TYPE lineaged_kafka_lines_total counter\n")
	for _, x := range []struct {
		k string
		v uint64
	}{{"sent", st.Sent}, {"spooled", st.Spooled}, {"dropped", st.Dropped}, {"corrupt", st.Corrupt}} {
		p("lineaged_kafka_lines_total{outcome=%q} %d\n", x.k, x.v)
	}
	p("# HELP lineaged_kafka_delivery_errors_total Deliveries to Kafka that failed (the line is tried again unless dropped).\n# TYPE lineaged_kafka_delivery_errors_total counter\nlineaged_kafka_delivery_errors_total %d\n", st.Errors)
	p("# HELP lineaged_kafka_queued Lines not yet acknowledged by Kafka (memory, producer, spool).\n# TYPE lineaged_kafka_queued gauge\nlineaged_kafka_queued %d\n", st.Queued)
	p("# HELP lineaged_kafka_spool_bytes Bytes in the Kafka spool.\n# TYPE lineaged_kafka_spool_bytes gauge\nlineaged_kafka_spool_bytes %d\n", st.SpoolBytes)
	p("# HELP lineaged_kafka_failing Whether deliveries to Kafka are failing.\n# TYPE lineaged_kafka_failing gauge\nlineaged_kafka_failing %d\n", failing)
}

// serveMetrics serves the latest counters in the Prometheus text format
// at http://ADDR/metrics until the returned stop is called. The
// configuration refuses an address off loopback unless allow_remote is
// set; this checks again.
func serveMetrics(m config.Metrics, latest *atomic.Pointer[Counters], log zerolog.Logger) (stop func(), err error) {
	if !m.AllowRemote && !config.IsLoopback(m.Listen) {
		return nil, fmt.Errorf("metrics: %s is not a loopback address (metrics.allow_remote is false)", m.Listen)
	}
	ln, err := net.Listen("tcp", m.Listen)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = WritePrometheus(w, latest.Load())
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("metrics server stopped")
		}
	}()
	log.Info().Msgf("metrics on http://%s/metrics", ln.Addr())
	return func() { srv.Close() }, nil
}
