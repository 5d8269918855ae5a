//go:build !linux

package fanotify

import (
	"errors"

	"github.com/lineaged/lineaged/feature"
)

// errUnimplemented is what every kernel-facing call answers off Linux, so
// that the decoders, the policy and their tests build anywhere.
var errUnimplemented = errors.New("fanotify: not implemented on this platform")

// Watcher is an open fanotify source (Linux only).
type Watcher struct{}

// Open fails off Linux.
func Open(p Policy) (*Watcher, error) {
	if _, err := p.Resolve(); err != nil {
		return nil, err
	}
	return nil, errUnimplemented
}

// Probe reports every feature as unavailable off Linux.
func Probe() []feature.Capability {
	var rows []feature.Capability
	for _, f := range []feature.Feature{feature.FanotifyReportFID, ReportDirName, feature.FanotifyMarkFS, feature.FanotifyOpenExec} {
		rows = append(rows, feature.Capability{Feature: f, Reason: errUnimplemented.Error()})
	}
	return rows
}

func (w *Watcher) Read(buf []byte) ([]Event, error)   { return nil, errUnimplemented }
func (w *Watcher) Close() error                       { return nil }
func (w *Watcher) Stats() Stats                       { return Stats{} }
func (w *Watcher) Caps() Caps                         { return Caps{} }
func (w *Watcher) Capabilities() []feature.Capability { return nil }
func (w *Watcher) Marks() []Mark                      { return nil }
func (w *Watcher) Skipped() []Skipped                 { return nil }
func (w *Watcher) Notes() []string                    { return nil }
