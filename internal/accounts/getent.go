package accounts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// systemDirs are where a getent lineaged runs may live, after symbolic
// links are resolved (/bin is a link to /usr/bin on merged-/usr systems).
var systemDirs = []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin"}

// getentCandidates are tried in order when Config.Getent is empty.
var getentCandidates = []string{"/usr/bin/getent", "/bin/getent", "/usr/sbin/getent", "/sbin/getent"}

// trustedBinary resolves path to the file lineaged would execute and
// checks that only root could have put it there: an absolute path whose
// real location is in one of systemDirs, a regular executable file owned
// by root and writable by no one else, in directories up to / that are
// owned by root and writable by no one else. lineaged runs as root, so a
// getent found through PATH, or one a user could replace, would run that
// user's program as root on the next unknown uid.
func trustedBinary(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("%s: not an absolute path", path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	if !slices.Contains(systemDirs, filepath.Dir(real)) {
		return "", fmt.Errorf("%s: %s is not in a system directory (%v)", path, real, systemDirs)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%s: not an executable regular file", real)
	}
	if err := rootOnly(real, fi); err != nil {
		return "", err
	}
	for d := filepath.Dir(real); ; d = filepath.Dir(d) {
		di, err := os.Stat(d)
		if err != nil {
			return "", err
		}
		if err := rootOnly(d, di); err != nil {
			return "", err
		}
		if d == "/" {
			break
		}
	}
	return real, nil
}

// rootOnly: owned by root, writable by neither group nor others.
func rootOnly(path string, fi os.FileInfo) error {
	uid, ok := owner(fi)
	switch {
	case !ok:
		return fmt.Errorf("%s: owner unknown", path)
	case uid != 0:
		return fmt.Errorf("%s: owned by uid %d, not root", path, uid)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s: writable by group or others (%v)", path, fi.Mode().Perm())
	}
	return nil
}

// findGetent picks the getent to run: want if set, else the first
// trusted candidate. The error says why there is none.
func findGetent(want string, trust func(string) (string, error)) (string, error) {
	if want != "" {
		return trust(want)
	}
	var errs []error
	for _, c := range getentCandidates {
		p, err := trust(c)
		if err == nil {
			return p, nil
		}
		errs = append(errs, err)
	}
	return "", errors.Join(errs...)
}

// answer is what one getent run said.
type answer int

const (
	found    answer = iota // exit 0 and a line for the id asked
	notFound               // exit 2: no such id in any NSS source
	failed                 // anything else: timeout, another exit, a line for another id
)

// maxOutput bounds what is kept of getent's output: one passwd line.
const maxOutput = 4096

// getent runs "getent passwd|group ID" and reads its answer. The
// environment is fixed (no inherited LD_PRELOAD or NSS settings from
// the agent's own environment), the directory is /, and the process is
// killed when ctx ends; WaitDelay bounds the wait for a child that kept
// getent's stdout open.
func getent(ctx context.Context, bin string, db string, fields int, id uint32) (string, answer, error) {
	cmd := exec.CommandContext(ctx, bin, db, strconv.FormatUint(uint64(id), 10))
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	cmd.Dir = "/"
	var out capped
	cmd.Stdout = &out
	cmd.WaitDelay = 200 * time.Millisecond
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", failed, fmt.Errorf("getent %s %d: %w", db, id, ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 2 {
		return "", notFound, nil
	}
	if err != nil {
		return "", failed, fmt.Errorf("getent %s %d: %w", db, id, err)
	}
	line, _, _ := bytes.Cut(out.b, []byte{'\n'})
	name, got, ok := parseLine(line, fields)
	if !ok || got != id {
		return "", failed, fmt.Errorf("getent %s %d: answered %q", db, id, line)
	}
	return name, found, nil
}

// capped keeps the first maxOutput bytes written to it and takes the
// rest without keeping it, so a runaway getent cannot grow the agent.
type capped struct{ b []byte }

func (c *capped) Write(p []byte) (int, error) {
	if room := maxOutput - len(c.b); room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// bucket is a token bucket: rate tokens a second, at most burst saved.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Duration // the clock when tokens was computed
}

func newBucket(rate int, now time.Duration) *bucket {
	return &bucket{rate: float64(rate), burst: float64(rate), tokens: float64(rate), last: now}
}

// take spends a token if there is one.
func (b *bucket) take(now time.Duration) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now > b.last {
		b.tokens = min(b.burst, b.tokens+b.rate*(now-b.last).Seconds())
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
