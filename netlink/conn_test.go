package netlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mnl "github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"

	"github.com/lineaged/lineaged/feature"
)

// fakeKernel answers sock_diag requests at the message level, the way
// mdlayher/netlink's own tests fake the kernel (nltest.Func).
type fakeKernel struct {
	mu sync.Mutex
	// errno, by table name ("tcp4", "udp6", "unix", "compat"): the
	// kernel's error answer; 0 answers with the sockets below.
	errno map[string]syscall.Errno
	// inDone puts the errno in NLMSG_DONE, as a handler lookup failing
	// inside the dump callback does (udp_diag missing on 3.x).
	inDone bool
	inet   map[string][]InetDiagMsg // by table name, "compat" for TCPDIAG_GETSOCK
	unix   []UnixDiagMsg
	asked  []string            // table names asked for, in order
	raw    map[string][][]byte // replaces the payloads of a table
}

func (k *fakeKernel) conn() *Conn { return newConn(nltest.Dial(k.answer), false) }

func (k *fakeKernel) answer(reqs []mnl.Message) ([]mnl.Message, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	req := reqs[0]
	if req.Header.Flags != mnl.Request|mnl.Dump {
		return nil, fmt.Errorf("flags %v, want request|dump", req.Header.Flags)
	}
	var table string
	var payloads [][]byte
	switch req.Header.Type {
	case tcpdiagGetsock:
		var r InetDiagReq
		if err := r.UnmarshalBinary(req.Data); err != nil {
			return nil, err
		}
		table = "compat"
		for _, m := range k.inet["compat"] {
			if r.States&(1<<m.State) != 0 {
				b, _ := m.MarshalBinary()
				payloads = append(payloads, b)
			}
		}
	case sockDiagByFamily:
		if req.Data[0] == afUnix {
			var r UnixDiagReq
			if err := r.UnmarshalBinary(req.Data); err != nil {
				return nil, err
			}
			table = "unix"
			for _, m := range k.unix {
				if r.States&(1<<m.State) != 0 {
					b, _ := m.MarshalBinary()
					payloads = append(payloads, b)
				}
			}
			break
		}
		var r InetDiagReqV2
		if err := r.UnmarshalBinary(req.Data); err != nil {
			return nil, err
		}
		if r.ID.Cookie != anyCookie {
			return nil, errors.New("dump request without INET_DIAG_NOCOOKIE")
		}
		table = tableName(r.Family, r.Protocol)
		for _, m := range k.inet[table] {
			if r.States&(1<<m.State) != 0 {
				b, _ := m.MarshalBinary()
				payloads = append(payloads, b)
			}
		}
	default:
		return errorReply(req, syscall.EINVAL), nil
	}
	k.asked = append(k.asked, table)
	if raw, ok := k.raw[table]; ok {
		payloads = raw
	}
	if e := k.errno[table]; e != 0 {
		if !k.inDone {
			return errorReply(req, e), nil
		}
		done := make([]byte, 4)
		binary.NativeEndian.PutUint32(done, uint32(-int32(e)))
		return []mnl.Message{{Header: mnl.Header{Type: mnl.Done, Flags: mnl.Multi, Sequence: req.Header.Sequence}, Data: done}}, nil
	}
	var out []mnl.Message
	for _, p := range payloads {
		out = append(out, mnl.Message{Header: mnl.Header{Type: req.Header.Type, Flags: mnl.Multi, Sequence: req.Header.Sequence}, Data: p})
	}
	out = append(out, mnl.Message{Header: mnl.Header{Type: mnl.Done, Flags: mnl.Multi, Sequence: req.Header.Sequence}, Data: make([]byte, 4)})
	return out, nil
}

// errorReply is the kernel's NLMSG_ERROR: the negative errno, then the
// request's header and payload. Its flags are 0 (nltest.Error copies the
// request's, and NLM_F_DUMP's 0x200 bit reads as NLM_F_ACK_TLVS there).
func errorReply(req mnl.Message, e syscall.Errno) []mnl.Message {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, uint32(-int32(e)))
	hdr, _ := req.MarshalBinary()
	return []mnl.Message{{Header: mnl.Header{Type: mnl.Error, Sequence: req.Header.Sequence}, Data: append(b, hdr...)}}
}

func (k *fakeKernel) wasAsked(table string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, a := range k.asked {
		if a == table {
			return true
		}
	}
	return false
}

func inetMsg(family, state uint8, src string, sport uint16, dst string, dport uint16, inode uint32) InetDiagMsg {
	m := InetDiagMsg{Family: family, State: state, Inode: inode, UID: 1000}
	binary.BigEndian.PutUint16(m.ID.SPort[:], sport)
	binary.BigEndian.PutUint16(m.ID.DPort[:], dport)
	put := func(dst *[16]byte, s string) {
		if s == "" {
			return
		}
		a := mustAddr(s)
		if a.Is4() {
			b := a.As4()
			copy(dst[:], b[:])
		} else {
			*dst = a.As16()
		}
	}
	put(&m.ID.Src, src)
	put(&m.ID.Dst, dst)
	return m
}

func TestDumpInet(t *testing.T) {
	k := &fakeKernel{inet: map[string][]InetDiagMsg{
		"tcp6": {
			inetMsg(afInet6, StateListen, "::", 22, "", 0, 11),
			inetMsg(afInet6, StateEstablished, "::1", 22, "::1", 40000, 12),
			inetMsg(afInet6, StateTimeWait, "::1", 22, "::1", 40001, 0),
		},
	}}
	c := k.conn()
	defer c.Close()
	msgs, err := c.DumpInet(InetDiagReqV2{Family: afInet6, Protocol: ipprotoTCP, States: AllStates, ID: InetDiagSockID{Cookie: anyCookie}})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("got %d messages, want 3", len(msgs))
	}
	if got := msgs[1].Dest().String(); got != "[::1]:40000" || msgs[1].Inode != 12 {
		t.Errorf("second socket = %s inode %d", got, msgs[1].Inode)
	}
	// The states bitmap selects: LISTEN only.
	msgs, err = c.DumpInet(InetDiagReqV2{Family: afInet6, Protocol: ipprotoTCP, States: 1 << StateListen, ID: InetDiagSockID{Cookie: anyCookie}})
	if err != nil || len(msgs) != 1 || msgs[0].State != StateListen {
		t.Errorf("LISTEN dump = %+v, %v", msgs, err)
	}
}

func TestDumpMalformedReply(t *testing.T) {
	k := &fakeKernel{raw: map[string][][]byte{
		"tcp4": {make([]byte, 40)},                   // short inet_diag_msg
		"unix": {rawUnixDiagMsg(1, 1, 1, []byte{9})}, // cut attribute
	}}
	c := k.conn()
	_, err := c.DumpInet(InetDiagReqV2{Family: afInet, Protocol: ipprotoTCP, States: AllStates, ID: InetDiagSockID{Cookie: anyCookie}})
	var oe *OpError
	if !errors.Is(err, errShortInetDiagMsg) || !errors.As(err, &oe) || oe.Op != "dump tcp4" {
		t.Errorf("short inet reply: err = %v", err)
	}
	if _, err := c.DumpUnix(UnixDiagReq{Family: afUnix, States: AllStates}); err == nil || !strings.Contains(err.Error(), "dump unix") {
		t.Errorf("bad unix reply: err = %v", err)
	}
}

func TestConnCloseIdempotent(t *testing.T) {
	c := (&fakeKernel{}).conn()
	for i := range 3 {
		if err := c.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
}

func caps(t *testing.T, c *Collector) map[feature.Feature]feature.Capability {
	t.Helper()
	out := make(map[feature.Feature]feature.Capability)
	for _, cp := range capabilities(c.answers()) {
		out[cp.Feature] = cp
	}
	return out
}

// A kernel without udp_diag and unix_diag (answers ENOENT, in NLMSG_DONE
// as 3.x does from inside the dump) keeps TCP; each missing feature is
// reported with its errno and minimum kernel.
func TestProbeDegradesOneFeatureAtATime(t *testing.T) {
	for _, inDone := range []bool{false, true} {
		t.Run(fmt.Sprintf("inDone=%v", inDone), func(t *testing.T) {
			k := &fakeKernel{inDone: inDone, errno: map[string]syscall.Errno{"udp4": syscall.ENOENT, "udp6": syscall.ENOENT, "unix": syscall.ENOENT},
				inet: map[string][]InetDiagMsg{"tcp4": {inetMsg(afInet, StateListen, "0.0.0.0", 22, "", 0, 5)}}}
			c := &Collector{}
			conn := k.conn()
			snap, err := c.dumpAll(conn, Namespace{Inode: 42})
			if err != nil {
				t.Fatalf("dumpAll: %v", err)
			}
			got := caps(t, c)
			if !got[feature.SockDiagInet].Available {
				t.Errorf("inet: %+v", got[feature.SockDiagInet])
			}
			for _, f := range []feature.Feature{feature.SockDiagUDP, feature.SockDiagUnix} {
				cp := got[f]
				if cp.Available || !strings.Contains(cp.Reason, "requires >= 3.3") || !strings.Contains(cp.Reason, "no such file") {
					t.Errorf("%s: %+v", f, cp)
				}
				if err := c.unsupported(f); !errors.Is(err, feature.ErrNotSupported) || !errors.Is(err, syscall.ENOENT) {
					t.Errorf("%s: cached answer %v does not wrap ErrNotSupported and ENOENT", f, err)
				}
			}
			if snap.Tables != Tables(0).with(TCP4).with(TCP6) || len(snap.Sockets) != 1 || snap.NetNS != 42 {
				t.Errorf("snapshot tables %b, %d sockets, netns %d", snap.Tables, len(snap.Sockets), snap.NetNS)
			}
			// The next snapshot does not ask again for what is missing.
			k.asked = nil
			if _, err := c.dumpAll(conn, Namespace{Inode: 42}); err != nil {
				t.Fatal(err)
			}
			if k.wasAsked("udp4") || k.wasAsked("unix") {
				t.Errorf("unsupported tables asked again: %v", k.asked)
			}
			if st := c.Stats(); st.Unsupported != 6 || st.Snapshots != 2 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

// A kernel before 3.3 refuses SOCK_DIAG_BY_FAMILY with EINVAL: TCP comes
// from TCPDIAG_GETSOCK (both families in one dump), UDP and UNIX are
// reported missing.
func TestProbeLegacyTCP(t *testing.T) {
	k := &fakeKernel{
		errno: map[string]syscall.Errno{"tcp4": syscall.EINVAL, "tcp6": syscall.EINVAL, "udp4": syscall.EINVAL, "udp6": syscall.EINVAL, "unix": syscall.EINVAL},
		inet: map[string][]InetDiagMsg{"compat": {
			inetMsg(afInet, StateListen, "0.0.0.0", 22, "", 0, 5),
			inetMsg(afInet6, StateListen, "::", 22, "", 0, 6),
		}},
	}
	c := &Collector{}
	snap, err := c.dumpAll(k.conn(), Namespace{Inode: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !c.legacyTCP {
		t.Error("legacy TCP not chosen")
	}
	got := caps(t, c)
	if !got[feature.SockDiagInet].Available || got[feature.SockDiagUDP].Available || got[feature.SockDiagUnix].Available {
		t.Errorf("caps = %+v", got)
	}
	if !strings.Contains(got[feature.SockDiagUnix].Reason, "kernel before 3.3") {
		t.Errorf("unix reason = %q", got[feature.SockDiagUnix].Reason)
	}
	if snap.Tables != Tables(0).with(TCP4).with(TCP6) || len(snap.Sockets) != 2 ||
		snap.Sockets[0].Table != TCP4 || snap.Sockets[1].Table != TCP6 {
		t.Errorf("snapshot = %+v", snap)
	}
}

// Errors that say nothing about the kernel (EPERM from an LSM) are not
// cached: the next snapshot asks again.
func TestProbeInconclusive(t *testing.T) {
	k := &fakeKernel{errno: map[string]syscall.Errno{"unix": syscall.EPERM}}
	c := &Collector{}
	conn := k.conn()
	_, err := c.dumpAll(conn, Namespace{})
	if !errors.Is(err, syscall.EPERM) {
		t.Errorf("dumpAll err = %v, want EPERM", err)
	}
	cp := caps(t, c)[feature.SockDiagUnix]
	if cp.Available || !strings.Contains(cp.Reason, "probing sock_diag.unix") {
		t.Errorf("unix = %+v", cp)
	}
	if errors.Is(c.unsupported(feature.SockDiagUnix), feature.ErrNotSupported) {
		t.Error("inconclusive answer cached as not supported")
	}
	k.errno = nil
	snap, err := c.dumpAll(conn, Namespace{})
	if err != nil || !snap.Tables.Has(Unix) || !caps(t, c)[feature.SockDiagUnix].Available {
		t.Errorf("retry: tables %b, err %v", snap.Tables, err)
	}
}

// A failing dump leaves its table out of the snapshot, so Diff reports no
// false closes for it.
func TestDumpErrorLeavesTableOut(t *testing.T) {
	k := &fakeKernel{
		inet: map[string][]InetDiagMsg{"udp4": {inetMsg(afInet, StateClose, "0.0.0.0", 53, "", 0, 9)}},
		unix: []UnixDiagMsg{{Family: afUnix, Type: 1, State: StateListen, Ino: 10, Name: []byte("/run/a")}},
	}
	c := &Collector{}
	conn := k.conn()
	prev, err := c.dumpAll(conn, Namespace{Inode: 3})
	if err != nil || prev.Tables != AllTables {
		t.Fatalf("first snapshot: %b %v", prev.Tables, err)
	}
	k.errno = map[string]syscall.Errno{"udp4": syscall.ENOBUFS}
	cur, err := c.dumpAll(conn, Namespace{Inode: 3})
	if !errors.Is(err, syscall.ENOBUFS) || cur.Tables.Has(UDP4) || !cur.Tables.Has(Unix) {
		t.Fatalf("second snapshot: %b %v", cur.Tables, err)
	}
	if ch := Diff(prev, cur); len(ch) != 0 {
		t.Errorf("Diff reported %d changes for a failed dump: %+v", len(ch), ch)
	}
	if st := c.Stats(); st.DumpErrors != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// A legacy profile answers before the kernel is asked.
func TestProbeAsksProfileFirst(t *testing.T) {
	old := disabled
	t.Cleanup(func() { disabled = old })
	disabled = func(f feature.Feature) error {
		if f == feature.SockDiagUnix {
			return feature.NotSupported(f, feature.ErrProfile)
		}
		return nil
	}
	k := &fakeKernel{}
	c := &Collector{}
	if _, err := c.dumpAll(k.conn(), Namespace{}); err != nil {
		t.Fatal(err)
	}
	if k.wasAsked("unix") {
		t.Error("unix dump sent although the profile switched it off")
	}
	if cp := caps(t, c)[feature.SockDiagUnix]; cp.Available || !strings.Contains(cp.Reason, feature.ProfileEnv) {
		t.Errorf("unix = %+v", cp)
	}
}

// Every legacy profile is newer than 3.3: sock_diag stays with the kernel.
func TestProfilesLeaveSockDiagOn(t *testing.T) {
	for _, p := range feature.Profiles {
		t.Run(p, func(t *testing.T) {
			t.Setenv(feature.ProfileEnv, p)
			c := &Collector{}
			if _, err := c.dumpAll((&fakeKernel{}).conn(), Namespace{}); err != nil {
				t.Fatal(err)
			}
			for f, cp := range caps(t, c) {
				if !cp.Available {
					t.Errorf("profile %s: %s unavailable: %s", p, f, cp.Reason)
				}
			}
		})
	}
}

func TestClassify(t *testing.T) {
	wrapped := &OpError{Op: "dump udp4", Err: &mnl.OpError{Op: "receive", Err: syscall.EOPNOTSUPP}}
	err := classify(feature.SockDiagUDP, wrapped)
	if !errors.Is(err, feature.ErrNotSupported) || !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("classify(EOPNOTSUPP) = %v", err)
	}
	if err := classify(feature.SockDiagUDP, errors.New("timeout")); errors.Is(err, feature.ErrNotSupported) || definite(err) {
		t.Errorf("classify(timeout) = %v, want inconclusive", err)
	}
	if classify(feature.SockDiagUDP, nil) != nil {
		t.Error("classify(nil) != nil")
	}
	// EPROTONOSUPPORT from socket(2): no sock_diag at all.
	dialErr := &OpError{Op: "dial", Err: syscall.EPROTONOSUPPORT}
	if err := classify(feature.SockDiagInet, dialErr); !errors.Is(err, feature.ErrNotSupported) {
		t.Errorf("classify(EPROTONOSUPPORT) = %v", err)
	}
}

func TestConnTimeout(t *testing.T) {
	c := (&fakeKernel{}).conn()
	c.SetTimeout(0)
	if c.timeout != DefaultTimeout {
		t.Errorf("timeout = %v", c.timeout)
	}
	c.SetTimeout(time.Second)
	if c.timeout != time.Second {
		t.Errorf("timeout = %v", c.timeout)
	}
}
