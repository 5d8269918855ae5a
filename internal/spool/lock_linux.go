//go:build linux

package spool

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on f without waiting: a second
// writer on the same spool is refused.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
