package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/lineaged/lineaged/agent"
	"github.com/lineaged/lineaged/detect"
	"github.com/lineaged/lineaged/sigma"
)

func printDetectStats(w io.Writer, s detect.Stats) {
	ids := make([]string, 0, len(s.ByRule))
	for id := range s.ByRule {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var parts []string
	for _, id := range ids {
		parts = append(parts, fmt.Sprintf("%s %d", id, s.ByRule[id]))
	}
	fmt.Fprintf(w, "lineaged: detection: %d events judged, %d alerts (%s), %d repeats folded, %d rate-limited, %d package-manager runs, %d keys learned, %d withheld from learning\n",
		s.Events, s.Alerts, strings.Join(parts, ", "), s.Folded, s.RateLimited, s.PackageRuns, s.Learned, s.Withheld)
}

// cmdRules lists the built-in detections and the Sigma rules: loaded, and
// skipped with the reason.
func cmdRules(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rules", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var dirs stringList
	fs.Var(&dirs, "sigma", "Sigma rules `DIR` (repeatable; default "+agent.DefaultSigmaDir+" when it exists)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "BUILT-IN\tSEVERITY\tTECHNIQUES\tFIRES WHEN")
	all := append(append([]*detect.Rule{}, detect.Builtins...), detect.RuleNovel, detect.RulePackageManager, detect.RuleSuppressed)
	for _, r := range all {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", r.ID, r.Severity, strings.Join(r.Techniques, ","), r.Doc)
	}
	tw.Flush()
	if dirs = agent.SigmaDirs(dirs); dirs == nil {
		fmt.Fprintf(stdout, "\nSigma: no rules (none given with --sigma, and %s does not exist)\n", agent.DefaultSigmaDir)
		return 0
	}
	s, err := sigma.Load(dirs...)
	if err != nil {
		fmt.Fprintf(stderr, "lineaged rules: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "\nSigma rules from %s: %d loaded, %d skipped\n", strings.Join(dirs, ", "), len(s.Rules()), len(s.Skipped()))
	tw = tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "LOADED\tSEVERITY\tLOGSOURCE\tTITLE\tFILE")
	for _, r := range s.Rules() {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", r.ID, r.Severity, r.Logsource, r.Title, r.Path)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSKIPPED\tWHY\tFILE")
	for _, r := range s.Skipped() {
		id := r.ID
		if id == "" {
			id = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", id, r.Reason, r.Path)
	}
	tw.Flush()
	return 0
}
