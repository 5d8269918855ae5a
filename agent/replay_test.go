package agent

import (
	"bytes"
	"compress/gzip"
	"context"
	"strings"
	"testing"

	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/event"
)

type collect struct{ evs []*event.Event }

func (c *collect) Write(e *event.Event) error {
	c.evs = append(c.evs, e.Clone())
	return nil
}

func execLines(serial int, args ...string) string {
	var b strings.Builder
	s := strings.Repeat("0", 0)
	_ = s
	b.WriteString("type=SYSCALL msg=audit(100.000:" + itoa(serial) + "): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=" + itoa(1000+serial) + " uid=0 comm=\"x\" exe=\"/bin/x\"\n")
	b.WriteString("type=EXECVE msg=audit(100.000:" + itoa(serial) + "): argc=" + itoa(len(args)))
	for i, a := range args {
		b.WriteString(" a" + itoa(i) + "=\"" + a + "\"")
	}
	b.WriteString("\ntype=PROCTITLE msg=audit(100.000:" + itoa(serial) + "): proctitle=\"x\"\n")
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestReplayLongLines: a line longer than the read buffer (256 KiB) is
// assembled whole; a line longer than MaxLine is reported, not cut, and
// the lines around both are processed.
func TestReplayLongLines(t *testing.T) {
	big := strings.Repeat("A", 300<<10) // > bufio buffer, < MaxLine (1 MiB)
	huge := strings.Repeat("B", 2<<20)  // > MaxLine
	in := execLines(1, "one") + execLines(2, "x", big) +
		"type=EXECVE msg=audit(100.000:3): " + huge + "\n" + execLines(4, "four")
	c := &collect{}
	sum, err := Replay(context.Background(), ReplayConfig{IDPrefix: "t"}, []audit.Input{{Name: "mem", R: strings.NewReader(in)}}, c)
	if err != nil {
		t.Fatal(err)
	}
	if sum.MalformedCount != 1 || len(sum.Malformed) != 1 || sum.Malformed[0].Line != 7 || !strings.Contains(sum.Malformed[0].Reason, "longer than") {
		t.Fatalf("malformed: %d %+v", sum.MalformedCount, sum.Malformed)
	}
	var got []string
	for _, e := range c.evs {
		if e.Action == "executed" {
			got = append(got, itoa(len(e.Process.Args))+":"+itoa(len(e.Process.Args[len(e.Process.Args)-1])))
		}
	}
	want := []string{"1:3", "2:" + itoa(len(big)), "1:4"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("exec events %v, want %v", got, want)
	}
	if sum.Lines != 10 || sum.Records != 9 {
		t.Errorf("lines %d records %d", sum.Lines, sum.Records)
	}
}

// TestReplayGzipAndIDs: gzip input is detected, event ids are unique and
// carry the prefix, and the summary closes the stream.
func TestReplayGzipAndIDs(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for i := 1; i <= 50; i++ {
		zw.Write([]byte(execLines(i, "a", "b")))
	}
	zw.Close()
	c := &collect{}
	sum, err := Replay(context.Background(), ReplayConfig{IDPrefix: "run"}, []audit.Input{{Name: "x.gz", R: &gz}}, c)
	if err != nil {
		t.Fatal(err)
	}
	if sum.EventsBuilt != 50 || len(c.evs) != 51 {
		t.Fatalf("built %d, written %d", sum.EventsBuilt, len(c.evs))
	}
	seen := map[string]bool{}
	for _, e := range c.evs {
		if !strings.HasPrefix(e.ID, "run-") || seen[e.ID] {
			t.Fatalf("bad or duplicate id %q", e.ID)
		}
		seen[e.ID] = true
	}
	if last := c.evs[len(c.evs)-1]; last.Action != "replay-summary" || last.Outcome != "success" {
		t.Errorf("last event %+v", last)
	}
}

// TestReplayAlertsOnly: with no alerts, nothing is written, not even the
// summary (it goes to the caller through Summary).
func TestReplayAlertsOnly(t *testing.T) {
	c := &collect{}
	sum, err := Replay(context.Background(), ReplayConfig{AlertsOnly: true}, []audit.Input{{Name: "m", R: strings.NewReader(execLines(1, "a"))}}, c)
	if err != nil || len(c.evs) != 0 || sum.EventsBuilt != 1 {
		t.Errorf("err %v, wrote %d, built %d", err, len(c.evs), sum.EventsBuilt)
	}
}

type failSink struct{ n int }

func (f *failSink) Write(*event.Event) error {
	f.n++
	return errFull
}

var errFull = &sinkErr{"no space left on device"}

type sinkErr struct{ s string }

func (e *sinkErr) Error() string { return e.s }

// TestReplaySinkErrorReported: an output that fails is an error of the
// replay, never silent.
func TestReplaySinkErrorReported(t *testing.T) {
	_, err := Replay(context.Background(), ReplayConfig{}, []audit.Input{{Name: "m", R: strings.NewReader(execLines(1, "a"))}}, &failSink{})
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Errorf("err = %v", err)
	}
}

// FuzzReplay: any input bytes (plain or gzip-looking) replay without a
// panic, and every non-blank line is either a record or a reported
// malformed line: nothing is lost silently.
func FuzzReplay(f *testing.F) {
	f.Add([]byte(execLines(1, "a", "b c")))
	f.Add([]byte("\x1f\x8b garbage"))
	f.Add([]byte("type=SYSCALL msg=audit(1.0:1): x\r\n\n  \ntype=X"))
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &collect{}
		sum, _ := Replay(context.Background(), ReplayConfig{MaxLine: 4096}, []audit.Input{{Name: "f", R: bytes.NewReader(in)}}, c)
		if len(in) > 1 && in[0] == 0x1f && in[1] == 0x8b {
			return // gzip: the line count of the decompressed stream is unknown here
		}
		nonblank := 0
		for _, l := range bytes.Split(in, []byte("\n")) {
			if len(bytes.TrimSpace(bytes.TrimRight(l, "\r\n"))) > 0 {
				nonblank++
			}
		}
		if int(sum.Records+sum.MalformedCount) != nonblank {
			t.Fatalf("%d records + %d malformed != %d non-blank lines", sum.Records, sum.MalformedCount, nonblank)
		}
		if len(c.evs) == 0 || c.evs[len(c.evs)-1].Action != "replay-summary" {
			t.Fatal("no summary event")
		}
	})
}

func TestOrderByTime(t *testing.T) {
	newer := "type=SYSCALL msg=audit(200.000:9): arch=c000003e syscall=1\n"
	older := "type=SYSCALL msg=audit(100.500:3): arch=c000003e syscall=1\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(older))
	zw.Close()
	ins := []audit.Input{{Name: "audit.log", R: strings.NewReader(newer)}, {Name: "audit.log.1.gz", R: &gz}}
	out, changed := audit.OrderByTime(ins)
	if !changed || out[0].Name != "audit.log.1.gz" || out[1].Name != "audit.log" {
		t.Fatalf("order %v %v", out[0].Name, changed)
	}
	// Nothing peeked is lost: the whole content replays.
	c := &collect{}
	sum, err := Replay(context.Background(), ReplayConfig{}, out, c)
	if err != nil || sum.Records != 2 || sum.MalformedCount != 0 {
		t.Errorf("after ordering: %+v %v", sum, err)
	}
	// Standard input among them: left as given, and the returned readers
	// (not the originals, whose heads were read) hold everything.
	ins = []audit.Input{{Name: "a", R: strings.NewReader(newer)}, {Name: "-", R: strings.NewReader(older)}}
	out, changed = audit.OrderByTime(ins)
	if changed || out[0].Name != "a" {
		t.Errorf("reordered with stdin: %v", changed)
	}
	sum, err = Replay(context.Background(), ReplayConfig{}, out, &collect{})
	if err != nil || sum.Records != 2 || sum.MalformedCount != 0 {
		t.Errorf("unordered inputs lost their heads: %+v %v", sum, err)
	}
}

// TestReplayNodesKeptApart: two hosts' records interleaved, with the same
// serials, make two whole events, not one mixed one.
func TestReplayNodesKeptApart(t *testing.T) {
	a := strings.Split(strings.TrimSpace(execLines(5, "a")), "\n")
	b := strings.Split(strings.TrimSpace(execLines(5, "b")), "\n")
	var in strings.Builder
	for i := range a {
		in.WriteString("node=web1 " + a[i] + "\n")
		in.WriteString("node=db1 " + b[i] + "\n")
	}
	c := &collect{}
	sum, err := Replay(context.Background(), ReplayConfig{}, []audit.Input{{Name: "m", R: strings.NewReader(in.String())}}, c)
	if err != nil {
		t.Fatal(err)
	}
	if sum.EventsBuilt != 2 || sum.Nodes != 2 || sum.Reassembly.Late != 0 {
		t.Fatalf("summary %+v", sum)
	}
	for _, e := range c.evs[:2] {
		if len(e.Audit.RecordTypes) != 3 || len(e.Process.Args) != 1 {
			t.Errorf("%s: record types %v args %v", e.Host, e.Audit.RecordTypes, e.Process.Args)
		}
		if want := map[string]string{"web1": "a", "db1": "b"}[e.Host]; e.Process.Args[0] != want {
			t.Errorf("%s got args %v", e.Host, e.Process.Args)
		}
	}
}
