package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/baseline"
	"github.com/lineaged/lineaged/detect"
	"github.com/lineaged/lineaged/output"
)

// ReplayJob is a `lineaged replay`: which logs, where the events go, and
// what judges them.
type ReplayJob struct {
	Files  []string  // audit logs; "-" is Stdin
	Stdin  io.Reader // read for "-"
	Output string    // events file ("-": Stdout), truncated
	Stdout io.Writer
	// Baseline is a baseline file to detect against, or with Learn to
	// build or extend; "" for none.
	Baseline   string
	Learn      bool
	NoDetect   bool     // no detections (events only)
	SigmaDirs  []string // Sigma rules (the default directory when empty and it exists)
	AlertsOnly bool
	Host       string // host.name for records without node= ("": none)
	// Encoder writes the lines (nil: output's defaults).
	Encoder *output.Encoder
	RunID   string // prefix of every event.id
	// MaxProcesses caps each host's graph (DefaultReplayProcesses when 0).
	MaxProcesses int
	// Redact hides secrets in command lines (nil: none).
	Redact func(string) string
	// Progress, when set, is told the total input size and then the
	// bytes read now and then (a progress bar).
	Progress func(read, total int64)
	Log      zerolog.Logger
}

// ReplayResult is what a replay job did.
type ReplayResult struct {
	Summary Summary
	// Detect is the engine's counters (nil without detection).
	Detect *detect.Stats
	// Learned is the baseline saved with Learn (nil otherwise).
	Learned *baseline.Baseline
}

// RunReplay opens the job's inputs, replays them in time order through
// the pipeline with the job's detection, writes the events, and with
// Learn saves the baseline. Inputs it cannot open are an error before
// anything is written.
func RunReplay(ctx context.Context, job ReplayJob) (res ReplayResult, err error) {
	if job.Learn && job.Baseline == "" {
		return res, errors.New("--learn needs --baseline FILE (the file to build or extend)")
	}
	engine, err := job.engine()
	if err != nil {
		return res, err
	}
	inputs, total, closeInputs, err := job.open()
	if err != nil {
		return res, err
	}
	defer closeInputs()
	cfg := ReplayConfig{Host: job.Host, IDPrefix: job.RunID, AlertsOnly: job.AlertsOnly,
		MaxProcesses: job.MaxProcesses, Redact: job.Redact}
	if engine != nil {
		cfg.Detector = engine
	}
	if job.Progress != nil {
		cfg.Progress = func(read int64) { job.Progress(read, total) }
	}
	res.Summary, err = job.write(ctx, cfg, inputs)
	if engine != nil {
		st := engine.Stats()
		res.Detect = &st
	}
	if err != nil || !job.Learn {
		return res, err
	}
	learned := engine.Baseline()
	learned.AddHost(job.Host)
	if err := baseline.Save(job.Baseline, learned); err != nil {
		return res, fmt.Errorf("saving the baseline: %w", err)
	}
	res.Learned = learned
	return res, nil
}

// engine builds the detection engine (nil with NoDetect and no Learn).
func (job *ReplayJob) engine() (*detect.Engine, error) {
	var base *baseline.Baseline
	var err error
	switch {
	case job.Learn:
		base, err = baseline.Load(job.Baseline)
		if errors.Is(err, fs.ErrNotExist) {
			base, err = baseline.New(), nil
		}
	case job.Baseline != "":
		base, err = baseline.Load(job.Baseline)
	}
	if err != nil {
		return nil, fmt.Errorf("--baseline: %w", err)
	}
	if job.NoDetect && !job.Learn {
		return nil, nil
	}
	ext, err := LoadSigma(job.SigmaDirs, job.Log)
	if err != nil {
		return nil, fmt.Errorf("--sigma: %w", err)
	}
	return detect.New(detect.Config{Baseline: base, Learning: job.Learn, External: ext}), nil
}

// open opens the inputs and sorts them by their first record's time; the
// returned close closes the files.
func (job *ReplayJob) open() (inputs []audit.Input, total int64, closeAll func(), err error) {
	var files []*os.File
	closeAll = func() {
		for _, f := range files {
			f.Close()
		}
	}
	for _, name := range job.Files {
		if name == "-" {
			inputs = append(inputs, audit.Input{Name: "-", R: job.Stdin})
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			closeAll()
			return nil, 0, func() {}, err
		}
		files = append(files, f)
		if st, err := f.Stat(); err == nil {
			total += st.Size()
		}
		inputs = append(inputs, audit.Input{Name: name, R: f})
	}
	// OrderByTime has read the head of every input: from here on only
	// the readers it returns hold those bytes.
	inputs, changed := audit.OrderByTime(inputs)
	if changed {
		names := make([]string, len(inputs))
		for i, in := range inputs {
			names[i] = in.Name
		}
		job.Log.Info().Msg("replaying in time order: " + strings.Join(names, ", "))
	}
	return inputs, total, closeAll, nil
}

// write replays into the job's output.
func (job *ReplayJob) write(ctx context.Context, cfg ReplayConfig, inputs []audit.Input) (Summary, error) {
	out := job.Stdout
	var file *os.File
	if job.Output != "-" && job.Output != "" {
		f, err := os.OpenFile(job.Output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
		if err != nil {
			return Summary{}, fmt.Errorf("--output: %w", err)
		}
		file, out = f, f
	}
	bw := bufio.NewWriterSize(out, 256<<10)
	w := output.NewWriter(bw)
	w.SetEncoder(job.Encoder)
	sum, err := Replay(ctx, cfg, inputs, w)
	ferr := w.Flush()
	if ferr == nil {
		ferr = bw.Flush()
	}
	if file != nil {
		if cerr := file.Close(); ferr == nil {
			ferr = cerr
		}
	}
	if ferr != nil {
		ferr = fmt.Errorf("writing output: %w", ferr)
	}
	return sum, errors.Join(err, ferr)
}
