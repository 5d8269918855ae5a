//go:build linux

package audit

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/lineaged/lineaged/internal/mmsg"
	"golang.org/x/sys/unix"
)

// nlClient is a NETLINK_AUDIT socket that go-libaudit's AuditClient drives
// for requests (it implements libaudit.NetlinkSendReceiver) and that Live
// reads records from in batches. go-libaudit's own NetlinkClient hides its
// descriptor and reads one record per blocking recvfrom(2), which parks a
// thread per record; this one is non-blocking under the Go runtime's
// poller, so Close wakes a waiting reader and ReadBatch takes everything
// queued with one recvmmsg(2).
type nlClient struct {
	f    *os.File
	raw  syscall.RawConn
	port uint32
	seq  atomic.Uint32
	buf  []byte // Receive's buffer (requests and replies)
}

// auditBufSize holds the largest record the kernel sends
// (MAX_AUDIT_MESSAGE_LENGTH 8970) with its netlink header.
const auditBufSize = syscall.NLMSG_HDRLEN + libaudit.AuditMessageMaxLength

// newNLClient opens a NETLINK_AUDIT socket bound to groups (0, or
// AUDIT_NLGRP_READLOG for multicast; kernel 3.16+).
func newNLClient(groups uint32) (*nlClient, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_AUDIT)
	if err != nil {
		switch {
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.EPROTONOSUPPORT), errors.Is(err, unix.EAFNOSUPPORT):
			return nil, fmt.Errorf("audit not supported by kernel: socket(NETLINK_AUDIT): %w", err)
		}
		return nil, fmt.Errorf("socket(NETLINK_AUDIT): %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groups}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind(NETLINK_AUDIT, groups %#x): %w", groups, err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("getsockname(NETLINK_AUDIT): %w", err)
	}
	nl, ok := sa.(*unix.SockaddrNetlink)
	if !ok {
		unix.Close(fd)
		return nil, fmt.Errorf("getsockname(NETLINK_AUDIT): unexpected address %T", sa)
	}
	f := os.NewFile(uintptr(fd), "netlink-audit")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &nlClient{f: f, raw: raw, port: nl.Pid, buf: make([]byte, auditBufSize)}, nil
}

// newAuditClient wraps an nlClient in go-libaudit's request logic.
func newAuditClient(groups uint32) (*libaudit.AuditClient, *nlClient, error) {
	nl, err := newNLClient(groups)
	if err != nil {
		return nil, nil, err
	}
	return &libaudit.AuditClient{Netlink: nl}, nl, nil
}

func (c *nlClient) Send(msg syscall.NetlinkMessage) (uint32, error) { return c.send(msg, 0) }

func (c *nlClient) SendNoWait(msg syscall.NetlinkMessage) (uint32, error) {
	return c.send(msg, unix.MSG_DONTWAIT)
}

func (c *nlClient) send(msg syscall.NetlinkMessage, flags int) (uint32, error) {
	if msg.Header.Pid == 0 {
		msg.Header.Pid = c.port
	}
	msg.Header.Seq = c.seq.Add(1)
	msg.Header.Len = uint32(syscall.SizeofNlMsghdr + len(msg.Data))
	b := make([]byte, msg.Header.Len)
	*(*syscall.NlMsghdr)(unsafe.Pointer(&b[0])) = msg.Header
	copy(b[syscall.SizeofNlMsghdr:], msg.Data)
	var serr error
	err := c.raw.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), b, flags|unix.MSG_DONTWAIT, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		// A full socket buffer: wait for room unless asked not to.
		return !(errors.Is(serr, unix.EAGAIN) && flags&unix.MSG_DONTWAIT == 0)
	})
	if err != nil {
		return 0, err
	}
	return msg.Header.Seq, serr
}

// Receive reads one datagram; blocking unless nonBlocking (then EAGAIN
// when nothing is queued). Datagrams not from the kernel are refused.
func (c *nlClient) Receive(nonBlocking bool, p libaudit.NetlinkParser) ([]syscall.NetlinkMessage, error) {
	var n int
	var from unix.Sockaddr
	var rerr error
	err := c.raw.Read(func(fd uintptr) bool {
		n, from, rerr = unix.Recvfrom(int(fd), c.buf, unix.MSG_DONTWAIT)
		return nonBlocking || !errors.Is(rerr, unix.EAGAIN)
	})
	if err != nil {
		return nil, err
	}
	if rerr != nil {
		return nil, rerr
	}
	if n < syscall.NLMSG_HDRLEN {
		return nil, fmt.Errorf("netlink audit: %d bytes received, too few for a netlink header", n)
	}
	if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 {
		return nil, errors.New("netlink audit: message not from the kernel, refused")
	}
	return p(c.buf[:n])
}

// ReadBatch waits (under the runtime poller) until a datagram is queued,
// unless wait is false, and reads up to b.Cap() of them with one
// recvmmsg(2). With wait false and nothing queued it returns 0, nil.
func (c *nlClient) ReadBatch(b *mmsg.Batch, wait bool) (int, error) {
	var n int
	var rerr error
	err := c.raw.Read(func(fd uintptr) bool {
		n, rerr = b.Recv(int(fd))
		return !wait || !mmsg.IsAgain(rerr)
	})
	if err != nil {
		return 0, err
	}
	if mmsg.IsAgain(rerr) {
		return 0, nil
	}
	return n, rerr
}

func (c *nlClient) Close() error { return c.f.Close() }

// readBufferSize is the receive buffer asked for: the live agent reads in
// batches every few milliseconds, and in multicast mode a full buffer
// loses records (netlink_broadcast drops; own mode's unicast holds them in
// the kernel's backlog instead). 8 MiB holds several seconds of a busy
// host's records.
const readBufferSize = 8 << 20

// setReadBuffer asks for size bytes of receive buffer and returns what the
// kernel granted. SO_RCVBUFFORCE needs CAP_NET_ADMIN; SO_RCVBUF is capped
// at net.core.rmem_max.
func setReadBuffer(c *nlClient, size int) int {
	granted := 0
	_ = c.raw.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, size)
		}
		granted, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
	})
	return granted
}
