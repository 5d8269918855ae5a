package proc

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzDecodeMessage feeds arbitrary connector payloads (what follows the
// netlink header) to the decoder: it must never panic, and what it
// accepts must be self-consistent.
func FuzzDecodeMessage(f *testing.F) {
	f.Add(procMsg(whatFork, u32s(1, 1, 2, 2)))
	f.Add(procMsg(whatExec, u32s(2, 2)))
	f.Add(procMsg(whatUID, u32s(2, 2, 0, 1000)))
	f.Add(procMsg(whatComm, append(u32s(2, 2), "bash\x00"...)))
	f.Add(procMsg(whatExit, u32s(2, 2, 3<<8, 17, 1, 1)))
	f.Add(cnBytes(1, 1, 7, 0, evBytes(whatExit, 0, 0, u32s(2, 2, 0, 17), false)))
	f.Add(cnBytes(1, 1, 42, 1, evBytes(whatNone, 0, 0, u32s(1), true)))
	f.Add(procMsg(0x400, nil))
	f.Add([]byte{})

	known := map[uint32]Kind{whatFork: KindFork, whatExec: KindExec, whatUID: KindUID, whatGID: KindGID, whatSID: KindSID,
		whatPtrace: KindPtrace, whatComm: KindComm, whatCoredump: KindCoredump, whatExit: KindExit}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m message
		if err := m.UnmarshalBinary(b); err != nil {
			return
		}
		if int(m.hdr.Len) > len(b)-cnMsgLen {
			t.Fatalf("accepted cn_msg.len %d with %d bytes", m.hdr.Len, len(b)-cnMsgLen)
		}
		if m.isAck {
			if m.ev.What != whatNone {
				t.Fatalf("ack with what %#x", m.ev.What)
			}
			return
		}
		if k, ok := known[m.ev.What]; ok != (m.ev.Kind != KindUnknown) || (ok && k != m.ev.Kind) {
			t.Fatalf("what %#x decoded as %v", m.ev.What, m.ev.Kind)
		}
		if (m.ev.Kind == KindUnknown) != (m.ev.Data != nil) {
			t.Fatalf("kind %v with data %x", m.ev.Kind, m.ev.Data)
		}
		if len(m.ev.Comm) > taskCommLen || strings.IndexByte(m.ev.Comm, 0) >= 0 {
			t.Fatalf("comm %q", m.ev.Comm)
		}
		// Decoding copies what it keeps: scribbling on the input
		// afterwards changes nothing.
		before := m.ev
		for i := range b {
			b[i] ^= 0xff
		}
		if before.Comm != m.ev.Comm || !bytes.Equal(before.Data, m.ev.Data) {
			t.Fatal("event aliases the input")
		}
	})
}

// FuzzParseStat feeds arbitrary stat lines to ParseStat: no panic, and an
// accepted line's comm is exactly what lies between the first '(' and the
// last ')'.
func FuzzParseStat(f *testing.F) {
	f.Add("1 (systemd) S 0 1 1 0 -1 4194560 67729 27769780 0 2866 239 842 97600 23365 20 0 1 0 5" + statTail)
	f.Add("1234 ((sd-pam) x)) S 1233 1233 1233 0 -1 1077936448 52 0 0 0 0 0 0 0 20 0 1 0 412345" + statTail)
	f.Add("5 () I 2 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 0 -20 1 0 7")
	f.Add("77 (a) R 1 2 3 4) Z 9 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99")
	f.Add("")
	f.Fuzz(func(t *testing.T, line string) {
		s, err := ParseStat([]byte(line))
		if err != nil {
			return
		}
		open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
		if s.PID <= 0 || s.Comm != line[open+1:end] || s.State == 0 {
			t.Fatalf("%q parsed as %+v", line, s)
		}
	})
}

// FuzzParseCgroup: no panic, and an id is only ever 64 lowercase hex
// digits found in the input.
func FuzzParseCgroup(f *testing.F) {
	f.Add("0::/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope\n")
	f.Add("12:pids:/kubepods/burstable/pod1/fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210\n1:name=systemd:/\n")
	f.Add("::\n:\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		_, id, rt := parseCgroup([]byte(in))
		if id != "" && (!isHexID(id) || !strings.Contains(in, id)) {
			t.Fatalf("id %q from %q", id, in)
		}
		if id == "" && rt != "" {
			t.Fatalf("runtime %q without an id", rt)
		}
	})
}

// FuzzParseMessages: any datagram splits into messages that lie inside it,
// or stops with an error; never a panic or an endless loop.
func FuzzParseMessages(f *testing.F) {
	f.Add([]byte{20, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Add([]byte{16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, _ := parseMessages(b, nil)
		total := 0
		for _, m := range msgs {
			if int(m.Header.Length) != len(m.Data)+16 {
				t.Fatalf("length %d, data %d", m.Header.Length, len(m.Data))
			}
			total += len(m.Data) + 16
		}
		if total > len(b) {
			t.Fatalf("messages cover %d bytes of %d", total, len(b))
		}
	})
}
