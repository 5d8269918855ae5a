//go:build linux

package agent

import (
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// waker is an eventfd that other goroutines write to wake the loop blocked
// in poll(2). eventfd is 2.6.22; EFD_NONBLOCK and EFD_CLOEXEC 2.6.27.
// Close may race with Wake (a goroutine finishing its hand-over as the
// loop returns): the mutex keeps Wake from writing to a closed, perhaps
// reused, descriptor.
type waker struct {
	mu     sync.Mutex
	fd     int
	closed bool
}

func newWaker() (*waker, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("eventfd for the agent's loop: %w", err)
	}
	return &waker{fd: fd}, nil
}

// Wake makes the next (or current) poll return. Safe from any goroutine.
func (w *waker) Wake() {
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	_, _ = unix.Write(w.fd, b[:]) // EAGAIN: the counter is saturated, a wake is pending anyway
}

// Drain resets the counter.
func (w *waker) Drain() {
	var b [8]byte
	_, _ = unix.Read(w.fd, b[:])
}

func (w *waker) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	return unix.Close(w.fd)
}
