package spool

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func msgs(from, to int) [][]byte {
	var m [][]byte
	for i := from; i < to; i++ {
		m = append(m, []byte(fmt.Sprintf("<110>1 - - - - event - line %d", i)))
	}
	return m
}

func readAll(t testing.TB, s *Spool) (got [][]byte, corrupt int) {
	t.Helper()
	for {
		m, c, lost, err := s.Read(100)
		if err != nil || lost != 0 {
			t.Fatalf("read: %v, %d lost", err, lost)
		}
		if len(m) == 0 && c == 0 {
			return got, corrupt
		}
		for _, x := range m {
			got = append(got, bytes.Clone(x))
		}
		corrupt += c
	}
}

// Appends across many segments and reads interleaved with them come back
// in order; an emptied spool leaves no segment files.
func TestSpoolOrder(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 64<<10) // 8 KiB segments
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var want, got [][]byte
	for i := 0; i < 20; i++ {
		m := msgs(i*50, i*50+50)
		if n, d, err := s.Append(m); n != 50 || d != 0 || err != nil {
			t.Fatalf("append: %d %d %v", n, d, err)
		}
		want = append(want, m...)
		if i%3 == 0 {
			r, _, _, _ := s.Read(500)
			for _, x := range r {
				got = append(got, bytes.Clone(x))
			}
		}
	}
	if len(s.segs) < 3 {
		t.Fatalf("%d segments, want several", len(s.segs))
	}
	rest, corrupt := readAll(t, s)
	got = append(got, rest...)
	if corrupt != 0 || !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("read back %d messages (%d corrupt), want %d in order", len(got), corrupt, len(want))
	}
	if s.lines != 0 || s.bytes != 0 {
		t.Errorf("empty spool: lines %d bytes %d", s.lines, s.bytes)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*"+segExt)); len(m) != 0 {
		t.Errorf("segments left: %v", m)
	}
}

// Reopening a spool finds its lines; prepend goes before them and takes
// the unread rest of a partly read segment with it.
func TestSpoolReopenPrepend(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	s.Append(msgs(0, 1000))
	r, _, _, _ := s.Read(1) // a chunk of the head: its unread rest must survive
	if len(r) == 0 || s.segs[0].readOff == 0 || s.segs[0].readOff >= s.segs[0].size {
		t.Fatalf("head not partly read: %d read", len(r))
	}
	readSoFar := 1000 - s.lines
	if _, err := s.Prepend(msgs(5000, 5010)); err != nil {
		t.Fatal(err)
	}
	s.Append(msgs(1000, 1010))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := append(msgs(5000, 5010), msgs(readSoFar, 1010)...)
	if s.lines != len(want) {
		t.Errorf("reopened spool counts %d lines, want %d", s.lines, len(want))
	}
	got, corrupt := readAll(t, s)
	if corrupt != 0 || !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("got %d messages (%d corrupt), want %d: first %q", len(got), corrupt, len(want), got[:1])
	}
}

// TestSpoolTempSegments: a prepend interrupted before its rename leaves a
// temporary segment (atomicfile's ".NAME.tmpRANDOM", or the "NAME.tmp"
// of earlier versions); the next open removes it unread, and a prepend
// leaves none and writes its segment 0600.
func TestSpoolTempSegments(t *testing.T) {
	dir := t.TempDir()
	half := appendRecord(nil, []byte("<110>1 - - - - event - half a prepend"))
	temps := []string{
		"." + filepath.Base(segPath(dir, firstSeg-1)) + tmpExt + "123456",
		filepath.Base(segPath(dir, firstSeg-2)) + tmpExt,
	}
	for _, n := range temps {
		os.WriteFile(filepath.Join(dir, n), half, 0o600)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not ours"), 0o600)
	s, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if s.lines != 0 || len(s.segs) != 0 {
		t.Errorf("temporary segments read: %d lines in %d segments", s.lines, len(s.segs))
	}
	for _, n := range temps {
		if _, err := os.Stat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("%s not removed: %v", n, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Errorf("a file that is not the spool's was removed: %v", err)
	}
	if _, err := s.Prepend(msgs(0, 10)); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), tmpExt) {
			t.Errorf("prepend left %s", e.Name())
		}
	}
	st, err := os.Stat(segPath(dir, firstSeg))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("prepended segment: %v, mode %v", err, st.Mode().Perm())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// Damaged records (bad CRC, bad header, an empty line, a torn tail) are
// counted and skipped; the records around them survive.
func TestSpoolCorrupt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	os.MkdirAll(dir, 0o700)
	var b []byte
	b = appendRecord(b, []byte("<110>1 - - - - event - good 0"))
	b = append(b, "deadbeef <110>1 - - - - event - bad crc\n"...)
	b = append(b, "\n"...)
	b = append(b, "zz\n"...)
	b = appendRecord(b, []byte("<110>1 - - - - event - good 1"))
	b = append(appendRecord(b, []byte("<110>1 - - - - event - torn")), 0)
	b = b[:len(b)-6]
	os.WriteFile(segPath(dir, firstSeg), b, 0o600)
	s, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Lines() != 2 || s.Empty() {
		t.Errorf("open counts %d lines (empty %v), want 2", s.Lines(), s.Empty())
	}
	got, corrupt := readAll(t, s)
	if len(got) != 2 || string(got[0]) != "<110>1 - - - - event - good 0" || string(got[1]) != "<110>1 - - - - event - good 1" {
		t.Errorf("got %q", got)
	}
	if corrupt != 4 {
		t.Errorf("corrupt = %d, want 4", corrupt)
	}
	if !s.Empty() || s.Bytes() != 0 {
		t.Errorf("after reading it all: empty %v, %d bytes", s.Empty(), s.Bytes())
	}
}

// A second Open of a spool in use is refused; Close releases it.
func TestSpoolLock(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" {
		if s2, err := Open(dir, 1<<20); err == nil {
			s2.Close()
			t.Error("a second Open of one spool succeeded")
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, 1<<20)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s.Close()
}

// The bound: past max the oldest segments go, counted; messages that
// alone pass it lose their oldest. Sync clears Unsynced.
func TestSpoolBound(t *testing.T) {
	s, err := Open(t.TempDir(), 16<<10) // 2 KiB segments
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	total, dropped := 0, 0
	for i := 0; i < 40; i++ {
		n, d, err := s.Append(msgs(i*20, i*20+20))
		if err != nil {
			t.Fatal(err)
		}
		total, dropped = total+n, dropped+d
		if s.Bytes() > 16<<10 {
			t.Fatalf("spool holds %d bytes, bound 16 KiB", s.Bytes())
		}
	}
	if dropped == 0 || total-dropped != s.Lines() {
		t.Fatalf("appended %d, dropped %d, %d left", total, dropped, s.Lines())
	}
	if !s.Unsynced() {
		t.Error("Unsynced false after appends")
	}
	if err := s.Sync(); err != nil || s.Unsynced() {
		t.Errorf("Sync: %v, unsynced %v", err, s.Unsynced())
	}
	got, _ := readAll(t, s)
	// What is left is the newest, in order.
	want := msgs(800-len(got), 800)
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("left %d messages, not the newest in order", len(got))
	}
	// One append larger than the bound keeps its newest messages.
	big := msgs(0, 1000)
	n, d, err := s.Append(big)
	if err != nil || n+d != 1000 || d == 0 || s.Bytes() > 16<<10 {
		t.Errorf("oversized append: %d written, %d dropped, %v, %d bytes", n, d, err, s.Bytes())
	}
}

// FuzzSpoolRead feeds arbitrary bytes as a spool segment: reading must not
// panic, every message returned must be a whole valid record of the input,
// and every line is either a message or counted corrupt.
func FuzzSpoolRead(f *testing.F) {
	var good []byte
	for _, m := range msgs(0, 5) {
		good = appendRecord(good, m)
	}
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte("00000000 \n\n\nffffffff x\n"))
	f.Add(append(appendRecord(nil, []byte("a")), "e8b7be43 a\nZZZZZZZZ a\n"...))
	f.Add(bytes.Repeat([]byte("x"), 9000))
	dir := f.TempDir() // reused: t.TempDir per input is slower than the test
	f.Fuzz(func(t *testing.T, data []byte) {
		// The parser alone, as one buffer.
		ms, used, corrupt := parseRecords(data, true)
		if used != len(data) {
			t.Fatalf("consumed %d of %d", used, len(data))
		}
		lines := bytes.Count(data, []byte("\n"))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			lines++
		}
		if len(ms)+corrupt != lines {
			t.Fatalf("%d messages + %d corrupt != %d lines", len(ms), corrupt, lines)
		}
		for _, m := range ms {
			if !bytes.Contains(data, appendRecord(nil, m)) {
				t.Fatalf("message %q is no record of the input", m)
			}
		}
		// In small chunks, as the spool reads a segment.
		var cm [][]byte
		cc := 0
		for off, end := int64(0), int64(len(data)); off < end; {
			m, next, c, done, err := readChunk(bytes.NewReader(data), off, end, 7)
			if err != nil {
				t.Fatal(err)
			}
			if next <= off && !done {
				t.Fatalf("no progress at %d", off)
			}
			cm, cc = append(cm, m...), cc+c
			if done {
				break
			}
			off = next
		}
		if cc != corrupt || !slices.EqualFunc(cm, ms, bytes.Equal) {
			t.Fatalf("chunked read: %d messages %d corrupt, whole: %d, %d", len(cm), cc, len(ms), corrupt)
		}
		// Through a spool directory.
		if err := os.WriteFile(segPath(dir, firstSeg), data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if s.lines != len(ms) {
			t.Fatalf("open counted %d lines, parser %d", s.lines, len(ms))
		}
		got, c := readAll(t, s)
		if m, _ := filepath.Glob(filepath.Join(dir, "*"+segExt)); len(m) != 0 {
			t.Fatalf("segment left after reading it all: %v", m)
		}
		if c != corrupt || !slices.EqualFunc(got, ms, bytes.Equal) {
			t.Fatalf("file read: %d messages %d corrupt, parser: %d, %d", len(got), c, len(ms), corrupt)
		}
	})
}
