package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// clock is a fake time for a Bar.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func withClock(b *Bar, c *clock) *Bar {
	b.now, b.start = c.now, c.t
	return b
}

// fakeTerminal makes every *os.File a terminal, or none, for the test.
func fakeTerminal(t *testing.T, is bool) {
	old := isTerminal
	isTerminal = func(*os.File) bool { return is }
	t.Cleanup(func() { isTerminal = old })
}

func devNull(t *testing.T) *os.File {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	must(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const mb = 1 << 20

// TestWhen: which inputs and which outputs get progress, for replay's
// settings (64 MiB, a bar on a terminal only) and report's (8 MiB, lines
// off a terminal).
func TestWhen(t *testing.T) {
	replay := Config{Threshold: 64 * mb}
	report := Config{Threshold: 8 * mb, Lines: true}
	for _, c := range []struct {
		name string
		cfg  Config
		mode Mode
		tty  bool
		size int64
		want string // "", "bar" or "lines"
	}{
		{"replay small on a terminal", replay, Auto, true, 63 * mb, ""},
		{"replay large on a terminal", replay, Auto, true, 64 * mb, "bar"},
		{"replay large in a pipe", replay, Auto, false, 1 << 40, ""},
		{"replay always in a pipe", replay, Always, false, 1, "bar"},
		{"replay never", replay, Never, true, 1 << 40, ""},
		{"report small", report, Auto, true, 8*mb - 1, ""},
		{"report large on a terminal", report, Auto, true, 8 * mb, "bar"},
		{"report large in a log", report, Auto, false, 8 * mb, "lines"},
		{"report always in a log", report, Always, false, 0, "lines"},
		{"report always on a terminal", report, Always, true, 0, "bar"},
		{"report never", report, Never, false, 1 << 40, ""},
		{"unset mode is auto", Config{Threshold: 10}, "", true, 9, ""},
	} {
		fakeTerminal(t, c.tty)
		cfg := c.cfg
		cfg.Mode = c.mode
		b := New(devNull(t), c.size, cfg)
		got := ""
		switch {
		case b != nil && b.bar:
			got = "bar"
		case b != nil:
			got = "lines"
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// Not an *os.File (a buffer): never a terminal.
	if b := New(&bytes.Buffer{}, 1<<40, replay); b != nil {
		t.Errorf("a buffer taken for a terminal")
	}
}

// TestBar: the bar is redrawn in place (\r) at most every Every, always
// at 100%, shows the fraction, bytes and rate, caps at 100% (a compressed
// input's total), and Done erases it (\r\033[K).
func TestBar(t *testing.T) {
	var out bytes.Buffer
	c := &clock{t: time.Unix(1000, 0)}
	b := withClock(New(&out, 100*mb, Config{Mode: Always}), c)
	c.advance(time.Second)
	b.Update(10*mb, 100*mb)
	c.advance(100 * time.Millisecond)
	b.Update(20*mb, 100*mb) // within 200 ms: not drawn
	c.advance(time.Second)
	b.Update(50*mb, 100*mb)
	c.advance(10 * time.Millisecond)
	b.Update(150*mb, 100*mb) // 100%: drawn at once
	b.Done()
	frames := strings.Split(out.String(), "\r")[1:]
	want := []string{
		"[###...........................]  10% 10.0/100.0 MiB   10.0 MiB/s",
		"[###############...............]  50% 50.0/100.0 MiB   23.8 MiB/s",
		"[##############################] 100% 100.0/100.0 MiB   71.1 MiB/s",
		"\033[K",
	}
	if len(frames) != len(want) {
		t.Fatalf("frames %q", frames)
	}
	for i := range want {
		if frames[i] != want[i] {
			t.Errorf("frame %d: %q, want %q", i, frames[i], want[i])
		}
	}
	if strings.Contains(out.String(), "\n") {
		t.Errorf("a newline in the bar: %q", out.String())
	}

	// Unknown total: bytes and rate; a label leads.
	out.Reset()
	b = withClock(New(&out, 0, Config{Mode: Always, Label: "reading"}), c)
	c.advance(2 * time.Second)
	b.Update(4*mb, 0)
	if got := out.String(); got != "\rreading      4.0 MiB    2.0 MiB/s" {
		t.Errorf("unknown total: %q", got)
	}
}

// TestLines: off a terminal, one line per 10% step reached, a jump over
// several steps writing one; the label and the note in each; nothing to
// erase at the end.
func TestLines(t *testing.T) {
	fakeTerminal(t, false)
	f, err := os.CreateTemp(t.TempDir(), "log")
	must(t, err)
	defer f.Close()
	b := New(f, 10*mb, Config{Mode: Auto, Threshold: 8 * mb, Lines: true, Label: "lineaged report", Note: "inputs are read twice"})
	for _, done := range []int64{0, 1 * mb, 2 * mb, 3 * mb, 7 * mb, 7*mb + 1, 20 * mb, 20 * mb} {
		b.Update(done, 20*mb)
	}
	b.Update(5*mb, 0) // unknown total: no line
	b.Done()
	got, _ := os.ReadFile(f.Name())
	want := "lineaged report: 0% (0.0 of 20.0 MiB read; inputs are read twice)\n" +
		"lineaged report: 10% (2.0 of 20.0 MiB read; inputs are read twice)\n" +
		"lineaged report: 30% (7.0 of 20.0 MiB read; inputs are read twice)\n" +
		"lineaged report: 100% (20.0 of 20.0 MiB read; inputs are read twice)\n"
	if string(got) != want {
		t.Errorf("lines:\n%s\nwant\n%s", got, want)
	}
}

// TestNil: a Bar that is not shown is nil, and its methods do nothing.
func TestNil(t *testing.T) {
	var b *Bar
	b.Update(1, 2)
	b.Done()
	if New(&bytes.Buffer{}, 1, Config{Mode: Never}) != nil {
		t.Error("Never gave a Bar")
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": Auto, "auto": Auto, "always": Always, "never": Never} {
		if got, err := ParseMode(in); got != want || err != nil {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	if _, err := ParseMode("sometimes"); err == nil || !strings.Contains(err.Error(), "sometimes") {
		t.Errorf("bad mode: %v", err)
	}
}
