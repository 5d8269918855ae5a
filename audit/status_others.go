//go:build !linux

package audit

import (
	"errors"

	"github.com/lineaged/lineaged/feature"
)

// errUnimplemented is what the kernel-facing calls answer off Linux, so
// that the parser, the normaliser, the log source and their tests build
// anywhere.
var errUnimplemented = errors.New("audit: NETLINK_AUDIT is Linux only")

// ReadStatus fails off Linux.
func ReadStatus() (Status, error) { return Status{}, errUnimplemented }

// ProbeMulticast reports multicast unavailable off Linux.
func ProbeMulticast() feature.Capability {
	return feature.Capability{Feature: feature.AuditMulticast, Reason: errUnimplemented.Error()}
}
