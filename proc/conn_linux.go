//go:build linux

package proc

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/lineaged/lineaged/feature"
	"github.com/lineaged/lineaged/internal/nlsock"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// probeTimeout bounds Probe's wait for the kernel's acknowledgement, which
// normally arrives within microseconds of the LISTEN.
const probeTimeout = 2 * time.Second

// Dial opens a NETLINK_CONNECTOR socket, joins the proc connector's
// multicast group, enlarges its receive buffer and sends
// PROC_CN_MCAST_LISTEN. It does not wait for the kernel's acknowledgement:
// a refusal (EPERM) surfaces from Receive, and Probe waits for it.
//
// Errors: one wrapping feature.ErrNotSupported when the kernel has no
// connector (EPROTONOSUPPORT: CONFIG_CONNECTOR off) or the profile turns
// it off; one wrapping EPERM (os.ErrPermission) when the caller may not
// join the group (before 6.6 it needs CAP_NET_ADMIN: the connector did not
// let unprivileged sockets receive multicast).
func Dial(cfg *Config) (*Conn, error) {
	if err := feature.Disabled(feature.ProcConnector); err != nil {
		return nil, err
	}
	size := DefaultReadBuffer
	if cfg != nil && cfg.ReadBuffer > 0 {
		size = cfg.ReadBuffer
	}

	// Groups is a bitmask: bit CN_IDX_PROC-1. Joining at bind time works
	// back to 2.6.14, where NETLINK_ADD_MEMBERSHIP would too, but this is
	// what every proc connector client has done since. The socket is an
	// nlsock.Sock, out of the runtime poller (see that package);
	// mdlayher/netlink's Conn builds and sends the requests over it.
	s, err := nlsock.Open(unix.NETLINK_CONNECTOR, 1<<(cnIdxProc-1))
	if err != nil {
		switch {
		case errors.Is(err, unix.EPROTONOSUPPORT):
			// socket(2): nobody registered NETLINK_CONNECTOR.
			return nil, feature.NotSupported(feature.ProcConnector, fmt.Errorf("kernel without CONFIG_CONNECTOR: %w", err))
		case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
			// bind(2): before 6.6 multicast receive needs CAP_NET_ADMIN
			// on this family (no NL_CFG_F_NONROOT_RECV).
			return nil, &OpError{Op: "dial", Err: fmt.Errorf("joining the proc connector group needs root (CAP_NET_ADMIN): %w", err)}
		}
		return nil, &OpError{Op: "dial", Err: err}
	}
	nc := netlink.NewConn(&sockAdapter{s: s}, s.Port())
	c := newConn(nc)
	c.s = s
	c.readBuffer, _ = s.SetReadBuffer(size)
	if err := c.listen(); err != nil {
		_ = nc.Close()
		return nil, err
	}
	return c, nil
}

// Probe reports the proc connector's features: ProcConnector by dialing and
// waiting (up to two seconds) for the kernel to acknowledge the
// subscription, ProcEventComm and ProcEventCoredump from the legacy
// profile alone, since no errno tells whether a kernel sends them (see
// Conn.Seen). It needs the privileges Dial needs; it reads and discards
// the events that arrive meanwhile.
func Probe() []feature.Capability {
	return []feature.Capability{
		probeConnector(),
		eventCapability(feature.ProcEventComm),
		eventCapability(feature.ProcEventCoredump),
	}
}

func probeConnector() feature.Capability {
	capa := feature.Capability{Feature: feature.ProcConnector}
	c, err := Dial(nil)
	if err != nil {
		capa.Reason = err.Error()
		return capa
	}
	defer c.Close()
	if err := c.SetReadDeadline(time.Now().Add(probeTimeout)); err != nil {
		capa.Reason = err.Error()
		return capa
	}
	for !c.acked.Load() {
		if _, err := c.receive(); err != nil {
			switch {
			case errors.Is(err, ErrOverrun):
				continue // a storm on the way to our ack: keep reading
			case errors.Is(err, os.ErrDeadlineExceeded):
				// No answer at all: the kernel silently drops a LISTEN
				// from outside the initial user and pid namespaces (a
				// container), and has no one to answer without
				// CONFIG_PROC_EVENTS.
				capa.Reason = "no acknowledgement of PROC_CN_MCAST_LISTEN within " + probeTimeout.String() +
					": kernel without CONFIG_PROC_EVENTS, or not in the initial user and pid namespaces"
			default:
				capa.Reason = err.Error()
			}
			return capa
		}
	}
	capa.Available = true
	return capa
}
