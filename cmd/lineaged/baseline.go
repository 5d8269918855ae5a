package main

import (
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

// cmdBaseline manages baseline files (package baseline). Files are
// written crash-safely: a kill at any moment leaves the old or the new
// file whole.
func cmdBaseline(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, baselineUsage)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "lineaged baseline %s: %v\n", args[0], err)
		return 1
	}
	switch args[0] {
	case "show":
		if len(args) != 2 {
			break
		}
		b, err := baseline.Load(args[1])
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "# %s: %d entries, hosts %v, created %s, updated %s\n", args[1], b.Len(), b.Hosts,
			b.Created.Format(time.RFC3339), b.Updated.Format(time.RFC3339))
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "COUNT\tSTATUS\tFIRST\tLAST\tKEY")
		for _, e := range b.Entries() {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", e.Count, b.Status(e.Key, baseline.DefaultRare),
				e.First.Format(time.RFC3339), e.Last.Format(time.RFC3339), e.Key)
		}
		if err := tw.Flush(); err != nil {
			return fail(err)
		}
		return 0
	case "diff":
		if len(args) != 3 {
			break
		}
		a, err := baseline.Load(args[1])
		if err != nil {
			return fail(err)
		}
		b, err := baseline.Load(args[2])
		if err != nil {
			return fail(err)
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
			return 3 // like diff(1): the files differ
		}
		return 0
	case "merge":
		f := flag.NewFlagSet("baseline merge", flag.ContinueOnError)
		f.SetOutput(stderr)
		out := f.String("o", "", "write the merged baseline to `OUT`")
		if err := f.Parse(args[1:]); err != nil {
			return 2
		}
		if *out == "" || f.NArg() == 0 {
			break
		}
		var bs []*baseline.Baseline
		for _, p := range f.Args() {
			b, err := baseline.Load(p)
			if err != nil {
				return fail(err)
			}
			bs = append(bs, b)
		}
		m := baseline.Merge(bs...)
		if err := baseline.Save(*out, m); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stderr, "lineaged baseline merge: %d baselines, %d entries -> %s\n", len(bs), m.Len(), *out)
		return 0
	case "approve":
		if len(args) < 3 {
			break
		}
		b, err := baseline.Load(args[1])
		if err != nil {
			return fail(err)
		}
		if err := b.Approve(args[2:]...); err != nil {
			return fail(err)
		}
		if err := baseline.Save(args[1], b); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stderr, "lineaged baseline approve: %d keys folded into %s\n", len(args)-2, args[1])
		return 0
	case "expire":
		f := flag.NewFlagSet("baseline expire", flag.ContinueOnError)
		f.SetOutput(stderr)
		age := f.Duration("older-than", 0, "drop entries last seen longer ago than `DUR` (e.g. 2160h for 90 days)")
		if err := f.Parse(args[1:]); err != nil {
			return 2
		}
		if *age <= 0 || f.NArg() != 1 {
			break
		}
		b, err := baseline.Load(f.Arg(0))
		if err != nil {
			return fail(err)
		}
		n := b.Expire(*age, time.Now())
		if err := baseline.Save(f.Arg(0), b); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stderr, "lineaged baseline expire: %d entries older than %s dropped from %s\n", n, *age, f.Arg(0))
		return 0
	}
	fmt.Fprint(stderr, baselineUsage)
	return 2
}
