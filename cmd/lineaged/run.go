package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/lineaged/lineaged/agent"
	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/fanotify"
	"github.com/lineaged/lineaged/feature"
	"github.com/lineaged/lineaged/output"
)

const defaultEventsFile = "/var/log/lineaged/events.jsonl"

// cmdRun is the live agent. SIGTERM and SIGINT stop it cleanly: buffered
// events are written and, in audit own mode, the audit state found at
// start is put back.
func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outPath := fs.String("output", defaultEventsFile, "write JSON lines to `FILE` (appended; - for standard output)")
	mode := fs.String("audit-mode", "auto", "audit ingest: auto, own, multicast or off")
	stateDir := fs.String("state-dir", "/var/lib/lineaged", "where lineaged keeps its state: in audit own mode, the audit state found at start, so a run after a crash restores it")
	rulesDir := fs.String("rules-dir", "/etc/lineaged/rules.d", "audit rules (*.rules, auditctl syntax) for own mode; none there: built-in rules")
	snapEvery := fs.Duration("snapshot-every", 10*time.Second, "sock_diag snapshot period (0 turns sock_diag off)")
	noFiles := fs.Bool("no-file-watch", false, "turn the fanotify file watches off")
	batchWindow := fs.Duration("batch-window", agent.DefaultBatchWindow, "how long each source waits after a read so the next takes a batch: more saves CPU under load, adds that much latency")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile to `FILE` (for performance reports)")
	var watches stringList
	fs.Var(&watches, "watch", "also watch `DIR` (or file) for open, modify and close-write (repeatable)")
	host := fs.String("host", "", "host.name of the events (default: this host's name)")
	for _, r := range []string{"config", "baseline", "learn-for", "audit-log", "ui"} {
		fs.String(r, "", "reserved: arrives in a later release")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var reserved []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "config", "baseline", "learn-for", "audit-log", "ui":
			reserved = append(reserved, "--"+f.Name)
		}
	})
	if len(reserved) > 0 {
		fmt.Fprintf(stderr, "lineaged run: %v not in this release yet (see the README's roadmap)\n", reserved)
		return 2
	}
	if err := feature.CheckProfile(); err != nil {
		fmt.Fprintf(stderr, "lineaged run: %v\n", err)
		return 2
	}
	switch audit.Mode(*mode) {
	case audit.ModeAuto, audit.ModeOwn, audit.ModeMulticast, audit.ModeOff:
	default:
		fmt.Fprintf(stderr, "lineaged run: --audit-mode %q is not one of auto, own, multicast, off\n", *mode)
		return 2
	}
	if *host == "" {
		*host, _ = os.Hostname()
	}
	var out io.Writer = stdout
	var f *os.File
	if *outPath != "-" {
		if err := os.MkdirAll(filepath.Dir(*outPath), 0o750); err != nil {
			fmt.Fprintf(stderr, "lineaged run: --output: %v\n", err)
			return 1
		}
		var err error
		f, err = os.OpenFile(*outPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			fmt.Fprintf(stderr, "lineaged run: --output: %v\n", err)
			return 1
		}
		defer f.Close()
		out = f
	}
	// output.Writer buffers and hands the file whole lines only: a
	// forwarder tailing the file never reads half an event.
	// 256 KiB: the agent flushes every 100 ms anyway; a burst then costs
	// a few write(2) calls.
	w := output.NewWriterSize(out, 256<<10)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := agent.LiveConfig{
		Host:          *host,
		IDPrefix:      runID(),
		Audit:         audit.LiveConfig{Mode: audit.Mode(*mode), StateDir: *stateDir},
		RulesDir:      *rulesDir,
		SnapshotEvery: *snapEvery,
		FilesOff:      *noFiles,
		BatchWindow:   *batchWindow,
		Logf: func(format string, a ...any) {
			fmt.Fprintf(stderr, "lineaged run: "+format+"\n", a...)
		},
	}
	if *outPath != "-" {
		if abs, err := filepath.Abs(*outPath); err == nil {
			cfg.OwnPaths = append(cfg.OwnPaths, abs)
		}
	}
	if len(watches) > 0 {
		pol := fanotify.DefaultPolicy()
		for _, w := range watches {
			abs, err := filepath.Abs(w)
			if err != nil {
				fmt.Fprintf(stderr, "lineaged run: --watch %s: %v\n", w, err)
				return 2
			}
			pol.Watches = append(pol.Watches, fanotify.Watch{Path: abs, Ops: fanotify.OpOpen | fanotify.OpModify | fanotify.OpCloseWrite, Class: "operator"})
		}
		if err := pol.Validate(); err != nil {
			fmt.Fprintf(stderr, "lineaged run: --watch: %v\n", err)
			return 2
		}
		cfg.Files = &pol
	}
	if *batchWindow <= 0 {
		cfg.BatchWindow = -1 // no pause: one wake-up per datagram
	}
	if *snapEvery == 0 {
		cfg.SnapshotEvery = -1
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
	err := agent.Run(ctx, cfg, w)
	if f != nil {
		if serr := f.Sync(); err == nil && serr != nil {
			err = serr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "lineaged run: %v\n", err)
		return 1
	}
	return 0
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
