package fanotify

import "github.com/lineaged/lineaged/feature"

// MinReadBuffer is the smallest buffer Read accepts. The largest event
// this package can receive (header, fid record with a 128-byte handle and
// a 255-byte name) is well under it; the kernel answers EINVAL when the
// next event does not fit.
const MinReadBuffer = 4096

// Stats are the watcher's counters. Overflows counts FAN_Q_OVERFLOW
// events (each means the kernel dropped an unknown number of events).
type Stats struct {
	Events     uint64 // events returned
	Overflows  uint64 // kernel queue overflows
	Self       uint64 // events of lineaged's own pid, dropped
	Excluded   uint64 // events on excluded paths, dropped
	OutOfScope uint64 // events a mount or filesystem mark caught outside the watched paths, or with no wanted operation
	Unresolved uint64 // events whose path could not be found
	Malformed  uint64 // reads or records the decoder rejected
}

// ReportDirName is FAN_REPORT_DIR_FID|FAN_REPORT_NAME (5.9). It rides on
// FanotifyReportFID too (a legacy profile that switches FID off switches
// it off).
const ReportDirName = feature.FanotifyReportDirName

const reportDirNameMin = "5.9"
