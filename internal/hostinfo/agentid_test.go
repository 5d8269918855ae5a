package hostinfo

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// vector: a machine id and the id systemd 252's
// `systemd-id128 -u machine-id --app-specific=e134920cf9fc4698921cae8991069f07`
// printed for it.
const (
	vectorMachine = "3d1219c7c4c5404aaa1f6d2a48adfda4"
	vectorAgent   = "2eba3dae-06d3-4939-8dc8-ec27769ee947"
)

func TestAgentIDCreatedOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state") // created by AgentID
	id, err := AgentID(dir, vectorMachine)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := parseUUID([]byte(id)); !ok || id[14] != '4' || strings.IndexByte("89ab", id[19]) < 0 {
		t.Errorf("id %q is not a version-4 UUID", id)
	}
	if id == vectorAgent {
		t.Error("a writable directory got the derived id")
	}
	p := filepath.Join(dir, AgentIDFile)
	b, err := os.ReadFile(p)
	if err != nil || string(b) != id+"\n" {
		t.Fatalf("file %q, %v", b, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	again, err := AgentID(dir, "")
	if err != nil || again != id {
		t.Errorf("second call: %q %v, want %q", again, err, id)
	}
	other, _ := AgentID(filepath.Join(t.TempDir(), "state"), vectorMachine)
	if other == id {
		t.Error("two installations got the same id")
	}
}

// TestAgentIDKept: an id an operator wrote is used as it is (in
// lowercase).
func TestAgentIDKept(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, AgentIDFile), "0F2A8C4E-1111-4222-8333-444455556666")
	if id, err := AgentID(dir, ""); err != nil || id != "0f2a8c4e-1111-4222-8333-444455556666" {
		t.Errorf("%q %v", id, err)
	}
}

func TestAgentIDReplaced(t *testing.T) {
	dir := t.TempDir()
	p := write(t, filepath.Join(dir, AgentIDFile), "garbage\n")
	id, err := AgentID(dir, vectorMachine)
	if !errors.Is(err, ErrReplaced) || id == "" {
		t.Fatalf("%q %v, want a new id and ErrReplaced", id, err)
	}
	if b, _ := os.ReadFile(p); string(b) != id+"\n" {
		t.Errorf("file %q, want %q", b, id)
	}
}

// TestAgentIDDerived: a state directory that cannot be made (a file is
// in its way, which stops root too) gives the machine-derived id, the
// same each time, with ErrDerived; without a machine id, none.
func TestAgentIDDerived(t *testing.T) {
	blocker := write(t, filepath.Join(t.TempDir(), "file"), "")
	dir := filepath.Join(blocker, "state")
	for range 2 {
		id, err := AgentID(dir, vectorMachine)
		if !errors.Is(err, ErrDerived) || id != vectorAgent {
			t.Fatalf("%q %v, want %s and ErrDerived", id, err, vectorAgent)
		}
	}
	for _, m := range []string{"", "uninitialized", strings.ToUpper(vectorMachine)} {
		if id, err := AgentID(dir, m); id != "" || err == nil || errors.Is(err, ErrDerived) {
			t.Errorf("machine id %q: %q %v, want no id and an error", m, id, err)
		}
	}
	// The file's place taken by a directory: derived too, nothing removed.
	state := t.TempDir()
	os.Mkdir(filepath.Join(state, AgentIDFile), 0o755)
	if id, err := AgentID(state, vectorMachine); !errors.Is(err, ErrDerived) || id != vectorAgent {
		t.Errorf("a directory as the file: %q %v", id, err)
	}
}

// TestAppSpecificID: the derived id is systemd's for the same machine
// id and application id, from the recorded vector and, where systemd-id128
// and a machine id are here, from the tool itself.
func TestAppSpecificID(t *testing.T) {
	if got := appSpecificID(vectorMachine); got != vectorAgent {
		t.Errorf("%s, want %s", got, vectorAgent)
	}
	mid := readMachineID([]string{"/etc/machine-id"})
	tool, err := exec.LookPath("systemd-id128")
	if mid == "" || err != nil {
		t.Skip("no machine id or no systemd-id128 here")
	}
	out, err := exec.Command(tool, "-u", "machine-id", "--app-specific=e134920cf9fc4698921cae8991069f07").Output()
	if err != nil {
		t.Skipf("systemd-id128: %v", err)
	}
	if got, want := appSpecificID(mid), strings.TrimSpace(string(out)); got != want {
		t.Errorf("derived %s, systemd-id128 %s", got, want)
	}
}
