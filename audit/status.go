package audit

import (
	"errors"

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
