package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "new" {
		t.Fatalf("content %q, %v", b, err)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 (not the old file's, not the umask's)", fi.Mode().Perm())
	}
	assertNoTemp(t, dir)
}

// TestFailedFillKeepsOld: an error from fill leaves the old file whole and
// no temporary file behind.
func TestFailedFillKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "baseline.jsonl")
	os.WriteFile(p, []byte("old\n"), 0o600)
	boom := errors.New("encoder failed")
	err := Write(p, 0o600, func(w io.Writer) error {
		io.WriteString(w, strings.Repeat("partial ", 100000)) // more than the buffer: reaches the temp file
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want the fill's", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old\n" {
		t.Errorf("old file changed: %d bytes", len(b))
	}
	assertNoTemp(t, dir)
}

// TestErrorsNameThePath: a directory that does not exist is an error that
// names the file being replaced.
func TestErrorsNameThePath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "missing", "x")
	err := WriteFile(p, nil, 0o600)
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("error %v, want one naming %s", err, p)
	}
}

func TestRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := WriteFile("rel", []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "rel")); string(b) != "x" {
		t.Errorf("content %q", b)
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}
