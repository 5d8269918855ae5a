package agent

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
)

// Sink receives finished events. The event is only valid during the call.
type Sink interface {
	Write(e *event.Event) error
}

// Detector judges finished events (package detect's Engine). Observe sees
// every event after it has its event.id; it passes alerts to emit, which
// gives them ids and writes them. Tick (live) and Flush (end) close what
// detection holds open: folded repeats, rate windows, package-manager
// runs.
type Detector interface {
	Observe(e *event.Event, p graph.Proc, emit func(*event.Event))
	Tick(nowMsec int64, emit func(*event.Event))
	Flush(emit func(*event.Event))
}

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
	// MaxInFlight and TimeoutMsec tune reassembly (defaults 64 events and
	// 2 s of log time).
	MaxInFlight int
	TimeoutMsec int64
	// Progress, when set, is called now and then with bytes read so far.
	Progress func(read int64)
	// MaxProcesses caps the processes each host's graph indexes (default
	// DefaultReplayProcesses). Most logs have no exit records, so the graph
	// cannot know when a process ended: it keeps the most recently active
	// ones (a new child refreshes its ancestors) and evicts the rest.
	MaxProcesses int
	// MaxLine is the longest line accepted (default 1 MiB); longer lines
	// are reported as malformed, never cut silently.
	MaxLine int
}

// Input is one log to replay.
type Input struct {
	Name string    // file name for reports ("-" for stdin)
	R    io.Reader // plain or gzip; gzip is detected by its magic bytes
}

// Malformed is one line that could not be parsed.
type Malformed struct {
	File   string
	Line   int
	Reason string
}

func (m Malformed) String() string { return m.File + ":" + strconv.Itoa(m.Line) + ": " + m.Reason }

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
	Malformed      []Malformed // the first maxMalformedKept positions
	Reassembly     audit.ReassemblerStats
	Normalize      audit.NormalizeStats
	Graph          graph.Stats // summed over nodes
	Nodes          int         // distinct audit nodes (hosts) seen
}

const maxMalformedKept = 1000

// DefaultReplayProcesses is the default per-host process index of a replay:
// far above the live process count of a server, and small enough that a
// long log without exit records replays in bounded memory.
const DefaultReplayProcesses = 16384

// Replay reads raw audit logs and writes one event per reassembled audit
// event to sink, each enriched with its process ancestry. It never stops at
// a bad line: malformed lines are counted, their positions kept, and a
// summary event (event.action "replay-summary") closes the stream.
func Replay(ctx context.Context, cfg ReplayConfig, inputs []Input, sink Sink) (Summary, error) {
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = 64
	}
	if cfg.TimeoutMsec == 0 {
		cfg.TimeoutMsec = 2000
	}
	if cfg.MaxProcesses <= 0 {
		cfg.MaxProcesses = DefaultReplayProcesses
	}
	if cfg.MaxLine == 0 {
		cfg.MaxLine = 1 << 20
	}
	p := &pipeline{cfg: cfg, sink: sink, hosts: map[string]*hostState{}, pool: &audit.RecordPool{}}
	p.norm = audit.NewNormalizer(cfg.Host)
	var firstErr error
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			// Interrupted: what was read is still finished and written,
			// with the summary, before returning.
			firstErr = err
			break
		}
		p.sum.Files++
		if err := p.readInput(ctx, in); err != nil {
			// A file that cannot be read is an error for that file; the
			// others are still replayed.
			err = fmt.Errorf("%s: %w", in.Name, err)
			if firstErr == nil {
				firstErr = err
			}
			p.malformed(in.Name, 0, err.Error())
		}
	}
	for _, h := range p.hostOrder {
		h.ra.Flush()
	}
	if p.cfg.Detector != nil {
		p.cfg.Detector.Flush(p.alert)
	}
	p.finish()
	return p.sum, errors.Join(firstErr, p.sinkErr)
}

// hostState is what is kept per audit node (host): records of different
// hosts never meet in one event, and their pids never in one graph.
type hostState struct {
	ra    *audit.Reassembler
	graph *graph.Graph
	clock int64 // newest record time seen from this host (log time)
}

type pipeline struct {
	cfg       ReplayConfig
	sink      Sink
	norm      *audit.Normalizer
	pool      *audit.RecordPool
	hosts     map[string]*hostState
	hostOrder []*hostState
	ev        event.Event
	idBuf     []byte
	seq       uint64
	clock     int64
	sum       Summary
	sinkErr   error
}

// hostFor returns the state of the node a record came from ("" for
// records without node=).
func (p *pipeline) hostFor(node []byte) *hostState {
	if h, ok := p.hosts[string(node)]; ok {
		return h
	}
	name := string(node)
	host := name
	if host == "" {
		host = p.cfg.Host
	}
	h := &hostState{graph: graph.New(graph.Config{Host: host, MaxNodes: p.cfg.MaxProcesses})}
	h.ra = audit.NewReassembler(p.cfg.MaxInFlight, p.cfg.TimeoutMsec, func(g *audit.Group) { p.emit(h, g) })
	h.ra.SetPool(p.pool)
	p.hosts[name] = h
	p.hostOrder = append(p.hostOrder, h)
	return h
}

func (p *pipeline) nextID() string {
	p.seq++
	p.idBuf = append(p.idBuf[:0], p.cfg.IDPrefix...)
	p.idBuf = append(p.idBuf, '-')
	p.idBuf = strconv.AppendUint(p.idBuf, p.seq, 10)
	return string(p.idBuf)
}

// emit is the reassembler's callback: normalise, enrich, write.
func (p *pipeline) emit(h *hostState, g *audit.Group) {
	e := &p.ev
	p.norm.Normalize(g, e)
	p.sum.EventsBuilt++
	p.write(e, h.graph.Enrich(e))
}

func (p *pipeline) write(e *event.Event, proc graph.Proc) {
	e.ID = p.nextID()
	if !p.cfg.AlertsOnly || e.Kind == event.KindAlert || e.Alert != nil {
		if err := p.sink.Write(e); err != nil {
			if p.sinkErr == nil {
				p.sinkErr = fmt.Errorf("writing output: %w", err)
			}
		} else {
			p.sum.Events++
		}
	}
	if p.cfg.Detector != nil && e.Kind == event.KindEvent {
		p.cfg.Detector.Observe(e, proc, p.alert)
	}
}

// alert writes an alert (or an alert's repeat count) raised by the
// Detector.
func (p *pipeline) alert(a *event.Event) {
	if a.Kind == event.KindAlert {
		p.sum.Alerts++
	} else {
		p.sum.AlertRepeats++
	}
	p.write(a, graph.Proc{})
}

func (p *pipeline) malformed(file string, line int, reason string) {
	p.sum.MalformedCount++
	if len(p.sum.Malformed) < maxMalformedKept {
		p.sum.Malformed = append(p.sum.Malformed, Malformed{File: file, Line: line, Reason: reason})
	}
}

// countingReader counts bytes for the progress report.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	*c.n += int64(n)
	return n, err
}

func (p *pipeline) readInput(ctx context.Context, in Input) error {
	br := bufio.NewReaderSize(countingReader{in.R, &p.sum.Bytes}, 256<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("gzip header: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 256<<10)
	}
	var long []byte // a line longer than the reader's buffer, assembled
	tooLong := false
	lineNo := 0
	lastProgress := p.sum.Bytes
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Part of a line longer than the buffer: keep it up to
			// MaxLine; past that, drop the rest and report the line.
			if !tooLong {
				if len(long)+len(chunk) > p.cfg.MaxLine {
					tooLong, long = true, long[:0]
				} else {
					long = append(long, chunk...)
				}
			}
			continue
		}
		line := chunk
		switch {
		case tooLong:
			lineNo++
			p.sum.Lines++
			p.malformed(in.Name, lineNo, "line longer than "+strconv.Itoa(p.cfg.MaxLine)+" bytes (not processed)")
			tooLong, line = false, nil
		case len(long) > 0:
			long = append(long, chunk...)
			line = long
		}
		if len(line) > 0 {
			lineNo++
			p.sum.Lines++
			p.line(in.Name, lineNo, line)
		}
		long = long[:0]
		if cap(long) > 4<<20 {
			long = nil // do not keep a huge buffer for the rest of the file
		}
		if err != nil {
			if err == io.EOF {
				break
			}
			return fmt.Errorf("read after line %d: %w", lineNo, err)
		}
		if lineNo&0x3fff == 0 {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if p.cfg.Progress != nil && p.sum.Bytes-lastProgress > 4<<20 {
				lastProgress = p.sum.Bytes
				p.cfg.Progress(p.sum.Bytes)
			}
		}
	}
	return nil
}

func (p *pipeline) line(file string, n int, line []byte) {
	line = bytes.TrimRight(line, "\r\n")
	if len(bytes.TrimSpace(line)) == 0 {
		return // blank lines are not records and not errors
	}
	if len(line) > p.cfg.MaxLine {
		p.malformed(file, n, "line longer than "+strconv.Itoa(p.cfg.MaxLine)+" bytes (not processed)")
		return
	}
	r := p.pool.Get()
	if err := r.Parse(line); err != nil {
		p.pool.Put(r)
		p.malformed(file, n, err.Error())
		return
	}
	p.sum.Records++
	h := p.hostFor(r.Node)
	// The replay clock is log time: the newest record time seen from the
	// host. Events older than the timeout relative to it are complete.
	if t := r.TimeMsec(); t > h.clock {
		h.clock = t
	}
	if t := r.TimeMsec(); t > p.clock {
		p.clock = t
	}
	h.ra.Push(r, h.clock)
}

// finish emits the replay summary event and fills the summary.
func (p *pipeline) finish() {
	p.sum.Normalize = p.norm.Stats
	p.sum.Nodes = len(p.hosts)
	for _, h := range p.hostOrder {
		r := h.ra.Stats()
		p.sum.Reassembly.Events += r.Events
		p.sum.Reassembly.Records += r.Records
		p.sum.Reassembly.Lost += r.Lost
		p.sum.Reassembly.Late += r.Late
		p.sum.Reassembly.Resets += r.Resets
		p.sum.Reassembly.Expired += r.Expired
		p.sum.Reassembly.Overflowed += r.Overflowed
		s := h.graph.Stats()
		p.sum.Graph.Nodes += s.Nodes
		p.sum.Graph.Exited += s.Exited
		p.sum.Graph.Created += s.Created
		p.sum.Graph.Evicted += s.Evicted
		p.sum.Graph.PIDReuse += s.PIDReuse
	}
	e := &p.ev
	*e = event.Event{
		TimeMsec: p.clock,
		Host:     p.cfg.Host,
		Category: event.CategoryHost,
		Type:     event.TypeInfo,
		Action:   event.ActionReplaySummary,
		Outcome:  event.OutcomeSuccess,
	}
	if p.sum.MalformedCount > 0 {
		e.Outcome = event.OutcomeFailure
	}
	s := &p.sum
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
	if !p.cfg.AlertsOnly {
		p.write(e, graph.Proc{})
	}
}
