package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Markdown writes the report as Markdown. Each alert's tree is written to
// dir/trees/ALERT.svg and linked as an image, and also given as an
// indented list, so the tree reads in a plain-text viewer too.
func Markdown(w io.Writer, r *Report, dir string) error {
	p := &mdw{w: w}
	p.f("# %s\n\n", mdEsc(r.Title))
	p.f("Period %s · hosts: %s · generated %s by lineaged report\n\n", r.period(), orDash(strings.Join(r.Hosts, ", ")), fmtTime(r.Generated))
	p.f("Inputs: `%s`\n\n", strings.Join(r.Inputs, "`, `"))
	p.f("| events | alerts | critical | high | medium | low | new against baseline | lost or bad | audit rules in force |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	p.f("| %d | %d | %d | %d | %d | %d | %d | %d | %d |\n\n", r.Events, r.AlertsTotal, r.Severities[4], r.Severities[3], r.Severities[2], r.Severities[1], len(r.Novel), r.lossTotal(), len(r.Rules))

	p.f("## Alerts and their process trees\n\n")
	if len(r.Alerts) == 0 {
		p.f("**No alerts in the period.**\n\n")
	}
	if r.AlertsTotal > len(r.Alerts) {
		p.f("%d more alerts are counted but not listed.\n\n", r.AlertsTotal-len(r.Alerts))
	}
	if r.TreesOmitted > 0 {
		p.f("%d alerts are listed without a tree.\n\n", r.TreesOmitted)
	}
	treeDir := filepath.Join(dir, "trees")
	for _, a := range r.Alerts {
		p.f("### [%s] %s (`%s`)\n\n", sevName(a.Severity), mdEsc(a.RuleName), a.RuleID)
		p.f("%s\n\n", mdEsc(a.Reason))
		p.f("- time: %s%s\n", fmtTime(a.Time), ifs(a.Host != "", " on "+a.Host))
		p.f("- process: `%s` (pid %d)%s\n", a.Executable, a.PID, ifs(len(a.Args) > 0, ": `"+cut(strings.Join(a.Args, " "), 200)+"`"))
		if a.User != "" {
			p.f("- user: %s\n", a.User)
		}
		if a.Object != "" {
			p.f("- object: `%s`\n", a.Object)
		}
		if len(a.Techniques) > 0 {
			p.f("- ATT&CK: %s\n", strings.Join(a.Techniques, ", "))
		}
		p.f("- risk score: %d\n", a.RiskScore)
		if a.Key != "" {
			p.f("- key: `%s`\n", a.Key)
		}
		p.f("- event id: `%s`\n\n", a.ID)
		if a.SVG != "" {
			if err := os.MkdirAll(treeDir, 0o750); err != nil {
				return err
			}
			name := safeName(a.ID) + ".svg"
			if err := os.WriteFile(filepath.Join(treeDir, name), []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+a.SVG+"\n"), 0o640); err != nil {
				return err
			}
			p.f("![process tree of %s](trees/%s)\n\n", a.ID, name)
			p.f("```\n")
			mdTree(p, a.Tree, "")
			p.f("```\n\n")
		}
		if len(a.Evidence) > 0 {
			p.f("Evidence:\n\n")
			for _, e := range a.Evidence {
				p.f("- `%s` %s\n", e.ID, mdEsc(e.Summary))
			}
			p.f("\n")
		}
	}

	p.f("## PCI DSS v4.0 requirement 10.2: audit log evidence\n\n")
	for _, s := range r.PCI {
		p.f("### %s %s\n\n*Evidence:* %s\n\n", s.ID, s.Title, s.Shows)
		switch {
		case len(s.Fields) > 0:
			p.f("| element | field | events with it |\n|---|---|---:|\n")
			for _, f := range s.Fields {
				p.f("| %s | `%s` | %d of %d |\n", f.Element, f.Field, f.Events, f.Of)
			}
			p.f("\n")
		case s.Count == 0:
			p.f("**No evidence found in the period.**\n\n")
		default:
			p.f("**%d** events.", s.Count)
			if len(s.Summary) > 0 {
				var us []string
				for _, c := range s.Summary {
					us = append(us, fmt.Sprintf("%s (%d)", c.Name, c.Count))
				}
				p.f(" By user: %s.", strings.Join(us, ", "))
			}
			p.f("\n\n| time | user | program | action | object | outcome | event id |\n|---|---|---|---|---|---|---|\n")
			for _, row := range s.Rows {
				p.f("| %s | %s | `%s` | %s | `%s` | %s | `%s` |\n", fmtTime(row.Time), mdCell(row.User), mdCell(row.Exe), row.Action, mdCell(row.Object), row.Outcome, row.ID)
			}
			p.f("\n")
		}
		if s.Note != "" {
			p.f("%s\n\n", s.Note)
		}
	}

	p.f("## CIS Red Hat Enterprise Linux 7 Benchmark v3.1.1, section 4.1\n\n")
	p.f("| item | control | status | detail | events |\n|---|---|---|---|---:|\n")
	for _, it := range r.CIS {
		d := it.Detail
		if len(it.Missing) > 0 {
			d += " Missing: `" + strings.Join(it.Missing, "`; `") + "`"
		}
		p.f("| %s | %s | **%s** | %s | %d |\n", it.ID, it.Title, it.Status, mdCell(d), it.Events)
	}
	p.f("\n## Timeline\n\n| hour (UTC) | events | alerts |\n|---|---:|---:|\n")
	for _, h := range r.Timeline {
		if h.Events > 0 || h.Alerts > 0 {
			p.f("| %s | %d | %d |\n", fmtTime(h.Start), h.Events, h.Alerts)
		}
	}
	p.f("\n## Top executables and users\n\n| executable | runs |\n|---|---:|\n")
	for _, c := range r.TopExecs {
		p.f("| `%s` | %d |\n", c.Name, c.Count)
	}
	p.f("\n| user | events |\n|---|---:|\n")
	for _, c := range r.TopUsers {
		p.f("| %s | %d |\n", c.Name, c.Count)
	}
	p.f("\n## New against the baseline\n\n")
	if len(r.Novel) == 0 {
		p.f("**Nothing new against the baseline was alerted in the period.**\n\n")
	} else {
		p.f("| first seen | baseline key | alerts | rule |\n|---|---|---:|---|\n")
		for _, n := range r.Novel {
			p.f("| %s | `%s` | %d | `%s` |\n", fmtTime(n.First), mdCell(n.Key), n.Count, n.Rule)
		}
		p.f("\n")
	}
	p.f("## Loss and data quality\n\n| counter | value | means | read from |\n|---|---:|---|---|\n")
	for _, c := range r.Loss {
		p.f("| `%s` | %d | %s | %s |\n", c.Name, c.Value, c.Means, c.Source)
	}
	for _, b := range r.Bad {
		p.f("- `%s`\n", mdCell(b.String()))
	}
	p.f("\n%d input lines read; %d outside the period.\n\n", r.Lines, r.OutOfPeriod)
	p.f("## Settings and rules in force\n\n")
	if len(r.Rules) == 0 {
		p.f("**No audit rules in force were found in the inputs.**\n")
	} else {
		p.f("```\n%s\n```\n", strings.Join(r.Rules, "\n"))
	}
	return p.err
}

func mdTree(p *mdw, n *Node, indent string) {
	if n == nil {
		return
	}
	mark := ""
	switch {
	case n.Focus:
		mark = "  <== ALERT"
	case n.Alerted:
		mark = "  (alerted)"
	}
	p.f("%s%s %s  [%s]%s\n", indent, kindMark(n.Kind), n.Label, n.Detail, mark)
	for _, c := range n.Children {
		mdTree(p, c, indent+"  ")
	}
}

func kindMark(k string) string {
	switch k {
	case "file":
		return "file"
	case "socket":
		return "sock"
	case "more":
		return "...."
	}
	return "proc"
}

type mdw struct {
	w   io.Writer
	err error
}

func (p *mdw) f(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}

func ifs(c bool, s string) string {
	if c {
		return s
	}
	return ""
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

func safeName(s string) string {
	s = unsafeName.ReplaceAllString(s, "_")
	if s == "" || s[0] == '.' {
		s = "alert" + s
	}
	return s
}

// mdEsc keeps text from turning into Markdown structure or HTML.
func mdEsc(s string) string {
	r := strings.NewReplacer("<", "&lt;", ">", "&gt;", "\n", " ", "\r", " ")
	return r.Replace(s)
}

// mdCell is mdEsc for a table cell: a '|' would end the cell and a
// backtick would end code.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ", "\r", " ").Replace(s)
}
