package netlink

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzInetDiagMsg: any input is refused with an error or decoded into a
// message whose encoding is the input's first 72 bytes, and whose
// addresses can be read.
func FuzzInetDiagMsg(f *testing.F) {
	f.Add(rawInetDiagMsg(afInet, StateListen, 8080, 0, []byte{127, 0, 0, 1}, nil, 1000, 4242))
	f.Add(append(rawInetDiagMsg(afInet6, StateEstablished, 443, 5000, make([]byte, 16), make([]byte, 16), 0, 7), 5, 0, 8, 0, 0, 0, 0, 0))
	f.Add([]byte{2, 10, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m InetDiagMsg
		if err := m.UnmarshalBinary(b); err != nil {
			if len(b) >= inetDiagMsgLen {
				t.Fatalf("refused %d bytes: %v", len(b), err)
			}
			return
		}
		out, _ := m.MarshalBinary()
		if !bytes.Equal(out, b[:inetDiagMsgLen]) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", out, b[:inetDiagMsgLen])
		}
		_ = m.Source().String()
		_ = m.Dest().String()
		s := inetSocket(TCP4, &m)
		_ = s.Role()
	})
}

// FuzzUnixDiagMsg: any input is refused with an error or decoded into a
// message that survives an encode/decode round trip unchanged.
func FuzzUnixDiagMsg(f *testing.F) {
	f.Add(rawUnixDiagMsg(1, StateListen, 500, rawAttr(unixDiagName, []byte("/run/x.sock\x00")), rawAttr(unixDiagVFS, append(u32(1), u32(2)...)), rawAttr(unixDiagUID, u32(0))))
	f.Add(rawUnixDiagMsg(5, StateEstablished, 501, rawAttr(unixDiagName, []byte("\x00abs")), rawAttr(unixDiagPeer, u32(502)), rawAttr(6, []byte{1})))
	f.Add(rawUnixDiagMsg(2, StateClose, 1, []byte{8, 0}))
	f.Add(rawUnixDiagMsg(2, StateClose, 1, rawAttr(unixDiagPeer, []byte{1})))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m UnixDiagMsg
		if err := m.UnmarshalBinary(b); err != nil {
			return
		}
		_ = m.Path()
		enc, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of a decoded message: %v", err)
		}
		var again UnixDiagMsg
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-decoding %x: %v", enc, err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip differs:\n got %+v\nwant %+v", again, m)
		}
	})
}
