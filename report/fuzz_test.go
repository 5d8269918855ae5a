package report

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"
)

// FuzzReport feeds arbitrary JSON lines through the whole report: the
// reader, both passes, the trees and every format. No input may panic,
// and every line is either read or counted as bad.
func FuzzReport(f *testing.F) {
	p, _ := fixture(f)
	whole, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	// Single lines and small groups: a whole file as one seed makes
	// every new input's minimisation take minutes.
	lines := bytes.Split(whole, []byte{'\n'})
	for i, l := range lines {
		f.Add(l)
		if i+1 < len(lines) && i%3 == 0 {
			f.Add(bytes.Join(lines[i:i+2], []byte{'\n'}))
		}
	}
	f.Add([]byte(`{"@timestamp":"2026-01-01T00:00:00Z","event":{"kind":"alert","severity":9},"process":{"entity_id":"a","ancestry":[{},{"unknown":true}],"parent":{"entity_id":"a"}}}`))
	f.Add([]byte(`{"@timestamp":"2026-01-01T00:00:00Z","lineaged":{"config":{"rules":["-a","-F","-S ,,","-w"],"settings":{"output.max_size":"-1"}}}}`))
	mdDir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		good := -1 // lines the first pass read
		r, err := build(Options{Now: time.Unix(0, 0), MaxRows: 3, MaxTrees: 5, MaxAlerts: 8}, func(fn func(*Doc) error) (*Reader, error) {
			rd, n := &Reader{}, 0
			err := rd.stream("fuzz", bytes.NewReader(data), &Doc{}, func(d *Doc) error { n++; return fn(d) })
			if good < 0 {
				good = n
			}
			return rd, err
		})
		if err != nil {
			t.Fatal(err)
		}
		lines := 0
		for _, l := range bytes.Split(data, []byte{'\n'}) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines++
			}
		}
		if good+r.BadLines != lines {
			t.Fatalf("%d lines: %d read + %d bad", lines, good, r.BadLines)
		}
		if err := HTML(io.Discard, r); err != nil {
			t.Fatal(err)
		}
		if err := JSON(io.Discard, r); err != nil {
			t.Fatal(err)
		}
		if err := Markdown(io.Discard, r, mdDir); err != nil {
			t.Fatal(err)
		}
	})
}
