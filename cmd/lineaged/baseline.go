package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/lineaged/lineaged/baseline"
)

const baselineUsage = `Usage:
  lineaged baseline show FILE                 entries with counts and first/last seen
  lineaged baseline diff A B                  what B adds, drops or counts differently from A
  lineaged baseline merge -o OUT A B...        one baseline for hosts of one role
  lineaged baseline approve FILE KEY...        fold an alert's novelty (its key) into FILE
  lineaged baseline expire --older-than DUR FILE   drop entries unseen for DUR
`

// errUsage makes a subcommand print its usage and exit 2.
var errUsage = errors.New("usage")

// cmdBaseline manages baseline files (package baseline). Files are
// written crash-safely: a kill at any moment leaves the old or the new
// file whole.
func cmdBaseline(args []string, stdout, stderr io.Writer) int {
	subs := map[string]func(args []string, stdout, stderr io.Writer) (int, error){
		"show": baselineShow, "diff": baselineDiff, "merge": baselineMerge,
		"approve": baselineApprove, "expire": baselineExpire,
	}
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprint(stderr, baselineUsage)
		return 2
	}
	code, err := subs[args[0]](args[1:], stdout, stderr)
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprint(stderr, baselineUsage)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "lineaged baseline %s: %v\n", args[0], err)
		return 1
	}
	return code
}

func baselineShow(args []string, stdout, _ io.Writer) (int, error) {
	if len(args) != 1 {
		return 2, errUsage
	}
	b, err := baseline.Load(args[0])
	if err != nil {
		return 1, err
	}
	fmt.Fprintf(stdout, "# %s: %d entries, hosts %v, created %s, updated %s\n", args[0], b.Len(), b.Hosts,
		b.Created.Format(time.RFC3339), b.Updated.Format(time.RFC3339))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COUNT\tSTATUS\tFIRST\tLAST\tKEY")
	for _, e := range b.Entries() {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", e.Count, b.Status(e.Key, baseline.DefaultRare),
			e.First.Format(time.RFC3339), e.Last.Format(time.RFC3339), e.Key)
	}
	return 0, tw.Flush()
}

// baselineDiff exits 3 when the files differ, like diff(1).
func baselineDiff(args []string, stdout, _ io.Writer) (int, error) {
	if len(args) != 2 {
		return 2, errUsage
	}
	a, err := baseline.Load(args[0])
	if err != nil {
		return 1, err
	}
	b, err := baseline.Load(args[1])
	if err != nil {
		return 1, err
	}
	changes := baseline.Diff(a, b)
	for _, c := range changes {
		switch c.Op {
		case baseline.Added:
			fmt.Fprintf(stdout, "+ %s (count %d)\n", c.Key, c.New.Count)
		case baseline.Removed:
			fmt.Fprintf(stdout, "- %s (count %d)\n", c.Key, c.Old.Count)
		default:
			fmt.Fprintf(stdout, "~ %s (count %d -> %d)\n", c.Key, c.Old.Count, c.New.Count)
		}
	}
	if len(changes) > 0 {
		return 3, nil
	}
	return 0, nil
}

func baselineMerge(args []string, _, stderr io.Writer) (int, error) {
	f := flag.NewFlagSet("baseline merge", flag.ContinueOnError)
	f.SetOutput(stderr)
	out := f.String("o", "", "write the merged baseline to `OUT`")
	if err := f.Parse(args); err != nil || *out == "" || f.NArg() == 0 {
		return 2, errUsage
	}
	var bs []*baseline.Baseline
	for _, p := range f.Args() {
		b, err := baseline.Load(p)
		if err != nil {
			return 1, err
		}
		bs = append(bs, b)
	}
	m := baseline.Merge(bs...)
	if err := baseline.Save(*out, m); err != nil {
		return 1, err
	}
	fmt.Fprintf(stderr, "lineaged baseline merge: %d baselines, %d entries -> %s\n", len(bs), m.Len(), *out)
	return 0, nil
}

func baselineApprove(args []string, _, stderr io.Writer) (int, error) {
	if len(args) < 2 {
		return 2, errUsage
	}
	b, err := baseline.Load(args[0])
	if err != nil {
		return 1, err
	}
	if err := b.Approve(args[1:]...); err != nil {
		return 1, err
	}
	if err := baseline.Save(args[0], b); err != nil {
		return 1, err
	}
	fmt.Fprintf(stderr, "lineaged baseline approve: %d keys folded into %s\n", len(args)-1, args[0])
	return 0, nil
}

func baselineExpire(args []string, _, stderr io.Writer) (int, error) {
	f := flag.NewFlagSet("baseline expire", flag.ContinueOnError)
	f.SetOutput(stderr)
	age := f.Duration("older-than", 0, "drop entries last seen longer ago than `DUR` (e.g. 2160h for 90 days)")
	if err := f.Parse(args); err != nil || *age <= 0 || f.NArg() != 1 {
		return 2, errUsage
	}
	b, err := baseline.Load(f.Arg(0))
	if err != nil {
		return 1, err
	}
	n := b.Expire(*age, time.Now())
	if err := baseline.Save(f.Arg(0), b); err != nil {
		return 1, err
	}
	fmt.Fprintf(stderr, "lineaged baseline expire: %d entries older than %s dropped from %s\n", n, *age, f.Arg(0))
	return 0, nil
}
