package main

import (
	"fmt"
	"path/filepath"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/agent"
	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/graph"
	"github.com/lineaged/lineaged/ui"
)

// serveUI starts the live view (lineaged run --ui ADDR). The token that
// every request needs is written to ui.token_file (STATE_DIR/ui.token by
// default), mode 0600, and removed at exit. The tree is g's: its
// snapshots, and the exited processes it evicts.
func serveUI(c *config.Config, latest *atomic.Pointer[agent.Counters], g *graph.Graph, log zerolog.Logger, logf func(string, ...any)) (*ui.Server, error) {
	if !c.UI.AllowRemote && !config.IsLoopback(c.UI.Listen) {
		return nil, fmt.Errorf("%s is not a loopback address (set ui.allow_remote: true to serve other hosts)", c.UI.Listen)
	}
	tokenFile := c.UI.TokenFile
	if tokenFile == "" {
		tokenFile = filepath.Join(c.StateDir, "ui.token")
	}
	srv := ui.New(ui.Config{
		Addr: c.UI.Listen, AllowRemote: c.UI.AllowRemote, TokenFile: tokenFile, Host: c.Host, Log: log,
		Health: func() []ui.Health { return uiHealth(latest.Load()) }, Processes: g.Snapshot,
	})
	g.OnEvict(srv.Evicted)
	if err := srv.Start(); err != nil {
		return nil, err
	}
	logf("live view on http://%s/ (token in %s: open http://%s/?token=TOKEN)", srv.Addr(), tokenFile, srv.Addr())
	return srv, nil
}

// uiHealth turns the agent's counters into the view's health table: per
// source its state, events written and what it lost.
func uiHealth(c *agent.Counters) []ui.Health {
	if c == nil {
		return nil
	}
	module := map[string]string{"audit": "auditd", "proc": "proc", "fanotify": "fanotify", "sock_diag": "sock_diag"}
	lost := map[string]uint64{
		"audit":    c.AuditKernelLost + c.AuditSequenceGaps + c.AuditReceiveErrs,
		"proc":     c.ProcOverruns,
		"fanotify": c.FanotifyOverflows,
		"output":   c.OutputDropped + c.OutputErrors,
	}
	var out []ui.Health
	for _, s := range c.Sources {
		h := ui.Health{Name: s.Name, State: s.State, Detail: s.Detail, Lost: lost[s.Name]}
		if m, ok := module[s.Name]; ok {
			h.Events = c.BySource[m]
		} else if s.Name == "output" {
			h.Events = c.EventsWritten
		}
		out = append(out, h)
	}
	return out
}
