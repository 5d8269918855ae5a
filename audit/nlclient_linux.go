//go:build linux

package audit

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"unsafe"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/lineaged/lineaged/internal/nlsock"
	"golang.org/x/sys/unix"
)

// nlClient is a NETLINK_AUDIT socket that go-libaudit's AuditClient drives
// for requests (it implements libaudit.NetlinkSendReceiver) and that Live
// reads records from in batches. go-libaudit's own NetlinkClient hides its
// descriptor and parks a thread in a blocking recvfrom(2) per record; this
// one is an nlsock.Sock: out of the runtime poller, Close wakes a waiting
// reader, and ReadBatch takes everything queued with one recvmmsg(2).
type nlClient struct {
	s   *nlsock.Sock
	seq atomic.Uint32
	buf []byte // Receive's buffer (requests' replies)
}

// auditBufSize holds the largest record the kernel sends
// (MAX_AUDIT_MESSAGE_LENGTH 8970) with its netlink header.
const auditBufSize = syscall.NLMSG_HDRLEN + libaudit.AuditMessageMaxLength

// newAuditClient opens a NETLINK_AUDIT socket bound to groups (0, or
// AUDIT_NLGRP_READLOG for multicast; kernel 3.16+) and wraps it in
// go-libaudit's request logic.
func newAuditClient(groups uint32) (*libaudit.AuditClient, *nlClient, error) {
	s, err := nlsock.Open(unix.NETLINK_AUDIT, groups)
	if err != nil {
		switch {
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.EPROTONOSUPPORT), errors.Is(err, unix.EAFNOSUPPORT):
			return nil, nil, fmt.Errorf("audit not supported by kernel: NETLINK_AUDIT: %w", err)
		}
		return nil, nil, fmt.Errorf("NETLINK_AUDIT (groups %#x): %w", groups, err)
	}
	nl := &nlClient{s: s, buf: make([]byte, auditBufSize)}
	return &libaudit.AuditClient{Netlink: nl}, nl, nil
}

func (c *nlClient) Send(msg syscall.NetlinkMessage) (uint32, error) { return c.send(msg, false) }

func (c *nlClient) SendNoWait(msg syscall.NetlinkMessage) (uint32, error) {
	return c.send(msg, true)
}

func (c *nlClient) send(msg syscall.NetlinkMessage, noWait bool) (uint32, error) {
	if msg.Header.Pid == 0 {
		msg.Header.Pid = c.s.Port()
	}
	msg.Header.Seq = c.seq.Add(1)
	msg.Header.Len = uint32(syscall.SizeofNlMsghdr + len(msg.Data))
	b := make([]byte, msg.Header.Len)
	*(*syscall.NlMsghdr)(unsafe.Pointer(&b[0])) = msg.Header
	copy(b[syscall.SizeofNlMsghdr:], msg.Data)
	return msg.Header.Seq, c.s.Send(b, noWait)
}

// Receive reads one datagram; blocking unless nonBlocking (then EAGAIN
// when nothing is queued). Datagrams not from the kernel are refused.
func (c *nlClient) Receive(nonBlocking bool, p libaudit.NetlinkParser) ([]syscall.NetlinkMessage, error) {
	n, port, err := c.s.Recvfrom(c.buf, !nonBlocking)
	if err != nil {
		return nil, err
	}
	if n < syscall.NLMSG_HDRLEN {
		return nil, fmt.Errorf("netlink audit: %d bytes received, too few for a netlink header", n)
	}
	if port != 0 {
		return nil, errors.New("netlink audit: message not from the kernel, refused")
	}
	return p(c.buf[:n])
}

func (c *nlClient) Close() error { return c.s.Close() }

// readBufferSize is the receive buffer asked for: the live agent reads in
// batches every few milliseconds, and in multicast mode a full buffer
// loses records (netlink_broadcast drops; own mode's unicast holds them in
// the kernel's backlog instead). 8 MiB holds several seconds of a busy
// host's records.
const readBufferSize = 8 << 20

// setReadBuffer asks for size bytes and returns what the kernel granted.
func setReadBuffer(c *nlClient, size int) int {
	n, _ := c.s.SetReadBuffer(size)
	return n
}
