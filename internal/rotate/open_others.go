//go:build !unix

package rotate

// openFlags: no O_NOFOLLOW or O_NONBLOCK here; the regular-file check
// after open still applies.
const openFlags = 0
