package agent

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/auditlog"
	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/internal/hostinfo"
	"github.com/lineaged/lineaged/internal/rotate"
	"github.com/lineaged/lineaged/kafkaout"
	"github.com/lineaged/lineaged/output"
	"github.com/lineaged/lineaged/proc"
	"github.com/lineaged/lineaged/syslogout"
)

// Flusher is a Sink with a buffer.
type Flusher interface {
	Sink
	Flush() error
}

// outputs are where the live agent writes: the events file (or standard
// output), a copy of every line to syslog and to Kafka, and the native
// audit.log.
type outputs struct {
	sink  Flusher
	file  *rotate.File      // nil for standard output
	slog  *syslogout.Writer // nil without output.syslog
	kafka *kafkaout.Writer  // nil without output.kafka
	alog  *auditlog.Writer  // nil without audit_log
	log   zerolog.Logger
	cfg   config.Output
}

// NewEncoder is the line encoder of c's output section: its ancestry mode,
// agent.* (version, and live this installation's id), and, live, the
// local host's facts for host.* (local; replay describes the recorded
// host, which only its records' node= names).
func NewEncoder(c *config.Config, version string, local bool, log zerolog.Logger) *output.Encoder {
	anc, err := output.ParseAncestry(c.Output.Ancestry)
	if err != nil {
		log.Warn().Err(err).Msg("writing compact ancestry")
	}
	o := output.Options{Ancestry: anc, RecordTypes: c.Output.RecordTypes, HostDetails: c.Output.HostDetails,
		Agent: output.Agent{Version: version}}
	if local {
		o.Host, o.Agent.ID = localFacts(c, log)
		o.HostNetNS = proc.NewFS("/proc").NetNS(1)
	}
	return output.NewEncoder(o)
}

// openOutputs opens what c's output and audit_log sections name; stdout
// takes the lines when output.file is "-". enc encodes them.
func openOutputs(c *config.Config, enc *output.Encoder, stdout io.Writer, log zerolog.Logger) (o *outputs, err error) {
	o = &outputs{log: log, cfg: c.Output}
	defer func() {
		if err != nil {
			o.Close()
		}
	}()
	if o.slog, err = openSyslog(c, log); err != nil {
		return o, fmt.Errorf("output.syslog: %w", err)
	}
	if o.kafka, err = openKafka(c.Output.Kafka, log); err != nil {
		return o, fmt.Errorf("output.kafka: %w", err)
	}
	if c.Output.File == "-" {
		w := output.NewWriterSize(tee(stdout, o.copies()...), 256<<10)
		w.SetEncoder(enc)
		o.sink = w
	} else {
		if o.file, err = openEvents(c.Output, log); err != nil {
			return o, fmt.Errorf("output %s: %w", c.Output.File, err)
		}
		// output.Writer buffers and hands the file whole lines only: a
		// forwarder tailing the file never reads half an event. 256 KiB:
		// the agent flushes every flush_every anyway; a burst then costs
		// a few write(2) calls.
		w := output.NewWriterSize(tee(o.file, o.copies()...), 256<<10)
		w.SetEncoder(enc)
		o.sink = &fileSink{Writer: w, f: o.file}
	}
	if al := c.AuditLog; al.File != "" {
		o.alog, err = auditlog.Open(auditlog.Config{Path: al.File, MaxFileSize: al.MaxSize, NumLogs: int(al.Keep) + 1, FlushEvery: time.Second,
			TypeName: audit.TypeName, Log: log.With().Str("output", "audit_log").Logger()})
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
			o.log.Warn().Err(err).Str("spool", o.cfg.Syslog.SpoolDir).Msg("syslog: unsent lines stay in the spool for the next start")
		}
	}
	if o.kafka != nil {
		if err := o.kafka.Close(); err != nil {
			o.log.Warn().Err(err).Str("spool", o.cfg.Kafka.SpoolDir).Msg("kafka: unsent lines stay in the spool for the next start")
		}
	}
	return errors.Join(errs...)
}

// openSyslog opens output.syslog; nil when it is off.
func openSyslog(c *config.Config, log zerolog.Logger) (*syslogout.Writer, error) {
	sc := c.Output.Syslog
	if sc.Address == "" {
		return nil, nil
	}
	scfg := syslogout.Config{Address: sc.Address, Hostname: c.Host, AppName: "lineaged",
		Facility: int(sc.Facility), SpoolDir: sc.SpoolDir, MaxSpool: sc.MaxSpool,
		Log: log.With().Str("output", "syslog").Logger()}
	if sc.TLS {
		tc, err := clientTLS(sc.CAFile, sc.ServerName)
		if err != nil {
			return nil, err
		}
		scfg.TLS = tc
	}
	return syslogout.Open(scfg)
}

// openKafka opens output.kafka; nil when it is off.
func openKafka(kc config.Kafka, log zerolog.Logger) (*kafkaout.Writer, error) {
	if len(kc.Brokers) == 0 {
		return nil, nil
	}
	kcfg := kafkaout.Config{Brokers: kc.Brokers, Compression: kc.Compression,
		Topics:   kafkaout.Topics{Event: kc.Topics.Event, Alert: kc.Topics.Alert},
		SASL:     kafkaout.SASL{Mechanism: kc.SASL.Mechanism, Username: kc.SASL.Username, PasswordFile: kc.SASL.PasswordFile},
		SpoolDir: kc.SpoolDir, MaxSpool: kc.MaxSpool, Log: log}
	if kc.TLS {
		tc, err := clientTLS(kc.CAFile, kc.ServerName)
		if err != nil {
			return nil, err
		}
		kcfg.TLS = tc
	}
	return kafkaout.Open(kcfg)
}

// copies are the outputs that take a copy of every line (nil ones left
// out: a nil pointer in an interface is not nil).
func (o *outputs) copies() []io.Writer {
	var ws []io.Writer
	if o.slog != nil {
		ws = append(ws, o.slog)
	}
	if o.kafka != nil {
		ws = append(ws, o.kafka)
	}
	return ws
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

// openEvents opens the events file: appended, 0640, rotated by size
// (file -> file.1 -> file.2 ..., a rename: forwarders that follow files
// by inode finish the old one) and reopened by path on SIGHUP after a
// rotation by logrotate (rename, never copytruncate). A write that fails
// (a full disk) drops its whole lines and counts them; writing resumes
// when it can. output.Writer hands it whole lines, so a rotation never
// splits one.
func openEvents(c config.Output, log zerolog.Logger) (*rotate.File, error) {
	if err := os.MkdirAll(filepath.Dir(c.File), 0o750); err != nil {
		return nil, err
	}
	keep := 0
	if c.MaxSize > 0 {
		keep = int(max(c.Keep, 1))
	}
	return rotate.Open(rotate.Config{Path: c.File, MaxSize: c.MaxSize, Keep: keep, Mode: 0o640,
		Log: log.With().Str("output", "events").Logger()})
}

// fileSink is the buffered writer over the events file.
type fileSink struct {
	*output.Writer
	f *rotate.File
}

// tee writes each batch of whole lines to the file (or standard output)
// and to the copies (syslog, Kafka); a copy's problem never holds the
// file back: their Write never blocks on the network, and they spool and
// count their losses on their own.
func tee(w io.Writer, copies ...io.Writer) io.Writer {
	if len(copies) == 0 {
		return w
	}
	return &teeWriter{w: w, copies: copies}
}

type teeWriter struct {
	w      io.Writer
	copies []io.Writer
}

func (t *teeWriter) Write(p []byte) (int, error) {
	for _, c := range t.copies {
		_, _ = c.Write(p)
	}
	return t.w.Write(p)
}

// clientTLS builds the TLS configuration of a syslog or Kafka connection:
// the peer's certificate must chain to caFile (or the system's roots) and
// name serverName (or the address's host).
func clientTLS(caFile, serverName string) (*tls.Config, error) {
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

// localFacts are host.* and agent.id of the machine lineaged runs on
// (internal/hostinfo), for lines of host.name c.Host.
func localFacts(c *config.Config, log zerolog.Logger) (*output.Host, string) {
	h := hostinfo.Read(hostinfo.DefaultPaths())
	id, err := hostinfo.AgentID(c.StateDir, h.ID)
	if err != nil {
		log.Warn().Err(err).Str("state_dir", c.StateDir).Msg("agent.id")
	}
	return &output.Host{Name: c.Host, Hostname: h.Hostname, ID: h.ID, Architecture: h.Architecture,
		OSType: h.OS.Type, OSKernel: h.OS.Kernel, OSName: h.OS.Name, OSVersion: h.OS.Version,
		OSFamily: h.OS.Family, OSPlatform: h.OS.Platform}, id
}
