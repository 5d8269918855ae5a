// Package forwarding tests the shipper configurations of
// packaging/forwarding against the real shippers, where this machine has
// them. Only rsyslog is installed here; the other files are written from
// their tools' documentation and are not run (see docs/forwarding-section.md).
//
// The tests touch no kernel state (no audit, no fanotify): they need root
// only because rsyslogd is a root daemon.
package forwarding

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lineaged/lineaged/internal/rotate"
)

const (
	// rsyslogConf is the documented configuration, run as it is with the
	// values of rsyslogPlaceholders replaced.
	rsyslogConf = "../../packaging/forwarding/rsyslog-lineaged.conf"
	sampleLines = "../../testdata/sample/audit.log.golden.jsonl"
	// deadline bounds every wait on a condition; it is never slept.
	deadline = 60 * time.Second
)

// TestIntegrationRsyslogImfile runs packaging/forwarding/rsyslog-lineaged.conf
// in a private rsyslogd (imfile on a temporary events.jsonl, omfwd over
// TCP with octet-counted framing) that forwards to a second private
// rsyslogd standing for the SIEM (imtcp on loopback, omfile with a
// template of the message alone). Lines are appended through lineaged's
// own rotating file (internal/rotate): real ECS lines from the sample's
// golden output and 20 KB lines; the file is rotated by rename with lines
// in it still unread, and the forwarder is stopped and restarted while
// lines are appended. Every line must arrive exactly once, in order, byte
// for byte, and be valid JSON.
//
// Neither daemon loads imuxsock or imklog: they neither read nor write the
// host's logs and do not disturb a system rsyslogd; each has its own work
// directory and pid file under the test's temporary directory.
func TestIntegrationRsyslogImfile(t *testing.T) {
	bin := findRsyslogd(t)
	dir := t.TempDir()
	events := filepath.Join(dir, "log", "events.jsonl")
	received := filepath.Join(dir, "siem", "received")
	other := filepath.Join(dir, "siem", "other")
	for _, d := range []string{"log", "siem", "siem/work", "fwd/work", "fwd/state"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}

	// The SIEM: imtcp, lines tagged lineaged (facility local0) to
	// received as their bare message, anything else to other.
	port := freePort(t)
	siemConf := filepath.Join(dir, "siem", "rsyslog.conf")
	writeFile(t, siemConf, fmt.Sprintf(`global(workDirectory="%s" maxMessageSize="64k")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="%d" ruleset="siem")
template(name="msgonly" type="string" string="%%msg%%\n")
ruleset(name="siem") {
  if $app-name == "lineaged" and $syslogfacility-text == "local0" then {
    action(type="omfile" file="%s" template="msgonly")
  } else {
    action(type="omfile" file="%s")
  }
}
`, filepath.Join(dir, "siem", "work"), port, received, other))
	siem := newDaemon(t, bin, siemConf, filepath.Join(dir, "siem"))
	siem.start()
	waitFor(t, "the SIEM rsyslogd to listen", func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, siem)

	// The forwarder: the documented file, included from a main
	// configuration that sets the work directory, as Debian's and RHEL's
	// rsyslog.conf do for the files of /etc/rsyslog.d.
	fwdConf := filepath.Join(dir, "fwd", "lineaged.conf")
	writeFile(t, fwdConf, documentedConf(t, map[string]string{
		`file="/var/log/lineaged/events.jsonl"`:             fmt.Sprintf("file=%q", events),
		`statefile.directory="/var/spool/rsyslog/lineaged"`: fmt.Sprintf("statefile.directory=%q", filepath.Join(dir, "fwd", "state")),
		`target="siem.example.org"`:                         `target="127.0.0.1"`,
		`port="514"`:                                        fmt.Sprintf(`port="%d"`, port),
	}))
	mainConf := filepath.Join(dir, "fwd", "rsyslog.conf")
	writeFile(t, mainConf, fmt.Sprintf("global(workDirectory=%q)\ninclude(file=%q)\n",
		filepath.Join(dir, "fwd", "work"), fwdConf))
	fwd := newDaemon(t, bin, mainConf, filepath.Join(dir, "fwd"))

	// lineaged's events file: 0640, rotated by rename, five kept.
	out, err := rotate.Open(rotate.Config{Path: events, Keep: 5, Mode: 0o640})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	var sent []string
	write := func(lines ...string) {
		t.Helper()
		var buf bytes.Buffer
		for _, l := range lines {
			buf.WriteString(l)
			buf.WriteByte('\n')
		}
		if _, err := out.Write(buf.Bytes()); err != nil {
			t.Fatal(err)
		}
		if n, failing := out.Dropped(); n > 0 || failing {
			t.Fatalf("the events file dropped %d lines", n)
		}
		sent = append(sent, lines...)
	}
	arrived := func(what string) {
		t.Helper()
		waitFor(t, what, func() bool { return len(readLines(t, received)) >= len(sent) }, fwd, siem)
	}
	rotateNow := func() {
		t.Helper()
		if err := out.Rotate(); err != nil {
			t.Fatal(err)
		}
	}

	// The sample's lines, each pass with event ids of its own, so that
	// every line written is unique.
	sample := func(pass int) []string { return sampleECSLines(t, pass) }
	first := sample(1)
	half := len(first) / 2

	// 1. The forwarder is up and reading when the first line arrives.
	fwd.start()
	write(first[0])
	arrived("the first line (imfile watching)")

	// 2. Lines, among them a 20 KB one, then a rotation at once
	// (microseconds later: most of them still unread, in the renamed
	// file), then more lines in the new file: the old file is read to its
	// end, the new one from its start.
	write(first[1:half]...)
	write(longLine(1))
	rotateNow()
	write(first[half:]...)
	write(longLine(2))
	arrived("the lines written around the first rotation")

	// 3. The forwarder stops (its state file keeps its place), lines are
	// appended while it is down, it starts again: they arrive, and what it
	// had sent is not sent again.
	fwd.stop()
	second := sample(2)
	write(second[:half]...)
	write(longLine(3))
	fwd.start()
	arrived("the lines written while the forwarder was stopped")

	// 4. A second rotation (events.jsonl.1 -> .2, events.jsonl -> .1),
	// again with lines unread.
	write(second[half:]...)
	rotateNow()
	write(longLine(4))
	write(sample(3)[:10]...)
	arrived("the lines written around the second rotation")

	// Both daemons stop cleanly: everything is flushed, and a duplicate
	// sent late would be in the file now.
	fwd.stop()
	siem.stop()
	unique := map[string]bool{}
	for _, l := range sent {
		if unique[l] {
			t.Fatalf("the test wrote a line twice: %.200s", l)
		}
		unique[l] = true
	}
	got := readLines(t, received)
	if len(got) != len(sent) {
		t.Errorf("the SIEM received %d lines, %d were written", len(got), len(sent))
	}
	for i := 0; i < len(got) && i < len(sent); i++ {
		if got[i] != sent[i] {
			t.Fatalf("line %d differs (received %d bytes, written %d):\nreceived %.300s\nwritten  %.300s",
				i+1, len(got[i]), len(sent[i]), got[i], sent[i])
		}
	}
	for i, l := range got {
		if !json.Valid([]byte(l)) {
			t.Errorf("received line %d is not valid JSON: %.300s", i+1, l)
		}
	}
	if b, _ := os.ReadFile(other); len(b) > 0 {
		t.Errorf("messages not tagged lineaged/local0 reached the SIEM:\n%.2000s", b)
	}
	if rotated, _ := filepath.Glob(events + ".*"); len(rotated) != 2 {
		t.Errorf("rotated files: %v, want events.jsonl.1 and .2", rotated)
	}
	t.Logf("%d lines (%d bytes) forwarded across 2 rotations and a restart of the forwarder, byte for byte, once each, in order",
		len(sent), len(strings.Join(sent, "\n"))+1)
}

// documentedConf reads the documented configuration and replaces each key
// of repl, which must occur exactly once (a test that no longer finds what
// it replaces would test another text than the one documented). The
// result must load no module but imfile, so that the test's daemon stays
// off the host's logs.
func documentedConf(t *testing.T, repl map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(rsyslogConf)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	for from, to := range repl {
		if n := strings.Count(conf, from); n != 1 {
			t.Fatalf("%s: %q occurs %d times, want once: update the test with the file", rsyslogConf, from, n)
		}
		conf = strings.Replace(conf, from, to, 1)
	}
	for _, m := range regexp.MustCompile(`(?i)(module\(\s*load\s*=\s*"([^"]*)"|\$ModLoad\s+(\S+))`).FindAllStringSubmatch(conf, -1) {
		if mod := m[2] + m[3]; mod != "imfile" {
			t.Fatalf("%s loads %s: the test runs only imfile beside the host's rsyslog", rsyslogConf, mod)
		}
	}
	return conf
}

// sampleECSLines is the sample log's golden output, lineaged's own lines,
// with the event ids of a run of its own: golden-N becomes passP-N.
func sampleECSLines(t *testing.T, pass int) []string {
	t.Helper()
	b, err := os.ReadFile(sampleLines)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) < 100 {
		t.Fatalf("%s: %d lines, expected the sample's 200 or so", sampleLines, len(lines))
	}
	const id = `"event":{"id":"golden-`
	for i, l := range lines {
		if strings.Count(l, id) != 1 {
			t.Fatalf("%s:%d: no event id %s...", sampleLines, i+1, id)
		}
		lines[i] = strings.Replace(l, id, fmt.Sprintf(`"event":{"id":"pass%d-`, pass), 1)
	}
	return lines
}

// longLine is an alert of about 20 KB, as lineaged writes one for a long
// command line: escapes, raw UTF-8 (lineaged copies valid UTF-8 as it
// is) and a unique number.
func longLine(n int) string {
	var title strings.Builder
	for title.Len() < 20000 {
		fmt.Fprintf(&title, `--opt=\"zoë naïve 文件\"\t\\x%02d `, title.Len()%97)
	}
	return fmt.Sprintf(`{"@timestamp":"2026-11-27T03:36:%02d.361Z","event":{"id":"long-%d","kind":"alert","category":["process"],"type":["start"],"action":"executed","module":"lineaged"},"host":{"name":"sample"},"process":{"pid":%d,"executable":"/usr/bin/python3","title":"%s"}}`,
		n, n, 4000+n, title.String())
}

// readLines returns the complete lines of path (a line still being
// written, without its LF, is left out).
func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		t.Fatal(err)
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		return nil
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func findRsyslogd(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (rsyslogd)")
	}
	for _, p := range []string{"rsyslogd", "/usr/sbin/rsyslogd"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Skip("rsyslogd not installed (apt-get install rsyslog)")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// daemon is a private rsyslogd in the foreground: its configuration, pid
// file and log (its standard output and error) under dir.
type daemon struct {
	t              *testing.T
	bin, conf, dir string
	cmd            *exec.Cmd
	exited         chan struct{}
}

// newDaemon checks conf with rsyslogd -N1 and stops the daemon, if it
// runs, when the test ends.
func newDaemon(t *testing.T, bin, conf, dir string) *daemon {
	t.Helper()
	if out, err := exec.Command(bin, "-N1", "-f", conf).CombinedOutput(); err != nil {
		b, _ := os.ReadFile(conf)
		t.Fatalf("rsyslogd -N1 -f %s: %v\n%s\n%s", conf, err, out, b)
	}
	d := &daemon{t: t, bin: bin, conf: conf, dir: dir}
	t.Cleanup(d.stop)
	return d
}

func (d *daemon) start() {
	d.t.Helper()
	logf, err := os.OpenFile(filepath.Join(d.dir, "rsyslogd.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		d.t.Fatal(err)
	}
	defer logf.Close()
	d.cmd = exec.Command(d.bin, "-n", "-f", d.conf, "-i", filepath.Join(d.dir, "rsyslogd.pid"))
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(d.cmd, d.exited)
}

// running reports whether the daemon started last is still running.
func (d *daemon) running() bool {
	if d.cmd == nil {
		return false
	}
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// stop ends the daemon with SIGTERM (SIGKILL after 10 s, an error) and
// waits for it to exit.
func (d *daemon) stop() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		d.t.Errorf("rsyslogd (%s) ignored SIGTERM for 10 s", d.conf)
		d.cmd.Process.Kill()
		<-d.exited
	}
	d.cmd = nil
}

func (d *daemon) log() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "rsyslogd.log"))
	return string(b)
}

// waitFor polls cond until it holds, failing after deadline or as soon as
// one of the daemons has exited.
func waitFor(t *testing.T, what string, cond func() bool, daemons ...*daemon) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		for _, d := range daemons {
			if !d.running() {
				t.Fatalf("waiting for %s: rsyslogd (%s) is not running:\n%s", what, d.conf, d.log())
			}
		}
		if time.Now().After(end) {
			var logs strings.Builder
			for _, d := range daemons {
				fmt.Fprintf(&logs, "rsyslogd (%s):\n%s\n", d.conf, d.log())
			}
			t.Fatalf("waiting for %s: not after %v\n%s", what, deadline, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
