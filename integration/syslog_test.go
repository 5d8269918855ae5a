package integration

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lineaged/lineaged/syslogout"
)

// TestIntegrationSyslogTCP sends lines to a private rsyslogd over TCP,
// stops it midway (they spool), restarts it: every line must arrive.
func TestIntegrationSyslogTCP(t *testing.T) { syslogRestart(t, false, 2000) }

// TestIntegrationSyslogTLS does the same over TLS (RFC 5425), after
// checking that a client trusting another CA sends nothing.
func TestIntegrationSyslogTLS(t *testing.T) { syslogRestart(t, true, 1000) }

// rsyslog is a private rsyslogd: its own config, port on loopback, work
// directory and pid file under a test directory. Only imtcp is loaded (no
// imuxsock, no imklog), so it neither reads nor writes the host's logs.
type rsyslog struct {
	t                   *testing.T
	bin, dir, conf, out string
	port                int
	cmd                 *exec.Cmd
	exited              chan struct{}
}

func findRsyslogd(t *testing.T) string {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if p, err := exec.LookPath("rsyslogd"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/rsyslogd"); err == nil {
		return "/usr/sbin/rsyslogd"
	}
	t.Skip("rsyslogd not installed (apt-get install rsyslog rsyslog-gnutls)")
	return ""
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func newRsyslog(t *testing.T, bin string, tlsFiles []string) *rsyslog {
	dir := t.TempDir()
	r := &rsyslog{t: t, bin: bin, dir: dir, port: freePort(t),
		conf: filepath.Join(dir, "rsyslog.conf"), out: filepath.Join(dir, "messages")}
	os.Mkdir(filepath.Join(dir, "work"), 0o700)
	global := fmt.Sprintf(`workDirectory="%s" maxMessageSize="64k"`, filepath.Join(dir, "work"))
	stream := ""
	if tlsFiles != nil {
		global += fmt.Sprintf(`
       defaultNetstreamDriver="gtls"
       defaultNetstreamDriverCAFile="%s"
       defaultNetstreamDriverCertFile="%s"
       defaultNetstreamDriverKeyFile="%s"`, tlsFiles[0], tlsFiles[1], tlsFiles[2])
		stream = ` streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon"`
	}
	conf := fmt.Sprintf(`global(%s)
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="%d" ruleset="lineaged"%s)
template(name="msgonly" type="string" string="%%msg%%\n")
ruleset(name="lineaged") {
  if $app-name == "lineaged" then {
    action(type="omfile" file="%s" template="msgonly")
  } else {
    action(type="omfile" file="%s")
  }
}
`, global, r.port, stream, r.out, filepath.Join(dir, "other"))
	if err := os.WriteFile(r.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-N1", "-f", r.conf).CombinedOutput(); err != nil {
		if tlsFiles != nil && bytes.Contains(out, []byte("gtls")) {
			t.Skipf("rsyslog cannot load its TLS driver (apt-get install rsyslog-gnutls): %s", out)
		}
		t.Fatalf("rsyslogd -N1: %v\n%s\n%s", err, out, conf)
	}
	t.Cleanup(r.stop)
	return r
}

// start runs rsyslogd in the foreground and waits until it listens.
func (r *rsyslog) start() {
	r.t.Helper()
	logf, err := os.OpenFile(filepath.Join(r.dir, "rsyslogd.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		r.t.Fatal(err)
	}
	defer logf.Close()
	r.cmd = exec.Command(r.bin, "-n", "-f", r.conf, "-i", filepath.Join(r.dir, "rsyslogd.pid"))
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(r.cmd, r.exited)
	end := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-r.exited:
			r.t.Fatalf("rsyslogd exited at start:\n%s", r.log())
		default:
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(end) {
			r.t.Fatalf("rsyslogd not listening after 10 s:\n%s", r.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends rsyslogd with SIGTERM (SIGKILL after 10 s) and waits for it.
func (r *rsyslog) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		r.t.Errorf("rsyslogd ignored SIGTERM for 10 s")
		r.cmd.Process.Kill()
		<-r.exited
	}
	r.cmd = nil
}

func (r *rsyslog) log() string {
	b, _ := os.ReadFile(filepath.Join(r.dir, "rsyslogd.log"))
	return string(b)
}

// received counts each line in rsyslog's output file.
func (r *rsyslog) received() map[string]int {
	got := map[string]int{}
	f, err := os.Open(r.out)
	if err != nil {
		return got
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		got[sc.Text()]++
	}
	return got
}

// writeTLSFiles makes a CA and a server certificate for 127.0.0.1 and
// writes ca.pem, cert.pem and key.pem to dir; it returns their paths and
// a pool holding the CA.
func writeTLSFiles(t *testing.T, dir string) ([]string, *x509.CertPool) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lineaged test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
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
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")}
	for i, b := range []*pem.Block{{Type: "CERTIFICATE", Bytes: caDER}, {Type: "CERTIFICATE", Bytes: der}, {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(files[i], pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return files, pool
}

func syslogLine(i int) string {
	return fmt.Sprintf(`{"@timestamp":"%s","event":{"id":"it-%d","kind":"event","action":"executed"},"process":{"pid":%d,"args":["/bin/true","x y"]},"n":%d}`,
		time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), i, 1000+i, i)
}

func syslogRestart(t *testing.T, useTLS bool, n int) {
	bin := findRsyslogd(t)
	start := time.Now()
	var tlsFiles []string
	var clientTLS *tls.Config
	if useTLS {
		files, pool := writeTLSFiles(t, t.TempDir())
		tlsFiles, clientTLS = files, &tls.Config{RootCAs: pool}
	}
	rs := newRsyslog(t, bin, tlsFiles)
	rs.start()
	addr := fmt.Sprintf("127.0.0.1:%d", rs.port)
	lg := zerolog.New(zerolog.NewTestWriter(t))

	if useTLS {
		// A client trusting another CA must refuse the server.
		_, otherPool := writeTLSFiles(t, t.TempDir())
		bad, err := syslogout.Open(syslogout.Config{Address: addr, TLS: &tls.Config{RootCAs: otherPool},
			SpoolDir: filepath.Join(t.TempDir(), "spool"), CloseTimeout: time.Second, Log: lg})
		if err != nil {
			t.Fatal(err)
		}
		bad.Write([]byte(`{"event":{"kind":"event"},"n":-1}` + "\n"))
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(bad.Stats().LastError, "certificate") {
			if time.Now().After(deadline) {
				t.Fatalf("no certificate error with the wrong CA: %+v", bad.Stats())
			}
			time.Sleep(10 * time.Millisecond)
		}
		bad.Close()
		if st := bad.Stats(); st.Sent != 0 || st.Queued != 1 {
			t.Fatalf("wrong-CA client: %+v", st)
		}
		t.Logf("wrong CA refused: %s", bad.Stats().LastError)
	}

	w, err := syslogout.Open(syslogout.Config{Address: addr, TLS: clientTLS, Hostname: "it-host",
		SpoolDir: filepath.Join(t.TempDir(), "spool"), CloseTimeout: 10 * time.Second, Log: lg})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	lines := make([]string, n)
	send := func(from, to int, pace time.Duration) {
		for i := from; i < to; i++ {
			lines[i] = syslogLine(i)
			if _, err := w.Write([]byte(lines[i] + "\n")); err != nil {
				t.Fatal(err)
			}
			time.Sleep(pace)
		}
	}
	// Over 3 s before the stop, so that the older lines leave the resend
	// window (2 s after their TCP ack) and only the recent ones are sent
	// again.
	a, b := n*35/100, n*70/100
	send(0, a, 3*time.Second/time.Duration(a))
	before := w.Stats()
	if before.Confirmed == 0 {
		t.Errorf("nothing confirmed after 3 s: %+v", before)
	}
	stopAt := time.Now()
	rs.stop() // mid-stream
	t.Logf("rsyslogd stopped after line %d (%v)", a, time.Since(stopAt).Round(time.Millisecond))
	send(a, b, time.Millisecond) // spooled
	down := w.Stats()
	if down.Connected || down.Spooled == 0 {
		t.Errorf("while rsyslogd was down: %+v", down)
	}
	rs.start()
	t.Logf("rsyslogd restarted on port %d after %v down", rs.port, time.Since(stopAt).Round(time.Millisecond))
	send(b, n, time.Millisecond)

	waitStart := time.Now()
	var got map[string]int
	for {
		got = rs.received()
		missing := 0
		for _, l := range lines {
			if got[l] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Since(waitStart) > 60*time.Second {
			t.Fatalf("%d of %d lines never arrived; stats %+v\nrsyslogd log:\n%s", missing, n, w.Stats(), rs.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("all %d lines arrived %v after the last write", n, time.Since(waitStart).Round(time.Millisecond))
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	st := w.Stats()
	sent := map[string]bool{}
	for _, l := range lines {
		sent[l] = true
	}
	got = rs.received()
	dups, total := 0, 0
	for l, c := range got {
		if !sent[l] {
			t.Errorf("rsyslog wrote a line never sent (cut or altered?): %.200q", l)
		}
		total += c
		dups += c - 1
	}
	t.Logf("received %d messages for %d lines: %d duplicates; stats %+v; %v in all", total, n, dups, st, time.Since(start).Round(time.Millisecond))
	if dups >= a {
		t.Errorf("%d duplicates: lines confirmed before the stop (%d) were sent again", dups, before.Confirmed)
	}
	if st.Spooled == 0 || st.Resent == 0 || st.Reconnects == 0 || st.Dropped != 0 || st.Queued != 0 {
		t.Errorf("stats: want spooled, resent and a reconnect, nothing dropped or left: %+v", st)
	}
}

// TestIntegrationRunSyslog: `lineaged run` with output.syslog sends the
// same lines to a real rsyslogd as to the events file; with the receiver
// down at first, the lines wait in the spool and arrive once it starts.
func TestIntegrationRunSyslog(t *testing.T) {
	rs := newRsyslog(t, findRsyslogd(t), nil)
	dir := t.TempDir()
	out := filepath.Join(dir, "events.jsonl")
	cfgPath := filepath.Join(dir, "lineaged.yml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf("audit:\n  mode: \"off\"\nfiles:\n  enabled: false\nnetwork:\n  snapshot_every: 0\noutput:\n  syslog:\n    address: \"127.0.0.1:%d\"\n    spool_dir: %s\n", rs.port, filepath.Join(dir, "spool"))), 0o600)
	run := startRun(t, out, "--config", cfgPath) // the receiver is not up yet
	marker := fmt.Sprintf("lineaged-syslog-%d", time.Now().UnixNano())
	// Audit is off: the args come from /proc, so the process must live
	// long enough to be read.
	exec.Command("/bin/sh", "-c", "sleep 0.3", marker).Run()
	time.Sleep(300 * time.Millisecond)
	rs.start()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := rs.received()
		var started, execd bool
		for line := range got {
			started = started || strings.Contains(line, `"action":"started"`)
			execd = execd || strings.Contains(line, marker)
		}
		if started && execd {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("via syslog: started event %v, marker exec %v; lineaged stderr:\n%s\nrsyslog:\n%s", started, execd, run.stderr.String(), rs.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := run.Stop(); err != nil {
		t.Fatal(err)
	}
	// Every line of the events file reached the receiver.
	got := rs.received()
	data, _ := os.ReadFile(out)
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if got[l] == 0 {
			t.Errorf("in the events file, not received by syslog: %.200s", l)
		}
	}
}
