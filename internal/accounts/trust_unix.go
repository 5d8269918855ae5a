//go:build unix

package accounts

import (
	"io/fs"
	"syscall"
)

// owner is a file's owning uid.
func owner(fi fs.FileInfo) (uint32, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, true
}

// inode is a file's inode number, so that a file replaced by a rename
// (shadow's tools write passwd+ and rename it over /etc/passwd) is seen
// as changed even with the same size and modification time.
func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
