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
//     removed at open (the file handling is internal/rotate's, shared with
//     the events file; this package decides when to rotate);
//   - daemon records carry auditd's own serial counter (random start
//     below 10000, then +1), the writer's pid, uid, loginuid and session;
//     ver= says "lineaged" (ausearch and aureport do not read it).
//
// Records are buffered and written at the latest FlushEvery after they
// were accepted (on the next Write, Flush, or a timer); Close fsyncs.
// The directory is created 0750 when missing, never chmod'ed.
//
// A failing disk (ENOSPC, EIO) loses nothing at first: a write that fails
// leaves nothing of its lines in the file (never half a line), the
// records stay buffered and are written again at most every FlushEvery;
// past 16 MiB buffered, Write refuses records (ErrDropped) and counts
// them.
package auditlog

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/internal/rotate"
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
	Mode        fs.FileMode   // mode of audit.log (default 0600; 0640 for a log group)
	// TypeName names a record type as auditd's libaudit does ("SYSCALL"
	// for 1300): audit.TypeName. Required. It is asked once, at Open, for
	// the types libaudit 3.0.9 knows; every other type is written
	// UNKNOWN[n], as auditd 3.0.9 does, whatever TypeName says of it.
	// Passed in because auditlog, an output, imports no source (SPEC §8).
	TypeName func(uint16) string
	// Version goes into DAEMON_START's ver= field as "lineaged-VERSION"
	// ("lineaged" when empty), where auditd writes its own version.
	Version string
	// Now is the clock for daemon record timestamps and flush timing
	// (default time.Now).
	Now func() time.Time
	// Log receives the file's trouble (a failing disk, a failed
	// rotation) once when it starts, and its recovery. The zero Logger
	// discards.
	Log zerolog.Logger
}

// Stats counts what a Writer did.
type Stats struct {
	Records     uint64 // kernel records accepted by Write
	Bytes       uint64 // bytes written to the log files, daemon records included
	Rotations   uint64 // files rotated, by size or by Rotate
	WriteErrors uint64 // failed writes, rotations, syncs and closes
	Dropped     uint64 // records lost: refused by Write or still buffered when Close failed
}

// opener opens the log file (os.OpenFile; tests make its writes fail).
type opener func(name string, flag int, perm fs.FileMode) (rotate.OSFile, error)

// Writer writes records to the audit log. Its methods may be called from
// several goroutines.
type Writer struct {
	mu          sync.Mutex
	cfg         Config
	names       typeNames
	out         *rotate.File
	buf         []byte // records not yet written
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
func Open(cfg Config) (*Writer, error) { return openWith(cfg, nil) }

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
	// rotate.File: append only, no symbolic link followed, created and
	// chmod'ed to Mode, a regular file (as auditd's open_audit_log);
	// rotated by this package (after the record that reaches
	// MaxFileSize), the numbered files shifted and made read-only by
	// rotate. Retain: a failed write leaves the records here, buffered.
	rc := rotate.Config{Path: cfg.Path, Mode: cfg.Mode, Retain: true, Log: cfg.Log, OpenFile: open}
	if cfg.NumLogs >= 2 {
		rc.Keep, rc.RemoveExcess = cfg.NumLogs-1, true // check_excess_logs
	}
	out, err := rotate.Open(rc)
	if err != nil {
		return nil, fmt.Errorf("auditlog: %w", err)
	}
	w := &Writer{
		cfg:         cfg,
		names:       names,
		out:         out,
		seq:         uint32(rand.IntN(9999) + 1),
		id:          selfIdentity(cfg.Version),
		maxBuffered: defaultMaxBuffered,
	}
	w.lastFlush = cfg.Now()
	if w.size() >= cfg.MaxFileSize && cfg.NumLogs >= 2 {
		if err := w.rotateLocked(); err != nil {
			out.Close()
			return nil, err
		}
	}
	w.appendDaemon(typeDaemonStart)
	if err := w.flushLocked(); err != nil {
		out.Close()
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

// size is the current file's size with the buffered records: what it
// will be once they are written.
func (w *Writer) size() int64 { return w.out.Size() + int64(len(w.buf)) }

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
	w.buf = w.names.appendLine(w.buf, w.cfg.Node, typ, payload)
	w.stats.Records++

	now := w.cfg.Now()
	if w.lastErr != nil && now.Sub(w.lastFlush) < w.cfg.FlushEvery {
		w.armTimer()
		return nil // the disk failed just now: retry at most every FlushEvery
	}
	if w.size() >= w.cfg.MaxFileSize && w.cfg.NumLogs >= 2 {
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
	// All of it or nothing (rotate takes a partial write back): the
	// records stay buffered until the disk takes them whole.
	if _, err := w.out.Write(w.buf); err != nil {
		return w.fail(fmt.Errorf("auditlog: %w", err))
	}
	w.stats.Bytes += uint64(len(w.buf))
	w.buf = w.buf[:0]
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

// rotateLocked is auditd's rotate_logs: flush, fsync, shift the numbered
// files up, make the old file read-only and open a new audit.log (see
// internal/rotate). When the renames fail the records go on to the
// current file, as auditd's do.
func (w *Writer) rotateLocked() error {
	if w.cfg.NumLogs < 2 {
		return nil
	}
	// The buffered records belong to the old file. If they cannot be
	// written there, do not rotate: retry later.
	if err := w.flushLocked(); err != nil {
		return err
	}
	if err := w.out.Rotate(); err != nil {
		return w.fail(fmt.Errorf("auditlog: rotating: %w", err))
	}
	return nil
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
	var cerr error
	if e := w.out.Close(); e != nil { // fsync, close
		cerr = w.fail(fmt.Errorf("auditlog: %w", e))
	}
	return errors.Join(err, cerr)
}

// Stats returns the counters so far.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.stats
	st.Rotations = w.out.Rotations()
	return st
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
	w.buf = w.names.appendLine(w.buf, w.cfg.Node, typ, p)
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
