// Package rotate is lineaged's one rotating log file: the events file
// (JSON lines) and the native audit.log (auditd's format) both append
// through it.
//
// # Rotation
//
// A rotation renames, it never copies: path.(Keep-1) → path.Keep, …,
// path.1 → path.2, then path → path.1, and a new path is opened. A reader
// that follows the file by its inode (a forwarder, tail -F) finishes the
// old one; ausearch -if and aureport read path, path.1, … as auditd's own
// rotated logs (auditd's rotate_logs does the same renames). The oldest
// file, path.Keep, is overwritten by the rename. A rotated file is made
// read-only (Mode without its write bits, 0440 for a 0640 file, as auditd
// does), since nothing may append to history. The directory is fsynced
// after the renames: a rename is a change of the directory, and ext4 or
// xfs can lose it in a power cut until the directory itself is synced.
//
// A File rotates by size on its own (MaxSize, before the Write that would
// pass it), or when told (Rotate: auditd's SIGUSR1, or a caller that
// rotates at its own record boundaries, as auditlog does after the record
// that reaches max_log_file).
//
// # Reopen (logrotate)
//
// Reopen opens path anew, for a SIGHUP after logrotate renamed the file
// away (its create mode, not copytruncate: a copy races our appends and a
// truncation loses what was written between the two).
//
// # A failing disk
//
// A Write is one write(2) of whole lines on an O_APPEND descriptor, so a
// reader never sees half a line between two writes. When the disk fills
// (ENOSPC), a quota is reached (EDQUOT) or the device fails (EIO), the
// kernel may have taken part of the lines: the file is truncated back to
// where it was, so it never ends in half a line. Then, by default, the
// lines are dropped and counted (Dropped) and Write reports success, so
// the pipeline behind it never stalls on the disk; with Retain the error
// is returned instead, for a caller that keeps the lines to write again.
// Trouble is logged once when it starts (Warn) and once when writing
// works again (Info), never per write.
//
// # Concurrency
//
// A File's methods may be called from several goroutines.
package rotate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/internal/atomicfile"
)

// DefaultMode is the mode of the file when Config.Mode is zero.
const DefaultMode = fs.FileMode(0o600)

// Config configures a File.
type Config struct {
	// Path is the file; its directory is created (0750) when missing.
	Path string
	// MaxSize, when above zero, rotates the file before a Write that
	// would take a non-empty file past it: a file holds at most MaxSize
	// bytes unless one Write alone is larger. Zero: never by size. It
	// needs Keep.
	MaxSize int64
	// Keep is how many rotated files are kept, path.1 (the newest) to
	// path.Keep. Zero: the file is never rotated (Rotate does nothing,
	// as auditd with num_logs < 2); leave it zero when another tool
	// (logrotate) rotates the file.
	Keep int
	// Mode is the file's mode (default DefaultMode), set at every open,
	// also on a file that exists: the umask does not apply and a file
	// left by someone else gets the mode the configuration says.
	Mode fs.FileMode
	// RemoveExcess removes, at Open, path.(Keep+1), path.(Keep+2), … up
	// to the first one missing, as auditd's check_excess_logs does after
	// num_logs was lowered. Off, they are left alone (they may be
	// logrotate's).
	RemoveExcess bool
	// Retain makes a failed Write return its error with nothing of p in
	// the file, for a caller that holds the lines and writes them again
	// (auditlog, which buffers records in memory as auditd does). Off, a
	// failed Write drops p's lines, counts them (Dropped) and returns
	// len(p), nil.
	Retain bool
	// Log receives the file's trouble (Warn) and its recoveries (Info).
	// The zero Logger discards.
	Log zerolog.Logger
	// OpenFile opens the file (nil: os.OpenFile). Tests replace it to
	// make writes fail as a full disk does without filling one.
	OpenFile func(name string, flag int, perm fs.FileMode) (OSFile, error)
}

// OSFile is what a File needs of an open file: *os.File.
type OSFile interface {
	io.Writer
	Stat() (fs.FileInfo, error)
	Truncate(size int64) error
	Chmod(mode fs.FileMode) error
	Sync() error
	Close() error
}

// File is an append-only log file that rotates. Its methods may be
// called from several goroutines.
type File struct {
	mu  sync.Mutex
	cfg Config
	log zerolog.Logger
	f   OSFile
	// size is what this File knows of the current file's length: its
	// size at open plus what was written since.
	size int64
	// torn: a failed write left part of a line that could not be
	// truncated away; the next write ends it first.
	torn bool
	// pending: a rotation renamed the file away but could not open a new
	// one; f is path.1 still, written on to, and each Write tries again.
	pending    bool
	closed     bool
	failing    bool // the last write failed
	rotFailing bool // the last rotation by size failed
	dropped    uint64
	rotations  uint64
}

// ErrClosed is returned by calls on a closed File.
var ErrClosed = fs.ErrClosed

// Open opens cfg.Path for appending, creating it (and its directory) as
// needed. The file must be a regular file and not a symbolic link (the
// link is not followed: O_NOFOLLOW, as auditd opens its log, so a link
// planted in a log directory cannot send a privileged writer's lines
// elsewhere).
func Open(cfg Config) (*File, error) {
	switch {
	case cfg.Path == "":
		return nil, errors.New("no file path")
	case cfg.MaxSize < 0 || cfg.Keep < 0:
		return nil, fmt.Errorf("%s: negative MaxSize %d or Keep %d", cfg.Path, cfg.MaxSize, cfg.Keep)
	case cfg.MaxSize > 0 && cfg.Keep == 0:
		return nil, fmt.Errorf("%s: rotating past %d bytes needs rotated files to keep (Keep >= 1)", cfg.Path, cfg.MaxSize)
	}
	if cfg.Mode == 0 {
		cfg.Mode = DefaultMode
	}
	cfg.Mode &= fs.ModePerm
	if cfg.OpenFile == nil {
		cfg.OpenFile = osOpen
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o750); err != nil {
		return nil, fmt.Errorf("creating the directory of %s: %w", cfg.Path, err)
	}
	r := &File{cfg: cfg, log: cfg.Log.With().Str("file", cfg.Path).Logger()}
	if cfg.RemoveExcess && cfg.Keep > 0 {
		r.removeExcess()
	}
	f, size, err := r.open()
	if err != nil {
		return nil, err
	}
	r.f, r.size = f, size
	return r, nil
}

func osOpen(name string, flag int, perm fs.FileMode) (OSFile, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // not a nil *os.File in a non-nil interface
	}
	return f, nil
}

// open opens the path: append only (every write(2) lands at the end, a
// whole batch at once), no symbolic link followed, created with Mode and
// chmod'ed to it; it must be a regular file.
func (r *File) open() (OSFile, int64, error) {
	f, err := r.cfg.OpenFile(r.cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|openFlags, r.cfg.Mode)
	if err != nil {
		err = unwrapPath(err)
		switch {
		case errors.Is(err, syscall.ELOOP):
			err = fmt.Errorf("%w: a symbolic link, not followed", err)
		case errors.Is(err, syscall.ENXIO):
			err = fmt.Errorf("%w: a FIFO or device, not a regular file", err)
		}
		return nil, 0, fmt.Errorf("opening %s: %w", r.cfg.Path, err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file (%v)", st.Mode().Type())
	}
	if err == nil {
		err = f.Chmod(r.cfg.Mode)
	}
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("opening %s: %w", r.cfg.Path, unwrapPath(err))
	}
	return f, st.Size(), nil
}

// unwrapPath takes the errno out of an *fs.PathError: the File's own
// errors name the path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// numbered is path.n.
func (r *File) numbered(n int) string { return r.cfg.Path + "." + strconv.Itoa(n) }

// removeExcess removes path.(Keep+1) … up to the first one missing.
func (r *File) removeExcess() {
	for i := r.cfg.Keep + 1; ; i++ {
		if err := os.Remove(r.numbered(i)); err != nil {
			return
		}
		r.log.Info().Str("removed", r.numbered(i)).Int("keep", r.cfg.Keep).Msg("removed a rotated file past the number kept")
	}
}

// Write appends p, which should be whole lines, in one write(2). It
// rotates first when MaxSize says so; a failed rotation is logged and the
// lines go to the current file. A failed write leaves nothing of p in the
// file; then p's lines are dropped and counted and Write returns len(p),
// nil, or, with Retain, Write returns 0 and the error.
func (r *File) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, ErrClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.pending {
		_ = r.openPending() // else on to the renamed file, as before
	}
	if r.cfg.MaxSize > 0 && r.size > 0 && r.size+int64(len(p)) > r.cfg.MaxSize {
		r.rotateBySize()
	}
	err := r.write(p)
	if err == nil {
		if r.failing {
			r.failing = false
			r.log.Info().Uint64("dropped_lines", r.dropped).Msg("writing again")
		}
		return len(p), nil
	}
	if !r.failing {
		r.failing = true
		if r.cfg.Retain {
			r.log.Warn().Err(err).Msg("write failed; the lines are held to be written again")
		} else {
			r.log.Warn().Err(err).Msg("write failed: dropping lines (counted) until the file takes them again")
		}
	}
	if r.cfg.Retain {
		return 0, err
	}
	r.dropped += lines(p)
	return len(p), nil
}

// write writes p whole or not at all.
func (r *File) write(p []byte) error {
	if r.torn {
		n, err := r.f.Write([]byte{'\n'})
		r.size += int64(n)
		if err != nil {
			return fmt.Errorf("writing %s: %w", r.cfg.Path, unwrapPath(err))
		}
		r.torn = false
	}
	n, err := r.f.Write(p)
	if err == nil {
		r.size += int64(n)
		return nil
	}
	if n > 0 {
		r.takeBack(int64(n))
	}
	return fmt.Errorf("writing %s: %w", r.cfg.Path, unwrapPath(err))
}

// takeBack truncates away the n bytes a failed write left at the end. The
// end is asked of the file (not taken from size), so a file truncated by
// someone else is never extended with zeros. When that fails the partial
// line stays, and the next write ends it with a newline so that its own
// first line is whole.
func (r *File) takeBack(n int64) {
	st, err := r.f.Stat()
	if err == nil && st.Size() >= n {
		err = r.f.Truncate(st.Size() - n)
	} else if err == nil {
		err = errors.New("file shorter than the partial write")
	}
	if err != nil {
		r.size += n
		r.torn = true
		r.log.Warn().Err(err).Int64("bytes", n).Msg("cannot take back part of a failed write: the next write ends that line first")
	}
}

// lines counts p's lines, an unterminated last one included.
func lines(p []byte) uint64 {
	n := uint64(bytes.Count(p, []byte{'\n'}))
	if len(p) > 0 && p[len(p)-1] != '\n' {
		n++
	}
	return n
}

// rotateBySize rotates for Write, logging a failure once per spell.
func (r *File) rotateBySize() {
	if err := r.rotate(); err != nil {
		if !r.rotFailing {
			r.rotFailing = true
			r.log.Warn().Err(err).Msg("rotation failed: writing on to the current file")
		}
		return
	}
	if r.rotFailing {
		r.rotFailing = false
		r.log.Info().Msg("rotating again")
	}
}

// Rotate rotates now (see the package doc); with Keep 0 it does nothing.
// On an error from the renames the current file stays in use; when only
// opening the new file fails, the renamed one (path.1) is written on to
// until a later Write can open it.
func (r *File) Rotate() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	return r.rotate()
}

func (r *File) rotate() error {
	if r.cfg.Keep < 1 {
		return nil
	}
	if r.pending {
		// The last rotation is not finished: the file at path.1 is ours;
		// shifting again would move it further away.
		return r.openPending()
	}
	var errs []error
	if err := r.f.Sync(); err != nil {
		errs = append(errs, fmt.Errorf("fsync %s: %w", r.cfg.Path, unwrapPath(err)))
	}
	for i := r.cfg.Keep; i > 1; i-- {
		// A failure here is not fatal, as in auditd: at worst the
		// rename below overwrites path.1.
		if err := os.Rename(r.numbered(i-1), r.numbered(i)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := os.Rename(r.cfg.Path, r.numbered(1)); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			// Nothing moved: go on appending to the file at path.
			return errors.Join(append(errs, err)...)
		}
		// path is gone already (moved by hand, or by logrotate with no
		// SIGHUP): ours is elsewhere and not ours to chmod; start anew.
	} else {
		// Through the descriptor: no path race. A failure is not fatal
		// (auditd ignores it too).
		_ = r.f.Chmod(r.cfg.Mode &^ 0o222)
	}
	r.pending = true
	if err := r.openPending(); err != nil {
		return errors.Join(append(errs, fmt.Errorf("%w (writing on to %s)", err, r.numbered(1)))...)
	}
	return errors.Join(errs...)
}

// openPending opens the new file of a rotation, closes the old one and
// fsyncs the directory, so that the renames and the new name survive a
// power cut together.
func (r *File) openPending() error {
	f, size, err := r.open()
	if err != nil {
		return err
	}
	if err := r.f.Close(); err != nil {
		r.log.Warn().Err(err).Msg("closing the rotated file")
	}
	r.f, r.size, r.torn, r.pending = f, size, false, false
	r.rotations++
	if err := atomicfile.SyncDir(filepath.Dir(r.cfg.Path)); err != nil {
		r.log.Warn().Err(err).Msg("rotated, but the renames may not survive a power cut")
	}
	return nil
}

// Reopen opens path anew and closes the file in use, for a SIGHUP after
// logrotate renamed it away. When path cannot be opened the file in use
// stays and the error is returned.
func (r *File) Reopen() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	f, size, err := r.open()
	if err != nil {
		return err
	}
	old := r.f
	r.f, r.size, r.torn, r.pending = f, size, false, false
	if err := old.Sync(); err != nil {
		r.log.Warn().Err(err).Msg("fsync of the file reopened away from failed: its last lines may be lost")
	}
	old.Close()
	return nil
}

// Sync fsyncs the file.
func (r *File) Sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", r.cfg.Path, unwrapPath(err))
	}
	return nil
}

// Close fsyncs and closes the file. A second Close does nothing.
func (r *File) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	var serr, cerr error
	if err := r.f.Sync(); err != nil {
		serr = fmt.Errorf("fsync %s: %w", r.cfg.Path, unwrapPath(err))
	}
	if err := r.f.Close(); err != nil {
		cerr = fmt.Errorf("closing %s: %w", r.cfg.Path, unwrapPath(err))
	}
	return errors.Join(serr, cerr)
}

// Size is the current file's size as this File knows it: its size when
// opened plus what was written to it since.
func (r *File) Size() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.size
}

// Dropped is the number of lines dropped by failed writes (always zero
// with Retain), and whether the last write failed.
func (r *File) Dropped() (lines uint64, failing bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped, r.failing
}

// Rotations is the number of rotations completed (a new file opened).
func (r *File) Rotations() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rotations
}
