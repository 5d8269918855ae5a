//go:build linux

package audit

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	libaudit "github.com/elastic/go-libaudit/v2"
)

func TestStateFileRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	in := &savedState{
		status: libaudit.AuditStatus{Enabled: 1, Failure: 1, RateLimit: 7, BacklogLimit: 8192, BacklogWaitTime: 0, FeatureBitmap: 0x7f},
		rules:  [][]byte{{1, 2, 3}, {0xff, 0}},
	}
	const boot = "3b1f5a0c-2d4e-4f6a-8b9c-0d1e2f3a4b5c"
	if err := writeState(dir, boot, in, 42); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, StateFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v, mode %v", err, fi.Mode().Perm())
	}
	st, _, err := readState(dir)
	if err != nil || st == nil {
		t.Fatalf("readState: %v", err)
	}
	if st.PID != os.Getpid() || st.Lost != 42 || st.BootID != boot {
		t.Errorf("header %+v", st)
	}
	out, err := st.saved()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip:\n%+v\n%+v", out, in)
	}
	// Our own file (same pid) is not a takeover from someone else, but is
	// still what must be restored.
	l := &Live{}
	s, err := l.loadTakeover(dir, boot, 50)
	if err != nil || s == nil || l.Takeover == nil || l.Takeover.LostNow != 50 {
		t.Fatalf("loadTakeover: %v %v %+v", s, err, l.Takeover)
	}
	// After a reboot the same file is void: audit was reset by it.
	l = &Live{}
	if s, err := l.loadTakeover(dir, "another-boot", 50); s != nil || err != nil || l.Takeover != nil {
		t.Fatalf("a file of an earlier boot was taken over: %v %v", s, err)
	}
	if len(l.Notes) != 1 || !strings.Contains(l.Notes[0], "before the last reboot") {
		t.Errorf("notes %q", l.Notes)
	}
}

// TestStateDirNeedsBootID: without the boot id a state file from before
// a reboot cannot be told from a crashed run's, so OpenLive refuses (in
// its check, before it touches the kernel) a state directory without one
// where it may own audit; off and multicast keep no state.
func TestStateDirNeedsBootID(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		cfg LiveConfig
		ok  bool
	}{
		{LiveConfig{Mode: ModeOwn, StateDir: dir}, false},
		{LiveConfig{Mode: ModeAuto, StateDir: dir}, false},
		{LiveConfig{StateDir: dir}, false},
		{LiveConfig{Mode: ModeOwn, StateDir: dir, BootID: "b"}, true},
		{LiveConfig{Mode: ModeOwn}, true},
		{LiveConfig{Mode: ModeMulticast, StateDir: dir}, true},
		{LiveConfig{Mode: ModeOff, StateDir: dir}, true},
	} {
		err := c.cfg.check()
		if c.ok != (err == nil) {
			t.Errorf("%+v: %v", c.cfg, err)
		}
		if err != nil && (!strings.Contains(err.Error(), "boot id") || !strings.Contains(err.Error(), dir)) {
			t.Errorf("%+v: %v does not say what is missing where", c.cfg, err)
		}
	}
}

func TestStateFileErrors(t *testing.T) {
	dir := t.TempDir()
	if st, _, err := readState(dir); st != nil || err != nil {
		t.Fatalf("no file: %v %v", st, err)
	}
	os.WriteFile(filepath.Join(dir, StateFileName), []byte("{not json"), 0o600)
	if _, _, err := readState(dir); err == nil || !strings.Contains(err.Error(), StateFileName) {
		t.Fatalf("bad JSON: %v (want the file named)", err)
	}
	os.WriteFile(filepath.Join(dir, StateFileName), []byte(`{"format":99}`), 0o600)
	if _, _, err := readState(dir); err == nil || !strings.Contains(err.Error(), "format 99") {
		t.Fatalf("future format: %v", err)
	}
	os.WriteFile(filepath.Join(dir, StateFileName), []byte(`{"format":1,"boot_id":"another-boot","pid":1}`), 0o600)
	l := &Live{}
	if s, err := l.loadTakeover(dir, "this-boot", 0); s != nil || err != nil || l.Takeover != nil {
		t.Fatalf("a file from another boot must be ignored: %v %v", s, err)
	}
}

func FuzzStateFile(f *testing.F) {
	f.Add([]byte(`{"format":1,"pid":12,"boot_id":"x","rules":["0102","zz"]}`))
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, StateFileName), b, 0o600)
		st, _, err := readState(dir)
		if err != nil || st == nil {
			return
		}
		_, _ = st.saved()
	})
}
