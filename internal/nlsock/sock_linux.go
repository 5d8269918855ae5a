//go:build linux

package nlsock

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// ErrClosed is returned by operations on a closed Sock, and by a wait that
// Close interrupted. It wraps os.ErrClosed and net.ErrClosed's meaning.
var ErrClosed = fmt.Errorf("netlink socket closed: %w", os.ErrClosed)

// Sock is a netlink socket. Reads and writes may run concurrently with
// each other and with Close.
type Sock struct {
	fd, efd int
	port    uint32
	mu      sync.RWMutex // held for reading by every use of fd; Close takes it for writing
	closed  atomic.Bool
	rdl     atomic.Int64 // read deadline, UnixNano; 0: none
	wdl     atomic.Int64
}

// Open makes a netlink socket of proto bound to the multicast groups
// bitmask (0: none).
func Open(proto int, groups uint32) (*Sock, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, proto)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("getsockname", err)
	}
	nl, ok := sa.(*unix.SockaddrNetlink)
	if !ok {
		unix.Close(fd)
		return nil, fmt.Errorf("getsockname: unexpected address %T", sa)
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	return &Sock{fd: fd, efd: efd, port: nl.Pid}, nil
}

// Port is the socket's netlink port id (its "pid").
func (s *Sock) Port() uint32 { return s.port }

// FD is the descriptor, for poll(2) readiness checks only; valid until
// Close.
func (s *Sock) FD() int { return s.fd }

// SetReadDeadline bounds the waits of later blocking reads (zero: none).
func (s *Sock) SetReadDeadline(t time.Time) { s.rdl.Store(unixNano(t)) }

// SetWriteDeadline bounds the waits of later blocking writes.
func (s *Sock) SetWriteDeadline(t time.Time) { s.wdl.Store(unixNano(t)) }

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// wait blocks until fd has events (POLLIN or POLLOUT), the deadline
// passes (os.ErrDeadlineExceeded) or Close runs (ErrClosed). Called with
// s.mu held for reading.
func (s *Sock) wait(events int16, deadline int64) error {
	pfds := []unix.PollFd{{Fd: int32(s.fd), Events: events}, {Fd: int32(s.efd), Events: unix.POLLIN}}
	for {
		timeout := -1
		if deadline != 0 {
			left := time.Until(time.Unix(0, deadline))
			if left <= 0 {
				return os.ErrDeadlineExceeded
			}
			timeout = int((left + time.Millisecond - 1) / time.Millisecond)
		}
		_, err := unix.Poll(pfds, timeout)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return os.NewSyscallError("poll", err)
		}
		if s.closed.Load() || pfds[1].Revents != 0 {
			return ErrClosed
		}
		if pfds[0].Revents != 0 {
			return nil
		}
	}
}

// Recvfrom reads one datagram into buf. With wait it blocks until one
// comes (the read deadline and Close end the wait); without, it returns
// unix.EAGAIN when nothing is queued. port is the sender's (0: the
// kernel).
func (s *Sock) Recvfrom(buf []byte, wait bool) (n int, port uint32, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for {
		if s.closed.Load() {
			return 0, 0, ErrClosed
		}
		var from unix.Sockaddr
		n, from, err = unix.Recvfrom(s.fd, buf, unix.MSG_DONTWAIT)
		if err == nil {
			port = ^uint32(0)
			if nl, ok := from.(*unix.SockaddrNetlink); ok {
				port = nl.Pid
			}
			return n, port, nil
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if !errors.Is(err, unix.EAGAIN) || !wait {
			return 0, 0, err
		}
		if err := s.wait(unix.POLLIN, s.rdl.Load()); err != nil {
			return 0, 0, err
		}
	}
}

// RecvBatch reads up to b.Cap() queued datagrams with one recvmmsg(2),
// waiting for the first when wait is set. Nothing queued and no wait: 0,
// nil. An error the socket holds (netlink's ENOBUFS after an overrun) is
// returned when it is the first thing to read; after some datagrams the
// kernel keeps it for the next call.
func (s *Sock) RecvBatch(b *Batch, wait bool) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for {
		if s.closed.Load() {
			return 0, ErrClosed
		}
		n, err := b.recv(s.fd)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, unix.EAGAIN) {
			return 0, err
		}
		if !wait {
			return 0, nil
		}
		if err := s.wait(unix.POLLIN, s.rdl.Load()); err != nil {
			return 0, err
		}
	}
}

// Send writes one datagram to the kernel, waiting for buffer room unless
// noWait.
func (s *Sock) Send(b []byte, noWait bool) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for {
		if s.closed.Load() {
			return ErrClosed
		}
		err := unix.Sendto(s.fd, b, unix.MSG_DONTWAIT, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		if err == nil {
			return nil
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if !errors.Is(err, unix.EAGAIN) || noWait {
			return err
		}
		if err := s.wait(unix.POLLOUT, s.wdl.Load()); err != nil {
			return err
		}
	}
}

// Control runs f with the descriptor, under the lock Close waits for.
func (s *Sock) Control(f func(fd int)) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return ErrClosed
	}
	f(s.fd)
	return nil
}

// SetReadBuffer asks for size bytes of receive buffer, with
// SO_RCVBUFFORCE when the caller has CAP_NET_ADMIN (else SO_RCVBUF, capped
// at net.core.rmem_max), and returns what the kernel granted.
func (s *Sock) SetReadBuffer(size int) (int, error) {
	granted := 0
	var gerr error
	err := s.Control(func(fd int) {
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size) != nil {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, size); err != nil {
				gerr = os.NewSyscallError("setsockopt(SO_RCVBUF)", err)
				return
			}
		}
		granted, gerr = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	})
	if err != nil {
		return 0, err
	}
	return granted, gerr
}

// Close wakes every waiter and closes the socket. Idempotent.
func (s *Sock) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(s.efd, one[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(unix.Close(s.fd), unix.Close(s.efd))
}
