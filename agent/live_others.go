//go:build !linux

package agent

import (
	"context"
	"errors"
)

// errUnimplemented is what the live agent answers off Linux: its sources
// are Linux kernel interfaces. Replay, the pipeline and the reports build
// and run anywhere.
var errUnimplemented = errors.New("lineaged run needs Linux (audit, the proc connector, fanotify and sock_diag are Linux kernel interfaces)")

// Run fails off Linux.
func Run(ctx context.Context, set *Settings, opt Options) error { return errUnimplemented }
