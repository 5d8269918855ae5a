package agent

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/auditlog"
	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/output"
	"github.com/lineaged/lineaged/syslogout"
)

// Flusher is a Sink with a buffer.
type Flusher interface {
	Sink
	Flush() error
}

// outputs are where the live agent writes: the events file (or standard
// output), a copy of every line to syslog, and the native audit.log.
type outputs struct {
	sink  Flusher
	file  *reopenFile       // nil for standard output
	slog  *syslogout.Writer // nil without output.syslog
	alog  *auditlog.Writer  // nil without audit_log
	log   zerolog.Logger
	spool string
}

// openOutputs opens what c's output and audit_log sections name; stdout
// takes the lines when output.file is "-".
func openOutputs(c *config.Config, stdout io.Writer, log zerolog.Logger) (o *outputs, err error) {
	o = &outputs{log: log, spool: c.Output.Syslog.SpoolDir}
	defer func() {
		if err != nil {
			o.Close()
		}
	}()
	if sc := c.Output.Syslog; sc.Address != "" {
		scfg := syslogout.Config{Address: sc.Address, Hostname: c.Host, AppName: "lineaged",
			Facility: int(sc.Facility), SpoolDir: sc.SpoolDir, MaxSpool: sc.MaxSpool,
			Logf: func(f string, a ...any) { log.Warn().Msgf(f, a...) }}
		if sc.TLS {
			tc, err := syslogTLS(sc.CAFile, sc.ServerName)
			if err != nil {
				return o, fmt.Errorf("output.syslog: %w", err)
			}
			scfg.TLS = tc
		}
		if o.slog, err = syslogout.Open(scfg); err != nil {
			return o, fmt.Errorf("output.syslog: %w", err)
		}
	}
	if c.Output.File == "-" {
		o.sink = output.NewWriterSize(tee(stdout, o.slog), 256<<10)
	} else {
		if o.file, err = openOutput(c.Output.File, c.Output.MaxSize, c.Output.Keep, log); err != nil {
			return o, fmt.Errorf("output %s: %w", c.Output.File, err)
		}
		// output.Writer buffers and hands the file whole lines only: a
		// forwarder tailing the file never reads half an event. 256 KiB:
		// the agent flushes every flush_every anyway; a burst then costs
		// a few write(2) calls.
		o.sink = &fileSink{Writer: output.NewWriterSize(tee(o.file, o.slog), 256<<10), f: o.file}
	}
	if al := c.AuditLog; al.File != "" {
		o.alog, err = auditlog.Open(auditlog.Config{Path: al.File, MaxFileSize: al.MaxSize, NumLogs: int(al.Keep) + 1, FlushEvery: time.Second})
		if err != nil {
			return o, fmt.Errorf("audit_log: %w", err)
		}
	}
	return o, nil
}

// Close syncs and closes what is open.
func (o *outputs) Close() error {
	var errs []error
	if o.file != nil {
		errs = append(errs, o.file.Sync(), o.file.Close())
	}
	if o.alog != nil {
		if err := o.alog.Close(); err != nil {
			errs = append(errs, fmt.Errorf("audit log: %w", err))
		}
	}
	if o.slog != nil {
		if err := o.slog.Close(); err != nil {
			o.log.Warn().Err(err).Str("spool", o.spool).Msg("syslog: unsent lines stay in the spool for the next start")
		}
	}
	return errors.Join(errs...)
}

// reopen opens the events file anew by path (after a rotation by
// logrotate), lines written before in the old file.
func (o *outputs) reopen() error {
	if err := o.sink.Flush(); err != nil {
		return fmt.Errorf("flushing the output: %w", err)
	}
	if o.file != nil {
		if err := o.file.Reopen(); err != nil {
			return fmt.Errorf("reopening the output: %w", err)
		}
	}
	return nil
}

// dropped is the number of lines the events file dropped (a full disk)
// and whether it is dropping now.
func (o *outputs) dropped() (uint64, bool) {
	if o.file == nil {
		return 0, false
	}
	return o.file.Dropped()
}

// reopenFile is the events file. It rotates by size (file -> file.1 ->
// file.2 ..., a rename: forwarders that follow files by inode finish the
// old one) and is reopened by path on SIGHUP, after a rotation by
// logrotate (rename, never copytruncate). Writes carry whole lines
// (output.Writer), so a rotation never splits one.
type reopenFile struct {
	path    string
	f       *os.File
	size    int64
	maxSize int64  // 0: never rotate
	keep    uint32 // rotated files kept
	dropped uint64 // lines lost to write errors
	failing bool   // the last write failed
	log     zerolog.Logger
}

func openOutput(path string, maxSize int64, keep uint32, log zerolog.Logger) (*reopenFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	r := &reopenFile{path: path, maxSize: maxSize, keep: max(keep, 1), log: log}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *reopenFile) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	r.size = 0
	if fi, err := f.Stat(); err == nil {
		r.size = fi.Size()
	}
	r.f = f
	return nil
}

func (r *reopenFile) Write(p []byte) (int, error) {
	if r.maxSize > 0 && r.size > 0 && r.size+int64(len(p)) > r.maxSize {
		if err := r.rotate(); err != nil {
			// Keep writing to the file we have: a full disk or a
			// permission problem must not lose the lines.
			r.log.Warn().Err(err).Str("file", r.path).Msg("rotating the events file failed; writing on to it")
		}
	}
	n, err := r.f.Write(p)
	if err != nil {
		// A full disk (ENOSPC, EDQUOT) or an I/O error: take back the
		// partial line, count the lines dropped, and go on; the agent
		// reports the count once writes succeed again.
		if n > 0 {
			_ = r.f.Truncate(r.size)
		}
		r.dropped += uint64(bytes.Count(p, []byte{'\n'}))
		if !r.failing {
			r.log.Error().Err(err).Str("file", r.path).Msg("writing the events file failed: dropping lines (counted) until it can be written again")
		}
		r.failing = true
		return len(p), nil
	}
	if r.failing {
		r.log.Warn().Str("file", r.path).Uint64("dropped", r.dropped).Msg("writing the events file again")
	}
	r.failing = false
	r.size += int64(n)
	return n, nil
}

// Dropped is the number of lines that could not be written, and whether
// writes are failing now.
func (r *reopenFile) Dropped() (uint64, bool) { return r.dropped, r.failing }

// rotate shifts file.N-1 -> file.N ... file -> file.1 and opens a new file.
func (r *reopenFile) rotate() error {
	_ = r.f.Sync()
	for i := r.keep; i > 1; i-- {
		_ = os.Rename(fmt.Sprintf("%s.%d", r.path, i-1), fmt.Sprintf("%s.%d", r.path, i))
	}
	if err := os.Rename(r.path, r.path+".1"); err != nil {
		return err
	}
	old := r.f
	if err := r.open(); err != nil {
		r.f = old // renamed away, but still ours to write to
		return err
	}
	return old.Close()
}

func (r *reopenFile) Sync() error  { return r.f.Sync() }
func (r *reopenFile) Close() error { return r.f.Close() }

// Reopen opens the path anew; on failure the old file stays in use.
func (r *reopenFile) Reopen() error {
	old, oldSize := r.f, r.size
	if err := r.open(); err != nil {
		r.f, r.size = old, oldSize
		return err
	}
	_ = old.Sync()
	return old.Close()
}

// fileSink is the buffered writer over the events file.
type fileSink struct {
	*output.Writer
	f *reopenFile
}

// tee writes each batch of whole lines to the file (or standard output)
// and, when configured, to syslog; a syslog problem never holds the file
// back (the syslog writer spools and counts on its own).
func tee(w io.Writer, slog *syslogout.Writer) io.Writer {
	if slog == nil {
		return w
	}
	return &teeWriter{w: w, slog: slog}
}

type teeWriter struct {
	w    io.Writer
	slog *syslogout.Writer
}

func (t *teeWriter) Write(p []byte) (int, error) {
	_, _ = t.slog.Write(p) // never blocks on the network; counts its own losses
	return t.w.Write(p)
}

// syslogTLS builds the TLS configuration: the receiver's certificate must
// chain to caFile (or the system's roots) and name serverName (or the
// address's host).
func syslogTLS(caFile, serverName string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", caFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}
