//go:build !linux

// Package mmsg reads many netlink datagrams with one recvmmsg(2) call. It
// exists on Linux only; elsewhere Batch is an empty type so that
// cross-platform structs can name it.
package mmsg

// Batch is empty outside Linux.
type Batch struct{}
