//go:build linux

package audit

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	libaudit "github.com/elastic/go-libaudit/v2"

	"github.com/lineaged/lineaged/internal/atomicfile"
)

// StateFileName is the file in LiveConfig.StateDir that holds, while
// lineaged owns audit, the audit state it found at start. A clean stop
// restores that state and removes the file; after a kill -9 or a crash
// the next start finds it, restores the state in it (not the killed run's
// rules it finds loaded) when it stops in turn, and reports the gap.
const StateFileName = "audit-saved.json"

// stateFormat is the file's version.
const stateFormat = 1

// stateFile is the on-disk form of savedState.
type stateFile struct {
	Format  int       `json:"format"`
	PID     int       `json:"pid"`     // the run that wrote it
	BootID  string    `json:"boot_id"` // a reboot cleared audit: the file is void
	Started time.Time `json:"started"`
	Lost    uint32    `json:"lost_at_start"` // the kernel's lost counter then

	Enabled         uint32   `json:"enabled"`
	Failure         uint32   `json:"failure"`
	RateLimit       uint32   `json:"rate_limit"`
	BacklogLimit    uint32   `json:"backlog_limit"`
	BacklogWaitTime uint32   `json:"backlog_wait_time"`
	FeatureBitmap   uint32   `json:"feature_bitmap"`
	Rules           []string `json:"rules"` // audit_rule_data, hex
}

// Takeover describes an earlier run that owned audit and ended without
// restoring it (killed, crashed, or the host lost power mid-run).
type Takeover struct {
	PID     int
	Started time.Time
	// LastAlive is when it last showed it was alive (it touches the
	// state file every few seconds): audit records between then and this
	// run's start were not collected.
	LastAlive time.Time
	// LostThen and LostNow are the kernel's lost counter at its start and
	// at ours.
	LostThen, LostNow uint32
}

// readState loads dir's state file: nil, nil when there is none.
func readState(dir string) (*stateFile, time.Time, error) {
	p := filepath.Join(dir, StateFileName)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: %w (move it away to start afresh; the audit state it saved is then not restored)", p, err)
	}
	if st.Format != stateFormat {
		return nil, time.Time{}, fmt.Errorf("%s: format %d, this lineaged reads %d", p, st.Format, stateFormat)
	}
	var mtime time.Time
	if fi, err := os.Stat(p); err == nil {
		mtime = fi.ModTime()
	}
	return &st, mtime, nil
}

func (st *stateFile) saved() (*savedState, error) {
	s := &savedState{status: libaudit.AuditStatus{
		Enabled: st.Enabled, Failure: st.Failure, RateLimit: st.RateLimit,
		BacklogLimit: st.BacklogLimit, BacklogWaitTime: st.BacklogWaitTime, FeatureBitmap: st.FeatureBitmap,
	}}
	for i, r := range st.Rules {
		w, err := hex.DecodeString(r)
		if err != nil {
			return nil, fmt.Errorf("rule %d: %w", i+1, err)
		}
		s.rules = append(s.rules, w)
	}
	return s, nil
}

// writeState writes the saved state crash-safely through atomicfile
// (temporary file, fsync, rename, fsync of the directory): a kill -9 or a
// power cut mid-write leaves the previous state file whole, never a torn
// one that the next start would have to refuse. Mode 0600: the rules may
// name what the host watches. bootID is this boot's (LiveConfig.BootID).
func writeState(dir, bootID string, s *savedState, lost uint32) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st := stateFile{
		Format: stateFormat, PID: os.Getpid(), BootID: bootID, Started: time.Now().UTC(), Lost: lost,
		Enabled: s.status.Enabled, Failure: s.status.Failure, RateLimit: s.status.RateLimit,
		BacklogLimit: s.status.BacklogLimit, BacklogWaitTime: s.status.BacklogWaitTime, FeatureBitmap: s.status.FeatureBitmap,
	}
	for _, r := range s.rules {
		st.Rules = append(st.Rules, hex.EncodeToString(r))
	}
	b, err := json.MarshalIndent(&st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, StateFileName), append(b, '\n'), 0o600)
}

// Touch marks the state file with the current time: the next run, after
// a crash, knows when this one was last alive. A no-op unless this run
// owns audit with a state directory.
func (l *Live) Touch() {
	if l.stateDir == "" || l.saved == nil {
		return
	}
	now := time.Now()
	_ = os.Chtimes(filepath.Join(l.stateDir, StateFileName), now, now)
}

// loadTakeover is called in own mode with the state found in the kernel:
// when dir holds the state of an earlier run of this boot (bootID) that
// is gone, that state is what must be restored, and the takeover is
// recorded. A file from another boot is void: the reboot reset audit, so
// the state found in the kernel now is the host's.
func (l *Live) loadTakeover(dir, bootID string, lostNow uint32) (*savedState, error) {
	st, mtime, err := readState(dir)
	if err != nil || st == nil {
		return nil, err
	}
	p := filepath.Join(dir, StateFileName)
	switch {
	case st.BootID != bootID:
		l.Notes = append(l.Notes, "ignored "+p+": written before the last reboot (audit was reset by it)")
		return nil, nil
	case st.PID == os.Getpid():
	case processAlive(st.PID) && processComm(st.PID) == "lineaged":
		return nil, fmt.Errorf("%s: lineaged pid %d is running with this state directory: stop it first", p, st.PID)
	}
	s, err := st.saved()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	l.Takeover = &Takeover{PID: st.PID, Started: st.Started, LastAlive: mtime, LostThen: st.Lost, LostNow: lostNow}
	l.Notes = append(l.Notes, fmt.Sprintf("took over from lineaged pid %d (started %s), which ended without restoring audit: its saved state will be restored at exit",
		st.PID, st.Started.Format(time.RFC3339)))
	return s, nil
}

// processComm is /proc/PID/comm, "" when unreadable.
func processComm(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// removeState deletes the state file once it has nothing left to say.
func (l *Live) removeState() {
	if l.stateDir == "" {
		return
	}
	_ = os.Remove(filepath.Join(l.stateDir, StateFileName))
}
