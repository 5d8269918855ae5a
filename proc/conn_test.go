package proc

import (
	"errors"
	"reflect"
	"syscall"
	"testing"

	"github.com/lineaged/lineaged/feature"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
)

// fakeKernel plays the proc connector at the netlink message level
// (nltest): it records requests, answers a LISTEN with an ack, and hands
// out scripted batches to Receive.
type fakeKernel struct {
	sent    [][]byte // request payloads (struct cn_msg + op)
	ackErr  uint32   // errno the LISTEN is acknowledged with
	batches []batch
}

type batch struct {
	msgs [][]byte
	err  error
}

var errScriptDone = errors.New("fake kernel: script exhausted")

func nlMsgs(bs ...[]byte) []netlink.Message {
	out := make([]netlink.Message, len(bs))
	for i, b := range bs {
		out[i] = netlink.Message{Header: netlink.Header{Type: netlink.Done}, Data: b}
	}
	return out
}

func (k *fakeKernel) fn(req []netlink.Message) ([]netlink.Message, error) {
	if req != nil {
		for _, m := range req {
			k.sent = append(k.sent, m.Data)
		}
		var cn cnMsg
		if err := cn.UnmarshalBinary(req[0].Data); err != nil || len(cn.Data) != 4 {
			return nil, errors.New("fake kernel: bad request")
		}
		if ne.Uint32(cn.Data) != mcastListen {
			return nil, nil
		}
		// cn_proc_ack(): seq echoed, ack + 1, sent to the group.
		return nlMsgs(cnBytes(1, 1, cn.Seq, cn.Ack+1, evBytes(whatNone, 0, 0, u32s(int64(k.ackErr)), true))), nil
	}
	if len(k.batches) == 0 {
		return nil, errScriptDone
	}
	b := k.batches[0]
	k.batches = k.batches[1:]
	return nlMsgs(b.msgs...), b.err
}

func dialFake(t *testing.T, k *fakeKernel) *Conn {
	t.Helper()
	c := newConn(nltest.Dial(k.fn))
	if err := c.listen(); err != nil {
		t.Fatalf("listen: %v", err)
	}
	return c
}

func TestConnReceive(t *testing.T) {
	t.Setenv(feature.ProfileEnv, "") // the exit's parent is asserted: no legacy profile
	k := &fakeKernel{batches: []batch{
		{msgs: [][]byte{
			procMsg(whatFork, u32s(1, 1, 200, 200)),
			procMsg(whatExec, u32s(200, 200)),
			cnBytes(4, 1, 0, 0, evBytes(whatExec, 0, 0, u32s(1, 1), true)), // another callback
			cnBytes(1, 1, 0, 0, evBytes(whatExit, 0, 0, u32s(1), false)),   // cut short
			procMsg(0x800, u32s(1, 2)),                                     // a newer kernel's event
			cnBytes(1, 1, 99, 1, evBytes(whatNone, 0, 0, u32s(1), true)),   // another listener's refused LISTEN
		}},
		{msgs: [][]byte{procMsg(whatExit, u32s(200, 200, 3<<8, 17, 1, 1))}},
	}}
	c := dialFake(t, k)

	if want := [][]byte{mcastOp(mcastListen, nltest.PID)}; !reflect.DeepEqual(k.sent, want) {
		t.Fatalf("requests % x, want % x", k.sent, want)
	}
	if c.Seen(feature.ProcConnector) {
		t.Fatal("connector seen before anything was received")
	}

	evs, err := c.Receive()
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	var kinds []Kind
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if want := []Kind{KindFork, KindExec, KindUnknown}; !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	if !c.Seen(feature.ProcConnector) || c.Seen(feature.ProcEventComm) || c.Seen(feature.ProcEventCoredump) {
		t.Fatal("Seen: want connector only")
	}

	evs, err = c.Receive()
	if err != nil || len(evs) != 1 || evs[0].Kind != KindExit || evs[0].ExitCode() != 3 || evs[0].ParentTGID != 1 {
		t.Fatalf("Receive = %+v, %v; want the exit of 200 with code 3", evs, err)
	}

	want := Stats{Messages: 8, Events: 4, Unknown: 1, Malformed: 1, Foreign: 1, Acks: 2}
	if got := c.Stats(); got != want {
		t.Fatalf("stats\n got %+v\nwant %+v", got, want)
	}

	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	wantSent := [][]byte{mcastOp(mcastListen, nltest.PID), mcastOp(mcastIgnore, nltest.PID)}
	if !reflect.DeepEqual(k.sent, wantSent) {
		t.Fatalf("requests % x, want LISTEN then one IGNORE", k.sent)
	}
}

func TestConnListenRefused(t *testing.T) {
	k := &fakeKernel{ackErr: uint32(syscall.EPERM)}
	c := dialFake(t, k)
	defer c.Close()
	_, err := c.Receive()
	var oe *OpError
	if !errors.Is(err, syscall.EPERM) || !errors.As(err, &oe) || oe.Op != "listen" {
		t.Fatalf("Receive: %v, want listen: EPERM", err)
	}
	if c.Seen(feature.ProcConnector) {
		t.Fatal("a refused LISTEN counts as seen")
	}
}

func TestConnOverrun(t *testing.T) {
	k := &fakeKernel{batches: []batch{
		{err: syscall.ENOBUFS},
		{msgs: [][]byte{procMsg(whatExec, u32s(5, 5))}},
	}}
	c := dialFake(t, k)
	defer c.Close()

	_, err := c.Receive()
	if !errors.Is(err, ErrOverrun) || !errors.Is(err, syscall.ENOBUFS) {
		t.Fatalf("Receive: %v, want ErrOverrun wrapping ENOBUFS", err)
	}
	if got := c.Stats().Overruns; got != 1 {
		t.Fatalf("Overruns = %d, want 1", got)
	}
	// The connection reads on after an overrun.
	evs, err := c.Receive()
	if err != nil || len(evs) != 1 || evs[0].TGID != 5 {
		t.Fatalf("Receive after overrun = %+v, %v", evs, err)
	}
	if _, err := c.Receive(); !errors.Is(err, errScriptDone) {
		t.Fatalf("Receive past the script: %v", err)
	}
}

// Under a legacy profile the 4.18 parent fields read 0, as they would on
// that kernel, and kinds the profile switches off are dropped and counted.
func TestConnProfile(t *testing.T) {
	script := func() *fakeKernel {
		return &fakeKernel{batches: []batch{{msgs: [][]byte{
			procMsg(whatExit, u32s(9, 9, 0, 17, 1, 1)),
			procMsg(whatCoredump, u32s(9, 9, 1, 1)),
			procMsg(whatComm, append(u32s(9, 9), "x\x00"...)),
			procMsg(whatFork, u32s(1, 1, 9, 9)),
		}}}}
	}

	t.Setenv(feature.ProfileEnv, "")
	c := dialFake(t, script())
	evs, err := c.Receive()
	if err != nil || len(evs) != 4 || evs[0].ParentTGID != 1 || evs[1].ParentTGID != 1 {
		t.Fatalf("no profile: %+v, %v", evs, err)
	}

	t.Setenv(feature.ProfileEnv, "3.10")
	c = dialFake(t, script())
	c.drop |= 1 << KindComm // no profile predates comm (2.6.36): exercise the path by hand
	evs, err = c.Receive()
	if err != nil || len(evs) != 3 {
		t.Fatalf("profile 3.10: %+v, %v", evs, err)
	}
	if evs[0].ParentTGID != 0 || evs[1].ParentTGID != 0 || evs[2].ParentTGID != 1 {
		t.Fatalf("profile 3.10: exit/coredump parents not cleared or fork's cleared: %+v", evs)
	}
	if got := c.Stats().Filtered; got != 1 {
		t.Fatalf("Filtered = %d, want 1", got)
	}
	if c.Seen(feature.ProcEventComm) || !c.Seen(feature.ProcEventCoredump) {
		t.Fatal("Seen: a filtered kind counts, or coredump does not")
	}
}

func TestProfileBefore(t *testing.T) {
	for _, tt := range []struct {
		profile, release string
		want             bool
	}{
		{"", "4.18", false},
		{"3.10", "4.18", true},
		{"4.15", "4.18", true},
		{"4.4", "4.18", true},
		{"4.15", "3.10", false},
		{"3.10", "3.10", false},
		{"3.10", "2.6.36", false},
	} {
		t.Setenv(feature.ProfileEnv, tt.profile)
		if got := profileBefore(tt.release); got != tt.want {
			t.Errorf("profile %q before %s = %v, want %v", tt.profile, tt.release, got, tt.want)
		}
	}
}

func TestEventCapability(t *testing.T) {
	t.Setenv(feature.ProfileEnv, "3.10")
	for _, f := range []feature.Feature{feature.ProcEventComm, feature.ProcEventCoredump} {
		c := eventCapability(f)
		want := feature.Disabled(f) == nil
		if c.Feature != f || c.Available != want || (c.Reason == "") != want {
			t.Errorf("%s: %+v, want available=%v", f, c, want)
		}
	}
}
