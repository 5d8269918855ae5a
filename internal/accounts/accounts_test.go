package accounts

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	passwdData = "root:x:0:0:root:/root:/bin/bash\n" +
		"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" +
		"alice:x:1000:1000:Alice:/home/alice:/bin/bash\n" +
		"alice2:x:1000:1000:dup:/home/alice:/bin/bash\n" +
		"+@nis::::::\n"
	groupData = "root:x:0:\nusers:x:100:\nalice:x:1000:\n"
)

// files writes a passwd and a group file and returns their paths.
func files(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	p, g := filepath.Join(dir, "passwd"), filepath.Join(dir, "group")
	write(t, p, passwdData)
	write(t, g, groupData)
	return p, g
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// replace writes data to path by a rename, as shadow's tools do.
func replace(t *testing.T, path, data string) {
	t.Helper()
	write(t, path+"+", data)
	if err := os.Rename(path+"+", path); err != nil {
		t.Fatal(err)
	}
}

// fakeGetent is a getent script in a temporary directory. It answers
// "getent DB ID" with the content of DIR/DB.ID (exit 0), sleeps as long
// as DIR/DB.ID.sleep says, exits with DIR/DB.ID.exit's code, and
// otherwise exits 2 (not found). Each run appends "DB ID" to DIR/runs.
type fakeGetent struct {
	t    *testing.T
	dir  string
	path string
}

func newFakeGetent(t *testing.T) *fakeGetent {
	t.Helper()
	dir := t.TempDir()
	script := `#!/bin/sh
d=` + dir + `
echo "$1 $2" >> "$d/runs"
f="$d/$1.$2"
if [ -f "$f.sleep" ]; then exec sleep "$(cat "$f.sleep")"; fi
if [ -f "$f.exit" ]; then exit "$(cat "$f.exit")"; fi
[ -f "$f" ] || exit 2
cat "$f"
`
	path := filepath.Join(dir, "getent")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return &fakeGetent{t, dir, path}
}

// set makes "getent DB ID" answer with line ("" removes the answer).
func (g *fakeGetent) set(db string, id int, suffix, content string) {
	p := filepath.Join(g.dir, db+"."+strconv.Itoa(id)+suffix)
	if content == "" {
		os.Remove(p)
		return
	}
	write(g.t, p, content)
}

// runs are the runs so far.
func (g *fakeGetent) runs() []string {
	b, _ := os.ReadFile(filepath.Join(g.dir, "runs"))
	return strings.Fields(strings.ReplaceAll(string(b), " ", "."))
}

// trustAny accepts any path: the tests' getent lives in a temporary
// directory, which the real check refuses.
func trustAny(p string) (string, error) { return p, nil }

// clock is a clock the test steps.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Duration   { return time.Duration(c.ns.Load()) }
func (c *clock) step(d time.Duration) { c.ns.Add(int64(d)) }

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func lookup(r *Resolver, k kind, id string) string {
	name, _ := r.lookup(k, id)
	return name
}

func TestFiles(t *testing.T) {
	p, g := files(t)
	r := New(Config{Passwd: p, Group: g, NoGetent: true})
	defer r.Close()
	for id, want := range map[string]string{"0": "root", "1": "daemon", "1000": "alice", "01000": "alice"} {
		if name, ok := r.User(id); !ok || name != want {
			t.Errorf("User(%q) = %q, %v, want %q", id, name, ok, want)
		}
	}
	for id, want := range map[string]string{"0": "root", "100": "users", "1000": "alice"} {
		if name, ok := r.Group(id); !ok || name != want {
			t.Errorf("Group(%q) = %q, %v, want %q", id, name, ok, want)
		}
	}
	for _, id := range []string{"unset", "4294967295", "-1", "", "2", "100", "root", "1e3"} {
		if name, ok := r.User(id); ok || name != "" {
			t.Errorf("User(%q) = %q, %v, want unknown", id, name, ok)
		}
	}
	if name, ok := r.Group("1"); ok {
		t.Errorf("Group(1) = %q: a uid's name answered for a gid", name)
	}
	st := r.Stats()
	if st.Users != 3 || st.Groups != 3 || st.BadLines != 1 || st.Getent != "" || st.Reloads != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestReload: a change of either file (by rename, or in place with the
// same size) is read within a few check intervals; an unchanged file is
// not read again; a file that disappears keeps its names.
func TestReload(t *testing.T) {
	p, g := files(t)
	r := New(Config{Passwd: p, Group: g, NoGetent: true, CheckInterval: 10 * time.Millisecond})
	defer r.Close()

	replace(t, p, strings.Replace(passwdData, "alice:", "alicia:", 1))
	waitFor(t, "the renamed passwd", func() bool { return lookup(r, users, "1000") == "alicia" })

	// In place, same size, same inode: only the modification time says.
	time.Sleep(20 * time.Millisecond) // a distinct mtime on a coarse clock
	write(t, p, strings.Replace(passwdData, "alice:", "alicb:", 1))
	waitFor(t, "the rewritten passwd", func() bool { return lookup(r, users, "1000") == "alicb" })

	replace(t, g, groupData+"wheel:x:10:alice\n")
	waitFor(t, "the new group", func() bool { return lookup(r, groups, "10") == "wheel" })

	// At least 3: a check can fall between os.WriteFile's truncation
	// and its write, and read the file twice for one change.
	n := r.Stats().Reloads
	if n < 3 {
		t.Errorf("%d reloads, want at least 3", n)
	}
	time.Sleep(100 * time.Millisecond)
	if got := r.Stats().Reloads; got != n {
		t.Errorf("unchanged files read again: %d reloads, then %d", n, got)
	}

	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the read error", func() bool { return r.Stats().ReloadErrors > 0 })
	if name, ok := r.User("1000"); !ok || name != "alicb" {
		t.Errorf("after passwd vanished: %q %v, want the last table's alicb", name, ok)
	}
	write(t, p, passwdData)
	waitFor(t, "passwd back", func() bool { return lookup(r, users, "1000") == "alice" })
}

// TestMissingFiles: files that do not exist give empty tables, not a
// failure, and are read when they appear.
func TestMissingFiles(t *testing.T) {
	dir := t.TempDir()
	p, g := filepath.Join(dir, "passwd"), filepath.Join(dir, "group")
	r := New(Config{Passwd: p, Group: g, NoGetent: true, CheckInterval: 10 * time.Millisecond})
	defer r.Close()
	if name, ok := r.User("0"); ok {
		t.Errorf("User(0) = %q without a passwd", name)
	}
	write(t, p, passwdData)
	waitFor(t, "passwd created", func() bool { return lookup(r, users, "0") == "root" })
}

func newFake(t *testing.T, cfg Config) (*Resolver, *fakeGetent, *clock) {
	t.Helper()
	fg := newFakeGetent(t)
	c := &clock{}
	c.step(time.Hour) // not zero: zero times are "never"
	cfg.Passwd, cfg.Group = files(t)
	cfg.Getent, cfg.trust, cfg.clock = fg.path, trustAny, c.now
	r := New(cfg)
	t.Cleanup(func() { r.Close() })
	if r.Stats().Getent != fg.path {
		t.Fatalf("getent %q not used", fg.path)
	}
	return r, fg, c
}

// TestGetentFallback: an id the files do not hold is unknown at first
// sight, then getent's answer, asked once however often it is looked up.
// An id the files hold never runs getent.
func TestGetentFallback(t *testing.T) {
	r, fg, _ := newFake(t, Config{})
	fg.set("passwd", 5001, "", "ldapuser:*:5001:5001:LDAP User:/home/ldapuser:/bin/bash\n")
	fg.set("group", 6001, "", "ldapgroup:*:6001:ldapuser\n")

	if name, ok := r.User("5001"); ok || name != "" {
		t.Errorf("first sighting: %q %v, want unknown (resolved in the background)", name, ok)
	}
	waitFor(t, "uid 5001", func() bool { return lookup(r, users, "5001") == "ldapuser" })
	waitFor(t, "gid 6001", func() bool { return lookup(r, groups, "6001") == "ldapgroup" })
	for range 100 {
		r.User("5001")
		r.Group("6001")
		r.User("0")
	}
	if runs := fg.runs(); len(runs) != 2 {
		t.Errorf("runs %v, want one per id", runs)
	}
	st := r.Stats()
	if st.GetentRuns != 2 || st.GetentFound != 2 || st.Cached != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestNegativeCache: "no such id" is remembered for NegativeTTL, then
// asked again.
func TestNegativeCache(t *testing.T) {
	r, fg, c := newFake(t, Config{NegativeTTL: time.Minute})
	r.User("7777")
	waitFor(t, "the answer", func() bool { return r.Stats().GetentNotFound == 1 })
	for range 50 {
		if name, ok := r.User("7777"); ok {
			t.Fatalf("unknown uid answered %q", name)
		}
	}
	c.step(59 * time.Second)
	r.User("7777")
	time.Sleep(50 * time.Millisecond)
	if runs := fg.runs(); len(runs) != 1 {
		t.Fatalf("runs %v within the negative TTL, want 1", runs)
	}
	c.step(2 * time.Second)
	r.User("7777")
	waitFor(t, "the second run", func() bool { return r.Stats().GetentNotFound == 2 })
	// It now exists: the next run after the TTL finds it.
	fg.set("passwd", 7777, "", "late:x:7777:7777:::\n")
	c.step(time.Minute + time.Second)
	r.User("7777")
	waitFor(t, "the new user", func() bool { return lookup(r, users, "7777") == "late" })
}

// TestRateBound: beyond RunsPerSecond, lookups return unknown at once,
// are counted and queue nothing; the ids are asked when tokens return.
func TestRateBound(t *testing.T) {
	r, fg, c := newFake(t, Config{RunsPerSecond: 3})
	for id := 8000; id < 8010; id++ {
		if _, ok := r.User(strconv.Itoa(id)); ok {
			t.Fatal("unknown id answered")
		}
	}
	if st := r.Stats(); st.RateLimited != 7 {
		t.Errorf("rate limited %d, want 7", st.RateLimited)
	}
	waitFor(t, "3 runs", func() bool { return r.Stats().GetentRuns == 3 })
	time.Sleep(50 * time.Millisecond)
	if runs := fg.runs(); len(runs) != 3 {
		t.Errorf("runs %v, want 3", runs)
	}
	c.step(time.Second)
	for id := 8000; id < 8010; id++ {
		r.User(strconv.Itoa(id)) // the 3 answered are cached; 3 of the 7 others run
	}
	waitFor(t, "6 runs", func() bool { return r.Stats().GetentRuns == 6 })
	if st := r.Stats(); st.RateLimited != 11 {
		t.Errorf("rate limited %d, want 7+4", st.RateLimited)
	}
}

// TestNeverBlocks: with getent hanging, lookups still return at once; a
// full queue is counted; Close kills the hanging run.
func TestNeverBlocks(t *testing.T) {
	r, fg, _ := newFake(t, Config{RunsPerSecond: 1000, Timeout: time.Minute})
	for id := 9000; id < 9100; id++ {
		fg.set("passwd", id, ".sleep", "60")
	}
	start := time.Now()
	for id := 9000; id < 9100; id++ {
		r.User(strconv.Itoa(id))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("100 lookups took %v with getent hanging", d)
	}
	waitFor(t, "the first run", func() bool { return len(fg.runs()) == 1 })
	if st := r.Stats(); st.QueueFull == 0 || st.QueueFull+queueLen+1 < 100 {
		t.Errorf("queue full %d of 100 (queue %d, one running)", st.QueueFull, queueLen)
	}
	start = time.Now()
	r.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	if name, ok := r.User("0"); !ok || name != "root" {
		t.Errorf("after Close: %q %v", name, ok)
	}
}

// TestFailedRuns: a timeout, another exit code and an answer for another
// id are failures: unknown, counted, not retried within NegativeTTL.
func TestFailedRuns(t *testing.T) {
	r, fg, c := newFake(t, Config{Timeout: 200 * time.Millisecond})
	fg.set("passwd", 5002, ".sleep", "30")
	fg.set("passwd", 5003, ".exit", "1")
	fg.set("passwd", 5004, "", "impostor:x:0:0:::\n")
	fg.set("passwd", 5005, "", "not a passwd line\n")
	for _, id := range []string{"5002", "5003", "5004", "5005"} {
		r.User(id)
	}
	waitFor(t, "4 failures", func() bool { return r.Stats().GetentFailed == 4 })
	for _, id := range []string{"5002", "5003", "5004", "5005"} {
		if name, ok := r.User(id); ok {
			t.Errorf("User(%s) = %q after a failed run", id, name)
		}
	}
	c.step(30 * time.Second)
	for _, id := range []string{"5002", "5003", "5004", "5005"} {
		r.User(id)
	}
	time.Sleep(50 * time.Millisecond)
	if n := r.Stats().GetentRuns; n != 4 {
		t.Errorf("%d runs: failed ids retried within the negative TTL", n)
	}
}

// TestStaleWhileRefreshing: after PositiveTTL a name is still served
// while a run confirms it; a failed refresh keeps it until a second TTL
// has passed, then it is unknown.
func TestStaleWhileRefreshing(t *testing.T) {
	r, fg, c := newFake(t, Config{PositiveTTL: 10 * time.Minute, NegativeTTL: time.Minute})
	fg.set("passwd", 5001, "", "ldapuser:*:5001:5001:::\n")
	r.User("5001")
	waitFor(t, "the name", func() bool { return lookup(r, users, "5001") == "ldapuser" })

	fg.set("passwd", 5001, "", "renamed:*:5001:5001:::\n")
	c.step(10*time.Minute + time.Second)
	if name, ok := r.User("5001"); !ok || name != "ldapuser" {
		t.Errorf("while refreshing: %q %v, want the old name", name, ok)
	}
	waitFor(t, "the new name", func() bool { return lookup(r, users, "5001") == "renamed" })

	// The directory goes away: the name stays for a second TTL.
	fg.set("passwd", 5001, ".exit", "3")
	c.step(10*time.Minute + time.Second)
	r.User("5001")
	waitFor(t, "the failed refresh", func() bool { return r.Stats().GetentFailed == 1 })
	if name, ok := r.User("5001"); !ok || name != "renamed" {
		t.Errorf("after a failed refresh: %q %v, want the name kept", name, ok)
	}
	c.step(10 * time.Minute)
	if name, ok := r.User("5001"); ok {
		t.Errorf("two TTLs after the last answer: %q, want unknown", name)
	}
}

// TestUntrustedGetent: with the real check, a getent in a temporary
// directory is refused and never run.
func TestUntrustedGetent(t *testing.T) {
	fg := newFakeGetent(t)
	p, g := files(t)
	r := New(Config{Passwd: p, Group: g, Getent: fg.path})
	defer r.Close()
	if st := r.Stats(); st.Getent != "" {
		t.Fatalf("getent %q accepted", st.Getent)
	}
	r.User("5001")
	time.Sleep(50 * time.Millisecond)
	if runs := fg.runs(); len(runs) != 0 {
		t.Errorf("untrusted getent ran: %v", runs)
	}
}

// TestNoAllocations: the hot path (a file hit, a cache hit, a value that
// is no id) allocates nothing.
func TestNoAllocations(t *testing.T) {
	r, fg, _ := newFake(t, Config{})
	fg.set("passwd", 5001, "", "ldapuser:*:5001:5001:::\n")
	r.User("5001")
	waitFor(t, "the name", func() bool { return lookup(r, users, "5001") == "ldapuser" })
	ids := []string{"0", "1000", "5001", "unset", "4294967295"}
	if n := testing.AllocsPerRun(1000, func() {
		for _, id := range ids {
			r.User(id)
			r.Group(id)
		}
	}); n != 0 {
		t.Errorf("%v allocations per round of lookups", n)
	}
}

// TestConcurrent: lookups from several goroutines while the files change
// and getent answers (meant for -race).
func TestConcurrent(t *testing.T) {
	r, fg, _ := newFake(t, Config{CheckInterval: time.Millisecond, RunsPerSecond: 1000})
	for id := 5000; id < 5020; id++ {
		fg.set("passwd", id, "", "u"+strconv.Itoa(id)+":*:"+strconv.Itoa(id)+":1:::\n")
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				id := strconv.Itoa(5000 + (i+g)%20)
				if name, ok := r.User(id); ok && name != "u"+id {
					t.Errorf("User(%s) = %q", id, name)
					return
				}
				r.Group("100")
			}
		})
	}
	for i := range 20 {
		replace(t, r.paths[users], passwdData+"x"+strconv.Itoa(i)+":x:7:7:::\n")
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
}

func BenchmarkUserFile(b *testing.B) {
	dir := b.TempDir()
	p, g := filepath.Join(dir, "passwd"), filepath.Join(dir, "group")
	os.WriteFile(p, []byte(passwdData), 0o644)
	os.WriteFile(g, []byte(groupData), 0o644)
	r := New(Config{Passwd: p, Group: g, NoGetent: true})
	defer r.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.User("1000")
		}
	})
}

func BenchmarkUserCached(b *testing.B) {
	c := &clock{}
	r := New(Config{Passwd: "/nonexistent", Group: "/nonexistent", Getent: "/bin/true", trust: trustAny, clock: c.now})
	defer r.Close()
	r.caches[users].put(5001, "ldapuser", found, 0, time.Hour, time.Minute)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.User("5001")
		}
	})
}
