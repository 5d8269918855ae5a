package auditd

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeHost is a host that runs nothing: it records every command and
// answers from its tables. The marker is a real file in a temporary
// directory.
type fakeHost struct {
	systemd  bool
	commands map[string]bool // LookPath finds these
	files    map[string]bool // Exists reports these (and the real marker)
	rcLinks  []string        // Glob answers these for /etc/rcN.d/S*auditd
	fail     map[string]bool // these command lines exit non-zero
	euid     int
	ran      []string

	marker string
	warned []string
}

func (f *fakeHost) host() Host {
	return Host{
		Run: func(name string, args ...string) (string, error) {
			line := strings.Join(append([]string{name}, args...), " ")
			f.ran = append(f.ran, line)
			if f.fail[line] {
				return "refused", &exec.ExitError{}
			}
			return "", nil
		},
		Systemd: func() bool { return f.systemd },
		LookPath: func(name string) (string, error) {
			if f.commands[name] {
				return "/usr/sbin/" + name, nil
			}
			return "", exec.ErrNotFound
		},
		Exists: func(p string) bool {
			if p == f.marker {
				_, err := os.Stat(p)
				return err == nil
			}
			return f.files[p]
		},
		Glob: func(pattern string) ([]string, error) {
			if strings.HasPrefix(pattern, "/etc/rc") {
				return f.rcLinks, nil
			}
			return nil, nil
		},
		Euid: func() int { return f.euid },
		Now:  func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
}

// newMarker gives the host a fresh marker path (in a directory that does
// not exist yet: Replace makes it).
func (f *fakeHost) newMarker(t *testing.T) string {
	t.Helper()
	f.marker = filepath.Join(t.TempDir(), "state", "replaced-auditd")
	return f.marker
}

// call runs Replace (or Undo) and returns its output and error.
func (f *fakeHost) call(t *testing.T, undo, dry bool) (string, error) {
	t.Helper()
	f.ran, f.warned = nil, nil
	var out bytes.Buffer
	r := &Replacer{Host: f.host(), Marker: f.marker, DryRun: dry, Out: &out,
		Warn: func(msg string) { f.warned = append(f.warned, msg) }}
	var err error
	if undo {
		err = r.Undo()
	} else {
		err = r.Replace()
	}
	return out.String(), err
}

func wantRan(t *testing.T, f *fakeHost, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	got := f.ran
	if got == nil {
		got = []string{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("commands:\n  got  %q\n  want %q", got, want)
	}
}

func readMarker(t *testing.T, path string) State {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("marker: %v", err)
	}
	st, err := parseMarker(data)
	if err != nil {
		t.Fatalf("marker %q: %v", data, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("marker mode %v, want 0600", fi.Mode().Perm())
	}
	return st
}

func systemdHost() *fakeHost {
	return &fakeHost{
		systemd:  true,
		commands: map[string]bool{"systemctl": true, "service": true},
		files:    map[string]bool{"/usr/sbin/auditd": true},
		fail:     map[string]bool{},
	}
}

func TestReplaceSystemd(t *testing.T) {
	f := systemdHost()
	marker := f.newMarker(t)

	out, err := f.call(t, false, false)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	wantRan(t, f,
		"systemctl is-enabled --quiet auditd.service",
		"systemctl is-active --quiet auditd.service",
		"systemctl disable auditd.service",
		"systemctl stop auditd.service")
	if st := readMarker(t, marker); st != (State{Init: InitSystemd, WasEnabled: true, WasActive: true}) {
		t.Errorf("marker: %+v", st)
	}
	for _, s := range []string{"running: systemctl disable auditd.service", "auditd stopped and disabled; recorded in " + marker,
		"audit.mode: own", "/etc/lineaged/lineaged.yml", "systemctl restart lineaged.service"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}

	// A second run changes nothing: the marker keeps the first state.
	out, err = f.call(t, false, false)
	if err != nil || !strings.Contains(out, "already replaced") {
		t.Errorf("second run: %v: %s", err, out)
	}
	wantRan(t, f)

	out, err = f.call(t, true, false)
	if err != nil {
		t.Fatalf("undo: %v: %s", err, out)
	}
	wantRan(t, f, "systemctl enable auditd.service", "systemctl start auditd.service")
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("marker still there after Undo: %v", err)
	}
	if !strings.Contains(out, "auditd given back (init systemd, enabled=yes, started=yes)") {
		t.Errorf("undo output:\n%s", out)
	}

	// Nothing left to undo.
	if _, err = f.call(t, true, false); !errors.Is(err, ErrNotReplaced) || !strings.Contains(err.Error(), marker+" does not exist") {
		t.Errorf("undo without marker: %v", err)
	}
	wantRan(t, f)
}

// RHEL's auditd.service refuses a manual stop: service(8) does it.
func TestReplaceRefuseManualStop(t *testing.T) {
	f := systemdHost()
	f.fail["systemctl stop auditd.service"] = true
	marker := f.newMarker(t)
	if out, err := f.call(t, false, false); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	wantRan(t, f,
		"systemctl is-enabled --quiet auditd.service",
		"systemctl is-active --quiet auditd.service",
		"systemctl disable auditd.service",
		"systemctl stop auditd.service",
		"service auditd stop")
	readMarker(t, marker)
}

// A stop that fails both ways: what was done (disable) is recorded, so
// that Undo gives it back, and the failure is returned.
func TestReplacePartial(t *testing.T) {
	f := systemdHost()
	f.fail["systemctl stop auditd.service"] = true
	f.fail["service auditd stop"] = true
	marker := f.newMarker(t)
	out, err := f.call(t, false, false)
	if err == nil || !strings.Contains(err.Error(), "service auditd stop") {
		t.Fatalf("error %v", err)
	}
	if !strings.Contains(out, "auditd only partly stopped or disabled (see the errors); recorded in "+marker) {
		t.Errorf("output:\n%s", out)
	}
	if st := readMarker(t, marker); st != (State{Init: InitSystemd, WasEnabled: true, WasActive: true}) {
		t.Errorf("marker: %+v", st)
	}
}

// Only active (not enabled): only stop, and Undo only starts.
func TestReplaceOnlyActive(t *testing.T) {
	f := systemdHost()
	f.fail["systemctl is-enabled --quiet auditd.service"] = true
	marker := f.newMarker(t)
	if out, err := f.call(t, false, false); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	wantRan(t, f,
		"systemctl is-enabled --quiet auditd.service",
		"systemctl is-active --quiet auditd.service",
		"systemctl stop auditd.service")
	if st := readMarker(t, marker); st != (State{Init: InitSystemd, WasActive: true}) {
		t.Errorf("marker: %+v", st)
	}
	f.call(t, true, false)
	wantRan(t, f, "systemctl start auditd.service")
}

func TestReplaceDryRun(t *testing.T) {
	f := systemdHost()
	f.euid = 1000 // a dry run needs no root
	marker := f.newMarker(t)
	out, err := f.call(t, false, true)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// Read-only probes only.
	wantRan(t, f,
		"systemctl is-enabled --quiet auditd.service",
		"systemctl is-active --quiet auditd.service")
	for _, s := range []string{"would run: systemctl disable auditd.service", "would run: systemctl stop auditd.service",
		"(if systemctl refuses, as RHEL's RefuseManualStop=yes does: service auditd stop)", "would write " + marker} {
		if !strings.Contains(out, s) {
			t.Errorf("dry-run output lacks %q:\n%s", s, out)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("dry run wrote the marker")
	}

	// Undo, dry, keeps the marker and runs nothing.
	f.euid = 0
	if _, err := f.call(t, false, false); err != nil {
		t.Fatal(err)
	}
	f.euid = 1000
	out, err = f.call(t, true, true)
	if err != nil || !strings.Contains(out, "would run: systemctl enable auditd.service") ||
		!strings.Contains(out, "would run: systemctl start auditd.service") || !strings.Contains(out, "would remove "+marker) {
		t.Errorf("undo dry run: %v:\n%s", err, out)
	}
	wantRan(t, f)
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("undo dry run removed the marker: %v", err)
	}
}

func TestReplaceNeedsRoot(t *testing.T) {
	f := systemdHost()
	f.euid = 1000
	f.newMarker(t)
	for _, undo := range []bool{false, true} {
		if _, err := f.call(t, undo, false); !errors.Is(err, ErrNotRoot) {
			t.Errorf("undo=%v: %v, want ErrNotRoot", undo, err)
		}
		wantRan(t, f)
	}
}

func TestReplaceDebianSysV(t *testing.T) {
	f := &fakeHost{
		commands: map[string]bool{"update-rc.d": true, "service": true, "chkconfig": true},
		files:    map[string]bool{"/sbin/auditd": true},
		rcLinks:  []string{"/etc/rc2.d/S01auditd"},
		fail:     map[string]bool{},
	}
	marker := f.newMarker(t)
	if out, err := f.call(t, false, false); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	wantRan(t, f, "service auditd status", "service auditd stop", "update-rc.d auditd disable")
	if st := readMarker(t, marker); st != (State{Init: InitUpdateRcd, WasEnabled: true, WasActive: true}) {
		t.Errorf("marker: %+v", st)
	}
	if out, err := f.call(t, true, false); err != nil {
		t.Fatalf("undo: %v: %s", err, out)
	}
	wantRan(t, f, "update-rc.d auditd enable", "service auditd start")
}

func TestReplaceChkconfig(t *testing.T) {
	f := &fakeHost{
		commands: map[string]bool{"chkconfig": true}, // no service(8): the init script
		files:    map[string]bool{"/etc/init.d/auditd": true},
		fail:     map[string]bool{},
	}
	marker := f.newMarker(t)
	out, err := f.call(t, false, false)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	wantRan(t, f, "chkconfig auditd", "/etc/init.d/auditd status", "/etc/init.d/auditd stop", "chkconfig auditd off")
	if !strings.Contains(out, "/etc/init.d/lineaged restart") {
		t.Errorf("output lacks the SysV restart:\n%s", out)
	}
	readMarker(t, marker)

	// A failing start keeps the marker and fails.
	f.fail["/etc/init.d/auditd start"] = true
	if _, err := f.call(t, true, false); err == nil || !strings.Contains(err.Error(), "the marker "+marker+" is kept") {
		t.Errorf("undo with failing start: %v", err)
	}
	wantRan(t, f, "chkconfig auditd on", "/etc/init.d/auditd start")
	readMarker(t, marker)
}

// A bare init script: stopped, and the operator is warned that nothing
// here can disable it at boot.
func TestReplacePlainSysV(t *testing.T) {
	f := &fakeHost{
		files:   map[string]bool{"/etc/init.d/auditd": true},
		rcLinks: []string{"/etc/rc3.d/S20auditd"},
		fail:    map[string]bool{},
	}
	marker := f.newMarker(t)
	if out, err := f.call(t, false, false); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	wantRan(t, f, "/etc/init.d/auditd status", "/etc/init.d/auditd stop")
	if len(f.warned) != 1 || !strings.Contains(f.warned[0], "auditd stays enabled at boot") {
		t.Errorf("warnings %q", f.warned)
	}
	if st := readMarker(t, marker); st != (State{Init: InitSysV, WasEnabled: true, WasActive: true}) {
		t.Errorf("marker: %+v", st)
	}
	f.call(t, true, false)
	wantRan(t, f, "/etc/init.d/auditd start")
}

func TestReplaceNothingToDo(t *testing.T) {
	// Not installed.
	f := systemdHost()
	f.files = map[string]bool{}
	f.newMarker(t)
	if out, err := f.call(t, false, false); err != nil || !strings.Contains(out, "not installed") || !strings.Contains(out, "audit.mode: own") {
		t.Errorf("not installed: %v: %s", err, out)
	}
	wantRan(t, f)

	// Installed, neither enabled nor running: no marker.
	f = systemdHost()
	f.fail["systemctl is-enabled --quiet auditd.service"] = true
	f.fail["systemctl is-active --quiet auditd.service"] = true
	marker := f.newMarker(t)
	if out, err := f.call(t, false, false); err != nil || !strings.Contains(out, "no marker") {
		t.Errorf("inactive: %v: %s", err, out)
	}
	wantRan(t, f,
		"systemctl is-enabled --quiet auditd.service",
		"systemctl is-active --quiet auditd.service")
	if _, err := os.Stat(marker); err == nil {
		t.Error("marker written with nothing done")
	}
}

// The marker cannot be written: the error says what was done, so that
// it can be undone by hand.
func TestReplaceMarkerUnwritable(t *testing.T) {
	f := systemdHost()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f.marker = filepath.Join(dir, "file", "replaced-auditd") // a file where the directory should be
	_, err := f.call(t, false, false)
	if err == nil || !strings.Contains(err.Error(), "writing the marker") || !strings.Contains(err.Error(), "auditd was stopped/disabled (systemd)") {
		t.Errorf("error %v", err)
	}
}
