//go:build linux

package syslogout

import (
	"net"

	"golang.org/x/sys/unix"
)

// outq returns the bytes of c's send queue the peer has not acknowledged
// (sent or not): SIOCOUTQ.
func outq(c *net.TCPConn) (int, bool) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, false
	}
	var n int
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		n, ierr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
	}); err != nil || ierr != nil {
		return 0, false
	}
	return n, true
}
