package output

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/lineaged/lineaged/event"
)

func TestWriterLines(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	var want []byte
	for _, tc := range goldenCases {
		if err := w.Write(tc.ev); err != nil {
			t.Fatal(err)
		}
		want = append(AppendJSON(want, tc.ev), '\n')
	}
	if out.Len() != 0 {
		t.Errorf("%d bytes written before Flush of a small buffer", out.Len())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("output differs\n got: %s\nwant: %s", out.Bytes(), want)
	}
	if got := w.Count(); got != uint64(len(goldenCases)) {
		t.Errorf("Count = %d, want %d", got, len(goldenCases))
	}
	lines := bytes.Split(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\n"))
	if len(lines) != len(goldenCases) {
		t.Fatalf("%d lines, want %d", len(lines), len(goldenCases))
	}
	for _, l := range lines {
		decodeLine(t, l)
	}
	if err := w.Flush(); err != nil || out.Len() != len(want) {
		t.Errorf("second Flush: err %v, %d bytes (want %d)", err, out.Len(), len(want))
	}
}

// chunkWriter records the size of each Write and fails the test on a
// chunk that does not end a line.
type chunkWriter struct {
	t      *testing.T
	out    bytes.Buffer
	chunks int
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	if len(p) == 0 || p[len(p)-1] != '\n' {
		c.t.Errorf("write %d of %d bytes does not end a line", c.chunks, len(p))
	}
	c.chunks++
	return c.out.Write(p)
}

func TestWriterWholeLines(t *testing.T) {
	cw := &chunkWriter{t: t}
	w := NewWriter(cw)
	big := &event.Event{Message: string(bytes.Repeat([]byte("x"), 3*flushAt))}
	const n = 2000
	for i := range n {
		ev := goldenCases[i%len(goldenCases)].ev
		if i == n/2 {
			ev = big
		}
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if cw.chunks < 2 {
		t.Errorf("%d writes: the buffer never filled", cw.chunks)
	}
	if got := bytes.Count(cw.out.Bytes(), []byte("\n")); got != n || w.Count() != n {
		t.Errorf("%d lines, Count %d, want %d", got, w.Count(), n)
	}
	if cap(w.buf) > keepCap {
		t.Errorf("buffer kept %d bytes of capacity after a flush", cap(w.buf))
	}
}

type failWriter struct {
	n   int
	err error
}

func (f *failWriter) Write(p []byte) (int, error) { return min(f.n, len(p)), f.err }

func TestWriterErrors(t *testing.T) {
	ev := goldenCases[0].ev
	boom := errors.New("disk full")
	for _, tc := range []struct {
		name string
		w    io.Writer
		want error
	}{
		{"error", &failWriter{n: 10, err: boom}, boom},
		{"short write", &failWriter{n: 10}, io.ErrShortWrite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWriter(tc.w)
			if err := w.Write(ev); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); !errors.Is(err, tc.want) {
				t.Fatalf("Flush: %v, want %v", err, tc.want)
			}
			// Sticky.
			if err := w.Write(ev); !errors.Is(err, tc.want) {
				t.Errorf("Write after failure: %v", err)
			}
			if err := w.Flush(); !errors.Is(err, tc.want) {
				t.Errorf("second Flush: %v", err)
			}
			if w.Count() != 1 {
				t.Errorf("Count = %d, want 1", w.Count())
			}
		})
	}
}

func TestWriterNilEvent(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	if err := w.Write(nil); err == nil {
		t.Error("Write(nil) succeeded")
	}
	if err := w.Flush(); err != nil || out.Len() != 0 || w.Count() != 0 {
		t.Errorf("after Write(nil): err %v, %d bytes, Count %d", err, out.Len(), w.Count())
	}
}

func TestWriterAllocs(t *testing.T) {
	w := NewWriter(io.Discard)
	ev := goldenCases[0].ev
	n := testing.AllocsPerRun(1000, func() {
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("%v allocs per Write, want 0", n)
	}
}
