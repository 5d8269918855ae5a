//go:build linux

package nlsock

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Batch is a set of receive buffers of one size for RecvBatch, reused
// across calls and owned by one goroutine at a time.
type Batch struct {
	bufs  [][]byte
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrNetlink
	n     int
}

// NewBatch returns a batch of n buffers of size bytes each. Memory is only
// touched as far as datagrams fill it, so a generous size costs address
// space, not resident memory.
func NewBatch(n, size int) *Batch {
	b := &Batch{
		bufs:  make([][]byte, n),
		hdrs:  make([]unix.Mmsghdr, n),
		iovs:  make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrNetlink, n),
	}
	for i := range b.bufs {
		b.bufs[i] = make([]byte, size)
	}
	return b
}

// Cap is the number of datagrams one Recv can return.
func (b *Batch) Cap() int { return len(b.bufs) }

// Len is the number of datagrams the last Recv returned.
func (b *Batch) Len() int { return b.n }

// recv reads up to Cap datagrams queued on fd without blocking: 0 with
// unix.EAGAIN when nothing is queued.
func (b *Batch) recv(fd int) (int, error) {
	b.n = 0
	for i := range b.hdrs {
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(len(b.bufs[i]))
		b.hdrs[i] = unix.Mmsghdr{}
		h := &b.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Namelen = unix.SizeofSockaddrNetlink
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
	}
	for {
		r, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd),
			uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(b.hdrs)),
			unix.MSG_DONTWAIT, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		b.n = int(r)
		return b.n, nil
	}
}

// Datagram i of the last Recv: its bytes, the sender's netlink port id (0
// is the kernel) and whether it was cut short by a buffer too small.
func (b *Batch) Datagram(i int) (data []byte, port uint32, truncated bool) {
	h := &b.hdrs[i]
	n := int(h.Len)
	if n > len(b.bufs[i]) {
		n = len(b.bufs[i])
	}
	port = b.names[i].Pid
	if h.Hdr.Namelen < unix.SizeofSockaddrNetlink {
		port = ^uint32(0) // no address: not from the kernel
	}
	return b.bufs[i][:n], port, h.Hdr.Flags&unix.MSG_TRUNC != 0
}
