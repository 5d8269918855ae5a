package proc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lineaged/lineaged/feature"
	"github.com/lineaged/lineaged/internal/nlsock"
	"github.com/mdlayher/netlink"
)

// errShortNetlink: a datagram whose netlink header length does not fit.
var errShortNetlink = errors.New("proc: netlink message length exceeds the datagram")

// DefaultReadBuffer is the receive buffer Dial asks for when Config leaves
// it at 0. Each event is one 76-byte datagram but costs its skb's truesize
// (about 768 bytes) against the buffer, and Linux doubles what is set, so
// 8 MiB holds some 20,000 events: a few seconds of a fork/exec storm while
// the reader is descheduled.
const DefaultReadBuffer = 8 << 20

// Config tunes Dial. The zero value is usable.
type Config struct {
	// ReadBuffer is the socket receive buffer in bytes (0: DefaultReadBuffer).
	// Dial sets it with SO_RCVBUFFORCE, which ignores net.core.rmem_max but
	// needs CAP_NET_ADMIN, and falls back to SO_RCVBUF, which the kernel
	// caps at rmem_max.
	ReadBuffer int
}

// ErrOverrun is wrapped by the error Receive returns when the socket's
// receive buffer overflowed (ENOBUFS) and the kernel dropped events: how
// many is not known. The connection stays usable, but netlink keeps
// dropping everything for the socket until a read empties its queue
// (NETLINK_S_CONGESTED): the caller should go on calling Receive at once,
// count the overrun, and repair its view of the process table from /proc
// (FS.Walk) once it has caught up.
var ErrOverrun = errors.New("events lost: receive buffer overrun")

// errUnimplemented is returned by Dial off Linux.
var errUnimplemented = errors.New("proc connector not implemented on this platform")

// OpError is an error from an operation on the proc connector. Err wraps
// the cause: an errno (syscall.Errno, errors.Is-comparable with unix.E*),
// ErrOverrun, net.ErrClosed after Close, or os.ErrDeadlineExceeded.
type OpError struct {
	Op  string // dial, listen, ignore, receive, set-deadline
	Err error
}

func (e *OpError) Error() string { return "proc connector: " + e.Op + ": " + e.Err.Error() }

func (e *OpError) Unwrap() error { return e.Err }

// Stats are a Conn's counters. Nothing is dropped without being counted
// here: the caller reports Overruns, Malformed and Unknown as events and
// metrics of their own (SPEC §6).
type Stats struct {
	Messages  uint64 // connector messages read
	Events    uint64 // events returned by Receive (Unknown included)
	Unknown   uint64 // events of a what this package does not know
	Overruns  uint64 // ENOBUFS answers: events were lost, number unknown
	Malformed uint64 // messages that failed to decode, dropped
	Foreign   uint64 // messages for another connector callback, ignored
	Filtered  uint64 // events of a kind the legacy profile switches off, dropped
	Acks      uint64 // acknowledgements of LISTEN/IGNORE, ours or other listeners'
}

// Conn is a subscription to the proc connector. Receive must be called
// from one goroutine at a time; Close, Stats, Seen and SetReadDeadline may
// be called from any goroutine, concurrently with Receive.
type Conn struct {
	c      *netlink.Conn
	cookie uint32 // cn_msg.ack of our LISTEN/IGNORE: the socket's port id, unique on the host

	readBuffer int // the kernel's answer to the read buffer request

	// Legacy profile emulation (feature.ProfileEnv): kinds to drop, and
	// whether to clear the 4.18 parent pair of exit/coredump events.
	drop          uint32
	legacyParents bool

	listening bool        // a LISTEN was sent: Close owes the kernel an IGNORE
	acked     atomic.Bool // the kernel acknowledged our LISTEN without error
	seen      atomic.Uint32

	closeOnce sync.Once
	closed    atomic.Bool

	messages, events, unknown, overruns, malformed, foreign, filtered, acks atomic.Uint64

	// The direct read path (see read); owned by the receiving goroutine.
	s    *nlsock.Sock // nil for a fake (nltest): the library's path
	buf  []byte
	msgs []netlink.Message
	mb   *nlsock.Batch // ReceiveBatch's buffers
}

// newConn wraps a connected netlink socket (a real one from Dial, or an
// nltest fake in tests).
func newConn(nc *netlink.Conn) *Conn {
	c := &Conn{c: nc, cookie: nc.PID()}
	if c.cookie == 0 || c.cookie == 0xffffffff {
		c.cookie = 1 // an answer of ack 1 is anyone's; keep ours apart from the default
	}
	if feature.Disabled(feature.ProcEventComm) != nil {
		c.drop |= 1 << KindComm
	}
	if feature.Disabled(feature.ProcEventCoredump) != nil {
		c.drop |= 1 << KindCoredump
	}
	c.legacyParents = profileBefore(exitParentsRelease)
	return c
}

// exitParentsRelease added parent_pid/parent_tgid to the exit and
// coredump events. feature has no name for it (nothing probes it); the
// legacy profiles all predate it, so under a profile those fields read 0
// and the callers' fallback (the graph's own parent link) runs.
const exitParentsRelease = "4.18"

// listen subscribes: the kernel starts generating events, if it was not
// already for another listener, and acknowledges to the group.
func (c *Conn) listen() error {
	if err := c.send(mcastListen); err != nil {
		return &OpError{Op: "listen", Err: unwrapNetlink(err)}
	}
	c.listening = true
	return nil
}

func (c *Conn) send(op uint32) error {
	// The connector core ignores nlmsg_type; NLMSG_DONE is what the
	// kernel itself puts on connector messages.
	_, err := c.c.Send(netlink.Message{
		Header: netlink.Header{Type: netlink.Done},
		Data:   mcastOp(op, c.cookie),
	})
	return err
}

// Receive blocks until the kernel sends at least one event, and returns
// the events of the datagrams read, in the order the kernel queued them
// (per CPU; events of different CPUs may be out of time order by a few
// microseconds: sort by TimestampNS if it matters).
//
// Errors: one wrapping ErrOverrun (and syscall.ENOBUFS) when events were
// lost; one wrapping net.ErrClosed once Close was called (a Receive
// blocked in another goroutine returns it too); one wrapping
// os.ErrDeadlineExceeded after SetReadDeadline's time; one wrapping the
// errno the kernel answered our LISTEN with (EPERM before 6.6: no
// CAP_NET_ADMIN in the initial user namespace). Only that last one may
// come with events.
// After an overrun or a timeout the Conn remains usable.
func (c *Conn) Receive() ([]Event, error) {
	for {
		evs, err := c.receive()
		if err != nil || len(evs) > 0 {
			return evs, err
		}
	}
}

// receive reads one batch of datagrams. It can return no events and no
// error (only acknowledgements or dropped messages were read).
func (c *Conn) receive() ([]Event, error) {
	msgs, err := c.read()
	if err != nil {
		return nil, c.receiveError(err)
	}
	return c.decode(msgs, make([]Event, 0, len(msgs)))
}

// decode appends the events of msgs to evs, counting what it drops. The
// error is a refused LISTEN (ours), after the events.
func (c *Conn) decode(msgs []netlink.Message, evs []Event) ([]Event, error) {
	var listenErr error
	start := len(evs)
	for i := range msgs {
		c.messages.Add(1)
		var m message
		if err := m.UnmarshalBinary(msgs[i].Data); err != nil {
			if errors.Is(err, errForeign) {
				c.foreign.Add(1)
			} else {
				c.malformed.Add(1)
			}
			continue
		}
		if m.isAck {
			c.acks.Add(1)
			// Acks go to the whole group: ours carries our cookie + 1
			// (other clients send ack 0, answered with 1).
			if m.hdr.Ack == c.cookie+1 {
				if m.ackErr == 0 {
					c.acked.Store(true)
				} else {
					listenErr = &OpError{Op: "listen", Err: syscall.Errno(m.ackErr)}
				}
			}
			continue
		}
		ev := m.ev
		if c.drop&(1<<ev.Kind) != 0 {
			c.filtered.Add(1)
			continue
		}
		if c.legacyParents && (ev.Kind == KindExit || ev.Kind == KindCoredump) {
			ev.ParentPID, ev.ParentTGID = 0, 0
		}
		if ev.Kind == KindUnknown {
			c.unknown.Add(1)
		}
		c.seen.Or(1 << ev.Kind)
		evs = append(evs, ev)
	}
	c.events.Add(uint64(len(evs) - start))
	return evs, listenErr
}

// parseMessages splits a datagram into netlink messages (headers checked,
// data sliced from b, valid until the next read).
func parseMessages(b []byte, out []netlink.Message) ([]netlink.Message, error) {
	const hdrLen = 16 // struct nlmsghdr
	for len(b) >= hdrLen {
		l := int(binary.NativeEndian.Uint32(b[0:4]))
		if l < hdrLen || l > len(b) {
			return out, errShortNetlink
		}
		out = append(out, netlink.Message{
			Header: netlink.Header{
				Length:   uint32(l),
				Type:     netlink.HeaderType(binary.NativeEndian.Uint16(b[4:6])),
				Flags:    netlink.HeaderFlags(binary.NativeEndian.Uint16(b[6:8])),
				Sequence: binary.NativeEndian.Uint32(b[8:12]),
				PID:      binary.NativeEndian.Uint32(b[12:16]),
			},
			Data: b[hdrLen:l],
		})
		// Messages are padded to 4 bytes (NLMSG_ALIGN).
		l = (l + 3) &^ 3
		if l > len(b) {
			break
		}
		b = b[l:]
	}
	return out, nil
}

// receiveError classifies a netlink receive error.
func (c *Conn) receiveError(err error) error {
	if c.closed.Load() {
		return &OpError{Op: "receive", Err: net.ErrClosed}
	}
	err = unwrapNetlink(err)
	if errors.Is(err, syscall.ENOBUFS) {
		// netlink_overrun() set sk_err: the skbs that did not fit were
		// freed. recvmsg reports it once; the next call reads on.
		c.overruns.Add(1)
		return &OpError{Op: "receive", Err: fmt.Errorf("%w (%w)", ErrOverrun, syscall.ENOBUFS)}
	}
	return &OpError{Op: "receive", Err: err}
}

// unwrapNetlink strips mdlayher/netlink's OpError, whose text would repeat
// ours; the errno chain beneath it is kept.
func unwrapNetlink(err error) error {
	var ne *netlink.OpError
	if errors.As(err, &ne) && ne.Err != nil {
		return ne.Err
	}
	return err
}

// SetReadDeadline bounds a pending and any later Receive; the zero time
// removes the bound.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if err := c.c.SetReadDeadline(t); err != nil {
		return &OpError{Op: "set-deadline", Err: unwrapNetlink(err)}
	}
	return nil
}

// Close unsubscribes (PROC_CN_MCAST_IGNORE) and closes the socket,
// unblocking a pending Receive. It is idempotent: calls after the first
// return nil.
//
// A process killed before Close leaves the kernel's listener count (before
// 6.6 a global counter, not tied to the socket) one too high: the kernel
// then keeps generating events nobody reads, a small cost and no harm.
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		var errs []error
		if c.listening {
			if e := c.send(mcastIgnore); e != nil {
				errs = append(errs, &OpError{Op: "ignore", Err: unwrapNetlink(e)})
			}
		}
		if e := c.c.Close(); e != nil {
			errs = append(errs, &OpError{Op: "close", Err: unwrapNetlink(e)})
		}
		err = errors.Join(errs...)
	})
	return err
}

// Stats returns a snapshot of the counters.
func (c *Conn) Stats() Stats {
	return Stats{
		Messages:  c.messages.Load(),
		Events:    c.events.Load(),
		Unknown:   c.unknown.Load(),
		Overruns:  c.overruns.Load(),
		Malformed: c.malformed.Load(),
		Foreign:   c.foreign.Load(),
		Filtered:  c.filtered.Load(),
		Acks:      c.acks.Load(),
	}
}

// ReadBuffer is the receive buffer the kernel granted, in bytes (Linux
// reports twice the size asked for: half is bookkeeping overhead).
func (c *Conn) ReadBuffer() int { return c.readBuffer }

// Seen reports whether an event needing f has arrived on this Conn:
// ProcEventComm and ProcEventCoredump once an event of that kind was
// received, ProcConnector once the kernel acknowledged the subscription or
// sent any event. The event features cannot be probed by an errno (a
// kernel without them just never sends them), so Probe reports them from
// the profile, and Seen confirms them as they show up.
func (c *Conn) Seen(f feature.Feature) bool {
	s := c.seen.Load()
	switch f {
	case feature.ProcConnector:
		return c.acked.Load() || s != 0
	case feature.ProcEventComm:
		return s&(1<<KindComm) != 0
	case feature.ProcEventCoredump:
		return s&(1<<KindCoredump) != 0
	}
	return false
}

// eventCapability reports an event feature from the profile alone.
func eventCapability(f feature.Feature) feature.Capability {
	if err := feature.Disabled(f); err != nil {
		return feature.Capability{Feature: f, Reason: err.Error()}
	}
	return feature.Capability{Feature: f, Available: true}
}

// profileBefore reports whether the legacy profile in force emulates a
// kernel older than release.
func profileBefore(release string) bool {
	p := feature.Profile()
	if p == "" {
		return false
	}
	a, b := releaseParts(p), releaseParts(release)
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func releaseParts(v string) [3]int {
	var out [3]int
	for i, s := range strings.SplitN(v, ".", 3) {
		out[i], _ = strconv.Atoi(s)
	}
	return out
}
