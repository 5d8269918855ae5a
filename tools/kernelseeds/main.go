//go:build linux

// Command kernelseeds captures real kernel messages from this host and
// stores them as seed corpora of the decoders' fuzz targets: proc
// connector datagrams (proc FuzzParseMessages) and their payloads (proc
// FuzzDecodeMessage), fanotify read buffers (fanotify FuzzDecodeEvents),
// and sock_diag replies for TCP and UNIX sockets (netlink FuzzInetDiagMsg,
// FuzzUnixDiagMsg). It needs root (CAP_NET_ADMIN for the connector,
// CAP_SYS_ADMIN for fanotify) and is run by `make fuzz-seeds` from the
// repository root. It uses raw sockets on purpose: the seeds are what the
// kernel sends, not what lineaged's own encoders make.
package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lineaged/lineaged/internal/fuzzcorpus"
)

func main() {
	for _, step := range []struct {
		name string
		fn   func() (int, error)
	}{{"proc connector", procSeeds}, {"fanotify", fanotifySeeds}, {"sock_diag", diagSeeds}} {
		k, err := step.fn()
		if err != nil {
			fmt.Fprintf(os.Stderr, "kernelseeds: %s: %v\n", step.name, err)
			os.Exit(1)
		}
		fmt.Printf("%s: %d new entries\n", step.name, k)
	}
}

func save(dir string, b []byte) int {
	ok, err := fuzzcorpus.Write(dir, b, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kernelseeds:", err)
		os.Exit(1)
	}
	if ok {
		return 1
	}
	return 0
}

const nlmsgHdrLen = 16

// nlmsg builds a netlink message: header then payload.
func nlmsg(typ, flags uint16, payload []byte) []byte {
	b := make([]byte, nlmsgHdrLen+len(payload))
	binary.LittleEndian.PutUint32(b[0:], uint32(len(b)))
	binary.LittleEndian.PutUint16(b[4:], typ)
	binary.LittleEndian.PutUint16(b[6:], flags)
	binary.LittleEndian.PutUint32(b[8:], 1)
	copy(b[nlmsgHdrLen:], payload)
	return b
}

// recvAll reads datagrams until timeout, returning each whole.
func recvAll(fd int, timeout time.Duration, max int) [][]byte {
	tv := unix.NsecToTimeval(int64(timeout))
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	var out [][]byte
	buf := make([]byte, 1<<16)
	for len(out) < max {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil || n <= 0 {
			break
		}
		out = append(out, append([]byte(nil), buf[:n]...))
	}
	return out
}

// procSeeds subscribes to the proc connector (CN_IDX_PROC, op
// PROC_CN_MCAST_LISTEN), runs a few programs, and keeps the datagrams.
func procSeeds() (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}); err != nil {
		return 0, err
	}
	op := func(v uint32) error {
		cn := make([]byte, 20+4) // cn_msg: id{idx,val}, seq, ack, len, flags; then the op
		binary.LittleEndian.PutUint32(cn[0:], 1)
		binary.LittleEndian.PutUint32(cn[4:], 1)
		binary.LittleEndian.PutUint16(cn[16:], 4)
		binary.LittleEndian.PutUint32(cn[20:], v)
		return unix.Sendto(fd, nlmsg(unix.NLMSG_DONE, 0, cn), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
	}
	if err := op(1); err != nil {
		return 0, err
	}
	defer op(2)
	go func() {
		for _, c := range [][]string{{"/bin/true"}, {"/bin/sh", "-c", "exit 3"}, {"/bin/sh", "-c", "kill -TERM $$"}} {
			exec.Command(c[0], c[1:]...).Run()
		}
	}()
	n := 0
	for _, d := range recvAll(fd, time.Second, 40) {
		n += save("proc/testdata/fuzz/FuzzParseMessages", d)
		if len(d) > nlmsgHdrLen {
			n += save("proc/testdata/fuzz/FuzzDecodeMessage", d[nlmsgHdrLen:])
		}
	}
	return n, nil
}

// fanotifySeeds marks a fresh directory and reads what writing a file in
// it produces, with plain file descriptors and, where the kernel has it
// (5.1+), FAN_REPORT_FID records.
func fanotifySeeds() (int, error) {
	dir, err := os.MkdirTemp("", "kernelseeds-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	n := 0
	for _, mode := range []struct {
		init uint
		mask uint64
	}{
		{unix.FAN_CLASS_NOTIF | unix.FAN_CLOEXEC, unix.FAN_OPEN | unix.FAN_MODIFY | unix.FAN_CLOSE_WRITE | unix.FAN_EVENT_ON_CHILD},
		{unix.FAN_CLASS_NOTIF | unix.FAN_CLOEXEC | unix.FAN_REPORT_FID | unix.FAN_REPORT_DIR_FID | unix.FAN_REPORT_NAME,
			unix.FAN_CREATE | unix.FAN_DELETE | unix.FAN_MODIFY | unix.FAN_EVENT_ON_CHILD | unix.FAN_ONDIR},
	} {
		fd, err := unix.FanotifyInit(mode.init, unix.O_RDONLY|unix.O_LARGEFILE)
		if err != nil {
			continue // an older kernel: the first mode is enough
		}
		if err := unix.FanotifyMark(fd, unix.FAN_MARK_ADD, mode.mask, unix.AT_FDCWD, dir); err != nil {
			unix.Close(fd)
			continue
		}
		p := filepath.Join(dir, "seed-file")
		os.WriteFile(p, []byte("x"), 0o644)
		os.Remove(p)
		unix.SetNonblock(fd, true)
		time.Sleep(50 * time.Millisecond)
		buf := make([]byte, 8192)
		if k, err := unix.Read(fd, buf); err == nil && k > 0 {
			b := buf[:k]
			n += save("fanotify/testdata/fuzz/FuzzDecodeEvents", b)
			closeEventFDs(b)
		}
		unix.Close(fd)
	}
	return n, nil
}

// closeEventFDs closes the descriptors fanotify opened for each event
// (struct fanotify_event_metadata: event_len u32, vers u8, reserved u8,
// metadata_len u16, mask u64, fd s32, pid s32).
func closeEventFDs(b []byte) {
	for len(b) >= 24 {
		l := int(binary.LittleEndian.Uint32(b))
		if l < 24 || l > len(b) {
			return
		}
		if fd := int32(binary.LittleEndian.Uint32(b[16:])); fd >= 0 {
			unix.Close(int(fd))
		}
		b = b[l:]
	}
}

// diagSeeds dumps TCP and UNIX sockets with SOCK_DIAG_BY_FAMILY (a
// listener of its own makes sure there is one of each) and keeps each
// reply's payload.
func diagSeeds() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	sock := filepath.Join(os.TempDir(), fmt.Sprintf("kernelseeds-%d.sock", os.Getpid()))
	ul, err := net.Listen("unix", sock)
	if err != nil {
		return 0, err
	}
	defer ul.Close()

	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	const sockDiagByFamily = 20
	n := 0
	dump := func(req []byte, dir string) error {
		if err := unix.Sendto(fd, nlmsg(sockDiagByFamily, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, req), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return err
		}
		kept := 0
		for _, d := range recvAll(fd, 500*time.Millisecond, 20) {
			for len(d) >= nlmsgHdrLen && kept < 6 {
				l := int(binary.LittleEndian.Uint32(d))
				typ := binary.LittleEndian.Uint16(d[4:])
				if l < nlmsgHdrLen || l > len(d) || typ == unix.NLMSG_DONE {
					break
				}
				n += save(dir, d[nlmsgHdrLen:l])
				kept++
				d = d[(l+3)&^3:]
			}
		}
		return nil
	}
	// inet_diag_req_v2: family, protocol, ext, pad, states; then a
	// 48-byte inet_diag_sockid left zero (every socket).
	inet := make([]byte, 8+48)
	inet[0], inet[1] = unix.AF_INET, unix.IPPROTO_TCP
	binary.LittleEndian.PutUint32(inet[4:], 0xffffffff)
	if err := dump(inet, "netlink/testdata/fuzz/FuzzInetDiagMsg"); err != nil {
		return n, err
	}
	// unix_diag_req: family, protocol, pad, states, ino, show, cookie;
	// show name, VFS, peer, uid (UDIAG_SHOW_NAME|VFS|PEER|UID).
	ux := make([]byte, 24)
	ux[0] = unix.AF_UNIX
	binary.LittleEndian.PutUint32(ux[4:], 0xffffffff)
	binary.LittleEndian.PutUint32(ux[12:], 0x1|0x2|0x4|0x40)
	if err := dump(ux, "netlink/testdata/fuzz/FuzzUnixDiagMsg"); err != nil {
		return n, err
	}
	return n, nil
}
