package kafkaout

import (
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Every line arrives once, as it was written: alerts on the alert topic,
// the rest on the event topic, keyed by host.name, each host's lines in
// order; Stats counts them sent.
func TestDelivery(t *testing.T) {
	for _, comp := range []string{"zstd", "lz4"} {
		t.Run(comp, func(t *testing.T) {
			c := newCluster(t)
			w := open(t, Config{Brokers: c.ListenAddrs(), Compression: comp})
			hosts := []string{"web-1", "db-2"}
			const n = 200
			var batch []byte
			for i := 0; i < n; i++ {
				batch = append(batch, testLine(i, kindOf(i), hosts[i%2])+"\n"...)
				if i%7 == 6 || i == n-1 { // several lines per Write, some alone
					if m, err := w.Write(batch); err != nil || m != len(batch) {
						t.Fatalf("Write: %d, %v", m, err)
					}
					batch = batch[:0] // Write keeps no reference to it
				}
			}
			waitFor(t, waitLong, "every line acknowledged", func() bool { st := w.Stats(); return st.Sent == n && st.Queued == 0 })
			recs := consume(t, c, n)
			last := map[string]int{}
			seen := map[int]bool{}
			for _, r := range recs {
				i := number(t, r)
				host := hosts[i%2]
				if seen[i] {
					t.Errorf("line %d twice", i)
				}
				seen[i] = true
				if want := map[string]string{"event": evTopic, "alert": alTopic}[kindOf(i)]; r.Topic != want {
					t.Errorf("line %d (%s) on %s, want %s", i, kindOf(i), r.Topic, want)
				}
				if string(r.Key) != host {
					t.Errorf("line %d: key %q, want %q", i, r.Key, host)
				}
				if string(r.Value) != testLine(i, kindOf(i), host) {
					t.Errorf("line %d: value %q", i, r.Value)
				}
				k := r.Topic + "/" + host
				if prev, ok := last[k]; ok && i < prev {
					t.Errorf("%s: line %d after %d", k, i, prev)
				}
				last[k] = i
			}
			if len(seen) != n {
				t.Errorf("%d distinct lines, want %d", len(seen), n)
			}
			if got := stored(t, c); got != n {
				t.Errorf("cluster holds %d records, want %d", got, n)
			}
			st := w.Stats()
			if st.Spooled != 0 || st.Dropped != 0 || st.Errors != 0 || st.Failing {
				t.Errorf("stats %+v", st)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write([]byte("x\n")); !errors.Is(err, ErrClosed) {
				t.Errorf("Write after Close: %v", err)
			}
		})
	}
}

// The brokers refuse every produce for a while (NOT_ENOUGH_REPLICAS, as
// a cluster short of in-sync replicas does with acks=all): deliveries
// fail, lines are spooled, and when the brokers take them again every
// line arrives at least once. Sent is exactly what the cluster holds,
// and nothing is dropped.
func TestOutage(t *testing.T) {
	c := newCluster(t)
	w, logs := openLogged(t, Config{Brokers: c.ListenAddrs(), MaxInFlight: 8 << 10, MemQueue: 2 << 10})
	write(t, w, 0, 100)
	waitFor(t, waitLong, "the first 100 lines", func() bool { return w.Stats().Sent == 100 })

	fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotEnoughReplicas, Count: -1})
	write(t, w, 100, 600)
	waitFor(t, waitLong, "failed deliveries and spooled lines", func() bool {
		st := w.Stats()
		return st.Errors > 0 && st.Failing && st.Spooled > 0
	})
	write(t, w, 600, 800) // while failing: straight to the spool
	if st := w.Stats(); st.Sent != 100 || st.Queued != 700 {
		t.Fatalf("during the outage: %+v", st)
	}
	fault.Remove()
	write(t, w, 800, 1000)
	waitFor(t, waitLong, "every line acknowledged", func() bool { st := w.Stats(); return st.Queued == 0 && st.Sent >= 1000 })

	st := w.Stats()
	held := stored(t, c)
	if int64(st.Sent) != held {
		t.Errorf("Sent %d, the cluster holds %d", st.Sent, held)
	}
	recs := consume(t, c, int(held))
	seen := map[int]bool{}
	for _, r := range recs {
		seen[number(t, r)] = true
	}
	for i := 0; i < 1000; i++ {
		if !seen[i] {
			t.Errorf("line %d never arrived", i)
		}
	}
	if st.Dropped != 0 || st.Failing || st.LastError == "" || !strings.Contains(st.LastError, "NOT_ENOUGH_REPLICAS") && !strings.Contains(st.LastError, "timed out") {
		t.Errorf("after the outage: %+v", st)
	}
	if logs.count("warn", "deliveries to Kafka fail") == 0 || logs.count("info", "deliveries succeed again") == 0 {
		t.Error("the outage and the recovery were not logged")
	}
}

// With no broker and a small spool, the oldest spooled lines are dropped
// and counted (and logged); Close spools what was waiting, and a writer
// opened later on the same spool delivers exactly what was kept, in
// order, before anything new.
func TestSpoolBound(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	w, logs := openLogged(t, Config{Brokers: []string{freeAddr(t)}, SpoolDir: dir,
		MaxSpool: 16 << 10, MaxInFlight: 2 << 10, MemQueue: 1 << 10})
	const n = 1000
	write(t, w, 0, n)
	st := w.Stats()
	if st.Dropped == 0 || st.SpoolBytes > 16<<10 {
		t.Fatalf("spool over its bound without drops: %+v", st)
	}
	if st.Sent != 0 || uint64(st.Queued)+st.Dropped != n {
		t.Fatalf("queued %d + dropped %d != %d written (%+v)", st.Queued, st.Dropped, n, st)
	}
	if logs.count("warn", "lines dropped") == 0 {
		t.Error("drops not logged")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st = w.Stats()
	if uint64(st.Queued)+st.Dropped != n {
		t.Fatalf("after Close: queued %d + dropped %d != %d", st.Queued, st.Dropped, n)
	}
	kept := st.Queued

	c := newCluster(t)
	w2 := open(t, Config{Brokers: c.ListenAddrs(), SpoolDir: dir})
	write(t, w2, n, n+10)
	waitFor(t, waitLong, "the spool to drain", func() bool { st := w2.Stats(); return st.Queued == 0 && st.Sent == uint64(kept+10) })
	recs := consume(t, c, kept+10)
	var got []int
	for _, r := range recs {
		if r.Topic == evTopic {
			got = append(got, number(t, r))
		}
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("events not in order, or repeated: %v", got)
		}
	}
	if last := got[len(got)-1]; last != n+8 { // n+9 is an alert
		t.Errorf("last event %d, want %d", last, n+8)
	}
	if s := w2.Stats(); s.Dropped != 0 || s.Spooled != 0 {
		t.Errorf("second writer: %+v", s)
	}
}

// TLS with the CA of the test, and each SASL mechanism, the password read
// from a file (first line, line end dropped).
func TestTLSAndSASL(t *testing.T) {
	pool, cert := testCA(t)
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			c := newCluster(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}),
				kfake.EnableSASL(), kfake.Superuser(mech, "lineaged", "s3cret pass"))
			pw := filepath.Join(t.TempDir(), "password")
			os.WriteFile(pw, []byte("s3cret pass\r\nsecond line is ignored\n"), 0o600)
			w := open(t, Config{Brokers: c.ListenAddrs(), TLS: &tls.Config{RootCAs: pool},
				SASL: SASL{Mechanism: mech, Username: "lineaged", PasswordFile: pw}})
			write(t, w, 0, 20)
			waitFor(t, waitLong, "20 lines acknowledged", func() bool { return w.Stats().Sent == 20 })
			recs := consume(t, c, 20, kgo.DialTLSConfig(&tls.Config{RootCAs: pool}), kgo.SASL(consumerSASL(mech)))
			if len(recs) != 20 {
				t.Errorf("%d records", len(recs))
			}
		})
	}
}

func consumerSASL(mech string) sasl.Mechanism {
	switch mech {
	case "PLAIN":
		return plain.Auth{User: "lineaged", Pass: "s3cret pass"}.AsMechanism()
	case "SCRAM-SHA-256":
		return scram.Auth{User: "lineaged", Pass: "s3cret pass"}.AsSha256Mechanism()
	}
	return scram.Auth{User: "lineaged", Pass: "s3cret pass"}.AsSha512Mechanism()
}

// A wrong password fails deliveries (counted, lines kept); the file is
// read again at each connection, so correcting it is enough.
func TestPasswordFileReread(t *testing.T) {
	c := newCluster(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "lineaged", "right"))
	pw := filepath.Join(t.TempDir(), "password")
	os.WriteFile(pw, []byte("wrong\n"), 0o600)
	w := open(t, Config{Brokers: c.ListenAddrs(), SASL: SASL{Mechanism: "SCRAM-SHA-512", Username: "lineaged", PasswordFile: pw}})
	write(t, w, 0, 10)
	waitFor(t, waitLong, "a failed delivery", func() bool { st := w.Stats(); return st.Errors > 0 && st.Failing })
	if st := w.Stats(); st.Sent != 0 || st.Queued != 10 || st.Dropped != 0 {
		t.Fatalf("with a wrong password: %+v", st)
	}
	os.WriteFile(pw, []byte("right\n"), 0o600)
	waitFor(t, waitLong, "10 lines acknowledged", func() bool { st := w.Stats(); return st.Sent == 10 && st.Queued == 0 })
	if got := stored(t, c, kgo.SASL(scram.Auth{User: "lineaged", Pass: "right"}.AsSha512Mechanism())); got != 10 {
		t.Errorf("cluster holds %d records, want 10", got)
	}
}

// Open refuses a configuration it cannot use, naming what is wrong.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("\n"), 0o600)
	spool := filepath.Join(dir, "spool")
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{SpoolDir: spool}, "no broker"},
		{Config{Brokers: []string{"kafka-1"}, SpoolDir: spool}, `broker "kafka-1" is not host:port`},
		{Config{Brokers: []string{"127.0.0.1:9092"}}, "no spool directory"},
		{Config{Brokers: []string{"127.0.0.1:9092"}, SpoolDir: spool, Compression: "gzip"}, `compression "gzip" is not zstd or lz4`},
		{Config{Brokers: []string{"127.0.0.1:9092"}, SpoolDir: spool, SASL: SASL{Mechanism: "GSSAPI", Username: "u", PasswordFile: pw}}, "password file " + pw + ": empty"},
		{Config{Brokers: []string{"127.0.0.1:9092"}, SpoolDir: spool, SASL: SASL{Mechanism: "PLAIN", Username: "u"}}, "SASL PLAIN needs a username and a password file"},
		{Config{Brokers: []string{"127.0.0.1:9092"}, SpoolDir: spool, SASL: SASL{Mechanism: "PLAIN", Username: "u", PasswordFile: pw + "x"}}, "password file: open " + pw + "x: no such file or directory"},
	} {
		w, err := Open(tc.cfg)
		if err == nil {
			w.Close()
			t.Errorf("Open(%+v): no error, want %s", tc.cfg, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v): %v, want %s", tc.cfg, err, tc.want)
		}
	}
	os.WriteFile(pw, []byte("pw\n"), 0o600)
	if _, err := Open(Config{Brokers: []string{"127.0.0.1:9092"}, SpoolDir: spool, SASL: SASL{Mechanism: "GSSAPI", Username: "u", PasswordFile: pw}}); err == nil ||
		!strings.Contains(err.Error(), `SASL mechanism "GSSAPI" is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`) {
		t.Errorf("GSSAPI: %v", err)
	}
}

// Flush spools what is still in memory and syncs the spool; a second
// writer on the same spool is refused while the first runs.
func TestFlush(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	w := open(t, Config{Brokers: []string{freeAddr(t)}, SpoolDir: dir})
	write(t, w, 0, 10)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	mem, unsynced := len(w.bl.Mem), w.sp.Unsynced()
	w.mu.Unlock()
	if mem != 0 || unsynced {
		t.Errorf("after Flush: %d in memory, spool unsynced %v", mem, unsynced)
	}
	if w2, err := Open(Config{Brokers: []string{freeAddr(t)}, SpoolDir: dir}); err == nil {
		w2.Close()
		t.Error("a second Open of one spool succeeded")
	}
	w.Close()
	if err := w.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}
