//go:build !linux

package proc

import (
	"github.com/lineaged/lineaged/feature"
	"github.com/mdlayher/netlink"
)

// Dial returns errUnimplemented: the proc connector is Linux's.
func Dial(cfg *Config) (*Conn, error) { return nil, errUnimplemented }

// Probe reports every feature unavailable off Linux.
func Probe() []feature.Capability {
	var out []feature.Capability
	for _, f := range []feature.Feature{feature.ProcConnector, feature.ProcEventComm, feature.ProcEventCoredump} {
		out = append(out, feature.Capability{Feature: f, Reason: errUnimplemented.Error()})
	}
	return out
}

// read takes the library's path off Linux.
func (c *Conn) read() ([]netlink.Message, error) { return c.c.Receive() }
