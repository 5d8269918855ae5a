//go:build linux

package fanotify

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// These tests fake the kernel at the message level: the group's fd is a
// pipe the test writes fanotify events into, with real file descriptors
// in them, so filtering, path resolution and fd hygiene run unprivileged.

func fakeWatcher(t *testing.T, res Resolved, broad bool, caps Caps) (*Watcher, int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	w := &Watcher{
		wake: wake, pathBuf: make([]byte, unix.PathMax+1), match: newMatcher(res),
		inodes: map[fileID]bool{}, self: os.Getpid(), caps: caps,
	}
	for _, tg := range res.Targets {
		w.allOps |= tg.Ops
		if !tg.Dir {
			var st unix.Stat_t
			if unix.Stat(tg.Real, &st) == nil {
				w.inodes[fileID{uint64(st.Dev), uint64(st.Ino)}] = true
			}
		}
	}
	w.groups = []*group{{fd: p[0], broad: broad, mounts: map[[2]int32][]mountRef{}}}
	w.pfds = []unix.PollFd{{Fd: int32(wake), Events: unix.POLLIN}, {Fd: int32(p[0]), Events: unix.POLLIN}}
	t.Cleanup(func() {
		w.Close()
		unix.Close(p[1])
	})
	return w, p[1]
}

// openFD opens path for the fake kernel to hand over as an event fd.
func openFD(t *testing.T, path string) int32 {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return int32(fd)
}

func isOpen(fd int32) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return !errors.Is(err, unix.EBADF)
}

func write(t *testing.T, fd int, b []byte) {
	t.Helper()
	if n, err := unix.Write(fd, b); err != nil || n != len(b) {
		t.Fatalf("write %d of %d: %v", n, len(b), err)
	}
}

func TestReadFiltersAndClosesEveryFD(t *testing.T) {
	for _, broad := range []bool{false, true} {
		dir, _ := filepath.EvalSymlinks(t.TempDir())
		watched := filepath.Join(dir, "watched")
		own := filepath.Join(dir, "own.log")
		bin := filepath.Join(dir, "tool")
		outside := filepath.Join(dir, "sub", "outside")
		for p, mode := range map[string]os.FileMode{watched: 0o644, own: 0o644, bin: 0o755, outside: 0o644} {
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, nil, mode); err != nil {
				t.Fatal(err)
			}
		}
		res := Resolved{
			Targets: []Target{{Path: dir, Real: dir, Dir: true, Ops: OpOpen | OpModify | OpCloseWrite | OpExec, Class: "t"}},
			Exclude: []string{own},
		}
		w, kernel := fakeWatcher(t, res, broad, Caps{OpenExec: true})
		const child = 4242
		fds := []int32{openFD(t, watched), openFD(t, own), openFD(t, watched), openFD(t, outside), openFD(t, bin)}
		var buf []byte
		buf = append(buf, meta(fanQOverflow, fanNoFD, 0, nil)...)
		buf = append(buf, meta(fanOpen, fds[0], int32(os.Getpid()), nil)...) // our own open
		buf = append(buf, meta(fanCloseWrite, fds[1], child, nil)...)        // excluded path
		buf = append(buf, meta(fanOpen|fanModify, fds[2], child, nil)...)    // reported
		buf = append(buf, meta(fanModify, fds[3], child, nil)...)            // below the directory
		buf = append(buf, meta(fanOpen|fanOpenExec, fds[4], child, nil)...)  // an exec
		buf = append(buf, meta(fanCloseWrite, fanNoFD, child, nil)...)       // no fd: unresolvable
		write(t, kernel, buf)

		got, err := w.Read(make([]byte, MinReadBuffer))
		if err != nil {
			t.Fatal(err)
		}
		for i, fd := range fds {
			if isOpen(fd) {
				t.Errorf("broad=%v: event fd %d (#%d) left open", broad, fd, i)
			}
		}
		want := []Event{
			{Mask: fanQOverflow, Overflow: true, Overflows: 1},
			{Mask: fanOpen | fanModify, Ops: OpOpen | OpModify, PID: child, Path: watched, Class: "t"},
			{Mask: fanOpen | fanOpenExec, Ops: OpExec, PID: child, Path: bin, Class: "t"},
		}
		if !broad {
			// An inode-marked group's events are all in scope, even when
			// the path says otherwise (a hard link, another namespace),
			// and even without a path.
			want = []Event{want[0], want[1],
				{Mask: fanModify, Ops: OpModify, PID: child, Path: outside},
				want[2],
				{Mask: fanCloseWrite, Ops: OpCloseWrite, PID: child},
			}
		}
		for i := range got {
			got[i].Time = time.Time{}
		}
		if len(got) != len(want) {
			t.Fatalf("broad=%v: got %s", broad, describe(got))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("broad=%v: event %d\n got %+v\nwant %+v", broad, i, got[i], want[i])
			}
		}
		s := w.Stats()
		wantOut := uint64(0)
		if broad {
			wantOut = 1
		}
		if s.Self != 1 || s.Excluded != 1 || s.Overflows != 1 || s.Unresolved != 1 || s.OutOfScope != wantOut {
			t.Errorf("broad=%v: stats %+v", broad, s)
		}
	}
}

func TestReadExecFallback(t *testing.T) {
	dir, _ := filepath.EvalSymlinks(t.TempDir())
	bin, plain := filepath.Join(dir, "tool"), filepath.Join(dir, "notes")
	os.WriteFile(bin, nil, 0o755)
	os.WriteFile(plain, nil, 0o644)
	res := Resolved{Targets: []Target{{Path: dir, Real: dir, Dir: true, Ops: OpExec | OpCloseWrite}}}
	// Before 5.0 the exec watch asked for FAN_OPEN.
	w, kernel := fakeWatcher(t, res, false, Caps{})
	write(t, kernel, append(meta(fanOpen, openFD(t, plain), 7, nil), meta(fanOpen, openFD(t, bin), 8, nil)...))
	got, err := w.Read(make([]byte, MinReadBuffer))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Path != bin || got[0].Ops != OpOpen || got[0].PID != 8 {
		t.Errorf("got %s", describe(got))
	}
}

func TestReadMalformed(t *testing.T) {
	dir := t.TempDir()
	w, kernel := fakeWatcher(t, Resolved{Targets: []Target{{Real: dir, Dir: true, Ops: OpAll}}}, false, Caps{})
	write(t, kernel, rawMeta(0, 3, 24))
	_, err := w.Read(make([]byte, MinReadBuffer))
	if !errors.Is(err, errEventLen) || w.Stats().Malformed != 1 {
		t.Errorf("err %v, stats %+v", err, w.Stats())
	}
	var op *OpError
	if !errors.As(err, &op) || op.Op != "decode" {
		t.Errorf("error %v is not a decode OpError", err)
	}
}

func TestReadShortBuffer(t *testing.T) {
	w, _ := fakeWatcher(t, Resolved{}, false, Caps{})
	if _, err := w.Read(make([]byte, 100)); !errors.Is(err, errShortBuffer) {
		t.Errorf("err %v", err)
	}
}

func TestCloseUnblocksRead(t *testing.T) {
	w, _ := fakeWatcher(t, Resolved{}, false, Caps{})
	done := make(chan error, 1)
	go func() {
		_, err := w.Read(make([]byte, MinReadBuffer))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Read: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watchdog: Close did not unblock Read")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestFIDResolutionUnprivileged drives the fid path with a handle of a
// real directory; open_by_handle_at needs CAP_DAC_READ_SEARCH, so it
// checks the answer against the privilege the test has.
func TestFIDResolution(t *testing.T) {
	dir, _ := filepath.EvalSymlinks(t.TempDir())
	h, _, err := unix.NameToHandleAt(unix.AT_FDCWD, dir, 0)
	if err != nil {
		t.Skipf("no file handles here: %v", err)
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil {
		t.Fatal(err)
	}
	res := Resolved{Targets: []Target{{Path: dir, Real: dir, Dir: true, Ops: OpAll, Class: "t"}}}
	w, kernel := fakeWatcher(t, res, false, Caps{ReportFID: true, ReportDirName: true, OpenExec: true})
	g := w.groups[0]
	g.fid, g.dirName = true, true
	w.addMount(g, dir)
	rec := fidRecord(fanEventInfoTypeDFIDName, sfs.Fsid.Val, h.Type(), h.Bytes(), "passwd")
	bad := fidRecord(fanEventInfoTypeDFIDName, [2]int32{-1, -1}, h.Type(), h.Bytes(), "x") // unknown filesystem
	write(t, kernel, append(meta(fanCloseWrite, fanNoFD, 9, rec), meta(fanCloseWrite, fanNoFD, 10, bad)...))
	got, err := w.Read(make([]byte, MinReadBuffer))
	if err != nil {
		t.Fatal(err)
	}
	wantPath := filepath.Join(dir, "passwd")
	if handlesUsable([]string{dir}) != nil {
		wantPath = "" // unprivileged: the handle cannot be opened
	}
	if len(got) != 2 || got[0].Path != wantPath || got[0].PID != 9 || got[1].Path != "" {
		t.Errorf("got %s", describe(got))
	}
}
