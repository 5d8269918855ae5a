//go:build linux

package proc

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/feature"
	"golang.org/x/sys/unix"
)

// These tests run as root against the live kernel's proc connector and
// /proc. They change no global state: the connector subscription is
// undone by Close, and renamed threads die with their goroutine. Run them
// under LINEAGED_KERNEL_PROFILE=3.10|4.4|4.15 too.

// waitFor bounds every wait on the kernel: no test can hang.
const waitFor = 5 * time.Second

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_NET_ADMIN) for the proc connector")
	}
}

// dialAcked dials and waits for the kernel's acknowledgement, after which
// it generates events for us: nothing the test does afterwards is missed.
func dialAcked(t *testing.T, cfg *Config) *Conn {
	t.Helper()
	c, err := Dial(cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.SetReadDeadline(time.Now().Add(waitFor)); err != nil {
		t.Fatal(err)
	}
	for !c.acked.Load() {
		if _, err := c.receive(); err != nil && !errors.Is(err, ErrOverrun) {
			t.Fatalf("waiting for the LISTEN acknowledgement: %v", err)
		}
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	return c
}

// collect reads events until done says it has what it wants, failing the
// test at the deadline.
func collect(t *testing.T, c *Conn, done func(Event) bool) {
	t.Helper()
	if !collectWithin(t, c, waitFor, done) {
		t.Fatalf("not seen within %v", waitFor)
	}
}

// collectWithin reads events until done says it has what it wants, or d
// has passed (false).
func collectWithin(t *testing.T, c *Conn, d time.Duration, done func(Event) bool) bool {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(d)); err != nil {
		t.Fatal(err)
	}
	for {
		evs, err := c.Receive()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return false
		}
		if err != nil {
			if errors.Is(err, ErrOverrun) {
				t.Logf("overrun while collecting (busy host): %v", err)
				continue
			}
			t.Fatalf("Receive: %v", err)
		}
		for _, ev := range evs {
			if done(ev) {
				return true
			}
		}
	}
}

func TestIntegrationForkExecExit(t *testing.T) {
	requireRoot(t)
	c := dialAcked(t, nil)
	me := os.Getpid()
	before := time.Now()

	cmd := exec.Command("/bin/sh", "-c", "/bin/true; exit 3")
	err := cmd.Run()
	var xe *exec.ExitError
	if !errors.As(err, &xe) || xe.ExitCode() != 3 {
		t.Fatalf("sh: %v, want exit status 3", err)
	}
	sh := cmd.Process.Pid

	var forkSh, execSh, forkTrue, execTrue, exitTrue, exitSh *Event
	keep := func(ev Event) *Event { return &ev }
	collect(t, c, func(ev Event) bool {
		switch {
		case ev.Kind == KindFork && ev.PID == sh && ev.TGID == sh:
			forkSh = keep(ev)
		case ev.Kind == KindExec && ev.TGID == sh:
			execSh = keep(ev)
		case ev.Kind == KindFork && ev.ParentTGID == sh && !ev.IsThread():
			forkTrue = keep(ev)
		case forkTrue != nil && ev.Kind == KindExec && ev.TGID == forkTrue.TGID:
			execTrue = keep(ev)
		case forkTrue != nil && ev.Kind == KindExit && ev.PID == forkTrue.TGID:
			exitTrue = keep(ev)
		case ev.Kind == KindExit && ev.PID == sh:
			exitSh = keep(ev)
		}
		return forkSh != nil && execSh != nil && forkTrue != nil && execTrue != nil && exitTrue != nil && exitSh != nil
	})

	if forkSh.ParentTGID != me {
		t.Errorf("sh forked by %d, want us (%d)", forkSh.ParentTGID, me)
	}
	if got := exitTrue.ExitCode(); got != 0 {
		t.Errorf("true exited %d, want 0", got)
	}
	if got := exitSh.ExitCode(); got != 3 || exitSh.Signal() != 0 {
		t.Errorf("sh exited %d (signal %d), want 3", got, exitSh.Signal())
	}
	// Exit events name the parent since 4.18; a legacy profile hides it.
	wantParent := me
	if profileBefore(exitParentsRelease) {
		wantParent = 0
	}
	// The kernel fills the exit's parent only while the task still counts
	// as alive (pid_alive() in proc_exit_connector, drivers/connector/
	// cn_proc.c): by the time a short-lived child's exit is reported it may
	// not be, and the parent reads 0. So 0 is accepted; a wrong pid is not.
	okParent := func(got, want int) bool { return got == want || got == 0 }
	if !okParent(exitSh.ParentTGID, wantParent) || !okParent(exitTrue.ParentTGID, map[bool]int{true: 0, false: sh}[wantParent == 0]) {
		t.Errorf("exit parents: sh %d, true %d (profile %q)", exitSh.ParentTGID, exitTrue.ParentTGID, feature.Profile())
	}
	order := []*Event{forkSh, execSh, forkTrue, execTrue, exitTrue, exitSh}
	for i := 1; i < len(order); i++ {
		if order[i].TimestampNS < order[i-1].TimestampNS {
			t.Errorf("event %d (%v) stamped before event %d (%v)", i, order[i].Kind, i-1, order[i-1].Kind)
		}
	}

	// Normalised: actions, pids, the exit code, and a wall-clock time
	// between the start of the test and now.
	var e event.Event
	exitSh.ToEvent(&e)
	if e.Action != "exited" || e.Process.PID != sh || e.Process.ExitCode == nil || *e.Process.ExitCode != 3 {
		t.Errorf("sh exit normalised to %+v", e)
	}
	if lo, hi := before.Add(-time.Second).UnixMilli(), time.Now().Add(time.Second).UnixMilli(); e.TimeMsec < lo || e.TimeMsec > hi {
		t.Errorf("exit stamped %d, want within [%d, %d]", e.TimeMsec, lo, hi)
	}
	forkTrue.ToEvent(&e)
	if e.Action != "forked" || e.Process.PID != forkTrue.TGID || e.Process.PPID != sh || e.Process.StartMsec == 0 {
		t.Errorf("true fork normalised to %+v", e)
	}
	execTrue.ToEvent(&e)
	if e.Action != "executed" || e.Category != "process" || e.Process.PID != forkTrue.TGID {
		t.Errorf("true exec normalised to %+v", e)
	}
}

// A child that drops to nobody before its exec changes gid, then uid.
func TestIntegrationIdentityChange(t *testing.T) {
	requireRoot(t)
	c := dialAcked(t, nil)
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if err := cmd.Run(); err != nil {
		t.Fatalf("true as nobody: %v", err)
	}
	child := cmd.Process.Pid
	var uid, gid *Event
	collect(t, c, func(ev Event) bool {
		if ev.TGID == child && ev.Kind == KindUID && ev.RealID == 65534 {
			uid = &ev
		}
		if ev.TGID == child && ev.Kind == KindGID && ev.RealID == 65534 {
			gid = &ev
		}
		return uid != nil && gid != nil
	})
	if uid.EffectiveID != 65534 || gid.EffectiveID != 65534 {
		t.Errorf("effective ids: uid %d gid %d", uid.EffectiveID, gid.EffectiveID)
	}
	var e event.Event
	uid.ToEvent(&e)
	if e.Action != "changed-identity-of" || e.Target == nil || e.Target.ID != "65534" || e.Target.EffectiveID != "65534" {
		t.Errorf("uid change normalised to %+v (target %+v)", e, e.Target)
	}
}

// A thread renaming itself (prctl PR_SET_NAME) gives a comm event with the
// thread's id, unless the profile switches comm events off.
func TestIntegrationComm(t *testing.T) {
	requireRoot(t)
	c := dialAcked(t, nil)
	const name = "lineaged-comm"
	tid := make(chan int, 1)
	go func() {
		// The goroutine may run on any thread, the main one included
		// (whose comm is the process's name): the old name goes back
		// before the thread is let go.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var old [taskCommLen + 1]byte
		if err := unix.Prctl(unix.PR_GET_NAME, uintptr(unsafe.Pointer(&old[0])), 0, 0, 0); err != nil {
			t.Errorf("PR_GET_NAME: %v", err)
			tid <- 0
			return
		}
		b := append([]byte(name), 0)
		if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0); err != nil {
			t.Errorf("PR_SET_NAME: %v", err)
		}
		if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&old[0])), 0, 0, 0); err != nil {
			t.Errorf("PR_SET_NAME (restore): %v", err)
		}
		tid <- unix.Gettid()
	}()
	me, thread := os.Getpid(), <-tid
	if thread == 0 {
		t.FailNow()
	}

	if feature.Disabled(feature.ProcEventComm) != nil {
		t.Skip("comm events switched off by the profile")
	}
	collect(t, c, func(ev Event) bool {
		return ev.Kind == KindComm && ev.PID == thread && ev.TGID == me && ev.Comm == name
	})
	if !c.Seen(feature.ProcEventComm) {
		t.Error("Seen(ProcEventComm) false after a comm event")
	}
}

// Close from another goroutine unblocks a Receive waiting in the kernel; a
// watchdog fails the test instead of letting it hang.
func TestIntegrationCloseUnblocksReceive(t *testing.T) {
	requireRoot(t)
	c, err := Dial(nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		for {
			// The host's own activity may wake Receive: read on until
			// Close makes it fail.
			if _, err := c.Receive(); err != nil && !errors.Is(err, ErrOverrun) {
				done <- err
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Receive after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Receive still blocked after Close")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.Receive(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Receive on a closed Conn: %v", err)
	}
}

// A tiny receive buffer and a burst of processes nobody reads overflow the
// socket: Receive says so with ErrOverrun, counts it, and reads on.
func TestIntegrationOverrun(t *testing.T) {
	requireRoot(t)
	c := dialAcked(t, &Config{ReadBuffer: 1}) // the kernel's minimum
	if n := c.ReadBuffer(); n == 0 || n > 64<<10 {
		t.Fatalf("ReadBuffer = %d, want the kernel's minimum (a few KiB)", n)
	}
	for i := 0; i < 60; i++ {
		if err := exec.Command("/bin/true").Run(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetReadDeadline(time.Now().Add(waitFor)); err != nil {
		t.Fatal(err)
	}
	var overrun error
	for overrun == nil {
		if _, err := c.Receive(); err != nil {
			if !errors.Is(err, ErrOverrun) {
				t.Fatalf("Receive: %v, want an overrun", err)
			}
			overrun = err
		}
	}
	if !errors.Is(overrun, unix.ENOBUFS) || c.Stats().Overruns == 0 {
		t.Fatalf("overrun %v, Stats %+v", overrun, c.Stats())
	}
	// Still usable: with room again (the host's own activity keeps a
	// minimal buffer overflowing), exec events arrive again. Netlink
	// drops everything while the socket is marked congested, until a read
	// empties its queue: the first tries may be lost.
	if n, _ := c.s.SetReadBuffer(DefaultReadBuffer); n < DefaultReadBuffer {
		t.Fatalf("read buffer %d after enlarging", n)
	}
	for try := 1; ; try++ {
		cmd := exec.Command("/bin/true")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		if collectWithin(t, c, time.Second, func(ev Event) bool { return ev.Kind == KindExec && ev.TGID == cmd.Process.Pid }) {
			break
		}
		if try == 5 {
			t.Fatal("no exec seen after the overrun")
		}
	}
}

func TestIntegrationProbe(t *testing.T) {
	requireRoot(t)
	caps := Probe()
	if len(caps) != 3 {
		t.Fatalf("Probe = %+v, want 3 rows", caps)
	}
	for _, c := range caps {
		want := feature.Disabled(c.Feature) == nil
		if c.Available != want || (c.Reason == "") != c.Available {
			t.Errorf("%s: available %v (%q), want %v under profile %q", c.Feature, c.Available, c.Reason, want, feature.Profile())
		}
	}
	if caps[0].Feature != feature.ProcConnector {
		t.Errorf("first row %s, want %s", caps[0].Feature, feature.ProcConnector)
	}
}

// A fork seen live and the same process read from /proc agree on its start
// time (to the clock tick the fork may straddle).
func TestIntegrationStartTimesAgree(t *testing.T) {
	requireRoot(t)
	c := dialAcked(t, nil)
	cmd := exec.Command("/bin/sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid := cmd.Process.Pid
	var fork Event
	collect(t, c, func(ev Event) bool {
		fork = ev
		return ev.Kind == KindFork && ev.TGID == pid && !ev.IsThread()
	})
	p, err := NewFS("").Process(pid)
	if err != nil {
		t.Fatalf("Process(%d): %v", pid, err)
	}
	var live, walked event.Event
	fork.ToEvent(&live)
	p.ToEvent(&walked)
	tick := 1000 / userHZ()
	if d := walked.Process.StartMsec - live.Process.StartMsec; d != 0 && d != tick && d != -tick {
		t.Errorf("start: fork %d, /proc %d (%d ms apart)", live.Process.StartMsec, walked.Process.StartMsec, d)
	}
	if walked.Process.PPID != os.Getpid() || walked.Process.Executable != "/usr/bin/sleep" && walked.Process.Executable != "/bin/sleep" {
		t.Errorf("/proc: ppid %d exe %q", walked.Process.PPID, walked.Process.Executable)
	}
}

// The walk of the real /proc finds this test process as the kernel knows
// it.
func TestIntegrationWalkSelf(t *testing.T) {
	requireRoot(t)
	fsys := NewFS("")
	snap, err := fsys.Walk()
	if err != nil {
		t.Fatal(err)
	}
	if snap.Failed != 0 {
		t.Errorf("%d processes unreadable as root", snap.Failed)
	}
	var me *Process
	for i := range snap.Processes {
		if snap.Processes[i].PID == os.Getpid() {
			me = &snap.Processes[i]
		}
	}
	if me == nil {
		t.Fatalf("pid %d not in a walk of %d processes", os.Getpid(), len(snap.Processes))
	}
	exe, _ := os.Executable()
	cwd, _ := os.Getwd()
	if me.PPID != os.Getppid() || me.Exe != exe || me.Cwd != cwd || !reflect.DeepEqual(me.Args, os.Args) {
		t.Errorf("self: ppid %d exe %q cwd %q args %q\nwant ppid %d exe %q cwd %q args %q",
			me.PPID, me.Exe, me.Cwd, me.Args, os.Getppid(), exe, cwd, os.Args)
	}
	if me.UID == nil || me.UID.Real != uint32(os.Getuid()) || me.GID == nil || me.GID.Effective != uint32(os.Getegid()) {
		t.Errorf("self ids: %+v %+v", me.UID, me.GID)
	}
	if me.Comm != truncComm(filepath.Base(exe)) || me.KernelThread() || me.Threads < 1 {
		t.Errorf("self stat: %+v", me.Stat)
	}
	if ns, err := os.Readlink("/proc/self/ns/net"); err != nil || ns != "net:["+itoa(me.NS.Net)+"]" {
		t.Errorf("net namespace %d, /proc/self/ns/net says %q", me.NS.Net, ns)
	}

	// The start time converts to a wall-clock time shortly before now.
	var e event.Event
	me.ToEvent(&e)
	if now := time.Now().UnixMilli(); e.Process.StartMsec > now || e.Process.StartMsec < now-int64(10*time.Minute/time.Millisecond) {
		t.Errorf("started at %d, now %d", e.Process.StartMsec, now)
	}
	if e.Action != "existing" || e.Process.PID != os.Getpid() || e.User.ID != itoa(uint64(os.Getuid())) {
		t.Errorf("normalised to %+v", e)
	}

	id, err := BootID()
	raw, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil || len(id) != 36 || id != strings.TrimSpace(string(raw)) {
		t.Errorf("BootID = %q, %v", id, err)
	}
}

func truncComm(s string) string {
	if len(s) > taskCommLen-1 {
		return s[:taskCommLen-1]
	}
	return s
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
