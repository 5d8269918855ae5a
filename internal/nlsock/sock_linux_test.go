//go:build linux

package nlsock

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ackRequest is an NLMSG_NOOP with NLM_F_ACK: NETLINK_ROUTE answers each
// with one NLMSG_ERROR (error 0) datagram, without privileges.
func ackRequest(seq uint32) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN)
	binary.NativeEndian.PutUint32(b[0:4], unix.NLMSG_HDRLEN)
	binary.NativeEndian.PutUint16(b[4:6], unix.NLMSG_NOOP)
	binary.NativeEndian.PutUint16(b[6:8], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(b[8:12], seq)
	return b
}

func TestRecvBatchTakesAllQueued(t *testing.T) {
	s, err := Open(unix.NETLINK_ROUTE, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := NewBatch(8, 4096)
	if n, err := s.RecvBatch(b, false); n != 0 || err != nil {
		t.Fatalf("empty socket: RecvBatch = %d, %v; want 0, nil", n, err)
	}
	for seq := uint32(1); seq <= 5; seq++ {
		if err := s.Send(ackRequest(seq), false); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.RecvBatch(b, true)
	if err != nil || n != 5 {
		t.Fatalf("RecvBatch = %d, %v; want the 5 queued acks in one call", n, err)
	}
	for i := 0; i < n; i++ {
		d, port, trunc := b.Datagram(i)
		if port != 0 || trunc || len(d) < unix.NLMSG_HDRLEN {
			t.Fatalf("datagram %d: port %d trunc %v len %d", i, port, trunc, len(d))
		}
		if typ := binary.NativeEndian.Uint16(d[4:6]); typ != unix.NLMSG_ERROR {
			t.Errorf("datagram %d type %d, want NLMSG_ERROR (ack)", i, typ)
		}
		if seq := binary.NativeEndian.Uint32(d[8:12]); seq != uint32(i+1) {
			t.Errorf("datagram %d seq %d, want %d (queue order)", i, seq, i+1)
		}
	}
}

func TestTruncatedDatagramFlagged(t *testing.T) {
	s, err := Open(unix.NETLINK_ROUTE, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Send(ackRequest(1), false); err != nil {
		t.Fatal(err)
	}
	b := NewBatch(2, 8) // an ack is 36 bytes
	n, err := s.RecvBatch(b, true)
	if err != nil || n != 1 {
		t.Fatalf("RecvBatch = %d, %v", n, err)
	}
	if _, _, trunc := b.Datagram(0); !trunc {
		t.Fatal("a datagram larger than its buffer was not flagged truncated")
	}
}

func TestCloseWakesWaiter(t *testing.T) {
	s, err := Open(unix.NETLINK_ROUTE, 0)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, _, err := s.Recvfrom(make([]byte, 64), true)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it reach poll(2); a later Close is caught too
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrClosed) {
			t.Fatalf("waiter got %v, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake a Recvfrom blocked in poll")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.RecvBatch(NewBatch(1, 64), false); !errors.Is(err, os.ErrClosed) {
		t.Errorf("RecvBatch after Close: %v", err)
	}
}

func TestReadDeadline(t *testing.T) {
	s, err := Open(unix.NETLINK_ROUTE, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if _, _, err := s.Recvfrom(make([]byte, 64), true); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Recvfrom past the deadline: %v", err)
	}
}
