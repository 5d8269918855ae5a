//go:build linux

package proc

import (
	"errors"

	"github.com/lineaged/lineaged/internal/mmsg"
	"golang.org/x/sys/unix"
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

// ReceiveBatch appends to dst the events of every datagram queued on the
// socket, read with recvmmsg(2) a batch at a time: one system call and one
// wake-up for what Receive does in hundreds. When wait is set it first
// waits for a datagram (deadlines and Close wake it). It returns the
// events read before an error, with the error (ErrOverrun after ENOBUFS:
// the socket reads on).
func (c *Conn) ReceiveBatch(dst []Event, wait bool) ([]Event, error) {
	if c.raw == nil && !c.noRaw {
		rc, err := c.c.SyscallConn()
		if err != nil {
			c.noRaw = true
		} else {
			c.raw = rc
		}
	}
	if c.raw == nil {
		// No descriptor (a test fake): one datagram at a time.
		if !wait {
			return dst, nil
		}
		evs, err := c.receive()
		return append(dst, evs...), err
	}
	if c.mb == nil {
		c.mb = mmsg.New(batchDatagrams, batchDatagram)
	}
	start := len(dst)
	for {
		var n int
		var rerr error
		first := wait && len(dst) == start
		err := c.raw.Read(func(fd uintptr) bool {
			n, rerr = c.mb.Recv(int(fd))
			return !(first && errors.Is(rerr, unix.EAGAIN))
		})
		if err == nil {
			err = rerr
		}
		if errors.Is(err, unix.EAGAIN) {
			return dst, nil
		}
		if err != nil {
			return dst, c.receiveError(err)
		}
		for i := 0; i < n; i++ {
			data, port, trunc := c.mb.Datagram(i)
			if port != 0 || trunc {
				// Only the kernel sends on this group; a datagram cut
				// short cannot be decoded.
				c.messages.Add(1)
				c.malformed.Add(1)
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
