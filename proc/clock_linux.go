//go:build linux

package proc

import (
	"time"

	"golang.org/x/sys/unix"
)

// atClkTck is AT_CLKTCK (include/uapi/linux/auxvec.h): the kernel hands
// every process USER_HZ in its ELF auxiliary vector; this is what glibc's
// sysconf(_SC_CLK_TCK) returns, read without cgo.
const atClkTck = 17

// userHZ returns USER_HZ from the auxiliary vector, or defaultHZ.
func userHZ() int64 {
	av, err := unix.Auxv()
	if err != nil {
		return defaultHZ
	}
	for _, kv := range av {
		if kv[0] == atClkTck && kv[1] > 0 && kv[1] < 1e6 {
			return int64(kv[1])
		}
	}
	return defaultHZ
}

// readClocks samples CLOCK_MONOTONIC on both sides of CLOCK_REALTIME, so
// the offset is off by half the (sub-microsecond) gap at most, then
// CLOCK_BOOTTIME (2.6.39) for the time spent suspended.
func readClocks() clockOffsets {
	c := clockOffsets{hz: userHZ()}
	var m1, r, m2, b unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &m1) != nil ||
		unix.ClockGettime(unix.CLOCK_REALTIME, &r) != nil ||
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &m2) != nil {
		// Cannot happen with these clock ids; fall back to "booted now".
		c.monoToRealNS = time.Now().UnixNano()
		return c
	}
	mono := (m1.Nano() + m2.Nano()) / 2
	c.monoToRealNS = r.Nano() - mono
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &b) == nil {
		// EINVAL before 2.6.39: no suspend accounting, slept stays 0.
		if slept := b.Nano() - m2.Nano(); slept >= 1e6 {
			c.sleptMsec = slept / 1e6
		}
	}
	return c
}
