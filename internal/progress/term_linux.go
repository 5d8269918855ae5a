//go:build linux

package progress

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminal reports whether f is a terminal: TCGETS (tcgetattr) succeeds
// on a tty and fails with ENOTTY on a file, a pipe or /dev/null, which a
// character-device test would take for a terminal.
func terminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
