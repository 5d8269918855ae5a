// Package proc will read the Linux proc connector (NETLINK_CONNECTOR,
// CN_IDX_PROC): fork, exec, exit, uid/gid, sid, comm, ptrace and coredump
// events for every process, and seed the lineage graph from /proc.
//
// It holds no code yet: the live agent arrives in the next release (see
// the README's roadmap). Replay does not need it.
package proc
