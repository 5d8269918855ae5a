//go:build linux

package netlink

import (
	"cmp"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Magic numbers of the file systems a namespace file lives on
// (include/uapi/linux/magic.h): nsfs since 3.19, proc before.
const (
	nsfsMagic = 0x6e736673 // NSFS_MAGIC
	procMagic = 0x9fa0     // PROC_SUPER_MAGIC
)

// Namespaces lists the host's network namespaces, each once: the named
// ones under NetnsDir (ip netns add bind-mounts them there) and those of
// every process (/proc/PID/ns/net, present since 3.0), deduplicated by
// inode. A namespace with a name is opened by its name's path, which
// outlives processes. Processes and names that vanish during the walk are
// skipped. The result is ordered by inode.
func (c *Collector) Namespaces() ([]Namespace, error) {
	return listNamespaces(c.procRoot(), c.netnsDir())
}

func listNamespaces(procRoot, netnsDir string) ([]Namespace, error) {
	byInode := make(map[uint64]Namespace)
	names, err := readNames(netnsDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, &OpError{Op: "list " + netnsDir, Err: err}
	}
	for _, name := range names {
		p := filepath.Join(netnsDir, name)
		// A name whose bind mount is gone (a failed or half-deleted
		// `ip netns add`) is a plain file on tmpfs: its inode is no
		// namespace's, so it must not become one.
		var sfs unix.Statfs_t
		if err := unix.Statfs(p, &sfs); err != nil {
			continue
		}
		if t := uint32(sfs.Type); t != nsfsMagic && t != procMagic {
			continue
		}
		ino, err := statInode(p)
		if err != nil {
			continue
		}
		if _, ok := byInode[ino]; !ok {
			byInode[ino] = Namespace{Inode: ino, Path: p, Name: name}
		}
	}

	pids, err := readNames(procRoot)
	if err != nil {
		return nil, &OpError{Op: "list " + procRoot, Err: err}
	}
	for _, name := range pids {
		if pid, err := strconv.Atoi(name); err != nil || pid <= 0 {
			continue
		}
		p := filepath.Join(procRoot, name, "ns", "net")
		ino, err := statInode(p) // stat follows the magic link to the namespace
		if err != nil {
			continue // exited, or a kernel thread being reaped
		}
		if _, ok := byInode[ino]; !ok {
			byInode[ino] = Namespace{Inode: ino, Path: p}
		}
	}

	out := make([]Namespace, 0, len(byInode))
	for _, ns := range byInode {
		out = append(out, ns)
	}
	slices.SortFunc(out, func(a, b Namespace) int { return cmp.Compare(a.Inode, b.Inode) })
	return out, nil
}

func statInode(p string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// OwnNamespace returns the network namespace of the calling process: the
// host's, for an agent running on the host.
func (c *Collector) OwnNamespace() (Namespace, error) {
	p := filepath.Join(c.procRoot(), strconv.Itoa(os.Getpid()), "ns", "net")
	ino, err := statInode(p)
	if err != nil {
		return Namespace{}, &OpError{Op: "stat " + p, Err: err}
	}
	return Namespace{Inode: ino, Path: p}, nil
}

// dialNamespace opens a NETLINK_SOCK_DIAG socket inside ns. The file is
// opened first and checked against the inode seen at enumeration, so a
// /proc/PID path whose pid was reused is not mistaken for the namespace.
func dialNamespace(ns Namespace) (*Conn, error) {
	h, err := netns.GetFromPath(ns.Path)
	if err != nil {
		return nil, &OpError{Op: "open " + ns.Path, NetNS: ns.Inode, Err: err}
	}
	defer h.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(h), &st); err != nil {
		return nil, &OpError{Op: "stat " + ns.Path, NetNS: ns.Inode, Err: err}
	}
	if st.Ino != ns.Inode {
		return nil, &OpError{Op: "open " + ns.Path, NetNS: ns.Inode, Err: errNamespaceChanged}
	}
	conn, err := dialIn(h)
	if err != nil {
		if oe, ok := err.(*OpError); ok && oe.NetNS == 0 {
			oe.NetNS = ns.Inode
		}
		return nil, err
	}
	conn.netns = ns.Inode
	return conn, nil
}

// dialIn creates the socket inside the namespace h, on a goroutine of its
// own that is joined before returning.
//
// setns(2) changes the namespace of one OS thread, and the Go scheduler
// moves goroutines between threads, so the goroutine is locked to its
// thread (runtime.LockOSThread) from before setns until the thread is back
// in its original namespace. Only then is it unlocked and returned to the
// runtime's pool.
//
// If restoring fails, the thread is left locked on purpose: a goroutine
// that exits while locked takes its thread with it (the runtime terminates
// it rather than reuse it), so no other goroutine, ours or the agent's,
// can ever run in a namespace it did not ask for. That is also why the
// hop happens on a fresh goroutine and not the caller's: the caller may be
// long-lived, and a thread locked to it would keep it in the foreign
// namespace for the rest of its life.
//
// Entering another namespace needs CAP_SYS_ADMIN (EPERM otherwise); the
// caller's own namespace is recognised and dialed without setns, so that
// works unprivileged.
func dialIn(h netns.NsHandle) (*Conn, error) {
	type result struct {
		c   *Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		c, restored, err := dialLocked(h)
		if restored {
			runtime.UnlockOSThread()
		}
		// else: exit locked, and the runtime ends the thread.
		done <- result{c, err}
	}()
	r := <-done
	return r.c, r.err
}

// dialLocked runs on a locked thread. restored reports whether the thread
// is in its original namespace (and may be unlocked).
func dialLocked(target netns.NsHandle) (c *Conn, restored bool, err error) {
	orig, err := netns.Get() // /proc/PID/task/TID/ns/net: this thread's namespace
	if err != nil {
		return nil, true, &OpError{Op: "open own netns", Err: err}
	}
	defer orig.Close()
	if orig.Equal(target) {
		c, err := Dial()
		return c, true, err
	}
	if err := netns.Set(target); err != nil {
		// setns failed, so the thread did not move: EPERM without
		// CAP_SYS_ADMIN, EINVAL when the file is not a network namespace.
		return nil, true, &OpError{Op: "setns", Err: err}
	}
	c, err = Dial()
	if rerr := netns.Set(orig); rerr != nil {
		if c != nil {
			c.Close()
		}
		return nil, false, errors.Join(err, &OpError{Op: "restore netns", Err: rerr})
	}
	return c, true, err
}
