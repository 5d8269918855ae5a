package agent

import "github.com/lineaged/lineaged/event"

// connSeen keeps one connect from being written twice: audit reports a
// connect(2) as it returns, and the next sock_diag snapshot finds the
// same connection established (socket-connected, egress). The snapshot's
// line repeats what audit's already said, with less (no syscall, no
// keys), so it is dropped when audit's came first for the same process,
// destination address and port within connWindow (SPEC §5: one fact, one
// event). A snapshot that finds a connection audit did not report (audit
// off, rules without connect, a connect older than lineaged) is written.
type connSeen struct {
	seen map[connKey]int64 // audit's connect time, Unix ms
}

type connKey struct {
	host string
	pid  int
	ip   string
	port int
}

const (
	// connWindow is how long after audit's connect a snapshot's report
	// of it counts as the same fact: several snapshot periods (10 s by
	// default), and the snapshot runs early on a connect (Trigger).
	connWindow = 120_000
	// connMax bounds the memory: past it, entries older than
	// connWindow go, and if none are, all (a repeat may then be
	// written, never an event lost).
	connMax = 8192
)

// repeat records audit's connects and reports a sock_diag connection
// that repeats one.
func (c *connSeen) repeat(e *event.Event) bool {
	d := e.Dest
	if e.Category != event.CategoryNetwork || d == nil || d.IP == "" || d.Port == 0 || e.Process.PID <= 0 {
		return false
	}
	k := connKey{host: e.Host, pid: e.Process.PID, ip: d.IP, port: d.Port}
	switch {
	case e.Module == event.ModuleAudit && e.Action == event.ActionConnectedTo && e.Outcome != event.OutcomeFailure:
		if c.seen == nil {
			c.seen = map[connKey]int64{}
		}
		if len(c.seen) >= connMax {
			c.prune(e.TimeMsec)
		}
		c.seen[k] = e.TimeMsec
	case e.Module == event.ModuleSockDiag && e.Action == event.ActionSocketConnected:
		if t, ok := c.seen[k]; ok && e.TimeMsec-t <= connWindow && e.TimeMsec >= t-connWindow {
			delete(c.seen, k)
			return true
		}
	}
	return false
}

func (c *connSeen) prune(now int64) {
	for k, t := range c.seen {
		if now-t > connWindow {
			delete(c.seen, k)
		}
	}
	if len(c.seen) >= connMax {
		clear(c.seen)
	}
}
