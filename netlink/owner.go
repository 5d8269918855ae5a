package netlink

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds of the /proc walk.
const (
	// DefaultMinScanInterval is the least time between two /proc walks.
	// A walk costs a readdir per process and a readlink per descriptor
	// (tens of milliseconds on a busy host); with this bound a storm of
	// connects, each asking for a snapshot, costs at most one walk a
	// second whatever its rate. Sockets opened since the last walk stay
	// unattributed (PIDs nil) until the next one is allowed.
	DefaultMinScanInterval = time.Second
	// DefaultMaxIndexAge is the age past which the index is refreshed
	// even when it knows every inode asked for, so descriptors passed to
	// other processes (SCM_RIGHTS, fork then exit) do not keep a stale
	// owner for long.
	DefaultMaxIndexAge = 30 * time.Second
)

// OwnerIndex maps socket inodes to the processes holding them, from the
// "socket:[INODE]" symlinks of /proc/PID/fd. Walks are bounded in rate:
// never two within MinInterval; a walk that is wanted but not allowed is
// counted (OwnerStats.Skipped) and the last index is used as it is.
//
// Reading other users' /proc/PID/fd needs root (CAP_SYS_PTRACE, or
// CAP_DAC_READ_SEARCH); without it those processes' sockets stay
// unattributed and OwnerStats.Denied counts them. Threads that unshared
// their descriptor table (unshare(CLONE_FILES)) are not walked.
//
// An OwnerIndex is safe for concurrent use. It starts no goroutine.
type OwnerIndex struct {
	Root        string        // proc root; /proc when empty (a fixture tree in tests)
	MinInterval time.Duration // DefaultMinScanInterval when zero
	MaxAge      time.Duration // DefaultMaxIndexAge when zero

	mu        sync.Mutex
	index     map[uint64][]int
	indexTime time.Time           // start of the walk that built index
	orphans   map[uint64]struct{} // inodes that walk found in no process
	last      time.Time           // start of the last walk attempt; zero before the first
	stats     OwnerStats

	now func() time.Time // time.Now; tests drive a fake clock
}

// OwnerStats are the index's counters.
type OwnerStats struct {
	Scans   uint64        // /proc walks done
	Skipped uint64        // walks wanted but refused by MinInterval
	Misses  uint64        // sockets (with an inode) left without owner by Resolve
	Denied  uint64        // processes whose descriptors could not be read (not root, or not dumpable)
	PIDs    int           // processes seen by the last walk
	Sockets int           // socket descriptors seen by the last walk
	Took    time.Duration // duration of the last walk
}

// NewOwnerIndex returns an index over the proc tree at root ("" for
// /proc) with the default bounds.
func NewOwnerIndex(root string) *OwnerIndex { return &OwnerIndex{Root: root} }

// Stats returns a copy of the counters.
func (o *OwnerIndex) Stats() OwnerStats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stats
}

// Lookup returns the pids holding inode in the current index (ascending;
// nil when unknown). It never walks /proc.
func (o *OwnerIndex) Lookup(inode uint64) []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.index[inode])
}

// Refresh walks /proc now if MinInterval allows it, and reports whether
// it did (a refusal counts as skipped).
func (o *OwnerIndex) Refresh() (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.scanLocked()
}

// Resolve sets Socket.PIDs of every socket in snaps that has an inode. It
// walks /proc first when the index is older than MaxAge or lacks one of
// those inodes, and MinInterval allows; otherwise it uses the index as it
// is. The error is that of the walk (the proc root unreadable).
//
// A socket that was already in a snapshot taken before the index's walk,
// and that the walk found in no process, is held by none (a kernel
// socket, one in flight in SCM_RIGHTS, one of a process we may not read):
// it is remembered as an orphan and does not ask for another walk until
// MaxAge, so a few such sockets cannot keep the walks at their maximum
// rate.
func (o *OwnerIndex) Resolve(snaps ...*Snapshot) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	want := o.index == nil || o.clock().Sub(o.indexTime) >= o.maxAge()
	if !want {
	find:
		for _, s := range snaps {
			for i := range s.Sockets {
				ino := s.Sockets[i].Inode
				if _, orphan := o.orphans[ino]; ino != 0 && o.index[ino] == nil && !orphan {
					want = true
					break find
				}
			}
		}
	}
	var err error
	if want {
		_, err = o.scanLocked()
	}
	for _, s := range snaps {
		known := o.index != nil && !s.Time.After(o.indexTime)
		for i := range s.Sockets {
			k := &s.Sockets[i]
			if k.Inode == 0 {
				continue
			}
			k.PIDs = slices.Clone(o.index[k.Inode])
			if k.PIDs == nil {
				o.stats.Misses++
				if known {
					o.orphans[k.Inode] = struct{}{}
				}
			}
		}
	}
	return err
}

func (o *OwnerIndex) clock() time.Time {
	if o.now != nil {
		return o.now()
	}
	return time.Now()
}

func (o *OwnerIndex) maxAge() time.Duration {
	if o.MaxAge > 0 {
		return o.MaxAge
	}
	return DefaultMaxIndexAge
}

func (o *OwnerIndex) minInterval() time.Duration {
	if o.MinInterval > 0 {
		return o.MinInterval
	}
	return DefaultMinScanInterval
}

// scanLocked walks /proc unless the last walk started less than
// MinInterval ago. Called with o.mu held.
func (o *OwnerIndex) scanLocked() (bool, error) {
	start := o.clock()
	if !o.last.IsZero() && start.Sub(o.last) < o.minInterval() {
		o.stats.Skipped++
		return false, nil
	}
	o.last = start
	root := o.Root
	if root == "" {
		root = "/proc"
	}
	index, pids, socks, denied, err := scanFDs(root)
	if err != nil {
		return false, err
	}
	o.index, o.indexTime = index, start
	o.orphans = make(map[uint64]struct{})
	o.stats.Scans++
	o.stats.Denied += uint64(denied)
	o.stats.PIDs, o.stats.Sockets = pids, socks
	o.stats.Took = o.clock().Sub(start)
	return true, nil
}

// scanFDs reads every /proc/PID/fd/N symlink under root and indexes the
// sockets by inode. Processes that exit during the walk are skipped
// silently (ENOENT is the normal race); processes whose descriptors
// cannot be read are counted as denied.
func scanFDs(root string) (index map[uint64][]int, pids, socks, denied int, err error) {
	names, err := readNames(root)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	index = make(map[uint64][]int)
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 {
			continue // self, sys, net, ...
		}
		fdDir := filepath.Join(root, name, "fd")
		fds, err := readNames(fdDir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				denied++
			}
			continue
		}
		pids++
		refused := false
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd))
			if err != nil {
				// ENOENT: closed since the readdir. EACCES: the
				// process is not dumpable for us (ptrace access mode
				// check on each link), and its sockets stay unknown.
				if !errors.Is(err, fs.ErrNotExist) && !refused {
					refused = true
					denied++
				}
				continue
			}
			ino, ok := socketInode(link)
			if !ok {
				continue
			}
			socks++
			if held := index[ino]; len(held) == 0 || held[len(held)-1] != pid {
				index[ino] = append(held, pid) // dup()ed descriptors count once
			}
		}
	}
	for _, held := range index {
		if len(held) > 1 {
			slices.Sort(held) // readdir order of /proc is not promised
		}
	}
	return index, pids, socks, denied, nil
}

// readNames lists a directory without sorting or stat-ing its entries.
func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// socketInode parses the target of a socket descriptor, "socket:[12345]"
// (the sockfs dentry name, the same since 2.6).
func socketInode(link string) (uint64, bool) {
	s, ok := strings.CutPrefix(link, "socket:[")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return 0, false
	}
	ino, err := strconv.ParseUint(s, 10, 64)
	if err != nil || ino == 0 {
		return 0, false
	}
	return ino, true
}
