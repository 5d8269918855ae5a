package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/lineaged/lineaged/internal/progress"
	"github.com/lineaged/lineaged/report"
)

const reportUsage = `Usage: lineaged report [--format html|md|json[,...]] [--since TIME] [--until TIME] [--title TEXT] [--rules FILE] --out DIR EVENTS.jsonl...

Reads lineaged's JSON lines (the events file, or replay's output) and writes
a compliance report into DIR: report.html (one self-contained file),
report.md (with trees/*.svg) or report.json.

TIME is RFC 3339 (2026-11-27T10:00:00Z), a date (2026-11-27, UTC midnight),
or a duration before now (24h, 168h).
`

func cmdReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, reportUsage); fs.PrintDefaults() }
	format := fs.String("format", "html", "html, md or json; several separated by commas")
	since := fs.String("since", "", "report events at or after TIME")
	until := fs.String("until", "", "report events before TIME")
	out := fs.String("out", "", "directory to write the report into (created)")
	title := fs.String("title", "", "the report's title")
	rulesFile := fs.String("rules", "", "audit rules in force (`FILE`, as auditctl -l prints them), for inputs without lineaged's settings event (a replay)")
	progressMode := fs.String("progress", "auto", "progress bar on stderr: auto (inputs of 8 MiB or more), always or never")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() == 0 {
		fmt.Fprint(stderr, "lineaged report: --out DIR and at least one EVENTS.jsonl are required\n\n")
		fs.Usage()
		return 2
	}
	opt, formats, err := reportOptions(*title, *since, *until, *rulesFile, *format)
	if err != nil {
		fmt.Fprintf(stderr, "lineaged report: %v\n", err)
		return 2
	}
	var total int64
	for _, f := range fs.Args() {
		if st, err := os.Stat(f); err == nil {
			total += st.Size()
		}
	}
	pm, err := progress.ParseMode(*progressMode)
	if err != nil {
		fmt.Fprintf(stderr, "lineaged report: --progress: %v\n", err)
		return 2
	}
	bar := progress.New(stderr, total, progress.Config{Mode: pm, Threshold: 8 << 20, Lines: true,
		Label: "lineaged report", Note: "inputs are read twice"})
	if bar != nil {
		opt.Progress = bar.Update
	}
	r, err := report.Build(fs.Args(), opt)
	bar.Done()
	if err != nil {
		fmt.Fprintf(stderr, "lineaged %v\n", err)
		return 1
	}
	for _, f := range formats {
		path, err := report.Write(r, f, *out)
		if err != nil {
			fmt.Fprintf(stderr, "lineaged %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", path)
	}
	fmt.Fprintf(stderr, "lineaged report: %d events, %d alerts (%d drawn), %d bad input lines\n",
		r.Events, r.AlertsTotal, len(r.Alerts)-r.TreesOmitted, r.BadLines)
	for _, b := range r.Bad {
		fmt.Fprintf(stderr, "lineaged report: not read: %s\n", b)
	}
	return 0
}

// reportOptions checks the report's flags and turns them into options.
func reportOptions(title, since, until, rulesFile, format string) (report.Options, []string, error) {
	now := time.Now()
	opt := report.Options{Title: title, Now: now}
	var err error
	if opt.Since, err = parseReportTime(since, now); err != nil {
		return opt, nil, fmt.Errorf("--since: %w", err)
	}
	if opt.Until, err = parseReportTime(until, now); err != nil {
		return opt, nil, fmt.Errorf("--until: %w", err)
	}
	if !opt.Since.IsZero() && !opt.Until.IsZero() && !opt.Until.After(opt.Since) {
		return opt, nil, fmt.Errorf("--until %s is not after --since %s", until, since)
	}
	if rulesFile != "" {
		b, err := os.ReadFile(rulesFile)
		if err != nil {
			return opt, nil, fmt.Errorf("--rules: %w", err)
		}
		opt.Rules, opt.RulesSource = []string{}, "rules file "+rulesFile
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") && l != "No rules" {
				opt.Rules = append(opt.Rules, l)
			}
		}
	}
	formats := strings.Split(format, ",")
	for _, f := range formats {
		if f != "html" && f != "md" && f != "json" {
			return opt, nil, fmt.Errorf("--format %q: use html, md or json", f)
		}
	}
	return opt, formats, nil
}

// parseReportTime reads --since/--until.
func parseReportTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339, a date (2006-01-02) nor a duration (24h)", s)
}
