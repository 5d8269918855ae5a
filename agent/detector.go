package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/baseline"
	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/detect"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
	"github.com/lineaged/lineaged/sigma"
)

// DefaultSigmaDir is where packages and operators put Sigma rules; it is
// loaded when it exists and no other directory is given.
const DefaultSigmaDir = "/etc/lineaged/sigma"

// SigmaDirs is dirs, or the default directory when dirs is empty and it
// exists (nil when neither).
func SigmaDirs(dirs []string) []string {
	if len(dirs) > 0 {
		return dirs
	}
	if _, err := os.Stat(DefaultSigmaDir); err != nil {
		return nil
	}
	return []string{DefaultSigmaDir}
}

// LoadSigma loads the Sigma rules below dirs (or the default directory):
// nil when there are none. How many loaded and were skipped is logged;
// lineaged rules lists them.
func LoadSigma(dirs []string, log zerolog.Logger) (detect.ExternalRules, error) {
	if dirs = SigmaDirs(dirs); dirs == nil {
		return nil, nil
	}
	s, err := sigma.Load(dirs...)
	if err != nil {
		return nil, err
	}
	log.Info().Msgf("Sigma: %d rules loaded, %d skipped from %s (lineaged rules lists them)",
		len(s.Rules()), len(s.Skipped()), strings.Join(dirs, ", "))
	if len(s.Rules()) == 0 {
		return nil, nil
	}
	return sigmaRules{s}, nil
}

// sigmaRules adapts a sigma.Set to the engine's ExternalRules.
type sigmaRules struct{ s *sigma.Set }

func (r sigmaRules) Match(e *event.Event, dst []detect.ExternalMatch) []detect.ExternalMatch {
	for _, m := range r.s.Match(e) {
		dst = append(dst, detect.ExternalMatch{ID: m.ID, Name: m.Title, Ruleset: "sigma", Severity: m.Severity, Techniques: m.Techniques})
	}
	return dst
}

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
	log       zerolog.Logger
	saveErrs  uint64
}

// newLiveDetector builds the engine from the detect: section. A baseline
// file that does not exist starts a learning window of learn_for (written
// into the file, so a restart resumes it); one whose window has passed,
// or that has none (built by replay --learn), is detected against. mode
// says which, for the log.
func newLiveDetector(set *Settings, log zerolog.Logger) (ld *liveDetector, mode string, err error) {
	c := set.Config
	d := c.Detect
	cfg := detect.Config{OwnPID: os.Getpid(), FoldWindow: d.FoldWindow, RateLimit: int(d.RateLimit), RateWindow: d.RateWindow,
		Disabled: map[string]bool{}, OwnFiles: ownFiles(set)}
	for _, id := range d.Disable {
		cfg.Disabled[id] = true
	}
	if cfg.External, err = LoadSigma(existingDirs(d.SigmaDirs, log), log); err != nil {
		return nil, "", fmt.Errorf("sigma: %w", err)
	}
	ld = &liveDetector{path: d.Baseline, saveEvery: d.SaveEvery, lastSave: time.Now(), log: log}
	if ld.saveEvery <= 0 {
		ld.saveEvery = 5 * time.Minute
	}
	mode = "detecting without a baseline (only the rules that need none)"
	if d.Baseline != "" {
		if mode, err = ld.loadBaseline(d, &cfg); err != nil {
			return nil, "", err
		}
	}
	ld.en = detect.New(cfg)
	return ld, mode, nil
}

// ownFiles are what another program must not touch: the packaged paths,
// and this run's own program, configuration, rules and baseline. The
// baseline is not excluded from fanotify (lineaged's own pid is, anyway),
// so a write by anyone else to it is seen.
func ownFiles(set *Settings) []string {
	c := set.Config
	own := append([]string(nil), detect.DefaultOwnFiles...)
	if exe, err := os.Executable(); err == nil {
		own = append(own, exe)
	}
	if filepath.IsAbs(set.Source) {
		own = append(own, set.Source)
	}
	if c.Audit.RulesDir != "" {
		own = append(own, strings.TrimSuffix(c.Audit.RulesDir, "/")+"/")
	}
	if c.Detect.Baseline != "" {
		own = append(own, c.Detect.Baseline)
	}
	return own
}

// existingDirs keeps the configured Sigma directories that exist; a
// missing one other than the default is logged.
func existingDirs(dirs []string, log zerolog.Logger) []string {
	var out []string
	for _, dir := range dirs {
		if _, err := os.Stat(dir); err == nil {
			out = append(out, dir)
		} else if dir != DefaultSigmaDir {
			log.Warn().Err(err).Msg("detect.sigma_dirs: skipped")
		}
	}
	return out
}

// loadBaseline loads (or creates) the baseline file into cfg.
func (ld *liveDetector) loadBaseline(d config.Detect, cfg *detect.Config) (string, error) {
	b, err := baseline.Load(d.Baseline)
	now := time.Now().UTC()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(d.Baseline), 0o750); err != nil {
			return "", fmt.Errorf("detect.baseline: %w", err)
		}
		b = baseline.New()
		if d.LearnFor > 0 {
			b.LearnUntil = now.Add(d.LearnFor)
		}
		if err := baseline.Save(d.Baseline, b); err != nil {
			return "", fmt.Errorf("detect.baseline: creating %s: %w (check the directory exists and is writable by root)", d.Baseline, err)
		}
	case err != nil:
		return "", fmt.Errorf("detect.baseline: %w (fix or move the file; lineaged baseline show reads it)", err)
	}
	if d.ExpireAfter > 0 {
		if n := b.Expire(d.ExpireAfter, now); n > 0 {
			ld.log.Info().Msgf("baseline %s: %d entries unseen for %s expired", d.Baseline, n, d.ExpireAfter)
		}
	}
	cfg.Baseline = b
	ld.savedUpd = b.Updated
	if !b.LearnUntil.IsZero() && now.Before(b.LearnUntil) {
		cfg.Learning = true
		cfg.LearnUntilMsec = b.LearnUntil.UnixMilli()
		return fmt.Sprintf("learning into %s until %s (%d entries so far), then detecting", d.Baseline, b.LearnUntil.Format(time.RFC3339), b.Len()), nil
	}
	ld.ended = true
	return fmt.Sprintf("detecting against %s (%d entries)", d.Baseline, b.Len()), nil
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
		ld.save("learning finished")
		emit(&event.Event{TimeMsec: now, Category: event.CategoryConfiguration, Type: event.TypeChange, Action: event.ActionBaselineLearned,
			Outcome: event.OutcomeSuccess, Module: event.ModuleLineaged,
			Message: fmt.Sprintf("learning finished: %s holds %d entries; detecting against it from now on", ld.path, b.Len()),
			Labels:  []event.KV{{Key: "entries", Value: strconv.Itoa(b.Len())}}})
		return
	}
	if time.Since(ld.lastSave) >= ld.saveEvery {
		ld.save("periodic")
	}
}

func (ld *liveDetector) Flush(emit func(*event.Event)) {
	ld.en.Flush(emit)
	ld.save("exit")
}

// save writes the baseline when it changed since the last save.
func (ld *liveDetector) save(why string) {
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
		ld.log.Error().Err(err).Str("baseline", ld.path).Str("why", why).Msgf("saving the baseline failed; kept in memory, retried in %s", ld.saveEvery)
		return
	}
	ld.savedAt, ld.savedUpd = st.Learned, b.Updated
}
