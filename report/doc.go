// Package report will turn lineaged's JSON lines into compliance evidence
// (PCI-DSS 10.2.x, CIS RHEL 7 4.1) in HTML, Markdown and JSON.
//
// It holds no code yet (a later release; see the README's roadmap).
package report
