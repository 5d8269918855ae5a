// Command lineaged is a host intrusion-detection agent for Linux servers
// without eBPF. This file holds flags, signals and nothing else; the work
// is done by package agent.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lineaged/lineaged/agent"
	"github.com/lineaged/lineaged/baseline"
	"github.com/lineaged/lineaged/detect"
	"github.com/lineaged/lineaged/output"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

const usage = `lineaged: process-lineage intrusion detection for Linux without eBPF

Usage:
  lineaged replay   [--output FILE|-] [--alerts-only] [--baseline FILE [--learn]] [--sigma DIR]... FILE...|-
  lineaged run      [--config FILE] [--output FILE|-] [--audit-mode auto|own|multicast|off]
                    [--rules-dir DIR] [--audit-log FILE] [--snapshot-every DUR] [--host NAME]
                    [--state-dir DIR] [--batch-window DUR] [--watch PATH]... [--no-file-watch] [--ui ADDR]
  lineaged status   [--json]      (kernel capabilities, audit state)
  lineaged replace-auditd [--undo] [--dry-run]   (stop and disable auditd; --undo gives it back)
  lineaged replay   --learn --baseline FILE [...] FILE...   (build or extend a baseline)
  lineaged rules    [--sigma DIR]...  (built-in and Sigma rules: loaded, skipped and why)
  lineaged baseline show FILE | diff A B | merge -o OUT A B... | approve FILE KEY... | expire --older-than DUR FILE
  lineaged report   [--format html|md|json] [--since TIME] [--until TIME] --out DIR EVENTS.jsonl...
  lineaged version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "replay":
		return cmdReplay(args[1:], stdin, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "lineaged %s\n", buildVersion())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "status":
		return cmdStatus(args[1:], stdout, stderr)
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "replace-auditd":
		return cmdReplaceAuditd(args[1:], stdout, stderr)
	case "baseline":
		return cmdBaseline(args[1:], stdout, stderr)
	case "rules":
		return cmdRules(args[1:], stdout, stderr)
	case "report":
		return cmdReport(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "lineaged: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func buildVersion() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		v += " " + bi.GoVersion
	}
	return v
}

func cmdReplay(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outPath := fs.String("output", "-", "write JSON lines to `FILE` (- for standard output)")
	alertsOnly := fs.Bool("alerts-only", false, "write alerts only")
	baselinePath := fs.String("baseline", "", "baseline `FILE`: detect against it, or with --learn build or extend it")
	learn := fs.Bool("learn", false, "build or extend the --baseline FILE from what the logs show (no novelty alerts; detections at medium severity or above still alert and are not learned)")
	var sigmaDirs stringList
	fs.Var(&sigmaDirs, "sigma", "load Sigma rules (linux process_creation and auditd) from `DIR` (repeatable)")
	noDetect := fs.Bool("no-detect", false, "run no detections (events only)")
	host := fs.String("host", "", "host name for records without node= (default: this host's name)")
	progress := fs.String("progress", "auto", "progress bar on standard error: auto, always or never")
	runIDFlag := fs.String("run-id", "", "prefix of every event.id (default: random per run)")
	maxProcs := fs.Int("max-processes", agent.DefaultReplayProcesses, "processes kept per host in the lineage graph (least recently active evicted first)")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile to `FILE` (for performance reports)")
	memProfile := fs.String("memprofile", "", "write a Go heap profile to `FILE` at the end")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: lineaged replay [--output FILE|-] [--alerts-only] FILE...|-")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *learn && *baselinePath == "" {
		fmt.Fprintln(stderr, "lineaged replay: --learn needs --baseline FILE (the file to build or extend)")
		return 2
	}
	var base *baseline.Baseline
	var err error
	switch {
	case *learn:
		base, err = loadOrNew(*baselinePath)
	case *baselinePath != "":
		base, err = baseline.Load(*baselinePath)
	}
	if err != nil {
		fmt.Fprintf(stderr, "lineaged replay: --baseline: %v\n", err)
		return 1
	}
	var engine *detect.Engine
	if !*noDetect || *learn {
		ext, err := loadSigma(sigmaDirs, func(f string, a ...any) { fmt.Fprintf(stderr, "lineaged replay: "+f+"\n", a...) })
		if err != nil {
			fmt.Fprintf(stderr, "lineaged replay: --sigma: %v\n", err)
			return 1
		}
		engine = detect.New(detect.Config{Baseline: base, Learning: *learn, External: ext})
	}
	files := fs.Args()
	if len(files) == 0 {
		fmt.Fprintln(stderr, "lineaged replay: name at least one audit log, or - for standard input")
		return 2
	}
	if *host == "" {
		*host, _ = os.Hostname()
	}

	var inputs []agent.Input
	var total int64
	for _, name := range files {
		if name == "-" {
			inputs = append(inputs, agent.Input{Name: "-", R: stdin})
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "lineaged replay: %v\n", err)
			return 1
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			total += st.Size()
		}
		inputs = append(inputs, agent.Input{Name: name, R: f})
	}

	// OrderByTime has read the head of every input: from here on only
	// the readers it returns hold those bytes.
	inputs, changed := agent.OrderByTime(inputs)
	if changed {
		names := make([]string, len(inputs))
		for i, in := range inputs {
			names[i] = in.Name
		}
		fmt.Fprintf(stderr, "lineaged replay: replaying in time order: %s\n", strings.Join(names, ", "))
	}

	var out io.Writer = stdout
	var outFile *os.File
	if *outPath != "-" {
		f, err := os.OpenFile(*outPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
		if err != nil {
			fmt.Fprintf(stderr, "lineaged replay: --output: %v\n", err)
			return 1
		}
		outFile, out = f, f
	}
	bw := bufio.NewWriterSize(out, 256<<10)
	w := output.NewWriter(bw)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *runIDFlag == "" {
		*runIDFlag = runID()
	}
	cfg := agent.ReplayConfig{Host: *host, IDPrefix: *runIDFlag, AlertsOnly: *alertsOnly, MaxProcesses: *maxProcs}
	if engine != nil {
		cfg.Detector = engine
	}
	bar := newProgress(stderr, *progress, total)
	if bar != nil {
		cfg.Progress = bar.update
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "lineaged replay: --cpuprofile: %v\n", err)
			return 1
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	start := time.Now()
	sum, err := agent.Replay(ctx, cfg, inputs, w)
	if *memProfile != "" {
		if f, err := os.Create(*memProfile); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	if bar != nil {
		bar.done()
	}
	ferr := w.Flush()
	if ferr == nil {
		ferr = bw.Flush()
	}
	if outFile != nil {
		if cerr := outFile.Close(); ferr == nil {
			ferr = cerr
		}
	}
	el := time.Since(start)

	fmt.Fprintf(stderr, "lineaged replay: %d lines, %d records → %d events written in %.2fs (%.0f lines/s); %d malformed lines; %d sequence gaps; graph %d processes\n",
		sum.Lines, sum.Records, sum.Events, el.Seconds(), float64(sum.Lines)/el.Seconds(), sum.MalformedCount, sum.Reassembly.Lost, sum.Graph.Nodes)
	if engine != nil {
		printDetectStats(stderr, engine.Stats())
	}
	for i, m := range sum.Malformed {
		if i == 50 {
			fmt.Fprintf(stderr, "  ... and %d more malformed lines\n", sum.MalformedCount-50)
			break
		}
		fmt.Fprintf(stderr, "  %s\n", m)
	}
	if err != nil {
		fmt.Fprintf(stderr, "lineaged replay: %v\n", err)
		return 1
	}
	if ferr != nil {
		fmt.Fprintf(stderr, "lineaged replay: writing output: %v\n", ferr)
		return 1
	}
	if *learn {
		learned := engine.Baseline()
		learned.AddHost(*host)
		if err := baseline.Save(*baselinePath, learned); err != nil {
			fmt.Fprintf(stderr, "lineaged replay: saving the baseline: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "lineaged replay: baseline %s: %d entries (%d refused by its size limit)\n", *baselinePath, learned.Len(), learned.Refused())
	}
	return 0
}

func runID() string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("%x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}

// progress is a one-line progress bar on a terminal's standard error.
type progress struct {
	w     io.Writer
	total int64
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, mode string, total int64) *progress {
	switch mode {
	case "never":
		return nil
	case "always":
	default: // auto: a terminal, and input big enough to wait for
		f, ok := w.(*os.File)
		if !ok || !isTerminal(f) || total < 64<<20 {
			return nil
		}
	}
	return &progress{w: w, total: total, start: time.Now()}
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func (p *progress) update(read int64) {
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	rate := float64(read) / el / (1 << 20)
	if p.total > 0 {
		frac := float64(read) / float64(p.total)
		if frac > 1 {
			frac = 1 // gzip input: compressed size is the total
		}
		n := int(frac * 30)
		fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %6.1f MiB/s", strings.Repeat("#", n), strings.Repeat(".", 30-n), frac*100, rate)
		return
	}
	fmt.Fprintf(p.w, "\r%8.1f MiB %6.1f MiB/s", float64(read)/(1<<20), rate)
}

func (p *progress) done() { fmt.Fprint(p.w, "\r\033[K") }
