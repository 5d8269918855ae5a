//go:build linux

package fanotify

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lineaged/lineaged/feature"
)

// The integration tests run as root against the live kernel. Each one
// marks only directories it created (a temp dir, or a tmpfs it mounted on
// one): never "/", never a real filesystem. Each runs once per legacy
// profile (no profile, 4.15, 4.4, 3.10) unless LINEAGED_KERNEL_PROFILE
// names one, so every fallback runs here.

const deadline = 10 * time.Second

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: fanotify_init needs CAP_SYS_ADMIN")
	}
}

func forEachProfile(t *testing.T, f func(t *testing.T)) {
	requireRoot(t)
	if p := feature.Profile(); p != "" {
		t.Run("profile="+p, f)
		return
	}
	for _, p := range []string{"", "4.15", "4.4", "3.10"} {
		name := "profile=" + p
		if p == "" {
			name = "profile=none"
		}
		t.Run(name, func(t *testing.T) {
			t.Setenv(feature.ProfileEnv, p)
			f(t)
		})
	}
}

// tempDir is t.TempDir with symlinks resolved: the kernel reports real paths.
func tempDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// collector reads a watcher from a goroutine (Read blocks) until Close.
type collector struct {
	w    *Watcher
	ch   chan Event
	done chan error
	once sync.Once
}

func openWatcher(t *testing.T, p Policy) *Watcher {
	t.Helper()
	w, err := Open(p)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Logf("caps %+v", w.Caps())
	for _, m := range w.Marks() {
		t.Logf("mark %s %s fid=%v mask=%#x err=%v", m.Kind, m.Path, m.FID, m.Mask, m.Err)
	}
	for _, n := range w.Notes() {
		t.Logf("note: %s", n)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func collect(t *testing.T, w *Watcher) *collector {
	t.Helper()
	c := &collector{w: w, ch: make(chan Event, 1<<16), done: make(chan error, 1)}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			evs, err := w.Read(buf)
			for _, e := range evs {
				c.ch <- e
			}
			if err != nil {
				if errors.Is(err, ErrClosed) {
					err = nil
				}
				c.done <- err
				return
			}
		}
	}()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop closes the watcher and waits, with a watchdog, for the reader.
func (c *collector) stop(t *testing.T) {
	c.once.Do(func() {
		c.w.Close()
		select {
		case err := <-c.done:
			if err != nil {
				t.Errorf("Read: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("watchdog: Close did not unblock Read within 5s")
		}
	})
}

// waitFor gathers events until done says the set is complete, failing
// the test at the deadline.
func (c *collector) waitFor(t *testing.T, what string, done func([]Event) bool) []Event {
	t.Helper()
	var got []Event
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for !done(got) {
		select {
		case e := <-c.ch:
			got = append(got, e)
		case <-timer.C:
			t.Fatalf("no %s within %v; got %s", what, deadline, describe(got))
		}
	}
	return got
}

func describe(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "\n\tpid %d %s %s (mask %#x)", e.PID, e.Path, e.Ops, e.Mask)
	}
	return b.String()
}

// opsOf is the union of the operations reported for path by pid.
func opsOf(evs []Event, pid int, path string) Op {
	var o Op
	for _, e := range evs {
		if e.PID == pid && e.Path == path {
			o |= e.Ops
		}
	}
	return o
}

// run runs a child to completion and returns its pid.
func run(t *testing.T, name string, args ...string) int {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return cmd.Process.Pid
}

func sh(t *testing.T, script string) int { return run(t, "sh", "-c", script) }

func TestIntegrationChildWrite(t *testing.T) {
	forEachProfile(t, func(t *testing.T) {
		dir := tempDir(t)
		w := openWatcher(t, Policy{Watches: []Watch{{Path: dir, Ops: OpAll, Class: "test"}}})
		c := collect(t, w)
		f := filepath.Join(dir, "F")
		pid := sh(t, "echo x > "+f)
		want := OpOpen | OpModify | OpCloseWrite
		evs := c.waitFor(t, "open, modify and close-write by the child", func(evs []Event) bool {
			return opsOf(evs, pid, f)&want == want
		})
		for _, e := range evs {
			if e.PID == pid && e.Class != "test" {
				t.Errorf("class %q, want test", e.Class)
			}
		}
		if s := w.Stats(); s.Unresolved != 0 || s.Malformed != 0 {
			t.Errorf("stats %+v", s)
		}
	})
}

func TestIntegrationExec(t *testing.T) {
	forEachProfile(t, func(t *testing.T) {
		dir := tempDir(t)
		bin := filepath.Join(dir, "mytrue")
		plain := filepath.Join(dir, "plain")
		copyFile(t, "/bin/true", bin, 0o755)
		if err := os.WriteFile(plain, []byte("data\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		// A binary-directory watch: changes and executions, no opens.
		w := openWatcher(t, Policy{Watches: []Watch{{Path: dir, Ops: OpExec | OpCloseWrite, Class: ClassBinary}}})
		c := collect(t, w)
		catPID := run(t, "cat", plain)
		pid := run(t, bin)
		openExec := w.Caps().OpenExec
		evs := c.waitFor(t, "the exec of the copied binary", func(evs []Event) bool {
			if openExec {
				return opsOf(evs, pid, bin)&OpExec != 0
			}
			// Before 5.0: an open of a file with an execute bit, as an open.
			return opsOf(evs, pid, bin)&OpOpen != 0
		})
		if openExec && opsOf(evs, pid, bin)&OpOpen != 0 {
			t.Errorf("exec also reported as an open: %s", describe(evs))
		}
		if o := opsOf(evs, catPID, plain); o != 0 {
			t.Errorf("read of a non-executable file reported (%s) by an exec-only watch", o)
		}
		if want := feature.Profile() == ""; openExec != want {
			t.Errorf("OpenExec = %v under profile %q", openExec, feature.Profile())
		}
	})
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrationOwnPIDFiltered(t *testing.T) {
	forEachProfile(t, func(t *testing.T) {
		dir := tempDir(t)
		w := openWatcher(t, Policy{Watches: []Watch{{Path: dir, Ops: OpAll}}})
		c := collect(t, w)
		// lineaged's own write comes first; the queue is in order, so
		// once the child's arrives, the own one has been read.
		if err := os.WriteFile(filepath.Join(dir, "own"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, "child")
		pid := sh(t, "echo x > "+f)
		evs := c.waitFor(t, "the child's close-write", func(evs []Event) bool {
			return opsOf(evs, pid, f)&OpCloseWrite != 0
		})
		for _, e := range evs {
			if e.PID == os.Getpid() || strings.HasSuffix(e.Path, "/own") {
				t.Errorf("own event reported: %s", describe([]Event{e}))
			}
		}
		if w.Stats().Self == 0 {
			t.Error("no own event counted as dropped")
		}
	})
}

func TestIntegrationExcludedPath(t *testing.T) {
	forEachProfile(t, func(t *testing.T) {
		dir := tempDir(t)
		own := filepath.Join(dir, "lineaged.jsonl")
		if err := os.WriteFile(own, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		w := openWatcher(t, Policy{
			Watches: []Watch{{Path: dir, Ops: OpAll}},
			Exclude: []string{own},
		})
		ignored := false
		for _, m := range w.Marks() {
			if m.Kind == MarkIgnore && m.Path == own && m.Err == nil {
				ignored = true
			}
		}
		if !ignored {
			t.Errorf("no ignore mark on the excluded file: %+v", w.Marks())
		}
		c := collect(t, w)
		other := filepath.Join(dir, "other")
		pid := sh(t, "echo x >> "+own+"; echo y > "+other)
		evs := c.waitFor(t, "the write to the other file", func(evs []Event) bool {
			return opsOf(evs, pid, other)&OpCloseWrite != 0
		})
		for _, e := range evs {
			if e.Path == own {
				t.Errorf("excluded path reported: %s", describe([]Event{e}))
			}
		}
	})
}

// TestIntegrationRecursive mounts a tmpfs of its own, so the filesystem
// mark (4.20+) or mount mark (before) covers nothing else on the host.
func TestIntegrationRecursive(t *testing.T) {
	forEachProfile(t, func(t *testing.T) {
		mnt := mountTmpfs(t)
		out := filepath.Join(mnt, "out")
		deep := filepath.Join(mnt, "a", "b")
		for _, d := range []string{out, deep} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		w := openWatcher(t, Policy{
			Watches: []Watch{{Path: mnt, Ops: OpModify | OpCloseWrite, Recursive: true, Class: "tree"}},
			Exclude: []string{out},
		})
		want := MarkFilesystem
		if feature.Profile() != "" {
			want = MarkMount
		}
		found := false
		for _, m := range w.Marks() {
			if m.Kind == want && m.Path == mnt && m.Err == nil {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s mark on %s: %+v", want, mnt, w.Marks())
		}
		c := collect(t, w)
		f := filepath.Join(deep, "F")
		pid := sh(t, "echo x > "+filepath.Join(out, "G")+"; echo x > "+f)
		evs := c.waitFor(t, "the write two directories down", func(evs []Event) bool {
			return opsOf(evs, pid, f)&OpCloseWrite != 0
		})
		for _, e := range evs {
			if under(e.Path, out) {
				t.Errorf("excluded directory reported: %s", describe([]Event{e}))
			}
			if e.Path == f && e.Class != "tree" {
				t.Errorf("class %q, want tree", e.Class)
			}
		}
	})
}

// mountTmpfs mounts a small tmpfs of the test's own on a temp dir, so
// that a filesystem or mount mark covers nothing else on the host.
func mountTmpfs(t *testing.T) string {
	t.Helper()
	mnt := tempDir(t)
	if err := unix.Mount("lineaged-test", mnt, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=64m"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	return mnt
}

func TestIntegrationQueueOverflow(t *testing.T) {
	forEachProfile(t, func(t *testing.T) {
		for _, unlimited := range []bool{false, true} {
			dir := mountTmpfs(t)
			w := openWatcher(t, Policy{Watches: []Watch{{Path: dir, Ops: OpCloseWrite}}, UnlimitedQueue: unlimited})
			// Nobody reads while the child writes more files than the
			// kernel queues (16384 by default), so the queue overflows,
			// unless FAN_UNLIMITED_QUEUE lifted the limit.
			const files = 17000
			pid := sh(t, fmt.Sprintf(`cd %s && i=1; while [ $i -le %d ]; do : > f$i; i=$((i+1)); done`, dir, files))
			c := collect(t, w)
			last := filepath.Join(dir, fmt.Sprintf("f%d", files))
			evs := c.waitFor(t, "a queue overflow or the last file", func(evs []Event) bool {
				for _, e := range evs {
					if e.Overflow || (e.PID == pid && e.Path == last) {
						return true
					}
				}
				return false
			})
			overflowed := evs[len(evs)-1].Overflow
			if overflowed == unlimited || (w.Stats().Overflows > 0) == unlimited {
				t.Errorf("unlimited queue %v: overflow event %v, counted %d", unlimited, overflowed, w.Stats().Overflows)
			}
			w.Close()
		}
	})
}

// TestIntegrationFIDModes runs with every subset of the features this
// kernel has (5.1-5.8 report only the file's own handle; 4.20-5.0 have
// filesystem marks without handles), watching a directory, a file in
// another directory, and a recursive tree holding a hard link to the
// file from outside both.
func TestIntegrationFIDModes(t *testing.T) {
	requireRoot(t)
	t.Setenv(feature.ProfileEnv, "")
	have, rows, err := probe()
	if err != nil {
		t.Skip(err)
	}
	for _, c := range []Caps{
		{},
		{MarkFilesystem: true},
		{MarkFilesystem: true, OpenExec: true},
		{ReportFID: true, MarkFilesystem: true, OpenExec: true},
		{ReportFID: true, ReportDirName: true},
		{ReportFID: true, ReportDirName: true, MarkFilesystem: true, OpenExec: true},
	} {
		if (c.ReportFID && !have.ReportFID) || (c.ReportDirName && !have.ReportDirName) ||
			(c.MarkFilesystem && !have.MarkFilesystem) || (c.OpenExec && !have.OpenExec) {
			continue
		}
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			mnt := mountTmpfs(t)
			dir, secretDir, tree, elsewhere := filepath.Join(mnt, "dir"), filepath.Join(mnt, "s"), filepath.Join(mnt, "tree"), filepath.Join(mnt, "elsewhere")
			for _, d := range []string{dir, secretDir, filepath.Join(tree, "sub"), elsewhere} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			secret := filepath.Join(secretDir, "secret")
			if err := os.WriteFile(secret, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(elsewhere, "link")
			if err := os.Link(secret, link); err != nil {
				t.Fatal(err)
			}
			res, err := (&Policy{Watches: []Watch{
				{Path: dir, Ops: OpAll, Class: "dir"},
				{Path: secret, Ops: OpAll, Class: "file"},
				{Path: tree, Ops: OpCloseWrite, Recursive: true, Class: "tree"},
			}}).Resolve()
			if err != nil {
				t.Fatal(err)
			}
			w, err := open(res, c, rows, false)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			col := collect(t, w)
			inDir, inTree := filepath.Join(dir, "F"), filepath.Join(tree, "sub", "G")
			unwatched := filepath.Join(elsewhere, "plain")
			pid := sh(t, fmt.Sprintf("echo x > %s; echo x > %s; echo x > %s; echo x >> %s; echo x > %s",
				unwatched, inDir, secret, link, inTree))
			// With only the file's own handle (5.1-5.8) a hard-linked
			// file resolves to one of its names, whichever the dentry
			// cache holds, and the kernel merges the writes through both
			// names into one event: either name will do.
			aliasOnly := c.ReportFID && !c.ReportDirName
			evs := col.waitFor(t, "the writes to the directory, the file, the link and the tree", func(evs []Event) bool {
				linked := opsOf(evs, pid, secret)&OpCloseWrite != 0 && opsOf(evs, pid, link)&OpCloseWrite != 0
				if aliasOnly {
					linked = (opsOf(evs, pid, secret)|opsOf(evs, pid, link))&OpCloseWrite != 0
				}
				return linked && opsOf(evs, pid, inDir)&OpCloseWrite != 0 && opsOf(evs, pid, inTree)&OpCloseWrite != 0
			})
			for _, e := range evs {
				want := map[string]string{inDir: "dir", secret: "file", inTree: "tree", link: ""}[e.Path]
				if e.Class != want {
					t.Errorf("%s: class %q, want %q", e.Path, e.Class, want)
				}
				if e.Path == unwatched {
					t.Errorf("unwatched file reported: %s", describe([]Event{e}))
				}
			}
			if s := w.Stats(); s.Unresolved != 0 || s.Malformed != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestIntegrationCloseUnblocksRead(t *testing.T) {
	forEachProfile(t, func(t *testing.T) {
		dir := tempDir(t)
		w, err := Open(Policy{Watches: []Watch{{Path: dir, Ops: OpAll}}})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := w.Read(make([]byte, MinReadBuffer))
			done <- err
		}()
		time.Sleep(50 * time.Millisecond) // let Read reach poll
		if err := w.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, ErrClosed) {
				t.Errorf("Read after Close: %v, want ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("watchdog: Close did not unblock Read within 5s")
		}
		if err := w.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := w.Read(make([]byte, MinReadBuffer)); !errors.Is(err, ErrClosed) {
			t.Errorf("Read on a closed watcher: %v", err)
		}
	})
}

func TestIntegrationNoFDLeak(t *testing.T) {
	forEachProfile(t, func(t *testing.T) {
		dir := tempDir(t)
		before := countFDs(t)
		w, err := Open(Policy{Watches: []Watch{{Path: dir, Ops: OpAll}}})
		if err != nil {
			t.Fatal(err)
		}
		c := collect(t, w)
		last := filepath.Join(dir, "f50")
		pid := sh(t, fmt.Sprintf(`cd %s && i=1; while [ $i -le 50 ]; do echo x > f$i; cat f$i >/dev/null; i=$((i+1)); done`, dir))
		c.waitFor(t, "the last write", func(evs []Event) bool { return opsOf(evs, pid, last)&OpCloseWrite != 0 })
		// Events are handled: none may hold a descriptor now. The
		// watcher keeps its groups, the eventfd and, in FID mode, one
		// directory fd per filesystem.
		want := before + 1 // the eventfd
		for _, g := range w.groups {
			want++
			for _, refs := range g.mounts {
				want += len(refs)
			}
		}
		if open := countFDs(t); open != want {
			t.Errorf("%d fds open while watching, want %d: events leak descriptors", open, want)
		}
		c.stop(t)
		if after := countFDs(t); after != before {
			t.Errorf("fds before Open %d, after Close %d", before, after)
		}
	})
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestIntegrationProbe fails when a probe says a feature is missing on a
// kernel at least as new as the release that added it.
func TestIntegrationProbe(t *testing.T) {
	requireRoot(t)
	t.Setenv(feature.ProfileEnv, "")
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	release := unix.ByteSliceToString(u.Release[:])
	for _, row := range Probe() {
		min := feature.MinKernel(row.Feature)
		if row.Feature == ReportDirName {
			min = reportDirNameMin
		}
		if !row.Available && !releaseOlder(release, min) {
			t.Errorf("%s unavailable on %s (requires >= %s): %s", row.Feature, release, min, row.Reason)
		}
	}
	t.Setenv(feature.ProfileEnv, "4.4")
	for _, row := range Probe() {
		if row.Available {
			t.Errorf("%s available under profile 4.4", row.Feature)
		}
		if !strings.Contains(row.Reason, "fallback") {
			t.Errorf("%s: reason %q does not name the fallback", row.Feature, row.Reason)
		}
	}
}

func releaseOlder(a, b string) bool {
	var x, y [2]int
	fmt.Sscanf(a, "%d.%d", &x[0], &x[1])
	fmt.Sscanf(b, "%d.%d", &y[0], &y[1])
	return x[0] < y[0] || (x[0] == y[0] && x[1] < y[1])
}
