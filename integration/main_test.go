// Package integration holds end-to-end tests of the lineaged binary.
//
// Tests named TestIntegration* run the real binary. Those that need root
// and the live kernel skip themselves elsewhere, and each one restores the
// global state it touched (audit rules, enabled flag, backlog settings,
// audit PID) whatever happens.
package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// lineagedBin is the binary under test, built once by TestMain.
var lineagedBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lineaged-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lineagedBin = filepath.Join(dir, "lineaged")
	cmd := exec.Command("go", "build", "-o", lineagedBin, "../cmd/lineaged")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building lineaged: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sharedDir is ../shared beside the repository (LINEAGED_SHARED overrides).
func sharedDir(t testing.TB) string {
	if d := os.Getenv("LINEAGED_SHARED"); d != "" {
		return d
	}
	d, _ := filepath.Abs("../../shared")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("shared test material not found at %s (set LINEAGED_SHARED)", d)
	}
	return d
}
