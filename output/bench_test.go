package output

import (
	"encoding/json"
	"io"
	"testing"
)

// The benchmarks encode the "exec" golden event, the largest common line
// (an exec with four ancestors). BenchmarkEncodingJSONMap marshals the same
// document with encoding/json, from the map[string]any that decoding the
// line gives; building that map is not timed, which flatters encoding/json.

func BenchmarkAppendJSON(b *testing.B) {
	for _, tc := range goldenCases {
		if tc.name != "exec" && tc.name != "connect" && tc.name != "file" {
			continue
		}
		b.Run(tc.name, func(b *testing.B) {
			buf := AppendJSON(nil, tc.ev)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendJSON(buf[:0], tc.ev)
			}
		})
	}
}

func BenchmarkEncodingJSONMap(b *testing.B) {
	for _, tc := range goldenCases {
		if tc.name != "exec" && tc.name != "connect" && tc.name != "file" {
			continue
		}
		b.Run(tc.name, func(b *testing.B) {
			line := AppendJSON(nil, tc.ev)
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriter(b *testing.B) {
	w := NewWriter(io.Discard)
	ev := goldenCases[0].ev
	b.SetBytes(int64(len(AppendJSON(nil, ev)) + 1))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(ev); err != nil {
			b.Fatal(err)
		}
	}
}
