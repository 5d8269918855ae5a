package agent

import (
	"fmt"
	"maps"
	"strconv"

	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
)

// Sink receives finished events. The event is only valid during the call.
type Sink interface {
	Write(e *event.Event) error
}

// Detector judges finished events (package detect's Engine, with the
// baseline file's life around it). Observe sees every event after it has
// its event.id, with the handle on its process's graph node (where the
// detector keeps what it remembers of the process); it passes alerts to
// emit, which gives them ids and writes them. Tick (live, on the wall clock) and Flush (at the end) close what
// detection holds open: folded repeats, rate windows, package-manager
// runs.
type Detector interface {
	Observe(e *event.Event, p graph.Proc, emit func(*event.Event))
	Tick(nowMsec int64, emit func(*event.Event))
	Flush(emit func(*event.Event))
}

// PipelineConfig configures the pipeline.
type PipelineConfig struct {
	// Host is host.name of events that name none (the local host name,
	// or replay's --host for records without node=).
	Host string
	// IDPrefix starts every event.id (a run id; tests fix it).
	IDPrefix string
	// Graph is the lineage graph's configuration; one graph is kept per
	// host.name (replay: per audit node=, whose pids would collide in
	// one index), each with Graph.Host set to that name.
	Graph graph.Config
	// Redact rewrites a command-line string (each argument and the
	// title) to hide secrets, before the graph or the output see it
	// (nil: none).
	Redact func(string) string
	// AlertsOnly writes alerts only; every event is still judged and
	// numbered, so an alert's evidence names the id the event would have.
	AlertsOnly bool
	// Detector, when set, judges every event written.
	Detector Detector
	// Observe, when set, sees every event and alert written, after the
	// output (the live view). It must be quick and must not keep e.
	Observe func(e *event.Event)
	// Accounts, when set (live), names the users and groups of events
	// the records did not name, from the local account database. Replay
	// has none: the machine replaying is not the one recorded, and its
	// names would be guesses.
	Accounts Accounts
}

// Accounts resolves ids to names (internal/accounts); "" and false when
// unknown, never a guess.
type Accounts interface {
	User(uid string) (string, bool)
	Group(gid string) (string, bool)
}

// Pipeline is the one path every event takes, live and in replay (SPEC
// §8): redact, enrich with the lineage graph, number, write, judge,
// observe. The sources and the clock are what differ between `run` and
// `replay`; what the pipeline does to an event is the same. It belongs to
// one goroutine.
//
// Handle does it all for an event that is ready. The live exec merge
// splits it: Enrich when an exec arrives (so the graph learns the exec at
// once), Write when its twin has come or its wait is over.
type Pipeline struct {
	cfg  PipelineConfig
	sink Sink

	graphs    map[string]*graph.Graph
	order     []*graph.Graph
	lastHost  string
	lastGraph *graph.Graph

	seq   uint64
	idBuf []byte

	seen    connSeen
	stats   PipelineStats
	sinkErr error
	dirty   bool // a line was written since TakeDirty
}

// PipelineStats are the pipeline's counters.
type PipelineStats struct {
	Written  uint64            // lines the sink took
	BySource map[string]uint64 // of those, per event.module
	Alerts   uint64            // alerts raised by the detector
	Repeats  uint64            // its alert-repeated events
	OutErrs  uint64            // lines the sink refused
	// Merged counts events that repeated a fact another source had
	// already written (an exit from both audit's exit_group and the
	// proc connector, a connect from audit and sock_diag): one fact,
	// one line (SPEC §5).
	Merged uint64
}

// NewPipeline returns a pipeline writing to sink.
func NewPipeline(cfg PipelineConfig, sink Sink) *Pipeline {
	return &Pipeline{cfg: cfg, sink: sink, graphs: map[string]*graph.Graph{},
		stats: PipelineStats{BySource: map[string]uint64{}}}
}

// Handle enriches e and writes it.
func (p *Pipeline) Handle(e *event.Event) { p.Write(e, p.Enrich(e)) }

// Enrich redacts e's command line and records e in its host's lineage
// graph, which fills in its entity id and ancestry. Events without a
// process pass through the graph untouched.
func (p *Pipeline) Enrich(e *event.Event) graph.Proc {
	if e.Host == "" {
		e.Host = p.cfg.Host
	}
	p.redact(e)
	if a := p.cfg.Accounts; a != nil {
		nameUser(a, &e.User)
		if e.Target != nil {
			nameUser(a, e.Target)
		}
	}
	g := p.graph(e.Host)
	proc := g.Enrich(e)
	if e.Action == event.ActionIpcConnected {
		p.linkPeer(g, e)
	}
	return proc
}

// nameUser fills u's user and group names from the account database where
// the record gave none.
func nameUser(a Accounts, u *event.User) {
	if u.Name == "" && u.ID != "" {
		u.Name, _ = a.User(u.ID)
	}
	if u.GroupName == "" && u.GroupID != "" {
		u.GroupName, _ = a.Group(u.GroupID)
	}
}

// Write numbers e (whose process Enrich returned, or the zero Proc for an
// event about none), writes it (unless only alerts are written and it is
// none), has the detector judge it and the view observe it. A line the
// output could not take is still judged and shown.
func (p *Pipeline) Write(e *event.Event, proc graph.Proc) {
	if proc.RepeatedExit() || p.seen.repeat(e) {
		p.stats.Merged++
		return
	}
	if e.Host == "" {
		e.Host = p.cfg.Host
	}
	e.ID = p.nextID()
	if !p.cfg.AlertsOnly || e.Kind == event.KindAlert || e.Alert != nil {
		p.write(e)
	}
	if d := p.cfg.Detector; d != nil && e.Kind == event.KindEvent && e.Alert == nil {
		d.Observe(e, proc, p.alert)
	}
	if p.cfg.Observe != nil {
		p.cfg.Observe(e)
	}
}

func (p *Pipeline) write(e *event.Event) {
	if err := p.sink.Write(e); err != nil {
		p.stats.OutErrs++
		if p.sinkErr == nil {
			p.sinkErr = fmt.Errorf("writing output: %w", err)
		}
		return
	}
	p.stats.Written++
	p.stats.BySource[string(e.Module)]++
	p.dirty = true
}

// alert writes an alert (or an alert's repeat count) from the detector.
func (p *Pipeline) alert(a *event.Event) {
	if a.Kind == event.KindAlert {
		p.stats.Alerts++
	} else {
		p.stats.Repeats++
	}
	p.Write(a, graph.Proc{})
}

// Tick lets the detector close its windows as of nowMsec (live).
func (p *Pipeline) Tick(nowMsec int64) {
	if d := p.cfg.Detector; d != nil {
		d.Tick(nowMsec, p.alert)
	}
}

// Flush has the detector report what it holds (at the end).
func (p *Pipeline) Flush() {
	if d := p.cfg.Detector; d != nil {
		d.Flush(p.alert)
	}
}

// SetRedact replaces the redaction (a reload).
func (p *Pipeline) SetRedact(f func(string) string) { p.cfg.Redact = f }

// SetObserve replaces the view's hook.
func (p *Pipeline) SetObserve(f func(*event.Event)) { p.cfg.Observe = f }

// Stats returns the counters (BySource is a copy).
func (p *Pipeline) Stats() PipelineStats {
	s := p.stats
	s.BySource = maps.Clone(p.stats.BySource)
	return s
}

// Err is the first error the sink returned (nil when none).
func (p *Pipeline) Err() error { return p.sinkErr }

// TakeDirty reports whether a line was written since the last call.
func (p *Pipeline) TakeDirty() bool {
	d := p.dirty
	p.dirty = false
	return d
}

// GraphStats sums the graphs' counters.
func (p *Pipeline) GraphStats() graph.Stats {
	var s graph.Stats
	for _, g := range p.order {
		gs := g.Stats()
		s.Nodes += gs.Nodes
		s.Exited += gs.Exited
		s.Created += gs.Created
		s.Evicted += gs.Evicted
		s.PIDReuse += gs.PIDReuse
	}
	return s
}

// Graph is the graph of host (created on first use).
func (p *Pipeline) Graph(host string) *graph.Graph { return p.graph(host) }

func (p *Pipeline) graph(host string) *graph.Graph {
	if p.lastGraph != nil && host == p.lastHost {
		return p.lastGraph
	}
	g, ok := p.graphs[host]
	if !ok {
		c := p.cfg.Graph
		c.Host = host
		g = graph.New(c)
		p.graphs[host] = g
		p.order = append(p.order, g)
	}
	p.lastHost, p.lastGraph = host, g
	return g
}

func (p *Pipeline) nextID() string {
	p.seq++
	p.idBuf = append(p.idBuf[:0], p.cfg.IDPrefix...)
	p.idBuf = append(p.idBuf, '-')
	p.idBuf = strconv.AppendUint(p.idBuf, p.seq, 10)
	return string(p.idBuf)
}

// redact applies the configured redaction to e's command line. Args are
// copied before rewriting: sources and the graph share them.
func (p *Pipeline) redact(e *event.Event) {
	f := p.cfg.Redact
	if f == nil {
		return
	}
	pr := &e.Process
	var out []string
	for i, a := range pr.Args {
		if ra := f(a); ra != a {
			if out == nil {
				out = append([]string(nil), pr.Args...)
			}
			out[i] = ra
		}
	}
	if out != nil {
		pr.Args = out
	}
	if pr.Title != "" {
		pr.Title = f(pr.Title)
	}
}

// linkPeer records an IPC edge in the graph and names the other end.
func (p *Pipeline) linkPeer(g *graph.Graph, e *event.Event) {
	for _, kv := range e.Labels {
		if kv.Key != "peer_pid" {
			continue
		}
		pid, err := strconv.Atoi(kv.Value)
		if err != nil {
			return
		}
		transport := ""
		if e.Network != nil {
			transport = e.Network.Transport
		}
		g.LinkIPC(e.Process.PID, pid, transport, e.TimeMsec)
		if n, ok := g.Lookup(pid); ok {
			e.Labels = append(e.Labels,
				event.KV{Key: "peer_entity_id", Value: n.EntityID},
				event.KV{Key: "peer_executable", Value: n.Executable})
		}
		return
	}
}

// The live graph forgets an exited process liveExitTTL after its exit
// (its late records come within a batch or two; a living child keeps its
// ancestors through parent pointers), and indexes at most liveMaxNodes
// processes. At 2,000 execs/s that holds about 20,000 exited processes,
// about 2 KiB each (make soak). Audit and the proc connector stamp with
// different clocks: liveClockSkew.
const (
	liveExitTTL   = 10_000 // msec
	liveMaxNodes  = 65536
	liveClockSkew = 100 // msec
)

// liveGraph is the live graph's configuration.
func liveGraph() graph.Config {
	return graph.Config{ClockSkew: liveClockSkew, ExitTTL: liveExitTTL, MaxNodes: liveMaxNodes}
}
