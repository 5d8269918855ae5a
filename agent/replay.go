package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
)

// ReplayConfig configures a replay.
type ReplayConfig struct {
	// Host names events of records without a node= prefix.
	Host string
	// IDPrefix starts every event.id (a run id); tests fix it.
	IDPrefix string
	// AlertsOnly drops events that are not alerts (the Detector still
	// sees them all; their event.ids are still counted, so an alert's
	// evidence names the id the event would have had).
	AlertsOnly bool
	// Detector, when set, judges every event after it is written and
	// may add alerts (detection, learning).
	Detector Detector
	// Redact hides secrets in command lines, as live (nil: none).
	Redact func(string) string
	// MaxInFlight and TimeoutMsec tune reassembly (defaults: the live
	// source's, 256 events and 2 s of log time); MaxLine is the longest
	// line accepted (1 MiB).
	MaxInFlight int
	TimeoutMsec int64
	MaxLine     int
	// MaxProcesses caps the processes each host's graph indexes (default
	// DefaultReplayProcesses). Most logs have no exit records, so the graph
	// cannot know when a process ended: it keeps the most recently active
	// ones (a new child refreshes its ancestors) and evicts the rest.
	MaxProcesses int
	// Progress, when set, is called now and then with bytes read so far.
	Progress func(read int64)
}

// DefaultReplayProcesses is the default per-host process index of a replay:
// far above the live process count of a server, and small enough that a
// long log without exit records replays in bounded memory.
const DefaultReplayProcesses = 16384

// Summary is what a replay did.
type Summary struct {
	Files          int
	Lines          uint64
	Bytes          int64
	Records        uint64
	Events         uint64 // events written (after --alerts-only)
	Alerts         uint64 // alerts raised by the Detector
	AlertRepeats   uint64 // its alert-repeated events (folded repeats' counts)
	EventsBuilt    uint64
	MalformedCount uint64
	Malformed      []audit.Malformed // the first audit.MaxMalformedKept positions
	Reassembly     audit.ReassemblerStats
	Normalize      audit.NormalizeStats
	Graph          graph.Stats // summed over hosts
	Nodes          int         // distinct audit nodes (hosts) seen
}

// Replay reads raw audit logs and runs them through the pipeline `run`
// uses, with the log as the source and log time as the clock: one event
// per reassembled audit event, enriched with its ancestry, judged, and
// written to sink. It never stops at a bad line: malformed lines are
// counted, their positions kept, and a summary event (event.action
// replay-summary) closes the stream. An interrupt (ctx) stops reading;
// what was read is still finished and written, with the summary.
func Replay(ctx context.Context, cfg ReplayConfig, inputs []audit.Input, sink Sink) (Summary, error) {
	if cfg.MaxProcesses <= 0 {
		cfg.MaxProcesses = DefaultReplayProcesses
	}
	src := audit.NewLogSource(audit.LogConfig{Host: cfg.Host, MaxInFlight: cfg.MaxInFlight,
		TimeoutMsec: cfg.TimeoutMsec, MaxLine: cfg.MaxLine, Progress: cfg.Progress}, inputs)
	p := NewPipeline(PipelineConfig{
		Host: cfg.Host, IDPrefix: cfg.IDPrefix, AlertsOnly: cfg.AlertsOnly,
		Graph:    graph.Config{MaxNodes: cfg.MaxProcesses},
		Redact:   cfg.Redact,
		Detector: cfg.Detector,
	}, sink)
	var stopped error
	for {
		if err := ctx.Err(); err != nil {
			stopped = err
			break
		}
		if err := src.ReadBatch(p.Handle); errors.Is(err, io.EOF) {
			break
		}
	}
	if stopped != nil {
		// Interrupted: complete what is in flight.
		src.Flush(p.Handle)
	}
	p.Flush()
	sum := summarize(src.Stats(), p)
	if !cfg.AlertsOnly {
		e := summaryEvent(&sum, src.Stats().Clock, cfg.Host)
		p.Write(&e, graph.Proc{})
		sum.Events = p.Stats().Written
	}
	return sum, errors.Join(stopped, src.Err(), p.Err())
}

func summarize(ls audit.LogStats, p *Pipeline) Summary {
	ps := p.Stats()
	return Summary{
		Files: ls.Files, Lines: ls.Lines, Bytes: ls.Bytes, Records: ls.Records,
		Events: ps.Written, Alerts: ps.Alerts, AlertRepeats: ps.Repeats,
		EventsBuilt: ls.Events, MalformedCount: ls.MalformedCount, Malformed: ls.Malformed,
		Reassembly: ls.Reassembly, Normalize: ls.Normalize, Graph: p.GraphStats(), Nodes: ls.Nodes,
	}
}

// summaryEvent is the replay-summary event that closes a replay's stream.
func summaryEvent(s *Summary, clock int64, host string) event.Event {
	e := event.Event{
		TimeMsec: clock, Host: host,
		Category: event.CategoryHost, Type: event.TypeInfo, Action: event.ActionReplaySummary, Outcome: event.OutcomeSuccess,
	}
	if s.MalformedCount > 0 {
		e.Outcome = event.OutcomeFailure
	}
	e.Message = fmt.Sprintf("replayed %d files, %d lines, %d records into %d events; %d malformed lines",
		s.Files, s.Lines, s.Records, s.EventsBuilt, s.MalformedCount)
	for i, m := range s.Malformed {
		if i == 20 {
			e.Message += fmt.Sprintf("; and %d more", s.MalformedCount-20)
			break
		}
		e.Message += "; " + m.String()
	}
	u := func(k string, v uint64) {
		e.Labels = append(e.Labels, event.KV{Key: k, Value: strconv.FormatUint(v, 10)})
	}
	u("lines", s.Lines)
	u("records", s.Records)
	u("events", s.EventsBuilt)
	u("malformed_lines", s.MalformedCount)
	u("sequence_gaps", s.Reassembly.Lost)
	u("late_records", s.Reassembly.Late)
	u("sequence_resets", s.Reassembly.Resets)
	u("unknown_record_types", s.Normalize.UnknownTypes)
	u("exec_args_missing", s.Normalize.ExecArgsMissing)
	u("alerts", s.Alerts)
	u("alert_repeats", s.AlertRepeats)
	u("graph_nodes", uint64(s.Graph.Nodes))
	u("graph_evicted", s.Graph.Evicted)
	u("pid_reuse", s.Graph.PIDReuse)
	return e
}
