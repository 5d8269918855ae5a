// Package baseline will learn what is normal on a host (parent→child
// executables, executables per user, file-access classes, listening ports,
// remote endpoint classes) and persist it crash-safely.
//
// It holds no code yet (a later release; see the README's roadmap).
package baseline
