package ui

import (
	"strings"

	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
)

// Bounds on what an alert keeps of its command line: enough to recognise
// it, not a copy of every argv a build farm passes.
const (
	maxArgs     = graph.SnapshotMaxArgs
	maxArgBytes = graph.SnapshotMaxArgBytes
)

// maxCategories bounds the per-category counters: categories are a small
// fixed ECS set, but the map must not grow with whatever a source emits.
const maxCategories = 32

// alertJSON is one kept alert, as /api/alerts serves it. Every string and
// slice in it is a copy owned by the Server.
type alertJSON struct {
	ID         string         `json:"id"`
	Time       int64          `json:"time"`
	RuleID     string         `json:"rule_id"`
	RuleName   string         `json:"rule_name"`
	Severity   event.Severity `json:"severity"`
	Reason     string         `json:"reason"`
	Techniques []string       `json:"techniques"`
	EntityID   string         `json:"entity_id"`
	PID        int            `json:"pid"`
	Executable string         `json:"executable"`
	Args       []string       `json:"args"`
}

// Observe records e in the view: the counters, and the alert if e is one.
// It keeps no process state (the tree comes from Config.Processes) and no
// pointer into e: an alert's strings and slices are copied, since the
// caller reuses the event's memory. It must be called from one goroutine;
// the HTTP handlers may run at the same time.
func (s *Server) Observe(e *event.Event) {
	if e == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events++
	s.countCategory(string(e.Category))
	if e.Kind == event.KindAlert && e.Alert != nil {
		s.addAlert(e)
	}
}

func (s *Server) countCategory(c string) {
	if c == "" {
		c = "none"
	}
	// Counted through a pointer: assigning to an existing string key
	// stores the new key too, and c may point into the caller's reused
	// buffer.
	if n, ok := s.byCategory[c]; ok {
		*n++
		return
	}
	if len(s.byCategory) >= maxCategories {
		c = "other"
		if n, ok := s.byCategory[c]; ok {
			*n++
			return
		}
	}
	n := uint64(1)
	s.byCategory[strings.Clone(c)] = &n
}

// Evicted is the graph's eviction callback (graph.Graph.OnEvict): an
// exited process the graph forgets is kept for ExitedTTL more, in a ring
// of MaxExited, so that a short-lived process stays in sight after the
// live graph's exit TTL (seconds) has passed. Running processes the graph
// evicts are gone from the view with it. Like every OnEvict callback it
// runs in the pipeline's goroutine.
func (s *Server) Evicted(p graph.Proc) {
	if !p.Exited() {
		return
	}
	s.keepExited(p.Node())
}

// keepExited puts n into the ring of exited processes, over the oldest
// when it is full.
func (s *Server) keepExited(n graph.Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.exited) < s.maxExited {
		s.exited = append(s.exited, n)
		return
	}
	s.exited[s.exitedNext] = n
	s.exitedNext = (s.exitedNext + 1) % s.maxExited
}

// recentExited copies the ring's processes whose exit is at most
// ExitedTTL before now, newest first, at most limit. Callers hold s.mu.
func (s *Server) recentExited(now int64, limit int) []graph.Node {
	dst := make([]graph.Node, 0, min(len(s.exited), limit))
	cutoff := now - s.exitedTTL
	for i := len(s.exited) - 1; i >= 0 && limit > 0; i-- {
		n := &s.exited[(s.exitedNext+i)%len(s.exited)]
		if n.ExitMsec >= cutoff {
			dst = append(dst, *n)
			limit--
		}
	}
	return dst
}

// addAlert keeps e's alert in the ring, overwriting the oldest when full.
// Callers hold s.mu.
func (s *Server) addAlert(e *event.Event) {
	a := alertJSON{
		ID:         strings.Clone(e.ID),
		Time:       e.TimeMsec,
		RuleID:     strings.Clone(e.Alert.RuleID),
		RuleName:   strings.Clone(e.Alert.RuleName),
		Severity:   e.Alert.Severity,
		Reason:     strings.Clone(e.Alert.Reason),
		Techniques: cloneStrings(e.Alert.Techniques),
		EntityID:   strings.Clone(e.Process.EntityID), // joined with the tree's nodes
		PID:        e.Process.PID,
		Executable: strings.Clone(e.Process.Executable),
		Args:       graph.CapArgs(e.Process.Args, maxArgs, maxArgBytes),
	}
	s.alertsSeen++
	if len(s.alerts) < s.maxAlerts {
		s.alerts = append(s.alerts, a)
		return
	}
	s.alerts[s.alertNext] = a
	s.alertNext = (s.alertNext + 1) % s.maxAlerts
}

func cloneStrings(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := make([]string, len(ss))
	for i, v := range ss {
		out[i] = strings.Clone(v)
	}
	return out
}

// alertsNewestFirst copies the ring, newest first. Callers hold s.mu.
func (s *Server) alertsNewestFirst() []alertJSON {
	out := make([]alertJSON, 0, len(s.alerts))
	// s.alertNext is the oldest entry once the ring is full, 0 before.
	for i := len(s.alerts) - 1; i >= 0; i-- {
		out = append(out, s.alerts[(s.alertNext+i)%len(s.alerts)])
	}
	return out
}

// alertCounts counts the kept alerts per process entity id: how the tree
// marks alerted processes. Callers hold s.mu.
func (s *Server) alertCounts() map[string]int {
	m := make(map[string]int, len(s.alerts))
	for i := range s.alerts {
		if id := s.alerts[i].EntityID; id != "" {
			m[id]++
		}
	}
	return m
}
