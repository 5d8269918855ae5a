//go:build !linux

package proc

import "time"

func userHZ() int64 { return defaultHZ }

// readClocks has no CLOCK_MONOTONIC to read off Linux: everything
// converts as if the machine had booted at the first call.
func readClocks() clockOffsets {
	return clockOffsets{monoToRealNS: time.Now().UnixNano(), hz: defaultHZ}
}
