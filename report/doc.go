// Package report turns lineaged's JSON lines into a compliance report for
// auditors: PCI DSS v4.0 requirement 10.2 (10.2.1 to 10.2.1.7, 10.2.2, and
// the adjacent 10.7.2 and 11.5.2) with the evidence found or a plain "no
// evidence found", CIS RHEL 7 v3.1.1 section 4.1 audit-rule coverage item
// by item, every alert with its reason, technique and process tree drawn
// as an inline SVG, a timeline per hour, top executables and users, what
// was new against the baseline, and every loss counter.
//
// It reads JSON lines only, never the kernel (SPEC §8). Each input is read
// twice: the first pass makes the figures and finds the alerts, the second
// collects what the trees need (an alerted process's children, siblings,
// files and sockets can come before or after the alert). Memory is bounded
// by the alerts kept (Options.MaxAlerts) and the processes near them, not
// by the input's size.
//
// The CIS section reads the rules in force from lineaged's settings event
// (written at start and on every reload); a replay's output has none, and
// the report then says so instead of guessing. Where lineaged meets an
// item's intent another way (the proc connector records every exec, say),
// the item is marked "compensated" and the detail says how.
//
// Formats: one self-contained HTML file (inline CSS and SVG, no script, no
// fetches, a print stylesheet), Markdown with the trees as SVG files beside
// it and as indented text, and JSON (the Report struct). Text from events
// is escaped everywhere: an argv is data, never markup.
package report
