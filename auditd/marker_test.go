package auditd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseMarker(t *testing.T) {
	for _, bad := range []string{"", "was_active=yes\n", "init=upstart\n", "init=systemd\nwas_enabled=maybe\n", "init=systemd\nnonsense\n"} {
		if _, err := parseMarker([]byte(bad)); err == nil {
			t.Errorf("parseMarker(%q) accepted", bad)
		}
	}
	st, err := parseMarker([]byte("# c\ninit=chkconfig\nwas_enabled=no\nwas_active=yes\nfuture=1\n"))
	if err != nil || st != (State{Init: InitChkconfig, WasActive: true}) {
		t.Errorf("got %+v, %v", st, err)
	}
}

// TestMarkerRoundTrip: what writeMarker writes, parseMarker reads back,
// mode 0600, and a marker already there is replaced whole.
func TestMarkerRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "replaced-auditd")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("init=systemd\nwas_enabled=yes\nwas_active=yes\n# a longer old file than the new one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, st := range []State{{Init: InitSysV}, {Init: InitUpdateRcd, WasEnabled: true}, {Init: InitSystemd, WasActive: true}} {
		if err := writeMarker(path, st, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := parseMarker(data); err != nil || got != st {
			t.Errorf("wrote %+v, read %+v, %v:\n%s", st, got, err, data)
		}
		if !strings.HasPrefix(string(data), "# written by \"lineaged replace-auditd\" at 1970-01-01T00:00:00Z") {
			t.Errorf("header:\n%s", data)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v", fi.Mode().Perm())
		}
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}

// FuzzParseMarker: any marker text is read or refused, never a panic,
// and what is read has a known init and writes back to itself.
func FuzzParseMarker(f *testing.F) {
	f.Add([]byte("# written by \"lineaged replace-auditd\" at 2025-01-02T03:04:05Z\ninit=systemd\nwas_enabled=yes\nwas_active=no\n"))
	f.Add([]byte("init=sysv\nwas_active=yes\nfuture=1\n"))
	f.Add([]byte("init=upstart\n"))
	f.Add([]byte("init=chkconfig\r\nwas_enabled=yes\r\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseMarker(data)
		if err != nil {
			return
		}
		switch st.Init {
		case InitSystemd, InitUpdateRcd, InitChkconfig, InitSysV:
		default:
			t.Fatalf("init %q accepted", st.Init)
		}
		path := filepath.Join(dir, "m")
		if err := writeMarker(path, st, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
		back, _ := os.ReadFile(path)
		if got, err := parseMarker(back); err != nil || got != st {
			t.Fatalf("%+v written and read back as %+v, %v", st, got, err)
		}
	})
}
