package netlink

import (
	"fmt"
	"sync"
	"time"

	mnl "github.com/mdlayher/netlink"
)

// netlinkSockDiag is NETLINK_SOCK_DIAG (linux/netlink.h), the netlink
// protocol number 4 that kernels before 3.3 called NETLINK_INET_DIAG.
const netlinkSockDiag = 4

// DefaultTimeout bounds one dump, from the request to the last reply. A
// dump of tens of thousands of sockets takes milliseconds; the bound only
// matters if the kernel side stalls.
const DefaultTimeout = 5 * time.Second

// A Conn is a NETLINK_SOCK_DIAG socket. A netlink socket answers for the
// network namespace it was created in (sock_net() of the socket), wherever
// the thread that uses it is later: dial once inside a namespace, dump
// from anywhere.
//
// A Conn serialises its dumps (mdlayher/netlink's Execute holds a lock).
// After a dump fails other than by an error reply (a timeout mid-dump, a
// malformed message), replies of that dump may still be queued: close the
// Conn rather than reuse it.
type Conn struct {
	c         *mnl.Conn
	timeout   time.Duration
	deadlines bool   // false for test sockets (nltest), which have none
	netns     uint64 // namespace inode for error messages, 0 if unknown

	closeOnce sync.Once
	closeErr  error
}

// Dial opens a NETLINK_SOCK_DIAG socket in the network namespace of the
// calling thread. Dumps need no privilege; the kernel shows every socket
// of the namespace to any user (ss(8) runs unprivileged).
//
// EPROTONOSUPPORT means the kernel has no sock_diag at all (built without
// CONFIG_INET_DIAG and CONFIG_UNIX_DIAG, so netlink protocol 4 is not
// registered and could not be module-loaded).
func Dial() (*Conn, error) {
	c, err := mnl.Dial(netlinkSockDiag, nil)
	if err != nil {
		return nil, &OpError{Op: "dial", Err: err}
	}
	return newConn(c, true), nil
}

func newConn(c *mnl.Conn, deadlines bool) *Conn {
	return &Conn{c: c, timeout: DefaultTimeout, deadlines: deadlines}
}

// SetTimeout sets the bound of each later dump (DefaultTimeout until set;
// d <= 0 restores it).
func (c *Conn) SetTimeout(d time.Duration) {
	if d <= 0 {
		d = DefaultTimeout
	}
	c.timeout = d
}

// Close closes the socket. It is idempotent: later calls return the first
// call's result.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.c.Close() })
	return c.closeErr
}

// DumpInet dumps the inet sockets req selects (one family, one protocol)
// with SOCK_DIAG_BY_FAMILY (3.3+). Error replies arrive as unix.Errno in
// an *OpError: EINVAL when the kernel predates SOCK_DIAG_BY_FAMILY,
// ENOENT when no handler serves the protocol (udp_diag not available).
func (c *Conn) DumpInet(req InetDiagReqV2) ([]InetDiagMsg, error) {
	b, _ := req.MarshalBinary()
	op := "dump " + tableName(req.Family, req.Protocol)
	msgs, err := c.dump(op, sockDiagByFamily, b)
	if err != nil {
		return nil, err
	}
	return c.decodeInet(op, sockDiagByFamily, msgs)
}

// dumpInetCompat dumps TCP sockets of both families with the pre-3.3
// TCPDIAG_GETSOCK request. EOPNOTSUPP means inet_diag is not loaded
// (sock_diag's compat hook is empty).
func (c *Conn) dumpInetCompat(req InetDiagReq) ([]InetDiagMsg, error) {
	b, _ := req.MarshalBinary()
	const op = "dump tcp (TCPDIAG_GETSOCK)"
	msgs, err := c.dump(op, tcpdiagGetsock, b)
	if err != nil {
		return nil, err
	}
	return c.decodeInet(op, tcpdiagGetsock, msgs)
}

// DumpUnix dumps the AF_UNIX sockets req selects with SOCK_DIAG_BY_FAMILY
// (3.3+). ENOENT means unix_diag is not available (CONFIG_UNIX_DIAG off,
// or the module could not be loaded); EINVAL, a kernel before 3.3.
func (c *Conn) DumpUnix(req UnixDiagReq) ([]UnixDiagMsg, error) {
	b, _ := req.MarshalBinary()
	const op = "dump unix"
	msgs, err := c.dump(op, sockDiagByFamily, b)
	if err != nil {
		return nil, err
	}
	out := make([]UnixDiagMsg, len(msgs))
	for i, m := range msgs {
		if m.Header.Type != sockDiagByFamily {
			return nil, c.opError(op, fmt.Errorf("reply %d has netlink type %d, want %d", i, m.Header.Type, sockDiagByFamily))
		}
		if err := out[i].UnmarshalBinary(m.Data); err != nil {
			return nil, c.opError(op, fmt.Errorf("reply %d: %w", i, err))
		}
	}
	return out, nil
}

// dump sends one NLM_F_DUMP request and gathers the multi-part reply
// (mdlayher/netlink stops at NLMSG_DONE and turns an errno carried in
// NLMSG_ERROR or in NLMSG_DONE into an error: the kernel reports a missing
// handler found inside the dump callback in the DONE message).
func (c *Conn) dump(op string, typ mnl.HeaderType, data []byte) ([]mnl.Message, error) {
	if c.deadlines {
		if err := c.c.SetDeadline(time.Now().Add(c.timeout)); err != nil {
			return nil, c.opError(op, err)
		}
	}
	msgs, err := c.c.Execute(mnl.Message{
		Header: mnl.Header{Type: typ, Flags: mnl.Request | mnl.Dump},
		Data:   data,
	})
	if err != nil {
		return nil, c.opError(op, err)
	}
	return msgs, nil
}

// decodeInet decodes the replies of an inet dump. The kernel answers with
// the request's own type (inet_sk_diag_fill copies nlmsg_type), so any
// other type is a protocol violation, reported rather than skipped.
func (c *Conn) decodeInet(op string, typ mnl.HeaderType, msgs []mnl.Message) ([]InetDiagMsg, error) {
	out := make([]InetDiagMsg, len(msgs))
	for i, m := range msgs {
		if m.Header.Type != typ {
			return nil, c.opError(op, fmt.Errorf("reply %d has netlink type %d, want %d", i, m.Header.Type, typ))
		}
		if err := out[i].UnmarshalBinary(m.Data); err != nil {
			return nil, c.opError(op, fmt.Errorf("reply %d: %w", i, err))
		}
	}
	return out, nil
}

func (c *Conn) opError(op string, err error) error {
	return &OpError{Op: op, NetNS: c.netns, Err: err}
}

// tableName names a family/protocol pair as ss(8) options do.
func tableName(family, protocol uint8) string {
	var p, f string
	switch protocol {
	case ipprotoTCP:
		p = "tcp"
	case ipprotoUDP:
		p = "udp"
	default:
		p = fmt.Sprintf("proto%d", protocol)
	}
	switch family {
	case afInet:
		f = "4"
	case afInet6:
		f = "6"
	default:
		f = fmt.Sprintf("/af%d", family)
	}
	return p + f
}
