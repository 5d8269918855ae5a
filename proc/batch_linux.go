//go:build linux

package proc

import (
	"iter"
	"time"

	"github.com/lineaged/lineaged/internal/nlsock"
	"github.com/mdlayher/netlink"
)

// Batch sizes for ReceiveBatch: a connector datagram is one message of
// under 100 bytes (nlmsghdr, cn_msg, proc_event); 512 leaves room for
// kernels that grow the event.
const (
	batchDatagrams = 128
	batchDatagram  = 512
	// batchMaxEvents bounds one ReceiveBatch, so a storm cannot keep the
	// caller reading forever.
	batchMaxEvents = 8192
)

// sockAdapter lets mdlayher/netlink's Conn drive an nlsock.Sock: the Conn
// builds and sends our requests, the Sock stays out of the runtime poller
// (see package nlsock) and is read directly.
type sockAdapter struct {
	s   *nlsock.Sock
	buf []byte
}

func (a *sockAdapter) Close() error { return a.s.Close() }

func (a *sockAdapter) Send(m netlink.Message) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	return a.s.Send(b, false)
}

func (a *sockAdapter) SendMessages(ms []netlink.Message) error {
	var out []byte
	for _, m := range ms {
		b, err := m.MarshalBinary()
		if err != nil {
			return err
		}
		out = append(out, b...)
	}
	return a.s.Send(out, false)
}

func (a *sockAdapter) Receive() ([]netlink.Message, error) {
	if a.buf == nil {
		a.buf = make([]byte, 64<<10)
	}
	n, _, err := a.s.Recvfrom(a.buf, true)
	if err != nil {
		return nil, err
	}
	msgs, err := parseMessages(a.buf[:n], nil)
	for i := range msgs {
		msgs[i].Data = append([]byte(nil), msgs[i].Data...) // the library's callers keep them
	}
	return msgs, err
}

func (a *sockAdapter) ReceiveIter() iter.Seq2[netlink.Message, error] {
	return func(yield func(netlink.Message, error) bool) {
		msgs, err := a.Receive()
		if err != nil {
			yield(netlink.Message{}, err)
			return
		}
		for _, m := range msgs {
			if !yield(m, nil) {
				return
			}
		}
	}
}

func (a *sockAdapter) SetDeadline(t time.Time) error {
	a.s.SetReadDeadline(t)
	a.s.SetWriteDeadline(t)
	return nil
}

func (a *sockAdapter) SetReadDeadline(t time.Time) error  { a.s.SetReadDeadline(t); return nil }
func (a *sockAdapter) SetWriteDeadline(t time.Time) error { a.s.SetWriteDeadline(t); return nil }

// read returns the netlink messages of one datagram, read straight into a
// buffer kept for the Conn (mdlayher/netlink's Receive peeks first to size
// a fresh buffer: two syscalls and an allocation per datagram). Fakes
// (nltest) take the library's path.
func (c *Conn) read() ([]netlink.Message, error) {
	if c.s == nil {
		return c.c.Receive()
	}
	if c.buf == nil {
		c.buf = make([]byte, 64<<10)
	}
	n, port, err := c.s.Recvfrom(c.buf, true)
	if err != nil {
		return nil, err
	}
	if port != 0 {
		c.foreign.Add(1) // only the kernel sends on this group
		return nil, nil
	}
	msgs, perr := parseMessages(c.buf[:n], c.msgs[:0])
	if perr != nil {
		c.malformed.Add(1) // the well-formed messages before it still count
	}
	c.msgs = msgs
	return msgs, nil
}

// ReceiveBatch appends to dst the events of every datagram queued on the
// socket, read with recvmmsg(2) a batch at a time: one system call for
// what Receive does in hundreds. When wait is set it first waits for a
// datagram (deadlines and Close end the wait). It returns the events read
// before an error, with the error (ErrOverrun after ENOBUFS: the socket
// reads on).
func (c *Conn) ReceiveBatch(dst []Event, wait bool) ([]Event, error) {
	if c.s == nil {
		// A fake: one datagram at a time.
		if !wait {
			return dst, nil
		}
		evs, err := c.receive()
		return append(dst, evs...), err
	}
	if c.mb == nil {
		c.mb = nlsock.NewBatch(batchDatagrams, batchDatagram)
	}
	start := len(dst)
	for {
		n, err := c.s.RecvBatch(c.mb, wait && len(dst) == start)
		if err != nil {
			return dst, c.receiveError(err)
		}
		for i := 0; i < n; i++ {
			data, port, trunc := c.mb.Datagram(i)
			if port != 0 || trunc {
				// Only the kernel sends on this group; a datagram cut
				// short cannot be decoded.
				c.messages.Add(1)
				if port != 0 {
					c.foreign.Add(1)
				} else {
					c.malformed.Add(1)
				}
				continue
			}
			msgs, perr := parseMessages(data, c.msgs[:0])
			if perr != nil {
				c.malformed.Add(1)
			}
			c.msgs = msgs
			var lerr error
			dst, lerr = c.decode(msgs, dst)
			if lerr != nil {
				return dst, lerr
			}
		}
		if n < c.mb.Cap() || len(dst)-start >= batchMaxEvents {
			return dst, nil
		}
	}
}

// PollFD is the socket's descriptor, for poll(2) readiness checks by a
// caller that waits on several sources at once; -1 for a fake. Reading
// goes through ReceiveBatch; valid until Close.
func (c *Conn) PollFD() int {
	if c.s == nil {
		return -1
	}
	return c.s.FD()
}
