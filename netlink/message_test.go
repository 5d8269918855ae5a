package netlink

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	mnl "github.com/mdlayher/netlink"
)

// ne is host byte order, as netlink uses it.
var ne = binary.NativeEndian

// rawInetDiagMsg builds an inet_diag_msg byte by byte, independently of
// MarshalBinary, as the kernel lays it out (inet_diag.h).
func rawInetDiagMsg(family, state uint8, sport, dport uint16, src, dst []byte, uid, inode uint32) []byte {
	b := make([]byte, 72)
	b[0], b[1], b[2], b[3] = family, state, 2, 1 // timer keepalive, retrans 1
	binary.BigEndian.PutUint16(b[4:], sport)     // network order
	binary.BigEndian.PutUint16(b[6:], dport)
	copy(b[8:24], src)
	copy(b[24:40], dst)
	ne.PutUint32(b[40:], 3)          // idiag_if
	ne.PutUint32(b[44:], 0xdeadbeef) // cookie[0]
	ne.PutUint32(b[48:], 0x1)        // cookie[1]
	ne.PutUint32(b[52:], 1500)       // expires
	ne.PutUint32(b[56:], 7)          // rqueue
	ne.PutUint32(b[60:], 9)          // wqueue
	ne.PutUint32(b[64:], uid)
	ne.PutUint32(b[68:], inode)
	return b
}

func TestInetDiagMsgUnmarshal(t *testing.T) {
	v6src := netip.MustParseAddr("2001:db8::1").As16()
	v6dst := netip.MustParseAddr("::ffff:127.0.0.1").As16()
	// INET_DIAG_SHUTDOWN (type 8, u8) as 3.8+ kernels append it unasked.
	shutdownAttr := []byte{5, 0, 8, 0, 0, 0, 0, 0}
	tests := []struct {
		name       string
		b          []byte
		src, dst   string
		state      uint8
		uid, inode uint32
	}{
		{
			name: "ipv4 listener",
			b:    rawInetDiagMsg(afInet, StateListen, 8080, 0, []byte{127, 0, 0, 1}, nil, 1000, 4242),
			src:  "127.0.0.1:8080", dst: "0.0.0.0:0", state: StateListen, uid: 1000, inode: 4242,
		},
		{
			name: "ipv6 established with trailing attribute",
			b:    append(rawInetDiagMsg(afInet6, StateEstablished, 443, 51000, v6src[:], v6dst[:], 0, 7), shutdownAttr...),
			src:  "[2001:db8::1]:443", dst: "[::ffff:127.0.0.1]:51000", state: StateEstablished, inode: 7,
		},
		{
			name: "port bytes are network order",
			b:    rawInetDiagMsg(afInet, StateClose, 0x0102, 0xa0b0, []byte{10, 0, 0, 1}, []byte{192, 0, 2, 9}, 65534, 1),
			src:  "10.0.0.1:258", dst: "192.0.2.9:41136", state: StateClose, uid: 65534, inode: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m InetDiagMsg
			if err := m.UnmarshalBinary(tt.b); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if got := m.Source().String(); got != tt.src {
				t.Errorf("Source = %s, want %s", got, tt.src)
			}
			if got := m.Dest().String(); got != tt.dst {
				t.Errorf("Dest = %s, want %s", got, tt.dst)
			}
			if m.State != tt.state || m.UID != tt.uid || m.Inode != tt.inode {
				t.Errorf("state/uid/inode = %d/%d/%d, want %d/%d/%d", m.State, m.UID, m.Inode, tt.state, tt.uid, tt.inode)
			}
			if m.Timer != 2 || m.Retrans != 1 || m.ID.If != 3 || m.ID.Cookie != [2]uint32{0xdeadbeef, 1} ||
				m.Expires != 1500 || m.RQueue != 7 || m.WQueue != 9 {
				t.Errorf("host-order fields wrong: %+v", m)
			}
			// Marshal gives back the structure's bytes exactly.
			out, _ := m.MarshalBinary()
			if !bytes.Equal(out, tt.b[:inetDiagMsgLen]) {
				t.Errorf("MarshalBinary:\n got %x\nwant %x", out, tt.b[:inetDiagMsgLen])
			}
		})
	}
}

func TestInetDiagMsgUnknownFamily(t *testing.T) {
	var m InetDiagMsg
	if err := m.UnmarshalBinary(rawInetDiagMsg(99, 1, 1, 2, []byte{1, 2, 3, 4}, nil, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if m.Source().IsValid() || m.Dest().IsValid() {
		t.Errorf("family 99 gave addresses %v %v", m.Source(), m.Dest())
	}
}

// Every truncation is an error naming the structure, never a panic.
func TestTruncatedInputs(t *testing.T) {
	full := map[string]struct {
		b    []byte
		dec  func([]byte) error
		want error
	}{
		"inet_diag_msg": {rawInetDiagMsg(afInet, 1, 1, 2, nil, nil, 0, 1),
			func(b []byte) error { var m InetDiagMsg; return m.UnmarshalBinary(b) }, errShortInetDiagMsg},
		"inet_diag_sockid": {make([]byte, inetDiagSockIDLen),
			func(b []byte) error { var m InetDiagSockID; return m.UnmarshalBinary(b) }, errShortInetDiagSockID},
		"inet_diag_req_v2": {make([]byte, inetDiagReqV2Len),
			func(b []byte) error { var m InetDiagReqV2; return m.UnmarshalBinary(b) }, errShortInetDiagReqV2},
		"inet_diag_req": {make([]byte, inetDiagReqLen),
			func(b []byte) error { var m InetDiagReq; return m.UnmarshalBinary(b) }, errShortInetDiagReq},
		"unix_diag_req": {make([]byte, unixDiagReqLen),
			func(b []byte) error { var m UnixDiagReq; return m.UnmarshalBinary(b) }, errShortUnixDiagReq},
		"unix_diag_msg": {make([]byte, unixDiagMsgLen),
			func(b []byte) error { var m UnixDiagMsg; return m.UnmarshalBinary(b) }, errShortUnixDiagMsg},
	}
	for name, tt := range full {
		if err := tt.dec(tt.b); err != nil {
			t.Errorf("%s: full input: %v", name, err)
		}
		for n := range len(tt.b) {
			if err := tt.dec(tt.b[:n]); !errors.Is(err, tt.want) {
				t.Errorf("%s cut to %d bytes: err = %v, want %v", name, n, err, tt.want)
			}
		}
	}
}

func TestInetDiagReqV2Layout(t *testing.T) {
	r := InetDiagReqV2{Family: afInet6, Protocol: ipprotoUDP, Ext: 0, States: AllStates, ID: InetDiagSockID{Cookie: anyCookie}}
	b, _ := r.MarshalBinary()
	if len(b) != 56 {
		t.Fatalf("len = %d, want 56 (sizeof inet_diag_req_v2)", len(b))
	}
	if b[0] != 10 || b[1] != 17 || b[2] != 0 || b[3] != 0 {
		t.Errorf("header bytes = % x, want 0a 11 00 00", b[:4])
	}
	if ne.Uint32(b[4:]) != AllStates {
		t.Errorf("idiag_states = %#x", ne.Uint32(b[4:]))
	}
	// The cookie sits at the end of inet_diag_sockid: offset 8+40.
	if ne.Uint32(b[48:]) != inetDiagNoCookie || ne.Uint32(b[52:]) != inetDiagNoCookie {
		t.Errorf("cookie = % x, want INET_DIAG_NOCOOKIE twice", b[48:56])
	}
	var back InetDiagReqV2
	if err := back.UnmarshalBinary(b); err != nil || back != r {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, r)
	}
}

func TestInetDiagReqLayout(t *testing.T) {
	r := InetDiagReq{Family: afInet, States: 0x400, ID: InetDiagSockID{Cookie: anyCookie}}
	b, _ := r.MarshalBinary()
	if len(b) != 60 {
		t.Fatalf("len = %d, want 60 (sizeof inet_diag_req)", len(b))
	}
	// idiag_states follows the 48-byte sockid at offset 4.
	if ne.Uint32(b[52:]) != 0x400 || b[0] != afInet {
		t.Errorf("layout wrong: % x", b)
	}
	var back InetDiagReq
	if err := back.UnmarshalBinary(b); err != nil || back != r {
		t.Errorf("round trip = %+v, %v", back, err)
	}
}

func TestUnixDiagReqLayout(t *testing.T) {
	r := UnixDiagReq{Family: afUnix, States: AllStates, Show: UDiagShowName | UDiagShowPeer, Cookie: anyCookie}
	b, _ := r.MarshalBinary()
	want := make([]byte, 24)
	want[0] = 1
	ne.PutUint32(want[4:], AllStates)
	ne.PutUint32(want[12:], 0x5)
	ne.PutUint32(want[16:], inetDiagNoCookie)
	ne.PutUint32(want[20:], inetDiagNoCookie)
	if !bytes.Equal(b, want) {
		t.Errorf("MarshalBinary:\n got % x\nwant % x", b, want)
	}
	var back UnixDiagReq
	if err := back.UnmarshalBinary(b); err != nil || back != r {
		t.Errorf("round trip = %+v, %v", back, err)
	}
}

// rawUnixDiagMsg builds a unix_diag_msg header and appends raw attributes.
func rawUnixDiagMsg(typ, state uint8, ino uint32, attrs ...[]byte) []byte {
	b := make([]byte, 16)
	b[0], b[1], b[2] = afUnix, typ, state
	ne.PutUint32(b[4:], ino)
	ne.PutUint32(b[8:], 0x11)
	ne.PutUint32(b[12:], 0x22)
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

// rawAttr builds one netlink attribute with its padding.
func rawAttr(typ uint16, data []byte) []byte {
	b := make([]byte, 4, 4+len(data)+3)
	ne.PutUint16(b[0:], uint16(4+len(data)))
	ne.PutUint16(b[2:], typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func u32(v uint32) []byte { b := make([]byte, 4); ne.PutUint32(b, v); return b }

func TestUnixDiagMsgUnmarshal(t *testing.T) {
	vfs := append(u32(99), u32(0x803)...)
	tests := []struct {
		name string
		b    []byte
		want UnixDiagMsg
		path string
	}{
		{
			name: "path listener with vfs and uid",
			b: rawUnixDiagMsg(1, StateListen, 500,
				rawAttr(unixDiagName, []byte("/run/x.sock\x00")),
				rawAttr(unixDiagVFS, vfs),
				rawAttr(unixDiagUID, u32(1000))),
			want: UnixDiagMsg{Family: 1, Type: 1, State: StateListen, Ino: 500, Cookie: [2]uint32{0x11, 0x22},
				Name: []byte("/run/x.sock\x00"), VFS: UnixDiagVFS{Ino: 99, Dev: 0x803}, HasVFS: true, UID: 1000, HasUID: true},
			path: "/run/x.sock",
		},
		{
			name: "abstract connected, unknown attributes skipped",
			b: rawUnixDiagMsg(5, StateEstablished, 501,
				rawAttr(4, append(u32(0), u32(0)...)), // UNIX_DIAG_RQLEN, not asked for
				rawAttr(unixDiagName, []byte("\x00lineaged\x00x")),
				rawAttr(unixDiagPeer, u32(502)),
				rawAttr(6, []byte{3})), // UNIX_DIAG_SHUTDOWN
			want: UnixDiagMsg{Family: 1, Type: 5, State: StateEstablished, Ino: 501, Cookie: [2]uint32{0x11, 0x22},
				Name: []byte("\x00lineaged\x00x"), Peer: 502},
			path: "@lineaged\x00x",
		},
		{
			name: "unbound unconnected",
			b:    rawUnixDiagMsg(2, StateClose, 503),
			want: UnixDiagMsg{Family: 1, Type: 2, State: StateClose, Ino: 503, Cookie: [2]uint32{0x11, 0x22}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m UnixDiagMsg
			m.Name = []byte("stale") // reuse must not leak old attributes
			m.HasUID = true
			if err := m.UnmarshalBinary(tt.b); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if !reflect.DeepEqual(m, tt.want) {
				t.Errorf("got  %+v\nwant %+v", m, tt.want)
			}
			if got := m.Path(); got != tt.path {
				t.Errorf("Path = %q, want %q", got, tt.path)
			}
		})
	}
}

func TestUnixDiagMsgBadAttributes(t *testing.T) {
	tests := map[string]struct {
		b    []byte
		want error // nil: any error
	}{
		"attribute header cut":          {b: rawUnixDiagMsg(1, 1, 1, []byte{8, 0})},
		"attribute longer than data":    {b: rawUnixDiagMsg(1, 1, 1, []byte{12, 0, 2, 0, 1, 0, 0, 0})},
		"attribute length below header": {b: rawUnixDiagMsg(1, 1, 1, []byte{2, 0, 2, 0})},
		"peer not a u32":                {b: rawUnixDiagMsg(1, 1, 1, rawAttr(unixDiagPeer, []byte{1, 2}))},
		"uid not a u32":                 {b: rawUnixDiagMsg(1, 1, 1, rawAttr(unixDiagUID, []byte{1, 2, 3, 4, 5, 6, 7, 8}))},
		"vfs short":                     {b: rawUnixDiagMsg(1, 1, 1, rawAttr(unixDiagVFS, u32(1))), want: errShortUnixDiagVFS},
	}
	for name, tt := range tests {
		var m UnixDiagMsg
		err := m.UnmarshalBinary(tt.b)
		if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
		}
		if err != nil && !strings.Contains(err.Error(), "unix_diag_msg") {
			t.Errorf("%s: error %q does not name the structure", name, err)
		}
	}
}

func TestUnixDiagMsgRoundTrip(t *testing.T) {
	in := UnixDiagMsg{Family: 1, Type: 1, State: StateEstablished, Ino: 9, Cookie: [2]uint32{1, 2},
		Name: []byte("/tmp/s"), Peer: 10, VFS: UnixDiagVFS{Ino: 3, Dev: 4}, HasVFS: true, UID: 0, HasUID: true}
	b, err := in.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var out UnixDiagMsg
	if err := out.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
	// The attribute encoder agrees with the hand-built layout.
	ad, err := mnl.NewAttributeDecoder(b[unixDiagMsgLen:])
	if err != nil || ad.Len() != 4 {
		t.Errorf("attributes: %v, %d", err, ad.Len())
	}
}

func TestStateName(t *testing.T) {
	for s, want := range map[uint8]string{1: "ESTABLISHED", 10: "LISTEN", 7: "CLOSE", 12: "NEW_SYN_RECV", 0: "STATE_0", 200: "STATE_200"} {
		if got := StateName(s); got != want {
			t.Errorf("StateName(%d) = %q, want %q", s, got, want)
		}
	}
}

func TestUnixPath(t *testing.T) {
	for in, want := range map[string]string{"": "", "/a/b": "/a/b", "/a/b\x00": "/a/b", "/a\x00junk": "/a", "\x00abs": "@abs", "\x00": "@"} {
		if got := unixPath([]byte(in)); got != want {
			t.Errorf("unixPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTableName(t *testing.T) {
	for _, tt := range []struct {
		f, p uint8
		want string
	}{{afInet, ipprotoTCP, "tcp4"}, {afInet6, ipprotoUDP, "udp6"}, {3, 99, "proto99/af3"}} {
		if got := tableName(tt.f, tt.p); got != tt.want {
			t.Errorf("tableName(%d,%d) = %q, want %q", tt.f, tt.p, got, tt.want)
		}
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
