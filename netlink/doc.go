// Package netlink takes snapshots of the TCP, UDP (IPv4 and IPv6) and UNIX
// sockets of every network namespace through NETLINK_SOCK_DIAG, maps
// socket inodes to the processes holding them, and diffs snapshots into
// socket open/close events and process-to-process IPC edges.
//
// It is named after the kernel interface, like github.com/mdlayher/netlink,
// which it uses for the netlink socket; files that need both import that
// one as mnl.
//
// # Layout
//
//   - message.go: the kernel structures (inet_diag_req_v2, inet_diag_req,
//     inet_diag_msg, unix_diag_req, unix_diag_msg), each a Go type with
//     MarshalBinary and a bounds-checked UnmarshalBinary.
//   - conn.go: Conn, one NETLINK_SOCK_DIAG socket, and its dumps.
//   - probe.go: Probe, per-feature kernel probes and what each errno means.
//   - netns_linux.go: network namespace enumeration and entering.
//   - owner.go: OwnerIndex, socket inode to pids from /proc/PID/fd,
//     bounded in rate.
//   - snapshot.go: Collector, Snapshot and Socket.
//   - diff.go: Diff, Change (with Event, the normalised event) and IPCEdge.
//
// # Kernel support
//
// SOCK_DIAG_BY_FAMILY, udp_diag and unix_diag arrived in 3.3, so every
// kernel lineaged supports (3.10 up) has them, provided they were built
// (CONFIG_INET_DIAG, CONFIG_INET_UDP_DIAG, CONFIG_UNIX_DIAG) and can be
// loaded. Each is probed by trying a dump that matches nothing and reading
// the errno (see probe.go), and degrades alone: without unix_diag the TCP
// and UDP tables are still taken. TCP alone also works on kernels before
// 3.3 through the older TCPDIAG_GETSOCK request, chosen when
// SOCK_DIAG_BY_FAMILY is refused with EINVAL. Legacy profiles
// (LINEAGED_KERNEL_PROFILE) are consulted first; all three features
// predate every profile, so the kernel answers for them.
//
// # Byte order
//
// Netlink headers and most fields are in host order. Ports and addresses
// of inet_diag_sockid are in network order: they are kept as byte arrays
// and decoded with binary.BigEndian and netip.
//
// # Privileges
//
// Dumping the sockets of one's own namespace needs no privilege. Entering
// another namespace needs CAP_SYS_ADMIN, and reading other users'
// /proc/PID/fd needs root (CAP_SYS_PTRACE); without them, other
// namespaces fail to snapshot and sockets stay unattributed, both counted.
//
// # Concurrency
//
// The package starts no long-lived goroutine: the caller decides when to
// snapshot (on a period, and soon after connect/bind/accept events). To
// enter a namespace it runs one short goroutine on a locked OS thread and
// joins it before returning; a thread that cannot be returned to its
// original namespace is never unlocked, so it dies with that goroutine
// (see dialIn). Collector and OwnerIndex are safe for concurrent use.
//
// # Rate bounds
//
// A snapshot is a few netlink dumps; attributing sockets costs a walk of
// /proc. OwnerIndex walks at most once per MinInterval (one second by
// default) and counts the walks it refused, so a connect storm cannot
// become a /proc storm.
package netlink
