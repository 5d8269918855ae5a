// Package auditlog writes the kernel's audit records to an audit.log in
// the format of Debian's auditd 3.0.9 with log_format = RAW, so that
// ausearch -if and aureport -if read it as they read auditd's own log.
//
// Behaviour copied from auditd 3.0.9 (auditd.c, auditd-event.c, checked
// against a real auditd on Debian 12; see testdata/README.md):
//
//   - one line per record: "[node=NODE ]type=NAME msg=PAYLOAD";
//   - DAEMON_START (1200) first when the writer opens (appending to an
//     existing file), DAEMON_END (1201) last when it closes;
//   - a rotation because the file reached MaxFileSize writes no record:
//     the old file ends with the record that crossed the limit, the new
//     one starts with the next record;
//   - a forced rotation (Rotate, auditd's SIGUSR1) rotates first and then
//     writes DAEMON_ROTATE (1205) op=rotate-logs as the first record of
//     the new file;
//   - audit.log → audit.log.1 → ... → audit.log.(NumLogs-1), the oldest
//     overwritten; NumLogs < 2 disables rotation; a rotated file is made
//     read-only (0400, or 0440 for a 0640 log); files past NumLogs-1 are
//     removed at open;
//   - daemon records carry auditd's own serial counter (random start
//     below 10000, then +1), the writer's pid, uid, loginuid and session;
//     ver= says "lineaged" (ausearch and aureport do not read it).
//
// Records are buffered and written at the latest FlushEvery after they
// were accepted (on the next Write, Flush, or a timer); Close fsyncs.
// The directory is created 0750 when missing, never chmod'ed.
package auditlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Record types of the daemon's own records.
const (
	typeDaemonStart  = 1200
	typeDaemonEnd    = 1201
	typeDaemonRotate = 1205
)

// Defaults, auditd.conf's own.
const (
	DefaultMaxFileSize = 8 << 20 // max_log_file = 8 (MiB)
	DefaultNumLogs     = 5       // num_logs = 5
	DefaultFlushEvery  = time.Second
	DefaultMode        = fs.FileMode(0o600)
)

const (
	flushThreshold     = 64 << 10 // write out once this much is buffered
	defaultMaxBuffered = 16 << 20 // refuse records past this while the disk fails
)

// ErrClosed is returned by calls on a closed Writer.
var ErrClosed = errors.New("auditlog: writer is closed")

// ErrDropped is wrapped by Write's error when the record was not kept:
// the disk has been failing and the buffer is full.
var ErrDropped = errors.New("auditlog: record dropped")

// Config configures a Writer. Zero values take the defaults.
type Config struct {
	Path        string        // e.g. /var/log/lineaged/audit.log
	MaxFileSize int64         // bytes; rotate once the file reaches it (default 8 MiB)
	NumLogs     int           // files kept, audit.log included (default 5); 1 = never rotate
	FlushEvery  time.Duration // buffered records reach the file within this (default 1s)
	Node        string        // node= prefix of every line (auditd's name_format); "" = none
	// TypeName names a record type as auditd's libaudit does ("SYSCALL"
	// for 1300): audit.TypeName. Required. It is asked once, at Open, for
	// the types libaudit 3.0.9 knows; every other type is written
	// UNKNOWN[n], as auditd 3.0.9 does, whatever TypeName says of it.
	// Passed in because auditlog, an output, imports no source (SPEC §8).
	TypeName func(uint16) string
	Mode     fs.FileMode // mode of audit.log (default 0600; 0640 for a log group)
	// Version goes into DAEMON_START's ver= field as "lineaged-VERSION"
	// ("lineaged" when empty), where auditd writes its own version.
	Version string
	// Now is the clock for daemon record timestamps and flush timing
	// (default time.Now).
	Now func() time.Time
}

// Stats counts what a Writer did.
type Stats struct {
	Records     uint64 // kernel records accepted by Write
	Bytes       uint64 // bytes written to the log files, daemon records included
	Rotations   uint64 // files rotated, by size or by Rotate
	WriteErrors uint64 // failed writes, syncs, renames and opens
	Dropped     uint64 // records lost: refused by Write or still buffered when Close failed
}

// logFile is the part of *os.File the writer uses (tests substitute it).
type logFile interface {
	io.Writer
	Sync() error
	Chmod(fs.FileMode) error
	Close() error
}

// opener opens the log for appending, creating it with mode, and returns
// its current size.
type opener func(path string, mode fs.FileMode) (logFile, int64, error)

// Writer writes records to the audit log. Its methods may be called from
// several goroutines.
type Writer struct {
	mu          sync.Mutex
	cfg         Config
	names       typeNames
	open        opener
	f           logFile // nil after a failed reopen; retried on flush
	size        int64   // size of the current file, buffered bytes included
	buf         []byte
	lastFlush   time.Time
	lastErr     error // last disk error, cleared by a successful write
	timer       *time.Timer
	seq         uint32
	id          identity
	closed      bool
	maxBuffered int
	stats       Stats
}

// identity is what auditd writes about itself in its daemon records.
type identity struct {
	pid            int
	uid, auid, ses uint32
	subj, kernel   string
	ver            string
}

// Open opens (creating directories 0750 and the file as needed) the log
// at cfg.Path for appending and writes DAEMON_START. A file already at
// MaxFileSize is rotated first, as auditd does at start.
func Open(cfg Config) (*Writer, error) { return openWith(cfg, openRegular) }

func openWith(cfg Config, open opener) (*Writer, error) {
	if cfg.Path == "" {
		return nil, errors.New("auditlog: no log path")
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = DefaultMaxFileSize
	}
	if cfg.NumLogs <= 0 {
		cfg.NumLogs = DefaultNumLogs
	}
	if cfg.NumLogs > 999 {
		return nil, fmt.Errorf("auditlog: NumLogs %d: at most 999, as auditd", cfg.NumLogs)
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = DefaultFlushEvery
	}
	if cfg.Mode == 0 {
		cfg.Mode = DefaultMode
	}
	cfg.Mode &= fs.ModePerm
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if !validToken(cfg.Node, posixHostNameMax) {
		return nil, fmt.Errorf("auditlog: node name %q: want 1-%d printable characters without spaces or '='", cfg.Node, posixHostNameMax)
	}
	if !validToken(cfg.Version, 64) {
		return nil, fmt.Errorf("auditlog: version %q: want printable characters without spaces or '='", cfg.Version)
	}
	names, err := newTypeNames(cfg.TypeName)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(cfg.Path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("auditlog: cannot create the directory of %s: %w", cfg.Path, err)
	}
	w := &Writer{
		cfg:         cfg,
		names:       names,
		open:        open,
		seq:         uint32(rand.IntN(9999) + 1),
		id:          selfIdentity(cfg.Version),
		maxBuffered: defaultMaxBuffered,
	}
	w.removeExcessLogs()
	if err := w.openCurrent(); err != nil {
		return nil, err
	}
	w.lastFlush = cfg.Now()
	if w.size >= cfg.MaxFileSize && cfg.NumLogs >= 2 {
		if err := w.rotateLocked(); err != nil {
			w.closeFile()
			return nil, err
		}
	}
	w.appendDaemon(typeDaemonStart)
	if err := w.flushLocked(); err != nil {
		w.closeFile()
		return nil, err
	}
	return w, nil
}

func validToken(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '=' || c >= 0x7f {
			return false
		}
	}
	return true
}

// openRegular opens path like auditd's open_audit_log: append only, no
// symlink followed, created with mode, chmod'ed to mode; it must be a
// regular file.
func openRegular(path string, mode fs.FileMode) (logFile, int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, mode)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = &fs.PathError{Op: "open", Path: path, Err: errors.New("not a regular file")}
	}
	if err == nil {
		err = f.Chmod(mode)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// openCurrent opens cfg.Path; the buffered bytes count toward its size.
func (w *Writer) openCurrent() error {
	f, size, err := w.open(w.cfg.Path, w.cfg.Mode)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == w.cfg.Path {
			err = pe.Err
		}
		return fmt.Errorf("auditlog: cannot open %s: %w", w.cfg.Path, err)
	}
	w.f, w.size = f, size+int64(len(w.buf))
	return nil
}

func (w *Writer) closeFile() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}

// removeExcessLogs removes audit.log.N for N >= NumLogs, as auditd's
// check_excess_logs at start: from NumLogs up to the first missing one.
func (w *Writer) removeExcessLogs() {
	if w.cfg.NumLogs < 2 {
		return
	}
	for i := w.cfg.NumLogs; ; i++ {
		if os.Remove(w.cfg.Path+"."+strconv.Itoa(i)) != nil {
			return
		}
	}
}

// Write appends one kernel record (type from the netlink header, payload
// "audit(SEC.MSEC:SERIAL): ..."). The record is buffered; it reaches the
// file when 64 KiB are buffered, when FlushEvery has passed since the last
// flush, on Flush, Rotate or Close. An error wrapping ErrDropped means the
// record was not kept (the disk has been failing and the buffer is full);
// any other error reports a failed write to disk, with the record still
// buffered, to be retried.
func (w *Writer) Write(typ uint16, payload []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if len(w.buf) >= w.maxBuffered {
		if w.cfg.Now().Sub(w.lastFlush) >= w.cfg.FlushEvery {
			w.flushLocked()
		}
		if len(w.buf) >= w.maxBuffered {
			w.stats.Dropped++
			return fmt.Errorf("%w: %d bytes buffered for %s: %v", ErrDropped, len(w.buf), w.cfg.Path, w.lastErr)
		}
	}
	n := len(w.buf)
	w.buf = w.names.appendLine(w.buf, w.cfg.Node, typ, payload)
	w.size += int64(len(w.buf) - n)
	w.stats.Records++

	now := w.cfg.Now()
	if w.lastErr != nil && now.Sub(w.lastFlush) < w.cfg.FlushEvery {
		w.armTimer()
		return nil // the disk failed just now: retry at most every FlushEvery
	}
	if w.size >= w.cfg.MaxFileSize && w.cfg.NumLogs >= 2 {
		return w.rotateLocked()
	}
	if len(w.buf) >= flushThreshold || now.Sub(w.lastFlush) >= w.cfg.FlushEvery {
		return w.flushLocked()
	}
	w.armTimer()
	return nil
}

// armTimer makes sure buffered records are written within FlushEvery
// even when no more records and no Flush come.
func (w *Writer) armTimer() {
	if w.timer != nil || len(w.buf) == 0 {
		return
	}
	w.timer = time.AfterFunc(w.cfg.FlushEvery, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.timer = nil
		if !w.closed && len(w.buf) > 0 {
			w.flushLocked()
			w.armTimer() // still failing: try again later
		}
	})
}

// Flush writes the buffered records to the file (no fsync).
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	w.lastFlush = w.cfg.Now()
	if len(w.buf) == 0 {
		return nil
	}
	if w.f == nil {
		if err := w.openCurrent(); err != nil {
			return w.fail(err)
		}
	}
	n, err := w.f.Write(w.buf)
	if n > 0 {
		w.stats.Bytes += uint64(n)
		w.buf = w.buf[:copy(w.buf, w.buf[n:])]
	}
	if err != nil {
		return w.fail(fmt.Errorf("auditlog: writing %s: %w", w.cfg.Path, err))
	}
	w.lastErr = nil
	return nil
}

func (w *Writer) fail(err error) error {
	w.stats.WriteErrors++
	w.lastErr = err
	return err
}

// Rotate rotates the logs now, like auditd on SIGUSR1: audit.log becomes
// audit.log.1 (and so on) and the new audit.log starts with DAEMON_ROTATE
// op=rotate-logs. With NumLogs 1 nothing is rotated and DAEMON_ROTATE is
// appended to the current file, as auditd does.
func (w *Writer) Rotate() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	err := w.rotateLocked()
	w.appendDaemon(typeDaemonRotate)
	if err != nil {
		w.armTimer()
		return err
	}
	return w.flushLocked()
}

// rotateLocked is auditd's rotate_logs: flush, make the file read-only,
// close it, shift the numbered files up and open a new audit.log.
func (w *Writer) rotateLocked() error {
	if w.cfg.NumLogs < 2 {
		return nil
	}
	// The buffered records belong to the old file. If they cannot be
	// written there, do not rotate: retry later.
	if err := w.flushLocked(); err != nil {
		return err
	}
	var errs []error
	if w.f != nil {
		if err := w.f.Sync(); err != nil {
			errs = append(errs, w.fail(fmt.Errorf("auditlog: fsync %s: %w", w.cfg.Path, err)))
		}
		w.f.Chmod(w.cfg.Mode &^ 0o222) // as auditd: a failure is not fatal
		w.f.Close()
		w.f = nil
	}
	p := w.cfg.Path
	for i := w.cfg.NumLogs - 1; i > 1; i-- {
		err := os.Rename(p+"."+strconv.Itoa(i-1), p+"."+strconv.Itoa(i))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, w.fail(fmt.Errorf("auditlog: rotating: %w", err)))
		}
	}
	if err := os.Rename(p, p+".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, w.fail(fmt.Errorf("auditlog: rotating: %w", err)))
		os.Chmod(p, w.cfg.Mode) // keep appending to it, as auditd
	} else {
		w.stats.Rotations++
	}
	if err := w.openCurrent(); err != nil {
		errs = append(errs, w.fail(err))
	}
	return errors.Join(errs...)
}

// Close writes DAEMON_END, flushes, fsyncs and closes the log.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.appendDaemon(typeDaemonEnd)
	err := w.flushLocked()
	if err != nil {
		// Records still buffered are lost now (the last line is DAEMON_END).
		if n := bytes.Count(w.buf, []byte{'\n'}) - 1; n > 0 {
			w.stats.Dropped += uint64(n)
		}
		w.buf = nil
	}
	var serr, cerr error
	if w.f != nil {
		if e := w.f.Sync(); e != nil {
			serr = w.fail(fmt.Errorf("auditlog: fsync %s: %w", w.cfg.Path, e))
		}
		if e := w.f.Close(); e != nil {
			cerr = w.fail(fmt.Errorf("auditlog: closing %s: %w", w.cfg.Path, e))
		}
		w.f = nil
	}
	return errors.Join(err, serr, cerr)
}

// Stats returns the counters so far.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// appendDaemon buffers one of the daemon's own records, in the shape
// auditd 3.0.9 writes them (auditd.c): DAEMON_START with the daemon's
// ids, DAEMON_ROTATE and DAEMON_END as audit_format_signal_info writes
// them, here with the writer's own ids where auditd has the signal
// sender's (the same when the agent rotates or stops on its own).
func (w *Writer) appendDaemon(typ uint16) {
	id := &w.id
	now := w.cfg.Now()
	p := make([]byte, 0, 256)
	p = append(p, "audit("...)
	p = strconv.AppendInt(p, now.Unix(), 10)
	p = append(p, '.')
	ms := now.Nanosecond() / int(time.Millisecond)
	p = append(p, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	p = append(p, ':')
	p = strconv.AppendUint(p, uint64(w.seq), 10)
	p = append(p, "): "...)
	w.seq++
	u := func(k string, v uint32) {
		p = append(p, k...)
		p = strconv.AppendUint(p, uint64(v), 10)
	}
	switch typ {
	case typeDaemonStart:
		p = append(p, "op=start ver="...)
		p = append(p, id.ver...)
		p = append(p, " format=raw kernel="...)
		p = append(p, id.kernel...)
		u(" auid=", id.auid)
		p = append(p, " pid="...)
		p = strconv.AppendInt(p, int64(id.pid), 10)
		u(" uid=", id.uid)
		u(" ses=", id.ses)
	default:
		if typ == typeDaemonRotate {
			p = append(p, "op=rotate-logs"...)
		} else {
			p = append(p, "op=terminate"...)
		}
		// The kernel's signal info names the sender by its loginuid, or
		// by its uid when the loginuid is unset (audit_signal_info_syscall).
		auid := id.auid
		if auid == 1<<32-1 {
			auid = id.uid
		}
		u(" auid=", auid)
		u(" uid=", id.uid)
		u(" ses=", id.ses)
		p = append(p, " pid="...)
		p = strconv.AppendInt(p, int64(id.pid), 10)
	}
	if id.subj != "" {
		p = append(p, " subj="...)
		p = append(p, id.subj...)
	}
	p = append(p, " res=success"...)
	if len(p) > maxDaemonPayload {
		p = p[:maxDaemonPayload]
	}
	n := len(w.buf)
	w.buf = w.names.appendLine(w.buf, w.cfg.Node, typ, p)
	w.size += int64(len(w.buf) - n)
}

func selfIdentity(version string) identity {
	id := identity{
		pid:  os.Getpid(),
		uid:  uint32(os.Getuid()),
		auid: readUint32("/proc/self/loginuid"),
		ses:  readUint32("/proc/self/sessionid"),
		ver:  "lineaged",
	}
	if version != "" {
		id.ver += "-" + version
	}
	// auditd's getsubj: the LSM label, when there is one.
	if b, err := os.ReadFile("/proc/self/attr/current"); err == nil {
		id.subj = strings.TrimRight(string(b), "\x00\n")
	}
	// auditd: uname's release, "%.56s".
	id.kernel = "?"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		if k := strings.TrimSpace(string(b)); k != "" {
			id.kernel = k
		}
	}
	if len(id.kernel) > 56 {
		id.kernel = id.kernel[:56]
	}
	return id
}

// readUint32 reads a number from a /proc file; unset (4294967295) when
// it cannot.
func readUint32(path string) uint32 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 1<<32 - 1
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		return 1<<32 - 1
	}
	return uint32(v)
}
