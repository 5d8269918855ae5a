package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lineaged/lineaged/agent"
	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/auditlog"
	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/fanotify"
	"github.com/lineaged/lineaged/feature"
	"github.com/lineaged/lineaged/internal/logging"
	"github.com/lineaged/lineaged/output"
	"github.com/lineaged/lineaged/syslogout"
)

// runFlags are the command line of `lineaged run`. A flag that is given
// overrides the configuration file's value (on every reload too).
type runFlags struct {
	fs          *flag.FlagSet
	config      *string
	output      *string
	mode        *string
	stateDir    *string
	rulesDir    *string
	snapEvery   *time.Duration
	noFiles     *bool
	batchWindow *time.Duration
	host        *string
	auditLog    *string
	baseline    *string
	learnFor    *time.Duration
	noDetect    *bool
	ui          *string
	sigma       stringList
	watches     stringList
	set         map[string]bool
}

// cmdRun is the live agent. SIGTERM and SIGINT stop it cleanly: buffered
// events are written and, in audit own mode, the audit state found at
// start is put back. SIGHUP reloads the configuration and the rules and
// reopens the output file.
func cmdRun(args []string, stdout, stderr io.Writer) int {
	fl := &runFlags{fs: flag.NewFlagSet("run", flag.ContinueOnError)}
	f := fl.fs
	f.SetOutput(stderr)
	fl.config = f.String("config", config.DefaultPath, "configuration `FILE` (YAML); when the default path does not exist, the built-in defaults")
	fl.output = f.String("output", "", "write JSON lines to `FILE` (appended; - for standard output); overrides output.file")
	fl.mode = f.String("audit-mode", "", "audit ingest: auto, own, multicast or off; overrides audit.mode")
	fl.stateDir = f.String("state-dir", "", "lineaged's state `DIR` (the audit state found at start, in own mode); overrides state_dir")
	fl.rulesDir = f.String("rules-dir", "", "audit rules `DIR` (*.rules, auditctl syntax) for own mode; overrides audit.rules_dir")
	fl.snapEvery = f.Duration("snapshot-every", 0, "sock_diag snapshot period (0 turns sock_diag off); overrides network.snapshot_every")
	fl.noFiles = f.Bool("no-file-watch", false, "turn the fanotify file watches off (files.enabled: false)")
	fl.batchWindow = f.Duration("batch-window", 0, "how long the agent waits once a source is readable so one read takes a batch; overrides batch_window")
	cpuProfile := f.String("cpuprofile", "", "write a Go CPU profile to `FILE` (for performance reports)")
	memProfile := f.String("memprofile", "", "write a Go heap profile to `FILE` every 10 s while running (for memory reports)")
	f.Var(&fl.watches, "watch", "also watch `DIR` (or file) for open, modify and close-write (repeatable)")
	fl.host = f.String("host", "", "host.name of the events; overrides host (default: this host's name)")
	fl.auditLog = f.String("audit-log", "", "also write the kernel's audit records to `FILE` in auditd's format (for ausearch/aureport); overrides audit_log.file")
	fl.baseline = f.String("baseline", "", "baseline `FILE` to learn into and detect against (\"\" for none); overrides detect.baseline")
	fl.learnFor = f.Duration("learn-for", 0, "how long a new baseline learns before detecting; overrides detect.learn_for")
	fl.noDetect = f.Bool("no-detect", false, "run no detections (detect.enabled: false)")
	f.Var(&fl.sigma, "sigma", "load Sigma rules from `DIR` (repeatable); overrides detect.sigma_dirs")
	fl.ui = f.String("ui", "", "serve the live view on `ADDR` (host:port; loopback unless ui.allow_remote); overrides ui.listen")
	if err := f.Parse(args); err != nil {
		return 2
	}
	fl.set = map[string]bool{}
	f.Visit(func(x *flag.Flag) { fl.set[x.Name] = true })
	if err := feature.CheckProfile(); err != nil {
		fmt.Fprintf(stderr, "lineaged run: %v\n", err)
		return 2
	}
	c, src, err := fl.load()
	if err != nil {
		fmt.Fprintf(stderr, "lineaged run: %v\n", err)
		return 2
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "lineaged run: "+format+"\n", a...) }

	// A copy of every line to syslog, when configured.
	var slog *syslogout.Writer
	if sc := c.Output.Syslog; sc.Address != "" {
		scfg := syslogout.Config{Address: sc.Address, Hostname: c.Host, AppName: "lineaged",
			Facility: int(sc.Facility), SpoolDir: sc.SpoolDir, MaxSpool: sc.MaxSpool, Logf: logf}
		if sc.TLS {
			tc, err := syslogTLS(sc.CAFile, sc.ServerName)
			if err != nil {
				fmt.Fprintf(stderr, "lineaged run: output.syslog: %v\n", err)
				return 2
			}
			scfg.TLS = tc
		}
		slog, err = syslogout.Open(scfg)
		if err != nil {
			fmt.Fprintf(stderr, "lineaged run: output.syslog: %v\n", err)
			return 1
		}
		defer func() {
			if err := slog.Close(); err != nil {
				logf("syslog: %v (unsent lines stay in %s for the next start)", err, sc.SpoolDir)
			}
		}()
	}
	var sink agent.Flusher
	var file *reopenFile
	if c.Output.File == "-" {
		sink = output.NewWriterSize(tee(stdout, slog), 256<<10)
	} else {
		file, err = openOutput(c.Output.File, c.Output.MaxSize, c.Output.Keep)
		if err != nil {
			fmt.Fprintf(stderr, "lineaged run: output %s: %v\n", c.Output.File, err)
			return 1
		}
		defer file.Close()
		// output.Writer buffers and hands the file whole lines only: a
		// forwarder tailing the file never reads half an event. 256 KiB:
		// the agent flushes every 100 ms anyway; a burst then costs a few
		// write(2) calls.
		sink = &fileSink{Writer: output.NewWriterSize(tee(file, slog), 256<<10), f: file}
	}

	// The native audit.log, when configured.
	var alog *auditlog.Writer
	if al := c.AuditLog; al.File != "" {
		alog, err = auditlog.Open(auditlog.Config{Path: al.File, MaxFileSize: al.MaxSize, NumLogs: int(al.Keep) + 1, FlushEvery: time.Second})
		if err != nil {
			fmt.Fprintf(stderr, "lineaged run: audit_log: %v\n", err)
			return 1
		}
		defer func() {
			if err := alog.Close(); err != nil {
				logf("audit log: %v", err)
			}
		}()
	}

	cfg, err := liveConfig(c, src, logf)
	if err != nil {
		fmt.Fprintf(stderr, "lineaged run: %v\n", err)
		return 2
	}
	cfg.IDPrefix = runID()
	if c.Detect.Enabled {
		ld, mode, err := newLiveDetector(c, src, fl.sigma, logf)
		if err != nil {
			fmt.Fprintf(stderr, "lineaged run: %v\n", err)
			return 1
		}
		logf("detection: %s", mode)
		// The baseline is not added to OwnPaths: lineaged's own pid is
		// excluded from fanotify anyway, and a write by anyone else to
		// the baseline is worth seeing.
		cfg.Detector = ld
	}
	if alog != nil {
		cfg.RecordLog = alog
	}
	var extraMetrics func(io.Writer)
	if slog != nil {
		extraMetrics = func(w io.Writer) { syslogMetrics(w, slog.Stats()) }
	}
	reloads := make(chan agent.Reload)
	cfg.Reloads = reloads

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
			case <-ctx.Done():
				return
			}
			rl := fl.reload(c, logf)
			result := make(chan error, 1)
			rl.Result = result
			select {
			case reloads <- rl:
			case <-ctx.Done():
				return
			}
			if err := <-result; err == nil {
				logf("reloaded %s", rl.Source)
			}
		}
	}()

	// The metrics endpoint and the live view read the counters the agent
	// publishes twice a second.
	var latest atomic.Pointer[agent.Counters]
	latest.Store(&agent.Counters{})
	if c.Metrics.Listen != "" || c.UI.Listen != "" {
		cfg.Publish = func(c *agent.Counters) { latest.Store(c) }
	}
	if c.Metrics.Listen != "" {
		stopMetrics, err := serveMetrics(c.Metrics.Listen, c.Metrics.AllowRemote, &latest, extraMetrics, logf)
		if err != nil {
			fmt.Fprintf(stderr, "lineaged run: metrics: %v\n", err)
			return 1
		}
		defer stopMetrics()
	}
	if c.UI.Listen != "" {
		cfg.Graph = agent.NewLiveGraph(cfg.Host)
		uiLog, _ := logging.New(stderr, logging.FormatConsole, "info", "lineaged run") // valid format and level
		srv, err := serveUI(c, &latest, cfg.Graph, uiLog, logf)
		if err != nil {
			fmt.Fprintf(stderr, "lineaged run: ui: %v\n", err)
			return 1
		}
		defer srv.Close()
		cfg.Observe = srv.Observe
	}

	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "lineaged run: --cpuprofile: %v\n", err)
			return 1
		}
		pprof.StartCPUProfile(pf)
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	if *memProfile != "" {
		go writeHeapProfiles(ctx, *memProfile, 10*time.Second, logf)
	}
	err = agent.Run(ctx, cfg, sink)
	if file != nil {
		if serr := file.Sync(); err == nil && serr != nil {
			err = serr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "lineaged run: %v\n", err)
		return 1
	}
	return 0
}

// writeHeapProfiles replaces path with a heap profile every period until
// ctx ends: the last one shows what the agent held under load, which a
// profile taken at exit (the graph already dropped) would not.
func writeHeapProfiles(ctx context.Context, path string, period time.Duration, logf func(string, ...any)) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tmp := path + ".tmp"
		f, err := os.Create(tmp)
		if err == nil {
			err = pprof.WriteHeapProfile(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err == nil {
			err = os.Rename(tmp, path)
		}
		if err != nil {
			logf("--memprofile: %v", err)
			return
		}
	}
}

// load reads the configuration file (the built-in defaults when the
// default path does not exist; an explicit --config must exist) and lays
// the flags that were given over it. src names where it came from.
func (fl *runFlags) load() (*config.Config, string, error) {
	path := *fl.config
	c, err := config.Load(path)
	src := path
	if errors.Is(err, fs.ErrNotExist) && !fl.set["config"] {
		c, src, err = config.Default(), "built-in", nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("%w (give an existing file, or leave --config out: %s when it exists, else the built-in defaults)", err, config.DefaultPath)
	}
	if err != nil {
		return nil, "", err
	}
	if fl.set["output"] {
		c.Output.File = *fl.output
		if c.Output.File != "-" {
			if c.Output.File, err = filepath.Abs(c.Output.File); err != nil {
				return nil, "", fmt.Errorf("--output: %w", err)
			}
		}
	}
	if fl.set["audit-mode"] {
		switch audit.Mode(*fl.mode) {
		case audit.ModeAuto, audit.ModeOwn, audit.ModeMulticast, audit.ModeOff:
			c.Audit.Mode = *fl.mode
		default:
			return nil, "", fmt.Errorf("--audit-mode %q is not one of auto, own, multicast, off", *fl.mode)
		}
	}
	if fl.set["state-dir"] {
		// Absolute, like the configuration file's: fanotify's exclusions
		// and the takeover file need it so.
		if c.StateDir, err = filepath.Abs(*fl.stateDir); err != nil {
			return nil, "", fmt.Errorf("--state-dir: %w", err)
		}
	}
	if fl.set["rules-dir"] {
		c.Audit.RulesDir = *fl.rulesDir
	}
	if fl.set["snapshot-every"] {
		c.Network.SnapshotEvery = *fl.snapEvery
	}
	if fl.set["no-file-watch"] && *fl.noFiles {
		c.Files.Enabled = false
	}
	if fl.set["batch-window"] {
		c.BatchWindow = *fl.batchWindow
	}
	if fl.set["host"] {
		c.Host = *fl.host
	}
	if fl.set["baseline"] {
		c.Detect.Baseline = *fl.baseline
		if c.Detect.Baseline != "" {
			if c.Detect.Baseline, err = filepath.Abs(c.Detect.Baseline); err != nil {
				return nil, "", fmt.Errorf("--baseline: %w", err)
			}
		}
	}
	if fl.set["ui"] {
		c.UI.Listen = *fl.ui
	}
	if fl.set["learn-for"] {
		c.Detect.LearnFor = *fl.learnFor
	}
	if fl.set["no-detect"] && *fl.noDetect {
		c.Detect.Enabled = false
	}
	if fl.set["audit-log"] {
		c.AuditLog.File = *fl.auditLog
		if c.AuditLog.File != "" {
			if c.AuditLog.File, err = filepath.Abs(c.AuditLog.File); err != nil {
				return nil, "", fmt.Errorf("--audit-log: %w", err)
			}
		}
	}
	for _, w := range fl.watches {
		abs, err := filepath.Abs(w)
		if err != nil {
			return nil, "", fmt.Errorf("--watch %s: %w", w, err)
		}
		c.Files.Watches = append(c.Files.Watches, fanotify.Watch{Path: abs, Ops: fanotify.OpOpen | fanotify.OpModify | fanotify.OpCloseWrite, Class: "operator"})
	}
	if c.Files.Enabled {
		pol := c.FilePolicy()
		if err := pol.Validate(); err != nil {
			return nil, "", fmt.Errorf("--watch: %w", err)
		}
	}
	if c.Host == "" {
		c.Host, _ = os.Hostname()
	}
	return c, src, nil
}

// liveConfig turns the configuration into the agent's.
func liveConfig(c *config.Config, src string, logf func(string, ...any)) (agent.LiveConfig, error) {
	cfg := agent.LiveConfig{
		Host: c.Host,
		Audit: audit.LiveConfig{
			Mode:            audit.Mode(c.Audit.Mode),
			StateDir:        c.StateDir,
			BacklogLimit:    c.Audit.BacklogLimit,
			RateLimit:       c.Audit.RateLimit,
			Failure:         &c.Audit.Failure,
			BacklogWaitTime: c.Audit.BacklogWaitTime,
			AllowImmutable:  c.Audit.AllowImmutable,
		},
		RulesDir:      c.Audit.RulesDir,
		SnapshotEvery: c.Network.SnapshotEvery,
		FlushEvery:    c.Output.FlushEvery,
		BatchWindow:   c.BatchWindow,
		FilesOff:      !c.Files.Enabled,
		ProcOff:       !c.Proc.Enabled,
		Heartbeat:     c.HeartbeatEvery,
		ConfigSource:  src,
		Settings:      settings(c),
		Logf:          logf,
	}
	if len(c.Redactions) > 0 {
		cfg.Redact = c.Redact
	}
	if c.Files.Enabled {
		pol := c.FilePolicy()
		cfg.Files = &pol
	}
	if c.BatchWindow <= 0 {
		cfg.BatchWindow = -1 // no pause: one wake-up per datagram
	}
	if c.Network.SnapshotEvery <= 0 {
		cfg.SnapshotEvery = -1
	}
	// lineaged's own output and state never come back as file events.
	if c.Output.File != "-" {
		cfg.OwnPaths = append(cfg.OwnPaths, c.Output.File)
	}
	if c.StateDir != "" {
		cfg.OwnPaths = append(cfg.OwnPaths, c.StateDir)
	}
	if c.AuditLog.File != "" {
		cfg.OwnPaths = append(cfg.OwnPaths, c.AuditLog.File)
	}
	if c.Output.Syslog.Address != "" {
		cfg.OwnPaths = append(cfg.OwnPaths, c.Output.Syslog.SpoolDir)
	}
	return cfg, nil
}

func settings(c *config.Config) []event.KV {
	var out []event.KV
	for _, kv := range c.Settings() {
		out = append(out, event.KV{Key: kv.Key, Value: kv.Value})
	}
	return out
}

// reload reads the configuration again for a SIGHUP. What only a restart
// can change is reported and kept as it is.
func (fl *runFlags) reload(running *config.Config, logf func(string, ...any)) agent.Reload {
	c, src, err := fl.load()
	if err != nil {
		return agent.Reload{Invalid: err, Source: *fl.config}
	}
	for _, x := range []struct {
		key      string
		old, new any
	}{
		{"host", running.Host, c.Host},
		{"state_dir", running.StateDir, c.StateDir},
		{"audit.mode", running.Audit.Mode, c.Audit.Mode},
		{"audit.rules_dir", running.Audit.RulesDir, c.Audit.RulesDir},
		{"proc.enabled", running.Proc.Enabled, c.Proc.Enabled},
		{"network.snapshot_every", running.Network.SnapshotEvery, c.Network.SnapshotEvery},
		{"output.file", running.Output.File, c.Output.File},
		{"metrics.listen", running.Metrics.Listen, c.Metrics.Listen},
		{"ui.listen", running.UI.Listen, c.UI.Listen},
		{"ui.allow_remote", running.UI.AllowRemote, c.UI.AllowRemote},
		{"ui.token_file", running.UI.TokenFile, c.UI.TokenFile},
	} {
		if x.old != x.new {
			logf("reload: %s changed (%v -> %v): takes effect at the next start", x.key, x.old, x.new)
		}
	}
	rl := agent.Reload{
		FilesOff:    !c.Files.Enabled,
		Heartbeat:   c.HeartbeatEvery,
		FlushEvery:  c.Output.FlushEvery,
		BatchWindow: c.BatchWindow,
		Settings:    settings(c),
		Source:      src,
	}
	if c.BatchWindow <= 0 {
		rl.BatchWindow = -1
	}
	if len(c.Redactions) > 0 {
		rl.Redact = c.Redact
	}
	if c.Files.Enabled {
		pol := c.FilePolicy()
		rl.Files = &pol
	}
	if running.Audit.Mode != "off" {
		rs, err := agent.LoadRules(running.Audit.RulesDir, logf)
		if err != nil {
			return agent.Reload{Invalid: err, Source: src}
		}
		rl.Rules = rs
	}
	return rl
}

// reopenFile is the events file. It rotates by size (file -> file.1 ->
// file.2 ..., a rename: forwarders that follow files by inode finish the
// old one) and is reopened by path on SIGHUP, after a rotation by
// logrotate (rename, never copytruncate). Writes carry whole lines
// (output.Writer), so a rotation never splits one.
type reopenFile struct {
	path    string
	f       *os.File
	size    int64
	maxSize int64  // 0: never rotate
	keep    uint32 // rotated files kept
	dropped uint64 // lines lost to write errors
	failing bool   // the last write failed
}

func openOutput(path string, maxSize int64, keep uint32) (*reopenFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	r := &reopenFile{path: path, maxSize: maxSize, keep: max(keep, 1)}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *reopenFile) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	r.size = 0
	if fi, err := f.Stat(); err == nil {
		r.size = fi.Size()
	}
	r.f = f
	return nil
}

func (r *reopenFile) Write(p []byte) (int, error) {
	if r.maxSize > 0 && r.size > 0 && r.size+int64(len(p)) > r.maxSize {
		if err := r.rotate(); err != nil {
			// Keep writing to the file we have: a full disk or a
			// permission problem must not lose the lines.
			fmt.Fprintf(os.Stderr, "lineaged run: rotating %s: %v (writing on to it)\n", r.path, err)
		}
	}
	n, err := r.f.Write(p)
	if err != nil {
		// A full disk (ENOSPC, EDQUOT) or an I/O error: take back the
		// partial line, count the lines dropped, and go on; the agent
		// reports the count once writes succeed again.
		if n > 0 {
			_ = r.f.Truncate(r.size)
		}
		r.dropped += uint64(bytes.Count(p, []byte{'\n'}))
		if !r.failing {
			fmt.Fprintf(os.Stderr, "lineaged run: writing %s: %v: dropping lines (counted) until it can be written again\n", r.path, err)
		}
		r.failing = true
		return len(p), nil
	}
	if r.failing {
		fmt.Fprintf(os.Stderr, "lineaged run: writing %s again; %d lines dropped so far\n", r.path, r.dropped)
	}
	r.failing = false
	r.size += int64(n)
	return n, nil
}

// Dropped is the number of lines that could not be written, and whether
// writes are failing now.
func (r *reopenFile) Dropped() (uint64, bool) { return r.dropped, r.failing }

// rotate shifts file.N-1 -> file.N ... file -> file.1 and opens a new file.
func (r *reopenFile) rotate() error {
	_ = r.f.Sync()
	for i := r.keep; i > 1; i-- {
		_ = os.Rename(fmt.Sprintf("%s.%d", r.path, i-1), fmt.Sprintf("%s.%d", r.path, i))
	}
	if err := os.Rename(r.path, r.path+".1"); err != nil {
		return err
	}
	old := r.f
	if err := r.open(); err != nil {
		r.f = old // renamed away, but still ours to write to
		return err
	}
	return old.Close()
}

func (r *reopenFile) Sync() error  { return r.f.Sync() }
func (r *reopenFile) Close() error { return r.f.Close() }

// Reopen opens the path anew; on failure the old file stays in use.
func (r *reopenFile) Reopen() error {
	old, oldSize := r.f, r.size
	if err := r.open(); err != nil {
		r.f, r.size = old, oldSize
		return err
	}
	_ = old.Sync()
	return old.Close()
}

// fileSink is the buffered writer over a reopenable file.
type fileSink struct {
	*output.Writer
	f *reopenFile
}

func (s *fileSink) Reopen() error { return s.f.Reopen() }

func (s *fileSink) Dropped() (uint64, bool) { return s.f.Dropped() }

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// serveMetrics serves the agent's counters in the Prometheus text format
// at http://ADDR/metrics. The configuration refuses an address off
// loopback unless allow_remote is set; this checks again.
func serveMetrics(addr string, allowRemote bool, latest *atomic.Pointer[agent.Counters], extra func(io.Writer), logf func(string, ...any)) (func(), error) {
	if !allowRemote && !config.IsLoopback(addr) {
		return nil, fmt.Errorf("%s is not a loopback address (metrics.allow_remote is false)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = agent.WritePrometheus(w, latest.Load())
		if extra != nil {
			extra(w)
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("metrics: %v", err)
		}
	}()
	logf("metrics on http://%s/metrics", ln.Addr())
	return func() { srv.Close() }, nil
}

// tee writes each batch of whole lines to the file (or standard output)
// and, when configured, to syslog; a syslog problem never holds the file
// back (the syslog writer spools and counts on its own).
func tee(w io.Writer, slog *syslogout.Writer) io.Writer {
	if slog == nil {
		return w
	}
	return &teeWriter{w: w, slog: slog}
}

type teeWriter struct {
	w    io.Writer
	slog *syslogout.Writer
}

func (t *teeWriter) Write(p []byte) (int, error) {
	_, _ = t.slog.Write(p) // never blocks on the network; counts its own losses
	return t.w.Write(p)
}

// syslogTLS builds the TLS configuration: the receiver's certificate must
// chain to caFile (or the system's roots) and name serverName (or the
// address's host).
func syslogTLS(caFile, serverName string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", caFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// syslogMetrics adds the syslog writer's counters to the metrics page.
func syslogMetrics(w io.Writer, st syslogout.Stats) {
	up := 0
	if st.Connected {
		up = 1
	}
	fmt.Fprintf(w, "# HELP lineaged_syslog_messages_total Syslog messages by outcome (sent includes resends).\n# TYPE lineaged_syslog_messages_total counter\n")
	for _, x := range []struct {
		k string
		v uint64
	}{{"sent", st.Sent}, {"resent", st.Resent}, {"confirmed", st.Confirmed}, {"spooled", st.Spooled}, {"dropped", st.Dropped}, {"corrupt", st.Corrupt}} {
		fmt.Fprintf(w, "lineaged_syslog_messages_total{outcome=%q} %d\n", x.k, x.v)
	}
	fmt.Fprintf(w, "# HELP lineaged_syslog_queued Syslog messages not yet confirmed.\n# TYPE lineaged_syslog_queued gauge\nlineaged_syslog_queued %d\n", st.Queued)
	fmt.Fprintf(w, "# HELP lineaged_syslog_connected Whether the syslog receiver is connected.\n# TYPE lineaged_syslog_connected gauge\nlineaged_syslog_connected %d\n", up)
}
