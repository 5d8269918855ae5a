package kafkaout

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	evTopic     = "lineaged-events"
	alTopic     = "lineaged-alerts"
	partitions  = 3
	waitLong    = 60 * time.Second // generous: a loaded 2-core machine
	testTimeout = time.Second      // DeliveryTimeout: the client's floor
)

// newCluster starts an in-process Kafka (kfake: the real protocol on a
// loopback port) with the two topics, closed at the test's end, after the
// writers (cleanups run last first).
func newCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, evTopic, alTopic)}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// openLogged opens a Writer with the test's defaults, its log in the
// test's log and in the returned buffer (JSON lines, info and up).
func openLogged(t testing.TB, cfg Config) (*Writer, *logBuffer) {
	t.Helper()
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = filepath.Join(t.TempDir(), "spool")
	}
	if cfg.DeliveryTimeout == 0 {
		cfg.DeliveryTimeout = testTimeout
	}
	lb := &logBuffer{}
	cfg.Log = zerolog.New(zerolog.MultiLevelWriter(zerolog.NewTestWriter(t), lb)).Level(zerolog.InfoLevel)
	w, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, lb
}

func open(t testing.TB, cfg Config) *Writer {
	t.Helper()
	w, _ := openLogged(t, cfg)
	return w
}

// logBuffer keeps log entries written from the writer's goroutines.
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

// testLine is JSON line number n, in lineaged's field order.
func testLine(n int, kind, host string) string {
	return fmt.Sprintf(`{"@timestamp":"2026-01-01T00:00:00.000Z","event":{"id":"t-%d","kind":%q},"host":{"name":%q},"n":%d}`, n, kind, host, n)
}

// write writes lines from..to-1, of host "web-1", every tenth an alert.
func write(t testing.TB, w *Writer, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := w.Write([]byte(testLine(i, kindOf(i), "web-1") + "\n")); err != nil {
			t.Fatal(err)
		}
	}
}

func kindOf(n int) string {
	if n%10 == 9 {
		return "alert"
	}
	return "event"
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stored is how many records the cluster holds on both topics (the sum
// of the partitions' end offsets).
func stored(t testing.TB, c *kfake.Cluster, opts ...kgo.Opt) int64 {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrListOffsetsRequest()
	for _, topic := range []string{evTopic, alTopic} {
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		for p := int32(0); p < partitions; p++ {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition, rp.Timestamp = p, -1 // the end
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if rp.ErrorCode != 0 {
				t.Fatalf("ListOffsets %s/%d: error %d", rt.Topic, rp.Partition, rp.ErrorCode)
			}
			n += rp.Offset
		}
	}
	return n
}

// consume reads want records from both topics, from their start.
func consume(t testing.TB, c *kfake.Cluster, want int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(evTopic, alTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d records of %d: %v", len(recs), want, ctx.Err())
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	return recs
}

// number is the n of a record's line.
func number(t testing.TB, r *kgo.Record) int {
	t.Helper()
	var v struct{ N int }
	if err := json.Unmarshal(r.Value, &v); err != nil {
		t.Fatalf("record value %q: %v", r.Value, err)
	}
	return v.N
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

// testCA makes a CA and a server certificate for 127.0.0.1 and localhost.
func testCA(t testing.TB) (pool *x509.CertPool, server tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kafkaout test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(ca)
	return pool, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
