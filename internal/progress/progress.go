// Package progress is lineaged's one progress display for commands that
// read large inputs (replay, report): a bar redrawn in place on a
// terminal, or, where carriage returns would litter a log, a line every
// 10%.
//
// A Bar is nil when nothing is to be shown, and a nil Bar's methods do
// nothing, so a caller does not check. It is meant for one goroutine, the
// one reading the input.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Mode says when a Bar is shown.
type Mode string

const (
	// Auto shows progress for inputs of at least Config.Threshold bytes:
	// a bar on a terminal; elsewhere lines (Config.Lines) or nothing.
	Auto Mode = "auto"
	// Always shows it whatever the input's size: a bar on a terminal;
	// elsewhere lines (Config.Lines) or the bar anyway.
	Always Mode = "always"
	// Never shows nothing.
	Never Mode = "never"
)

// ParseMode reads a --progress flag: auto (also ""), always or never.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Auto, Always, Never:
		return m, nil
	case "":
		return Auto, nil
	}
	return "", fmt.Errorf("progress %q is not one of auto, always, never", s)
}

// Config says when and how progress is shown.
type Config struct {
	Mode Mode // default Auto
	// Threshold is the input size, in bytes, from which Auto shows
	// progress: below it the wait is too short to need one.
	Threshold int64
	// Lines, off a terminal, writes a line every 10% instead of the bar
	// (a log file or a journal keeps every carriage return). Without it
	// Auto shows nothing off a terminal and Always draws the bar anyway.
	Lines bool
	// Label starts each line ("lineaged report": "lineaged report: 40%
	// ...") and, when set, the bar ("reading [###...]").
	Label string
	// Note ends each line, in the parentheses after the bytes read
	// ("inputs are read twice").
	Note string
	// Every is the least time between two redraws of the bar (default
	// 200 ms): a terminal redrawn on every read costs more than the read.
	Every time.Duration
}

// Bar shows the progress of reading an input.
type Bar struct {
	w     io.Writer
	cfg   Config
	bar   bool // drawn in place; else lines
	start time.Time
	last  time.Time // last redraw
	drawn bool      // the bar is on screen
	tens  int       // lines mode: the last 10% step written, -1 none
	now   func() time.Time
}

// isTerminal is terminal, replaced in tests.
var isTerminal = terminal

// New returns a Bar writing to w for an input of size bytes (0 or less:
// unknown), or nil when cfg says nothing is to be shown. w is a terminal
// when it is an *os.File on one.
func New(w io.Writer, size int64, cfg Config) *Bar {
	if cfg.Mode == "" {
		cfg.Mode = Auto
	}
	if cfg.Every <= 0 {
		cfg.Every = 200 * time.Millisecond
	}
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = isTerminal(f)
	}
	switch cfg.Mode {
	case Never:
		return nil
	case Auto:
		if size < cfg.Threshold || (!tty && !cfg.Lines) {
			return nil
		}
	}
	b := &Bar{w: w, cfg: cfg, bar: tty || !cfg.Lines, tens: -1, now: time.Now}
	b.start = b.now()
	return b
}

// Update shows that done bytes of total are read (total 0 or less:
// unknown; done past total, as when the total is a compressed size,
// shows 100%).
func (b *Bar) Update(done, total int64) {
	if b == nil {
		return
	}
	now := b.now()
	frac := -1.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	if !b.bar {
		b.line(done, total, frac)
		return
	}
	if now.Sub(b.last) < b.cfg.Every && frac < 1 {
		return
	}
	b.last = now
	rate := 0.0
	if el := now.Sub(b.start).Seconds(); el > 0 {
		rate = float64(done) / el / (1 << 20)
	}
	label := ""
	if b.cfg.Label != "" {
		label = b.cfg.Label + " "
	}
	b.drawn = true
	if frac < 0 {
		fmt.Fprintf(b.w, "\r%s%8.1f MiB %6.1f MiB/s", label, mib(done), rate)
		return
	}
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(b.w, "\r%s[%s%s] %3.0f%% %.1f/%.1f MiB %6.1f MiB/s", label,
		strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, mib(min(done, total)), mib(total), rate)
}

// line writes a line at each 10% step reached (one line for several
// steps passed at once).
func (b *Bar) line(done, total int64, frac float64) {
	if frac < 0 {
		return
	}
	tens := int(frac * 10)
	if tens <= b.tens {
		return
	}
	b.tens = tens
	note := ""
	if b.cfg.Note != "" {
		note = "; " + b.cfg.Note
	}
	label := b.cfg.Label
	if label != "" {
		label += ": "
	}
	fmt.Fprintf(b.w, "%s%d%% (%.1f of %.1f MiB read%s)\n", label, tens*10, mib(min(done, total)), mib(total), note)
}

// Done erases the bar, so that what is written next starts a clean line.
// In lines mode it does nothing.
func (b *Bar) Done() {
	if b == nil || !b.drawn {
		return
	}
	fmt.Fprint(b.w, "\r\033[K")
	b.drawn = false
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
