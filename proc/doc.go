// Package proc will read the Linux proc connector (NETLINK_CONNECTOR,
// CN_IDX_PROC): fork, exec, exit, uid/gid, sid, comm, ptrace and coredump
// events for every process, and seed the lineage graph from /proc.
//
// It holds no code yet: the live agent arrives in the next release (see
// the README's roadmap). Replay does not need it.
package proc

// The connector is read with mdlayher/netlink (the package's code arrives
// with the live agent); the import pins the dependency until then.
import _ "github.com/mdlayher/netlink"
