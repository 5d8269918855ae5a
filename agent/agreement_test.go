package agent

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/detect"
)

// sharedDir is ../shared (or $LINEAGED_SHARED).
func sharedDir(t *testing.T) string {
	if d := os.Getenv("LINEAGED_SHARED"); d != "" {
		return d
	}
	d, _ := filepath.Abs("../../shared")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("no shared test data at %s", d)
	}
	return d
}

// TestAgreementDevbox: the recorded devbox log gives the same lines live
// and in replay, redaction included.
func TestAgreementDevbox(t *testing.T) {
	xz := filepath.Join(sharedDir(t), "testdata/recorded/devbox.log.xz")
	raw, err := exec.Command("xz", "-dc", xz).Output()
	if err != nil {
		t.Skipf("xz -dc %s: %v", xz, err)
	}
	// A secret on a command line (an argument of the first exec with
	// one): both paths must hide it.
	i := bytes.Index(raw, []byte("type=EXECVE"))
	j := i + bytes.Index(raw[i:], []byte(` a1="`)) + len(` a1="`)
	raw = append(raw[:j:j], append([]byte("--password=hunter2 "), raw[j:]...)...)
	c := config.Default()
	cfg := ReplayConfig{Host: "devbox", IDPrefix: "agree", Redact: c.Redact}
	engine := func() Detector { return detect.New(detect.Config{}) }
	diffs, n, err := Agreement(func() io.Reader { return bytes.NewReader(raw) }, cfg, engine)
	if err != nil {
		t.Fatal(err)
	}
	if n < 1000 {
		t.Fatalf("only %d lines compared", n)
	}
	t.Logf("%d lines compared", n)
	if bytes.Contains(raw, []byte("hunter2")) != true {
		t.Fatal("no secret planted")
	}
	if len(diffs) > 0 {
		t.Errorf("%d of %d lines differ between live and replay; first ones:\n%s", len(diffs), n, strings.Join(diffs[:min(5, len(diffs))], "\n"))
	}
}
