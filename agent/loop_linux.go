//go:build linux

package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/lineaged/lineaged/event"
)

// The loop waits in poll(2) on the polled sources (audit, the proc
// connector) and a wake-up eventfd, sleeps the batch window once
// something is readable so that one read takes a batch, then reads the
// connector, drains audit and hands the connector's events over. One
// wake-up per window instead of one per record (and goroutine hand-offs
// per batch) was most of the agent's CPU under an exec storm. The sources
// that block (fanotify, sock_diag), rarer, run in goroutines that hand
// over through the workers' channel and the eventfd; so do ctx's end and
// reloads.

// loop runs until ctx ends, then writes what is held and returns.
func (a *liveAgent) loop(ctx context.Context) error {
	wake := a.workers.wake
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			wake.Wake()
		case <-done:
		}
	}()
	reloads := a.forwardReloads(done)
	pfds, auditIdx, procIdx := a.pollSet()
	nextMaintain := time.Now().Add(maintainEvery)
	for {
		timeout := a.timeout(nextMaintain)
		for i := range pfds {
			pfds[i].Revents = 0
		}
		n, err := unix.Poll(pfds, timeout)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("poll on the audit and proc connector sockets: %w", err)
		}
		auditReady, procReady := readable(pfds, auditIdx), readable(pfds, procIdx)
		if w := a.set.batchWindow(a.merge.auditExecs); n > 0 && w > 0 && (auditReady || procReady) {
			time.Sleep(w) // let a batch gather
		}
		a.readPolled(auditReady, procReady)
		if pfds[0].Revents != 0 {
			wake.Drain()
		}
		a.handOver(reloads)
		now := time.Now()
		if ctx.Err() != nil {
			return a.shutdown()
		}
		if !now.Before(nextMaintain) {
			a.maintain(now)
			nextMaintain = now.Add(maintainEvery)
		}
		a.merge.release(false)
		a.flush(now)
	}
}

// pollSet is the descriptors the loop polls: the wake-up eventfd first,
// then audit and the connector (index -1: not polled).
func (a *liveAgent) pollSet() (pfds []unix.PollFd, auditIdx, procIdx int) {
	pfds = []unix.PollFd{{Fd: int32(a.workers.wake.fd), Events: unix.POLLIN}}
	auditIdx, procIdx = -1, -1
	if fd := a.audit.FD(); fd >= 0 {
		auditIdx = len(pfds)
		pfds = append(pfds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	}
	if a.proc != nil {
		if fd := a.proc.FD(); fd >= 0 {
			procIdx = len(pfds)
			pfds = append(pfds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		}
	}
	return pfds, auditIdx, procIdx
}

// timeout is how long poll may sleep: until the next housekeeping, the
// output flush (only while lines are buffered), or a held exec's merge
// window, whichever is first.
func (a *liveAgent) timeout(nextMaintain time.Time) int {
	now := time.Now()
	deadline := nextMaintain
	if a.unflushed && a.flushDue.Before(deadline) {
		deadline = a.flushDue
	}
	if due := a.merge.due(); !due.IsZero() && due.Before(deadline) {
		deadline = due
	}
	return max(int(deadline.Sub(now)/time.Millisecond), 0)
}

// readable reports whether pfds[i] (i < 0: none) has something to read,
// or an error to collect.
func readable(pfds []unix.PollFd, i int) bool { return i >= 0 && pfds[i].Revents != 0 }

// readPolled reads the ready polled sources: the connector's batch is
// read first but handed over after audit's, whose execs carry the
// arguments its exits then show; its exits tell which processes are gone
// already, whose namespace need not be looked up in /proc.
func (a *liveAgent) readPolled(auditReady, procReady bool) {
	if procReady {
		a.proc.Prefetch()
	}
	if auditReady {
		a.logErr("audit", a.audit.ReadBatch(a.merge.audit))
	}
	if procReady {
		a.logErr("proc", a.proc.ReadBatch(a.merge.proc))
	}
}

// handOver takes what the goroutine sources and the reloads delivered.
func (a *liveAgent) handOver(reloads <-chan Reload) {
	for {
		select {
		case rl := <-reloads:
			err := a.reload(rl)
			if rl.Result != nil {
				rl.Result <- err
			}
		case b := <-a.workers.batches:
			for i := range b {
				a.p.Handle(&b[i])
			}
		default:
			return
		}
	}
}

// maintain is the loop's housekeeping, every maintainEvery.
func (a *liveAgent) maintain(now time.Time) {
	a.audit.Tick(now, a.merge.audit)
	a.checkDropped(now)
	a.p.Tick(now.UnixMilli())
	if hb := a.set.Config.HeartbeatEvery; hb > 0 && now.Sub(a.lastBeat) >= hb {
		a.heartbeat(now)
	}
	a.publish(now)
}

// flush writes the buffered lines out once flush_every has passed since
// the first of them.
func (a *liveAgent) flush(now time.Time) {
	if a.p.TakeDirty() && !a.unflushed {
		a.unflushed = true
		a.flushDue = now.Add(a.set.Config.Output.FlushEvery)
	}
	if a.unflushed && !now.Before(a.flushDue) {
		a.unflushed = false
		if err := a.out.sink.Flush(); err != nil {
			a.log.Error().Err(err).Msg("output")
		}
	}
}

// shutdown writes what is held (audit events in flight, connector execs
// waiting, detection's open windows) and the stopped event, then flushes.
func (a *liveAgent) shutdown() error {
	a.audit.Flush(a.merge.audit)
	a.merge.release(true)
	a.p.Flush()
	st := a.p.Stats()
	a.self(event.ActionStopped, fmt.Sprintf("lineaged stopping: %d events written, %d execs merged from audit and the proc connector, %d audit receive errors, %d proc overruns",
		st.Written, a.merge.merged, a.audit.Stats().ReceiveErrs, a.procStats().Overruns))
	return errors.Join(a.p.Err(), a.out.sink.Flush())
}

// logErr counts and logs a polled source's read error (logReadError).
func (a *liveAgent) logErr(source string, err error) {
	if err == nil {
		return
	}
	a.workers.errs[source]++
	logReadError(a.log, source, a.workers.errs[source], err)
}

// forwardReloads hands the reloads to the loop through the eventfd.
func (a *liveAgent) forwardReloads(done <-chan struct{}) <-chan Reload {
	out := make(chan Reload, 1)
	if a.opt.Reloads == nil {
		return out
	}
	go func() {
		for {
			select {
			case rl := <-a.opt.Reloads:
				select {
				case out <- rl:
					a.workers.wake.Wake()
				case <-done:
					return
				}
			case <-done:
				return
			}
		}
	}()
	return out
}

// workers run the sources whose ReadBatch blocks, one goroutine each,
// handing their events to the loop as batches.
type workers struct {
	wake    *waker
	batches chan []event.Event
	done    chan struct{}
	wg      sync.WaitGroup
	errs    map[string]uint64 // read errors of the polled sources (the loop's)
}

func newWorkers() (*workers, error) {
	w, err := newWaker()
	if err != nil {
		return nil, err
	}
	return &workers{wake: w, batches: make(chan []event.Event, 256), done: make(chan struct{}), errs: map[string]uint64{}}, nil
}

// start reads src until it is closed.
func (w *workers) start(src event.Source, log zerolog.Logger) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		var errs uint64
		for {
			var batch []event.Event
			err := src.ReadBatch(func(e *event.Event) { batch = append(batch, *e.Clone()) })
			if len(batch) > 0 {
				select {
				case w.batches <- batch:
					w.wake.Wake()
				case <-w.done:
					return
				}
			}
			if errors.Is(err, event.ErrClosed) {
				return
			}
			if err != nil {
				errs++
				logReadError(log, src.Name(), errs, err)
			}
		}
	}()
}

// stop ends the goroutines (their sources must be closed first, for a
// blocked read to return) and closes the eventfd.
func (w *workers) stop() {
	close(w.done)
	w.wg.Wait()
	w.wake.Close()
}

// logReadError logs the nth read error of a source: the first ten, then
// every thousandth (a failing source must not flood the log).
func logReadError(log zerolog.Logger, source string, n uint64, err error) {
	if n <= 10 || n%1000 == 0 {
		log.Warn().Err(err).Str("source", source).Uint64("errors", n).Msg("reading a source")
	}
}
