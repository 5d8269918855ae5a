//go:build unix

package rotate

import "syscall"

// openFlags are added to open(2)'s: O_NOFOLLOW makes it fail with ELOOP
// on a symbolic link; O_NONBLOCK makes it fail (ENXIO) on a FIFO with no
// reader rather than block the agent until one comes (the file is then
// refused as not regular). A regular file ignores O_NONBLOCK: its writes
// never return EAGAIN.
const openFlags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
