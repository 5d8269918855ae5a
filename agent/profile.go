package agent

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/internal/atomicfile"
)

// StartProfiles writes a Go CPU profile to cpu for as long as the run
// lasts, and replaces mem with a heap profile every period until ctx ends
// (the last one shows what the agent held under load, which a profile
// taken at exit, the graph already dropped, would not). Either may be "".
// stop ends the CPU profile.
func StartProfiles(ctx context.Context, cpu, mem string, period time.Duration, log zerolog.Logger) (stop func(), err error) {
	stop = func() {}
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return stop, fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return stop, fmt.Errorf("cpu profile: %w", err)
		}
		stop = func() { pprof.StopCPUProfile(); f.Close() }
	}
	if mem != "" {
		go func() {
			t := time.NewTicker(period)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				if err := atomicfile.Write(mem, 0o600, pprof.WriteHeapProfile); err != nil {
					log.Error().Err(err).Msg("heap profile")
					return
				}
			}
		}()
	}
	return stop, nil
}

// WriteHeapProfile writes one heap profile to path (at the end of a replay).
func WriteHeapProfile(path string) error {
	return atomicfile.Write(path, 0o600, pprof.WriteHeapProfile)
}
