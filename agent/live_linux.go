//go:build linux

package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/fanotify"
	"github.com/lineaged/lineaged/graph"
	"github.com/lineaged/lineaged/netlink"
	"github.com/lineaged/lineaged/proc"
	"golang.org/x/sys/unix"
)

// LiveConfig configures `lineaged run`.
type LiveConfig struct {
	Host     string
	IDPrefix string
	Audit    audit.LiveConfig
	// RulesDir holds *.rules files (auditctl syntax) loaded in own mode;
	// when it has none, the built-in rule set is used.
	RulesDir string
	// SnapshotEvery is the sock_diag period (default 10 s; 0 = default,
	// negative = sock_diag off).
	SnapshotEvery time.Duration
	// FlushEvery bounds how long an accepted event may sit in the output
	// buffer (default 100 ms).
	FlushEvery time.Duration
	// Files is the fanotify watch policy (nil: fanotify.DefaultPolicy);
	// FilesOff turns the source off.
	Files    *fanotify.Policy
	FilesOff bool
	// ProcOff turns the proc connector off.
	ProcOff bool
	// OwnPaths are never reported by fanotify (lineaged's own output and
	// state: no feedback loop through its own writes).
	OwnPaths []string
	// BatchWindow is how long the loop sleeps once a source is readable,
	// so that one read takes a batch (0: DefaultBatchWindow; negative: no
	// pause). It adds at most that much latency and saves a wake-up per
	// record.
	BatchWindow time.Duration
	// Redact rewrites a command-line string (each argument and the title)
	// to hide secrets, before the graph or the output see it (nil: none).
	Redact func(string) string
	// Heartbeat is the period of the heartbeat event (0: none).
	Heartbeat time.Duration
	// Settings and ConfigSource describe the configuration in force, for
	// the settings event written at start and on every reload.
	Settings     []event.KV
	ConfigSource string
	// RecordLog, when set, gets every audit record (the native audit.log);
	// it is flushed every half second and at exit, and the caller closes it.
	RecordLog RecordLog
	// Publish, when set, receives the agent's counters twice a second (for
	// the metrics endpoint); it must not block.
	Publish func(*Counters)
	// Reloads delivers new configurations (SIGHUP) to the running agent.
	Reloads <-chan Reload
	// Detector, when set, judges every event written (detections,
	// baseline learning); its Tick runs twice a second and its Flush at
	// exit, in the loop's goroutine.
	Detector Detector
	// Observe, when set, sees every event and alert written, in the
	// loop's goroutine, after the output (the live view). It must be
	// quick and must not keep e, whose memory is reused.
	Observe func(e *event.Event)
	// Graph, when set, is the lineage graph to fill (the live view reads
	// its snapshots); nil: Run makes one with NewLiveGraph(Host).
	Graph *graph.Graph
	// Logf reports decisions and trouble (to standard error).
	Logf func(format string, args ...any)
}

// DefaultBatchWindow: at 1,000 execs/s, 10 ms cost 0.66 s of CPU per 10 s
// and 20 ms 0.53 s (bench-live), with p99 exec-to-line latency 74 and
// 84 ms against a 200 ms bound.
const DefaultBatchWindow = 20 * time.Millisecond

// A socket syscall seen by audit triggers a sock_diag snapshot snapDelay
// later, and no sooner than snapMinGap after the previous one ended: the
// owner index's own bound, so the triggered snapshot may walk /proc.
const (
	snapDelay  = 100 * time.Millisecond
	snapMinGap = netlink.DefaultMinScanInterval
)

// The live graph forgets an exited process liveExitTTL after its exit
// (its late records come within a batch or two; a living child keeps its
// ancestors through parent pointers), and indexes at most liveMaxNodes
// processes. At 2,000 execs/s that holds about 20,000 exited processes,
// about 2 KiB each (make soak); replay keeps the graph package's longer
// defaults, for logs whose exits come late or never.
const (
	liveExitTTL  = 10_000 // msec
	liveMaxNodes = 65536
)

// NewLiveGraph returns a lineage graph with the live agent's settings.
func NewLiveGraph(host string) *graph.Graph {
	// Audit and the proc connector stamp with different clocks.
	return graph.New(graph.Config{Host: host, ClockSkew: 100, ExitTTL: liveExitTTL, MaxNodes: liveMaxNodes})
}

// auditReorderMsec is how long a complete audit event waits for a lower
// serial still missing (audit.Reassembler.SetReorder).
const auditReorderMsec = 100

// auditBatchSize is how many audit datagrams one recvmmsg takes.
const auditBatchSize = 64

// auditRead is one ReadBatch: the batch and the error it returned.
type auditRead struct {
	b   *audit.Batch
	err error
}

// auditBatch turns a batch of datagrams into records for the reassembler,
// counting what cannot be one.
func (r *liveRun) auditBatch(ar auditRead) {
	if ar.err != nil {
		r.auditErrs++
		if r.auditErrs <= 10 {
			r.cfg.Logf("audit: %v", ar.err)
		}
	}
	now := time.Now().UnixMilli()
	for i := 0; i < ar.b.Len(); i++ {
		if r.cfg.RecordLog != nil {
			if typ, payload, ok := ar.b.Raw(i); ok {
				r.logRecord(typ, payload)
			}
		}
		rec := r.ra.Record()
		if err := ar.b.Record(i, rec); err != nil {
			r.ra.Release(rec)
			if !errors.Is(err, audit.ErrNotRecord) {
				r.auditErrs++
			}
			continue
		}
		r.ra.Push(rec, now)
	}
}

// Reload is a new configuration for a running agent. What cannot change
// without a restart (the audit mode, the state directory, the host name,
// the sock_diag period) is not in it.
type Reload struct {
	// Rules are put in force in audit own mode (nil: the built-in set).
	Rules       *audit.RuleSet
	Files       *fanotify.Policy // nil: fanotify.DefaultPolicy
	FilesOff    bool
	Redact      func(string) string
	Heartbeat   time.Duration
	FlushEvery  time.Duration
	BatchWindow time.Duration
	Settings    []event.KV
	Source      string
	// Invalid is set when the new configuration could not be read: the
	// agent keeps the one in force, reopens its output and reports this.
	Invalid error
	// Result receives the outcome once (nil: everything applied); the
	// agent keeps running with what did apply either way.
	Result chan<- error
}

// LoadRules reads the *.rules files of dir in augenrules order: nil, nil
// when there are none (the built-in rules then apply). Lines that parse
// but cannot be loaded here are reported through logf.
func LoadRules(dir string, logf func(string, ...any)) (*audit.RuleSet, error) {
	files, err := audit.RuleFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("rules directory %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, nil
	}
	rs, err := audit.LoadRuleFiles(files)
	if err != nil {
		return nil, err
	}
	for _, s := range rs.Skipped {
		logf("audit rule skipped: %v", s)
	}
	return rs, nil
}

// Reopener is a sink whose file can be reopened (after a rotation by
// another tool): the agent calls it on every reload.
type Reopener interface{ Reopen() error }

// RecordLog receives every kernel audit record as read: the native
// audit.log (package auditlog).
type RecordLog interface {
	Write(typ uint16, payload []byte) error
	Flush() error
}

// logRecord hands a record to the native log, counting failures (the
// first few are logged).
func (r *liveRun) logRecord(typ uint16, payload []byte) {
	if r.cfg.RecordLog == nil {
		return
	}
	if err := r.cfg.RecordLog.Write(typ, payload); err != nil {
		r.recordLogErrs++
		if r.recordLogErrs <= 10 {
			r.cfg.Logf("audit log: %v", err)
		}
	}
}

// DropReporter is a sink that drops lines it cannot write (a full disk)
// rather than stopping, and counts them.
type DropReporter interface {
	// Dropped returns the lines dropped since start and whether writing
	// fails right now.
	Dropped() (lines uint64, failing bool)
}

// checkDropped reports lines the output dropped, once writes work again
// (an event written while the disk is full would be dropped in turn).
func (r *liveRun) checkDropped() {
	dr, ok := r.sink.(DropReporter)
	if !ok {
		return
	}
	n, failing := dr.Dropped()
	r.outDropped, r.outFailing = n, failing
	if failing || n <= r.outDroppedReported {
		return
	}
	lost := n - r.outDroppedReported
	r.outDroppedReported = n
	e := &r.ev
	*e = event.Event{
		TimeMsec: time.Now().UnixMilli(),
		Category: event.CategoryHost, Type: event.TypeInfo, Action: event.ActionOutputLinesDropped, Outcome: event.OutcomeFailure,
		Module:  event.ModuleLineaged,
		Message: fmt.Sprintf("%d event lines could not be written to the output (disk full or I/O error) and were dropped; writing works again", lost),
		Labels:  []event.KV{{Key: "count", Value: strconv.FormatUint(lost, 10)}, {Key: "total", Value: strconv.FormatUint(n, 10)}},
	}
	r.write(e)
}

// Flusher is a Sink with a buffer.
type Flusher interface {
	Sink
	Flush() error
}

// Run is the live agent: audit, the proc connector and sock_diag merged
// into one lineage graph, written to sink until ctx ends. It owns one
// goroutine per source; the graph, the reassemblers and the sink belong to
// the calling goroutine alone. In audit own mode the audit state found at
// start is restored before Run returns.
func Run(ctx context.Context, cfg LiveConfig, sink Flusher) error {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = 10 * time.Second
	}
	if cfg.BatchWindow == 0 {
		cfg.BatchWindow = DefaultBatchWindow
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 100 * time.Millisecond
	}
	r := &liveRun{cfg: cfg, sink: sink, fs: proc.NewFS("/proc"), started: time.Now(), lastBeat: time.Now(), bySource: map[string]uint64{}, gone: map[int]struct{}{},
		pendingProc: map[int]*heldEvent{}, recentAudit: map[int]time.Time{}}
	r.graph = cfg.Graph
	if r.graph == nil {
		r.graph = NewLiveGraph(cfg.Host)
	}
	r.norm = audit.NewNormalizer(cfg.Host)
	r.ra = audit.NewReassembler(256, 2000, r.emitAudit)
	r.ra.SetReorder(auditReorderMsec)

	// Audit.
	acfg := cfg.Audit
	if acfg.Mode != audit.ModeOff && acfg.Rules == nil && cfg.RulesDir != "" {
		rs, err := LoadRules(cfg.RulesDir, cfg.Logf)
		if err != nil {
			return err
		}
		acfg.Rules = rs
	}
	live, err := audit.OpenLive(acfg)
	if err != nil {
		return fmt.Errorf("audit source: %w", err)
	}
	r.live = live
	defer func() {
		if err := live.Close(); err != nil {
			cfg.Logf("restoring the audit state: %v", err)
		}
	}()
	for _, n := range live.Notes {
		cfg.Logf("audit: %s", n)
	}
	// The kernel's lost counter before we start: only what is lost from
	// here on is ours to report.
	if live.Mode() != audit.ModeOff {
		if st, err := audit.ReadStatus(); err == nil {
			r.lastLost, r.lostInit = uint64(st.Lost), true
		}
	}
	r.auditExecs = live.Mode() != audit.ModeOff
	if r.auditExecs {
		r.setSource("audit", "running", "mode "+string(live.Mode()))
	} else {
		r.setSource("audit", "off", "audit.mode off")
	}
	r.self(event.ActionStarted, fmt.Sprintf("lineaged started: audit mode %s", live.Mode()))
	if tk := live.Takeover; tk != nil {
		r.takeover(tk)
	}

	// Proc connector.
	var pc *proc.Conn
	if cfg.ProcOff {
		err = errors.New("turned off by configuration (proc.enabled: false)")
	} else {
		pc, err = proc.Dial(nil)
	}
	if err != nil {
		cfg.Logf("proc connector unavailable, continuing without it: %v", err)
		r.self(event.ActionSourceUnavailable, "proc connector unavailable: "+err.Error())
		r.setSource("proc", "off", err.Error())
	} else {
		defer pc.Close()
		r.setSource("proc", "running", "exec, fork, exit")
	}

	// File watches.
	if !cfg.FilesOff {
		r.fw = r.openFiles(cfg.Files)
	} else {
		r.setSource("fanotify", "off", "turned off by configuration (files.enabled: false)")
	}
	defer func() {
		if r.fw != nil {
			r.fw.Close()
		}
	}()

	// Seed the graph from /proc, after subscribing so nothing born in
	// between is missed.
	r.seed()

	// Audit and the proc connector are read by this goroutine: it waits
	// in poll(2) on both sockets and a wake-up eventfd, sleeps
	// BatchWindow once something is readable so that one read takes a
	// batch, then drains both with recvmmsg. One wake-up per window
	// instead of one per record (and goroutine hand-offs per batch) was
	// most of the agent's CPU under an exec storm. fanotify and sock_diag,
	// rarer, run in goroutines that hand over through sockEvs and the
	// eventfd; so does ctx's end.
	wake, err := newWaker()
	if err != nil {
		return err
	}
	defer wake.Close()
	sockEvs := make(chan []event.Event, 256) // sock_diag and fanotify
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			wake.Wake()
		case <-done:
		}
	}()
	send := func(evs []event.Event) bool {
		select {
		case sockEvs <- evs:
			wake.Wake()
			return true
		case <-done:
			return false
		}
	}
	pfds := []unix.PollFd{{Fd: int32(wake.fd), Events: unix.POLLIN}}
	var ab *audit.Batch
	auditIdx, procIdx := -1, -1
	if live.Mode() != audit.ModeOff {
		for _, raw := range live.Pending() {
			r.logRecord(raw.Type, raw.Data)
			rec := r.ra.Record()
			if err := rec.ParseKernel(raw.Type, raw.Data); err != nil {
				r.ra.Release(rec)
				r.auditErrs++
				continue
			}
			r.ra.Push(rec, time.Now().UnixMilli())
		}
		if fd := live.PollFD(); fd >= 0 {
			ab = audit.NewBatch(auditBatchSize)
			auditIdx = len(pfds)
			pfds = append(pfds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		}
	}
	var procBuf []proc.Event
	if pc != nil {
		if fd := pc.PollFD(); fd >= 0 {
			procIdx = len(pfds)
			pfds = append(pfds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
			procBuf = make([]proc.Event, 0, 256)
		}
	}
	readFiles := func(fw *fanotify.Watcher) {
		buf := make([]byte, 64<<10)
		for {
			fes, err := fw.Read(buf)
			if err != nil {
				return // closed
			}
			var out []event.Event
			for _, fe := range fes {
				out = fanotify.AppendEvents(out, fe)
			}
			if len(out) > 0 && !send(out) {
				return
			}
		}
	}
	if r.fw != nil {
		go readFiles(r.fw)
	}
	reloads := make(chan Reload, 1)
	if cfg.Reloads != nil {
		go func() {
			for {
				select {
				case rl := <-cfg.Reloads:
					select {
					case reloads <- rl:
						wake.Wake()
					case <-done:
						return
					}
				case <-done:
					return
				}
			}
		}()
	}
	r.settingsEvent(event.ActionSettings, cfg.ConfigSource, cfg.Settings)
	if cfg.SnapshotEvery > 0 {
		r.setSource("sock_diag", "running", "snapshot every "+cfg.SnapshotEvery.String()+" and on socket syscalls")
	} else {
		r.setSource("sock_diag", "off", "turned off by configuration (network.snapshot_every: 0)")
	}
	if cfg.Publish != nil {
		cfg.Publish(r.counters(time.Now())) // the sources' states at once, not at the first tick
	}
	if cfg.SnapshotEvery > 0 {
		r.snapNow = make(chan struct{}, 1)
		go func() {
			col := &netlink.Collector{Owners: &netlink.OwnerIndex{}}
			last := time.Time{}
			prev := map[uint64]*netlink.Snapshot{}
			type edgeKey struct{ ns, client, server uint64 }
			edges := map[edgeKey]bool{}
			t := time.NewTicker(cfg.SnapshotEvery)
			defer t.Stop()
			for {
				snaps, err := col.SnapshotAll()
				// Measured from the end: the owner walk inside began
				// before, so the next snapshot, snapMinGap on, is allowed
				// its walk (netlink.DefaultMinScanInterval) and a new
				// socket gets its owner.
				last = time.Now()
				var out []event.Event
				if err != nil && len(snaps) == 0 {
					cfg.Logf("sock_diag: %v", err)
				}
				seen := map[uint64]bool{}
				nowEdges := map[edgeKey]bool{}
				for _, s := range snaps {
					// Both ends of a loopback TCP or UNIX connection known:
					// an edge between two processes, reported once.
					for _, ed := range s.Edges() {
						k := edgeKey{ed.NetNS, ed.Client.Inode, ed.Server.Inode}
						nowEdges[k] = true
						if edges[k] || ed.Client.PID <= 0 || ed.Server.PID <= 0 {
							continue
						}
						out = append(out, event.Event{
							TimeMsec: s.Time.UnixMilli(), Module: event.ModuleSockDiag,
							Category: event.CategoryNetwork, Type: event.TypeConnection, Action: event.ActionIpcConnected, Outcome: event.OutcomeSuccess,
							Process: event.Process{PID: ed.Client.PID},
							Network: &event.Network{Transport: ed.Transport, NetNS: ed.NetNS},
							Labels:  []event.KV{{Key: "peer_pid", Value: strconv.Itoa(ed.Server.PID)}},
						})
					}
					seen[s.NetNS] = true
					if p, ok := prev[s.NetNS]; ok {
						for _, c := range netlink.Diff(p, s) {
							out = append(out, c.Event())
						}
					}
					prev[s.NetNS] = s
				}
				edges = nowEdges
				for ino, p := range prev {
					if !seen[ino] {
						for _, c := range netlink.Diff(p, nil) {
							out = append(out, c.Event())
						}
						delete(prev, ino)
					}
				}
				if len(out) > 0 && !send(out) {
					return
				}
				select {
				case <-t.C:
				case <-r.snapNow:
					// An audited connect, bind, listen or accept: look
					// soon, once the socket has reached its state, and
					// at most once per snapMinGap however many come (a
					// connect storm must not become a /proc storm).
					wait := max(snapDelay, snapMinGap-time.Since(last))
					st := time.NewTimer(wait)
					select {
					case <-st.C:
					case <-done:
						st.Stop()
						return
					}
				case <-done:
					return
				}
			}
		}()
	}

	window := cfg.BatchWindow
	if !r.auditExecs {
		// Without audit an exec's executable and arguments come from
		// /proc, read when the connector reports it: a 20 ms wait would
		// miss every process shorter than that. Read at once.
		window = 0
	}
	const maintainEvery = 500 * time.Millisecond
	nextMaintain := time.Now().Add(maintainEvery)
	for {
		// Sleep until a source is readable or the next deadline: the
		// output flush (only while lines are buffered), a held exec's
		// merge window, the periodic maintenance.
		now := time.Now()
		deadline := nextMaintain
		if r.unflushed && r.flushDue.Before(deadline) {
			deadline = r.flushDue
		}
		if len(r.pendingProc) > 0 && now.Add(r.cfg.FlushEvery).Before(deadline) {
			deadline = now.Add(r.cfg.FlushEvery)
		}
		timeout := int(deadline.Sub(now) / time.Millisecond)
		if timeout < 0 {
			timeout = 0
		}
		for i := range pfds {
			pfds[i].Revents = 0
		}
		n, err := unix.Poll(pfds, timeout)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("poll on the audit and proc connector sockets: %w", err)
		}
		if n > 0 && window > 0 && (readable(pfds, auditIdx) || readable(pfds, procIdx)) {
			time.Sleep(window) // let a batch gather
		}
		// The connector's batch is read first but handled after audit's
		// (audit's execs carry the args the exits then show): its exits
		// tell which processes are gone already, whose namespace need not
		// be looked up in /proc (a failed lookup costs as much as one).
		var procEvs []proc.Event
		var procErr error
		procRead := procIdx >= 0 && pfds[procIdx].Revents != 0
		if procRead {
			procEvs, procErr = pc.ReceiveBatch(procBuf[:0], false)
			for i := range procEvs {
				if pe := &procEvs[i]; pe.Kind == proc.KindExit && !pe.IsThread() {
					r.gone[pe.TGID] = struct{}{}
				}
			}
		}
		if auditIdx >= 0 && pfds[auditIdx].Revents != 0 {
			r.drainAudit(live, ab)
		}
		if procRead {
			procBuf = r.handleProc(procEvs, procErr)
		}
		clear(r.gone)
		if pfds[0].Revents != 0 {
			wake.Drain()
		}
	others:
		for {
			select {
			case rl := <-reloads:
				err := r.reload(rl, readFiles)
				window = r.cfg.BatchWindow
				if !r.auditExecs {
					window = 0
				}
				if rl.Result != nil {
					rl.Result <- err
				}
			case evs := <-sockEvs:
				for i := range evs {
					e := &evs[i]
					r.graph.Enrich(e)
					if e.Action == event.ActionIpcConnected {
						r.linkPeer(e)
					}
					r.write(e)
				}
			default:
				break others
			}
		}
		now = time.Now()
		if ctx.Err() != nil {
			r.ra.Flush()
			r.releaseHeld(now, true)
			if d := r.cfg.Detector; d != nil {
				d.Flush(r.alert)
			}
			r.self(event.ActionStopped, fmt.Sprintf("lineaged stopping: %d events written, %d execs merged from audit and the proc connector, %d audit receive errors, %d proc overruns",
				r.written, r.merged, r.auditErrs, r.overruns))
			var logErr error
			if rl := r.cfg.RecordLog; rl != nil {
				logErr = rl.Flush()
			}
			return errors.Join(r.sinkErr, sink.Flush(), logErr)
		}
		if !now.Before(nextMaintain) {
			r.ra.Maintain(now.UnixMilli())
			r.checkLoss(live.Mode())
			r.checkDropped()
			if rl := r.cfg.RecordLog; rl != nil {
				if err := rl.Flush(); err != nil {
					r.recordLogErrs++
				}
			}
			nextMaintain = now.Add(maintainEvery)
			if d := r.cfg.Detector; d != nil {
				d.Tick(now.UnixMilli(), r.alert)
			}
			if hb := r.cfg.Heartbeat; hb > 0 && now.Sub(r.lastBeat) >= hb {
				r.heartbeat(now)
			}
			if r.cfg.Publish != nil {
				r.cfg.Publish(r.counters(now))
			}
		}
		r.releaseHeld(now, false)
		if r.unflushed && !now.Before(r.flushDue) {
			r.unflushed = false
			if err := sink.Flush(); err != nil && r.sinkErr == nil {
				r.sinkErr = err
				cfg.Logf("output: %v", err)
			}
		}
	}
}

// readable reports whether pfds[i] (i < 0: none) has something to read,
// or an error to collect.
func readable(pfds []unix.PollFd, i int) bool { return i >= 0 && pfds[i].Revents != 0 }

// drainAudit reads every queued audit datagram, a batch at a time.
func (r *liveRun) drainAudit(live *audit.Live, b *audit.Batch) {
	for range 1024 { // bounded: a storm cannot starve the other sources
		err := live.ReadBatch(b, false)
		r.auditBatch(auditRead{b, err})
		if err != nil || !b.Full() {
			return
		}
	}
}

// handleProc puts a batch of connector events into the graph.
func (r *liveRun) handleProc(evs []proc.Event, err error) []proc.Event {
	for i := range evs {
		r.procEvent(&evs[i])
	}
	switch {
	case errors.Is(err, proc.ErrOverrun):
		r.overruns++
		r.self(event.ActionProcOverrun, "proc connector queue overrun: events lost, graph repaired from /proc")
		r.seed()
	case err != nil:
		r.procErrs++
		if r.procErrs <= 10 {
			r.cfg.Logf("proc connector: %v", err)
		}
	}
	return evs
}

type liveRun struct {
	cfg     LiveConfig
	live    *audit.Live
	fw      *fanotify.Watcher
	started time.Time

	lastBeat time.Time
	sink     Flusher
	fs       proc.FS
	graph    *graph.Graph
	norm     *audit.Normalizer
	ra       *audit.Reassembler
	ev       event.Event
	seq      uint64
	written  uint64
	sinkErr  error
	alerts   uint64

	auditErrs, overruns, procErrs, outErrs uint64
	bySource                               map[string]uint64
	kernelLost                             uint64 // since start
	filesOverflowsBefore                   uint64 // fanotify overflows of watchers replaced by reloads
	recordLogErrs                          uint64 // records the native audit.log refused
	outDropped, outDroppedReported         uint64 // output lines dropped (disk full), and reported

	sources    []SourceState // by setSource
	outFailing bool          // the output is dropping lines now

	// gone holds the processes whose exit is in the connector batch being
	// handled (no /proc lookup for them).
	gone map[int]struct{}

	// snapNow asks the sock_diag goroutine for an early snapshot (nil:
	// sock_diag off).
	snapNow chan struct{}

	// unflushed: lines sit in the sink's buffer, to be flushed by flushDue.
	unflushed bool
	flushDue  time.Time

	// One exec reported by both audit and the proc connector is written
	// once: the connector's event waits up to execMergeWindow for audit's
	// (which has the arguments, cwd and ids) and is dropped when it comes;
	// an audit exec written first suppresses the connector's.
	pendingProc map[int]*heldEvent
	recentAudit map[int]time.Time
	merged      uint64
	forks       uint64
	// auditExecs is set when audit reports execs (audit is on): the
	// connector's exec then waits for audit's instead of reading /proc.
	auditExecs bool

	lastLost, lastGaps uint64 // kernel lost counter and serial gaps already reported
	lostInit           bool
	lastLossCheck      time.Time
}

// checkLoss turns audit loss into events: the kernel's lost counter
// (records it dropped: backlog full or rate limit), polled every few
// seconds, and gaps in the serials that reached us.
func (r *liveRun) checkLoss(mode audit.Mode) {
	if mode == audit.ModeOff || time.Since(r.lastLossCheck) < 5*time.Second {
		return
	}
	r.lastLossCheck = time.Now()
	r.live.Touch() // alive: a run after a crash knows when the gap began
	if st, err := audit.ReadStatus(); err == nil {
		lost := uint64(st.Lost)
		if r.lostInit && lost > r.lastLost {
			r.kernelLost += lost - r.lastLost
			r.lossEvent(event.ActionAuditRecordsLost, lost-r.lastLost,
				fmt.Sprintf("the kernel dropped %d audit records (backlog %d/%d): raise the backlog limit or lower the rule volume", lost-r.lastLost, st.Backlog, st.BacklogLimit))
		}
		r.lastLost, r.lostInit = lost, true
	}
	if gaps := r.ra.Stats().Lost; gaps > r.lastGaps {
		r.lossEvent(event.ActionAuditSequenceGap, gaps-r.lastGaps,
			fmt.Sprintf("%d audit serials never reached lineaged", gaps-r.lastGaps))
		r.lastGaps = gaps
	}
}

// takeover reports an earlier run that owned audit and ended without
// restoring it: the gap in collection, and that its saved state (not its
// rules, found loaded) is what this run restores.
func (r *liveRun) takeover(tk *audit.Takeover) {
	now := time.Now()
	from := tk.LastAlive
	if from.IsZero() {
		from = tk.Started
	}
	gap := now.Sub(from).Round(time.Millisecond)
	lost := uint32(0)
	if tk.LostNow > tk.LostThen {
		lost = tk.LostNow - tk.LostThen
	}
	e := &r.ev
	*e = event.Event{
		TimeMsec: now.UnixMilli(),
		Category: event.CategoryHost, Type: event.TypeInfo, Action: event.ActionAuditTakeover, Outcome: event.OutcomeFailure,
		Module: event.ModuleLineaged,
		Message: fmt.Sprintf("lineaged pid %d (started %s) ended without restoring audit (killed or crashed); last alive %s: audit records from then until this start, %s, were not collected; the kernel counted %d lost records since it started. Its saved audit state will be restored at exit.",
			tk.PID, tk.Started.Format(time.RFC3339), from.UTC().Format(time.RFC3339Nano), gap, lost),
		Labels: []event.KV{
			{Key: "previous_pid", Value: strconv.Itoa(tk.PID)},
			{Key: "gap_start", Value: from.UTC().Format(time.RFC3339Nano)},
			{Key: "gap_ms", Value: strconv.FormatInt(gap.Milliseconds(), 10)},
			{Key: "lost", Value: strconv.FormatUint(uint64(lost), 10)},
		},
	}
	r.write(e)
}

func (r *liveRun) lossEvent(action event.Action, n uint64, msg string) {
	e := &r.ev
	*e = event.Event{
		TimeMsec: time.Now().UnixMilli(),
		Category: event.CategoryHost, Type: event.TypeInfo, Action: action, Outcome: event.OutcomeFailure,
		Module: event.ModuleLineaged, Message: msg,
		Labels: []event.KV{{Key: "count", Value: strconv.FormatUint(n, 10)}},
	}
	r.write(e)
}

func (r *liveRun) write(e *event.Event) {
	r.seq++
	e.ID = r.cfg.IDPrefix + "-" + strconv.FormatUint(r.seq, 10)
	if e.Host == "" {
		e.Host = r.cfg.Host
	}
	if err := r.sink.Write(e); err != nil {
		r.outErrs++
		if r.sinkErr == nil {
			r.sinkErr = err
			r.cfg.Logf("output: %v", err)
		}
	} else {
		r.written++
		r.bySource[string(e.Module)]++
		if !r.unflushed {
			r.unflushed = true
			r.flushDue = time.Now().Add(r.cfg.FlushEvery)
		}
	}
	// A line the output could not take is still judged and shown.
	r.detect(e)
	if r.cfg.Observe != nil {
		r.cfg.Observe(e)
	}
}

// setSource records a source's state for the counters.
func (r *liveRun) setSource(name, state, detail string) {
	for i := range r.sources {
		if r.sources[i].Name == name {
			r.sources[i] = SourceState{Name: name, State: state, Detail: detail}
			return
		}
	}
	r.sources = append(r.sources, SourceState{Name: name, State: state, Detail: detail})
}

// detect hands a written event to the Detector (a line the output could
// not take is still judged).
func (r *liveRun) detect(e *event.Event) {
	if d := r.cfg.Detector; d != nil && e.Kind == event.KindEvent && e.Alert == nil {
		d.Observe(e, r.graph.ProcOf(e), r.alert)
	}
}

// alert writes an alert (or an alert's repeat count) from the Detector.
func (r *liveRun) alert(a *event.Event) {
	if a.Kind == event.KindAlert {
		r.alerts++
	}
	r.write(a)
}

// heldEvent is a connector exec waiting for audit's view of it.
type heldEvent struct {
	e   *event.Event
	due time.Time
}

// execMergeWindow is how long a connector exec waits for its audit twin
// (audit records are complete a few ms after the syscall returns).
const execMergeWindow = 500 * time.Millisecond

func (r *liveRun) emitAudit(g *audit.Group) {
	e := &r.ev
	r.norm.Normalize(g, e)
	e.Module = event.ModuleAudit
	r.redact(e)
	if e.Action == event.ActionExecuted && e.Outcome == event.OutcomeSuccess && e.Process.PID > 0 {
		_, twin := r.pendingProc[e.Process.PID]
		if _, gone := r.gone[e.Process.PID]; !twin && !gone {
			// The connector's twin has not come yet: read the namespace
			// here (see procEvent).
			e.Process.NetNS = r.fs.NetNS(e.Process.PID)
		}
	}
	r.graph.Enrich(e)
	if r.snapNow != nil && e.Category == event.CategoryNetwork && e.Outcome == event.OutcomeSuccess {
		switch e.Action {
		case event.ActionConnectedTo, event.ActionBoundSocket, event.ActionListenForConnections, event.ActionAcceptedConnectionFrom:
			select {
			case r.snapNow <- struct{}{}:
			default: // one is pending already
			}
		}
	}
	if e.Action == event.ActionExecuted && e.Outcome == event.OutcomeSuccess && e.Process.PID > 0 {
		if _, ok := r.pendingProc[e.Process.PID]; ok {
			delete(r.pendingProc, e.Process.PID)
			e.Labels = append(e.Labels, event.KV{Key: "sources", Value: "auditd,proc"})
			r.merged++
		} else {
			r.recentAudit[e.Process.PID] = time.Now()
		}
	}
	r.write(e)
}

// releaseHeld writes the connector execs whose audit twin did not come
// (audit off, no exec rule, or a lost record) and forgets old audit execs.
func (r *liveRun) releaseHeld(now time.Time, all bool) {
	for pid, h := range r.pendingProc {
		if all || now.After(h.due) {
			delete(r.pendingProc, pid)
			if h.e.Process.Executable == "" {
				// No audit twin came (no exec rule, or a lost record):
				// what /proc still has, else the graph's view.
				r.readExec(h.e)
				r.redact(h.e)
				r.graph.Enrich(h.e)
			}
			r.write(h.e)
		}
	}
	for pid, t := range r.recentAudit {
		if now.Sub(t) > 2*execMergeWindow {
			delete(r.recentAudit, pid)
		}
	}
}

// procEvent turns a connector event into a graph update and an output
// event. Thread events are dropped except a thread group's exit (the
// process's end); an exec's executable and args, which the connector does
// not carry, are read from /proc while the process still runs.
func (r *liveRun) procEvent(pe *proc.Event) {
	switch pe.Kind {
	case proc.KindFork, proc.KindExec, proc.KindExit:
		if pe.IsThread() {
			return
		}
	case proc.KindComm, proc.KindUID, proc.KindGID:
		if pe.IsThread() {
			return
		}
	}
	e := &r.ev
	pe.ToEvent(e)
	_, gone := r.gone[e.Process.PID]
	if _, twin := r.recentAudit[e.Process.PID]; pe.Kind == proc.KindExec && !twin && !gone {
		// The namespace the new program runs in (entered just before the
		// exec by `ip netns exec`, runtimes, unshare), read once per exec
		// by whichever source reports it first; a process already gone
		// inherits its parent's in the graph.
		e.Process.NetNS = r.fs.NetNS(e.Process.PID)
	}
	if pe.Kind == proc.KindExec && !r.auditExecs {
		// Without audit the connector's exec is all there is: read the
		// executable and arguments while the process still runs (two
		// reads; a process that short-lived may be gone already).
		r.readExec(e)
		r.redact(e)
	}
	r.graph.Enrich(e)
	if pe.Kind == proc.KindFork {
		// Forks feed the graph (every exec's parent comes from one) but
		// are not written: each exec would otherwise cost two lines.
		r.forks++
		return
	}
	if pe.Kind == proc.KindExec {
		pid := e.Process.PID
		if t, ok := r.recentAudit[pid]; ok && time.Since(t) <= 2*execMergeWindow {
			delete(r.recentAudit, pid) // audit's event, written already, had it all
			r.merged++
			return
		}
		r.pendingProc[pid] = &heldEvent{e: e.Clone(), due: time.Now().Add(execMergeWindow)}
		return
	}
	r.write(e)
}

// linkPeer records an IPC edge in the graph and names the other end.
func (r *liveRun) linkPeer(e *event.Event) {
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
		r.graph.LinkIPC(e.Process.PID, pid, transport, e.TimeMsec)
		if n, ok := r.graph.Lookup(pid); ok {
			e.Labels = append(e.Labels,
				event.KV{Key: "peer_entity_id", Value: n.EntityID},
				event.KV{Key: "peer_executable", Value: n.Executable})
		}
		return
	}
}

// readExec fills an exec event's executable and arguments from /proc.
func (r *liveRun) readExec(e *event.Event) {
	pid := strconv.Itoa(e.Process.PID)
	if exe, err := os.Readlink("/proc/" + pid + "/exe"); err == nil {
		e.Process.Executable = exe
	}
	if b, err := os.ReadFile("/proc/" + pid + "/cmdline"); err == nil && len(b) > 0 {
		b = bytes.TrimRight(b, "\x00")
		e.Process.Args = strings.Split(string(b), "\x00")
	}
}

// seed walks /proc and records every running process in the graph, each
// as an "existing" event, so the first events already have ancestry up to
// pid 1.
func (r *liveRun) seed() {
	snap, err := r.fs.Walk()
	if err != nil {
		r.cfg.Logf("walking /proc: %v", err)
		return
	}
	for i := range snap.Processes {
		e := &r.ev
		snap.Processes[i].ToEvent(e)
		r.redact(e)
		r.graph.Enrich(e)
		r.write(e)
	}
}

// self writes one of lineaged's own events.
func (r *liveRun) self(action event.Action, msg string) {
	e := &r.ev
	*e = event.Event{
		TimeMsec: time.Now().UnixMilli(),
		Category: event.CategoryHost, Type: event.TypeInfo, Action: action, Outcome: event.OutcomeSuccess,
		Module: event.ModuleLineaged, Message: msg,
	}
	r.write(e)
}
