// Command fuzzseed writes seed corpus entries for Go's native fuzzing from
// real input: each input becomes one file in DIR (testdata/fuzz/FuzzX/ of
// a package) in the "go test fuzz v1" format, named by its content's hash
// so rerunning adds nothing twice. It is how `make fuzz-seeds` turns the
// repository's real logs, rules and configuration into corpora.
//
//	fuzzseed -dir audit/testdata/fuzz/FuzzParse -type bytes -lines 40 testdata/sample/audit.log
//	fuzzseed -dir config/testdata/fuzz/FuzzParse -type bytes config/default.yml
//
// -type is the fuzz function's single argument: bytes ([]byte) or string.
// With -lines N, each of a file's first N distinct-shaped lines (one per
// audit record type or JSON event action) is an entry; with -chunk N, each
// run of N lines; without either, the whole file is one entry.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/lineaged/lineaged/internal/fuzzcorpus"
)

func main() {
	dir := flag.String("dir", "", "corpus directory to write into (created)")
	typ := flag.String("type", "bytes", "the fuzz argument's type: bytes or string")
	lines := flag.Int("lines", 0, "one entry per line of a distinct shape, at most N")
	chunk := flag.Int("chunk", 0, "one entry per N consecutive lines (at most 8 entries)")
	flag.Parse()
	if *dir == "" || flag.NArg() == 0 || (*typ != "bytes" && *typ != "string") {
		fmt.Fprintln(os.Stderr, "usage: fuzzseed -dir DIR [-type bytes|string] [-lines N | -chunk N] FILE...")
		os.Exit(2)
	}
	n := 0
	for _, f := range flag.Args() {
		data, err := os.ReadFile(f)
		if err != nil {
			fail(err)
		}
		var entries []string
		switch {
		case *lines > 0:
			entries = shapes(string(data), *lines)
		case *chunk > 0:
			entries = chunks(string(data), *chunk, 8)
		default:
			entries = []string{string(data)}
		}
		for _, e := range entries {
			if write(*dir, *typ, e) {
				n++
			}
		}
	}
	fmt.Printf("%s: %d new entries\n", *dir, n)
}

var shapeRE = regexp.MustCompile(`^(?:node=\S+ )?type=(\S+)|"action":"([^"]*)"`)

// shapes keeps the first line of each shape: an audit record's type, or
// a JSON line's event.action.
func shapes(s string, max int) []string {
	seen := map[string]bool{}
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && len(out) < max {
		m := shapeRE.FindStringSubmatch(sc.Text())
		key := sc.Text()
		if m != nil {
			key = m[1] + m[2]
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, sc.Text())
		}
	}
	return out
}

func chunks(s string, n, max int) []string {
	ls := strings.SplitAfter(s, "\n")
	var out []string
	for i := 0; i < len(ls) && len(out) < max; i += n {
		j := min(i+n, len(ls))
		out = append(out, strings.Join(ls[i:j], ""))
	}
	return out
}

func write(dir, typ, v string) bool {
	ok, err := fuzzcorpus.Write(dir, []byte(v), typ == "string")
	if err != nil {
		fail(err)
	}
	return ok
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "fuzzseed:", err)
	os.Exit(1)
}
