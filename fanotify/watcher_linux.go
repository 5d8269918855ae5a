//go:build linux

package fanotify

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lineaged/lineaged/feature"
)

// Watcher is an open fanotify source: one or two notification groups
// with the policy's marks, read by the caller.
//
// Read is meant for one goroutine (concurrent calls are serialised);
// Close may be called from any goroutine, any number of times.
type Watcher struct {
	readMu sync.Mutex   // one Read at a time (pfds, pathBuf)
	mu     sync.RWMutex // Read holds it shared; Close exclusively, so no fd is closed under a poll
	once   sync.Once
	closed atomic.Bool
	wake   int // eventfd: Close writes it to end a pending poll

	groups  []*group
	pfds    []unix.PollFd // wake, then one per group
	pathBuf []byte

	match   *matcher
	allOps  Op
	inodes  map[fileID]bool // files with inode marks (see handle)
	self    int
	caps    Caps
	rows    []feature.Capability
	marks   []Mark
	skipped []Skipped
	notes   []string

	events, overflows, selfEvents, excluded, outOfScope, unresolved, malformed atomic.Uint64
}

// group is one fanotify_init group. A watcher has at most two: one that
// reports file handles (5.1+) and one that reports event fds, for kernels
// without FID and for filesystems that cannot encode handles.
type group struct {
	fd      int
	fid     bool // FAN_REPORT_FID
	dirName bool // FAN_REPORT_DIR_FID|FAN_REPORT_NAME
	broad   bool // has a mount or filesystem mark: events need the path filter
	// mounts holds, per filesystem id, directory fds on that filesystem:
	// open_by_handle_at needs one to know where to decode a handle.
	mounts map[[2]int32][]mountRef
}

type mountRef struct {
	dev uint64
	fd  int
}

type fileID struct{ dev, ino uint64 }

// Open resolves the policy, probes the kernel, and marks the watched
// paths. Paths that do not exist or cannot be marked are skipped (see
// Skipped); Open fails only when fanotify cannot be used at all, the
// policy is invalid, or nothing could be marked.
func Open(p Policy) (*Watcher, error) {
	res, err := p.Resolve()
	if err != nil {
		return nil, err
	}
	caps, rows, err := probe()
	if err != nil {
		return nil, err
	}
	return open(res, caps, rows, p.UnlimitedQueue)
}

func open(res Resolved, caps Caps, rows []feature.Capability, unlimited bool) (_ *Watcher, err error) {
	w := &Watcher{
		wake:    -1,
		pathBuf: make([]byte, unix.PathMax+1),
		match:   newMatcher(res),
		inodes:  map[fileID]bool{},
		self:    os.Getpid(),
		caps:    caps,
		rows:    rows,
		skipped: append([]Skipped(nil), res.Skipped...),
	}
	defer func() {
		if err != nil {
			w.closeFDs()
		}
	}()
	// The eventfd is Close's doorbell: Read polls it beside the groups.
	// EFD_NONBLOCK since it is only ever polled and written once;
	// EFD_CLOEXEC (2.6.27) so no child inherits it. EMFILE/ENFILE: out of
	// descriptors; ENOMEM: out of kernel memory.
	if w.wake, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return nil, &OpError{Op: "eventfd", Err: err}
	}
	if w.caps.ReportFID {
		paths := make([]string, 0, len(res.Targets))
		for _, t := range res.Targets {
			paths = append(paths, t.Real)
		}
		if herr := handlesUsable(paths); herr != nil {
			w.caps.ReportFID, w.caps.ReportDirName = false, false
			w.notes = append(w.notes, fmt.Sprintf("file handles cannot be opened (%v): using event fds", herr))
		}
	}
	for _, t := range res.Targets {
		w.allOps |= t.Ops
	}
	// Marks are placed in plan order; a refused one is recorded and, where
	// possible, replaced (see addMark). Only a group that cannot be
	// created at all fails Open.
	plan := planMarks(res.Targets, res.ExcludeFiles, w.caps)
	for _, mk := range plan {
		if mk.Kind != MarkIgnore {
			if err := w.addMark(mk, unlimited); err != nil {
				return nil, err
			}
		}
	}
	if len(w.groups) == 0 {
		return nil, fmt.Errorf("%w (%d paths skipped)", errNothingToWatch, len(w.skipped))
	}
	// Ignore masks belong to a group: every group gets them. A failure
	// only costs the early drop; the path filter still excludes.
	for _, mk := range plan {
		if mk.Kind != MarkIgnore {
			continue
		}
		for _, g := range w.groups {
			mk := mk
			mk.FID = g.fid
			mk.Err = wrapMark(mk.Path, fanotifyMark(g.fd, mk.Flags, mk.Mask, mk.Path))
			w.marks = append(w.marks, mk)
		}
	}
	// The inodes of marked files, for events a broad group catches under
	// a name no watch matches (see handle). A file replaced by rename
	// after this point is a new inode its mark does not follow either.
	for _, t := range res.Targets {
		if t.Dir {
			continue
		}
		var st unix.Stat_t
		if unix.Stat(t.Real, &st) == nil {
			w.inodes[fileID{uint64(st.Dev), uint64(st.Ino)}] = true
		}
	}
	w.pfds = []unix.PollFd{{Fd: int32(w.wake), Events: unix.POLLIN}}
	for _, g := range w.groups {
		w.pfds = append(w.pfds, unix.PollFd{Fd: int32(g.fd), Events: unix.POLLIN})
	}
	return w, nil
}

// handlesUsable checks that this process may decode file handles:
// open_by_handle_at needs CAP_DAC_READ_SEARCH (EPERM without it), and a
// FID group whose handles cannot be opened would resolve no path. It
// tries the watched paths until one answers: a filesystem without
// handles (name_to_handle_at: EOPNOTSUPP) says nothing about privilege,
// and such paths go to the fd group anyway when marked.
func handlesUsable(paths []string) error {
	for _, p := range paths {
		h, _, err := unix.NameToHandleAt(unix.AT_FDCWD, p, 0)
		if err != nil {
			continue
		}
		mfd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue // e.g. EACCES on a file: try the next path
		}
		fd, err := unix.OpenByHandleAt(mfd, h, unix.O_PATH|unix.O_CLOEXEC)
		unix.Close(mfd)
		if err == nil {
			unix.Close(fd)
			return nil
		}
		if errors.Is(err, unix.EPERM) {
			return &OpError{Op: "open_by_handle_at", Path: p, Err: err}
		}
		// ESTALE and the like: this handle, not the privilege.
	}
	return nil // inconclusive: marks and resolution will tell
}

// group returns the watcher's FID or fd group, creating it on first use.
func (w *Watcher) group(fid, unlimited bool) (*group, error) {
	for _, g := range w.groups {
		if g.fid == fid {
			return g, nil
		}
	}
	dirName := fid && w.caps.ReportDirName
	// The probe's group was accepted, so an error here is about resources
	// (EMFILE: fs.fanotify.max_user_groups, 128 by default; ENOMEM), or a
	// privilege lost since: Open fails with the reason.
	fd, err := fanotifyInit(initFlags(fid, dirName, unlimited))
	if err != nil {
		return nil, explainInit(err)
	}
	g := &group{fd: fd, fid: fid, dirName: dirName, mounts: map[[2]int32][]mountRef{}}
	w.groups = append(w.groups, g)
	return g, nil
}

// addMark places one planned mark, degrading where the kernel or the
// filesystem refuses: a filesystem that cannot report handles moves to
// the fd group, a refused filesystem mark becomes a mount mark plus an
// inode mark, a refused mount mark leaves the inode mark alone. Only a
// failure to create a group is returned; refused marks are recorded.
func (w *Watcher) addMark(mk Mark, unlimited bool) error {
	if w.caps.ReportFID {
		g, err := w.group(true, unlimited)
		if err != nil {
			return err
		}
		err = fanotifyMark(g.fd, mk.Flags, mk.Mask, mk.Path)
		if err == nil {
			mk.FID = true
			w.placed(g, mk)
			return nil
		}
		if !fidUnsupported(err) {
			return w.refused(mk, err, unlimited)
		}
		// ENODEV: the filesystem has a zero fsid (tmpfs before 6.7,
		// among others); EOPNOTSUPP: it cannot encode file handles;
		// EXDEV: the path's fsid differs from its filesystem's (btrfs
		// subvolumes, 6.8+). The fd group works on all of them.
		w.notes = append(w.notes, fmt.Sprintf("%s: no file handles on this filesystem (%v): using event fds", mk.Path, err))
	}
	g, err := w.group(false, unlimited)
	if err != nil {
		return err
	}
	if err := fanotifyMark(g.fd, mk.Flags, mk.Mask, mk.Path); err != nil {
		return w.refused(mk, err, unlimited)
	}
	w.placed(g, mk)
	return nil
}

// fidUnsupported tells the errnos of fanotify_mark in a FID group that
// are about the filesystem, not the mark (see addMark).
func fidUnsupported(err error) bool {
	return errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EXDEV)
}

// placed records an accepted mark. A mount or filesystem mark makes its
// group broad: the kernel then sends events from outside the watched
// paths, which handle filters out.
func (w *Watcher) placed(g *group, mk Mark) {
	if mk.Kind == MarkMount || mk.Kind == MarkFilesystem {
		g.broad = true
	}
	if g.fid {
		w.addMount(g, mk.Path)
	}
	w.marks = append(w.marks, mk)
}

// refused records a mark the kernel would not take, and places what can
// replace it.
func (w *Watcher) refused(mk Mark, err error, unlimited bool) error {
	mk.Err = wrapMark(mk.Path, err)
	w.marks = append(w.marks, mk)
	switch {
	case errors.Is(err, unix.ENOENT):
		// The path went away between Resolve and the mark.
		w.skipped = append(w.skipped, Skipped{mk.Path, "does not exist"})
		return nil
	case errors.Is(err, unix.ENOSPC):
		// ENOSPC: the per-user mark limit (fs.fanotify.max_user_marks).
		w.skipped = append(w.skipped, Skipped{mk.Path, "fanotify mark limit reached (fs.fanotify.max_user_marks)"})
		return nil
	}
	// EINVAL, EPERM and the rest depend on the kind of mark. An inode
	// mark refused otherwise (EACCES: no search permission on the path;
	// ENOTDIR: a path element is not a directory) skips its path.
	switch mk.Kind {
	case MarkFilesystem:
		// EINVAL for filesystems a sb mark is not allowed on, EPERM
		// without CAP_SYS_ADMIN in the initial user namespace.
		w.notes = append(w.notes, fmt.Sprintf("%s: filesystem mark refused (%v): mount and inode marks instead", mk.Path, err))
		mount := Mark{Path: mk.Path, Kind: MarkMount, Flags: fanMarkAdd | fanMarkMount, Mask: mk.Mask}
		inode := Mark{Path: mk.Path, Kind: MarkInode, Flags: fanMarkAdd | fanMarkInode, Mask: mk.Mask | fanEventOnChild}
		if err := w.addMark(mount, unlimited); err != nil {
			return err
		}
		return w.addMark(inode, unlimited)
	case MarkMount:
		// EINVAL: a mount mark is refused on this kind of mount; the
		// planned inode mark that follows still covers direct entries.
		w.notes = append(w.notes, fmt.Sprintf("%s: mount mark refused (%v): subdirectories not covered", mk.Path, err))
		return nil
	}
	w.skipped = append(w.skipped, Skipped{mk.Path, mk.Err.Error()})
	return nil
}

func wrapMark(path string, err error) error {
	if err == nil {
		return nil
	}
	return &OpError{Op: "fanotify_mark", Path: path, Err: err}
}

// addMount keeps a directory fd on the filesystem of path, keyed by its
// fsid, for open_by_handle_at. An O_PATH fd would not do: the kernel
// looks the mount fd up with fdget, which ignores O_PATH files (EBADF).
func (w *Watcher) addMount(g *group, path string) {
	// statfs(2) f_fsid is the very value the kernel puts in each fid
	// record (__kernel_fsid_t); st_dev tells apart two filesystems that
	// share an fsid, each of which needs its own mount fd.
	var sfs unix.Statfs_t
	var st unix.Stat_t
	if err := unix.Statfs(path, &sfs); err != nil {
		w.notes = append(w.notes, fmt.Sprintf("%s: statfs: %v: its events will have no path", path, err))
		return
	}
	if err := unix.Stat(path, &st); err != nil {
		w.notes = append(w.notes, fmt.Sprintf("%s: stat: %v: its events will have no path", path, err))
		return
	}
	for _, r := range g.mounts[sfs.Fsid.Val] {
		if r.dev == uint64(st.Dev) {
			return
		}
	}
	dir := path
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		dir = filepath.Dir(path)
	}
	// Opening a directory raises no event: no mark asks for FAN_ONDIR.
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		w.notes = append(w.notes, fmt.Sprintf("%s: open: %v: its events will have no path", dir, err))
		return
	}
	g.mounts[sfs.Fsid.Val] = append(g.mounts[sfs.Fsid.Val], mountRef{dev: uint64(st.Dev), fd: fd})
}

// Read waits for events and returns them: at least one, unless an error
// is returned (a decode error may come with the events decoded before
// it). buf is scratch for the raw read, at least MinReadBuffer bytes; the
// events do not refer to it. After Close, and when Close interrupts it,
// Read returns ErrClosed.
func (w *Watcher) Read(buf []byte) ([]Event, error) {
	if len(buf) < MinReadBuffer {
		return nil, errShortBuffer
	}
	w.readMu.Lock()
	defer w.readMu.Unlock()
	w.mu.RLock()
	defer w.mu.RUnlock()
	for {
		if w.closed.Load() {
			return nil, ErrClosed
		}
		for i := range w.pfds {
			w.pfds[i].Revents = 0
		}
		if _, err := unix.Poll(w.pfds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue // a signal (Go's preemption sends SIGURG)
			}
			return nil, &OpError{Op: "poll", Err: err}
		}
		// The eventfd is only ever written by Close: closing wins over
		// events that arrived at the same moment.
		if w.pfds[0].Revents != 0 {
			return nil, ErrClosed
		}
		var out []Event
		var rerr error
		for i, g := range w.groups {
			re := w.pfds[i+1].Revents
			if re == 0 {
				continue
			}
			if re&unix.POLLIN == 0 {
				// POLLERR or POLLNVAL without data: returning keeps a
				// broken descriptor from spinning this loop.
				rerr = &OpError{Op: "poll", Err: fmt.Errorf("fanotify fd revents %#x", re)}
				continue
			}
			var err error
			out, err = w.readGroup(g, buf, out)
			if err != nil && rerr == nil {
				rerr = err
			}
		}
		if len(out) > 0 || rerr != nil {
			return out, rerr
		}
	}
}

func (w *Watcher) readGroup(g *group, buf []byte, out []Event) ([]Event, error) {
	// One read returns as many whole events as fit in buf (never a part
	// of one); the fds in them are now this process's to close.
	n, err := unix.Read(g.fd, buf)
	if err != nil {
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			return out, nil // nothing after all (the group is non-blocking)
		}
		// EINVAL: buf too small for the next event (not with
		// MinReadBuffer); EFAULT: buf invalid.
		return out, &OpError{Op: "read", Err: err}
	}
	now := time.Now()
	d := NewDecoder(buf[:n])
	for d.Next() {
		out = w.handle(g, d.Metadata(), d.Info(), now, out)
	}
	if err := d.Err(); err != nil {
		w.malformed.Add(1)
		return out, &OpError{Op: "decode", Err: err}
	}
	return out, nil
}

// object is what is known of an event's file while it is being handled:
// its path, and a descriptor to stat it by.
type object struct {
	path   string
	fd     int // the event fd or an O_PATH fd on the file, or -1
	dirfd  int // O_PATH fd on its directory (DFID_NAME), or -1
	name   string
	owned  []int // fds this package opened for the event
	st     unix.Stat_t
	statOK bool
	stated bool
}

func (o *object) stat() (*unix.Stat_t, bool) {
	if !o.stated {
		o.stated = true
		switch {
		case o.fd >= 0:
			o.statOK = unix.Fstat(o.fd, &o.st) == nil
		case o.dirfd >= 0 && o.name != "":
			o.statOK = unix.Fstatat(o.dirfd, o.name, &o.st, unix.AT_SYMLINK_NOFOLLOW) == nil
		}
	}
	return &o.st, o.statOK
}

func (o *object) close() {
	for _, fd := range o.owned {
		unix.Close(fd)
	}
}

// handle filters and converts one event. It closes the event's fd on
// every path: each event of an fd group holds an open file, and a leaked
// one per event would exhaust the process's descriptors within seconds.
func (w *Watcher) handle(g *group, m EventMetadata, info []byte, now time.Time, out []Event) []Event {
	if m.FD >= 0 {
		defer unix.Close(int(m.FD))
	}
	if m.Mask&fanQOverflow != 0 {
		n := w.overflows.Add(1)
		return append(out, Event{Time: now, Mask: m.Mask, Overflow: true, Overflows: n})
	}
	// The feedback guard: nothing lineaged does itself is reported, and
	// the check costs nothing, so it comes before any path lookup.
	if int(m.PID) == w.self {
		w.selfEvents.Add(1)
		return out
	}
	got := maskOps(m.Mask)
	if got == 0 {
		return out
	}
	o := object{fd: -1, dirfd: -1}
	defer o.close()
	if g.fid {
		w.resolveFID(g, info, &o)
	} else if m.FD >= 0 {
		o.fd = int(m.FD)
		o.path = w.fdPath(o.fd)
	}
	var (
		want  Op
		class string
		ok    bool
	)
	if o.path == "" {
		w.unresolved.Add(1)
		if g.broad {
			return out // cannot tell whether it is in scope
		}
	} else {
		if w.match.excluded(o.path) {
			w.excluded.Add(1)
			return out
		}
		want, class, ok = w.match.lookup(o.path)
	}
	if !ok {
		// An inode mark reports its file under any name: a hard link
		// elsewhere, or a path in another mount namespace. In a group
		// with only inode marks every event is ours; in a group with
		// broad marks, only those on an inode-marked file are.
		if g.broad {
			st, statOK := o.stat()
			if !statOK || !w.inodes[fileID{uint64(st.Dev), uint64(st.Ino)}] {
				w.outOfScope.Add(1)
				return out
			}
		}
		want = w.allOps
	}
	ops := reportOps(got, want, w.caps.OpenExec, func() bool {
		st, ok := o.stat()
		return ok && st.Mode&0o111 != 0
	})
	if ops == 0 {
		w.outOfScope.Add(1)
		return out
	}
	w.events.Add(1)
	return append(out, Event{Time: now, Mask: m.Mask, Ops: ops, PID: int(m.PID), Path: o.path, Class: class})
}

// resolveFID finds the event's path from its info records: the parent's
// handle and the entry's name (DFID_NAME, 5.9+), or the file's own handle
// (FID, 5.1+).
func (w *Watcher) resolveFID(g *group, info []byte, o *object) {
	var best FID
	found := false
	d := NewInfoDecoder(info)
	for d.Next() {
		t := d.Type()
		if t != fanEventInfoTypeFID && t != fanEventInfoTypeDFIDName {
			continue // DFID without a name cannot say which entry; others are not ours
		}
		var f FID
		if err := f.UnmarshalBinary(d.Record()); err != nil {
			w.malformed.Add(1)
			return
		}
		if !found || t == fanEventInfoTypeDFIDName {
			best, found = f, true
		}
	}
	if d.Err() != nil {
		w.malformed.Add(1)
		return
	}
	if !found {
		return
	}
	fd := w.openHandle(g, &best)
	if fd < 0 {
		return
	}
	o.owned = append(o.owned, fd)
	p := w.fdPath(fd)
	if p == "" {
		return
	}
	if best.InfoType == fanEventInfoTypeDFIDName && best.Name != "" && best.Name != "." {
		o.dirfd, o.name = fd, best.Name
		o.path = filepath.Join(p, best.Name)
		return
	}
	o.fd, o.path = fd, p
}

// openHandle opens a handle O_PATH (no open event, no read access needed)
// against a directory fd of the filesystem the fsid names. ESTALE means
// the object is gone or the handle belongs to another filesystem that
// shares the fsid; the next candidate is tried.
func (w *Watcher) openHandle(g *group, f *FID) int {
	refs := g.mounts[f.FSID]
	if len(refs) == 0 {
		return -1
	}
	// O_PATH needs no read permission on the object and, unlike a real
	// open, raises no fanotify event of its own (no feedback). EPERM
	// here means CAP_DAC_READ_SEARCH was lost; EINVAL a handle type the
	// filesystem does not know.
	h := unix.NewFileHandle(f.HandleType, f.Handle)
	for _, r := range refs {
		fd, err := unix.OpenByHandleAt(r.fd, h, unix.O_PATH|unix.O_CLOEXEC)
		if err == nil {
			return fd
		}
	}
	return -1
}

// fdPath reads the path of an open fd from /proc/self/fd. A path that
// fills the buffer may be truncated and is not used.
func (w *Watcher) fdPath(fd int) string {
	// readlink(2) of a /proc/self/fd entry is d_path of the open file: a
	// deleted file's path ends in " (deleted)", a file outside this
	// mount namespace's root reads relative to its mount. ENOENT: /proc
	// is not mounted.
	n, err := unix.Readlink("/proc/self/fd/"+strconv.Itoa(fd), w.pathBuf)
	if err != nil || n <= 0 || n >= len(w.pathBuf) {
		return ""
	}
	return string(w.pathBuf[:n])
}

// Close stops the watcher: a pending Read returns ErrClosed, then every
// descriptor is closed (which removes all marks). Later calls return nil.
func (w *Watcher) Close() error {
	var err error
	w.once.Do(func() {
		w.closed.Store(true)
		if w.wake >= 0 {
			// The eventfd stays readable from now on, so a Read in
			// poll, or about to enter it, returns at once.
			var one [8]byte
			binary.NativeEndian.PutUint64(one[:], 1)
			unix.Write(w.wake, one[:])
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		err = w.closeFDs()
	})
	return err
}

// closeFDs closes every descriptor the watcher owns. Closing a group's fd
// destroys the group in the kernel with all its marks and queued events
// (and the fds those events would have carried); nothing needs removing
// one by one.
func (w *Watcher) closeFDs() error {
	var first error
	closeFD := func(fd int) {
		if err := unix.Close(fd); err != nil && first == nil {
			first = &OpError{Op: "close", Err: err}
		}
	}
	for _, g := range w.groups {
		for _, refs := range g.mounts {
			for _, r := range refs {
				closeFD(r.fd)
			}
		}
		closeFD(g.fd)
	}
	w.groups = nil
	if w.wake >= 0 {
		closeFD(w.wake)
		w.wake = -1
	}
	return first
}

// Stats returns the counters; safe to call at any time.
func (w *Watcher) Stats() Stats {
	return Stats{
		Events: w.events.Load(), Overflows: w.overflows.Load(), Self: w.selfEvents.Load(),
		Excluded: w.excluded.Load(), OutOfScope: w.outOfScope.Load(),
		Unresolved: w.unresolved.Load(), Malformed: w.malformed.Load(),
	}
}

// Caps returns the features the watcher runs with.
func (w *Watcher) Caps() Caps { return w.caps }

// Capabilities returns the probe's capability table rows.
func (w *Watcher) Capabilities() []feature.Capability {
	return append([]feature.Capability(nil), w.rows...)
}

// Marks returns every mark the watcher tried, with the kernel's answer.
func (w *Watcher) Marks() []Mark { return append([]Mark(nil), w.marks...) }

// Skipped returns the watched paths that are not watched, and why.
func (w *Watcher) Skipped() []Skipped { return append([]Skipped(nil), w.skipped...) }

// Notes returns the degradations decided at Open, for the status event.
func (w *Watcher) Notes() []string { return append([]string(nil), w.notes...) }
