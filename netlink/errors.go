package netlink

import (
	"errors"
	"fmt"
)

// Decoding errors. Each names the kernel structure that was cut short, so a
// truncated or malformed reply is reported, never read past its end.
var (
	errShortInetDiagSockID = errors.New("sock_diag: short inet_diag_sockid")
	errShortInetDiagReq    = errors.New("sock_diag: short inet_diag_req")
	errShortInetDiagReqV2  = errors.New("sock_diag: short inet_diag_req_v2")
	errShortInetDiagMsg    = errors.New("sock_diag: short inet_diag_msg")
	errShortUnixDiagReq    = errors.New("sock_diag: short unix_diag_req")
	errShortUnixDiagMsg    = errors.New("sock_diag: short unix_diag_msg")
	errShortUnixDiagVFS    = errors.New("sock_diag: short unix_diag_vfs attribute")
)

// errUnimplemented is returned by every kernel-facing function on systems
// other than Linux, so the decoders and their tests build anywhere.
var errUnimplemented = errors.New("sock_diag: not implemented on this platform")

// errNamespaceChanged is returned when the file that named a network
// namespace at enumeration time names another one when it is opened: the
// process behind /proc/PID/ns/net exited and its pid was reused.
var errNamespaceChanged = errors.New("network namespace changed since enumeration (pid reused)")

// An OpError is an error from one sock_diag operation: dialing, entering a
// namespace, or one dump. Inspect Err with errors.Is: netlink error replies
// carry a unix.Errno (see errno meanings in probe.go).
type OpError struct {
	// Op names the operation: "dial", "setns", "restore netns",
	// "dump tcp4", "dump unix", ...
	Op string
	// NetNS is the inode of the network namespace it ran in, 0 if unknown.
	NetNS uint64
	Err   error
}

func (e *OpError) Error() string {
	if e.NetNS != 0 {
		return fmt.Sprintf("sock_diag %s (netns %d): %v", e.Op, e.NetNS, e.Err)
	}
	return fmt.Sprintf("sock_diag %s: %v", e.Op, e.Err)
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *OpError) Unwrap() error { return e.Err }
