package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/agent"
	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/feature"
	"github.com/lineaged/lineaged/internal/logging"
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
	cpuProfile  *string
	memProfile  *string
	sigma       stringList
	watches     stringList
	set         map[string]bool
}

func newRunFlags(stderr io.Writer) *runFlags {
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
	fl.cpuProfile = f.String("cpuprofile", "", "write a Go CPU profile to `FILE` (for performance reports)")
	fl.memProfile = f.String("memprofile", "", "write a Go heap profile to `FILE` every 10 s while running (for memory reports)")
	f.Var(&fl.watches, "watch", "also watch `DIR` (or file) for open, modify and close-write (repeatable)")
	fl.host = f.String("host", "", "host.name of the events; overrides host (default: this host's name)")
	fl.auditLog = f.String("audit-log", "", "also write the kernel's audit records to `FILE` in auditd's format (for ausearch/aureport); overrides audit_log.file")
	fl.baseline = f.String("baseline", "", "baseline `FILE` to learn into and detect against (\"\" for none); overrides detect.baseline")
	fl.learnFor = f.Duration("learn-for", 0, "how long a new baseline learns before detecting; overrides detect.learn_for")
	fl.noDetect = f.Bool("no-detect", false, "run no detections (detect.enabled: false)")
	f.Var(&fl.sigma, "sigma", "load Sigma rules from `DIR` (repeatable); overrides detect.sigma_dirs")
	fl.ui = f.String("ui", "", "serve the live view on `ADDR` (host:port; loopback unless ui.allow_remote); overrides ui.listen")
	return fl
}

// cmdRun is the live agent. SIGTERM and SIGINT stop it cleanly: buffered
// events are written and, in audit own mode, the audit state found at
// start is put back. SIGHUP reloads the configuration and the rules and
// reopens the output file.
func cmdRun(args []string, stdout, stderr io.Writer) int {
	fl := newRunFlags(stderr)
	if err := fl.fs.Parse(args); err != nil {
		return 2
	}
	fl.set = map[string]bool{}
	fl.fs.Visit(func(x *flag.Flag) { fl.set[x.Name] = true })
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "lineaged run: %v\n", err)
		return code
	}
	if err := feature.CheckProfile(); err != nil {
		return fail(2, err)
	}
	set, err := fl.settings()
	if err != nil {
		return fail(2, err)
	}
	log, err := logging.New(stderr, set.Config.Log.Format, set.Config.Log.Level, "lineaged run")
	if err != nil {
		return fail(2, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfiles, err := agent.StartProfiles(ctx, *fl.cpuProfile, *fl.memProfile, 10*time.Second, log)
	if err != nil {
		return fail(1, err)
	}
	defer stopProfiles()
	reloads := make(chan agent.Reload)
	go fl.reloadOnHUP(ctx, reloads, log)
	opt := agent.Options{Version: version, Log: log, Stdout: stdout, IDPrefix: runID(), Reloads: reloads}
	if err := agent.Run(ctx, set, opt); err != nil {
		return fail(1, err)
	}
	return 0
}

// settings loads the configuration with the flags laid over it.
func (fl *runFlags) settings() (*agent.Settings, error) {
	c, src, err := fl.load()
	if err != nil {
		return nil, err
	}
	return agent.FromConfig(c, src)
}

// reloadOnHUP sends a new configuration to the agent on every SIGHUP.
func (fl *runFlags) reloadOnHUP(ctx context.Context, reloads chan<- agent.Reload, log zerolog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
		case <-ctx.Done():
			return
		}
		result := make(chan error, 1)
		rl := agent.Reload{Result: result}
		rl.Config, rl.Source, rl.Err = fl.load()
		if rl.Err != nil {
			rl.Source = *fl.config
		}
		select {
		case reloads <- rl:
		case <-ctx.Done():
			return
		}
		if err := <-result; err == nil {
			log.Info().Msgf("reloaded %s", rl.Source)
		}
	}
}

// load reads the configuration file (the built-in defaults when the
// default path does not exist; an explicit --config must exist) and lays
// the flags that were given over it. src names where it came from.
func (fl *runFlags) load() (*config.Config, string, error) {
	c, src, err := loadConfig(*fl.config, fl.set["config"])
	if err != nil {
		return nil, "", err
	}
	if err := fl.override(c); err != nil {
		return nil, "", err
	}
	if c.Host == "" {
		c.Host, _ = os.Hostname()
	}
	return c, src, nil
}

// loadConfig reads the configuration file: the built-in defaults when
// the default path does not exist and none was given (explicit: --config
// was), an error naming the file otherwise. src names where it came from.
func loadConfig(path string, explicit bool) (c *config.Config, src string, err error) {
	c, err = config.Load(path)
	src = path
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return config.Default(), "built-in", nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("%w (give an existing file, or leave --config out: %s when it exists, else the built-in defaults)", err, config.DefaultPath)
	}
	return c, src, err
}

// override lays the flags that were given over c. Paths are made
// absolute, as the configuration file's must be: fanotify's exclusions
// and the state files need it so.
func (fl *runFlags) override(c *config.Config) error {
	abs := func(flag string, dst *string, v string) error {
		*dst = v
		if v == "" || v == "-" {
			return nil
		}
		a, err := filepath.Abs(v)
		if err != nil {
			return fmt.Errorf("--%s: %w", flag, err)
		}
		*dst = a
		return nil
	}
	var err error
	for _, o := range []struct {
		flag  string
		apply func()
	}{
		{"output", func() { err = errors.Join(err, abs("output", &c.Output.File, *fl.output)) }},
		{"state-dir", func() { err = errors.Join(err, abs("state-dir", &c.StateDir, *fl.stateDir)) }},
		{"rules-dir", func() { c.Audit.RulesDir = *fl.rulesDir }},
		{"snapshot-every", func() { c.Network.SnapshotEvery = *fl.snapEvery }},
		{"no-file-watch", func() { c.Files.Enabled = c.Files.Enabled && !*fl.noFiles }},
		{"batch-window", func() { c.BatchWindow = *fl.batchWindow }},
		{"host", func() { c.Host = *fl.host }},
		{"baseline", func() { err = errors.Join(err, abs("baseline", &c.Detect.Baseline, *fl.baseline)) }},
		{"ui", func() { c.UI.Listen = *fl.ui }},
		{"learn-for", func() { c.Detect.LearnFor = *fl.learnFor }},
		{"no-detect", func() { c.Detect.Enabled = c.Detect.Enabled && !*fl.noDetect }},
		{"audit-log", func() { err = errors.Join(err, abs("audit-log", &c.AuditLog.File, *fl.auditLog)) }},
		{"sigma", func() { c.Detect.SigmaDirs = fl.sigma }},
		{"audit-mode", func() { err = errors.Join(err, setMode(c, *fl.mode)) }},
	} {
		if fl.set[o.flag] {
			o.apply()
		}
	}
	for _, w := range fl.watches {
		a, aerr := filepath.Abs(w)
		if aerr != nil {
			return fmt.Errorf("--watch %s: %w", w, aerr)
		}
		c.Files.Watches = append(c.Files.Watches, config.Watch{Path: a, Ops: []string{"open", "modify", "close-write"}, Class: "operator"})
	}
	return err
}

func setMode(c *config.Config, mode string) error {
	switch audit.Mode(mode) {
	case audit.ModeAuto, audit.ModeOwn, audit.ModeMulticast, audit.ModeOff:
		c.Audit.Mode = mode
		return nil
	}
	return fmt.Errorf("--audit-mode %q is not one of auto, own, multicast, off", mode)
}
