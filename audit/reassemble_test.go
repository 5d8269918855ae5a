package audit

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/elastic/go-libaudit/v2/auparse"
)

type oracleStream struct {
	groups  []string
	dropped int
}

func (s *oracleStream) ReassemblyComplete(msgs []*auparse.AuditMessage) {
	var b strings.Builder
	fmt.Fprintf(&b, "%d:", msgs[0].Sequence)
	for _, m := range msgs {
		fmt.Fprintf(&b, " %d", m.RecordType)
	}
	s.groups = append(s.groups, b.String())
}

func (s *oracleStream) EventsLost(n int) { s.dropped += n }

// TestReassemblerMatchesGoLibaudit replays go-libaudit's recorded kernel
// streams (normal, out-of-order, lost messages, serial rollover) through
// both reassemblers with the same window and compares the events, their
// record types and the dropped totals.
func TestReassemblerMatchesGoLibaudit(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "testdata/public/go-libaudit/testdata")
	for _, name := range []string{"normal.log", "out_of_order.log", "lost_messages.log", "rollover.log"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			oracle := &oracleStream{}
			ra, err := libaudit.NewReassembler(5, 2*time.Second, oracle)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			ours := NewReassembler(5, 2000, func(g *Group) {
				var b strings.Builder
				fmt.Fprintf(&b, "%d:", g.Serial)
				for _, r := range g.Records {
					fmt.Fprintf(&b, " %d", r.Type)
				}
				got = append(got, b.String())
			})
			s := bufio.NewScanner(strings.NewReader(string(data)))
			for s.Scan() {
				if m, err := auparse.ParseLogLine(s.Text()); err == nil {
					ra.PushMessage(m)
				}
				r := ours.Record()
				if err := r.Parse(s.Bytes()); err != nil {
					ours.Release(r)
					continue
				}
				ours.Push(r, 0)
			}
			_ = ra.Close()
			ours.Flush()
			if strings.Join(got, "\n") != strings.Join(oracle.groups, "\n") {
				t.Errorf("events differ:\nours:\n%s\ngo-libaudit:\n%s", strings.Join(got, "\n"), strings.Join(oracle.groups, "\n"))
			}
			if int(ours.Stats().Lost) != oracle.dropped {
				t.Errorf("lost %d, go-libaudit %d", ours.Stats().Lost, oracle.dropped)
			}
			t.Logf("%d events, %d lost", len(got), ours.Stats().Lost)
		})
	}
}

func rec(t *testing.T, line string) *Record {
	t.Helper()
	r := &Record{}
	if err := r.Parse([]byte(line)); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReassemblerTimeoutAndLate(t *testing.T) {
	var got []string
	a := NewReassembler(100, 2000, func(g *Group) {
		got = append(got, fmt.Sprintf("%d/%d/%v", g.Serial, len(g.Records), g.Late))
	})
	a.Push(rec(t, "type=SYSCALL msg=audit(10.000:7): arch=c000003e syscall=42 pid=1"), 10000)
	a.Push(rec(t, "type=SOCKADDR msg=audit(10.000:7): saddr=0100"), 10000)
	a.Maintain(11999)
	if len(got) != 0 {
		t.Fatalf("emitted before the timeout: %v", got)
	}
	a.Maintain(12000)
	if len(got) != 1 || got[0] != "7/2/false" {
		t.Fatalf("after timeout: %v", got)
	}
	// A record for serial 7 now is late: delivered alone, no gap counted.
	a.Push(rec(t, "type=CWD msg=audit(10.000:7): cwd=\"/\""), 12001)
	a.Push(rec(t, "type=USER_LOGIN msg=audit(10.000:8): pid=1 res=success"), 12001)
	if strings.Join(got, ",") != "7/2/false,7/1/true,8/1/false" {
		t.Errorf("got %v", got)
	}
	if st := a.Stats(); st.Late != 1 || st.Lost != 0 || st.Expired != 1 {
		t.Errorf("stats %+v", st)
	}
	// The EOE after an event its PROCTITLE completed is its normal end,
	// not a late record.
	a.Push(rec(t, "type=SYSCALL msg=audit(10.000:9): arch=c000003e syscall=59 pid=1"), 12001)
	a.Push(rec(t, "type=PROCTITLE msg=audit(10.000:9): proctitle=6C73"), 12001)
	a.Push(rec(t, "type=EOE msg=audit(10.000:9): "), 12001)
	if st := a.Stats(); st.Late != 1 {
		t.Errorf("late = %d after an EOE that ended a complete event, want 1", st.Late)
	}
	// A gap of 3 serials is counted as lost.
	a.Push(rec(t, "type=USER_LOGIN msg=audit(10.000:13): pid=1 res=success"), 12002)
	if st := a.Stats(); st.Lost != 3 {
		t.Errorf("lost = %d, want 3", st.Lost)
	}
}

// TestReassemblerSteadyStateNoAlloc: once warmed up, parsing into pooled
// records and reassembling allocates nothing per record.
func TestReassemblerSteadyStateNoAlloc(t *testing.T) {
	events := 0
	a := NewReassembler(4, 2000, func(g *Group) { events++ })
	lines := make([][]byte, 4000)
	for i := range lines {
		lines[i] = []byte(fmt.Sprintf("type=SYSCALL msg=audit(10.000:%d): arch=c000003e syscall=42 pid=1 comm=\"x\"", i/2))
	}
	n := 0
	push := func() {
		r := a.Record()
		if err := r.Parse(lines[n%len(lines)]); err != nil {
			t.Fatal(err)
		}
		n++
		a.Push(r, 0)
	}
	for i := 0; i < 100; i++ {
		push()
	}
	if allocs := testing.AllocsPerRun(1000, push); allocs != 0 {
		t.Errorf("%.2f allocations per record in steady state", allocs)
	}
	if events < 500 {
		t.Errorf("only %d events", events)
	}
}

// TestReassemblerLoginWithItsSyscall: LOGIN is written inside the syscall
// that set the login uid; the three records are one event.
func TestReassemblerLoginWithItsSyscall(t *testing.T) {
	var got []string
	a := NewReassembler(64, 2000, func(g *Group) {
		got = append(got, fmt.Sprintf("%d/%d/%v", g.Serial, len(g.Records), g.Late))
	})
	for _, l := range []string{
		`type=LOGIN msg=audit(1795750542.418:1065): pid=19872 uid=0 old-auid=4294967295 auid=4242 tty=(none) old-ses=4294967295 ses=1 res=1`,
		`type=SYSCALL msg=audit(1795750542.418:1065): arch=c000003e syscall=1 success=yes exit=5 a0=1 items=0 ppid=19813 pid=19872 auid=4242 uid=0`,
		`type=PROCTITLE msg=audit(1795750542.418:1065): proctitle=626173680`,
	} {
		a.Push(rec(t, l), 0)
	}
	a.Flush()
	if strings.Join(got, ",") != "1065/3/false" {
		t.Errorf("got %v, want one event of 3 records", got)
	}
}

// TestReassemblerResetOnBackwardsJump: log files given newest first, or a
// reboot, restart the serials; events stay whole and no gap is invented.
func TestReassemblerResetOnBackwardsJump(t *testing.T) {
	var got []string
	a := NewReassembler(64, 2000, func(g *Group) {
		got = append(got, fmt.Sprintf("%d/%d/%v", g.Serial, len(g.Records), g.Late))
	})
	for _, l := range []string{
		`type=SYSCALL msg=audit(20.000:90000): arch=c000003e syscall=42 pid=1`,
		`type=PROCTITLE msg=audit(20.000:90000): proctitle="x"`,
		`type=SYSCALL msg=audit(10.000:100): arch=c000003e syscall=42 pid=1`,
		`type=SOCKADDR msg=audit(10.000:100): saddr=0100`,
		`type=PROCTITLE msg=audit(10.000:100): proctitle="x"`,
		`type=SYSCALL msg=audit(10.000:101): arch=c000003e syscall=42 pid=1`,
		`type=PROCTITLE msg=audit(10.000:101): proctitle="x"`,
	} {
		a.Push(rec(t, l), 0)
	}
	a.Flush()
	if strings.Join(got, ",") != "90000/2/false,100/3/false,101/2/false" {
		t.Errorf("got %v", got)
	}
	if st := a.Stats(); st.Resets != 1 || st.Lost != 0 || st.Late != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestReassemblerReorder: an exit numbered after an exec reaches the
// socket first; with a reorder wait the exec is still emitted whole, and
// before the exit.
func TestReassemblerReorder(t *testing.T) {
	rec := func(serial uint32, typ uint16) *Record { return &Record{Serial: serial, Type: typ} }
	for _, wait := range []int64{0, 100} {
		var got []string
		a := NewReassembler(64, 2000, func(g *Group) {
			got = append(got, fmt.Sprintf("%d:%d:%v", g.Serial, len(g.Records), g.Late))
		})
		a.SetReorder(wait)
		a.Push(rec(10, 1300), 0) // SYSCALL of serial 10, whole
		a.Push(rec(10, TypeProctitle), 0)
		a.Push(rec(12, 1300), 1) // the exit (12) arrives before the exec (11)
		a.Push(rec(12, TypeProctitle), 1)
		a.Push(rec(11, 1300), 5)
		a.Push(rec(11, 1309), 5) // EXECVE
		a.Push(rec(11, TypeProctitle), 5)
		a.Maintain(500)
		var want string
		if wait == 0 {
			want = "10:2:false 12:2:false 11:1:true 11:1:true 11:1:true"
		} else {
			want = "10:2:false 11:3:false 12:2:false"
		}
		if g := strings.Join(got, " "); g != want {
			t.Errorf("reorder %d: got %s, want %s", wait, g, want)
		}
	}
}
