package fanotify

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Op is a set of file operations a watch reports.
type Op uint8

const (
	OpOpen       Op = 1 << iota // open(2) of the file (FAN_OPEN)
	OpModify                    // a write or truncate (FAN_MODIFY)
	OpCloseWrite                // close of a file opened for writing (FAN_CLOSE_WRITE)
	OpExec                      // open for execve (FAN_OPEN_EXEC, 5.0+; see Kernel support)

	OpAll = OpOpen | OpModify | OpCloseWrite | OpExec
)

var opNames = []struct {
	op   Op
	name string
}{{OpOpen, "open"}, {OpModify, "modify"}, {OpCloseWrite, "close-write"}, {OpExec, "exec"}}

// String returns the operations as a comma-separated list
// ("open,close-write"), the form ParseOps reads.
func (o Op) String() string {
	var parts []string
	for _, n := range opNames {
		if o&n.op != 0 {
			parts = append(parts, n.name)
		}
	}
	if rest := o &^ OpAll; rest != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", uint8(rest)))
	}
	return strings.Join(parts, ",")
}

// ParseOps reads a list of operation names separated by commas or spaces:
// open, modify, close-write, exec, or all.
func ParseOps(s string) (Op, error) {
	var o Op
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if f == "all" {
			o |= OpAll
			continue
		}
		found := false
		for _, n := range opNames {
			if f == n.name {
				o, found = o|n.op, true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown file operation %q (want open, modify, close-write, exec or all)", f)
		}
	}
	if o == 0 {
		return 0, errors.New("no file operation named")
	}
	return o, nil
}

// MarshalText implements encoding.TextMarshaler (for the config layer).
func (o Op) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (for the config layer).
func (o *Op) UnmarshalText(b []byte) error {
	v, err := ParseOps(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// Watch is one path of the policy.
type Watch struct {
	// Path is absolute and clean. Any element may be a filepath.Match
	// pattern ("/home/*/.ssh", "/etc/cron*"), expanded when the watcher
	// opens. A directory covers itself and its direct entries.
	Path string `json:"path" yaml:"path"`
	// Ops are the operations reported for the path.
	Ops Op `json:"ops" yaml:"ops"`
	// Class says why the path is watched ("credential", "persistence",
	// "binary", "temp", or the operator's own word); events carry it as
	// the label fanotify.class.
	Class string `json:"class,omitempty" yaml:"class,omitempty"`
	// Recursive extends a directory to its whole subtree, on every mount
	// of its filesystem. It needs a filesystem mark (4.20+) or, older, a
	// mount mark, and either one makes the kernel send every matching
	// operation on the whole filesystem (or mount) for lineaged to filter
	// by path: opt in only where subdirectories matter and writes are rare.
	Recursive bool `json:"recursive,omitempty" yaml:"recursive,omitempty"`
}

// Policy is what the fanotify source watches: a struct the config layer
// fills, starting from DefaultPolicy.
type Policy struct {
	Watches []Watch `json:"watches" yaml:"watches"`
	// Exclude names paths whose events are never reported, whoever acts:
	// lineaged's output and state directories, so that nothing it writes
	// can come back to it as an event (its own pid is always excluded).
	Exclude []string `json:"exclude,omitempty" yaml:"exclude,omitempty"`
	// UnlimitedQueue lifts the kernel's queue limit of 16384 events
	// (FAN_UNLIMITED_QUEUE): no overflow, at the price of kernel memory
	// growing without bound if lineaged falls behind. Off by default.
	UnlimitedQueue bool `json:"unlimited_queue,omitempty" yaml:"unlimited_queue,omitempty"`
}

// Watch classes of the default policy.
const (
	ClassCredential  = "credential"
	ClassPersistence = "persistence"
	ClassBinary      = "binary"
	ClassTemp        = "temp"
)

// MaxTargets bounds the paths one policy expands to: the kernel limits
// marks per user (8192 before 5.13, fs.fanotify.max_user_marks after),
// and a pattern over a huge /home must not exhaust them.
const MaxTargets = 4096

// DefaultPolicy returns the credential, persistence, binary and staging
// paths an intruder touches. Reads are reported only where reading is
// itself the signal (shadow files, sudoers, ssh keys); elsewhere changes,
// and in the temporary directories executions too.
func DefaultPolicy() Policy {
	const (
		readWrite = OpOpen | OpModify | OpCloseWrite
		write     = OpModify | OpCloseWrite
	)
	var w []Watch
	add := func(ops Op, class string, paths ...string) {
		for _, p := range paths {
			w = append(w, Watch{Path: p, Ops: ops, Class: class})
		}
	}
	add(readWrite, ClassCredential,
		"/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/sudoers.d",
		"/root/.ssh", "/home/*/.ssh")
	// Every getpwnam(3) opens these two: only changes are worth a line.
	add(write, ClassCredential, "/etc/passwd", "/etc/group")
	add(write, ClassPersistence,
		// /etc itself: a file created there (ld.so.preload, crontab,
		// rc.local where it did not exist) is seen although its own
		// path, missing at start, could not be marked.
		"/etc",
		"/etc/ld.so.preload", "/etc/ld.so.conf.d", "/etc/pam.d", "/etc/ssh",
		"/etc/cron*", "/var/spool/cron", "/var/spool/cron/crontabs",
		"/etc/systemd/system", "/usr/lib/systemd/system",
		"/etc/rc.local", "/etc/init.d",
		"/etc/profile", "/etc/profile.d", "/etc/bash.bashrc", "/etc/bashrc",
		"/root", // its rc files: .bashrc, .profile, .bash_profile
		"/home/*/.bashrc", "/home/*/.bash_profile", "/home/*/.bash_login",
		"/home/*/.profile", "/home/*/.zshrc")
	// Binaries: a change is the signal (a replaced or trojaned tool). Their
	// executions are every exec on the host, which audit and the proc
	// connector already report with more context: watching them here too
	// would double the output and the cost.
	add(write, ClassBinary,
		"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin")
	// Writes in temporary directories are constant; a finished file
	// (close-write) and an execution from there are what matter.
	add(OpCloseWrite|OpExec, ClassTemp, "/tmp", "/var/tmp", "/dev/shm")
	return Policy{Watches: w}
}

// Validate checks the policy without touching the filesystem. Errors name
// the field, as the config file spells it.
func (p *Policy) Validate() error {
	if len(p.Watches) == 0 {
		return errors.New("watches: no path to watch")
	}
	for i, w := range p.Watches {
		if err := checkPath(w.Path); err != nil {
			return fmt.Errorf("watches[%d].path %q: %w", i, w.Path, err)
		}
		if hasMeta(w.Path) {
			if _, err := filepath.Match(w.Path, ""); err != nil {
				return fmt.Errorf("watches[%d].path %q: %w", i, w.Path, err)
			}
		}
		if w.Ops == 0 {
			return fmt.Errorf("watches[%d].ops: no file operation named", i)
		}
		if w.Ops&^OpAll != 0 {
			return fmt.Errorf("watches[%d].ops: unknown operation bits %s", i, w.Ops)
		}
	}
	for i, e := range p.Exclude {
		if err := checkPath(e); err != nil {
			return fmt.Errorf("exclude[%d] %q: %w", i, e, err)
		}
		if hasMeta(e) {
			return fmt.Errorf("exclude[%d] %q: patterns are not supported here", i, e)
		}
	}
	return nil
}

func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty")
	case strings.IndexByte(p, 0) >= 0:
		return errors.New("contains a NUL byte")
	case !filepath.IsAbs(p):
		return errors.New("not absolute")
	case filepath.Clean(p) != p:
		return fmt.Errorf("not clean (write %q)", filepath.Clean(p))
	case p == "/":
		// An inode mark on / would be harmless, but a recursive one
		// would send every file operation of the root filesystem.
		return errors.New("/ itself cannot be watched: name the directories")
	}
	return nil
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// Target is one watched path after expansion: a file or directory that
// existed when the policy was resolved.
type Target struct {
	Path      string // as the policy expanded it
	Real      string // symlinks resolved: the path the kernel reports
	Dir       bool
	Ops       Op
	Class     string
	Recursive bool // only for directories
}

// Skipped is a watch (or one expansion of it) that could not be used,
// and why. Skipping is not fatal: a missing path on one host is normal.
type Skipped struct {
	Path   string
	Reason string
}

// Resolved is a policy expanded against the filesystem.
type Resolved struct {
	Targets []Target
	Skipped []Skipped
	// Exclude holds the excluded paths, each also in its symlink-resolved
	// form when that differs, for prefix matching.
	Exclude []string
	// ExcludeFiles are the excluded paths that are regular files now:
	// they get an ignore mark, so the kernel drops their events early.
	ExcludeFiles []string
}

// Resolve validates the policy, expands its patterns, resolves symlinks
// (so /bin and /usr/bin on a merged-/usr system become one target with
// the union of their operations), and sets aside what does not exist.
func (p *Policy) Resolve() (Resolved, error) { return p.resolve(MaxTargets) }

func (p *Policy) resolve(limit int) (Resolved, error) {
	var r Resolved
	if err := p.Validate(); err != nil {
		return r, err
	}
	index := map[string]int{}
	for _, w := range p.Watches {
		paths := []string{w.Path}
		if hasMeta(w.Path) {
			m, _ := filepath.Glob(w.Path) // pattern checked by Validate
			if len(m) == 0 {
				r.Skipped = append(r.Skipped, Skipped{w.Path, "no path matches the pattern"})
				continue
			}
			paths = m
		}
		for _, path := range paths {
			t, reason := resolveTarget(w, path)
			if reason != "" {
				r.Skipped = append(r.Skipped, Skipped{path, reason})
				continue
			}
			if i, ok := index[t.Real]; ok {
				r.Targets[i].Ops |= t.Ops
				r.Targets[i].Recursive = r.Targets[i].Recursive || t.Recursive
				continue
			}
			if len(r.Targets) >= limit {
				r.Skipped = append(r.Skipped, Skipped{path, fmt.Sprintf("more than %d watched paths", limit)})
				continue
			}
			index[t.Real] = len(r.Targets)
			r.Targets = append(r.Targets, t)
		}
	}
	for _, e := range p.Exclude {
		r.Exclude = append(r.Exclude, e)
		real, err := filepath.EvalSymlinks(e)
		if err != nil {
			continue // not there yet: the configured path still filters
		}
		if real != e {
			r.Exclude = append(r.Exclude, real)
		}
		if fi, err := os.Stat(real); err == nil && fi.Mode().IsRegular() {
			r.ExcludeFiles = append(r.ExcludeFiles, real)
		}
	}
	return r, nil
}

func resolveTarget(w Watch, path string) (Target, string) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return Target{}, reason(err)
	}
	if real == "/" {
		return Target{}, "resolves to /, which cannot be watched"
	}
	fi, err := os.Stat(real)
	if err != nil {
		return Target{}, reason(err)
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return Target{}, "not a regular file or directory (" + fi.Mode().Type().String() + ")"
	}
	return Target{Path: path, Real: real, Dir: fi.IsDir(), Ops: w.Ops, Class: w.Class,
		Recursive: w.Recursive && fi.IsDir()}, ""
}

func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}
