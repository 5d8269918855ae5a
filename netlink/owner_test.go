package netlink

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

const fixtureProc = "testdata/proc"

func TestScanFDsFixture(t *testing.T) {
	index, pids, socks, denied, err := scanFDs(fixtureProc)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64][]int{1001: {100, 200}, 1002: {100}, 2001: {200}}
	if !reflect.DeepEqual(index, want) {
		t.Errorf("index = %v, want %v", index, want)
	}
	// 100, 200 and 400 have fd directories; 300 exited (no fd/).
	if pids != 3 || socks != 5 || denied != 0 {
		t.Errorf("pids/socks/denied = %d/%d/%d, want 3/5/0", pids, socks, denied)
	}
}

func TestScanFDsMissingRoot(t *testing.T) {
	if _, _, _, _, err := scanFDs(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("missing root: no error")
	}
}

func TestSocketInode(t *testing.T) {
	for link, want := range map[string]uint64{
		"socket:[1]": 1, "socket:[4294967296]": 4294967296,
		"socket:[0]": 0, "socket:[]": 0, "socket:[x]": 0, "socket:[12": 0, "pipe:[5]": 0, "/dev/null": 0, "": 0,
	} {
		got, ok := socketInode(link)
		if got != want || ok != (want != 0) {
			t.Errorf("socketInode(%q) = %d, %v; want %d", link, got, ok, want)
		}
	}
}

// fakeClock is a settable clock for the rate bound.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock           { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }
func snapOf(inodes ...uint64) *Snapshot {
	s := &Snapshot{}
	for _, ino := range inodes {
		s.Sockets = append(s.Sockets, Socket{Table: TCP4, Inode: ino})
	}
	return s
}

func TestOwnerResolve(t *testing.T) {
	clk := newFakeClock()
	o := &OwnerIndex{Root: fixtureProc, now: clk.now}
	s := snapOf(1001, 2001, 0, 5555)
	if err := o.Resolve(s); err != nil {
		t.Fatal(err)
	}
	got := [][]int{s.Sockets[0].PIDs, s.Sockets[1].PIDs, s.Sockets[2].PIDs, s.Sockets[3].PIDs}
	want := [][]int{{100, 200}, {200}, nil, nil}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PIDs = %v, want %v", got, want)
	}
	if s.Sockets[0].PID() != 100 || s.Sockets[3].PID() != 0 {
		t.Errorf("PID() = %d, %d", s.Sockets[0].PID(), s.Sockets[3].PID())
	}
	// Sockets get copies: changing one leaves the index alone.
	s.Sockets[0].PIDs[0] = 9
	if got := o.Lookup(1001); !reflect.DeepEqual(got, []int{100, 200}) {
		t.Errorf("Lookup after caller's write = %v", got)
	}
	st := o.Stats()
	if st.Scans != 1 || st.Misses != 1 || st.PIDs != 3 || st.Sockets != 5 {
		t.Errorf("stats = %+v", st)
	}
}

// A connect storm: a snapshot per connect, each with a socket the index
// does not know yet. Walks stay at one per MinInterval; the rest are
// counted as skipped.
func TestOwnerRateBound(t *testing.T) {
	clk := newFakeClock()
	o := &OwnerIndex{Root: fixtureProc, MinInterval: time.Second, now: clk.now}
	const storm = 1000 // connects, 1 ms apart: one second of storm
	for i := range storm {
		if err := o.Resolve(snapOf(1001, uint64(100_000+i))); err != nil {
			t.Fatal(err)
		}
		clk.add(time.Millisecond)
	}
	st := o.Stats()
	if st.Scans != 1 || st.Skipped != storm-1 {
		t.Errorf("after %d connects in 1s: scans %d, skipped %d; want 1, %d", storm, st.Scans, st.Skipped, storm-1)
	}
	// The bound is per interval: the next second allows one more walk.
	clk.add(time.Second)
	_ = o.Resolve(snapOf(424242))
	_ = o.Resolve(snapOf(424243))
	if st := o.Stats(); st.Scans != 2 || st.Skipped != storm {
		t.Errorf("next interval: scans %d, skipped %d; want 2, %d", st.Scans, st.Skipped, storm)
	}
	if ok, _ := o.Refresh(); ok {
		t.Error("Refresh walked inside MinInterval")
	}
}

// A complete index is reused until MaxAge, then refreshed.
func TestOwnerMaxAge(t *testing.T) {
	clk := newFakeClock()
	o := &OwnerIndex{Root: fixtureProc, MaxAge: 30 * time.Second, now: clk.now}
	_ = o.Resolve(snapOf(1001))
	clk.add(29 * time.Second)
	_ = o.Resolve(snapOf(1001, 1002))
	if st := o.Stats(); st.Scans != 1 || st.Skipped != 0 {
		t.Errorf("known inodes, young index: %+v", st)
	}
	clk.add(2 * time.Second)
	_ = o.Resolve(snapOf(1001))
	if st := o.Stats(); st.Scans != 2 {
		t.Errorf("old index not refreshed: %+v", st)
	}
}

// A new process appears between walks: seen at the next allowed walk.
func TestOwnerSeesNewSockets(t *testing.T) {
	root := t.TempDir()
	mk := func(pid, fd, target string) {
		dir := filepath.Join(root, pid, "fd")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(dir, fd)); err != nil {
			t.Fatal(err)
		}
	}
	mk("10", "3", "socket:[7]")
	clk := newFakeClock()
	o := &OwnerIndex{Root: root, now: clk.now}
	_ = o.Resolve(&Snapshot{Time: clk.now(), Sockets: []Socket{{Inode: 7}}})
	// A process opens socket 8 after the walk; the next snapshot shows it.
	clk.add(time.Millisecond)
	mk("11", "4", "socket:[8]")
	s := &Snapshot{Time: clk.now(), Sockets: []Socket{{Inode: 7}, {Inode: 8}}}
	_ = o.Resolve(s) // inside MinInterval: 8 stays unknown
	if s.Sockets[1].PIDs != nil || o.Stats().Skipped != 1 {
		t.Errorf("walked inside MinInterval: %v", s.Sockets[1].PIDs)
	}
	clk.add(DefaultMinScanInterval)
	_ = o.Resolve(s)
	if !reflect.DeepEqual(s.Sockets[1].PIDs, []int{11}) {
		t.Errorf("new socket owner = %v, want [11]", s.Sockets[1].PIDs)
	}
}

// A socket no process holds (seen before a walk that did not find it)
// does not ask for walks again until MaxAge.
func TestOwnerOrphansDoNotForceWalks(t *testing.T) {
	clk := newFakeClock()
	o := &OwnerIndex{Root: fixtureProc, now: clk.now}
	for range 100 {
		_ = o.Resolve(&Snapshot{Time: clk.now(), Sockets: []Socket{{Inode: 1001}, {Inode: 777}}})
		clk.add(2 * DefaultMinScanInterval)
		if clk.t.Sub(o.indexTime) >= DefaultMaxIndexAge {
			break
		}
	}
	if st := o.Stats(); st.Scans != 1 || st.Skipped != 0 {
		t.Errorf("orphan inode 777 forced walks: %+v", st)
	}
}

func TestOwnerDeniedCounted(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every directory")
	}
	root := t.TempDir()
	fd := filepath.Join(root, "5", "fd")
	if err := os.MkdirAll(fd, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(fd, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(fd, 0o755) })
	_, _, _, denied, err := scanFDs(root)
	if err != nil || denied != 1 {
		t.Errorf("denied = %d, err %v", denied, err)
	}
}
