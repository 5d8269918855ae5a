//go:build !linux

package progress

import "os"

// terminal reports whether f looks like a terminal: a character device.
// The portable test, without an ioctl: /dev/null passes it too, where a
// bar drawn is lost and harmless.
func terminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
