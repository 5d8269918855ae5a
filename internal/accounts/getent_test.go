package accounts

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTrustedBinary: relative paths, files outside the system
// directories and writable files are refused; the system's getent is
// accepted where it is root's.
func TestTrustedBinary(t *testing.T) {
	if _, err := trustedBinary("getent"); err == nil {
		t.Error("a bare name accepted")
	}
	tmp := filepath.Join(t.TempDir(), "getent")
	write(t, tmp, "#!/bin/sh\n")
	os.Chmod(tmp, 0o755)
	if _, err := trustedBinary(tmp); err == nil || !strings.Contains(err.Error(), "system directory") {
		t.Errorf("a temporary file: %v", err)
	}
	// A link from a temporary directory into /usr/bin resolves to the
	// target (which is judged, not the link).
	if fi, err := os.Stat("/usr/bin/getent"); err == nil {
		if uid, _ := owner(fi); uid == 0 && fi.Mode().Perm()&0o022 == 0 {
			got, err := trustedBinary("/usr/bin/getent")
			if err != nil || got != "/usr/bin/getent" {
				t.Errorf("/usr/bin/getent: %q, %v", got, err)
			}
			link := filepath.Join(t.TempDir(), "g")
			os.Symlink("/usr/bin/getent", link)
			if got, err := trustedBinary(link); err != nil || got != "/usr/bin/getent" {
				t.Errorf("link to /usr/bin/getent: %q, %v", got, err)
			}
		}
	}
	if _, err := trustedBinary("/usr/bin"); err == nil {
		t.Error("a directory accepted")
	}
	if _, err := trustedBinary("/nonexistent/getent"); err == nil {
		t.Error("a missing file accepted")
	}
}

// TestRootOnly: the ownership and mode rules, on a file whose mode the
// test sets.
func TestRootOnly(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	write(t, p, "")
	for mode, ok := range map[os.FileMode]bool{0o755: true, 0o775: false, 0o757: false, 0o500: true} {
		os.Chmod(p, mode)
		fi, _ := os.Stat(p)
		err := rootOnly(p, fi)
		uid, _ := owner(fi)
		want := ok && uid == 0
		if (err == nil) != want {
			t.Errorf("mode %v owner %d: %v, want ok=%v", mode, uid, err, want)
		}
	}
}

// TestFindGetent: the first trusted candidate; a given path that fails
// the check means none, not a fallback to the candidates.
func TestFindGetent(t *testing.T) {
	trust := func(p string) (string, error) {
		if p == "/bin/getent" {
			return "/usr/bin/getent", nil
		}
		return "", os.ErrNotExist
	}
	if p, err := findGetent("", trust); err != nil || p != "/usr/bin/getent" {
		t.Errorf("candidates: %q %v", p, err)
	}
	if p, err := findGetent("/opt/getent", trust); err == nil {
		t.Errorf("an untrusted path gave %q", p)
	}
	if !slices.Equal(getentCandidates[:1], []string{"/usr/bin/getent"}) {
		t.Error("/usr/bin/getent is not tried first")
	}
}

// TestRealGetent runs the system's getent for root, where there is one:
// the answer lineaged reads is the one `getent passwd 0` prints.
func TestRealGetent(t *testing.T) {
	p, err := findGetent("", trustedBinary)
	if err != nil {
		t.Skipf("no trusted getent: %v", err)
	}
	ctx := t.Context()
	name, a, err := getent(ctx, p, "passwd", passwdFields, 0)
	if err != nil || a != found || name == "" {
		t.Fatalf("getent passwd 0: %q %v %v", name, a, err)
	}
	if _, a, err := getent(ctx, p, "group", groupFields, 4294967294); a != notFound {
		t.Errorf("getent group 4294967294: %v %v, want not found", a, err)
	}
}

func TestBucket(t *testing.T) {
	b := newBucket(2, 0)
	if !b.take(0) || !b.take(0) || b.take(0) {
		t.Fatal("burst of 2 not 2")
	}
	if b.take(400 * time.Millisecond) {
		t.Error("a token after 0.4 s at 2/s")
	}
	if !b.take(500*time.Millisecond) || b.take(500*time.Millisecond) {
		t.Error("not one token after 0.5 s at 2/s")
	}
	if !b.take(time.Hour) || !b.take(time.Hour) || b.take(time.Hour) {
		t.Error("more than the burst saved over an hour")
	}
}

// TestCacheBound: a full cache makes room, expired entries first, and
// never drops a pending one.
func TestCacheBound(t *testing.T) {
	c := newCache()
	c.max = 4
	c.put(1, "a", found, 0, time.Minute, time.Minute)
	c.put(2, "", notFound, 0, time.Minute, time.Minute)
	c.claim(3, 0)
	c.put(4, "d", found, 0, time.Hour, time.Minute)
	now := 10 * time.Minute // 1 and 2 answer nothing any more; 4 does
	if !c.claim(5, now) {
		t.Fatal("claim refused")
	}
	c.mu.RLock()
	_, has1 := c.m[1]
	_, has3 := c.m[3]
	_, has4 := c.m[4]
	c.mu.RUnlock()
	if has1 || !has3 || !has4 || c.len() != 3 {
		t.Errorf("after making room: 1 %v, 3 %v, 4 %v, %d entries", has1, has3, has4, c.len())
	}
	for id := uint32(10); id < 20; id++ {
		c.claim(id, now)
		c.put(id, "x", found, now, time.Hour, time.Minute)
	}
	if n := c.len(); n > 4 {
		t.Errorf("%d entries, bound 4", n)
	}
	if _, ok, _ := c.get(3, now); ok {
		t.Error("a claimed id answered")
	}
	c.mu.RLock()
	_, has3 = c.m[3]
	c.mu.RUnlock()
	if !has3 {
		t.Error("a pending entry was dropped")
	}
}
