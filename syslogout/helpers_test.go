package syslogout

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// message is a parsed RFC 5424 message.
type message struct {
	pri, version                 int
	ts                           time.Time
	tsRaw                        string
	host, app, procid, msgid, sd string
	msg                          []byte
}

// parseMessage parses what appendMessage writes (SD always "-").
func parseMessage(b []byte) (message, error) {
	var m message
	if len(b) < 3 || b[0] != '<' {
		return m, errors.New("no PRI")
	}
	end := bytes.IndexByte(b, '>')
	if end < 2 || end > 4 {
		return m, errors.New("bad PRI")
	}
	pri, err := strconv.Atoi(string(b[1:end]))
	if err != nil || pri < 0 || pri > 191 {
		return m, fmt.Errorf("bad PRI %q", b[1:end])
	}
	m.pri = pri
	f := bytes.SplitN(b[end+1:], []byte(" "), 8)
	if len(f) != 8 {
		return m, fmt.Errorf("%d header fields", len(f))
	}
	if m.version, err = strconv.Atoi(string(f[0])); err != nil {
		return m, err
	}
	m.tsRaw = string(f[1])
	if m.ts, err = time.Parse(time.RFC3339Nano, m.tsRaw); err != nil {
		return m, err
	}
	m.host, m.app, m.procid, m.msgid, m.sd = string(f[2]), string(f[3]), string(f[4]), string(f[5]), string(f[6])
	m.msg = f[7]
	return m, nil
}

var errBadFrame = errors.New("bad frame")

// readFrame reads one octet-counted frame.
func readFrame(br *bufio.Reader) ([]byte, error) {
	n := 0
	for i := 0; ; i++ {
		c, err := br.ReadByte()
		if err != nil {
			if i == 0 {
				return nil, err
			}
			return nil, io.ErrUnexpectedEOF
		}
		if c == ' ' && i > 0 {
			break
		}
		if c < '0' || c > '9' || i > 9 || (i == 0 && c == '0') {
			return nil, fmt.Errorf("%w: length byte %q", errBadFrame, c)
		}
		n = n*10 + int(c-'0')
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	return b, nil
}

// receiver is a syslog receiver for tests: octet-counted frames over TCP
// or TLS. pause stops it reading its sockets; kill closes everything at
// once, like a receiver that dies: what it has not read is lost.
type receiver struct {
	t      testing.TB
	addr   string
	tlsCfg *tls.Config
	paused atomic.Bool

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	msgs  [][]byte
	wg    sync.WaitGroup
}

func newReceiver(t testing.TB, addr string, tlsCfg *tls.Config) *receiver {
	r := &receiver{t: t, addr: addr, tlsCfg: tlsCfg}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *receiver) start() {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	if r.tlsCfg != nil {
		ln = tls.NewListener(ln, r.tlsCfg)
	}
	r.mu.Lock()
	r.ln, r.conns = ln, map[net.Conn]bool{}
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns[c] = true
			r.mu.Unlock()
			r.wg.Add(1)
			go r.serve(c)
		}
	}()
}

func (r *receiver) serve(c net.Conn) {
	defer r.wg.Done()
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		for r.paused.Load() {
			time.Sleep(time.Millisecond)
		}
		b, err := readFrame(br)
		if err != nil {
			if errors.Is(err, errBadFrame) {
				r.t.Errorf("receiver: %v", err)
			}
			return
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, b)
		r.mu.Unlock()
	}
}

// kill closes the listener and every connection; unread data is lost.
func (r *receiver) kill() {
	r.mu.Lock()
	if r.ln != nil {
		r.ln.Close()
		for c := range r.conns {
			c.Close()
		}
		r.ln = nil
	}
	r.mu.Unlock()
	r.paused.Store(false)
	r.wg.Wait()
}

func (r *receiver) messages() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.msgs...)
}

// testLine is JSON line number n.
func testLine(n int, kind string) string {
	return fmt.Sprintf(`{"@timestamp":"2024-01-01T00:00:00.000Z","event":{"id":"t-%d","kind":"%s"},"n":%d}`, n, kind, n)
}

// numbers returns the n of each received message's JSON line, in order.
func numbers(t testing.TB, msgs [][]byte) []int {
	t.Helper()
	var out []int
	for _, b := range msgs {
		m, err := parseMessage(b)
		if err != nil {
			t.Fatalf("parsing %q: %v", b, err)
		}
		var v struct{ N int }
		if err := json.Unmarshal(m.msg, &v); err != nil {
			t.Fatalf("MSG %q: %v", m.msg, err)
		}
		out = append(out, v.N)
	}
	return out
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
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
		Subject:               pkix.Name{CommonName: "syslogout test CA"},
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
