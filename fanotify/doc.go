// Package fanotify reports file opens, modifications, close-after-write
// and executions under the paths of a Policy, each with the pid that did
// it, using fanotify(7): fanotify_init(2) and fanotify_mark(2) through
// golang.org/x/sys/unix.
//
// It only observes. Every group is FAN_CLASS_NOTIF and no mark asks for a
// permission event (FAN_OPEN_PERM, FAN_ACCESS_PERM, FAN_OPEN_EXEC_PERM,
// FAN_PRE_ACCESS), so lineaged can never block, delay or deny a file
// access on the host. A guard in front of every fanotify_init and
// fanotify_mark call refuses them, and a test checks every flag and mask
// the package can produce.
//
//	w, err := fanotify.Open(fanotify.DefaultPolicy())
//	...
//	buf := make([]byte, 64<<10)
//	for {
//		evs, err := w.Read(buf) // blocks; ErrClosed once Close is called
//		for _, e := range evs {
//			out = fanotify.AppendEvents(out[:0], e)
//		}
//	}
//
// # Privileges
//
// Root, or CAP_SYS_ADMIN: fanotify_init needs it on every kernel lineaged
// supports (the unprivileged mode of 5.13+ has neither mount marks nor
// event fds). Decoding file handles (open_by_handle_at) needs
// CAP_DAC_READ_SEARCH; Open checks it, and uses event fds without it.
//
// # Kernel support
//
// fanotify is in every kernel from 2.6.37, so in EL7's 3.10. Probe tries
// each newer feature and reads the errno (never the kernel version), and
// the watcher degrades one feature at a time:
//
//   - FAN_MARK_FILESYSTEM (4.20): a Recursive watch marks its whole
//     filesystem, every mount of it (a container's bind mount included),
//     and events are filtered to the watched subtree by path. Before 4.20
//     it marks the mount holding the path (FAN_MARK_MOUNT) plus the
//     directory's inode, which still sees its direct entries through
//     other mounts. Watches are not recursive by default.
//   - FAN_OPEN_EXEC (5.0): executions are reported as "executed-file".
//     Before 5.0 an exec watch asks for FAN_OPEN instead and reports the
//     opens of files with an execute bit as "opened-file": the exec
//     itself then comes from the audit and proc connector sources.
//   - FAN_REPORT_FID (5.1), with FAN_REPORT_DIR_FID|FAN_REPORT_NAME
//     (5.9): events carry file handles, no open file; the path is the
//     parent directory's handle, opened O_PATH with open_by_handle_at,
//     plus the entry's name (5.9), or the file's own handle (5.1-5.8).
//     Before 5.1, and for a filesystem that cannot report handles
//     (ENODEV for a zero fsid, as tmpfs before 6.7; EOPNOTSUPP; EXDEV),
//     a second group receives an open fd with each event; the path is
//     read from /proc/self/fd and the fd is always closed.
//
// LINEAGED_KERNEL_PROFILE=3.10|4.4|4.15 switches all three off, so the
// fallbacks run on any kernel. FAN_REPORT_DIR_FID|NAME is not yet a
// feature of the feature package; it is reported as ReportDirName.
//
// # Paths
//
// Paths are those of lineaged's mount namespace, symlinks resolved. A
// watched directory covers itself and its direct entries, including files
// created after Open; a watched path missing at Open is skipped and listed
// (Skipped), which is why the default policy also watches /etc itself: the
// creation of /etc/ld.so.preload is seen. An inode mark sees its file by
// any name: through a hard link the path is the link's, and with only the
// file's own handle (5.1-5.8) it is whichever name the kernel has cached.
// Creations, deletions and renames as such are not reported (audit
// covers them).
//
// # Feedback and exclusions
//
// Events of lineaged's own pid are dropped before any lookup, so nothing
// it writes comes back. Policy.Exclude paths (its output and state
// directories, say) are dropped whoever writes them; an excluded file that
// exists at Open also gets an ignore mark (FAN_MARK_IGNORED_MASK with
// FAN_MARK_IGNORED_SURV_MODIFY), so the kernel drops its events early.
// Path resolution uses readlink and O_PATH opens, which raise no events.
//
// # Loss
//
// The kernel queues 16384 events per group. When the queue is full it
// drops events and queues one FAN_Q_OVERFLOW: Read returns it as an Event
// with Overflow set, Stats counts it, and AppendEvents turns it into a
// "queue-overflow" event of its own. Policy.UnlimitedQueue lifts the limit
// (FAN_UNLIMITED_QUEUE) at the price of unbounded kernel memory.
//
// # Concurrency
//
// The package starts no goroutines. The caller drives Read, which blocks
// in poll(2) on the groups and an eventfd; Close, from any goroutine and
// any number of times, signals the eventfd so a pending Read returns
// ErrClosed, then closes every descriptor, which removes every mark.
// Stats may be read at any time.
package fanotify
