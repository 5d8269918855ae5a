package graph

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Bounds on the arguments a Node of Snapshot (and Proc.Node) carries:
// enough to recognise a command line in a tree, not a copy of every argv
// a build farm passes, so that a snapshot of thousands of processes stays
// small enough to send to another process every second.
const (
	SnapshotMaxArgs     = 16
	SnapshotMaxArgBytes = 512
	// snapshotCut ends an argument list Snapshot cut, so that a cut
	// command line is never shown as if it were whole.
	snapshotCut = "…"
)

// Snapshot returns a copy of the processes the graph indexes: the limit
// it first saw most recently, and every ancestor of those
// reachable through parent links (indexed or not), so that a tree drawn
// from the answer is connected. limit <= 0 returns nothing. Nodes are in
// order of StartMsec, then EntityID.
//
// Each Node is plain data (see Node) without Execs and Peers, with at most
// SnapshotMaxArgs arguments and SnapshotMaxArgBytes bytes of them (a cut
// list ends in "…"). Strings and arguments within the bounds are shared
// with the graph, which never changes them: the answer costs one slice
// of Nodes, one of exit codes, and a copy only of the argument lists it
// cuts.
//
// Snapshot is safe to call from any goroutine while Enrich runs in
// another: it holds the graph's lock for the copy, O(limit·log limit)
// whatever the graph's size (the index keeps its nodes in order of
// creation), so Enrich waits for it that long; call it on demand (a
// view's poll), not per event.
func (g *Graph) Snapshot(limit int) []Node {
	if limit <= 0 {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()

	picked := g.newest(limit)
	// Ancestors, marked with a fresh walk stamp so each is listed once
	// (and a cycle, which Enrich never builds, would still end).
	g.walk++
	for _, n := range picked {
		n.visit = g.walk
	}
	for i, k := 0, len(picked); i < k; i++ {
		hops := 0
		for a := picked[i].parent; a != nil && a.visit != g.walk && hops < linkWalkLimit; a = a.parent {
			a.visit = g.walk
			picked = append(picked, a)
			hops++
		}
	}
	slices.SortFunc(picked, func(a, b *node) int {
		return cmp.Or(cmp.Compare(a.start, b.start), strings.Compare(a.entityID, b.entityID))
	})

	out := make([]Node, len(picked))
	ncodes := 0
	for _, n := range picked {
		if n.hasCode {
			ncodes++
		}
	}
	codes := make([]int, ncodes)
	for i, n := range picked {
		viewNode(n, &out[i])
		if n.hasCode {
			codes[0] = n.exitCode
			out[i].ExitCode = &codes[0]
			codes = codes[1:]
		}
	}
	return out
}

// newest returns the limit indexed nodes created most recently (all of
// them when there are no more), with room for their ancestors: a walk
// back from the newest, O(limit). Callers hold g.mu.
func (g *Graph) newest(limit int) []*node {
	k := min(limit, len(g.index))
	picked := make([]*node, 0, k+k/4)
	for n := g.ctail; n != nil && len(picked) < k; n = n.cprev {
		picked = append(picked, n)
	}
	return picked
}

// viewNode fills dst with n as Snapshot lists it, all but the exit code
// (Lookup adds that, whole args, the peers and the exec history).
func viewNode(n *node, dst *Node) {
	*dst = Node{
		EntityID:         n.entityID,
		PID:              n.pid,
		PPID:             n.ppid,
		ReparentedTo:     n.curPPID,
		Executable:       n.exe,
		Args:             viewArgs(n.args),
		Name:             n.name,
		WorkingDirectory: n.cwd,
		UserID:           n.uid,
		StartMsec:        n.start,
		LastSeenMsec:     n.lastSeen,
		Exited:           n.exited,
		ExitMsec:         n.exitAt,
		Children:         n.children,
		NetNS:            n.netns,
	}
	if n.parent != nil {
		dst.ParentEntityID = n.parent.entityID
	}
}

// viewArgs returns args when within the snapshot bounds (shared: a node's
// args are never changed in place), else a capped copy ending in "…".
func viewArgs(args []string) []string {
	size := 0
	for i, a := range args {
		size += len(a)
		if i == SnapshotMaxArgs || size > SnapshotMaxArgBytes {
			return CapArgs(args, SnapshotMaxArgs, SnapshotMaxArgBytes)
		}
	}
	return args
}

// CapArgs copies at most maxArgs arguments and maxBytes bytes of them into
// memory of its own (one string backing them all, so a command line costs
// two allocations), cutting within an argument only at a character
// boundary. A list that was cut ends in "…" (beyond maxBytes). nil for
// none; maxArgs and maxBytes must be positive.
func CapArgs(args []string, maxArgs, maxBytes int) []string {
	if len(args) == 0 {
		return nil
	}
	k, size, cut := 0, 0, false
	for k < len(args) && k < maxArgs {
		if size+len(args[k]) > maxBytes {
			cut = true
			if size < maxBytes {
				k++ // a part of this one fits
				size = maxBytes
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
		size += len(snapshotCut)
	}
	var b strings.Builder
	b.Grow(size)
	var small [SnapshotMaxArgs]int
	ends := small[:0]
	if k > len(small) {
		ends = make([]int, 0, k)
	}
	for i := 0; i < k; i++ {
		a := args[i]
		if room := maxBytes - b.Len(); len(a) > room {
			a = truncUTF8(a, room)
		}
		b.WriteString(a)
		if cut && i == k-1 {
			b.WriteString(snapshotCut)
		}
		ends = append(ends, b.Len())
	}
	all := b.String()
	out := make([]string, k)
	from := 0
	for i, end := range ends {
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
