package report

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"os"
	"reflect"
	"strconv"
	"testing"

	"github.com/lineaged/lineaged/event"
)

// TestReadsBeforeAndAfterRenames: the replay golden file as lineaged wrote
// it before the ECS renames (testdata/pre-ecs.golden.jsonl, full ancestry
// under process.*) and as it writes it now (compact lineaged.ancestry,
// lineaged.file.operation, ...) read into the same Docs, line by line, for
// every member the report's code uses.
func TestReadsBeforeAndAfterRenames(t *testing.T) {
	old := readDocs(t, "testdata/pre-ecs.golden.jsonl")
	cur := readDocs(t, "../testdata/sample/audit.log.golden.jsonl")
	if len(old) != len(cur) || len(old) < 100 {
		t.Fatalf("%d lines before, %d after", len(old), len(cur))
	}
	var ancestors, ops int
	for i := range old {
		o, c := old[i], cur[i]
		newIDs(&o)
		if c.Category() == event.CategoryProcess && len(c.Event.Type) == 1 && c.Event.Type[0] == event.TypeEnd {
			// A process's end is written terse now: its exec line has
			// the chain; the parent is named by id.
			if (o.Process.Parent == nil) != (c.Process.Parent == nil) || o.Process.Parent != nil && o.Process.Parent.EntityID != c.Process.Parent.EntityID {
				t.Errorf("line %d: parent %+v before, %+v after", i+1, o.Process.Parent, c.Process.Parent)
			}
			continue
		}
		if len(o.Process.Ancestry) != len(c.Process.Ancestry) {
			t.Fatalf("line %d: ancestry of %d before, %d after", i+1, len(o.Process.Ancestry), len(c.Process.Ancestry))
		}
		for j := range o.Process.Ancestry {
			a, b := o.Process.Ancestry[j], c.Process.Ancestry[j]
			if a.EntityID != b.EntityID || a.PID != b.PID || a.Unknown != b.Unknown {
				t.Errorf("line %d ancestor %d: %+v before, %+v after", i+1, j, a, b)
			}
			if j == 0 && !reflect.DeepEqual(a, b) {
				t.Errorf("line %d parent: %+v before, %+v after", i+1, a, b)
			}
			if j > 0 && a.Executable != b.Executable {
				t.Errorf("line %d ancestor %d: executable %q before, %q after", i+1, j, a.Executable, b.Executable)
			}
			ancestors++
		}
		if (o.File == nil) != (c.File == nil) || o.File != nil && *o.File != *c.File {
			t.Errorf("line %d: file %+v before, %+v after", i+1, o.File, c.File)
		} else if o.File != nil && o.File.Operation != "" {
			ops++
		}
		if (o.Process.Parent == nil) != (c.Process.Parent == nil) || o.Process.Parent != nil && o.Process.Parent.Unknown != c.Process.Parent.Unknown {
			t.Errorf("line %d: parent %+v before, %+v after", i+1, o.Process.Parent, c.Process.Parent)
		}
		if o.Process.EntityID != c.Process.EntityID || o.Process.Executable != c.Process.Executable || !reflect.DeepEqual(o.Process.Args, c.Process.Args) || o.User.ID != c.User.ID {
			t.Errorf("line %d: process or user differ", i+1)
		}
	}
	if ancestors == 0 || ops == 0 {
		t.Errorf("compared %d ancestors and %d file operations: the files lost them", ancestors, ops)
	}
}

// newIDs rewrites an old line's entity ids (16 hex digits) as lineaged
// writes the same numbers now (11 characters of URL-safe base64).
func newIDs(d *Doc) {
	conv := func(id string) string {
		n, err := strconv.ParseUint(id, 16, 64)
		if err != nil || len(id) != 16 {
			return id
		}
		return base64.RawURLEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, n))
	}
	d.Process.EntityID = conv(d.Process.EntityID)
	if p := d.Process.Parent; p != nil {
		p.EntityID = conv(p.EntityID)
	}
	for i := range d.Process.Ancestry {
		d.Process.Ancestry[i].EntityID = conv(d.Process.Ancestry[i].EntityID)
	}
}

func readDocs(t *testing.T, name string) []Doc {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Doc
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var d Doc
		if err := ParseLine(sc.Bytes(), &d); err != nil {
			t.Fatalf("%s:%d: %v", name, n, err)
		}
		out = append(out, d)
	}
	return out
}
