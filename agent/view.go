package agent

import (
	"fmt"
	"path/filepath"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/graph"
	"github.com/lineaged/lineaged/ui"
)

// serveView starts the live view (lineaged run --ui ADDR) over the live
// graph: it draws the graph's snapshots and keeps the exited processes
// the graph evicts for a while (the live graph forgets an exit after
// 10 s, too soon for a person to see it). The token that every request
// needs is written to ui.token_file (STATE_DIR/ui.token by default), mode
// 0600, and removed when the server closes.
func serveView(c *config.Config, g *graph.Graph, latest *atomic.Pointer[Counters], log zerolog.Logger) (*ui.Server, error) {
	if !c.UI.AllowRemote && !config.IsLoopback(c.UI.Listen) {
		return nil, fmt.Errorf("ui: %s is not a loopback address (set ui.allow_remote: true to serve other hosts)", c.UI.Listen)
	}
	tokenFile := c.UI.TokenFile
	if tokenFile == "" {
		tokenFile = filepath.Join(c.StateDir, "ui.token")
	}
	srv := ui.New(ui.Config{
		Addr: c.UI.Listen, AllowRemote: c.UI.AllowRemote, TokenFile: tokenFile, Host: c.Host,
		Log:       log.With().Str("service", "ui").Logger(),
		Processes: g.Snapshot,
		Health: func() []ui.Health {
			if c := latest.Load(); c != nil {
				return c.Sources
			}
			return nil
		},
	})
	g.OnEvict(srv.Evicted)
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	log.Info().Msgf("live view on http://%s/ (token in %s: open http://%s/?token=TOKEN)", srv.Addr(), tokenFile, srv.Addr())
	return srv, nil
}
