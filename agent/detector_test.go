package agent

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lineaged/lineaged/baseline"
	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
	"github.com/rs/zerolog"
)

// TestLiveDetectorResumes: a new baseline starts a learning window written
// into the file; a restart inside it resumes the same window; when it has
// passed, the file loses its window and a restart detects without
// relearning.
func TestLiveDetectorResumes(t *testing.T) {
	c := config.Default()
	c.Detect.Baseline = filepath.Join(t.TempDir(), "sub", "b.jsonl")
	c.Detect.LearnFor = time.Hour
	c.Detect.SigmaDirs = nil
	ld, mode, err := newLiveDetector(&Settings{Config: c, Source: "built-in"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mode, "learning into") {
		t.Fatalf("a new baseline must learn: %s", mode)
	}
	b, err := baseline.Load(c.Detect.Baseline)
	if err != nil {
		t.Fatal(err)
	}
	until := b.LearnUntil
	if time.Until(until) < 59*time.Minute {
		t.Fatalf("learn_until %v, want an hour from now", until)
	}
	// Learn something and save as at exit.
	var emitted []*event.Event
	emit := func(e *event.Event) { emitted = append(emitted, e) }
	now := time.Now().UnixMilli()
	ld.Observe(&event.Event{ID: "1", Kind: event.KindEvent, TimeMsec: now, Action: "executed",
		Process: event.Process{EntityID: "e", PID: 9, Executable: "/usr/bin/id"}, User: event.User{ID: "0"}}, graph.Proc{}, emit)
	ld.Flush(emit)
	// Restart inside the window: the same window, what was learned kept.
	ld2, mode, err := newLiveDetector(&Settings{Config: c, Source: "built-in"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mode, "learning into") || !ld2.en.Baseline().LearnUntil.Equal(until) || ld2.en.Baseline().Len() == 0 {
		t.Fatalf("restart must resume learning until %v with what was learned: %s, until %v, %d entries", until, mode, ld2.en.Baseline().LearnUntil, ld2.en.Baseline().Len())
	}
	// The window passes (event time): saved without it, a baseline-learned event.
	ld2.Tick(until.Add(time.Second).UnixMilli(), emit)
	if len(emitted) == 0 || emitted[len(emitted)-1].Action != "baseline-learned" {
		t.Fatalf("no baseline-learned event: %+v", emitted)
	}
	b, err = baseline.Load(c.Detect.Baseline)
	if err != nil {
		t.Fatal(err)
	}
	if !b.LearnUntil.IsZero() || b.Len() == 0 {
		t.Fatalf("after learning the file must hold no window and the entries: %v, %d", b.LearnUntil, b.Len())
	}
	_, mode, err = newLiveDetector(&Settings{Config: c, Source: "built-in"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mode, "detecting against") {
		t.Fatalf("after learning a restart must detect: %s", mode)
	}
}
