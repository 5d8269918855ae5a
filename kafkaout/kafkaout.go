// Package kafkaout sends lineaged's JSON lines to Kafka, and keeps them
// in a spool on disk (internal/spool) while the brokers cannot take them.
//
// # Records
//
// Each JSON line becomes one record: the line as the value, the line's
// host.name as the key (so one host's lines keep their order in one
// partition; no key when the line has none), on Topics.Alert when the
// line's event.kind is "alert", else on Topics.Event. The producer is
// idempotent (no duplicates from its own retries, order kept within a
// partition), waits for every in-sync replica (acks=all), and compresses
// batches (zstd or lz4). The topics must exist: the writer does not
// create them.
//
// # Delivery: at least once
//
// Write never waits on the network: it queues the lines in memory for the
// sender goroutine or, while the brokers are failing deliveries or the
// memory queue is full (the producer has MaxInFlight bytes unacknowledged),
// appends them to the spool. The sender hands the producer the oldest
// first: lines to produce again, then the spool, then the memory queue.
//
// A line counts as sent when the brokers acknowledge it (acks=all). A
// delivery that fails (no acknowledgement within DeliveryTimeout, or an
// error from the brokers) is counted in Stats.Errors and produced again,
// first, after a backoff; meanwhile Write spools. A line read from the
// spool leaves it only once the brokers acknowledged it: the spool is
// read a chunk at a time, the next chunk (which deletes a segment read to
// its end) only once every line of the last one is acknowledged, so a
// crash of this process re-sends at most a segment, never loses one.
// Lines in memory (the queue, and what the producer holds) are on disk
// only after Close (Flush spools the queue): a crash loses them.
//
// Lines are lost only when counted in Stats.Dropped: the spool is full
// (MaxSpool: the oldest segments go), the disk fails, a spool segment
// cannot be read, or the brokers refuse a record as invalid (larger than
// the topic's max.message.bytes), which no retry would change.
// Duplicates come from a failure after the brokers stored a line but
// before the writer saw their acknowledgement, and from a crash.
package kafkaout

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/lineaged/lineaged/internal/spool"
)

// Config configures a Writer. Brokers and SpoolDir are required.
type Config struct {
	Brokers []string // seed brokers, host:port; the rest are found from them
	Topics  Topics
	// Compression of record batches: "zstd" (the default; Kafka 2.1 and
	// later) or "lz4".
	Compression string
	TLS         *tls.Config // nil: plaintext; else TLS. ServerName defaults to each broker's host.
	SASL        SASL
	ClientID    string // default "lineaged"

	SpoolDir string // where lines wait while the brokers are failing; created 0700
	// MaxSpool bounds the spool in bytes (default 256 MiB). Past it the
	// oldest spooled lines are dropped, a segment (MaxSpool/8, at most
	// 8 MiB) at a time, and counted in Stats.Dropped.
	MaxSpool int64

	// DeliveryTimeout is how long a line may wait for the brokers'
	// acknowledgement before its delivery fails and it is tried again
	// (default 30 s, at least 1 s).
	DeliveryTimeout time.Duration
	// MaxInFlight bounds the bytes handed to the producer and not yet
	// acknowledged, failed deliveries waiting to be produced again
	// included (default 8 MiB).
	MaxInFlight int
	// MemQueue bounds the bytes queued in memory behind the producer
	// (default 1 MiB); past it, Write spools.
	MemQueue int
	// CloseTimeout is what Close may spend delivering (default 5 s).
	CloseTimeout time.Duration

	// Log receives what the writer does on its own: deliveries failing
	// and recovering (Warn, Info), lines dropped or skipped as corrupt
	// (Warn, at most every 10 s for drops), and the Kafka client's own
	// log (Debug). The zero Logger discards.
	Log zerolog.Logger
}

// Topics are the topics lines go to, by event.kind.
type Topics struct {
	Event string // every line but alerts; default "lineaged-events"
	Alert string // lines whose event.kind is "alert"; default "lineaged-alerts"
}

// SASL authenticates the client. The password is read from PasswordFile
// (its first line, without the line end) at Open and at each
// authentication: a new password takes effect at the next connection,
// with no restart.
type SASL struct {
	Mechanism    string // "" (none), "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"
	Username     string
	PasswordFile string
}

// Stats counts lines (one record each).
type Stats struct {
	Sent       uint64 // acknowledged by the brokers
	Spooled    uint64 // written to the spool
	Dropped    uint64 // lost: spool full, disk error, unreadable segment, refused as invalid
	Corrupt    uint64 // corrupt spool records skipped
	Errors     uint64 // deliveries that failed (the line is tried again unless Dropped)
	Queued     int    // not yet acknowledged: in memory, with the producer, or in the spool
	SpoolBytes int64
	Failing    bool   // the last delivery failed, and none has succeeded since
	LastError  string // the last error seen, kept after recovery
}

// ErrClosed is returned by Write, Flush and Close after Close.
var ErrClosed = errors.New("kafkaout: writer closed")

const (
	defaultEventTopic = "lineaged-events"
	defaultAlertTopic = "lineaged-alerts"
	defaultMaxSpool   = 256 << 20
	minBackoff        = 250 * time.Millisecond
	maxBackoff        = 10 * time.Second
	spoolChunk        = 1 << 20
	maxFlightLines    = 1 << 16
	flushWait         = 200 * time.Millisecond
)

// item is one line on its way: with the producer, or waiting to be
// produced again.
type item struct {
	seq   uint64 // order of age: resent lines keep theirs
	line  []byte
	spool bool // read from the spool
}

// Writer sends JSON lines to Kafka. Write, Flush, Stats and Close are
// safe for concurrent use.
type Writer struct {
	cfg              Config
	cl               *kgo.Client
	wake, quit, done chan struct{}

	mu       sync.Mutex
	sp       *spool.Spool
	bl       spool.Backlog // the memory queue before the spool, spooled and dropped counts
	resend   []*item       // failed deliveries, produced again first
	flight   map[uint64]*item
	held     int // bytes of flight and resend
	spoolOut int // lines read from the spool and not yet acknowledged
	seq      uint64
	failing  bool
	retryAt  time.Time
	backoff  time.Duration
	closed   bool
	finished bool // Close has spooled what was left: answers come too late
	st       Stats
	closeErr error
}

// Open checks cfg, opens (or creates) the spool and starts the sender. It
// does not wait for the brokers: lines an earlier run left in the spool
// are sent first when they answer.
func Open(cfg Config) (*Writer, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	opts, err := cfg.clientOpts()
	if err != nil {
		return nil, err
	}
	w := &Writer{
		cfg:     cfg,
		wake:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		flight:  map[uint64]*item{},
		backoff: minBackoff,
	}
	if w.cl, err = kgo.NewClient(opts...); err != nil {
		return nil, fmt.Errorf("kafkaout: %w", err)
	}
	if w.sp, err = spool.Open(cfg.SpoolDir, cfg.MaxSpool); err != nil {
		w.cl.Close()
		return nil, fmt.Errorf("kafkaout: %w", err)
	}
	w.bl = spool.NewBacklog(w.sp, cfg.Log)
	if n := w.sp.Lines(); n > 0 {
		cfg.Log.Info().Int("lines", n).Int64("bytes", w.sp.Bytes()).Str("spool", cfg.SpoolDir).
			Msg("lines spooled by an earlier run are sent first")
	}
	go w.run()
	return w, nil
}

// defaults fills in cfg's defaults and checks it.
func (cfg *Config) defaults() error {
	if len(cfg.Brokers) == 0 {
		return errors.New("kafkaout: no broker")
	}
	for _, b := range cfg.Brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			return fmt.Errorf("kafkaout: broker %q is not host:port", b)
		}
	}
	if cfg.SpoolDir == "" {
		return errors.New("kafkaout: no spool directory")
	}
	if cfg.Topics.Event == "" {
		cfg.Topics.Event = defaultEventTopic
	}
	if cfg.Topics.Alert == "" {
		cfg.Topics.Alert = defaultAlertTopic
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "lineaged"
	}
	if cfg.MaxSpool <= 0 {
		cfg.MaxSpool = defaultMaxSpool
	}
	if cfg.DeliveryTimeout <= 0 {
		cfg.DeliveryTimeout = 30 * time.Second
	}
	cfg.DeliveryTimeout = max(cfg.DeliveryTimeout, time.Second) // the client's floor
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 8 << 20
	}
	if cfg.MemQueue <= 0 {
		cfg.MemQueue = 1 << 20
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = 5 * time.Second
	}
	cfg.Log = cfg.Log.With().Str("output", "kafka").Logger()
	return nil
}

// clientOpts are the Kafka client's options for cfg.
func (cfg *Config) clientOpts() ([]kgo.Opt, error) {
	var comp kgo.CompressionCodec
	switch cfg.Compression {
	case "", "zstd":
		comp = kgo.ZstdCompression()
	case "lz4":
		comp = kgo.Lz4Compression()
	default:
		return nil, fmt.Errorf("kafkaout: compression %q is not zstd or lz4", cfg.Compression)
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(cfg.ClientID),
		// Idempotent (franz-go's default, kept: no DisableIdempotentWrite),
		// which needs acks from every in-sync replica.
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(comp),
		kgo.RecordDeliveryTimeout(cfg.DeliveryTimeout),
		// The writer bounds what it hands over (MaxInFlight, maxFlightLines)
		// below these, so that TryProduce never finds the buffer full.
		kgo.MaxBufferedBytes(2*cfg.MaxInFlight + 1<<20),
		kgo.MaxBufferedRecords(2 * maxFlightLines),
		// lineaged's own metrics report the writer; push none to the brokers.
		kgo.DisableClientMetrics(),
		kgo.WithLogger(kgoLogger{cfg.Log}),
	}
	if cfg.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(cfg.TLS.Clone()))
	}
	mech, err := cfg.SASL.mechanism()
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
		if cfg.TLS == nil && cfg.SASL.Mechanism == "PLAIN" {
			cfg.Log.Warn().Msg("SASL PLAIN without TLS: the password crosses the network in clear")
		}
	}
	return opts, nil
}

// mechanism is the SASL mechanism, nil for none. The password file is
// read once here, to fail at Open rather than at the first connection.
func (s SASL) mechanism() (sasl.Mechanism, error) {
	if s.Mechanism == "" {
		return nil, nil
	}
	if s.Username == "" || s.PasswordFile == "" {
		return nil, fmt.Errorf("kafkaout: SASL %s needs a username and a password file", s.Mechanism)
	}
	if _, err := readPassword(s.PasswordFile); err != nil {
		return nil, fmt.Errorf("kafkaout: SASL: %w", err)
	}
	scramAuth := func(context.Context) (scram.Auth, error) {
		pw, err := readPassword(s.PasswordFile)
		return scram.Auth{User: s.Username, Pass: pw}, err
	}
	switch s.Mechanism {
	case "PLAIN":
		return plain.Plain(func(context.Context) (plain.Auth, error) {
			pw, err := readPassword(s.PasswordFile)
			return plain.Auth{User: s.Username, Pass: pw}, err
		}), nil
	case "SCRAM-SHA-256":
		return scram.Sha256(scramAuth), nil
	case "SCRAM-SHA-512":
		return scram.Sha512(scramAuth), nil
	}
	return nil, fmt.Errorf("kafkaout: SASL mechanism %q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.Mechanism)
}

// readPassword reads the first line of path, without its line end.
func readPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("password file %s: empty", path)
	}
	return pw, nil
}

// kgoLogger passes the Kafka client's log on at Debug.
type kgoLogger struct{ l zerolog.Logger }

func (k kgoLogger) Level() kgo.LogLevel {
	if max(k.l.GetLevel(), zerolog.GlobalLevel()) <= zerolog.DebugLevel {
		return kgo.LogLevelInfo
	}
	return kgo.LogLevelNone
}

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	e := k.l.Debug().Str("kafka_level", strings.ToLower(level.String()))
	for i := 0; i+1 < len(keyvals); i += 2 {
		e = e.Interface(fmt.Sprint(keyvals[i]), keyvals[i+1])
	}
	e.Msg("kafka client: " + msg)
}

// Write takes p, one or more whole JSON lines, each becoming one record
// (a last line without '\n' counts as a line; empty lines are skipped). It
// does not wait on the network and always takes all of p: a line it cannot
// keep (spool full, disk error) is counted in Stats.Dropped. It fails only
// after Close.
func (w *Writer) Write(p []byte) (int, error) {
	buf := bytes.Clone(p) // the caller reuses p; the records keep the lines
	var lines [][]byte
	size := 0
	for rest := buf; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i:i], rest[i+1:]
		} else {
			rest = nil
		}
		if len(line) > 0 {
			lines = append(lines, line)
			size += len(line)
		}
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return 0, ErrClosed
	}
	w.bl.Push(lines, size)
	if w.failing || w.bl.MemBytes > w.cfg.MemQueue {
		w.bl.Spill()
	}
	w.mu.Unlock()
	w.poke()
	return len(p), nil
}

func (w *Writer) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Flush gives the sender a moment (at most 200 ms) to hand the lines
// queued in memory to the producer, spools the rest and syncs the spool
// to disk: after it, every line written before is on disk or with the
// producer.
func (w *Writer) Flush() error {
	until := time.Now().Add(flushWait)
	w.mu.Lock()
	for len(w.bl.Mem) > 0 && !w.failing && !w.closed && time.Now().Before(until) {
		w.mu.Unlock()
		time.Sleep(time.Millisecond)
		w.mu.Lock()
	}
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	return w.bl.Flush()
}

// Close delivers what it can within CloseTimeout and leaves everything
// else, unacknowledged lines first, in the spool for the next Open.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	w.mu.Unlock()
	close(w.quit)
	<-w.done
	return w.closeErr
}

// Stats returns the counters so far.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.st
	s.Spooled, s.Dropped, s.LastError = w.bl.Spooled, w.bl.Dropped, w.bl.LastError
	s.Queued = len(w.bl.Mem) + len(w.resend) + len(w.flight) + w.sp.Lines()
	s.SpoolBytes = w.sp.Bytes()
	s.Failing = w.failing
	return s
}

// run is the sender: it hands lines to the producer, oldest first.
func (w *Writer) run() {
	defer close(w.done)
	defer w.finish()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var deadline time.Time
	var deadlineC <-chan time.Time
	for {
		quitting := w.quitting()
		if quitting {
			if deadline.IsZero() {
				deadline = time.Now().Add(w.cfg.CloseTimeout)
				deadlineC = time.After(w.cfg.CloseTimeout)
			}
			if w.settledOrFailing() || time.Now().After(deadline) {
				return
			}
		}
		items, wait := w.take()
		if len(items) > 0 {
			w.produce(items)
			continue
		}
		var retry <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			retry = timer.C
		}
		quit := w.quit
		if quitting {
			quit = nil
		}
		select {
		case <-w.wake:
		case <-retry:
		case <-quit:
		case <-deadlineC:
		}
		timer.Stop()
	}
}

func (w *Writer) quitting() bool {
	select {
	case <-w.quit:
		return true
	default:
		return false
	}
}

// settledOrFailing: at Close, nothing is left to deliver, or deliveries
// are failing (no use waiting: what is left goes to the spool).
func (w *Writer) settledOrFailing() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failing {
		return true
	}
	return len(w.bl.Mem) == 0 && len(w.resend) == 0 && len(w.flight) == 0 && w.sp.Empty()
}

// take returns the next lines to produce, oldest first: failed deliveries,
// then a chunk of the spool (only when every line read from it before is
// acknowledged), then, once the spool is empty, the memory queue. wait > 0
// is how long to back off after a failure.
func (w *Writer) take() (items []*item, wait time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failing {
		if d := time.Until(w.retryAt); d > 0 {
			return nil, d
		}
	}
	if len(w.resend) > 0 { // already counted in held
		slices.SortFunc(w.resend, func(a, b *item) int { return cmpSeq(a.seq, b.seq) })
		items = append(items, w.resend...)
		clear(w.resend)
		w.resend = w.resend[:0]
	}
	room := func() bool {
		return w.held < w.cfg.MaxInFlight && len(w.flight)+len(items) < maxFlightLines
	}
	if !w.sp.Empty() {
		if w.spoolOut == 0 && room() {
			items = w.readSpoolLocked(items)
		}
		if !w.sp.Empty() {
			return w.toFlightLocked(items), 0
		}
	}
	for len(w.bl.Mem) > 0 && room() {
		line := w.bl.Mem[0]
		w.bl.Mem[0] = nil
		w.bl.Mem = w.bl.Mem[1:]
		w.bl.MemBytes -= len(line)
		w.held += len(line)
		w.seq++
		items = append(items, &item{seq: w.seq, line: line})
	}
	return w.toFlightLocked(items), 0
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// readSpoolLocked appends the spool's next chunk to items.
func (w *Writer) readSpoolLocked(items []*item) []*item {
	want := min(spoolChunk, max(w.cfg.MaxInFlight-w.held, 1))
	for {
		m, corrupt, lost, err := w.sp.Read(want)
		if corrupt > 0 {
			w.st.Corrupt += uint64(corrupt)
			w.cfg.Log.Warn().Int("records", corrupt).Str("spool", w.cfg.SpoolDir).Msg("corrupt spool records skipped")
		}
		w.bl.Drop(lost, err, "")
		for _, line := range m {
			w.seq++
			w.held += len(line)
			w.spoolOut++
			items = append(items, &item{seq: w.seq, line: line, spool: true})
		}
		if len(m) > 0 || (corrupt == 0 && lost == 0 && err == nil) {
			return items // a chunk, or the spool is empty
		}
	}
}

func (w *Writer) toFlightLocked(items []*item) []*item {
	for _, it := range items {
		w.flight[it.seq] = it
	}
	return items
}

// produce hands items to the producer, in order: each record's topic and
// key come from its line.
func (w *Writer) produce(items []*item) {
	for _, it := range items {
		host, alert := fields(it.line)
		topic := w.cfg.Topics.Event
		if alert {
			topic = w.cfg.Topics.Alert
		}
		it := it
		w.cl.TryProduce(context.Background(), &kgo.Record{Topic: topic, Key: host, Value: it.line},
			func(_ *kgo.Record, err error) { w.answered(it, err) })
	}
}

// answered is the producer's answer for one line (from its goroutine).
func (w *Writer) answered(it *item, err error) {
	w.mu.Lock()
	defer w.poke()
	defer w.mu.Unlock()
	if w.finished || w.flight[it.seq] != it {
		return
	}
	delete(w.flight, it.seq)
	switch {
	case err == nil:
		w.held -= len(it.line)
		w.st.Sent++
		if it.spool {
			w.spoolOut--
		}
		if w.failing {
			w.failing = false
			w.cfg.Log.Info().Int("queued", len(w.bl.Mem)+len(w.resend)+len(w.flight)+w.sp.Lines()).Msg("deliveries succeed again")
		}
		w.backoff = minBackoff
	case refused(err):
		w.held -= len(it.line)
		if it.spool {
			w.spoolOut--
		}
		w.st.Errors++
		w.bl.Drop(1, nil, "refused by the brokers: "+err.Error())
	default:
		w.resend = append(w.resend, it)
		if errors.Is(err, kgo.ErrClientClosed) {
			return
		}
		w.st.Errors++
		w.bl.LastError = err.Error()
		w.failedLocked(err)
	}
}

// refused reports an error no retry would change: the line itself is too
// large or invalid for the brokers.
func refused(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge) || errors.Is(err, kerr.InvalidRecord)
}

// failedLocked notes a failed delivery: Write spools from now on, and the
// sender waits before producing again (one backoff step per burst of
// failures, not per line).
func (w *Writer) failedLocked(err error) {
	now := time.Now()
	if !w.failing {
		w.failing = true
		w.cfg.Log.Warn().Err(err).Dur("delivery_timeout", w.cfg.DeliveryTimeout).
			Msg("deliveries to Kafka fail; lines are spooled and tried again")
	}
	if now.After(w.retryAt) {
		w.retryAt = now.Add(w.backoff)
		w.backoff = min(2*w.backoff, maxBackoff)
	}
	w.bl.Spill()
}

// finish puts what is left in the spool: unacknowledged lines before
// everything, in their order, the memory queue after; then closes the
// client (its late answers are ignored).
func (w *Writer) finish() {
	w.mu.Lock()
	w.finished = true
	left := append(w.resend, mapValues(w.flight)...)
	slices.SortFunc(left, func(a, b *item) int { return cmpSeq(a.seq, b.seq) })
	lines := make([][]byte, len(left))
	for i, it := range left {
		lines[i] = it.line
	}
	w.resend, w.flight, w.held, w.spoolOut = nil, map[uint64]*item{}, 0, 0
	n, err := w.sp.Prepend(lines)
	w.bl.Spooled += uint64(n)
	if err != nil {
		w.bl.Drop(len(lines), err, "")
		w.closeErr = err
	}
	if err := w.bl.Spill(); err != nil && w.closeErr == nil {
		w.closeErr = err
	}
	if err := w.sp.Close(); err != nil && w.closeErr == nil {
		w.closeErr = err
	}
	if q := w.sp.Lines(); q > 0 {
		w.cfg.Log.Info().Int("lines", q).Str("spool", w.cfg.SpoolDir).Msg("lines left in the spool for the next start")
	}
	w.mu.Unlock()
	w.cl.Close()
}

func mapValues(m map[uint64]*item) []*item {
	s := make([]*item, 0, len(m))
	for _, it := range m {
		s = append(s, it)
	}
	return s
}
