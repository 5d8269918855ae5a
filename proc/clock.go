package proc

import "sync"

// clockOffsets converts the kernel's time stamps to Unix time.
//
// The proc connector stamps events with ktime_get_ns(), CLOCK_MONOTONIC
// (3.10 used ktime_get_ts(), the same clock): time since boot, stopped
// while the machine is suspended. /proc/PID/stat's starttime counts clock
// ticks of CLOCK_BOOTTIME (boot-based since 3.17's real_start_time and
// 5.3's start_boottime; 3.10 added the sleep time by hand), which includes
// time suspended. The two agree on a server that has never been suspended.
//
// The offsets are read once per process and never again, so a start time
// converts to the same Unix millisecond every time (entity ids depend on
// it). The price: an NTP step after the first use skews the wall-clock
// times of later events by the step.
type clockOffsets struct {
	monoToRealNS int64 // CLOCK_REALTIME - CLOCK_MONOTONIC
	sleptMsec    int64 // CLOCK_BOOTTIME - CLOCK_MONOTONIC, in ms; 0 if under 1 ms
	hz           int64 // USER_HZ, the unit of /proc's clock ticks
}

// clocks returns the offsets, read on first use. Tests may replace it.
var clocks = sync.OnceValue(readClocks)

// defaultHZ is USER_HZ on every architecture lineaged builds for: the
// kernel scales its internal HZ to 100 for everything it shows user space
// in clock ticks (sysconf(_SC_CLK_TCK)). Only alpha differs (1024).
const defaultHZ = 100

// realNS converts a CLOCK_MONOTONIC reading to Unix nanoseconds.
func (c clockOffsets) realNS(mono uint64) int64 { return c.monoToRealNS + int64(mono) }

// baseMsec is the boot instant, in Unix ms, as CLOCK_MONOTONIC sees it.
func (c clockOffsets) baseMsec() int64 { return floorDiv(c.monoToRealNS, 1e6) }

// startMsec converts the CLOCK_MONOTONIC time of a fork to the Unix ms of
// the child's start, truncated to a clock tick first, as ticksToMsec and
// bootMsec convert /proc/PID/stat's starttime. A process seen both by the
// connector's fork and by a /proc walk therefore gets the same start time,
// unless the fork's notification came in the tick after the kernel took
// the child's start_time (a few microseconds out of 10 ms) or the host
// was suspended.
func (c clockOffsets) startMsec(mono uint64) int64 {
	hz := c.hz
	if hz <= 0 {
		hz = defaultHZ
	}
	ticks := mono / (1e9 / uint64(hz))
	return c.baseMsec() + ticksToMsec(ticks, hz)
}

// bootMsec converts ms after boot on CLOCK_BOOTTIME (a /proc starttime
// through ticksToMsec) to Unix ms.
func (c clockOffsets) bootMsec(ms int64) int64 {
	return c.baseMsec() - c.sleptMsec + ms
}

// ticksToMsec converts clock ticks to ms since boot.
func ticksToMsec(ticks uint64, hz int64) int64 {
	if hz <= 0 {
		hz = defaultHZ
	}
	if 1000%hz == 0 {
		return int64(ticks) * (1000 / hz)
	}
	return int64(ticks * 1000 / uint64(hz))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
