// Package feature names the kernel features lineaged's sources depend on,
// the kernel release that introduced each, and the legacy profile that can
// switch them off.
//
// Sources probe a feature by trying the operation and reading the errno,
// never by parsing the kernel version (distribution kernels backport). A
// legacy profile (LINEAGED_KERNEL_PROFILE=3.10|4.4|4.15) makes every probe
// of a feature newer than that release answer "not supported" before it
// touches the kernel, so the fallbacks run, and can be tested, on any host.
package feature

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Feature is one kernel capability a source may use.
type Feature string

// The features lineaged probes, with the mainline release that added them.
const (
	AuditMulticast        Feature = "audit.multicast"          // 3.16: NETLINK_AUDIT read-only multicast group
	AuditBacklogWaitTime  Feature = "audit.backlog_wait_time"  // 3.14
	ProcConnector         Feature = "proc.connector"           // 2.6.15
	ProcEventComm         Feature = "proc.event_comm"          // 2.6.36
	ProcEventCoredump     Feature = "proc.event_coredump"      // 3.10
	FanotifyMarkFS        Feature = "fanotify.mark_filesystem" // 4.20: FAN_MARK_FILESYSTEM
	FanotifyOpenExec      Feature = "fanotify.open_exec"       // 5.0: FAN_OPEN_EXEC
	FanotifyReportFID     Feature = "fanotify.report_fid"      // 5.1: FAN_REPORT_FID
	FanotifyReportDirName Feature = "fanotify.report_dir_name" // 5.9: FAN_REPORT_DIR_FID|FAN_REPORT_NAME
	SockDiagInet          Feature = "sock_diag.inet"           // 2.6.x: inet_diag over NETLINK_SOCK_DIAG
	SockDiagUnix          Feature = "sock_diag.unix"           // 3.3: unix_diag
	SockDiagUDP           Feature = "sock_diag.udp"            // 3.3: UDP in inet_diag
)

// minKernel is the first mainline release with each feature.
var minKernel = map[Feature]string{
	AuditMulticast:        "3.16",
	AuditBacklogWaitTime:  "3.14",
	ProcConnector:         "2.6.15",
	ProcEventComm:         "2.6.36",
	ProcEventCoredump:     "3.10",
	FanotifyMarkFS:        "4.20",
	FanotifyOpenExec:      "5.0",
	FanotifyReportFID:     "5.1",
	FanotifyReportDirName: "5.9",
	SockDiagInet:          "2.6.14",
	SockDiagUnix:          "3.3",
	SockDiagUDP:           "3.3",
}

// All returns every feature, for capability tables.
func All() []Feature {
	return []Feature{AuditMulticast, AuditBacklogWaitTime, ProcConnector, ProcEventComm, ProcEventCoredump,
		FanotifyMarkFS, FanotifyOpenExec, FanotifyReportFID, FanotifyReportDirName, SockDiagInet, SockDiagUnix, SockDiagUDP}
}

// MinKernel returns the release that introduced f.
func MinKernel(f Feature) string { return minKernel[f] }

// ErrNotSupported is wrapped by every "feature missing" answer.
var ErrNotSupported = errors.New("not supported")

// NotSupported returns an error naming f and its minimum kernel, wrapping
// ErrNotSupported and the cause (an errno, or the profile).
func NotSupported(f Feature, cause error) error {
	return &Error{Feature: f, Cause: cause}
}

// Error says a feature is missing and why.
type Error struct {
	Feature Feature
	Cause   error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s not supported (requires >= %s)", e.Feature, minKernel[e.Feature])
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

func (e *Error) Unwrap() []error { return []error{ErrNotSupported, e.Cause} }

// ProfileEnv is the environment variable that selects a legacy profile.
const ProfileEnv = "LINEAGED_KERNEL_PROFILE"

// Profiles are the legacy kernels a profile can emulate.
var Profiles = []string{"3.10", "4.4", "4.15"}

// Profile is the active legacy profile ("" for none).
func Profile() string { return os.Getenv(ProfileEnv) }

// CheckProfile validates the profile named in the environment.
func CheckProfile() error {
	p := Profile()
	if p == "" {
		return nil
	}
	for _, q := range Profiles {
		if p == q {
			return nil
		}
	}
	return fmt.Errorf("%s=%q is not one of %s", ProfileEnv, p, strings.Join(Profiles, ", "))
}

// ErrProfile is the cause given when a profile switched a feature off.
var ErrProfile = errors.New("switched off by " + ProfileEnv)

// Disabled returns a NotSupported error when the active profile's kernel
// predates f, and nil otherwise. Probes call it first.
func Disabled(f Feature) error {
	p := Profile()
	if p == "" {
		return nil
	}
	if older(p, minKernel[f]) {
		return NotSupported(f, fmt.Errorf("%w (profile %s)", ErrProfile, p))
	}
	return nil
}

// older reports whether release a is older than release b ("3.10" < "3.16").
func older(a, b string) bool {
	pa, pb := parts(a), parts(b)
	for i := 0; i < 3; i++ {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}

func parts(v string) [3]int {
	var out [3]int
	for i, s := range strings.SplitN(v, ".", 3) {
		n, _ := strconv.Atoi(s)
		out[i] = n
	}
	return out
}

// Capability is one row of a source's capability table: a feature, whether
// it is in use, and why not.
type Capability struct {
	Feature   Feature `json:"feature"`
	Available bool    `json:"available"`
	Reason    string  `json:"reason,omitempty"` // why not (or a caveat)
}
