package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/lineaged/lineaged/agent"
	"github.com/lineaged/lineaged/feature"
)

// cmdStatus prints the kernel's capabilities, the audit state and the
// sources lineaged would use. It changes nothing on the host.
func cmdStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := feature.CheckProfile(); err != nil {
		fmt.Fprintf(stderr, "lineaged status: %v\n", err)
		return 2
	}
	hs := agent.Status()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(hs); err != nil {
			fmt.Fprintf(stderr, "lineaged status: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "kernel   %s\n", hs.Kernel)
	if hs.Profile != "" {
		fmt.Fprintf(stdout, "profile  %s (%s): newer features switched off\n", hs.Profile, feature.ProfileEnv)
	}
	if a := hs.Audit; a != nil {
		state := map[uint32]string{0: "disabled", 1: "enabled", 2: "immutable (locked until reboot: used read-only, as found)"}[a.Enabled]
		fmt.Fprintf(stdout, "audit    %s; owner %s; backlog %d/%d; lost %d; failure %d; rate limit %d",
			state, a.Owner, a.Backlog, a.BacklogLimit, a.Lost, a.Failure, a.RateLimit)
		if a.HasBacklogWaitTime {
			fmt.Fprintf(stdout, "; backlog_wait_time %d", a.BacklogWaitTime)
		}
		fmt.Fprintf(stdout, "\n         auto mode would be: %s\n", a.Mode)
	} else {
		fmt.Fprintf(stdout, "audit    unavailable: %s\n", hs.AuditError)
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tMIN KERNEL\tIN USE\tNOTE")
	for _, c := range hs.Capabilities {
		use := "yes"
		if !c.Available {
			use = "no"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Feature, feature.MinKernel(c.Feature), use, c.Reason)
	}
	tw.Flush()
	return 0
}
