package graph

import "github.com/lineaged/lineaged/event"

// Proc is a handle on one process node: what Enrich returns for an event's
// process, and what Parent, Find and ProcOf return. It is two words, cheap
// to pass and to keep; the zero Proc stands for no process (Valid reports
// false, every accessor returns the zero value, Set does nothing).
//
// A Proc stays usable after its node left the index (evicted, or replaced
// by a new instance of its pid): it then describes the process as the
// graph last knew it, and keeps the node in memory while it is kept.
//
// Its methods read the node without the graph's lock: like Enrich, they
// must be called from the goroutine that calls Enrich (the pipeline's),
// where nothing changes the node under them; Snapshot, Stats and Lookup
// are the methods for other goroutines. Ancestry is the exception: it
// takes the lock, since building a chain updates the graph's caches.
type Proc struct {
	n *node
	g *Graph
	// repeatedExit: the event was an exit of an instance already
	// recorded as exited (audit's exit_group and the connector's exit
	// report one exit).
	repeatedExit bool
}

// RepeatedExit reports whether the event Enrich took was an exit the
// graph already had from another source: one fact, written once (SPEC §5).
func (p Proc) RepeatedExit() bool { return p.repeatedExit }

// Valid reports whether p is a process (not the zero Proc).
func (p Proc) Valid() bool { return p.n != nil }

// Graph is the graph p belongs to (nil for the zero Proc). Replay keeps
// one graph per audit host, so a consumer of several hosts asks each
// Proc, not one graph, for its neighbours.
func (p Proc) Graph() *Graph { return p.g }

// EntityID is the process instance's entity id ("" for the zero Proc).
func (p Proc) EntityID() string {
	if p.n == nil {
		return ""
	}
	return p.n.entityID
}

// PID is the process's pid.
func (p Proc) PID() int {
	if p.n == nil {
		return 0
	}
	return p.n.pid
}

// Executable is the program the process runs: its latest exec's, or what
// its first event said when no exec was seen.
func (p Proc) Executable() string {
	if p.n == nil {
		return ""
	}
	return p.n.exe
}

// Args are the arguments of Executable (bounded, see the package doc),
// shared with the graph: read-only.
func (p Proc) Args() []string {
	if p.n == nil {
		return nil
	}
	return p.n.args
}

// Exited reports whether the process was seen to exit.
func (p Proc) Exited() bool { return p.n != nil && p.n.exited }

// Parent is the node the process is linked to as its parent (see
// Parents and ancestry in the package doc), or the zero Proc: the same
// chain Enrich put into the event's ancestry, one step at a time.
func (p Proc) Parent() Proc {
	if p.n == nil || p.n.parent == nil {
		return Proc{}
	}
	return Proc{n: p.n.parent, g: p.g}
}

// LastExec is the process's latest successful exec, if one was seen. Its
// Args are shared with the graph: read-only.
func (p Proc) LastExec() (Exec, bool) {
	if p.n == nil || len(p.n.execs) == 0 {
		return Exec{}, false
	}
	return p.n.execs[len(p.n.execs)-1], true
}

// Ancestry is the process's ancestry as Enrich would put it into an event
// of the process now (nearest parent first, read-only, shared). It takes
// the graph's lock.
func (p Proc) Ancestry() []event.ProcRef {
	if p.n == nil {
		return nil
	}
	p.g.mu.Lock()
	defer p.g.mu.Unlock()
	return p.g.ancestry(p.n)
}

// Node is a copy of the process as Snapshot lists it.
func (p Proc) Node() Node {
	if p.n == nil {
		return Node{}
	}
	var out Node
	viewNode(p.n, &out)
	if p.n.hasCode {
		c := p.n.exitCode
		out.ExitCode = &c
	}
	return out
}

// Slot names one consumer's value on every node of every graph: detection
// keeps its per-process memory in one, so it needs no process table of its
// own and forgets a process when the graph does. Make one per consumer
// (NewSlot, at setup) and keep it; the zero Slot holds nothing.
type Slot struct{ k *slotKey }

// slotKey is a slot's identity: its address (never a zero-size type, whose
// pointers need not be distinct).
type slotKey struct{ _ byte }

type slotEntry struct {
	k *slotKey
	v any
}

// NewSlot returns a new slot, distinct from every other. A slot is not
// tied to one graph: replay has a graph per audit host, and one detection
// engine keeps its state on the nodes of all of them.
func NewSlot() Slot { return Slot{k: new(slotKey)} }

// Get returns the value s holds on p's node, nil if none (or p or s is
// zero).
func (p Proc) Get(s Slot) any {
	n := p.n
	if n == nil || s.k == nil {
		return nil
	}
	if n.slotKey == s.k {
		return n.slotVal
	}
	for i := range n.moreSlots {
		if n.moreSlots[i].k == s.k {
			return n.moreSlots[i].v
		}
	}
	return nil
}

// Set puts v in s on p's node; nil clears it. The graph never reads the
// value: it lives as long as the node does (see Memory in the package
// doc), and a consumer that must act when the node leaves the index
// registers OnEvict.
func (p Proc) Set(s Slot, v any) {
	n := p.n
	if n == nil || s.k == nil {
		return
	}
	if n.slotKey == s.k || n.slotKey == nil {
		n.slotKey, n.slotVal = s.k, v
		return
	}
	for i := range n.moreSlots {
		if n.moreSlots[i].k == s.k {
			n.moreSlots[i].v = v
			return
		}
	}
	n.moreSlots = append(n.moreSlots, slotEntry{k: s.k, v: v})
}

// OnEvict registers f to be called with each node that leaves the index:
// exited ExitTTL ago, idle IdleTTL, the least recently seen past MaxNodes,
// or replaced by a new instance of its pid. It is meant for setup, before
// events flow.
//
// f runs in the goroutine that calls Enrich, within that call, after the
// graph's lock is released: it may call any method of the graph and of
// the Proc, except Enrich. It must be quick (it runs on the event path,
// up to once per event and more when a burst of exits expires together).
// The node stays in memory while a child links to it or f's Proc is kept.
func (g *Graph) OnEvict(f func(Proc)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.onEvict = append(g.onEvict, f)
}

// notifyEvicted passes the nodes Enrich unindexed to the callbacks cbs (the
// list read under the lock).
func (g *Graph) notifyEvicted(cbs []func(Proc)) {
	for i, n := range g.gone {
		for _, f := range cbs {
			f(Proc{n: n, g: g})
		}
		g.gone[i] = nil
	}
	g.gone = g.gone[:0]
}

// Find returns the indexed (current) instance of pid, or the zero Proc.
func (g *Graph) Find(pid int) Proc {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n := g.index[pid]; n != nil {
		return Proc{n: n, g: g}
	}
	return Proc{}
}

// ProcOf returns the node of an event Enrich has seen: the indexed instance
// of its pid, when that still has the event's entity id; else the zero
// Proc. It serves a pipeline that enriches an event in one place and hands
// it to a consumer in another (Enrich's result is the direct way).
func (g *Graph) ProcOf(e *event.Event) Proc {
	if e.Process.PID <= 0 || e.Process.EntityID == "" {
		return Proc{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if n := g.index[e.Process.PID]; n != nil && n.entityID == e.Process.EntityID {
		return Proc{n: n, g: g}
	}
	return Proc{}
}
