// Package logging builds the zerolog logger that lineaged passes into
// each package: JSON lines for a journal or a log shipper, or console
// text for a person at a terminal, at a chosen level.
//
// Packages never make their own logger and never write to standard
// error: they take a zerolog.Logger (zerolog.Nop() in tests that do not
// look at it) and add their own context (logger.With().Str("source",
// "audit")). Decisions a reader of the log needs are Info, trouble the
// agent survives is Warn, and what stops it is Error; Debug is for the
// per-batch detail nobody wants on a busy host.
package logging

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Formats.
const (
	FormatConsole = "console" // human-readable text, one line per entry
	FormatJSON    = "json"    // one JSON object per line
)

// Levels, as config's log.level spells them.
var levels = map[string]zerolog.Level{
	"debug": zerolog.DebugLevel,
	"info":  zerolog.InfoLevel,
	"warn":  zerolog.WarnLevel,
	"error": zerolog.ErrorLevel,
}

// ParseLevel turns "debug", "info", "warn" or "error" into a level.
func ParseLevel(s string) (zerolog.Level, error) {
	l, ok := levels[strings.ToLower(s)]
	if !ok {
		return zerolog.NoLevel, fmt.Errorf("log level %q is not one of debug, info, warn, error", s)
	}
	return l, nil
}

// New returns a logger writing to w in format (FormatConsole or
// FormatJSON) at level (debug, info, warn or error). Every entry carries
// its time; console entries name the program (the command that runs).
func New(w io.Writer, format, level, program string) (zerolog.Logger, error) {
	lv, err := ParseLevel(level)
	if err != nil {
		return zerolog.Nop(), err
	}
	switch format {
	case FormatJSON:
	case FormatConsole, "":
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339, NoColor: true,
			FormatMessage: func(i any) string { return program + ": " + fmt.Sprint(i) }}
	default:
		return zerolog.Nop(), fmt.Errorf("log format %q is not one of console, json", format)
	}
	return zerolog.New(w).Level(lv).With().Timestamp().Logger(), nil
}
