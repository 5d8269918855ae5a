// Package syslogout sends lineaged's JSON lines to a syslog receiver
// (rsyslog, syslog-ng, a SIEM collector) over TCP or TLS, and keeps them in
// a spool on disk while the receiver cannot take them.
//
// # Wire format
//
// Each JSON line becomes one RFC 5424 message,
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG
//
// with TIMESTAMP the time Write took the line (RFC 3339, UTC, microseconds),
// PROCID this process's pid, MSGID "event" (severity 6, informational) or
// "alert" (severity 4, warning) when the line's event.kind is "alert", no
// structured data, and MSG the JSON line as is (UTF-8, no BOM). Messages
// are framed by octet counting (RFC 6587 3.4.1, "LEN SP MSG"), which
// RFC 5425 requires over TLS and rsyslog's imtcp and syslog-ng accept over
// plain TCP. The receiver's maximum message size must hold the longest
// line (rsyslog: global(maxMessageSize=...), 8 KiB by default; it
// truncates longer messages).
//
// # Delivery: at least once
//
// Write never waits on the network: it queues the lines in memory for the
// sender goroutine, or, while the receiver is down or the memory queue is
// full (a slow receiver), appends them to the spool. The sender sends the
// oldest first: lines to resend, then the spool, then the memory queue.
//
// TCP has no application-level acknowledgement, so a line written to a
// connection stays in a resend window until it is confirmed: the
// receiver's TCP has acknowledged its bytes (SIOCOUTQ) and ResendWindow has
// since passed with the connection still up, or the connection was closed
// cleanly at Close (our FIN answered by the receiver's, every byte
// acknowledged). When a connection fails, every unconfirmed line is sent
// again, first, on the next one: a receiver that restarts gets duplicates,
// never gaps. What this cannot see is a receiver that read a line and then
// lost it itself (killed before writing it out): syslog over TCP offers no
// more; use RELP for that.
//
// Lines are lost only when counted in Stats.Dropped: the spool is full
// (MaxSpool: the oldest segments go), the disk fails, or a spool segment
// cannot be read. Lines in memory (the queue and the resend window) are on
// disk only after Flush or Close: a crash of this process loses them, and
// nothing else. A crash while a spool segment is being sent re-sends that
// segment whole at the next start.
package syslogout

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/internal/spool"
)

// Config configures a Writer. Address and SpoolDir are required.
type Config struct {
	Address string      // host:port of the receiver (TCP)
	TLS     *tls.Config // nil: plain TCP; else TLS (RFC 5425). ServerName defaults to Address's host.

	Hostname string // HOSTNAME field; default os.Hostname()
	AppName  string // APP-NAME field; default "lineaged"
	// Facility of every message, 1..23; 0 means 13 (log audit). 10
	// (authpriv) suits receivers that route audit data by it.
	Facility int

	SpoolDir string // where lines wait while the receiver is down; created 0700
	// MaxSpool bounds the spool in bytes (default 256 MiB). Past it the
	// oldest spooled lines are dropped, a segment (MaxSpool/8, at most
	// 8 MiB) at a time, and counted in Stats.Dropped.
	MaxSpool int64

	DialTimeout  time.Duration // default 5 s
	WriteTimeout time.Duration // one write to the socket; default 10 s
	CloseTimeout time.Duration // what Close may spend sending; default 5 s
	// ResendWindow is how long a line stays resendable after the
	// receiver's TCP acknowledged it (default 2 s): time for the receiver
	// to take it from its socket, or for its death to reset ours.
	ResendWindow time.Duration
	// MaxInFlight bounds the bytes in the resend window (default 16 MiB).
	// Past it, acknowledged lines are confirmed early; when none are, the
	// sender waits and lines queue (then spool) behind.
	MaxInFlight int
	// MemQueue bounds the bytes queued in memory (default 1 MiB); past
	// it, Write spools.
	MemQueue int

	// Log receives what the writer does on its own, in its goroutine:
	// connections made (Info), lost, refused, and lines dropped or
	// skipped as corrupt (Warn, at most every 10 s for drops), each
	// failed reconnection attempt (Debug). The zero Logger discards.
	Log zerolog.Logger
}

// Stats counts messages (one per JSON line).
type Stats struct {
	Sent       uint64 // handed to a connection, resends included
	Resent     uint64 // of Sent: sent again after their connection failed
	Confirmed  uint64 // left the resend window (see the package doc)
	Spooled    uint64 // written to the spool
	Dropped    uint64 // lost: spool full, disk error, unreadable segment
	Corrupt    uint64 // corrupt spool records skipped
	Reconnects uint64 // connections made after the first
	Queued     int    // not yet confirmed: in memory, spool or resend window
	SpoolBytes int64
	Connected  bool
	LastError  string // the last error seen, kept after recovery
}

// ErrClosed is returned by Write, Flush and Close after Close.
var ErrClosed = errors.New("syslogout: writer closed")

const (
	defaultFacility = 13
	defaultMaxSpool = 256 << 20
	minBackoff      = 100 * time.Millisecond
	maxBackoff      = 5 * time.Second
	probeEvery      = 100 * time.Millisecond
	batchBytes      = 64 << 10
	flushWait       = 200 * time.Millisecond
	tsLayout        = "2006-01-02T15:04:05.000000Z07:00"
)

// flight is one batch written to a connection and not yet confirmed.
type flight struct {
	msgs  [][]byte
	bytes int
	end   int64     // bytes written on the TCP connection once it was
	sent  time.Time //
	acked time.Time // when the receiver's TCP was seen to have it all
}

// Writer sends JSON lines as syslog messages. Write, Flush, Stats and
// Close are safe for concurrent use.
type Writer struct {
	cfg               Config
	host, app, procid string
	ctx               context.Context // canceled at Close's deadline
	cancel            context.CancelFunc
	wake, quit, done  chan struct{}
	logErrAt          time.Time

	mu        sync.Mutex
	sp        *spool.Spool
	bl        spool.Backlog // the memory queue before the spool, spooled and dropped counts
	resend    [][]byte      // oldest first
	window    []*flight
	winBytes  int
	winLines  int
	taken     int // lines take returned that send has not put in the window yet
	connected bool
	closed    bool
	deadline  time.Time // Close's
	conn      net.Conn
	conns     uint64
	st        Stats
	closeErr  error
}

// Open opens (or creates) the spool and starts the sender. Lines an earlier
// run left in the spool are sent first.
func Open(cfg Config) (*Writer, error) {
	if cfg.Address == "" {
		return nil, errors.New("syslogout: no address")
	}
	if cfg.SpoolDir == "" {
		return nil, errors.New("syslogout: no spool directory")
	}
	if cfg.Facility == 0 {
		cfg.Facility = defaultFacility
	}
	if cfg.Facility < 0 || cfg.Facility > 23 {
		return nil, fmt.Errorf("syslogout: facility %d not in 1..23", cfg.Facility)
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	if cfg.AppName == "" {
		cfg.AppName = "lineaged"
	}
	if cfg.MaxSpool <= 0 {
		cfg.MaxSpool = defaultMaxSpool
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = 5 * time.Second
	}
	if cfg.ResendWindow <= 0 {
		cfg.ResendWindow = 2 * time.Second
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 16 << 20
	}
	if cfg.MemQueue <= 0 {
		cfg.MemQueue = 1 << 20
	}
	cfg.Log = cfg.Log.With().Str("output", "syslog").Str("address", cfg.Address).Logger()
	if cfg.TLS != nil {
		cfg.TLS = cfg.TLS.Clone()
		if cfg.TLS.ServerName == "" {
			if h, _, err := net.SplitHostPort(cfg.Address); err == nil {
				cfg.TLS.ServerName = h
			}
		}
	}
	sp, err := spool.Open(cfg.SpoolDir, cfg.MaxSpool)
	if err != nil {
		return nil, fmt.Errorf("syslogout: %w", err)
	}
	w := &Writer{
		cfg:    cfg,
		host:   headerField(cfg.Hostname, 255),
		app:    headerField(cfg.AppName, 48),
		procid: strconv.Itoa(os.Getpid()),
		sp:     sp,
		bl:     spool.NewBacklog(sp, cfg.Log),
		wake:   make(chan struct{}, 1),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	if sp.Lines() > 0 {
		cfg.Log.Info().Int("lines", sp.Lines()).Int64("bytes", sp.Bytes()).Str("spool", cfg.SpoolDir).
			Msg("lines spooled by an earlier run are sent first")
	}
	go w.run()
	return w, nil
}

// headerField makes s a valid RFC 5424 header field: printable US-ASCII
// without spaces, at most max bytes, "-" when empty.
func headerField(s string, max int) string {
	b := []byte(s)
	for i, c := range b {
		if c < 33 || c > 126 {
			b[i] = '_'
		}
	}
	if len(b) > max {
		b = b[:max]
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

// isAlert reports whether a JSON line is an alert: the event object (the
// first "event":{ in lineaged's field order) has "kind":"alert".
func isAlert(line []byte) bool {
	const ev, kind = `"event":{`, `"kind":"`
	i := bytes.Index(line, []byte(ev))
	if i < 0 {
		return false
	}
	rest := line[i+len(ev):]
	if len(rest) > 256 {
		rest = rest[:256] // kind follows id closely
	}
	j := bytes.Index(rest, []byte(kind))
	if j < 0 {
		return false
	}
	rest = rest[j+len(kind):]
	return len(rest) >= 6 && string(rest[:6]) == `alert"`
}

func indexLF(b []byte) int { return bytes.IndexByte(b, '\n') }

// appendMessage appends the syslog message for one JSON line.
func (w *Writer) appendMessage(dst, ts, line []byte) []byte {
	sev, msgid := 6, "event"
	if isAlert(line) {
		sev, msgid = 4, "alert"
	}
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(w.cfg.Facility*8+sev), 10)
	dst = append(dst, ">1 "...)
	dst = append(dst, ts...)
	dst = append(dst, ' ')
	dst = append(dst, w.host...)
	dst = append(dst, ' ')
	dst = append(dst, w.app...)
	dst = append(dst, ' ')
	dst = append(dst, w.procid...)
	dst = append(dst, ' ')
	dst = append(dst, msgid...)
	dst = append(dst, " - "...)
	return append(dst, line...)
}

// Write takes p, one or more whole JSON lines, each becoming one message
// (a last line without '\n' counts as a line; empty lines are skipped). It
// does not wait on the network and always takes all of p: a line it cannot
// keep (spool full, disk error) is counted in Stats.Dropped. It fails only
// after Close.
func (w *Writer) Write(p []byte) (int, error) {
	ts := time.Now().UTC().AppendFormat(make([]byte, 0, 32), tsLayout)
	lines := 0
	for _, c := range p {
		if c == '\n' {
			lines++
		}
	}
	lines++
	hdr := 32 + len(ts) + len(w.host) + len(w.app) + len(w.procid)
	buf := make([]byte, 0, len(p)+lines*hdr)
	ends := make([]int, 0, lines)
	for rest := p; len(rest) > 0; {
		line := rest
		if i := indexLF(rest); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if len(line) == 0 {
			continue
		}
		buf = w.appendMessage(buf, ts, line)
		ends = append(ends, len(buf))
	}
	msgs := make([][]byte, len(ends))
	start := 0
	for i, e := range ends {
		msgs[i] = buf[start:e:e]
		start = e
	}

	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return 0, ErrClosed
	}
	w.bl.Push(msgs, len(buf))
	if !w.connected || w.bl.MemBytes > w.cfg.MemQueue {
		w.bl.Spill()
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

// Flush gives the sender a moment (at most 200 ms) to take the lines
// queued in memory, spools the rest and syncs the spool to disk: after
// it, every line written before is on disk or on a connection.
func (w *Writer) Flush() error {
	until := time.Now().Add(flushWait)
	w.mu.Lock()
	for len(w.bl.Mem) > 0 && w.connected && !w.closed && time.Now().Before(until) {
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

// Close sends what it can within CloseTimeout, closes the connection
// cleanly (which confirms what was sent when the receiver answers), and
// leaves everything else, unconfirmed lines first, in the spool for the
// next Open.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	w.deadline = time.Now().Add(w.cfg.CloseTimeout)
	w.mu.Unlock()
	close(w.quit)
	t := time.AfterFunc(w.cfg.CloseTimeout, func() {
		w.cancel()
		w.mu.Lock()
		if w.conn != nil {
			w.conn.SetDeadline(time.Now())
		}
		w.mu.Unlock()
	})
	<-w.done
	t.Stop()
	w.cancel()
	return w.closeErr
}

// Stats returns the counters so far.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.st
	s.Spooled, s.Dropped, s.LastError = w.bl.Spooled, w.bl.Dropped, w.bl.LastError
	s.Queued = len(w.bl.Mem) + len(w.resend) + w.taken + w.winLines + w.sp.Lines()
	s.SpoolBytes = w.sp.Bytes()
	s.Connected = w.connected
	return s
}

// conn is one connection to the receiver.
type conn struct {
	nc     net.Conn // what messages are written to (TLS or cnt)
	raw    *net.TCPConn
	cnt    *countConn
	dead   chan error // the reader's end: EOF, reset, ...
	failed atomic.Bool
}

// countConn counts the bytes written to the TCP connection, TLS records
// included, to match them with what the kernel says is acknowledged.
type countConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func (w *Writer) dial() (*conn, error) {
	ctx, cancel := context.WithTimeout(w.ctx, w.cfg.DialTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", w.cfg.Address)
	if err != nil {
		return nil, err
	}
	raw, ok := nc.(*net.TCPConn)
	if !ok {
		nc.Close()
		return nil, fmt.Errorf("syslogout: %s is not a TCP connection", w.cfg.Address)
	}
	c := &conn{raw: raw, cnt: &countConn{Conn: raw}, dead: make(chan error, 1)}
	c.nc = c.cnt
	if w.cfg.TLS != nil {
		tc := tls.Client(c.cnt, w.cfg.TLS)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", w.cfg.Address, err)
		}
		c.nc = tc
	}
	go func() {
		// The receiver sends nothing: a read ends when it closes or
		// resets the connection, or when we close it.
		var b [512]byte
		for {
			if _, err := c.nc.Read(b[:]); err != nil {
				c.failed.Store(true)
				c.dead <- err
				return
			}
		}
	}()
	return c, nil
}

func (c *conn) close() {
	c.failed.Store(true)
	c.nc.Close()
}

func (w *Writer) quitting() bool {
	select {
	case <-w.quit:
		return true
	default:
		return false
	}
}

// closeDeadline is Close's deadline, or zero before Close.
func (w *Writer) closeDeadline() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.deadline
}

// run is the sender: it owns the connection.
func (w *Writer) run() {
	defer close(w.done)
	backoff := minBackoff
	var c *conn
	var lastProbe time.Time
	dialedToClose := false
	lastErr := ""
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	for {
		quitting := w.quitting()
		if quitting && time.Now().After(w.closeDeadline()) {
			break
		}
		if c == nil {
			if quitting && (dialedToClose || w.nothingQueued()) {
				break
			}
			dialedToClose = quitting
			nc, err := w.dial()
			if err != nil {
				w.noteErr(err)
				if err.Error() != lastErr {
					lastErr = err.Error()
					w.cfg.Log.Warn().Err(err).Dur("retry_max", maxBackoff).Msg("cannot connect; retrying")
				} else {
					w.cfg.Log.Debug().Err(err).Msg("cannot connect")
				}
				if quitting {
					break
				}
				select {
				case <-time.After(backoff):
				case <-w.quit:
				}
				backoff = min(2*backoff, maxBackoff)
				continue
			}
			c, lastErr = nc, ""
			w.up(c)
		}
		select {
		case err := <-c.dead:
			w.down(c, err)
			c = nil
			continue
		default:
		}
		if time.Since(lastProbe) >= probeEvery/2 {
			if w.probe(c) {
				backoff = minBackoff
			}
			lastProbe = time.Now()
		}
		msgs, resent, full := w.take()
		if len(msgs) > 0 {
			if err := w.send(c, msgs, resent); err != nil {
				w.down(c, err)
				c = nil
			}
			continue
		}
		if quitting && !full {
			w.goodbye(c)
			c = nil
			break
		}
		var probeC <-chan time.Time // idle with nothing to confirm: no ticks
		if full || w.unconfirmed() {
			probeC = tick.C
		}
		select {
		case <-w.wake:
		case err := <-c.dead:
			w.down(c, err)
			c = nil
		case <-probeC:
		case <-w.quit:
		}
	}
	if c != nil {
		w.down(c, errors.New("out of time at Close"))
	}
	w.finish()
}

func (w *Writer) noteErr(err error) {
	w.mu.Lock()
	w.bl.LastError = err.Error()
	w.mu.Unlock()
}

func (w *Writer) unconfirmed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.winLines > 0
}

func (w *Writer) nothingQueued() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.bl.Mem) == 0 && len(w.resend) == 0 && w.winLines == 0 && w.sp.Empty()
}

func (w *Writer) up(c *conn) {
	w.mu.Lock()
	w.connected = true
	w.conn = c.nc
	w.conns++
	if w.conns > 1 {
		w.st.Reconnects++
	}
	queued, reconnects := len(w.resend)+w.sp.Lines(), w.st.Reconnects
	w.mu.Unlock()
	w.cfg.Log.Info().Int("queued", queued).Uint64("reconnects", reconnects).Msg("connected")
}

// down closes c after it failed: everything unconfirmed will be sent
// again, and Write spools until the next connection.
func (w *Writer) down(c *conn, err error) {
	c.close()
	if errors.Is(err, io.EOF) {
		err = errors.New("receiver closed the connection")
	}
	w.mu.Lock()
	w.connected = false
	w.conn = nil
	var back [][]byte
	for _, f := range w.window {
		back = append(back, f.msgs...)
	}
	w.resend = append(back, w.resend...)
	w.window, w.winBytes, w.winLines = nil, 0, 0
	w.bl.Spill()
	w.bl.LastError = err.Error()
	n := len(w.resend)
	w.mu.Unlock()
	w.cfg.Log.Warn().Err(err).Int("resend", n).Msg("connection lost; unconfirmed lines will be sent again")
}

// take returns the next batch to send, oldest first: lines to resend, then
// the spool, then the memory queue. full: the resend window is full.
func (w *Writer) take() (msgs [][]byte, resent int, full bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	// Counted in Stats.Queued until send puts them in the window.
	defer func() { w.taken = len(msgs) }()
	if w.winBytes >= w.cfg.MaxInFlight {
		return nil, 0, true
	}
	budget := batchBytes
	for len(w.resend) > 0 && budget > 0 {
		msgs = append(msgs, w.resend[0])
		budget -= len(w.resend[0])
		w.resend[0] = nil
		w.resend = w.resend[1:]
		resent++
	}
	if len(w.resend) > 0 {
		return msgs, resent, false
	}
	for budget > 0 {
		m, corrupt, lost, err := w.sp.Read(budget)
		if corrupt > 0 {
			w.st.Corrupt += uint64(corrupt)
			w.cfg.Log.Warn().Int("records", corrupt).Str("spool", w.cfg.SpoolDir).Msg("corrupt spool records skipped")
		}
		w.bl.Drop(lost, err, "")
		if len(m) == 0 && corrupt == 0 && lost == 0 && err == nil {
			break // spool empty
		}
		for _, x := range m {
			msgs = append(msgs, x)
			budget -= len(x)
		}
	}
	if !w.sp.Empty() {
		return msgs, resent, false
	}
	for len(w.bl.Mem) > 0 && budget > 0 {
		msgs = append(msgs, w.bl.Mem[0])
		budget -= len(w.bl.Mem[0])
		w.bl.MemBytes -= len(w.bl.Mem[0])
		w.bl.Mem[0] = nil
		w.bl.Mem = w.bl.Mem[1:]
	}
	return msgs, resent, false
}

// send writes one batch, octet-counted, and puts it in the resend window.
func (w *Writer) send(c *conn, msgs [][]byte, resent int) error {
	n := 0
	for _, m := range msgs {
		n += len(m) + 8
	}
	buf := make([]byte, 0, n)
	for _, m := range msgs {
		buf = strconv.AppendInt(buf, int64(len(m)), 10)
		buf = append(buf, ' ')
		buf = append(buf, m...)
	}
	now := time.Now()
	f := &flight{msgs: msgs, bytes: len(buf), end: math.MaxInt64, sent: now}
	w.mu.Lock()
	w.window = append(w.window, f)
	w.winBytes += f.bytes
	w.winLines += len(msgs)
	w.taken = 0
	w.st.Sent += uint64(len(msgs))
	w.st.Resent += uint64(resent)
	dl := now.Add(w.cfg.WriteTimeout)
	if !w.deadline.IsZero() && w.deadline.Before(dl) {
		dl = w.deadline
	}
	w.mu.Unlock()
	c.nc.SetWriteDeadline(dl)
	if _, err := c.nc.Write(buf); err != nil {
		return err
	}
	f.end = c.cnt.n.Load()
	return nil
}

// probe marks the batches the receiver's TCP has acknowledged and
// confirms those acknowledged ResendWindow ago (or sooner, oldest first,
// while the window is over MaxInFlight). It reports whether any were.
func (w *Writer) probe(c *conn) bool {
	q, ok := outq(c.raw)
	acked := c.cnt.n.Load() - int64(q)
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.window {
		if !f.acked.IsZero() {
			continue
		}
		if !ok {
			f.acked = f.sent // no SIOCOUTQ: time alone
		} else if f.end <= acked {
			f.acked = now
		} else {
			break // in order
		}
	}
	if c.failed.Load() {
		return false
	}
	n := 0
	for len(w.window) > 0 {
		f := w.window[0]
		if f.acked.IsZero() || now.Sub(f.acked) < w.cfg.ResendWindow && w.winBytes <= w.cfg.MaxInFlight {
			break
		}
		w.window[0] = nil
		w.window = w.window[1:]
		w.winBytes -= f.bytes
		w.winLines -= len(f.msgs)
		n += len(f.msgs)
	}
	w.st.Confirmed += uint64(n)
	return n > 0
}

// goodbye closes c cleanly at Close: our FIN (after TLS close_notify),
// then the receiver's. A clean end of stream once every byte we sent is
// acknowledged means the receiver read it all: the window is confirmed.
// Anything else leaves the window for the spool.
func (w *Writer) goodbye(c *conn) {
	dl := w.closeDeadline()
	c.nc.SetDeadline(dl)
	var err error
	if tc, ok := c.nc.(*tls.Conn); ok {
		err = tc.CloseWrite()
	}
	if err == nil {
		err = c.raw.CloseWrite()
	}
	clean := false
	if err == nil {
		select {
		case rerr := <-c.dead:
			if errors.Is(rerr, io.EOF) {
				for time.Now().Before(dl) {
					if q, ok := outq(c.raw); !ok || q == 0 {
						clean = true
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
			} else {
				err = rerr
			}
		case <-time.After(time.Until(dl)):
			err = errors.New("receiver did not close the connection in time")
		}
	}
	if !clean {
		if err == nil {
			err = errors.New("receiver did not acknowledge everything")
		}
		w.down(c, err)
		return
	}
	c.close()
	w.mu.Lock()
	w.st.Confirmed += uint64(w.winLines)
	w.window, w.winBytes, w.winLines = nil, 0, 0
	w.connected = false
	w.conn = nil
	w.mu.Unlock()
}

// finish puts what is left in the spool: unconfirmed lines before
// everything, the memory queue after.
func (w *Writer) finish() {
	w.mu.Lock()
	defer w.mu.Unlock()
	var first [][]byte
	for _, f := range w.window {
		first = append(first, f.msgs...)
	}
	first = append(first, w.resend...)
	w.window, w.winBytes, w.winLines, w.resend = nil, 0, 0, nil
	n, err := w.sp.Prepend(first)
	w.bl.Spooled += uint64(n)
	if err != nil {
		w.bl.Drop(len(first), err, "")
		w.closeErr = err
	}
	if err := w.bl.Spill(); err != nil && w.closeErr == nil {
		w.closeErr = err
	}
	if err := w.sp.Close(); err != nil && w.closeErr == nil {
		w.closeErr = err
	}
	w.connected = false
	if q := w.sp.Lines(); q > 0 {
		w.cfg.Log.Info().Int("lines", q).Str("spool", w.cfg.SpoolDir).Msg("lines left in the spool for the next start")
	}
}
