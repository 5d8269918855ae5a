// Package netlink will take sock_diag snapshots (NETLINK_SOCK_DIAG) of TCP,
// UDP and UNIX sockets in every network namespace and map socket inodes to
// processes.
//
// It holds no code yet: the live agent arrives in the next release (see
// the README's roadmap).
package netlink
