package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lineaged/lineaged/baseline"
	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/detect"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
)

// liveDetector is the run command's detector: the engine, plus the
// baseline file kept up to date (saved every save_every when it changed,
// when learning ends, and at exit).
type liveDetector struct {
	en        *detect.Engine
	path      string // "" without a baseline file
	saveEvery time.Duration
	lastSave  time.Time
	savedAt   uint64 // engine's Learned counter at the last save
	savedUpd  time.Time
	ended     bool
	logf      func(string, ...any)
	saveErrs  uint64
}

// newLiveDetector builds the engine from the detect: section. A baseline
// file that does not exist starts a learning window of learn_for (written
// into the file, so a restart resumes it); one whose window has passed,
// or that has none (built by replay --learn), is detected against.
func newLiveDetector(c *config.Config, src string, sigmaDirs []string, logf func(string, ...any)) (*liveDetector, string, error) {
	d := c.Detect
	cfg := detect.Config{OwnPID: os.Getpid(), FoldWindow: d.FoldWindow, RateLimit: int(d.RateLimit), RateWindow: d.RateWindow,
		Disabled: map[string]bool{}}
	// What another program must not touch: the packaged paths, and this
	// run's own program, configuration, rules and baseline.
	cfg.OwnFiles = append([]string(nil), detect.DefaultOwnFiles...)
	if exe, err := os.Executable(); err == nil {
		cfg.OwnFiles = append(cfg.OwnFiles, exe)
	}
	if filepath.IsAbs(src) {
		cfg.OwnFiles = append(cfg.OwnFiles, src)
	}
	if c.Audit.RulesDir != "" {
		cfg.OwnFiles = append(cfg.OwnFiles, strings.TrimSuffix(c.Audit.RulesDir, "/")+"/")
	}
	if d.Baseline != "" {
		cfg.OwnFiles = append(cfg.OwnFiles, d.Baseline)
	}
	for _, id := range d.Disable {
		cfg.Disabled[id] = true
	}
	dirs := sigmaDirs
	if len(dirs) == 0 {
		for _, dir := range d.SigmaDirs {
			if _, err := os.Stat(dir); err == nil {
				dirs = append(dirs, dir)
			} else if dir != defaultSigmaDir {
				logf("detect.sigma_dirs: %v (skipped)", err)
			}
		}
	}
	if len(dirs) > 0 {
		ext, err := loadSigma(dirs, logf)
		if err != nil {
			return nil, "", fmt.Errorf("sigma: %w", err)
		}
		cfg.External = ext
	}
	ld := &liveDetector{path: d.Baseline, saveEvery: d.SaveEvery, lastSave: time.Now(), logf: logf}
	if ld.saveEvery <= 0 {
		ld.saveEvery = 5 * time.Minute
	}
	mode := "detecting without a baseline (only the rules that need none)"
	if d.Baseline != "" {
		b, err := baseline.Load(d.Baseline)
		now := time.Now().UTC()
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.MkdirAll(filepath.Dir(d.Baseline), 0o750); err != nil {
				return nil, "", fmt.Errorf("detect.baseline: %w", err)
			}
			b = baseline.New()
			if d.LearnFor > 0 {
				b.LearnUntil = now.Add(d.LearnFor)
			}
			if err := baseline.Save(d.Baseline, b); err != nil {
				return nil, "", fmt.Errorf("detect.baseline: creating %s: %w (check the directory exists and is writable by root)", d.Baseline, err)
			}
		case err != nil:
			return nil, "", fmt.Errorf("detect.baseline: %w (fix or move the file; lineaged baseline show reads it)", err)
		}
		if d.ExpireAfter > 0 {
			if n := b.Expire(d.ExpireAfter, now); n > 0 {
				logf("baseline %s: %d entries unseen for %s expired", d.Baseline, n, d.ExpireAfter)
			}
		}
		cfg.Baseline = b
		if !b.LearnUntil.IsZero() && now.Before(b.LearnUntil) {
			cfg.Learning = true
			cfg.LearnUntilMsec = b.LearnUntil.UnixMilli()
			mode = fmt.Sprintf("learning into %s until %s (%d entries so far), then detecting", d.Baseline, b.LearnUntil.Format(time.RFC3339), b.Len())
		} else {
			mode = fmt.Sprintf("detecting against %s (%d entries)", d.Baseline, b.Len())
			ld.ended = true
		}
		ld.savedUpd = b.Updated
	}
	ld.en = detect.New(cfg)
	return ld, mode, nil
}

func (ld *liveDetector) Observe(e *event.Event, p graph.Proc, emit func(*event.Event)) {
	ld.en.Observe(e, p, emit)
}

func (ld *liveDetector) Tick(now int64, emit func(*event.Event)) {
	ld.en.Tick(now, emit)
	if !ld.ended && ld.en.LearningEnded() {
		ld.ended = true
		b := ld.en.Baseline()
		b.LearnUntil = time.Time{} // done: a restart detects
		ld.save(emit, "learning finished")
		emit(&event.Event{TimeMsec: now, Category: event.CategoryConfiguration, Type: event.TypeChange, Action: event.ActionBaselineLearned,
			Outcome: event.OutcomeSuccess, Module: event.ModuleLineaged,
			Message: fmt.Sprintf("learning finished: %s holds %d entries; detecting against it from now on", ld.path, b.Len()),
			Labels:  []event.KV{{Key: "entries", Value: strconv.Itoa(b.Len())}}})
		return
	}
	if time.Since(ld.lastSave) >= ld.saveEvery {
		ld.save(emit, "periodic")
	}
}

func (ld *liveDetector) Flush(emit func(*event.Event)) {
	ld.en.Flush(emit)
	ld.save(emit, "exit")
}

// save writes the baseline when it changed since the last save.
func (ld *liveDetector) save(emit func(*event.Event), why string) {
	ld.lastSave = time.Now()
	b := ld.en.Baseline()
	if ld.path == "" || b == nil {
		return
	}
	st := ld.en.Stats()
	if st.Learned == ld.savedAt && b.Updated.Equal(ld.savedUpd) && why != "learning finished" {
		return
	}
	if err := baseline.Save(ld.path, b); err != nil {
		ld.saveErrs++
		ld.logf("baseline %s: saving (%s): %v; kept in memory, retried in %s", ld.path, why, err, ld.saveEvery)
		return
	}
	ld.savedAt, ld.savedUpd = st.Learned, b.Updated
}
