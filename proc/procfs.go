package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lineaged/lineaged/event"
)

// FS reads a procfs tree: /proc on a live host, a fixture tree under
// testdata/ in tests. The zero value reads /proc with USER_HZ 100.
type FS struct {
	// Root is where procfs is mounted ("" means /proc).
	Root string

	// ClockTicks is USER_HZ, the unit of /proc/PID/stat's times
	// (sysconf(_SC_CLK_TCK)); 0 means 100, its value on every
	// architecture but alpha. NewFS reads the real one.
	ClockTicks int64
}

// NewFS returns an FS for the procfs mounted at root ("" for /proc), with
// ClockTicks read from the process's auxiliary vector (AT_CLKTCK).
func NewFS(root string) FS { return FS{Root: root, ClockTicks: userHZ()} }

func (fs FS) root() string {
	if fs.Root == "" {
		return "/proc"
	}
	return fs.Root
}

func (fs FS) hz() int64 {
	if fs.ClockTicks <= 0 {
		return defaultHZ
	}
	return fs.ClockTicks
}

// BootID returns the kernel's random boot id (sys/kernel/random/boot_id, a
// UUID drawn at every boot; 2.6.x and later). With a pid and the process's
// starttime it makes the live entity id (SPEC §2): pids and start times
// repeat across boots, the boot id does not.
func (fs FS) BootID() (string, error) {
	b, err := os.ReadFile(filepath.Join(fs.root(), "sys/kernel/random/boot_id"))
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", fmt.Errorf("proc: empty boot id in %s", fs.root())
	}
	return id, nil
}

// BootID returns the boot id of the running kernel, from /proc.
func BootID() (string, error) { return FS{}.BootID() }

// Stat holds the fields of /proc/PID/stat lineaged uses (proc(5); the
// format is do_task_stat() in fs/proc/array.c).
type Stat struct {
	PID        int
	Comm       string // as the kernel shows it: up to 15 bytes, any bytes but NUL (kworkers show more)
	State      byte   // R, S, D, Z, T, t, X, I, ...
	PPID       int    // 0 for init and kthreadd
	PGRP       int
	Session    int
	TTY        int // tty_nr: the controlling terminal's device number, 0 for none
	Flags      uint32
	Threads    int
	StartTicks uint64 // starttime: clock ticks after boot (CLOCK_BOOTTIME)
}

// pfKthread is PF_KTHREAD in task->flags (include/linux/sched.h, 2.6.27
// and later): the task is a kernel thread.
const pfKthread = 0x00200000

// KernelThread reports whether the task is a kernel thread.
func (s Stat) KernelThread() bool { return s.Flags&pfKthread != 0 }

// statFields is how many fields follow the comm up to starttime (22nd).
const statFields = 20

var errStatFormat = errors.New("proc: malformed stat line")

// ParseStat parses one /proc/PID/stat line. The comm is whatever the
// process named itself, spaces and parentheses included ("(sd-pam) x)"),
// so it is not a field: it runs from the first '(' to the last ')', and
// the fields are counted from there.
func ParseStat(b []byte) (Stat, error) {
	var s Stat
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 2 || end < open || b[open-1] != ' ' {
		return s, errStatFormat
	}
	id, err := strconv.ParseUint(string(b[:open-1]), 10, 31)
	if err != nil || id == 0 {
		return s, errStatFormat
	}
	s.PID = int(id)
	s.Comm = string(b[open+1 : end])
	f := bytes.Fields(b[end+1:])
	// The state is one letter (task_state_array in fs/proc/array.c).
	if len(f) < statFields || len(f[0]) != 1 || !isLetter(f[0][0]) {
		return s, errStatFormat
	}
	s.State = f[0][0]
	ints := [...]struct {
		dst *int
		src []byte
	}{{&s.PPID, f[1]}, {&s.PGRP, f[2]}, {&s.Session, f[3]}, {&s.TTY, f[4]}, {&s.Threads, f[17]}}
	for _, x := range ints {
		v, err := strconv.ParseInt(string(x.src), 10, 32)
		if err != nil {
			return s, errStatFormat
		}
		*x.dst = int(v)
	}
	flags, err := strconv.ParseUint(string(f[6]), 10, 32)
	if err != nil {
		return s, errStatFormat
	}
	s.Flags = uint32(flags)
	if s.StartTicks, err = strconv.ParseUint(string(f[19]), 10, 64); err != nil {
		return s, errStatFormat
	}
	return s, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// IDs are the four ids of a "Uid:" or "Gid:" line of /proc/PID/status.
type IDs struct {
	Real, Effective, Saved, FS uint32
}

// Namespaces are the inode numbers of a process's namespaces
// (/proc/PID/ns/*, 3.8 for all four), 0 where unreadable. Two processes
// share a namespace exactly when the numbers match.
type Namespaces struct {
	Net, PID, Mnt, User uint64
}

// Process is one process as /proc shows it.
type Process struct {
	Stat

	// StartMsec is StartTicks in milliseconds after boot.
	StartMsec int64

	// Exe is the target of /proc/PID/exe as the kernel prints it,
	// " (deleted)" suffix included when the file was unlinked or replaced
	// after the exec (ExeDeleted): an upgraded daemon, or a binary that
	// removed itself (memfd executables show "/memfd:name (deleted)").
	// Empty for kernel threads, zombies and when unreadable.
	Exe        string
	ExeDeleted bool

	// Args is /proc/PID/cmdline split at its NULs. A process may rewrite
	// its argument area (nginx, postgres, sshd do): then it is whatever
	// it wrote, often one string with spaces. Nil for kernel threads and
	// zombies.
	Args []string

	Cwd string // /proc/PID/cwd, empty when unreadable

	// UID and GID are the Uid: and Gid: lines of /proc/PID/status, nil
	// when unreadable.
	UID, GID *IDs

	// Cgroup is the process's cgroup path: the unified (cgroup v2, "0::")
	// one where mounted, else the one a container id was found in, else
	// the name=systemd one.
	Cgroup string

	// ContainerID is the 64-hex id of the container the process runs in,
	// read from its cgroup paths (see containerID), with the runtime the
	// path names (docker, containerd, cri-o, podman; empty when the path
	// only has the bare id, as cgroupfs-driver Kubernetes nodes do).
	ContainerID      string
	ContainerRuntime string

	NS Namespaces

	// SeenMsec is the Unix time in ms at which the process was read.
	SeenMsec int64
}

// Snapshot is the result of one walk of /proc.
type Snapshot struct {
	TimeMsec  int64     // Unix ms at the start of the walk
	Processes []Process // ascending pid
	Vanished  int       // processes that exited (or whose pid was reused) while being read: skipped
	Failed    int       // processes whose stat could not be read for another reason (hidepid, EIO): skipped
}

// errVanished says the process exited while it was being read.
var errVanished = fmt.Errorf("proc: process vanished: %w", fs.ErrNotExist)

// gone reports whether a read failed because the process is gone: its
// directory disappeared (ENOENT), or it was reaped between open and read
// (ESRCH).
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// Walk reads every process in /proc (thread-group leaders: /proc lists
// processes, their threads are under /proc/PID/task). Processes that exit
// while being read are skipped and counted; only an unreadable root is an
// error.
func (fs FS) Walk() (*Snapshot, error) {
	ents, err := os.ReadDir(fs.root())
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{TimeMsec: time.Now().UnixMilli()}
	var pids []int
	for _, e := range ents {
		// Numeric directories only: self, thread-self, net, sys, ...
		// are not processes. The name is a pid without sign or zeros.
		n, err := strconv.ParseUint(e.Name(), 10, 31)
		if err != nil || n == 0 || !e.IsDir() {
			continue
		}
		pids = append(pids, int(n))
	}
	slices.Sort(pids)
	snap.Processes = make([]Process, 0, len(pids))
	for _, pid := range pids {
		p, err := fs.Process(pid)
		switch {
		case err == nil:
			snap.Processes = append(snap.Processes, p)
		case gone(err):
			snap.Vanished++
		default:
			snap.Failed++
		}
	}
	return snap, nil
}

// Process reads one process. An error wrapping fs.ErrNotExist means it is
// gone (or its pid now belongs to another process); other errors come
// from stat alone (EACCES under hidepid=2 without root). The other files
// are read as well as they can be: a field that cannot be read (EACCES for
// another user's exe and cwd without root) is left empty.
func (fs FS) Process(pid int) (Process, error) {
	dir := filepath.Join(fs.root(), strconv.Itoa(pid))
	st, err := readStat(dir)
	if err != nil {
		return Process{}, err
	}
	p := Process{Stat: st, StartMsec: ticksToMsec(st.StartTicks, fs.hz())}

	// lost records that a file read said "no such process": the
	// directory may be gone. exe says so for kernel threads and zombies
	// too, so it is settled by rereading stat at the end.
	lost := false
	note := func(err error) {
		if err != nil && gone(err) {
			lost = true
		}
	}

	exe, err := os.Readlink(dir + "/exe")
	note(err)
	p.Exe = exe
	p.ExeDeleted = strings.HasSuffix(exe, deletedSuffix)

	b, err := os.ReadFile(dir + "/cmdline")
	note(err)
	p.Args = splitArgs(b)

	p.Cwd, err = os.Readlink(dir + "/cwd")
	note(err)

	b, err = os.ReadFile(dir + "/status")
	note(err)
	if err == nil {
		p.UID, p.GID = parseStatusIDs(b)
	}

	b, err = os.ReadFile(dir + "/cgroup")
	note(err)
	if err == nil {
		p.Cgroup, p.ContainerID, p.ContainerRuntime = parseCgroup(b)
	}

	p.NS.Net = nsInode(dir, "net")
	p.NS.PID = nsInode(dir, "pid")
	p.NS.Mnt = nsInode(dir, "mnt")
	p.NS.User = nsInode(dir, "user")
	p.SeenMsec = time.Now().UnixMilli()

	if lost {
		again, err := readStat(dir)
		if err != nil || again.StartTicks != st.StartTicks {
			// Exited, or exited and the pid was taken by a new
			// process, while we read: what we have mixes the two.
			return Process{}, errVanished
		}
	}
	return p, nil
}

// Stat reads /proc/PID/stat alone: the cheap way to learn a process's
// exact starttime, e.g. for a fork event whose tick-truncated timestamp
// may be one tick later than /proc's (see StartMsec). An error wrapping
// fs.ErrNotExist means the process is gone.
func (fs FS) Stat(pid int) (Stat, error) {
	return readStat(filepath.Join(fs.root(), strconv.Itoa(pid)))
}

// StartMsec converts st's starttime to Unix ms, as Process.ToEvent does.
func (fs FS) StartMsec(st Stat) int64 {
	return clocks().bootMsec(ticksToMsec(st.StartTicks, fs.hz()))
}

func readStat(dir string) (Stat, error) {
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		if gone(err) {
			return Stat{}, errVanished
		}
		return Stat{}, err
	}
	st, err := ParseStat(bytes.TrimSpace(b))
	if err != nil {
		return Stat{}, fmt.Errorf("%s/stat: %w", dir, err)
	}
	return st, nil
}

// deletedSuffix is what d_path() appends to the name of an unlinked
// dentry. A file may really be named so; only a stat could tell, and the
// flag is a hint either way.
const deletedSuffix = " (deleted)"

// splitArgs splits a cmdline at NULs, dropping the terminating one.
func splitArgs(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	b = bytes.TrimSuffix(b, []byte{0})
	parts := bytes.Split(b, []byte{0})
	args := make([]string, len(parts))
	for i, a := range parts {
		args[i] = string(a)
	}
	return args
}

// parseStatusIDs reads the "Uid:" and "Gid:" lines of /proc/PID/status:
// real, effective, saved set and filesystem id, tab-separated.
func parseStatusIDs(b []byte) (uid, gid *IDs) {
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		var dst **IDs
		switch {
		case bytes.HasPrefix(line, []byte("Uid:")):
			dst = &uid
		case bytes.HasPrefix(line, []byte("Gid:")):
			dst = &gid
		default:
			continue
		}
		f := bytes.Fields(line[4:])
		if len(f) != 4 {
			continue
		}
		var v [4]uint32
		ok := true
		for i := range f {
			n, err := strconv.ParseUint(string(f[i]), 10, 32)
			if err != nil {
				ok = false
				break
			}
			v[i] = uint32(n)
		}
		if ok {
			*dst = &IDs{Real: v[0], Effective: v[1], Saved: v[2], FS: v[3]}
		}
		if uid != nil && gid != nil {
			break
		}
	}
	return uid, gid
}

// nsInode reads /proc/PID/ns/NAME, a magic link whose target reads
// "net:[4026531840]", and returns the inode number, 0 when unreadable
// (ENOENT: a kernel without that namespace type; EACCES: another user's
// process without CAP_SYS_PTRACE).
func nsInode(dir, name string) uint64 {
	t, err := os.Readlink(dir + "/ns/" + name)
	if err != nil {
		return 0
	}
	rest, ok := strings.CutPrefix(t, name+":[")
	if !ok {
		return 0
	}
	num, ok := strings.CutSuffix(rest, "]")
	if !ok {
		return 0
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// ttyName spells a tty_nr as the audit tty= field does ("pts0", "tty1",
// "ttyS0"), "" for no terminal or a device it does not know. The encoding
// is new_encode_dev(): minor low byte, major, then the minor's high bits.
func ttyName(nr int) string {
	if nr <= 0 {
		return ""
	}
	major := (nr >> 8) & 0xfff
	minor := (nr & 0xff) | ((nr >> 12) & 0xfff00)
	switch {
	case major >= 136 && major <= 143: // UNIX98_PTY_SLAVE_MAJOR
		return "pts" + strconv.Itoa((major-136)<<8|minor)
	case major == 4 && minor < 64: // TTY_MAJOR: virtual consoles
		return "tty" + strconv.Itoa(minor)
	case major == 4: // TTY_MAJOR: serial ports from minor 64
		return "ttyS" + strconv.Itoa(minor-64)
	}
	return ""
}

// ToEvent fills e, overwriting all of it, with the normalised form of p:
// Module "proc", process/info/existing, a process lineaged found running
// rather than saw start. It carries the start time (StartMsec, Unix ms,
// from starttime: the same instant and rounding as a fork event's), the
// executable, args, cwd, uids and gids, the container id, and labels
// exe_deleted, kernel_thread, container_runtime, cgroup and ns_net,
// ns_pid, ns_mnt, ns_user. e.Process.Args shares p.Args; e.Labels reuses
// its backing array.
func (p *Process) ToEvent(e *event.Event) {
	labels := e.Labels[:0]
	*e = event.Event{
		Kind:     event.KindEvent,
		TimeMsec: p.SeenMsec,
		Category: event.CategoryProcess,
		Type:     event.TypeInfo,
		Action:   event.ActionExisting,
		Outcome:  event.OutcomeSuccess,
		Module:   event.ModuleProc,
		Process: event.Process{
			PID:              p.PID,
			PPID:             p.PPID,
			Executable:       p.Exe,
			Name:             p.Comm,
			Title:            strings.Join(p.Args, " "),
			Args:             p.Args,
			WorkingDirectory: p.Cwd,
			TTY:              ttyName(p.TTY),
			StartMsec:        clocks().bootMsec(p.StartMsec),
			NetNS:            p.NS.Net,
			SID:              p.Session,
			PGID:             p.PGRP,
		},
		ContainerID: p.ContainerID,
	}
	if p.UID != nil {
		e.User.ID, e.User.EffectiveID = idString(p.UID.Real), idString(p.UID.Effective)
		e.User.SavedID, e.User.FilesysID = idString(p.UID.Saved), idString(p.UID.FS)
	}
	if p.GID != nil {
		e.User.GroupID, e.User.EffGroupID = idString(p.GID.Real), idString(p.GID.Effective)
	}
	if p.ExeDeleted {
		labels = append(labels, event.KV{Key: "exe_deleted", Value: "true"})
	}
	if p.KernelThread() {
		labels = append(labels, event.KV{Key: "kernel_thread", Value: "true"})
	}
	if p.ContainerRuntime != "" {
		labels = append(labels, event.KV{Key: "container_runtime", Value: p.ContainerRuntime})
	}
	if p.Cgroup != "" {
		labels = append(labels, event.KV{Key: "cgroup", Value: p.Cgroup})
	}
	for _, ns := range [...]struct {
		k string
		v uint64
	}{{"ns_net", p.NS.Net}, {"ns_pid", p.NS.PID}, {"ns_mnt", p.NS.Mnt}, {"ns_user", p.NS.User}} {
		if ns.v != 0 {
			labels = append(labels, event.KV{Key: ns.k, Value: strconv.FormatUint(ns.v, 10)})
		}
	}
	if len(labels) > 0 {
		e.Labels = labels
	}
}

// NetNS returns the inode of pid's network namespace (one readlink), 0
// when the process is gone or the link unreadable. The live agent reads it
// at each exec: `ip netns exec` and container runtimes enter a namespace
// just before they exec.
func (fs FS) NetNS(pid int) uint64 {
	return nsInode(fs.root()+"/"+strconv.Itoa(pid), "net")
}

// Exec reads what a process is running now: the target of
// /proc/PID/exe and its arguments from /proc/PID/cmdline (two reads;
// either is empty when unreadable, and both when the process is gone).
// It is how an exec the proc connector reported gets its program when
// audit is off or missed it: the connector carries neither.
func (fs FS) Exec(pid int) (exe string, args []string) {
	dir := fs.root() + "/" + strconv.Itoa(pid)
	exe, _ = os.Readlink(dir + "/exe")
	if b, err := os.ReadFile(dir + "/cmdline"); err == nil {
		args = splitArgs(b)
	}
	return exe, args
}

// Leaders returns pid's session and process group ids (/proc/PID/stat);
// zeros when the process is gone.
func (fs FS) Leaders(pid int) (sid, pgid int) {
	st, err := fs.Stat(pid)
	if err != nil {
		return 0, 0
	}
	return st.Session, st.PGRP
}

// Seed walks /proc and hands every running process to emit as an
// "existing" event, so that the first events already have ancestry up to
// pid 1 (at start, and after a connector overrun lost forks and execs).
func (fs FS) Seed(emit func(*event.Event)) error {
	snap, err := fs.Walk()
	if err != nil {
		return fmt.Errorf("walking %s: %w", fs.root(), err)
	}
	var e event.Event
	for i := range snap.Processes {
		e = event.Event{}
		snap.Processes[i].ToEvent(&e)
		emit(&e)
	}
	return nil
}
