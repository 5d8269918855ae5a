package netlink

import (
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lineaged/lineaged/event"
)

var (
	t0 = time.Unix(1_700_000_000, 0)
	t1 = t0.Add(5 * time.Second)
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// A namespace with: a TCP listener (pid 10) and one accepted connection
// from a client (pid 20) over loopback, the client a dual-stack IPv6
// socket seeing v4-mapped addresses; a UDP server; a UNIX listener with
// an accepted connection from pid 30; and a TIME_WAIT leftover.
func fixtureSnapshot() *Snapshot {
	s := &Snapshot{NetNS: 4026532000, Name: "it", Time: t0, Tables: AllTables, Sockets: []Socket{
		{Table: TCP4, State: StateListen, Local: ap("127.0.0.1:8080"), Remote: ap("0.0.0.0:0"), Inode: 100, PIDs: []int{10}, UID: 0, HasUID: true},
		{Table: TCP4, State: StateEstablished, Local: ap("127.0.0.1:8080"), Remote: ap("127.0.0.1:40000"), Inode: 101, PIDs: []int{10}, HasUID: true},
		{Table: TCP6, State: StateEstablished, Local: ap("[::ffff:127.0.0.1]:40000"), Remote: ap("[::ffff:127.0.0.1]:8080"), Inode: 102, PIDs: []int{20}, UID: 1000, HasUID: true},
		{Table: TCP4, State: StateTimeWait, Local: ap("127.0.0.1:8080"), Remote: ap("127.0.0.1:39999"), Inode: 0},
		{Table: UDP4, State: StateClose, Local: ap("0.0.0.0:5353"), Remote: ap("0.0.0.0:0"), Inode: 103, PIDs: []int{10}, HasUID: true},
		{Table: Unix, Type: sockStream, State: StateListen, Path: "/run/it.sock", Inode: 200, PIDs: []int{10}},
		{Table: Unix, Type: sockStream, State: StateEstablished, Path: "/run/it.sock", Inode: 201, Peer: 202, PIDs: []int{10}},
		{Table: Unix, Type: sockStream, State: StateEstablished, Inode: 202, Peer: 201, PIDs: []int{30}},
		{Table: Unix, Type: sockDgram, State: StateClose, Path: "@journal", Inode: 203, PIDs: []int{1}},
	}}
	s.annotate()
	return s
}

func find(s *Snapshot, inode uint64) *Socket {
	for i := range s.Sockets {
		if s.Sockets[i].Inode == inode {
			return &s.Sockets[i]
		}
	}
	return nil
}

func TestAnnotate(t *testing.T) {
	s := fixtureSnapshot()
	for ino, want := range map[uint64]bool{101: true, 102: false, 201: true, 202: false, 200: false} {
		if got := find(s, ino).Accepted; got != want {
			t.Errorf("inode %d Accepted = %v, want %v", ino, got, want)
		}
	}
	if got := find(s, 202).PeerPath; got != "/run/it.sock" {
		t.Errorf("client PeerPath = %q", got)
	}
	for ino, want := range map[uint64]Role{100: RoleListening, 101: RoleConnected, 103: RoleListening, 200: RoleListening, 203: RoleListening} {
		if got := find(s, ino).Role(); got != want {
			t.Errorf("inode %d Role = %v, want %v", ino, got, want)
		}
	}
	if !slices.IsSortedFunc(s.Sockets, func(a, b Socket) int { return int(a.Table) - int(b.Table) }) {
		t.Error("sockets not ordered by table")
	}
}

func TestEdges(t *testing.T) {
	s := fixtureSnapshot()
	got := s.Edges()
	want := []IPCEdge{
		{NetNS: 4026532000, Transport: "tcp", Client: EdgeEnd{PID: 20, Inode: 102}, Server: EdgeEnd{PID: 10, Inode: 101}},
		{NetNS: 4026532000, Transport: "unix", Client: EdgeEnd{PID: 30, Inode: 202}, Server: EdgeEnd{PID: 10, Inode: 201}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Edges:\n got %+v\nwant %+v", got, want)
	}
}

func TestEdgesNeedBothOwners(t *testing.T) {
	s := fixtureSnapshot()
	find(s, 102).PIDs = nil       // client owner unknown
	find(s, 202).PIDs = []int{10} // a process talking to itself
	if e := s.Edges(); len(e) != 0 {
		t.Errorf("Edges = %+v, want none", e)
	}
}

func TestDiffFirstSnapshot(t *testing.T) {
	s := fixtureSnapshot()
	ch := Diff(nil, s)
	// Every socket with an inode opens; TIME_WAIT (inode 0) does not.
	if len(ch) != 8 {
		t.Fatalf("%d changes, want 8: %+v", len(ch), ch)
	}
	for _, c := range ch {
		if c.Kind != Opened || c.NetNS != s.NetNS || c.Time != t0 {
			t.Errorf("change %+v", c)
		}
	}
}

func TestDiffOpenCloseUpdate(t *testing.T) {
	prev := fixtureSnapshot()
	cur := fixtureSnapshot()
	cur.Time = t1
	// The client closes: its socket leaves (inode 0 while lingering, so
	// gone from the keyed view); the server's end goes to CLOSE_WAIT.
	cur.Sockets = slices.DeleteFunc(cur.Sockets, func(k Socket) bool { return k.Inode == 102 })
	find(cur, 101).State = StateCloseWait
	// A UDP socket connect()s: updated.
	find(cur, 103).State = StateEstablished
	find(cur, 103).Remote = ap("192.0.2.1:53")
	// A new UNIX listener.
	cur.Sockets = append(cur.Sockets, Socket{Table: Unix, Type: sockSeqpacket, State: StateListen, Path: "/run/new", Inode: 300, PIDs: []int{40}})
	cur.annotate()

	var got []string
	for _, c := range Diff(prev, cur) {
		got = append(got, c.Kind.String()+":"+itoa(c.Socket.Inode))
		if c.Kind == Closed {
			if c.Time != t1 || c.Socket.PID() != 20 || c.Edge == nil || c.Edge.Server.Inode != 101 {
				t.Errorf("close change = %+v", c)
			}
		}
		if c.Kind == Updated && c.PrevState != StateClose {
			t.Errorf("updated PrevState = %d", c.PrevState)
		}
	}
	want := []string{"updated:103", "opened:300", "closed:102"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Diff = %v, want %v", got, want)
	}
}

func TestDiffNamespaceGoneAndMismatch(t *testing.T) {
	prev := fixtureSnapshot()
	if ch := Diff(prev, nil); len(ch) != 8 || ch[0].Kind != Closed || ch[0].Time != t0 {
		t.Errorf("namespace gone: %d changes", len(ch))
	}
	other := fixtureSnapshot()
	other.NetNS++
	ch := Diff(prev, other)
	var opened, closed int
	for _, c := range ch {
		switch c.Kind {
		case Opened:
			opened++
		case Closed:
			closed++
		}
	}
	if opened != 8 || closed != 8 {
		t.Errorf("different namespaces: %d opened, %d closed; want 8, 8", opened, closed)
	}
	if Diff(nil, nil) != nil {
		t.Error("Diff(nil, nil) != nil")
	}
}

func TestDiffComparesCommonTablesOnly(t *testing.T) {
	prev := fixtureSnapshot()
	cur := fixtureSnapshot()
	cur.Tables &^= 1 << Unix
	cur.Sockets = slices.DeleteFunc(cur.Sockets, func(k Socket) bool { return k.Table == Unix })
	if ch := Diff(prev, cur); len(ch) != 0 {
		t.Errorf("unix dump failed, Diff = %+v", ch)
	}
}

func TestChangeEvent(t *testing.T) {
	s := fixtureSnapshot()
	byInode := map[uint64]Change{}
	for _, c := range Diff(nil, s) {
		byInode[c.Socket.Inode] = c
	}
	tests := []struct {
		inode        uint64
		kind         ChangeKind
		typ          event.Type
		action       event.Action
		dir          string
		src, dst     *event.Endpoint
		pid          int
		uid          string
		transport    string
		family       string
		labelsSubset []event.KV
	}{
		{inode: 100, typ: "start", action: ActionListening, dir: "listening", src: &event.Endpoint{IP: "127.0.0.1", Port: 8080}, pid: 10, uid: "0", transport: "tcp", family: "ipv4",
			labelsSubset: []event.KV{{Key: "socket_inode", Value: "100"}, {Key: "socket_state", Value: "LISTEN"}, {Key: "netns_name", Value: "it"}}},
		{inode: 101, typ: "connection", action: ActionConnected, dir: "ingress", src: &event.Endpoint{IP: "127.0.0.1", Port: 40000}, dst: &event.Endpoint{IP: "127.0.0.1", Port: 8080}, pid: 10, uid: "0", transport: "tcp", family: "ipv4",
			labelsSubset: []event.KV{{Key: "ipc_peer_pid", Value: "20"}, {Key: "ipc_peer_inode", Value: "102"}}},
		{inode: 102, typ: "connection", action: ActionConnected, dir: "egress", src: &event.Endpoint{IP: "::ffff:127.0.0.1", Port: 40000}, dst: &event.Endpoint{IP: "::ffff:127.0.0.1", Port: 8080}, pid: 20, uid: "1000", transport: "tcp", family: "ipv6"},
		{inode: 103, typ: "start", action: ActionListening, dir: "listening", src: &event.Endpoint{IP: "0.0.0.0", Port: 5353}, pid: 10, uid: "0", transport: "udp", family: "ipv4"},
		{inode: 202, typ: "connection", action: ActionConnected, dir: "egress", dst: &event.Endpoint{Path: "/run/it.sock"}, pid: 30, transport: "unix", family: "unix",
			labelsSubset: []event.KV{{Key: "socket_type", Value: "stream"}, {Key: "peer_inode", Value: "201"}, {Key: "ipc_peer_pid", Value: "10"}}},
		{inode: 202, kind: Closed, typ: "end", action: ActionClosed, dir: "egress", dst: &event.Endpoint{Path: "/run/it.sock"}, pid: 30, transport: "unix", family: "unix"},
		{inode: 203, typ: "start", action: ActionListening, dir: "listening", src: &event.Endpoint{Path: "@journal"}, pid: 1, transport: "unix", family: "unix"},
	}
	for _, tt := range tests {
		c := byInode[tt.inode]
		if tt.kind == Closed {
			c = Diff(s, nil)[0]
			for _, x := range Diff(s, nil) {
				if x.Socket.Inode == tt.inode {
					c = x
				}
			}
		}
		e := c.Event()
		if e.Module != "sock_diag" || e.Category != "network" || e.Kind != event.KindEvent || e.Outcome != "success" || e.TimeMsec != t0.UnixMilli() {
			t.Errorf("inode %d: common fields %+v", tt.inode, e)
		}
		if e.Type != tt.typ || e.Action != tt.action {
			t.Errorf("inode %d: type/action = %s/%s, want %s/%s", tt.inode, e.Type, e.Action, tt.typ, tt.action)
		}
		if e.Network == nil || e.Network.Direction != tt.dir || e.Network.Transport != tt.transport || e.Network.Family != tt.family || e.Network.NetNS != 4026532000 {
			t.Errorf("inode %d: network = %+v", tt.inode, e.Network)
		}
		if !reflect.DeepEqual(e.Source, tt.src) || !reflect.DeepEqual(e.Dest, tt.dst) {
			t.Errorf("inode %d: source/dest = %+v/%+v, want %+v/%+v", tt.inode, e.Source, e.Dest, tt.src, tt.dst)
		}
		if e.Process.PID != tt.pid || e.User.ID != tt.uid {
			t.Errorf("inode %d: pid/uid = %d/%q, want %d/%q", tt.inode, e.Process.PID, e.User.ID, tt.pid, tt.uid)
		}
		for _, kv := range tt.labelsSubset {
			if !slices.Contains(e.Labels, kv) {
				t.Errorf("inode %d: labels %v lack %v", tt.inode, e.Labels, kv)
			}
		}
		if e.Message == "" {
			t.Errorf("inode %d: no message", tt.inode)
		}
	}
	c101 := byInode[101]
	if got := c101.Event().Message; got != "tcp4 socket-connected 127.0.0.1:40000 -> 127.0.0.1:8080 (pid 10)" {
		t.Errorf("message = %q", got)
	}
}

func TestUpdatedEventLabelsPreviousState(t *testing.T) {
	c := Change{Kind: Updated, Time: t0, PrevState: StateClose, Socket: Socket{Table: UDP6, State: StateEstablished, Local: ap("[::1]:5000"), Remote: ap("[::1]:53"), Inode: 5}}
	e := c.Event()
	if e.Action != ActionConnected || !slices.Contains(e.Labels, event.KV{Key: "socket_previous_state", Value: "CLOSE"}) {
		t.Errorf("event = %+v", e)
	}
	if e.Message != "udp6 socket-connected [::1]:5000 -> [::1]:53" {
		t.Errorf("message = %q", e.Message)
	}
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
