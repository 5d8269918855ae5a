package fanotify

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// Caps are the kernel features a watcher runs with, as probed (and as a
// legacy profile leaves them).
type Caps struct {
	ReportFID      bool // FAN_REPORT_FID (5.1): events carry file handles, not fds
	ReportDirName  bool // FAN_REPORT_DIR_FID|FAN_REPORT_NAME (5.9): parent handle + entry name
	MarkFilesystem bool // FAN_MARK_FILESYSTEM (4.20)
	OpenExec       bool // FAN_OPEN_EXEC (5.0)
}

// MarkKind is the object a mark is attached to.
type MarkKind uint8

const (
	MarkInode      MarkKind = iota // one file, or a directory and its entries
	MarkMount                      // one mount (a vfsmount), recursive fallback before 4.20
	MarkFilesystem                 // a whole filesystem (super block), every mount of it
	MarkIgnore                     // an ignore mask on one file (excluded path)
)

func (k MarkKind) String() string {
	switch k {
	case MarkMount:
		return "mount"
	case MarkFilesystem:
		return "filesystem"
	case MarkIgnore:
		return "ignore"
	}
	return "inode"
}

// Mark is one fanotify_mark(2) call the watcher makes (or made).
type Mark struct {
	Path  string
	Kind  MarkKind
	Flags uint   // FAN_MARK_* flags passed
	Mask  uint64 // FAN_* event bits passed
	FID   bool   // in the group that reports fids (false: the fd group)
	Err   error  // nil when the kernel accepted it
}

// eventMask turns operations into the FAN_* bits to ask for. Without
// FAN_OPEN_EXEC (before 5.0) an exec watch asks for FAN_OPEN instead: the
// watcher then reports opens of files that have an execute bit as opens,
// and the exec itself is left to the audit and proc connector sources.
func eventMask(ops Op, c Caps) uint64 {
	var m uint64
	if ops&OpOpen != 0 {
		m |= fanOpen
	}
	if ops&OpModify != 0 {
		m |= fanModify
	}
	if ops&OpCloseWrite != 0 {
		m |= fanCloseWrite
	}
	if ops&OpExec != 0 {
		if c.OpenExec {
			m |= fanOpenExec
		} else {
			m |= fanOpen
		}
	}
	return m
}

// initFlags are the fanotify_init flags of a group: always the
// notification class (observe, never decide), close-on-exec and
// non-blocking (Read polls, so Close can interrupt it).
func initFlags(fid, dirName, unlimited bool) uint {
	f := uint(fanClassNotif | fanCloexec | fanNonblock)
	if fid {
		f |= fanReportFID
		if dirName {
			f |= fanReportDFIDName
		}
	}
	if unlimited {
		f |= fanUnlimitedQueue
	}
	return f
}

// checkInit and checkMask are the guards every fanotify_init and
// fanotify_mark call of this package passes through: a permission class
// or a permission event would let lineaged block file access on the host,
// which it must never be able to do, whatever a caller or a bug asks.
func checkInit(flags uint) error {
	if flags&fanClassBits != 0 {
		return fmt.Errorf("fanotify: refusing init flags %#x: only FAN_CLASS_NOTIF is allowed", flags)
	}
	return nil
}

func checkMask(mask uint64) error {
	if mask&fanPermEvents != 0 {
		return fmt.Errorf("fanotify: refusing mark mask %#x: permission events are never used", mask)
	}
	return nil
}

// planMarks lists the marks for the targets: an inode mark per target
// (FAN_EVENT_ON_CHILD on directories, so their entries are covered), and
// for a recursive directory a filesystem mark, or before 4.20 a mount mark
// plus the inode mark (which also sees the directory's entries reached
// through other mounts, e.g. a container's bind mount). Ignore marks for
// excluded files come last, over the union of the masks.
func planMarks(targets []Target, excludeFiles []string, c Caps) []Mark {
	var marks []Mark
	var all uint64
	for _, t := range targets {
		mask := eventMask(t.Ops, c)
		all |= mask
		if t.Recursive && t.Dir {
			if c.MarkFilesystem {
				marks = append(marks, Mark{Path: t.Real, Kind: MarkFilesystem, Flags: fanMarkAdd | fanMarkFilesystem, Mask: mask})
				continue
			}
			marks = append(marks, Mark{Path: t.Real, Kind: MarkMount, Flags: fanMarkAdd | fanMarkMount, Mask: mask})
		}
		if t.Dir {
			mask |= fanEventOnChild
		}
		marks = append(marks, Mark{Path: t.Real, Kind: MarkInode, Flags: fanMarkAdd | fanMarkInode, Mask: mask})
	}
	for _, f := range excludeFiles {
		// IGNORED_SURV_MODIFY: without it the kernel clears an ignore
		// mask at the file's first modification, and lineaged's own
		// output is modified constantly.
		marks = append(marks, Mark{Path: f, Kind: MarkIgnore,
			Flags: fanMarkAdd | fanMarkIgnoredMask | fanMarkIgnoredSurvModify, Mask: all})
	}
	return marks
}

// matcher decides, from a resolved path, whether an event is in the
// policy's scope, with which operations and class, and whether it is
// excluded.
type matcher struct {
	exact map[string]*Target // by Real: the file or directory itself
	dirs  map[string]*Target // directories, for their direct entries
	rec   []*Target          // recursive directories, longest path first
	excl  []string
}

func newMatcher(r Resolved) *matcher {
	m := &matcher{exact: map[string]*Target{}, dirs: map[string]*Target{}, excl: r.Exclude}
	for i := range r.Targets {
		t := &r.Targets[i]
		m.exact[t.Real] = t
		if t.Dir {
			m.dirs[t.Real] = t
		}
		if t.Recursive {
			m.rec = append(m.rec, t)
		}
	}
	sort.SliceStable(m.rec, func(i, j int) bool { return len(m.rec[i].Real) > len(m.rec[j].Real) })
	return m
}

// excluded reports whether p is an excluded path or lies under one.
func (m *matcher) excluded(p string) bool {
	for _, e := range m.excl {
		if under(p, e) {
			return true
		}
	}
	return false
}

// lookup returns the union of the operations of every target covering p,
// and the class of the most specific one (the path itself, then its
// directory, then the deepest recursive directory).
func (m *matcher) lookup(p string) (ops Op, class string, ok bool) {
	take := func(t *Target) {
		if ops == 0 {
			class = t.Class
		}
		ops |= t.Ops
	}
	if t := m.exact[p]; t != nil {
		take(t)
	}
	if t := m.dirs[filepath.Dir(p)]; t != nil && p != "/" {
		take(t)
	}
	for _, t := range m.rec {
		if under(p, t.Real) {
			take(t)
		}
	}
	return ops, class, ops != 0
}

func under(p, dir string) bool {
	return p == dir || (strings.HasPrefix(p, dir) && len(p) > len(dir) && p[len(dir)] == '/')
}

// maskOps maps delivered FAN_* bits to operations.
func maskOps(mask uint64) Op {
	var o Op
	if mask&fanOpen != 0 {
		o |= OpOpen
	}
	if mask&fanModify != 0 {
		o |= OpModify
	}
	if mask&fanCloseWrite != 0 {
		o |= OpCloseWrite
	}
	if mask&fanOpenExec != 0 {
		o |= OpExec
	}
	return o
}

// reportOps decides which operations of one event are reported, given the
// operations the covering watches want. The kernel merges queued events on
// the same file by the same process, so one event can carry several.
//
// An exec also sets FAN_OPEN: where the watch wants the exec, the open is
// the exec's and is folded into it. Without FAN_OPEN_EXEC an exec watch
// asked for FAN_OPEN: such an open is kept (as an open) only when the file
// has an execute bit; execBit is asked only then, since it costs a stat.
func reportOps(got, want Op, openExec bool, execBit func() bool) Op {
	if got&OpExec != 0 && want&OpExec != 0 {
		got &^= OpOpen
	}
	keep := want
	if !openExec && want&OpExec != 0 && want&OpOpen == 0 && got&OpOpen != 0 && execBit() {
		keep |= OpOpen
	}
	return got & keep
}
