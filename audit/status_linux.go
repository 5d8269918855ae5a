//go:build linux

package audit

import (
	"errors"
	"fmt"
	"syscall"

	libaudit "github.com/elastic/go-libaudit/v2"

	"github.com/lineaged/lineaged/feature"
)

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
