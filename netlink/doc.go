// Package netlink will take sock_diag snapshots (NETLINK_SOCK_DIAG) of TCP,
// UDP and UNIX sockets in every network namespace and map socket inodes to
// processes.
//
// It holds no code yet: the live agent arrives in the next release (see
// the README's roadmap).
package netlink

import (
	_ "github.com/mdlayher/netlink"   // sock_diag requests (code arrives with the live agent)
	_ "github.com/vishvananda/netns" // entering network namespaces
)
