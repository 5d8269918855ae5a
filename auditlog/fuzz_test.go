package auditlog

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzWrite: any record type and payload, through the Writer, never
// panics and adds exactly one line to the log: "type=NAME msg=..." with
// NAME auditd 3.0.9's name for the type (node= first when set), no NUL,
// at most auditd's line length.
func FuzzWrite(f *testing.F) {
	f.Add(uint16(1300), []byte("audit(1795748077.758:293920): arch=c000003e syscall=59 success=yes exit=0"), false)
	f.Add(uint16(1309), []byte("audit(1795748077.758:293920): argc=3 a0=\"bash\"\x00"), true)
	f.Add(uint16(1338), []byte("audit(1.000:2): multi\nline\n\n"), false)
	f.Add(uint16(0), []byte{}, true)
	f.Add(uint16(65535), []byte("\x00\x00"), false)
	f.Add(uint16(1107), []byte("audit(1.000:2): msg='x   '  \n"), true)
	f.Add(uint16(1309), bytes.Repeat([]byte("a\n"), 6000), true)

	// Real files, bounded (1 MiB, one rotated file kept) however long
	// the fuzzing; what each Write+Flush took is read from the copy.
	m := &faultLog{}
	w, err := openWith(Config{Path: filepath.Join(f.TempDir(), "audit.log"), FlushEvery: time.Hour, MaxFileSize: 1 << 20, NumLogs: 2, TypeName: typeName309(f)}, m.open)
	if err != nil {
		f.Fatal(err)
	}
	mn := &faultLog{}
	wn, err := openWith(Config{Path: filepath.Join(f.TempDir(), "audit.log"), FlushEvery: time.Hour, MaxFileSize: 1 << 20, NumLogs: 2, Node: "fuzz-node", TypeName: typeName309(f)}, mn.open)
	if err != nil {
		f.Fatal(err)
	}
	tn := names309(f)
	f.Fuzz(func(t *testing.T, typ uint16, payload []byte, withNode bool) {
		w, m, prefix, limit := w, m, "", maxLine
		if withNode {
			w, m, prefix, limit = wn, mn, "node=fuzz-node ", maxLineNode
		}
		m.taken()
		if err := w.Write(typ, payload); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		line := m.taken()
		if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
			t.Fatalf("type %d payload %q: not exactly one line: %q", typ, payload, line)
		}
		if want := prefix + "type=" + tn.name(typ) + " msg="; !strings.HasPrefix(line, want) {
			t.Fatalf("line %q does not start with %q", line, want)
		}
		if strings.IndexByte(line, 0) >= 0 {
			t.Fatalf("NUL in line %q", line)
		}
		if len(line)-1 > limit {
			t.Fatalf("line of %d bytes, auditd writes at most %d", len(line)-1, limit)
		}
		if line != string(tn.appendLine(nil, strings.TrimSuffix(strings.TrimPrefix(prefix, "node="), " "), typ, payload)) {
			t.Fatalf("writer and appendLine differ")
		}
	})
}
