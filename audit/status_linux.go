//go:build linux

package audit

import (
	"errors"
	"fmt"
	"syscall"

	libaudit "github.com/elastic/go-libaudit/v2"

	"github.com/lineaged/lineaged/feature"
)

// Status is the kernel's audit state (AUDIT_GET), as auditctl -s shows it.
type Status struct {
	Enabled         uint32 `json:"enabled"` // 0 off, 1 on, 2 immutable (locked until reboot)
	Failure         uint32 `json:"failure"` // 0 silent, 1 printk, 2 panic
	PID             uint32 `json:"pid"`     // the registered audit daemon, 0 for none
	RateLimit       uint32 `json:"rate_limit"`
	BacklogLimit    uint32 `json:"backlog_limit"`
	Lost            uint32 `json:"lost"`
	Backlog         uint32 `json:"backlog"`
	BacklogWaitTime uint32 `json:"backlog_wait_time"` // jiffies; valid when HasBacklogWaitTime
	// HasBacklogWaitTime is false on kernels before 3.14, whose status
	// reply ends before the field (and whose feature bitmap lacks bit 1).
	HasBacklogWaitTime bool `json:"has_backlog_wait_time"`
}

// Immutable reports whether the configuration is locked (-e 2): lineaged
// then uses audit read-only, as found.
func (s Status) Immutable() bool { return s.Enabled == 2 }

// auditFeatureBacklogWaitTime is AUDIT_FEATURE_BITMAP_BACKLOG_WAIT_TIME
// (include/uapi/linux/audit.h, 3.14+).
const auditFeatureBacklogWaitTime = 0x2

// ReadStatus asks the kernel for its audit state. It changes nothing.
func ReadStatus() (Status, error) {
	c, err := libaudit.NewAuditClient(nil)
	if err != nil {
		return Status{}, explain("opening NETLINK_AUDIT", err)
	}
	defer c.Close()
	st, err := c.GetStatus()
	if err != nil {
		return Status{}, explain("AUDIT_GET", err)
	}
	s := Status{
		Enabled: st.Enabled, Failure: st.Failure, PID: st.PID, RateLimit: st.RateLimit,
		BacklogLimit: st.BacklogLimit, Lost: st.Lost, Backlog: st.Backlog,
		BacklogWaitTime:    st.BacklogWaitTime,
		HasBacklogWaitTime: st.FeatureBitmap&auditFeatureBacklogWaitTime != 0,
	}
	if feature.Disabled(feature.AuditBacklogWaitTime) != nil {
		s.HasBacklogWaitTime = false
	}
	return s, nil
}

// explain turns the errnos of the audit socket into what an operator can
// act on (go-libaudit's style: "audit not supported by kernel: %w").
func explain(op string, err error) error {
	switch {
	case errors.Is(err, syscall.EPROTONOSUPPORT):
		return fmt.Errorf("%s: audit not supported by this kernel (CONFIG_AUDIT off): %w", op, err)
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES):
		return fmt.Errorf("%s: needs CAP_AUDIT_CONTROL (run as root): %w", op, err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s: audit is disabled in this user namespace or container: %w", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// ProbeMulticast tries to join the audit multicast group (read-only
// listeners beside auditd, 3.16+). On older kernels the bind fails with
// EINVAL or EPERM; note that some backports (EL7's 3.10) accept the
// subscription and then deliver nothing, which only a live probe that
// waits for an event can tell: this probe reports the subscription.
func ProbeMulticast() feature.Capability {
	c := feature.Capability{Feature: feature.AuditMulticast}
	if err := feature.Disabled(feature.AuditMulticast); err != nil {
		c.Reason = err.Error()
		return c
	}
	cl, err := libaudit.NewMulticastAuditClient(nil)
	if err != nil {
		c.Reason = feature.NotSupported(feature.AuditMulticast, explain("joining the audit multicast group", err)).Error()
		return c
	}
	cl.Close()
	c.Available = true
	c.Reason = "subscription accepted (delivery is confirmed when events arrive)"
	return c
}

// ProbeBacklogWaitTime reports whether the kernel has backlog_wait_time.
func ProbeBacklogWaitTime(s Status) feature.Capability {
	c := feature.Capability{Feature: feature.AuditBacklogWaitTime, Available: s.HasBacklogWaitTime}
	if err := feature.Disabled(feature.AuditBacklogWaitTime); err != nil {
		c.Available, c.Reason = false, err.Error()
	} else if !c.Available {
		c.Reason = feature.NotSupported(feature.AuditBacklogWaitTime, errors.New("not in the kernel's feature bitmap")).Error()
	}
	return c
}
