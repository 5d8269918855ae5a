//go:build linux

package netlink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/lineaged/lineaged/feature"
)

// The integration tests run as root against the live kernel. Each works in
// a network namespace of its own (ip netns add lineaged-it-*), deleted in
// t.Cleanup, and every wait is bounded.

const (
	itTimeout = 30 * time.Second // bound of the whole scenario
	itWait    = 10 * time.Second // bound of one wait
	// helperEnv makes the test binary a client process (TestHelperProcess).
	helperEnv = "LINEAGED_SOCKDIAG_HELPER"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates and enters network namespaces, reads every /proc/PID/fd")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2 (ip netns)")
	}
}

func run(t *testing.T, ctx context.Context, name string, args ...string) {
	t.Helper()
	if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// testNetNS creates a fresh named network namespace with its loopback up.
func testNetNS(t *testing.T, ctx context.Context) (name string, h netns.NsHandle, inode uint64) {
	t.Helper()
	name = fmt.Sprintf("lineaged-it-%d", rand.IntN(1<<30))
	run(t, ctx, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", name, err, out)
		}
	})
	run(t, ctx, "ip", "-n", name, "link", "set", "lo", "up")
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	var st unix.Stat_t
	if err := unix.Fstat(int(h), &st); err != nil {
		t.Fatal(err)
	}
	return name, h, st.Ino
}

// inNetNS runs fn on a locked thread inside h (sockets created there
// belong to h), restoring the thread as dialIn does.
func inNetNS(h netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(h); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- err // the thread stays locked and dies with us
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// fdInode is the sockfs inode of a Go socket.
func fdInode(t *testing.T, c syscall.Conn) uint64 {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	return st.Ino
}

// recv waits for one value, failing the test after itWait.
func recv[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(itWait):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// TestHelperProcess is the client process of the integration tests, run
// by them through `ip netns exec` so it lives in their namespace. It
// connects over TCP and UNIX, says "ready PID", closes the TCP connection
// on "close-tcp", and exits at end of input (or after itTimeout).
func TestHelperProcess(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		return
	}
	time.AfterFunc(itTimeout, func() { os.Exit(3) })
	tcpAddr, unixPath, _ := strings.Cut(spec, " ")
	tc, err := net.DialTimeout("tcp", tcpAddr, itWait)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	uc, err := net.DialTimeout("unix", unixPath, itWait)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	defer uc.Close()
	fmt.Printf("ready %d %s\n", os.Getpid(), tc.LocalAddr())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "close-tcp" {
			tc.Close()
			fmt.Println("closed")
		}
	}
	os.Exit(0)
}

type helper struct {
	pid   int
	local string // its TCP local address
	in    io.WriteCloser
	lines chan string
}

func startHelper(t *testing.T, ctx context.Context, nsName, tcpAddr, unixPath string) *helper {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", nsName, exe, "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+tcpAddr+" "+unixPath)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{in: in, lines: make(chan string, 8)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	t.Cleanup(func() {
		in.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(itWait):
			cmd.Process.Kill()
			<-done
		}
	})
	line := recv(t, "helper ready", h.lines)
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "ready" {
		t.Fatalf("helper said %q", line)
	}
	h.pid, _ = strconv.Atoi(f[1])
	h.local = f[2]
	return h
}

func socketByInode(s *Snapshot, ino uint64) *Socket {
	for i := range s.Sockets {
		if s.Sockets[i].Inode == ino {
			return &s.Sockets[i]
		}
	}
	return nil
}

// TestIntegrationNamespaceSnapshot: in a fresh namespace, a TCP listener,
// a UDP socket and a UNIX listener of this process, and a client process
// connected to both listeners; the snapshot of that namespace shows them
// all with their owners and IPC edges, the host's shows none of them, and
// the client's close is a Diff change.
func TestIntegrationNamespaceSnapshot(t *testing.T) {
	requireRoot(t)
	t.Logf("kernel profile %q", feature.Profile())
	ctx, cancel := context.WithTimeout(context.Background(), itTimeout)
	defer cancel()
	nsName, h, nsInode := testNetNS(t, ctx)

	sockPath := filepath.Join(t.TempDir(), "it.sock")
	var (
		ln  *net.TCPListener
		pc  *net.UDPConn
		ul  *net.UnixListener
		err error
	)
	if err := inNetNS(h, func() error {
		var l net.Listener
		if l, err = net.Listen("tcp4", "127.0.0.1:0"); err != nil {
			return err
		}
		ln = l.(*net.TCPListener)
		var p net.PacketConn
		if p, err = net.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
			return err
		}
		pc = p.(*net.UDPConn)
		if l, err = net.Listen("unix", sockPath); err != nil {
			return err
		}
		ul = l.(*net.UnixListener)
		return nil
	}); err != nil {
		t.Fatalf("listening inside %s: %v", nsName, err)
	}
	t.Cleanup(func() { ln.Close(); pc.Close(); ul.Close() })
	tcpPort := ln.Addr().(*net.TCPAddr).Port
	udpPort := pc.LocalAddr().(*net.UDPAddr).Port

	accepted := make(chan net.Conn, 2)
	for _, l := range []interface {
		Accept() (net.Conn, error)
		SetDeadline(time.Time) error
	}{ln, ul} {
		l.SetDeadline(time.Now().Add(itWait))
		go func() {
			c, err := l.Accept()
			if err != nil {
				t.Errorf("accept: %v", err)
				c = nil
			}
			accepted <- c
		}()
	}
	client := startHelper(t, ctx, nsName, ln.Addr().String(), sockPath)
	var srvTCP, srvUnix net.Conn
	for range 2 {
		c := recv(t, "accept", accepted)
		if c == nil {
			t.FailNow()
		}
		t.Cleanup(func() { c.Close() })
		if _, ok := c.(*net.TCPConn); ok {
			srvTCP = c
		} else {
			srvUnix = c
		}
	}
	me := os.Getpid()
	lnIno, pcIno, ulIno := fdInode(t, ln), fdInode(t, pc), fdInode(t, ul)
	srvTCPIno, srvUnixIno := fdInode(t, srvTCP.(syscall.Conn)), fdInode(t, srvUnix.(syscall.Conn))

	// Enumeration finds the namespace by its name, once.
	c := &Collector{Owners: NewOwnerIndex(""), Timeout: itWait}
	nss, err := c.Namespaces()
	if err != nil {
		t.Fatal(err)
	}
	var ns Namespace
	for _, n := range nss {
		if n.Inode == nsInode {
			if ns.Inode != 0 {
				t.Errorf("namespace %d listed twice", nsInode)
			}
			ns = n
		}
	}
	if ns.Name != nsName || ns.Path != filepath.Join(c.netnsDir(), nsName) {
		t.Fatalf("test namespace listed as %+v, want name %s", ns, nsName)
	}

	snap, err := c.Snapshot(ns)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if snap.NetNS != nsInode || snap.Name != nsName || snap.Tables != AllTables {
		t.Errorf("snapshot netns %d name %q tables %b; want %d %q %b", snap.NetNS, snap.Name, snap.Tables, nsInode, nsName, AllTables)
	}

	// The listener, with its port and owner.
	if k := socketByInode(snap, lnIno); k == nil || k.Table != TCP4 || k.State != StateListen ||
		int(k.Local.Port()) != tcpPort || !slices.Equal(k.PIDs, []int{me}) {
		t.Errorf("TCP listener (inode %d, port %d): %+v", lnIno, tcpPort, k)
	}
	if k := socketByInode(snap, pcIno); k == nil || k.Table != UDP4 || k.Role() != RoleListening ||
		int(k.Local.Port()) != udpPort || !slices.Equal(k.PIDs, []int{me}) {
		t.Errorf("UDP socket (inode %d, port %d): %+v", pcIno, udpPort, k)
	}
	// The connected pair: the accepted end is ours, the client's is the
	// helper's, and together they make an IPC edge.
	srv := socketByInode(snap, srvTCPIno)
	if srv == nil || srv.State != StateEstablished || !srv.Accepted || !slices.Equal(srv.PIDs, []int{me}) {
		t.Fatalf("accepted TCP end: %+v", srv)
	}
	var cli *Socket
	for i := range snap.Sockets {
		if k := &snap.Sockets[i]; k.Table == TCP4 && k.Local.String() == client.local && k.Remote == srv.Local {
			cli = k
		}
	}
	if cli == nil || !slices.Equal(cli.PIDs, []int{client.pid}) || cli.Accepted || cli.Inode == 0 {
		t.Fatalf("client TCP end %s: %+v (helper pid %d)", client.local, cli, client.pid)
	}
	// UNIX: the listener by name, the accepted end, and the client's end
	// naming the server path through its peer.
	if k := socketByInode(snap, ulIno); k == nil || k.Path != sockPath || k.State != StateListen || !slices.Equal(k.PIDs, []int{me}) {
		t.Errorf("UNIX listener %s: %+v", sockPath, k)
	}
	usrv := socketByInode(snap, srvUnixIno)
	if usrv == nil || usrv.Path != sockPath || !usrv.Accepted || usrv.Peer == 0 {
		t.Fatalf("accepted UNIX end: %+v", usrv)
	}
	ucli := socketByInode(snap, usrv.Peer)
	if ucli == nil || ucli.PeerPath != sockPath || ucli.Peer != srvUnixIno || !slices.Equal(ucli.PIDs, []int{client.pid}) {
		t.Fatalf("UNIX client end: %+v", ucli)
	}
	edges := snap.Edges()
	for _, want := range []IPCEdge{
		{NetNS: nsInode, Transport: "tcp", Client: EdgeEnd{PID: client.pid, Inode: cli.Inode}, Server: EdgeEnd{PID: me, Inode: srvTCPIno}},
		{NetNS: nsInode, Transport: "unix", Client: EdgeEnd{PID: client.pid, Inode: ucli.Inode}, Server: EdgeEnd{PID: me, Inode: srvUnixIno}},
	} {
		if !slices.Contains(edges, want) {
			t.Errorf("edge %+v missing from %+v", want, edges)
		}
	}

	// The events a first snapshot gives for the listener.
	var sawListen bool
	for _, ch := range Diff(nil, snap) {
		if ch.Socket.Inode != lnIno {
			continue
		}
		e := ch.Event()
		sawListen = e.Action == ActionListening && e.Type == "start" && e.Source != nil && e.Source.Port == tcpPort &&
			e.Process.PID == me && e.Network.NetNS == nsInode && e.Network.Transport == "tcp"
		if !sawListen {
			t.Errorf("listener event: %+v %+v %+v", e, e.Source, e.Network)
		}
	}
	if !sawListen {
		t.Error("no event for the listener")
	}

	// The host namespace shows none of it.
	own, err := c.OwnNamespace()
	if err != nil {
		t.Fatal(err)
	}
	if own.Inode == nsInode {
		t.Fatal("test namespace is the host's")
	}
	host, err := c.Snapshot(own)
	if err != nil {
		t.Fatalf("host snapshot: %v", err)
	}
	for _, k := range host.Sockets {
		if (k.Table == TCP4 && k.State == StateListen && k.Local == srv.Local) ||
			(k.Table == UDP4 && int(k.Local.Port()) == udpPort && k.Local.Addr() == srv.Local.Addr()) ||
			k.Path == sockPath || slices.Contains([]uint64{lnIno, pcIno, ulIno, srvTCPIno, srvUnixIno, cli.Inode}, k.Inode) && k.Inode != 0 {
			t.Errorf("host snapshot has the test's socket %+v", k)
		}
	}

	// SnapshotAll covers the test namespace too.
	all, err := c.SnapshotAll()
	if err != nil {
		t.Logf("SnapshotAll (other namespaces may vanish meanwhile): %v", err)
	}
	if !slices.ContainsFunc(all, func(s *Snapshot) bool { return s.NetNS == nsInode && socketByInode(s, lnIno) != nil }) {
		t.Error("SnapshotAll lacks the test namespace's listener")
	}

	// The client closes its TCP end: Diff reports it closed, with its pid.
	fmt.Fprintln(client.in, "close-tcp")
	if l := recv(t, "helper close", client.lines); l != "closed" {
		t.Fatalf("helper said %q", l)
	}
	snap2, err := c.Snapshot(ns)
	if err != nil {
		t.Fatal(err)
	}
	var closed bool
	for _, ch := range Diff(snap, snap2) {
		if ch.Kind == Closed && ch.Socket.Inode == cli.Inode {
			e := ch.Event()
			closed = e.Type == "end" && e.Action == ActionClosed && e.Process.PID == client.pid && e.Network.NetNS == nsInode
			if !closed {
				t.Errorf("close event: %+v", e)
			}
		}
		if ch.Socket.Inode == lnIno || ch.Socket.Inode == ulIno {
			t.Errorf("listener changed: %+v", ch)
		}
	}
	if !closed {
		t.Errorf("Diff lacks the client's close: %+v", Diff(snap, snap2))
	}

	// No thread of ours was left in the test namespace.
	checkThreads(t, own.Inode)
	if st := c.Owners.Stats(); st.Scans == 0 {
		t.Errorf("owner stats %+v", st)
	}
	t.Logf("collector %+v, owners %+v", c.Stats(), c.Owners.Stats())

	// The pre-3.3 request (TCPDIAG_GETSOCK) still works on this kernel:
	// the fallback sees the same listener.
	t.Run("legacy TCPDIAG_GETSOCK", func(t *testing.T) {
		lc := &Collector{}
		lc.Capabilities()
		lc.legacyTCP = true
		s, err := lc.Snapshot(ns)
		if err != nil {
			t.Fatal(err)
		}
		if k := socketByInode(s, lnIno); k == nil || k.Table != TCP4 || k.State != StateListen || !s.Tables.Has(TCP6) {
			t.Errorf("legacy dump: listener %+v, tables %b", k, s.Tables)
		}
	})
}

// checkThreads runs goroutines on many threads and checks each is in the
// namespace want: a thread left in a foreign namespace and unlocked would
// show up here.
func checkThreads(t *testing.T, want uint64) {
	t.Helper()
	n := 4 * runtime.GOMAXPROCS(0)
	errc := make(chan error, n)
	for range n {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			ino, err := statInode(fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid()))
			if err == nil && ino != want {
				err = fmt.Errorf("thread %d in netns %d, want %d", unix.Gettid(), ino, want)
			}
			errc <- err
		}()
	}
	for range n {
		if err := recv(t, "thread check", errc); err != nil {
			t.Error(err)
		}
	}
}

// TestIntegrationProbe: on this kernel, under any profile, each feature
// is available exactly when the profile leaves it on, and a refusal names
// the profile.
func TestIntegrationProbe(t *testing.T) {
	requireRoot(t)
	if err := feature.CheckProfile(); err != nil {
		t.Fatal(err)
	}
	caps := Probe()
	if len(caps) != len(Features) {
		t.Fatalf("Probe = %+v", caps)
	}
	for _, cp := range caps {
		off := feature.Disabled(cp.Feature)
		if cp.Available != (off == nil) {
			t.Errorf("profile %q: %s available=%v (%s), profile says %v", feature.Profile(), cp.Feature, cp.Available, cp.Reason, off)
		}
		if off != nil && !strings.Contains(cp.Reason, feature.ProfileEnv) {
			t.Errorf("%s: reason %q does not name the profile", cp.Feature, cp.Reason)
		}
		t.Logf("profile %q: %s available=%v %s", feature.Profile(), cp.Feature, cp.Available, cp.Reason)
	}
	c := &Collector{}
	if got := c.Capabilities(); !slices.Equal(got, caps) {
		t.Errorf("Collector.Capabilities = %+v, Probe = %+v", got, caps)
	}
}

// TestIntegrationOwnNamespaceNoSetns: the collector's own namespace is
// recognised and dialed without setns (so it works without
// CAP_SYS_ADMIN), and a namespace path that vanished is an error, not a
// snapshot of the wrong namespace.
func TestIntegrationOwnNamespaceNoSetns(t *testing.T) {
	requireRoot(t)
	c := &Collector{}
	own, err := c.OwnNamespace()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := dialNamespace(own)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if _, err := dialNamespace(Namespace{Inode: own.Inode, Path: "/nonexistent"}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: %v", err)
	}
}
