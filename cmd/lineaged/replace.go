package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/lineaged/lineaged/auditd"
)

// cmdReplaceAuditd is lineaged replace-auditd [--undo] [--dry-run]: the
// explicit step from coexisting with auditd to being the only audit
// daemon, and back (package auditd does it).
func cmdReplaceAuditd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replace-auditd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	undo := fs.Bool("undo", false, "give auditd back: re-enable and start it as the marker records, remove the marker")
	dryRun := fs.Bool("dry-run", false, "print the commands that would change the host, run none of them")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: lineaged replace-auditd [--undo] [--dry-run]")
		fmt.Fprintln(stderr, "Stops and disables auditd so that lineaged can own audit (audit.mode: own);")
		fmt.Fprintf(stderr, "records what it did in %s for --undo (run by package removal).\n", auditd.MarkerPath)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lineaged replace-auditd: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	r := &auditd.Replacer{Host: auditd.System(), Marker: auditd.MarkerPath, DryRun: *dryRun, Out: stdout,
		Warn: func(msg string) { fmt.Fprintf(stderr, "lineaged replace-auditd: %s\n", msg) }}
	name, do := "lineaged replace-auditd", r.Replace
	if *undo {
		name, do = "lineaged replace-auditd --undo", r.Undo
	}
	if err := do(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}
