package ui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lineaged/lineaged/event"
)

// Bounds on what one process node keeps of its command line: enough to
// recognise it in the tree, not a copy of every argv a build farm passes.
const (
	maxArgs     = 16
	maxArgBytes = 512
	// ellipsis marks an argument list that was cut, so the view never
	// shows a truncated command line as if it were whole.
	ellipsis = "…"
)

// maxCategories bounds the per-category counters: categories are a small
// fixed ECS set, but the map must not grow with whatever a source emits.
const maxCategories = 32

// sweepEvery is how many Observe calls pass between two TTL sweeps: a
// sweep reads the clock and pops the exits due, so it is cheap, but the
// clock need not be read on every event.
const sweepEvery = 256

// proc is one process instance in the view.
type proc struct {
	key       string // entity id, or "pid:N" when the event had none
	pid, ppid int
	parent    string   // the parent's key, "" when unknown
	exe       string   // interned copy
	args      []string // capped copy; replaced, never modified, so snapshots may share it
	userID    string
	start     int64 // Unix msec; 0 when unknown (an ancestor only seen in an ancestry)
	lastSeen  int64
	exit      int64 // Unix msec of the exit, meaningful when exited
	exitCode  int   // meaningful when hasCode
	exited    bool
	hasCode   bool
	unknown   bool // the source had no record of it (ProcRef.Unknown)
	alerts    int
}

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

// procKey is the map key of a process: its entity id, or "pid:N" when the
// source gave none (replay without a graph, tests), or "" when the event
// names no process at all.
func procKey(entityID string, pid int) string {
	if entityID != "" {
		return entityID
	}
	if pid > 0 {
		return "pid:" + strconv.Itoa(pid)
	}
	return ""
}

func refKey(r *event.ProcRef) string { return procKey(r.EntityID, r.PID) }

// Observe records e in the view: its process (and the parent and
// ancestors it names), an alert, and the counters. It must be called from
// one goroutine; the HTTP handlers may run at the same time. It keeps no
// pointer into e: every string and slice kept is copied, since the caller
// reuses the event's memory (and may build strings over reused buffers).
func (s *Server) Observe(e *event.Event) {
	if e == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events++
	s.countCategory(string(e.Category))
	n := s.observeProcess(e)
	if e.Kind == event.KindAlert && e.Alert != nil {
		s.addAlert(e, n)
	}
	s.observes++
	if len(s.procs) > s.maxProcs {
		s.evictOver()
	} else if s.observes%sweepEvery == 0 {
		s.sweepTTL(s.now().UnixMilli())
	}
}

func (s *Server) countCategory(c string) {
	if c == "" {
		c = "none"
	}
	if v, ok := s.byCategory[c]; ok {
		s.byCategory[c] = v + 1
		return
	}
	if len(s.byCategory) >= maxCategories {
		s.byCategory["other"]++
		return
	}
	s.byCategory[strings.Clone(c)] = 1
}

// observeProcess creates or refreshes the node of e's process, its parent
// and its ancestors, and returns the process's node (nil when e names no
// process).
func (s *Server) observeProcess(e *event.Event) *proc {
	p := &e.Process
	key := procKey(p.EntityID, p.PID)
	if key == "" {
		return nil
	}
	t := e.TimeMsec
	// Only a plain event says what happened to the process: an alert (or
	// an alert-repeated report) is a copy of an older event, emitted later,
	// and must not exec or exit the process a second time.
	lifecycle := e.Kind == event.KindEvent && e.Alert == nil && e.Category == event.CategoryProcess
	start := lifecycle && (e.Action == event.ActionExecuted || e.Action == event.ActionExisting || e.Action == event.ActionForked)

	n := s.procs[key]
	if n != nil && start && n.exited && t > n.exit {
		// Only possible with pid keys: the pid was reused by a new
		// instance. Start it afresh rather than show it as exited.
		delete(s.procs, key)
		n = nil
	}
	isNew := n == nil
	if isNew {
		n = &proc{key: strings.Clone(key), start: t}
		s.procs[n.key] = n
	}
	if p.PID > 0 {
		n.pid = p.PID
	}
	if p.PPID > 0 {
		n.ppid = p.PPID
	}
	if p.StartMsec > 0 {
		n.start = p.StartMsec
	}
	if t > n.lastSeen {
		n.lastSeen = t
	}
	n.unknown = false

	switch {
	case start && e.Action != event.ActionForked && e.Outcome != event.OutcomeFailure:
		// A (successful) exec, or a process found running: its program
		// and command line are now these.
		n.exe = s.intern(p.Executable)
		n.args = capArgs(p.Args)
		if e.User.ID != "" {
			n.userID = s.intern(e.User.ID)
		}
	case isNew || n.exe == "":
		// First sighting through some other event: fill in what it says,
		// but never let a later non-exec event rewrite the program.
		n.exe = s.intern(p.Executable)
		if len(n.args) == 0 {
			n.args = capArgs(p.Args)
		}
		if n.userID == "" {
			n.userID = s.intern(e.User.ID)
		}
	}
	if lifecycle && e.Action == event.ActionExited {
		n.exited, n.exit = true, t
		if p.ExitCode != nil {
			n.exitCode, n.hasCode = *p.ExitCode, true
		}
		s.noteExit(n)
	}

	// The parent: the graph names it in Parent and again as Ancestry[0];
	// the ancestry goes on up (to pid 1, live).
	chain := e.Ancestry
	parent := e.Parent
	if parent == nil && len(chain) > 0 {
		parent = &chain[0]
	}
	// Walking the chain costs a map lookup per ancestor, and the bulk of
	// events (syscalls of a process already in the view whose parent is
	// too) would add nothing: only a new process, a process event (exec,
	// exit, ...) or a parent missing from the view walks it. Ancestors are
	// so kept fresh by their descendants' starts and exits.
	if isNew || lifecycle || n.parent == "" || s.procs[n.parent] == nil {
		// From the top down, so each node's parent exists when it is
		// linked and the link can share the parent's copy of its key.
		var up *proc
		for i := len(chain) - 1; i >= 0; i-- {
			up = s.touchRef(&chain[i], up, t)
		}
		if e.Parent != nil && (len(chain) == 0 || refKey(&chain[0]) != refKey(e.Parent)) {
			s.touchRef(e.Parent, nil, t)
		}
	}
	switch {
	case parent != nil:
		if pk := refKey(parent); pk != "" && n.parent != pk && pk != n.key {
			if pn := s.procs[pk]; pn != nil {
				n.parent = pn.key
			} else {
				n.parent = strings.Clone(pk)
			}
		}
	case p.EntityID == "" && p.PPID > 0 && n.parent == "":
		// No graph (pid keys): link by ppid; a parent never seen leaves
		// the process a root in the page.
		n.parent = "pid:" + strconv.Itoa(p.PPID)
	}
	return n
}

// touchRef creates or refreshes the node of an ancestor r seen at t, and
// links it to up (the node of r's own parent, nil at the top of the
// chain) unless it has a parent already. It returns r's node.
func (s *Server) touchRef(r *event.ProcRef, up *proc, t int64) *proc {
	k := refKey(r)
	if k == "" {
		return nil
	}
	n := s.procs[k]
	if n == nil {
		// An ancestor never seen itself: its start is unknown (0), not
		// the time of this event.
		n = &proc{key: strings.Clone(k), pid: r.PID, unknown: r.Unknown}
		s.procs[n.key] = n
	}
	if t > n.lastSeen {
		// Ancestors stay fresh while their descendants are active, so the
		// least-recently-seen eviction takes leaves before the trunk.
		n.lastSeen = t
	}
	if !r.Unknown {
		n.unknown = false
		if n.exe == "" && r.Executable != "" {
			n.exe = s.intern(r.Executable)
			n.args = capArgs(r.Args)
		}
		if n.userID == "" {
			n.userID = s.intern(r.UserID)
		}
	}
	if up != nil && up != n {
		if n.ppid == 0 && up.pid > 0 {
			n.ppid = up.pid
		}
		if n.parent == "" {
			n.parent = up.key
		}
	}
	return n
}

// maxInterned bounds the intern table. Executables and user ids repeat
// across processes (every /bin/sh, every uid 1000); when the table is full
// it is emptied and refilled by what comes next, so a burst of one-off
// names cannot pin it.
const maxInterned = 4096

// intern returns a copy of v owned by the Server, shared with every other
// node that has the same value: one allocation per distinct string rather
// than per process.
func (s *Server) intern(v string) string {
	if v == "" {
		return ""
	}
	if c, ok := s.strs[v]; ok {
		return c
	}
	if len(s.strs) >= maxInterned {
		clear(s.strs)
	}
	c := strings.Clone(v)
	s.strs[c] = c
	return c
}

// capArgs copies at most maxArgs arguments and maxArgBytes bytes of args
// into memory of its own (one string backing them all, so a command line
// costs two allocations). A list that was cut ends in "…".
func capArgs(args []string) []string {
	if len(args) == 0 {
		return nil
	}
	k, size, cut := 0, 0, false
	for k < len(args) && k < maxArgs {
		if size+len(args[k]) > maxArgBytes {
			cut = true
			if size < maxArgBytes {
				k++ // a part of this one fits
				size = maxArgBytes
			}
			break
		}
		size += len(args[k])
		k++
	}
	if k < len(args) {
		cut = true
	}
	if cut {
		size += len(ellipsis)
	}
	var b strings.Builder
	b.Grow(size)
	var ends [maxArgs]int
	for i := 0; i < k; i++ {
		a := args[i]
		if room := maxArgBytes - b.Len(); len(a) > room {
			a = truncUTF8(a, room)
		}
		b.WriteString(a)
		if cut && i == k-1 {
			b.WriteString(ellipsis)
		}
		ends[i] = b.Len()
	}
	all := b.String()
	out := make([]string, k)
	from := 0
	for i, end := range ends[:k] {
		out[i] = all[from:end]
		from = end
	}
	return out
}

// truncUTF8 cuts s to at most n bytes without splitting a character.
func truncUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
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

// addAlert keeps e's alert in the ring, overwriting the oldest when full,
// and counts it on the process node n (nil when e names no process).
func (s *Server) addAlert(e *event.Event, n *proc) {
	a := alertJSON{
		ID:         strings.Clone(e.ID),
		Time:       e.TimeMsec,
		RuleID:     strings.Clone(e.Alert.RuleID),
		RuleName:   strings.Clone(e.Alert.RuleName),
		Severity:   e.Alert.Severity,
		Reason:     strings.Clone(e.Alert.Reason),
		Techniques: cloneStrings(e.Alert.Techniques),
		PID:        e.Process.PID,
		Executable: strings.Clone(e.Process.Executable),
		Args:       capArgs(e.Process.Args),
	}
	if n != nil {
		n.alerts++
		a.EntityID = n.key // the key the tree's nodes carry, so the page can find it
		if a.Executable == "" {
			a.Executable = n.exe
		}
	}
	s.alertsSeen++
	if len(s.alerts) < s.maxAlerts {
		s.alerts = append(s.alerts, a)
		return
	}
	s.alerts[s.alertNext] = a
	s.alertNext = (s.alertNext + 1) % s.maxAlerts
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

// exitRec is one exit in the order Observe saw them: the eviction queue.
// An entry whose node is gone or exited again since (exit differs) is
// stale and skipped.
type exitRec struct {
	key  string
	exit int64
}

// noteExit queues n's exit. The queue holds at most about two entries per
// kept node: beyond that it is compacted, so repeated exit events of one
// process cannot grow it. Callers hold s.mu.
func (s *Server) noteExit(n *proc) {
	s.exitQ = append(s.exitQ, exitRec{n.key, n.exit})
	if len(s.exitQ)-s.exitHead > 2*s.maxProcs+64 {
		s.compactExits()
	}
}

// popExit evicts the process at the front of the exit queue, if the entry
// is current, and reports whether there was an entry at all.
func (s *Server) popExit() bool {
	if s.exitHead >= len(s.exitQ) {
		return false
	}
	r := s.exitQ[s.exitHead]
	s.exitQ[s.exitHead] = exitRec{} // let the key string go
	s.exitHead++
	if n := s.procs[r.key]; n != nil && n.exited && n.exit == r.exit {
		delete(s.procs, r.key)
	}
	if s.exitHead == len(s.exitQ) {
		s.exitQ, s.exitHead = s.exitQ[:0], 0
	} else if s.exitHead >= 1024 && 2*s.exitHead >= len(s.exitQ) {
		n := copy(s.exitQ, s.exitQ[s.exitHead:])
		clear(s.exitQ[n:])
		s.exitQ, s.exitHead = s.exitQ[:n], 0
	}
	return true
}

// compactExits drops the stale and repeated entries of the exit queue,
// keeping the order.
func (s *Server) compactExits() {
	seen := make(map[string]bool, len(s.exitQ)-s.exitHead)
	q := s.exitQ[:0]
	for _, r := range s.exitQ[s.exitHead:] {
		if n := s.procs[r.key]; n != nil && n.exited && n.exit == r.exit && !seen[r.key] {
			seen[r.key] = true
			q = append(q, r)
		}
	}
	clear(s.exitQ[len(q):])
	s.exitQ, s.exitHead = q, 0
}

// sweepTTL drops processes that exited more than ExitedTTL before now.
// The exit queue is in the order exits were observed, which is their time
// order but for sources a few msec apart, so this stops at the first exit
// still young: an exit reported late leaves a little late. Callers hold
// s.mu.
func (s *Server) sweepTTL(now int64) {
	cutoff := now - s.exitedTTL
	for s.exitHead < len(s.exitQ) && s.exitQ[s.exitHead].exit < cutoff {
		s.popExit()
	}
}

// evictOver brings the node count back to MaxProcesses: first exited
// processes, oldest exit first (from the queue, O(1) each); only if none
// is left, the running ones least recently seen, down to 7/8 of the bound
// so that sort is paid once per MaxProcesses/8 new processes. Callers
// hold s.mu.
func (s *Server) evictOver() {
	for len(s.procs) > s.maxProcs && s.popExit() {
	}
	if len(s.procs) <= s.maxProcs {
		return
	}
	target := s.maxProcs - s.maxProcs/8
	all := s.scratch[:0]
	for _, n := range s.procs {
		all = append(all, n)
	}
	slices.SortFunc(all, func(a, b *proc) int { return cmp.Compare(a.lastSeen, b.lastSeen) })
	for _, n := range all[:len(all)-target] {
		delete(s.procs, n.key)
	}
	clear(all) // drop the pointers so evicted nodes can be freed
	s.scratch = all[:0]
}
