package agent

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/fanotify"
	"github.com/lineaged/lineaged/feature"
	"github.com/lineaged/lineaged/netlink"
	"github.com/lineaged/lineaged/proc"
)

// HostStatus is what `lineaged status` reports: the kernel, the legacy
// profile in force, the audit state and every source's capability table.
type HostStatus struct {
	Kernel       string               `json:"kernel"`
	Profile      string               `json:"profile,omitempty"`
	Audit        *AuditState          `json:"audit,omitempty"`
	AuditError   string               `json:"audit_error,omitempty"`
	Capabilities []feature.Capability `json:"capabilities"`
}

// AuditState is the kernel's audit configuration, with what it means for
// lineaged.
type AuditState struct {
	audit.Status
	Immutable bool   `json:"immutable"`
	Owner     string `json:"owner"` // "none", "pid N"
	Mode      string `json:"mode"`  // the ingest mode auto would pick
}

// probes are the capability probes of the sources, in table order. The
// live sources add theirs as they arrive.
var probes = []func() []feature.Capability{
	func() []feature.Capability { return []feature.Capability{audit.ProbeMulticast()} },
	proc.Probe,
	fanotify.Probe,
	netlink.Probe,
}

// Status gathers the host's status. It changes nothing on the host.
func Status() HostStatus {
	var hs HostStatus
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		hs.Kernel = strings.TrimRight(string(u.Release[:]), "\x00")
	}
	hs.Profile = feature.Profile()
	st, err := audit.ReadStatus()
	if err != nil {
		hs.AuditError = err.Error()
	} else {
		as := &AuditState{Status: st, Immutable: st.Immutable(), Owner: "none"}
		if st.PID != 0 {
			as.Owner = "pid " + strconv.Itoa(int(st.PID))
		}
		// What auto picks (SPEC §1): beside a running daemon, multicast;
		// alone, own; with audit locked, read-only multicast.
		switch {
		case st.PID != 0 || st.Immutable():
			as.Mode = "multicast"
		default:
			as.Mode = "own"
		}
		hs.Audit = as
		hs.Capabilities = append(hs.Capabilities, audit.ProbeBacklogWaitTime(st))
	}
	for _, p := range probes {
		hs.Capabilities = append(hs.Capabilities, p()...)
	}
	return hs
}

// kernelSettings are the kernel's side of what is in force, as the
// report's CIS 4.1.1.3, 4.1.2.4 and 4.1.17 need it: the audit state
// (enabled 2 is immutable) and audit= / audit_backlog_limit= on the kernel
// command line. What cannot be read is left out (the report then says to
// check by hand), never guessed.
func kernelSettings() []event.KV {
	var kv []event.KV
	if st, err := audit.ReadStatus(); err == nil {
		kv = append(kv,
			event.KV{Key: "kernel.audit_enabled", Value: strconv.FormatUint(uint64(st.Enabled), 10)},
			event.KV{Key: "kernel.audit_backlog_limit", Value: strconv.FormatUint(uint64(st.BacklogLimit), 10)},
			event.KV{Key: "kernel.audit_failure", Value: strconv.FormatUint(uint64(st.Failure), 10)})
	}
	if b, err := os.ReadFile("/proc/cmdline"); err == nil {
		audit, backlog := "absent", "absent"
		for _, f := range strings.Fields(string(b)) {
			if v, ok := strings.CutPrefix(f, "audit="); ok {
				audit = v
			}
			if v, ok := strings.CutPrefix(f, "audit_backlog_limit="); ok {
				backlog = v
			}
		}
		kv = append(kv, event.KV{Key: "kernel.cmdline_audit", Value: audit},
			event.KV{Key: "kernel.cmdline_audit_backlog_limit", Value: backlog})
	}
	return kv
}
