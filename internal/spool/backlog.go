package spool

import (
	"time"

	"github.com/rs/zerolog"
)

// Backlog is what an output (syslog, Kafka) holds of its lines while the
// receiver has not taken them: a memory queue in front of the spool, and
// the counts of lines spooled and dropped. Both outputs queue, spill and
// count the same way; only how they send differs. The caller holds its own
// lock around every call.
type Backlog struct {
	Mem      [][]byte // lines in memory, oldest first
	MemBytes int      // their bytes

	Spooled   uint64 // lines written to the spool
	Dropped   uint64 // lines lost: spool full, disk error, unreadable segment
	LastError string // the last error met, for the output's stats

	sp        *Spool
	log       zerolog.Logger
	logDropAt time.Time
}

// NewBacklog returns a Backlog spilling into sp and logging drops to log.
func NewBacklog(sp *Spool, log zerolog.Logger) Backlog {
	return Backlog{sp: sp, log: log}
}

// Push queues lines (size bytes in all) in memory.
func (b *Backlog) Push(lines [][]byte, size int) {
	b.Mem = append(b.Mem, lines...)
	b.MemBytes += size
}

// Spill moves the memory queue to the spool's tail; what the spool drops
// to stay in its bound is counted.
func (b *Backlog) Spill() error {
	if len(b.Mem) == 0 {
		return nil
	}
	n, dropped, err := b.sp.Append(b.Mem)
	b.Spooled += uint64(n)
	b.Drop(dropped, err, "spool full (MaxSpool): oldest lines dropped")
	b.Mem, b.MemBytes = nil, 0
	return err
}

// Flush spills the memory queue and syncs the spool: after it, every
// line pushed is on disk (or counted dropped).
func (b *Backlog) Flush() error {
	err := b.Spill()
	if serr := b.sp.Sync(); err == nil {
		err = serr
	}
	return err
}

// Drop counts n lines lost and err met, why saying how; a drop is trouble,
// logged at most every 10 s however many go.
func (b *Backlog) Drop(n int, err error, why string) {
	if err != nil {
		b.LastError = err.Error()
		why = err.Error()
	}
	if n == 0 {
		return
	}
	b.Dropped += uint64(n)
	if now := time.Now(); now.Sub(b.logDropAt) >= 10*time.Second {
		b.logDropAt = now
		b.log.Warn().Int("lines", n).Uint64("dropped_total", b.Dropped).Str("reason", why).Msg("lines dropped")
	}
}
