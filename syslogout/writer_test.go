package syslogout

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/internal/spool"
)

func open(t *testing.T, cfg Config) *Writer {
	w, _ := openLogged(t, cfg)
	return w
}

// openLogged opens a Writer whose log goes to the test's log and to the
// returned buffer (JSON lines, debug and up).
func openLogged(t *testing.T, cfg Config) (*Writer, *logBuffer) {
	t.Helper()
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = filepath.Join(t.TempDir(), "spool")
	}
	lb := &logBuffer{}
	cfg.Log = zerolog.New(zerolog.MultiLevelWriter(zerolog.NewTestWriter(t), lb)).Level(zerolog.DebugLevel)
	w, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, lb
}

// logBuffer keeps log entries written from the writer's goroutine.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// count is how many entries have level and a message containing msg.
func (l *logBuffer) count(level, msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range strings.Split(l.b.String(), "\n") {
		var e struct{ Level, Message string }
		if json.Unmarshal([]byte(line), &e) == nil && e.Level == level && strings.Contains(e.Message, msg) {
			n++
		}
	}
	return n
}

func write(t *testing.T, w *Writer, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		l := testLine(i, "event") + "\n"
		if n, err := w.Write([]byte(l)); err != nil || n != len(l) {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// Every line arrives once, in order, and parses back as RFC 5424 with the
// header fields documented.
func TestFormatAndFraming(t *testing.T) {
	r := newReceiver(t, "127.0.0.1:0", nil)
	w := open(t, Config{Address: r.addr, Hostname: "host one", AppName: "lineaged"})
	// Connected: lines go through memory, not the spool.
	waitFor(t, 5*time.Second, "a connection", func() bool { return w.Stats().Connected })
	before := time.Now().UTC().Truncate(time.Microsecond)
	// Two lines in one Write, an alert, a line without '\n', an empty line.
	p := testLine(0, "event") + "\n" + testLine(1, "alert") + "\n\n" + testLine(2, "event")
	if n, err := w.Write([]byte(p)); err != nil || n != len(p) {
		t.Fatalf("Write: %d, %v", n, err)
	}
	waitFor(t, 5*time.Second, "3 messages", func() bool { return len(r.messages()) >= 3 })
	after := time.Now()
	msgs := r.messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	for i, b := range msgs {
		m, err := parseMessage(b)
		if err != nil {
			t.Fatalf("message %d %q: %v", i, b, err)
		}
		wantPri, wantID := 13*8+6, "event"
		if i == 1 {
			wantPri, wantID = 13*8+4, "alert"
		}
		if m.pri != wantPri || m.version != 1 || m.msgid != wantID {
			t.Errorf("message %d: pri %d version %d msgid %q", i, m.pri, m.version, m.msgid)
		}
		if m.host != "host_one" || m.app != "lineaged" || m.procid != strconv.Itoa(os.Getpid()) || m.sd != "-" {
			t.Errorf("message %d header: %q %q %q %q", i, m.host, m.app, m.procid, m.sd)
		}
		// RFC 5424: TIME-SECFRAC at most 6 digits, a zone.
		if len(m.tsRaw) != len("2006-01-02T15:04:05.000000Z") || !strings.HasSuffix(m.tsRaw, "Z") {
			t.Errorf("timestamp %q", m.tsRaw)
		}
		if m.ts.Before(before) || m.ts.After(after) {
			t.Errorf("timestamp %v not in [%v, %v]", m.ts, before, after)
		}
		if string(m.msg) != testLine(i, map[bool]string{true: "alert", false: "event"}[i == 1]) {
			t.Errorf("MSG %d = %q", i, m.msg)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.Sent != 3 || st.Confirmed != 3 || st.Queued != 0 || st.Spooled != 0 || st.Dropped != 0 {
		t.Errorf("stats after a clean Close: %+v", st)
	}
	if _, err := w.Write([]byte("x\n")); err != ErrClosed {
		t.Errorf("Write after Close: %v", err)
	}
}

func TestHeaderFieldAndAlert(t *testing.T) {
	for in, want := range map[string]string{"": "-", "a b\tc": "a_b_c", "ü": "__", "ok.example": "ok.example"} {
		if got := headerField(in, 255); got != want {
			t.Errorf("headerField(%q) = %q, want %q", in, got, want)
		}
	}
	if got := headerField(strings.Repeat("x", 60), 48); len(got) != 48 {
		t.Errorf("APP-NAME not cut to 48: %d", len(got))
	}
	for line, want := range map[string]bool{
		testLine(1, "alert"):                                        true,
		testLine(1, "event"):                                        false,
		`{"event":{"kind":"alert"}}`:                                true,
		`{"event":{"kind":"alerts"}}`:                               false,
		`{"message":"\"kind\":\"alert\"","event":{"kind":"event"}}`: false,
		`{"labels":{"kind":"alert"}}`:                               false,
		`"event":{`:                                                 false,
	} {
		if isAlert([]byte(line)) != want {
			t.Errorf("isAlert(%s) = %v", line, !want)
		}
	}
}

// Lines written while the receiver is down are spooled and arrive, in
// order, once it is up.
func TestSpoolWhileDown(t *testing.T) {
	addr := freeAddr(t)
	w := open(t, Config{Address: addr})
	write(t, w, 0, 500)
	if st := w.Stats(); st.Spooled != 500 || st.Queued != 500 || st.SpoolBytes == 0 || st.Connected {
		t.Fatalf("stats while down: %+v", st)
	}
	r := newReceiver(t, addr, nil)
	waitFor(t, 10*time.Second, "500 messages", func() bool { return len(r.messages()) >= 500 })
	write(t, w, 500, 600)
	waitFor(t, 5*time.Second, "600 messages", func() bool { return len(r.messages()) >= 600 })
	if got := numbers(t, r.messages()); !slices.Equal(got, seq(0, 600)) {
		t.Fatalf("received out of order or with gaps: %v", got)
	}
	if st := w.Stats(); st.Reconnects != 0 || st.Dropped != 0 {
		t.Errorf("stats: %+v", st)
	}
}

// A full spool drops its oldest lines and counts them: what arrives is
// the newest lines, in order, and arrived + dropped = written.
func TestSpoolLimitDropsCounted(t *testing.T) {
	addr := freeAddr(t)
	w, logs := openLogged(t, Config{Address: addr, MaxSpool: 16 << 10, ResendWindow: 200 * time.Millisecond})
	const n = 1000
	write(t, w, 0, n)
	st := w.Stats()
	if st.Dropped == 0 || st.SpoolBytes > 16<<10 {
		t.Fatalf("spool over its limit without drops: %+v", st)
	}
	// Dropping is trouble, said at most every 10 s however many go.
	if d := logs.count("warn", "lines dropped"); d != 1 {
		t.Errorf("%d warnings of dropped lines, want 1", d)
	}
	// The receiver is down: said once (Warn), retries at Debug.
	waitFor(t, 5*time.Second, "a failed reconnection", func() bool { return logs.count("debug", "cannot connect") > 0 })
	if c := logs.count("warn", "cannot connect"); c != 1 {
		t.Errorf("%d warnings that the receiver is down, want 1", c)
	}
	r := newReceiver(t, addr, nil)
	waitFor(t, 10*time.Second, "the spool to drain", func() bool { return w.Stats().Queued == 0 })
	got := numbers(t, r.messages())
	st = w.Stats()
	if uint64(len(got))+st.Dropped != n {
		t.Fatalf("%d arrived + %d dropped != %d written", len(got), st.Dropped, n)
	}
	if !slices.Equal(got, seq(n-len(got), n)) {
		t.Fatalf("not the newest lines in order: %v", got)
	}
}

// Close with the receiver down leaves the lines in the spool; the next
// Open sends them before anything newer.
func TestRestartSendsSpoolFirst(t *testing.T) {
	addr := freeAddr(t)
	dir := filepath.Join(t.TempDir(), "spool")
	w := open(t, Config{Address: addr, SpoolDir: dir, CloseTimeout: 500 * time.Millisecond})
	write(t, w, 0, 300)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("spool dir: %v %v", fi.Mode(), err)
	}
	r := newReceiver(t, addr, nil)
	// A second writer on the same spool is refused while this one runs.
	w2 := open(t, Config{Address: addr, SpoolDir: dir})
	if _, err := Open(Config{Address: addr, SpoolDir: dir}); err == nil {
		t.Error("a second Open of one spool succeeded")
	}
	write(t, w2, 300, 400)
	waitFor(t, 10*time.Second, "400 messages", func() bool { return len(r.messages()) >= 400 })
	if got := numbers(t, r.messages()); !slices.Equal(got, seq(0, 400)) {
		t.Fatalf("received %v", got)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.spool")); len(m) != 0 {
		t.Errorf("segments left after everything was sent: %v", m)
	}
}

// A receiver that dies with lines unread in its socket (and in its own
// buffer) gets them again from the resend window: nothing lost,
// duplicates counted.
func TestReceiverDiesResend(t *testing.T) {
	r := newReceiver(t, "127.0.0.1:0", nil)
	w, logs := openLogged(t, Config{Address: r.addr})
	write(t, w, 0, 200)
	waitFor(t, 5*time.Second, "200 messages", func() bool { return len(r.messages()) >= 200 })
	r.paused.Store(true)
	write(t, w, 200, 400) // acknowledged by the kernel, unread
	waitFor(t, 5*time.Second, "TCP acks", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.bl.MemBytes == 0 && len(w.window) > 0 && !w.window[len(w.window)-1].acked.IsZero()
	})
	r.kill()
	write(t, w, 400, 500) // spooled
	waitFor(t, 5*time.Second, "the writer to see the loss", func() bool { return !w.Stats().Connected })
	r.start()
	write(t, w, 500, 600)
	waitFor(t, 10*time.Second, "everything confirmed", func() bool { return w.Stats().Queued == 0 })
	got := numbers(t, r.messages())
	seen := map[int]int{}
	for _, n := range got {
		seen[n]++
	}
	dups := 0
	for i := 0; i < 600; i++ {
		if seen[i] == 0 {
			t.Errorf("line %d lost", i)
		}
		dups += max(0, seen[i]-1)
	}
	st := w.Stats()
	t.Logf("received %d, duplicates %d, stats %+v", len(got), dups, st)
	if st.Resent == 0 || st.Spooled == 0 || st.Reconnects != 1 {
		t.Errorf("stats: %+v", st)
	}
	// Connecting is news (Info), losing the connection trouble (Warn).
	if c, l := logs.count("info", "connected"), logs.count("warn", "connection lost"); c != 2 || l != 1 {
		t.Errorf("log: %d connected (info), %d lost (warn); want 2 and 1", c, l)
	}
	// After the resent lines, order holds: the tail is 400..599 in order.
	if !slices.Equal(got[len(got)-200:], seq(400, 600)) {
		t.Errorf("tail out of order: %v", got[len(got)-200:])
	}
}

// TLS: the server certificate is checked against the configured CA.
func TestTLS(t *testing.T) {
	pool, cert := testCA(t)
	r := newReceiver(t, "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	otherPool, _ := testCA(t)
	bad := open(t, Config{Address: r.addr, TLS: &tls.Config{RootCAs: otherPool}, CloseTimeout: 200 * time.Millisecond})
	write(t, bad, 0, 10)
	waitFor(t, 5*time.Second, "a certificate error", func() bool {
		return strings.Contains(bad.Stats().LastError, "certificate")
	})
	if len(r.messages()) != 0 || bad.Stats().Sent != 0 {
		t.Fatal("sent to a server the CA does not vouch for")
	}
	w := open(t, Config{Address: r.addr, TLS: &tls.Config{RootCAs: pool}})
	write(t, w, 0, 100)
	waitFor(t, 5*time.Second, "100 messages", func() bool { return len(r.messages()) >= 100 })
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := numbers(t, r.messages()); !slices.Equal(got, seq(0, 100)) {
		t.Fatalf("received %v", got)
	}
	if st := w.Stats(); st.Confirmed != 100 || st.Queued != 0 {
		t.Errorf("clean TLS close did not confirm: %+v", st)
	}
}

// Flush puts what is still in memory in the spool and syncs it.
func TestFlush(t *testing.T) {
	addr := freeAddr(t)
	w := open(t, Config{Address: addr})
	write(t, w, 0, 10)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	mem, dirty := len(w.bl.Mem), w.sp.Unsynced()
	w.mu.Unlock()
	if mem != 0 || dirty {
		t.Errorf("after Flush: %d in memory, spool dirty %v", mem, dirty)
	}
}

// Damaged spool records (here a bad header, an empty line and a torn
// tail) are skipped and counted in Stats.Corrupt; the good records
// around them arrive. The record format itself is internal/spool's to
// test: this spools through the API and damages the segment files.
func TestSpoolCorrupt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	for _, m := range []string{"<110>1 - - - - event - good 0", "<110>1 - - - - event - good 1"} {
		sp, err := spool.Open(dir, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := sp.Append([][]byte{[]byte(m)}); err != nil {
			t.Fatal(err)
		}
		if err := sp.Close(); err != nil {
			t.Fatal(err)
		}
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.spool"))
	if len(segs) != 2 {
		t.Fatalf("segments %v, want 2 (a reopened spool starts a new one)", segs)
	}
	for i, junk := range []string{"zz\n\n", "0badc0de <110>1 - - - - event - torn"} {
		f, err := os.OpenFile(segs[i], os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(junk)
		f.Close()
	}
	r := newReceiver(t, "127.0.0.1:0", nil)
	w := open(t, Config{Address: r.addr, SpoolDir: dir})
	waitFor(t, 5*time.Second, "2 messages", func() bool { return len(r.messages()) >= 2 })
	waitFor(t, 5*time.Second, "the spool to drain", func() bool { return w.Stats().Queued == 0 })
	w.Close()
	got := r.messages()
	if len(got) != 2 || string(got[0]) != "<110>1 - - - - event - good 0" || string(got[1]) != "<110>1 - - - - event - good 1" {
		t.Errorf("got %q", got)
	}
	if st := w.Stats(); st.Corrupt != 3 {
		t.Errorf("Corrupt = %d, want 3", st.Corrupt)
	}
}
