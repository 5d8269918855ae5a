package agent

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/fanotify"
)

// FilePolicy builds fanotify's policy from the files: section: the
// built-in watches (fanotify.DefaultPolicy) when f.Defaults is set, then
// f.Watches in order; f.Exclude, then own, as paths never reported. own
// holds lineaged's own paths (its output, state directory, audit log,
// syslog and Kafka spools), so that nothing lineaged writes comes back to it as an
// event; empty entries, settings that are off, are skipped. Whether
// f.Enabled is set is the caller's to check.
//
// config has already checked each entry, for the line of the file; the
// agent checks again with fanotify's own rules because a watch can also
// come from a flag (--watch) and the built-in list and own paths are not
// config's to see. An error names the key as the file spells it
// (files.watches[2].path "srv": not absolute) or the own path.
func FilePolicy(f config.Files, own []string) (fanotify.Policy, error) {
	var p fanotify.Policy
	if f.Defaults {
		p = fanotify.DefaultPolicy()
		if err := p.Validate(); err != nil {
			return fanotify.Policy{}, fmt.Errorf("files.defaults: the built-in watches: %w", err)
		}
	}
	if len(p.Watches) == 0 && len(f.Watches) == 0 {
		return fanotify.Policy{}, errors.New("files.watches: no path to watch: files.defaults is false and files.watches is empty")
	}
	for i, w := range f.Watches {
		ops, err := fanotify.ParseOps(strings.Join(w.Ops, ","))
		if err != nil {
			return fanotify.Policy{}, fmt.Errorf("files.watches[%d].ops: %w", i, err)
		}
		fw := fanotify.Watch{Path: w.Path, Ops: ops, Class: w.Class, Recursive: w.Recursive}
		// One watch at a time, so that the index is the file's, not the
		// merged list's (the built-in watches come first).
		one := fanotify.Policy{Watches: []fanotify.Watch{fw}}
		if err := one.Validate(); err != nil {
			return fanotify.Policy{}, fmt.Errorf("files.watches[%d].%s", i, strings.TrimPrefix(err.Error(), "watches[0]."))
		}
		p.Watches = append(p.Watches, fw)
	}
	p.Exclude = make([]string, 0, len(f.Exclude)+len(own))
	for i, e := range f.Exclude {
		if err := checkExclude(e); err != nil {
			return fanotify.Policy{}, fmt.Errorf("files.exclude[%d] %s", i, err)
		}
		p.Exclude = append(p.Exclude, e)
	}
	for _, e := range own {
		if e == "" {
			continue
		}
		if err := checkExclude(e); err != nil {
			return fanotify.Policy{}, fmt.Errorf("lineaged's own path %s", err)
		}
		p.Exclude = append(p.Exclude, e)
	}
	p.UnlimitedQueue = f.UnlimitedQueue
	// Every part was checked above; this is the whole policy as the
	// watcher will see it, so that nothing it refuses gets past here.
	if err := p.Validate(); err != nil {
		return fanotify.Policy{}, fmt.Errorf("files: %w", err)
	}
	return p, nil
}

// checkExclude applies fanotify's rule for an excluded path, with the
// path quoted first as fanotify words it (`"tmp": not absolute`). The
// watch is there only because Validate wants one.
func checkExclude(path string) error {
	one := fanotify.Policy{Watches: []fanotify.Watch{{Path: "/etc", Ops: fanotify.OpOpen}}, Exclude: []string{path}}
	if err := one.Validate(); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "exclude[0] "))
	}
	return nil
}
