package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// testOut is where tests leave what a person looks at (screenshots,
// reports): $LINEAGED_TEST_OUT, or integration/out in the repository. It
// is kept after the run (and ignored by git).
func testOut(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("LINEAGED_TEST_OUT")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(wd, "out")
	}
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// chromiumPath is Debian's chromium (make deps installs it). Without it
// the browser tests fail, unless LINEAGED_SKIP_BROWSER=1 says to skip.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("LINEAGED_SKIP_BROWSER") == "1" {
			t.Skip("chromium not installed and LINEAGED_SKIP_BROWSER=1")
		}
		t.Fatalf("chromium not found (make deps installs Debian's chromium; LINEAGED_SKIP_BROWSER=1 skips): %v", err)
	}
	return p
}

// browse loads url in headless Chromium (a fresh profile each time, no
// background networking: this machine's network is closed) and returns
// the DOM after the page's scripts ran for budget of virtual time. With
// shot set it also saves a screenshot of the window's size.
func browse(t *testing.T, url string, budget time.Duration, shot string, width, height int) string {
	t.Helper()
	bin := chromiumPath(t)
	common := func() []string {
		return []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
			"--user-data-dir=" + t.TempDir(), "--hide-scrollbars",
			"--virtual-time-budget=" + strconv.Itoa(int(budget/time.Millisecond)),
			"--window-size=" + strconv.Itoa(width) + "," + strconv.Itoa(height)}
	}
	run := func(args ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(common(), args...)...)
		var stderr limitedBuffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
		}
		return out
	}
	dom := run("--dump-dom", url)
	if shot != "" {
		run("--screenshot="+shot, url)
		if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
			t.Fatalf("no screenshot at %s: %v", shot, err)
		}
		t.Logf("screenshot: %s", shot)
	}
	return string(dom)
}

// limitedBuffer keeps the last 8 KiB written (chromium is chatty on
// stderr about dbus and the like).
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.b = append(l.b, p...)
	if len(l.b) > 8<<10 {
		l.b = l.b[len(l.b)-8<<10:]
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
