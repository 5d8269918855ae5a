//go:build linux

package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/fanotify"
	"github.com/lineaged/lineaged/internal/accounts"
	"github.com/lineaged/lineaged/netlink"
	"github.com/lineaged/lineaged/proc"
	"github.com/lineaged/lineaged/ui"
)

// maintainEvery is the period of the loop's housekeeping: audit's
// reassembly timeouts and loss checks, detection's windows, the
// heartbeat, the published counters.
const maintainEvery = 500 * time.Millisecond

// liveAgent is the live agent's state: everything belongs to the loop's
// goroutine except what the goroutine sources and the servers read
// through latest.
type liveAgent struct {
	set     *Settings
	opt     Options
	log     zerolog.Logger
	started time.Time
	out     *outputs
	p       *Pipeline
	merge   *execMerge
	fs      proc.FS
	det     *liveDetector
	view    *ui.Server
	latest  atomic.Pointer[Counters]

	audit   *audit.Source
	proc    *proc.Source
	procErr error // why the connector could not be opened
	// accounts names live events' users and groups (/etc/passwd,
	// /etc/group, getent for directory users).
	accounts *accounts.Resolver
	files    *fanotify.Source
	sockets  *netlink.Source
	off      []event.Health // sources not running, and why
	workers  *workers

	filesOverflowsBefore uint64 // fanotify overflows of watchers replaced by reloads
	lastBeat             time.Time
	unflushed            bool
	flushDue             time.Time
	droppedReported      uint64
}

// Run is the live agent (lineaged run): audit, the proc connector,
// fanotify and sock_diag, each a source, merged into one lineage graph by
// the pipeline replay uses too, judged and written until ctx ends. In
// audit own mode the audit state found at start is restored before Run
// returns.
func Run(ctx context.Context, set *Settings, opt Options) (err error) {
	a := &liveAgent{set: set, opt: opt, log: opt.Log, started: time.Now(), lastBeat: time.Now(), fs: proc.NewFS("/proc")}
	for _, n := range set.RuleNotes {
		a.log.Warn().Msg(n)
	}
	if a.out, err = openOutputs(set.Config, NewEncoder(set.Config, opt.Version, true, a.log), opt.Stdout, a.log); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, a.out.Close()) }()
	a.accounts = accounts.New(accounts.Config{Log: a.log})
	defer a.accounts.Close()
	stop, err := a.startServices()
	defer stop()
	if err != nil {
		return err
	}
	a.merge = newExecMerge(a.p, a.fs, time.Now)
	// The connector first: whether it runs decides the built-in audit
	// rules (no exit_group with it).
	a.openProc()
	defer a.closeSources()
	if err := a.openAudit(); err != nil {
		return err
	}
	if a.proc != nil {
		a.proc.SetReadExec(!a.merge.auditExecs)
	}
	defer func() {
		if cerr := a.audit.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("restoring the audit state: %w", cerr))
		}
	}()
	if a.workers, err = newWorkers(); err != nil {
		return err
	}
	a.self(event.ActionStarted, "lineaged started: audit mode "+string(a.audit.Mode()))
	a.openSources()
	a.start()
	return a.loop(ctx)
}

// pipelineConfig is the live pipeline: one graph (the local host), with
// the live retention bounds.
func (a *liveAgent) pipelineConfig() PipelineConfig {
	pc := PipelineConfig{
		Host: a.set.Config.Host, IDPrefix: a.opt.IDPrefix, Redact: a.set.Redact,
		Graph: liveGraph(), Accounts: a.accounts,
	}
	if a.det != nil {
		pc.Detector = a.det
	}
	return pc
}

// startServices builds the detector and the pipeline, and starts the
// metrics endpoint and the live view; stop ends them (also after an
// error).
func (a *liveAgent) startServices() (stop func(), err error) {
	c := a.set.Config
	a.latest.Store(&Counters{})
	var stops []func()
	stop = func() {
		for _, s := range stops {
			s()
		}
	}
	if c.Detect.Enabled {
		det, mode, err := newLiveDetector(a.set, a.log)
		if err != nil {
			return stop, err
		}
		a.det = det
		a.log.Info().Msg("detection: " + mode)
	}
	a.p = NewPipeline(a.pipelineConfig(), a.out.sink)
	if c.Metrics.Listen != "" {
		s, err := serveMetrics(c.Metrics, &a.latest, a.log)
		if err != nil {
			return stop, err
		}
		stops = append(stops, s)
	}
	if c.UI.Listen != "" {
		v, err := serveView(c, a.p.Graph(c.Host), &a.latest, a.log)
		if err != nil {
			return stop, err
		}
		a.view = v
		a.p.SetObserve(v.Observe)
		stops = append(stops, func() { v.Close() })
	}
	return stop, nil
}

// openAudit opens the audit source in the configured mode.
func (a *liveAgent) openAudit() error {
	bootID, err := a.fs.BootID()
	if err != nil {
		a.log.Warn().Err(err).Msg("reading the boot id: the audit state file cannot be kept")
	}
	live, err := a.set.auditConfig(bootID, a.proc != nil)
	if err != nil {
		return fmt.Errorf("audit rules: %w", err)
	}
	cfg := audit.SourceConfig{Live: live, Host: a.set.Config.Host, Log: a.log.With().Str("source", "audit").Logger()}
	if a.out.alog != nil {
		cfg.RecordLog = a.out.alog
	}
	src, err := audit.OpenSource(cfg)
	if err != nil {
		return fmt.Errorf("audit source: %w", err)
	}
	a.audit = src
	a.merge.auditExecs = src.Mode() != audit.ModeOff
	return nil
}

// openProc opens the proc connector (before audit, whose built-in rules
// depend on it); one that cannot be opened is reported (by openSources,
// once the output is numbering events) and the agent runs on without it.
func (a *liveAgent) openProc() {
	if !a.set.Config.Proc.Enabled {
		a.sourceOff("proc", "turned off by configuration (proc.enabled: false)")
		return
	}
	src, err := proc.OpenSource(proc.SourceConfig{FS: a.fs, ReadExec: true})
	if err != nil {
		a.log.Warn().Err(err).Msg("proc connector unavailable, continuing without it")
		a.procErr = err
		a.sourceOff("proc", err.Error())
		return
	}
	a.proc = src
	a.merge.exiting = src.Exiting
}

// openSources reports an unavailable connector and opens fanotify and
// sock_diag; a source that cannot be opened is reported and the agent
// runs on without it.
func (a *liveAgent) openSources() {
	c := a.set.Config
	if a.procErr != nil {
		a.self(event.ActionSourceUnavailable, "proc connector unavailable: "+a.procErr.Error())
	}
	if a.set.Files == nil {
		a.sourceOff("fanotify", "turned off by configuration (files.enabled: false)")
	} else {
		a.files = a.openFiles(a.set.Files)
	}
	if every := c.Network.SnapshotEvery; every <= 0 {
		a.sourceOff("sock_diag", "turned off by configuration (network.snapshot_every: 0)")
	} else {
		a.sockets = netlink.NewSource(netlink.SourceConfig{Every: every})
		a.merge.snapshot = a.sockets.Trigger
		a.workers.start(a.sockets, a.log)
	}
}

// openFiles opens a fanotify watcher for pol and starts reading it,
// reporting why when it cannot: the agent runs on without file watches.
func (a *liveAgent) openFiles(pol *fanotify.Policy) *fanotify.Source {
	w, err := fanotify.Open(*pol)
	if err != nil {
		a.log.Warn().Err(err).Msg("fanotify unavailable, continuing without it")
		a.self(event.ActionSourceUnavailable, "fanotify unavailable: "+err.Error())
		a.sourceOff("fanotify", err.Error())
		return nil
	}
	a.sourceOff("fanotify", "") // running: no longer off
	for _, n := range w.Notes() {
		a.log.Info().Str("source", "fanotify").Msg(n)
	}
	if sk := w.Skipped(); len(sk) > 0 {
		names := make([]string, len(sk))
		for i, x := range sk {
			names[i] = x.Path
		}
		a.log.Info().Str("source", "fanotify").Msgf("%d watch paths absent on this host, skipped: %s", len(sk), strings.Join(names, ", "))
	}
	src := fanotify.NewSource(w)
	a.workers.start(src, a.log)
	return src
}

// sourceOff records a source that does not run, and why ("" removes it).
func (a *liveAgent) sourceOff(name, why string) {
	for i := range a.off {
		if a.off[i].Name == name {
			a.off = append(a.off[:i], a.off[i+1:]...)
			break
		}
	}
	if why != "" {
		a.off = append(a.off, event.Health{Name: name, State: event.StateOff, Detail: why})
	}
}

// closeSources stops the goroutine sources and closes every source but
// audit (closed last, by Run: it restores the audit state).
func (a *liveAgent) closeSources() {
	if a.proc != nil {
		a.proc.Close()
	}
	if a.files != nil {
		a.files.Close()
	}
	if a.sockets != nil {
		a.sockets.Close()
	}
	if a.workers != nil {
		a.workers.stop()
	}
}

// start writes what the agent starts with: the running processes (so the first events already have ancestry up to
// pid 1: seeded after subscribing, so nothing born in between is
// missed), what audit knew before its first read, and the settings.
func (a *liveAgent) start() {
	if err := a.fs.Seed(a.p.Handle); err != nil {
		a.log.Warn().Err(err).Msg("seeding the graph")
	}
	a.audit.Start(a.merge.audit)
	a.settingsEvent(event.ActionSettings)
	a.publish(time.Now()) // the sources' states at once, not at the first tick
}
