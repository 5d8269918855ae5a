// Package fanotify will watch file opens, modifications, close-after-write
// and execs under configured paths with fanotify_init/fanotify_mark, never
// with permission events.
//
// It holds no code yet: the live agent arrives in the next release (see
// the README's roadmap).
package fanotify
