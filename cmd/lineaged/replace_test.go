package main

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

// fakeHost is a host for replace-auditd that runs nothing: it records
// every command and answers from its tables.
type fakeHost struct {
	systemd  bool
	commands map[string]bool // lookPath finds these
	files    map[string]bool // exists reports these (the marker is real)
	rcLinks  []string        // glob answers these for /etc/rcN.d/S*auditd
	fail     map[string]bool // these command lines exit non-zero
	euid     int
	ran      []string
}

func (f *fakeHost) install(t *testing.T) string {
	t.Helper()
	marker := filepath.Join(t.TempDir(), "state", "replaced-auditd")
	saved := replaceHost
	t.Cleanup(func() { replaceHost = saved })
	replaceHost = hostOps{
		run: func(name string, args ...string) (string, error) {
			line := strings.Join(append([]string{name}, args...), " ")
			f.ran = append(f.ran, line)
			if f.fail[line] {
				return "refused", &exec.ExitError{}
			}
			return "", nil
		},
		systemd: func() bool { return f.systemd },
		lookPath: func(name string) (string, error) {
			if f.commands[name] {
				return "/usr/sbin/" + name, nil
			}
			return "", exec.ErrNotFound
		},
		exists: func(p string) bool {
			if p == marker {
				_, err := os.Stat(p)
				return err == nil
			}
			return f.files[p]
		},
		glob: func(pattern string) ([]string, error) {
			if strings.HasPrefix(pattern, "/etc/rc") {
				return f.rcLinks, nil
			}
			return nil, nil
		},
		euid:   func() int { return f.euid },
		now:    func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
		marker: marker,
	}
	return marker
}

func (f *fakeHost) call(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	f.ran = nil
	var out, errOut bytes.Buffer
	code := cmdReplaceAuditd(args, &out, &errOut)
	return code, out.String(), errOut.String()
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

func readMarker(t *testing.T, path string) replaceState {
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

func TestReplaceAuditdSystemd(t *testing.T) {
	f := systemdHost()
	marker := f.install(t)

	code, out, errOut := f.call(t)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	wantRan(t, f,
		"systemctl is-enabled --quiet auditd.service",
		"systemctl is-active --quiet auditd.service",
		"systemctl disable auditd.service",
		"systemctl stop auditd.service")
	if st := readMarker(t, marker); st != (replaceState{Init: initSystemd, WasEnabled: true, WasActive: true}) {
		t.Errorf("marker: %+v", st)
	}
	for _, s := range []string{"audit.mode: own", "/etc/lineaged/lineaged.yml", "systemctl restart lineaged.service"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}

	// A second run changes nothing: the marker keeps the first state.
	code, out, _ = f.call(t)
	if code != 0 || !strings.Contains(out, "already replaced") {
		t.Errorf("second run: exit %d: %s", code, out)
	}
	wantRan(t, f)

	code, out, errOut = f.call(t, "--undo")
	if code != 0 {
		t.Fatalf("undo: exit %d: %s%s", code, out, errOut)
	}
	wantRan(t, f, "systemctl enable auditd.service", "systemctl start auditd.service")
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("marker still there after --undo: %v", err)
	}

	// Nothing left to undo.
	if code, _, errOut = f.call(t, "--undo"); code != 1 || !strings.Contains(errOut, "nothing to undo") {
		t.Errorf("undo without marker: exit %d: %s", code, errOut)
	}
	wantRan(t, f)
}

// RHEL's auditd.service refuses a manual stop: service(8) does it.
func TestReplaceAuditdRefuseManualStop(t *testing.T) {
	f := systemdHost()
	f.fail["systemctl stop auditd.service"] = true
	marker := f.install(t)
	code, out, errOut := f.call(t)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	wantRan(t, f,
		"systemctl is-enabled --quiet auditd.service",
		"systemctl is-active --quiet auditd.service",
		"systemctl disable auditd.service",
		"systemctl stop auditd.service",
		"service auditd stop")
	readMarker(t, marker)
}

// Only active (not enabled): only stop, and undo only starts.
func TestReplaceAuditdOnlyActive(t *testing.T) {
	f := systemdHost()
	f.fail["systemctl is-enabled --quiet auditd.service"] = true
	marker := f.install(t)
	if code, out, errOut := f.call(t); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	wantRan(t, f,
		"systemctl is-enabled --quiet auditd.service",
		"systemctl is-active --quiet auditd.service",
		"systemctl stop auditd.service")
	if st := readMarker(t, marker); st != (replaceState{Init: initSystemd, WasActive: true}) {
		t.Errorf("marker: %+v", st)
	}
	f.call(t, "--undo")
	wantRan(t, f, "systemctl start auditd.service")
}

func TestReplaceAuditdDryRun(t *testing.T) {
	f := systemdHost()
	f.euid = 1000 // --dry-run needs no root
	marker := f.install(t)
	code, out, errOut := f.call(t, "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	// Read-only probes only.
	wantRan(t, f,
		"systemctl is-enabled --quiet auditd.service",
		"systemctl is-active --quiet auditd.service")
	for _, s := range []string{"would run: systemctl disable auditd.service", "would run: systemctl stop auditd.service", "would write " + marker} {
		if !strings.Contains(out, s) {
			t.Errorf("dry-run output lacks %q:\n%s", s, out)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("dry-run wrote the marker")
	}

	// --undo --dry-run keeps the marker and runs nothing.
	f.euid = 0
	f.install(t) // fresh marker path
	if code, _, _ := f.call(t); code != 0 {
		t.Fatal("replace failed")
	}
	f.euid = 1000
	code, out, _ = f.call(t, "--undo", "--dry-run")
	if code != 0 || !strings.Contains(out, "would run: systemctl enable auditd.service") || !strings.Contains(out, "would run: systemctl start auditd.service") {
		t.Errorf("undo dry-run: exit %d:\n%s", code, out)
	}
	wantRan(t, f)
	if !replaceHost.exists(replaceHost.marker) {
		t.Error("undo --dry-run removed the marker")
	}
}

func TestReplaceAuditdNeedsRoot(t *testing.T) {
	f := systemdHost()
	f.euid = 1000
	f.install(t)
	if code, _, errOut := f.call(t); code != 1 || !strings.Contains(errOut, "root") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	wantRan(t, f)
	if code, _, _ := f.call(t, "extra"); code != 2 {
		t.Errorf("extra argument: exit %d, want 2", code)
	}
}

func TestReplaceAuditdDebianSysV(t *testing.T) {
	f := &fakeHost{
		commands: map[string]bool{"update-rc.d": true, "service": true, "chkconfig": true},
		files:    map[string]bool{"/sbin/auditd": true},
		rcLinks:  []string{"/etc/rc2.d/S01auditd"},
		fail:     map[string]bool{},
	}
	marker := f.install(t)
	if code, out, errOut := f.call(t); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	wantRan(t, f, "service auditd status", "service auditd stop", "update-rc.d auditd disable")
	if st := readMarker(t, marker); st != (replaceState{Init: initUpdateRcd, WasEnabled: true, WasActive: true}) {
		t.Errorf("marker: %+v", st)
	}
	if code, out, errOut := f.call(t, "--undo"); code != 0 {
		t.Fatalf("undo: exit %d: %s%s", code, out, errOut)
	}
	wantRan(t, f, "update-rc.d auditd enable", "service auditd start")
}

func TestReplaceAuditdChkconfig(t *testing.T) {
	f := &fakeHost{
		commands: map[string]bool{"chkconfig": true}, // no service(8): the init script
		files:    map[string]bool{"/etc/init.d/auditd": true},
		fail:     map[string]bool{},
	}
	marker := f.install(t)
	code, out, errOut := f.call(t)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	wantRan(t, f, "chkconfig auditd", "/etc/init.d/auditd status", "/etc/init.d/auditd stop", "chkconfig auditd off")
	if !strings.Contains(out, "/etc/init.d/lineaged restart") {
		t.Errorf("output lacks the SysV restart:\n%s", out)
	}
	readMarker(t, marker)

	// A failing start keeps the marker and fails.
	f.fail["/etc/init.d/auditd start"] = true
	if code, _, errOut := f.call(t, "--undo"); code != 1 || !strings.Contains(errOut, "marker") {
		t.Errorf("undo with failing start: exit %d: %s", code, errOut)
	}
	wantRan(t, f, "chkconfig auditd on", "/etc/init.d/auditd start")
	readMarker(t, marker)
}

func TestReplaceAuditdNothingToDo(t *testing.T) {
	// Not installed.
	f := systemdHost()
	f.files = map[string]bool{}
	marker := f.install(t)
	if code, out, _ := f.call(t); code != 0 || !strings.Contains(out, "not installed") || !strings.Contains(out, "audit.mode: own") {
		t.Errorf("not installed: exit %d: %s", code, out)
	}
	wantRan(t, f)

	// Installed, neither enabled nor running: no marker.
	f = systemdHost()
	f.fail["systemctl is-enabled --quiet auditd.service"] = true
	f.fail["systemctl is-active --quiet auditd.service"] = true
	marker = f.install(t)
	if code, out, _ := f.call(t); code != 0 || !strings.Contains(out, "no marker") {
		t.Errorf("inactive: exit %d: %s", code, out)
	}
	wantRan(t, f,
		"systemctl is-enabled --quiet auditd.service",
		"systemctl is-active --quiet auditd.service")
	if _, err := os.Stat(marker); err == nil {
		t.Error("marker written with nothing done")
	}
}

func TestParseMarker(t *testing.T) {
	for _, bad := range []string{"", "was_active=yes\n", "init=upstart\n", "init=systemd\nwas_enabled=maybe\n", "init=systemd\nnonsense\n"} {
		if _, err := parseMarker([]byte(bad)); err == nil {
			t.Errorf("parseMarker(%q) accepted", bad)
		}
	}
	st, err := parseMarker([]byte("# c\ninit=chkconfig\nwas_enabled=no\nwas_active=yes\nfuture=1\n"))
	if err != nil || st != (replaceState{Init: initChkconfig, WasActive: true}) {
		t.Errorf("got %+v, %v", st, err)
	}
}
