package detect

import (
	"testing"

	"github.com/lineaged/lineaged/baseline"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
)

// FuzzObserve: whatever an event holds (the sources decode it from kernel
// and file input), judging it never panics, and every alert is complete.
// The event goes through a graph first, as in the pipeline, below a
// parent that ran parentExe and whose own parent is unknown.
func FuzzObserve(f *testing.F) {
	f.Add("executed", "/usr/bin/bash", "[kworker/0:1]", "/etc/cron.d/x", "write", "127.0.0.1", 4444, "0", "1000", "remove_rule", "/usr/bin/dpkg")
	f.Add("connected-to", "/bin/sh", "sh", "", "", "10.0.0.1", 53, "", "0", "", "")
	f.Add("opened-file", "", "", "/etc/shadow", "read", "", 0, "unset", "", "", "/usr/bin/cat")
	f.Add("changed-audit-configuration", "/memfd:x (deleted)", "3", "/var/log/audit/audit.log", "truncate", "::1", 65535, "0", "65534", "set", "")
	b := baseline.New()
	f.Fuzz(func(t *testing.T, action, exe, name, path, op, ip string, port int, euid, uid, auditOp, parentExe string) {
		en := New(Config{Baseline: b, RateLimit: 2})
		g := graph.New(graph.Config{Host: "h"})
		t0 := int64(port) * 1000
		parent := &event.Event{ID: "p", TimeMsec: t0, Kind: event.KindEvent, Action: event.ActionExecuted, Outcome: "success",
			Process: event.Process{PID: 4, PPID: 3, Executable: parentExe, Args: []string{parentExe}}}
		en.Observe(parent, g.Enrich(parent), func(*event.Event) {})
		e := &event.Event{ID: "x", TimeMsec: t0, Kind: event.KindEvent, Action: event.Action(action), Outcome: "success",
			Process: event.Process{PID: 5, PPID: 4, Executable: exe, Name: name, Args: []string{name, path}},
			User:    event.User{ID: uid, EffectiveID: euid},
			Audit:   &event.Audit{Syscall: op, Data: []event.KV{{Key: "op", Value: auditOp}, {Key: "a1", Value: ip}}}}
		if path != "" {
			e.File = &event.File{Path: path, Operation: op}
		}
		if ip != "" {
			e.Network = &event.Network{Family: "ipv4", Direction: "egress"}
			e.Dest = &event.Endpoint{IP: ip, Port: port}
			e.Source = &event.Endpoint{IP: ip, Port: port}
		}
		check := func(a *event.Event) {
			if a.Alert == nil || a.Alert.RuleID == "" || (a.Kind == event.KindAlert && (a.Alert.Severity < 1 || a.Alert.Severity > 4 || a.Alert.Reason == "")) {
				t.Fatalf("incomplete alert %+v", a.Alert)
			}
		}
		for i := range 3 {
			p := g.Enrich(e)
			if i == 1 {
				p = graph.Proc{} // an event whose node is gone (or a pipeline without a graph)
			}
			en.Observe(e, p, check)
			e.TimeMsec += 3_600_001
		}
		en.Tick(e.TimeMsec+10_000_000, check)
		en.Flush(check)
	})
}
