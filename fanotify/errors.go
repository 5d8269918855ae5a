package fanotify

import (
	"errors"
	"os"
)

// Decoder errors. The kernel never produces a buffer these reject; they
// exist so that a changed ABI or a corrupted buffer stops the decoder
// instead of sending it off the end of the buffer or into a loop.
var (
	errShortMetadata  = errors.New("fanotify: event shorter than its metadata header")
	errVersion        = errors.New("fanotify: metadata version is not FANOTIFY_METADATA_VERSION 3")
	errMetadataLen    = errors.New("fanotify: metadata_len smaller than the header")
	errEventLen       = errors.New("fanotify: event_len smaller than metadata_len")
	errTruncatedEvent = errors.New("fanotify: event_len runs past the end of the buffer")
	errShortInfo      = errors.New("fanotify: info record shorter than its header")
	errInfoLen        = errors.New("fanotify: info record length outside the event")
	errShortFID       = errors.New("fanotify: fid record shorter than fsid and file_handle")
	errHandleLen      = errors.New("fanotify: file_handle bytes outside the record")
	errNameNotNUL     = errors.New("fanotify: file name in a fid record is not NUL-terminated")
	errShortBuffer    = errors.New("fanotify: read buffer smaller than MinReadBuffer")
	errNothingToWatch = errors.New("fanotify: no watched path could be marked")
)

// ErrClosed is returned by Read once the watcher is closed, including by a
// Read that Close unblocked. It is os.ErrClosed, so errors.Is(err,
// net.ErrClosed)-style checks written for files work too.
var ErrClosed = os.ErrClosed

// OpError is the error of a system call, naming the operation (and the
// path, where there is one) so an operator can tell which watch failed.
type OpError struct {
	Op   string // "fanotify_init", "fanotify_mark", "read", ...
	Path string // the marked path, when the operation had one
	Err  error  // usually a syscall.Errno
}

func (e *OpError) Error() string {
	s := e.Op
	if e.Path != "" {
		s += " " + e.Path
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *OpError) Unwrap() error { return e.Err }
