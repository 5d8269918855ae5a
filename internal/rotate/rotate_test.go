package rotate

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
)

// fault makes the writes of the files it opens fail on demand, as a disk
// that fills does: failAfter more bytes are taken, then err (also in the
// middle of a line). The files are real ones, so rotation, truncation
// and modes are the kernel's.
type fault struct {
	mu        sync.Mutex
	err       error // nil: writes succeed
	failAfter int
	truncErr  error // returned by Truncate
	openErr   error // returned by the next opens
	opens     int
}

func (c *fault) set(after int, err error) {
	c.mu.Lock()
	c.failAfter, c.err = after, err
	c.mu.Unlock()
}

type faultFile struct {
	*os.File
	c *fault
}

func (f faultFile) Write(b []byte) (int, error) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if f.c.err == nil {
		return f.File.Write(b)
	}
	n, err := f.File.Write(b[:min(len(b), f.c.failAfter)])
	f.c.failAfter -= n
	if err == nil && n < len(b) {
		err = f.c.err
	}
	return n, err
}

func (f faultFile) Truncate(size int64) error {
	f.c.mu.Lock()
	err := f.c.truncErr
	f.c.mu.Unlock()
	if err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func (c *fault) open(name string, flag int, perm fs.FileMode) (OSFile, error) {
	c.mu.Lock()
	c.opens++
	err := c.openErr
	c.mu.Unlock()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return faultFile{f, c}, nil
}

func openT(t *testing.T, cfg Config) *File {
	t.Helper()
	r, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func write(t *testing.T, r *File, s string) {
	t.Helper()
	if n, err := r.Write([]byte(s)); err != nil || n != len(s) {
		t.Fatalf("Write(%q) = %d, %v", s, n, err)
	}
}

// logTo is a logger whose entries land in buf, one JSON object a line.
func logTo(buf *bytes.Buffer) zerolog.Logger { return zerolog.New(buf) }

// TestRotationOrder: with MaxSize a file is rotated before the write that
// would pass it, so each file holds whole lines, at most MaxSize bytes;
// path.1 is the newest rotated file; Keep files are kept and the oldest
// lines go; together the files are the tail of what was written, in
// order. Rotated files are read-only, the current one has Mode.
func TestRotationOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log", "events.jsonl")
	r := openT(t, Config{Path: path, MaxSize: 100, Keep: 2, Mode: 0o640})
	var all strings.Builder
	for i := range 20 {
		line := fmt.Sprintf("{\"n\":%d,\"pad\":\"xxxxxxxxxx\"}\n", i) // ~30 bytes
		all.WriteString(line)
		write(t, r, line)
	}
	cur, one, two := read(t, path), read(t, path+".1"), read(t, path+".2")
	if _, err := os.Stat(path + ".3"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("keep 2, but %s.3 exists", path)
	}
	for name, b := range map[string]string{"current": cur, ".1": one, ".2": two} {
		if len(b) == 0 || len(b) > 100 || !strings.HasSuffix(b, "\n") {
			t.Errorf("%s holds %d bytes %q, want 1..100 of whole lines", name, len(b), b)
		}
	}
	if kept := two + one + cur; !strings.HasSuffix(all.String(), kept) || len(kept) < 200 {
		t.Errorf("kept files are not the tail of what was written, in order:\n%s", kept)
	}
	for f, want := range map[string]fs.FileMode{path: 0o640, path + ".1": 0o440, path + ".2": 0o440} {
		if got := perm(t, f); got != want {
			t.Errorf("%s mode %v, want %v", f, got, want)
		}
	}
	if got := perm(t, filepath.Dir(path)); got != 0o750 {
		t.Errorf("directory mode %v, want 0750", got)
	}
	if r.Rotations() < 5 || r.Size() != int64(len(cur)) {
		t.Errorf("rotations %d, size %d (file %d)", r.Rotations(), r.Size(), len(cur))
	}
}

// TestRotateNow: Rotate rotates an empty or small file too; Keep 0 never
// rotates (auditd's num_logs 1), by size (Open refuses MaxSize without
// Keep) or when told.
func TestRotateNow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	r := openT(t, Config{Path: path, Keep: 3})
	write(t, r, "a\n")
	for range 4 {
		if err := r.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	write(t, r, "b\n")
	// a went .1 → .2 → .3 and then out: four rotations, three kept.
	if got := read(t, path); got != "b\n" {
		t.Errorf("current %q", got)
	}
	for _, n := range []string{".1", ".2", ".3"} {
		if got := read(t, path+n); got != "" {
			t.Errorf("%s holds %q, want the empty files of the later rotations", n, got)
		}
	}
	if r.Rotations() != 4 {
		t.Errorf("%d rotations", r.Rotations())
	}

	p0 := filepath.Join(dir, "never.log")
	r0 := openT(t, Config{Path: p0})
	write(t, r0, strings.Repeat("x", 100)+"\n")
	if err := r0.Rotate(); err != nil {
		t.Fatal(err)
	}
	if names, _ := filepath.Glob(p0 + "*"); len(names) != 1 || r0.Rotations() != 0 {
		t.Errorf("Keep 0 rotated: %v", names)
	}
	if _, err := Open(Config{Path: p0, MaxSize: 10}); err == nil || !strings.Contains(err.Error(), "Keep") {
		t.Errorf("MaxSize without Keep: %v", err)
	}
}

// TestReopenAfterRename: logrotate renames the file; lines go on to the
// renamed file until Reopen, then to a new file at the path, with Mode.
func TestReopenAfterRename(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	r := openT(t, Config{Path: path, Mode: 0o640})
	write(t, r, "a\n")
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	write(t, r, "b\n")
	if err := r.Reopen(); err != nil {
		t.Fatal(err)
	}
	write(t, r, "c\n")
	if old, cur := read(t, path+".old"), read(t, path); old != "a\nb\n" || cur != "c\n" {
		t.Fatalf("old %q, new %q", old, cur)
	}
	if got := perm(t, path); got != 0o640 {
		t.Errorf("mode %v, want 0640", got)
	}
	if r.Size() != 2 {
		t.Errorf("size %d after reopen, want 2", r.Size())
	}
}

// TestRotateWhenPathGone: the file was moved away by hand: a rotation
// starts a new file at the path and leaves the moved one as it is.
func TestRotateWhenPathGone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	r := openT(t, Config{Path: path, Keep: 2, Mode: 0o600})
	write(t, r, "a\n")
	os.Rename(path, path+".moved")
	if err := r.Rotate(); err != nil {
		t.Fatal(err)
	}
	write(t, r, "b\n")
	if read(t, path+".moved") != "a\n" || read(t, path) != "b\n" || perm(t, path+".moved") != 0o600 {
		t.Errorf("moved %q (mode %v), current %q", read(t, path+".moved"), perm(t, path+".moved"), read(t, path))
	}
	if _, err := os.Stat(path + ".1"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf(".1 made from nothing: %v", err)
	}
}

// TestFailingWriteDropsWholeLines: the disk fills in the middle of a batch
// (ENOSPC after a few bytes): the partial line is taken back, the batch's
// lines are counted, Write reports success (the pipeline goes on), the
// failure is logged once; when the disk has room again writing resumes,
// said once, and the file holds only whole lines.
func TestFailingWriteDropsWholeLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	var logs bytes.Buffer
	c := &fault{}
	r := openT(t, Config{Path: path, Log: logTo(&logs), OpenFile: c.open})
	write(t, r, "one\n")
	c.set(5, syscall.ENOSPC)
	write(t, r, "two\nthree\n") // 5 bytes reach the disk, then ENOSPC
	write(t, r, "four\n")       // no room at all
	if n, failing := r.Dropped(); n != 3 || !failing {
		t.Errorf("Dropped() = %d, %v, want 3, true", n, failing)
	}
	if got := read(t, path); got != "one\n" {
		t.Errorf("file %q, want the partial write taken back", got)
	}
	c.set(0, nil)
	write(t, r, "five\n")
	if n, failing := r.Dropped(); n != 3 || failing {
		t.Errorf("after recovery Dropped() = %d, %v", n, failing)
	}
	if got := read(t, path); got != "one\nfive\n" || r.Size() != int64(len(got)) {
		t.Errorf("file %q, size %d", got, r.Size())
	}
	ls := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(ls) != 2 || !strings.Contains(ls[0], `"level":"warn"`) || !strings.Contains(ls[0], "no space left on device") ||
		!strings.Contains(ls[0], path) || !strings.Contains(ls[1], `"level":"info"`) || !strings.Contains(ls[1], `"dropped_lines":3`) {
		t.Errorf("log, want one warning and one recovery:\n%s", logs.String())
	}
}

// TestDevFull: the kernel's own ENOSPC, from /dev/full, takes the same
// path: counted, never returned.
func TestDevFull(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	r := openT(t, Config{Path: path, OpenFile: func(name string, flag int, perm fs.FileMode) (OSFile, error) {
		f, err := os.OpenFile(name, flag, perm)
		if err != nil {
			return nil, err
		}
		return devFull{f, full}, nil
	}})
	write(t, r, "a\nb\n")
	if n, failing := r.Dropped(); n != 2 || !failing {
		t.Errorf("Dropped() = %d, %v", n, failing)
	}
	rr := openT(t, Config{Path: path + ".retained", Retain: true, OpenFile: func(name string, flag int, perm fs.FileMode) (OSFile, error) {
		f, err := os.OpenFile(name, flag, perm)
		if err != nil {
			return nil, err
		}
		return devFull{f, full}, nil
	}})
	if _, err := rr.Write([]byte("a\n")); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Retain: %v, want ENOSPC", err)
	}
}

// devFull is a real file whose writes go to /dev/full.
type devFull struct {
	*os.File
	full *os.File
}

func (d devFull) Write(b []byte) (int, error) { return d.full.Write(b) }

// TestRetain: with Retain a failed write returns its error, leaves nothing
// of the lines in the file and counts nothing; the caller writes them
// again once the disk has room.
func TestRetain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	c := &fault{}
	r := openT(t, Config{Path: path, Retain: true, OpenFile: c.open})
	c.set(3, syscall.EDQUOT)
	n, err := r.Write([]byte("first\nsecond\n"))
	if n != 0 || !errors.Is(err, syscall.EDQUOT) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Write = %d, %v; want 0 and an EDQUOT naming the file", n, err)
	}
	if got := read(t, path); got != "" {
		t.Errorf("file %q after a failed write", got)
	}
	if d, failing := r.Dropped(); d != 0 || !failing {
		t.Errorf("Dropped() = %d, %v", d, failing)
	}
	c.set(0, nil)
	write(t, r, "first\nsecond\n")
	if got := read(t, path); got != "first\nsecond\n" {
		t.Errorf("file %q", got)
	}
}

// TestTornLine: when the partial write cannot be taken back (truncate
// fails), the next write ends the torn line first, so its own lines are
// whole and start a line.
func TestTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	c := &fault{truncErr: syscall.EIO}
	r := openT(t, Config{Path: path, OpenFile: c.open})
	c.set(3, syscall.ENOSPC)
	write(t, r, "abcdef\n")
	c.set(0, nil)
	write(t, r, "next\n")
	if got := read(t, path); got != "abc\nnext\n" {
		t.Errorf("file %q, want the torn line ended before the next", got)
	}
}

// TestOpenFailsAfterRotation: the renames succeed but a new file cannot be
// opened (EMFILE, say): the renamed file is written on to, nothing is
// lost, and the next Write that can open the path finishes the rotation.
func TestOpenFailsAfterRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	c := &fault{}
	r := openT(t, Config{Path: path, Keep: 2, OpenFile: c.open})
	write(t, r, "a\n")
	c.openErr = syscall.EMFILE
	if err := r.Rotate(); !errors.Is(err, syscall.EMFILE) || !strings.Contains(err.Error(), path+".1") {
		t.Fatalf("Rotate: %v", err)
	}
	write(t, r, "b\n")
	if got := read(t, path+".1"); got != "a\nb\n" {
		t.Errorf(".1 %q", got)
	}
	c.openErr = nil
	write(t, r, "c\n")
	if got := read(t, path); got != "c\n" || r.Rotations() != 1 {
		t.Errorf("current %q, %d rotations", got, r.Rotations())
	}
	if _, err := os.Stat(path + ".2"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the pending rotation shifted again: %v", err)
	}
}

// TestRotationFailureLoggedOnce: rotation by size that cannot rename
// (path.1 is a directory, which even root cannot rename a file over)
// writes on to the current file and says so once; once the way is clear
// it rotates again, and says that once.
func TestRotationFailureLoggedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	var logs bytes.Buffer
	r := openT(t, Config{Path: path, MaxSize: 10, Keep: 1, Log: logTo(&logs)})
	os.MkdirAll(filepath.Join(path+".1", "busy"), 0o700)
	for range 5 {
		write(t, r, "0123456789\n")
	}
	if got := read(t, path); len(got) != 55 {
		t.Errorf("file holds %d bytes, want all 55", len(got))
	}
	if n := strings.Count(logs.String(), "rotation failed"); n != 1 || r.Rotations() != 0 {
		t.Errorf("%d warnings, %d rotations:\n%s", n, r.Rotations(), logs.String())
	}
	os.RemoveAll(path + ".1")
	write(t, r, "0123456789\n")
	if got := read(t, path); got != "0123456789\n" || len(read(t, path+".1")) != 55 {
		t.Errorf("after the way cleared: current %q", got)
	}
	if n := strings.Count(logs.String(), "rotating again"); n != 1 {
		t.Errorf("recovery said %d times:\n%s", n, logs.String())
	}
}

// TestOpenRefuses: a symbolic link (not followed), a directory, a FIFO;
// an existing file gets Mode.
func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, nil, 0o644)
	os.Symlink(target, filepath.Join(dir, "link"))
	os.Mkdir(filepath.Join(dir, "dir"), 0o700)
	syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600)
	for name, want := range map[string]string{"link": "symbolic link", "dir": "directory", "fifo": "not a regular file"} {
		p := filepath.Join(dir, name)
		r, err := Open(Config{Path: p})
		if err == nil {
			r.Close()
			t.Errorf("%s opened", name)
			continue
		}
		if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q and the path", name, err, want)
		}
	}
	if _, err := Open(Config{}); err == nil {
		t.Error("no path accepted")
	}
	r := openT(t, Config{Path: target, Mode: 0o640})
	if got := perm(t, target); got != 0o640 {
		t.Errorf("existing file mode %v, want 0640", got)
	}
	r.Close()
}

// TestRemoveExcess: auditd's check_excess_logs: with RemoveExcess, rotated
// files past Keep go, up to the first gap; without, none.
func TestRemoveExcess(t *testing.T) {
	for _, remove := range []bool{true, false} {
		dir := t.TempDir()
		path := filepath.Join(dir, "audit.log")
		for _, n := range []string{"", ".1", ".4", ".5", ".6", ".8"} {
			os.WriteFile(path+n, []byte("x\n"), 0o400)
		}
		r := openT(t, Config{Path: path, Keep: 4, RemoveExcess: remove})
		r.Close()
		for n, kept := range map[string]bool{".1": true, ".4": true, ".5": !remove, ".6": !remove, ".8": true} {
			if _, err := os.Stat(path + n); (err == nil) != kept {
				t.Errorf("RemoveExcess %v: %s exists %v, want %v", remove, n, err == nil, kept)
			}
		}
	}
}

// TestClose: Close is idempotent; everything after it is ErrClosed.
func TestClose(t *testing.T) {
	r := openT(t, Config{Path: filepath.Join(t.TempDir(), "x.log"), Keep: 1})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.Write([]byte("x\n")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write: %v", err)
	}
	for name, f := range map[string]func() error{"Rotate": r.Rotate, "Reopen": r.Reopen, "Sync": r.Sync} {
		if err := f(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestConcurrent: writers and rotations from several goroutines never
// split or lose a line (run with -race).
func TestConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	r := openT(t, Config{Path: path, MaxSize: 4000, Keep: 100})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				write(t, r, fmt.Sprintf("g%d-%03d-%s\n", g, i, strings.Repeat("x", 40)))
			}
		})
	}
	wg.Go(func() {
		for range 10 {
			r.Rotate()
		}
	})
	wg.Wait()
	r.Close()
	names, _ := filepath.Glob(path + "*")
	seen := map[string]bool{}
	for _, n := range names {
		for _, l := range strings.Split(strings.TrimSuffix(read(t, n), "\n"), "\n") {
			if l == "" {
				continue
			}
			if len(l) != 47 || seen[l] {
				t.Fatalf("%s: line %q split or twice", n, l)
			}
			seen[l] = true
		}
	}
	if len(seen) != 800 {
		t.Errorf("%d lines kept of 800", len(seen))
	}
}
