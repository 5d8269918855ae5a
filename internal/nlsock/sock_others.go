//go:build !linux

package nlsock

// Sock and Batch exist on Linux only; elsewhere they are empty types so
// that cross-platform structs can name them.
type (
	Sock  struct{}
	Batch struct{}
)
