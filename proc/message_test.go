package proc

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// The builders below lay messages out by hand, field by field as the uapi
// headers declare them, independently of the package's decoders.

// cnBytes builds a struct cn_msg with its payload; len is len(payload).
func cnBytes(idx, val, seq, ack uint32, payload []byte) []byte {
	b := binary.NativeEndian.AppendUint32(nil, idx)
	b = binary.NativeEndian.AppendUint32(b, val)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, ack)
	b = binary.NativeEndian.AppendUint16(b, uint16(len(payload)))
	b = binary.NativeEndian.AppendUint16(b, 0) // flags
	return append(b, payload...)
}

// evBytes builds a struct proc_event: header, then body, zero-padded to
// the 24-byte union as the kernel sends it when pad is set, else as long
// as body (a short or pre-4.18 event).
func evBytes(what, cpu uint32, ts uint64, body []byte, pad bool) []byte {
	b := binary.NativeEndian.AppendUint32(nil, what)
	b = binary.NativeEndian.AppendUint32(b, cpu)
	b = binary.NativeEndian.AppendUint64(b, ts)
	b = append(b, body...)
	for pad && len(b) < 40 {
		b = append(b, 0)
	}
	return b
}

// u32s lays out 32-bit words (pids are C ints: negative ones as two's
// complement).
func u32s(v ...int64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.NativeEndian.AppendUint32(b, uint32(x))
	}
	return b
}

// procMsg is a full connector message carrying one event, as the kernel
// sends it: cn_msg seq = the CPU's counter, ack 0.
func procMsg(what uint32, body []byte) []byte {
	return cnBytes(1, 1, 7, 0, evBytes(what, 1, 123456789, body, true))
}

func TestDecodeMessage(t *testing.T) {
	comm := append(u32s(300, 301), []byte("kworker\x00\x00\x00\x00\x00\x00\x00\x00\x00")...)
	comm16 := append(u32s(300, 300), []byte("0123456789abcdef")...)
	base := Event{What: 0, CPU: 1, Seq: 7, TimestampNS: 123456789}
	ev := func(f func(e *Event)) *Event {
		e := base
		f(&e)
		return &e
	}

	tests := []struct {
		name    string
		b       []byte
		want    *Event
		ack     bool
		ackErr  uint32
		wantErr error
	}{
		{
			name: "fork",
			b:    procMsg(whatFork, u32s(100, 100, 200, 200)),
			want: ev(func(e *Event) {
				e.Kind, e.What, e.PID, e.TGID, e.ParentPID, e.ParentTGID = KindFork, whatFork, 200, 200, 100, 100
			}),
		},
		{
			name: "fork of a thread",
			b:    procMsg(whatFork, u32s(1, 1, 201, 200)),
			want: ev(func(e *Event) {
				e.Kind, e.What, e.PID, e.TGID, e.ParentPID, e.ParentTGID = KindFork, whatFork, 201, 200, 1, 1
			}),
		},
		{
			name: "exec",
			b:    procMsg(whatExec, u32s(200, 200)),
			want: ev(func(e *Event) { e.Kind, e.What, e.PID, e.TGID = KindExec, whatExec, 200, 200 }),
		},
		{
			name: "uid",
			b:    procMsg(whatUID, u32s(200, 200, 1000, 0)),
			want: ev(func(e *Event) {
				e.Kind, e.What, e.PID, e.TGID, e.RealID, e.EffectiveID = KindUID, whatUID, 200, 200, 1000, 0
			}),
		},
		{
			name: "gid",
			b:    procMsg(whatGID, u32s(200, 200, 100, 65534)),
			want: ev(func(e *Event) {
				e.Kind, e.What, e.PID, e.TGID, e.RealID, e.EffectiveID = KindGID, whatGID, 200, 200, 100, 65534
			}),
		},
		{
			name: "sid",
			b:    procMsg(whatSID, u32s(200, 200)),
			want: ev(func(e *Event) { e.Kind, e.What, e.PID, e.TGID = KindSID, whatSID, 200, 200 }),
		},
		{
			name: "ptrace attach",
			b:    procMsg(whatPtrace, u32s(200, 200, 300, 300)),
			want: ev(func(e *Event) {
				e.Kind, e.What, e.PID, e.TGID, e.TracerPID, e.TracerTGID = KindPtrace, whatPtrace, 200, 200, 300, 300
			}),
		},
		{
			name: "ptrace detach",
			b:    procMsg(whatPtrace, u32s(200, 200, 0, 0)),
			want: ev(func(e *Event) { e.Kind, e.What, e.PID, e.TGID = KindPtrace, whatPtrace, 200, 200 }),
		},
		{
			name: "comm",
			b:    procMsg(whatComm, comm),
			want: ev(func(e *Event) { e.Kind, e.What, e.PID, e.TGID, e.Comm = KindComm, whatComm, 300, 301, "kworker" }),
		},
		{
			name: "comm of 16 bytes without NUL",
			b:    procMsg(whatComm, comm16),
			want: ev(func(e *Event) {
				e.Kind, e.What, e.PID, e.TGID, e.Comm = KindComm, whatComm, 300, 300, "0123456789abcdef"
			}),
		},
		{
			name: "coredump 4.18+",
			b:    procMsg(whatCoredump, u32s(200, 200, 100, 100)),
			want: ev(func(e *Event) {
				e.Kind, e.What, e.PID, e.TGID, e.ParentPID, e.ParentTGID = KindCoredump, whatCoredump, 200, 200, 100, 100
			}),
		},
		{
			name: "coredump without parents",
			b:    cnBytes(1, 1, 7, 0, evBytes(whatCoredump, 1, 123456789, u32s(200, 200), false)),
			want: ev(func(e *Event) { e.Kind, e.What, e.PID, e.TGID = KindCoredump, whatCoredump, 200, 200 }),
		},
		{
			name: "exit 4.18+",
			b:    procMsg(whatExit, u32s(200, 200, 3<<8, 17, 100, 100)),
			want: ev(func(e *Event) {
				e.Kind, e.What, e.PID, e.TGID = KindExit, whatExit, 200, 200
				e.ExitStatus, e.ExitSignal, e.ParentPID, e.ParentTGID = 3<<8, 17, 100, 100
			}),
		},
		{
			name: "exit of a thread, 3.10 layout",
			b:    cnBytes(1, 1, 7, 0, evBytes(whatExit, 1, 123456789, u32s(201, 200, 0, -1), false)),
			want: ev(func(e *Event) {
				e.Kind, e.What, e.PID, e.TGID, e.ExitSignal = KindExit, whatExit, 201, 200, -1
			}),
		},
		{
			name: "unknown what",
			b:    procMsg(0x400, u32s(5, 6)),
			want: ev(func(e *Event) {
				e.Kind, e.What = KindUnknown, 0x400
				e.Data = append(u32s(5, 6), make([]byte, 16)...)
			}),
		},
		{
			name: "netlink padding after the payload",
			b:    append(procMsg(whatExec, u32s(9, 9)), 0, 0, 0, 0),
			want: ev(func(e *Event) { e.Kind, e.What, e.PID, e.TGID = KindExec, whatExec, 9, 9 }),
		},
		{
			name: "ack",
			b:    cnBytes(1, 1, 42, 1, evBytes(whatNone, 0, 0, u32s(0), true)),
			ack:  true,
		},
		{
			name:   "ack with EPERM",
			b:      cnBytes(1, 1, 42, 1, evBytes(whatNone, 0, 0, u32s(1), true)),
			ack:    true,
			ackErr: 1,
		},

		{name: "empty", b: nil, wantErr: errShortCnMsg},
		{name: "short cn_msg", b: make([]byte, 19), wantErr: errShortCnMsg},
		{name: "len beyond the message", b: procMsg(whatExec, u32s(1, 1))[:50], wantErr: errShortPayload},
		{name: "another callback", b: cnBytes(4, 1, 0, 0, evBytes(whatExec, 0, 0, u32s(1, 1), true)), wantErr: errForeign},
		{name: "no proc_event", b: cnBytes(1, 1, 0, 0, make([]byte, 15)), wantErr: errShortProcEvent},
		{name: "short ack", b: cnBytes(1, 1, 0, 0, evBytes(whatNone, 0, 0, []byte{0, 0}, false)), wantErr: errShortAck},
		{name: "short fork", b: cnBytes(1, 1, 0, 0, evBytes(whatFork, 0, 0, u32s(1, 1, 2), false)), wantErr: errShortFork},
		{name: "short exec", b: cnBytes(1, 1, 0, 0, evBytes(whatExec, 0, 0, u32s(1), false)), wantErr: errShortExec},
		{name: "short uid", b: cnBytes(1, 1, 0, 0, evBytes(whatUID, 0, 0, u32s(1, 1, 0), false)), wantErr: errShortID},
		{name: "short gid", b: cnBytes(1, 1, 0, 0, evBytes(whatGID, 0, 0, u32s(1, 1), false)), wantErr: errShortID},
		{name: "short sid", b: cnBytes(1, 1, 0, 0, evBytes(whatSID, 0, 0, u32s(1), false)), wantErr: errShortSID},
		{name: "short ptrace", b: cnBytes(1, 1, 0, 0, evBytes(whatPtrace, 0, 0, u32s(1, 1, 2), false)), wantErr: errShortPtrace},
		{name: "short comm", b: cnBytes(1, 1, 0, 0, evBytes(whatComm, 0, 0, comm[:23], false)), wantErr: errShortComm},
		{name: "short coredump", b: cnBytes(1, 1, 0, 0, evBytes(whatCoredump, 0, 0, u32s(1), false)), wantErr: errShortCoredump},
		{name: "short exit", b: cnBytes(1, 1, 0, 0, evBytes(whatExit, 0, 0, u32s(1, 1, 0), false)), wantErr: errShortExit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m message
			err := m.UnmarshalBinary(tt.b)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if m.isAck != tt.ack || m.ackErr != tt.ackErr {
				t.Fatalf("ack = %v/%d, want %v/%d", m.isAck, m.ackErr, tt.ack, tt.ackErr)
			}
			if tt.ack {
				if m.hdr.Seq != 42 || m.hdr.Ack != 1 {
					t.Fatalf("ack seq/ack = %d/%d, want 42/1", m.hdr.Seq, m.hdr.Ack)
				}
				return
			}
			if !reflect.DeepEqual(m.ev, *tt.want) {
				t.Fatalf("event\n got %+v\nwant %+v", m.ev, *tt.want)
			}
		})
	}
}

// Truncation never panics and never decodes: every prefix of a message is
// refused (cn_msg.len then overstates it), and so is every payload cut
// short of its kind's struct with a cn_msg.len that agrees.
func TestDecodeMessageTruncated(t *testing.T) {
	minBody := map[uint32]int{whatNone: ackLen, whatFork: forkLen, whatExec: execLen, whatUID: idLen, whatGID: idLen,
		whatSID: sidLen, whatPtrace: ptraceLen, whatComm: commLen, whatCoredump: coredumpLen, whatExit: exitLen, 0x1234: 0}
	for what, need := range minBody {
		full := procMsg(what, u32s(1, 2, 3, 4, 5, 6))
		for n := 0; n < len(full); n++ {
			var m message
			if err := m.UnmarshalBinary(full[:n:n]); err == nil {
				t.Errorf("what %#x: %d-byte prefix decoded", what, n)
			}
		}
		payload := evBytes(what, 1, 2, u32s(1, 2, 3, 4, 5, 6), true)
		for n := 0; n <= len(payload); n++ {
			var m message
			err := m.UnmarshalBinary(cnBytes(1, 1, 0, 0, payload[:n:n]))
			if short := n < procEventHdrLen+need; short != (err != nil) {
				t.Errorf("what %#x: %d-byte payload: err = %v", what, n, err)
			}
		}
	}
}

func TestMcastOp(t *testing.T) {
	got := mcastOp(mcastListen, 0x01020304)
	want := cnBytes(1, 1, 0x01020304, 0x01020304, u32s(1))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mcastOp = % x, want % x", got, want)
	}
	var m cnMsg
	if err := m.UnmarshalBinary(got); err != nil || m.Len != 4 || m.Seq != 0x01020304 {
		t.Fatalf("round trip: %+v, %v", m, err)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindUnknown: "unknown", KindFork: "fork", KindExit: "exit", Kind(200): "kind(200)"} {
		if got := k.String(); got != want {
			t.Errorf("%d: %q, want %q", k, got, want)
		}
	}
}
