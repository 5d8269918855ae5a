package agent

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestOutputRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	r, err := openOutput(path, 100, 2, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var all bytes.Buffer
	for i := 0; i < 20; i++ {
		line := fmt.Sprintf("{\"n\":%d,\"pad\":\"xxxxxxxxxx\"}\n", i) // ~30 bytes
		all.WriteString(line)
		if _, err := r.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	cur, _ := os.ReadFile(path)
	one, _ := os.ReadFile(path + ".1")
	two, _ := os.ReadFile(path + ".2")
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("keep 2, but %s.3 exists", path)
	}
	for name, b := range map[string][]byte{"current": cur, ".1": one, ".2": two} {
		if len(b) == 0 || len(b) > 100 {
			t.Errorf("%s holds %d bytes, want 1..100", name, len(b))
		}
		if !bytes.HasSuffix(b, []byte("\n")) {
			t.Errorf("%s does not end on a whole line", name)
		}
	}
	// The newest lines, in order, across the files kept.
	kept := string(two) + string(one) + string(cur)
	if !strings.HasSuffix(all.String(), kept) {
		t.Errorf("kept files are not the tail of what was written, in order:\n%s", kept)
	}
}

func TestOutputReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	r, err := openOutput(path, 0, 5, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Write([]byte("a\n"))
	// logrotate renames; SIGHUP reopens.
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	r.Write([]byte("b\n"))
	if err := r.Reopen(); err != nil {
		t.Fatal(err)
	}
	r.Write([]byte("c\n"))
	old, _ := os.ReadFile(path + ".old")
	cur, _ := os.ReadFile(path)
	if string(old) != "a\nb\n" || string(cur) != "c\n" {
		t.Fatalf("old %q, new %q", old, cur)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
}
