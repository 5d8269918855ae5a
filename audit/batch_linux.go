//go:build linux

package audit

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/lineaged/lineaged/internal/nlsock"
)

// Batch holds audit datagrams read with one system call (see
// Live.ReadBatch). It is owned by one goroutine at a time: the reader
// fills it, the consumer turns its datagrams into records and hands it
// back.
type Batch struct {
	b *nlsock.Batch
	n int
}

// NewBatch returns a batch of up to n datagrams.
func NewBatch(n int) *Batch { return &Batch{b: nlsock.NewBatch(n, auditBufSize)} }

// Len is the number of datagrams read.
func (b *Batch) Len() int { return b.n }

// Full reports whether the last read filled the batch (more may be queued).
func (b *Batch) Full() bool { return b.n == b.b.Cap() }

// Datagram errors, each counted by the caller (nothing is dropped
// silently): ErrNotRecord (a reply or ack on the socket, not a record) is
// not a loss.
var (
	ErrNotRecord = errors.New("netlink message is not an audit record")
	ErrForeign   = errors.New("netlink message not from the kernel, refused")
	ErrTruncated = errors.New("audit record longer than the receive buffer, dropped")
)

// Record parses datagram i into r.
func (b *Batch) Record(i int, r *Record) error {
	t, payload, err := b.Raw(i)
	if err != nil {
		return err
	}
	return r.ParseKernel(t, payload)
}

// ReadBatch fills b with the records queued on the socket: when wait is
// set it first waits for one (Close wakes it with an error wrapping
// os.ErrClosed). Without wait, and nothing queued, b is left empty. An
// error the socket reports (ENOBUFS when the multicast group overran:
// records were lost) is returned with an empty batch.
func (l *Live) ReadBatch(b *Batch, wait bool) error {
	b.n = 0
	nl := l.nl
	if nl == nil {
		return fmt.Errorf("audit source closed: %w", os.ErrClosed)
	}
	n, err := nl.s.RecvBatch(b.b, wait)
	if err != nil {
		if l.closed.Load() || errors.Is(err, syscall.EBADF) || errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("audit source closed: %w", os.ErrClosed)
		}
		return fmt.Errorf("recvmmsg(NETLINK_AUDIT): %w", err)
	}
	b.n = n
	return nil
}

// RawRecord is one kernel record as received: its type and payload.
type RawRecord struct {
	Type uint16
	Data []byte
}

// Pending returns the records read before the first ReadBatch (by the
// multicast delivery probe), once.
func (l *Live) Pending() []RawRecord {
	out := make([]RawRecord, 0, len(l.pending))
	for _, p := range l.pending {
		out = append(out, RawRecord{Type: p.typ, Data: p.data})
	}
	l.pending = nil
	return out
}

// Raw returns datagram i's record type and payload (valid until the next
// read into b), or why it is not a record: ErrForeign, ErrTruncated or
// ErrNotRecord.
func (b *Batch) Raw(i int) (typ uint16, payload []byte, err error) {
	data, port, trunc := b.b.Datagram(i)
	switch {
	case port != 0:
		return 0, nil, ErrForeign
	case trunc:
		return 0, nil, ErrTruncated
	case len(data) < syscall.NLMSG_HDRLEN:
		return 0, nil, fmt.Errorf("%d bytes, too few for a netlink header: %w", len(data), ErrNotRecord)
	}
	// The audit payload runs to the end of the datagram: kernels have
	// sent wrong nlmsg_len values (go-libaudit ignores it for this reason).
	t := uint16(data[4]) | uint16(data[5])<<8
	if t < TypeFirstUser {
		return 0, nil, ErrNotRecord
	}
	return t, data[syscall.NLMSG_HDRLEN:], nil
}

// ReadBuffer is the socket receive buffer the kernel granted (bytes).
func (l *Live) ReadBuffer() int { return l.readBuffer }

// PollFD is the socket's descriptor, for poll(2) readiness checks by a
// caller that waits on several sources at once; -1 without a socket.
// Reading goes through ReadBatch, and the descriptor is valid until Close.
func (l *Live) PollFD() int {
	if l.nl == nil {
		return -1
	}
	return l.nl.s.FD()
}
