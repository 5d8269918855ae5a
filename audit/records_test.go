package audit

import (
	"strings"
	"testing"

	"github.com/lineaged/lineaged/event"
)

func TestKernelRecord(t *testing.T) {
	for _, c := range []struct {
		line    string
		typ     uint16
		payload string
		bad     bool
	}{
		{line: `type=SYSCALL msg=audit(1.002:3): arch=c000003e syscall=59`, typ: 1300, payload: `audit(1.002:3): arch=c000003e syscall=59`},
		{line: `type=UNKNOWN[1334] msg=audit(1.0:4): x=1`, typ: 1334, payload: `audit(1.0:4): x=1`},
		{line: `node=a type=SYSCALL msg=audit(1.0:4): x=1`, bad: true}, // not what the kernel sends
		{line: `type=NOSUCH msg=audit(1.0:4): x=1`, bad: true},
		{line: `type=SYSCALL audit(1.0:4): x=1`, bad: true},
		{line: ``, bad: true},
	} {
		typ, payload, err := KernelRecord([]byte(c.line))
		if c.bad != (err != nil) || typ != c.typ || string(payload) != c.payload {
			t.Errorf("%q: %d %q %v", c.line, typ, payload, err)
		}
	}
}

// TestRecordsFeed: records fed as the kernel sends them make the event;
// one that does not parse is counted and reported, not silent.
func TestRecordsFeed(t *testing.T) {
	r := NewRecords("h", nil)
	var got []string
	emit := func(e *event.Event) { got = append(got, string(e.Action)+" "+strings.Join(e.Process.Args, " ")) }
	for _, l := range []string{
		`type=SYSCALL msg=audit(100.000:7): arch=c000003e syscall=59 success=yes exit=0 items=0 ppid=1 pid=42 uid=0 comm="ls" exe="/bin/ls"`,
		`type=EXECVE msg=audit(100.000:7): argc=2 a0="ls" a1="-l"`,
		`type=PROCTITLE msg=audit(100.000:7): proctitle="ls"`,
		`type=EOE msg=audit(100.000:7): `,
	} {
		if err := r.FeedLine([]byte(l), 100_000, emit); err != nil {
			t.Fatal(err)
		}
	}
	r.Feed(1300, []byte("garbage"), 100_000, emit)
	r.Flush(emit)
	if len(got) != 1 || got[0] != "executed ls -l" {
		t.Errorf("events %q", got)
	}
	if r.parseErrs != 1 || r.TakeError() == nil || r.TakeError() != nil {
		t.Errorf("parse errors %d: the bad record must be counted and reported once", r.parseErrs)
	}
}

// FuzzKernelRecord: any line fed as a kernel record through the live
// path's record stage never panics, and everything fed either parses or
// is counted.
func FuzzKernelRecord(f *testing.F) {
	f.Add([]byte(`type=SYSCALL msg=audit(100.000:7): arch=c000003e syscall=59 success=yes pid=42 exe="/bin/ls"`))
	f.Add([]byte("type=EXECVE msg=audit(1.0:1): argc=1 a0=\"x\"\x1dAUID=\"root\""))
	f.Add([]byte(`type=UNKNOWN[9999] msg=audit(1.0:1): x`))
	f.Fuzz(func(t *testing.T, line []byte) {
		r := NewRecords("h", nil)
		emit := func(*event.Event) {}
		if err := r.FeedLine(line, 0, emit); err != nil {
			return
		}
		r.Flush(emit)
		st := r.ra.Stats()
		if st.Records+r.parseErrs != 1 {
			t.Fatalf("%d records reassembled + %d parse errors for one fed line", st.Records, r.parseErrs)
		}
	})
}
