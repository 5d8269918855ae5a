package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lineaged/lineaged/agent"
	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/internal/logging"
	"github.com/lineaged/lineaged/internal/progress"
	"github.com/lineaged/lineaged/output"
)

// cmdReplay replays audit logs through the pipeline `run` uses.
func cmdReplay(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	job := agent.ReplayJob{Stdin: stdin, Stdout: stdout}
	cfgPath := fs.String("config", config.DefaultPath, "configuration `FILE` whose redact: patterns hide secrets in command lines, as `run` does (the built-in defaults when the default path does not exist)")
	fs.StringVar(&job.Output, "output", "-", "write JSON lines to `FILE` (- for standard output)")
	fs.BoolVar(&job.AlertsOnly, "alerts-only", false, "write alerts only")
	fs.StringVar(&job.Baseline, "baseline", "", "baseline `FILE`: detect against it, or with --learn build or extend it")
	fs.BoolVar(&job.Learn, "learn", false, "build or extend the --baseline FILE from what the logs show (no novelty alerts; detections at medium severity or above still alert and are not learned)")
	var sigmaDirs stringList
	fs.Var(&sigmaDirs, "sigma", "load Sigma rules (linux process_creation and auditd) from `DIR` (repeatable)")
	fs.BoolVar(&job.NoDetect, "no-detect", false, "run no detections (events only)")
	fs.StringVar(&job.Host, "host", "", "host.name for records without node= (default: none; replay never describes the machine replaying)")
	ancestry := fs.String("ancestry", "", "lineaged.ancestry: full, compact or ids (default: the configuration's output.ancestry)")
	progressFlag := fs.String("progress", "auto", "progress bar on standard error: auto, always or never")
	fs.StringVar(&job.RunID, "run-id", "", "prefix of every event.id (default: random per run)")
	fs.IntVar(&job.MaxProcesses, "max-processes", agent.DefaultReplayProcesses, "processes kept per host in the lineage graph (least recently active evicted first)")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile to `FILE` (for performance reports)")
	memProfile := fs.String("memprofile", "", "write a Go heap profile to `FILE` at the end")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: lineaged replay [--output FILE|-] [--alerts-only] FILE...|-")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	job.Files, job.SigmaDirs = fs.Args(), sigmaDirs
	if job.Learn && job.Baseline == "" {
		fmt.Fprintln(stderr, "lineaged replay: --learn needs --baseline FILE (the file to build or extend)")
		return 2
	}
	if len(job.Files) == 0 {
		fmt.Fprintln(stderr, "lineaged replay: name at least one audit log, or - for standard input")
		return 2
	}
	if err := replayDefaults(fs, &job, *cfgPath, *ancestry, stderr); err != nil {
		fmt.Fprintf(stderr, "lineaged replay: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfiles, err := agent.StartProfiles(ctx, *cpuProfile, "", time.Minute, job.Log)
	if err != nil {
		fmt.Fprintf(stderr, "lineaged replay: %v\n", err)
		return 1
	}
	pm, err := progress.ParseMode(*progressFlag)
	if err != nil {
		fmt.Fprintf(stderr, "lineaged replay: --progress: %v\n", err)
		return 2
	}
	bar := progress.New(stderr, inputSize(job.Files), progress.Config{Mode: pm, Threshold: 64 << 20})
	job.Progress = bar.Update
	start := time.Now()
	res, err := agent.RunReplay(ctx, job)
	stopProfiles()
	if *memProfile != "" {
		if perr := agent.WriteHeapProfile(*memProfile); perr != nil {
			fmt.Fprintf(stderr, "lineaged replay: --memprofile: %v\n", perr)
		}
	}
	bar.Done()
	printReplay(stderr, res, time.Since(start))
	if err != nil {
		fmt.Fprintf(stderr, "lineaged replay: %v\n", err)
		return 1
	}
	if res.Learned != nil {
		fmt.Fprintf(stderr, "lineaged replay: baseline %s: %d entries (%d refused by its size limit)\n", job.Baseline, res.Learned.Len(), res.Learned.Refused())
	}
	return 0
}

// printReplay writes the replay's summary to standard error.
func printReplay(w io.Writer, res agent.ReplayResult, el time.Duration) {
	sum := res.Summary
	fmt.Fprintf(w, "lineaged replay: %d lines, %d records → %d events written in %.2fs (%.0f lines/s); %d malformed lines; %d sequence gaps; graph %d processes\n",
		sum.Lines, sum.Records, sum.Events, el.Seconds(), float64(sum.Lines)/el.Seconds(), sum.MalformedCount, sum.Reassembly.Lost, sum.Graph.Nodes)
	if res.Detect != nil {
		printDetectStats(w, *res.Detect)
	}
	for i, m := range sum.Malformed {
		if i == 50 {
			fmt.Fprintf(w, "  ... and %d more malformed lines\n", sum.MalformedCount-50)
			break
		}
		fmt.Fprintf(w, "  %s\n", m)
	}
}

// replayDefaults fills what the flags left out: the redactions and the
// log settings of the configuration (as run has them), the host name and
// a run id.
func replayDefaults(fs *flag.FlagSet, job *agent.ReplayJob, cfgPath, ancestry string, stderr io.Writer) error {
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	c, _, err := loadConfig(cfgPath, explicit)
	if err != nil {
		return err
	}
	if len(c.Redactions) > 0 {
		job.Redact = c.Redact
	}
	if job.RunID == "" {
		job.RunID = runID()
	}
	if ancestry != "" {
		if _, err := output.ParseAncestry(ancestry); err != nil {
			return fmt.Errorf("--ancestry: %w", err)
		}
		c.Output.Ancestry = ancestry
	}
	job.Log, err = logging.New(stderr, c.Log.Format, c.Log.Level, "lineaged replay")
	job.Encoder = agent.NewEncoder(c, version, false, job.Log)
	return err
}

// inputSize is the total size of the named files (standard input counts
// nothing), for the progress bar.
func inputSize(files []string) int64 {
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && f != "-" {
			n += st.Size()
		}
	}
	return n
}
