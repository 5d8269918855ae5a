package agent

import (
	"io"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/config"
)

// Options are what `lineaged run` passes besides the settings.
type Options struct {
	// Version is lineaged's version, written as agent.version.
	Version string
	// Log receives the agent's decisions and trouble.
	Log zerolog.Logger
	// Stdout takes the events when output.file is "-".
	Stdout io.Writer
	// IDPrefix starts every event.id (a run id).
	IDPrefix string
	// Reloads delivers new configurations (SIGHUP).
	Reloads <-chan Reload
}

// Reload is a new configuration for a running agent, as loaded from
// Source (Err set when it could not be: the agent keeps the one in force,
// reopens its output and reports it). What only a restart can change
// keeps its running value (KeepRestartOnly).
type Reload struct {
	Config *config.Config
	Source string
	Err    error
	// Result receives the outcome once (nil: everything applied).
	Result chan<- error
}
