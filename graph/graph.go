package graph

import (
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"sync"

	"github.com/lineaged/lineaged/event"
)

// Defaults for the zero fields of Config.
const (
	DefaultExitTTL  = 5 * 60 * 1000       // 5 minutes, in msec
	DefaultIdleTTL  = 24 * 60 * 60 * 1000 // 24 hours, in msec
	DefaultMaxNodes = 200000
)

// touchAncestors is how many ancestors a new process refreshes in the LRU.
const touchAncestors = 8

// MaxAncestry caps the length of process.ancestry.
const MaxAncestry = 64

const (
	// maxExecs caps a node's exec history; beyond it the oldest entries
	// after the first are dropped (the first exec says what the process
	// started as, the last ones what it is now).
	maxExecs = 16

	// retainDepth bounds how many ancestors a node keeps alive through
	// parent pointers. A process that forks a child and exits, forever
	// (some malware does, to shed its pid), would otherwise build an
	// unbounded chain of evicted nodes that the GC can never free. When a
	// new child's chain gets this long, the link MaxAncestry steps above
	// it is cut: the child still sees a full ancestry.
	retainDepth = 2 * MaxAncestry

	// linkWalkLimit bounds the cycle check of a lazy parent link; a
	// candidate whose chain is longer is not linked.
	linkWalkLimit = 4 * MaxAncestry
)

// Action values the graph reacts to (event.Action).
const (
	actionExec = event.ActionExecuted
	actionExit = event.ActionExited
)

// Config sets the graph's identity and memory bounds. Times are msec.
type Config struct {
	Host     string // host part of entity ids (replay: the audit node= or the hostname; live: the boot id)
	ExitTTL  int64  // an exited node leaves the pid index this long after its exit; <= 0 = DefaultExitTTL
	IdleTTL  int64  // a node not seen for this long leaves the pid index; <= 0 = DefaultIdleTTL
	MaxNodes int    // cap on indexed nodes, least recently seen evicted first; <= 0 = DefaultMaxNodes
	// ClockSkew (msec) is how far apart the sources' clocks may be: a
	// parent first seen up to this much after its child still links. 0
	// for replay (one clock); the live agent sets it.
	ClockSkew int64
}

// Exec is one successful exec observed in a process instance.
type Exec struct {
	TimeMsec   int64    `json:"time"`
	Executable string   `json:"executable"`
	Args       []string `json:"args,omitempty"`
}

// Node is a copy of what the graph knows about one process instance: plain
// data, safe to keep, to encode as JSON and to send to another process.
// Times are Unix msec. Lookup fills every field; Snapshot and Proc.Node
// leave Execs and Peers empty and cap Args (see Snapshot).
type Node struct {
	EntityID         string   `json:"entity_id"`
	PID              int      `json:"pid"`
	PPID             int      `json:"ppid"`                    // parent pid when first seen with one (0 = never seen)
	ReparentedTo     int      `json:"reparented_to,omitempty"` // the pid the process was last seen reparented to (1 or a subreaper), 0 if never
	ParentEntityID   string   `json:"parent_entity_id,omitempty"`
	Executable       string   `json:"executable"`
	Args             []string `json:"args"`
	Name             string   `json:"name,omitempty"`
	WorkingDirectory string   `json:"cwd,omitempty"`
	UserID           string   `json:"user_id,omitempty"`
	StartMsec        int64    `json:"start"` // first sighting (or the source's start time, see package doc)
	LastSeenMsec     int64    `json:"last_seen"`
	Exited           bool     `json:"exited,omitempty"`
	ExitMsec         int64    `json:"exit,omitempty"`      // meaningful when Exited
	ExitCode         *int     `json:"exit_code,omitempty"` // nil when no exit event carried one
	Execs            []Exec   `json:"execs,omitempty"`
	Children         int      `json:"children"`        // children linked to this instance by pointer
	NetNS            uint64   `json:"netns,omitempty"` // network namespace inode, 0 when unknown
	Peers            []Peer   `json:"peers,omitempty"` // IPC edges to other processes, oldest first
}

// Peer is an IPC edge: the other end of a UNIX or loopback TCP connection
// whose two ends sock_diag found owned by two processes.
type Peer struct {
	EntityID  string `json:"entity_id"`
	PID       int    `json:"pid"`
	Transport string `json:"transport"` // unix, tcp
	TimeMsec  int64  `json:"time"`      // when the edge was seen
}

// maxPeers bounds the IPC edges kept per process: a server with thousands
// of clients keeps the most recent.
const maxPeers = 16

// LinkIPC records an IPC edge between the processes a and b (both must be
// in the graph) seen at t. It reports whether both were known; an edge
// already recorded is refreshed, not repeated.
func (g *Graph) LinkIPC(a, b int, transport string, t int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	na, nb := g.index[a], g.index[b]
	if na == nil || nb == nil || na == nb {
		return false
	}
	addPeer(na, nb, transport, t)
	addPeer(nb, na, transport, t)
	return true
}

func addPeer(n, peer *node, transport string, t int64) {
	for i := range n.peers {
		if n.peers[i].EntityID == peer.entityID && n.peers[i].Transport == transport {
			p := n.peers[i]
			p.TimeMsec = t
			n.peers = append(n.peers[:i], n.peers[i+1:]...)
			n.peers = append(n.peers, p)
			return
		}
	}
	if len(n.peers) >= maxPeers {
		n.peers = append(n.peers[:0], n.peers[1:]...)
	}
	n.peers = append(n.peers, Peer{EntityID: peer.entityID, PID: peer.pid, Transport: transport, TimeMsec: t})
}

// Stats are the graph's counters. Nodes and Exited count indexed nodes now;
// the others are totals since New.
type Stats struct {
	Nodes, Exited int
	Created       uint64 // nodes created
	Evicted       uint64 // nodes evicted from the pid index (TTL or MaxNodes)
	PIDReuse      uint64 // nodes replaced by a new instance of their pid
}

// node is one process instance. Fields that appear in a ProcRef (exe,
// args, uid, ppid, parent) are changed only through code that also sets
// mod, so cached ancestries can be validated without comparing them.
type node struct {
	entityID string
	pid      int
	ppid     int // parent pid as first recorded: the lineage
	curPPID  int // last reparent target (1 or a subreaper); 0 if none
	exe      string
	args     []string // never modified in place once stored: shared with events
	name     string
	cwd      string
	// container is the container id: from /proc (cgroup) or the source;
	// a child inherits its parent's at creation (fork copies the cgroup).
	container string
	netns     uint64 // network namespace inode; a child inherits it at creation
	sid, pgid int    // session and process group (live), inherited at fork
	peers     []Peer // IPC edges, most recent last (maxPeers)
	uid       string
	ses       string // audit session id, once set ("unset" is not set)
	execs     []Exec

	start    int64
	lastSeen int64
	exitAt   int64
	exitCode int
	hasCode  bool // an exit event carried exitCode
	exited   bool
	srcStart bool // start came from the source, not from the first sighting

	// Consumers' values (Proc.Get, Proc.Set): the first inline, so the
	// one consumer most graphs have (detection) costs no allocation.
	slotKey   *slotKey
	slotVal   any
	moreSlots []slotEntry

	parent   *node
	children int
	depth    int  // parent hops known at link time (an estimate after cuts)
	cut      bool // parent link cut by the retention bound: never relink

	mod       uint64 // g.tick when a ProcRef-visible field last changed
	linkTried uint64 // g.stats.Created when a lazy link was last tried
	visit     uint64 // g.walk of the last ancestry walk that reached it

	// chain is the ancestry of this node's children ([this, parent, ...]),
	// valid while no node on it has mod > chainAt. Never mutated once
	// built, so events may keep it.
	chain   []event.ProcRef
	chainAt uint64
	// unk is the ancestry of this node while it has no parent node:
	// just the unknown entry for ppid.
	unk []event.ProcRef

	indexed      bool
	inExitQ      bool
	prev, next   *node // LRU list, head = most recently seen
	xprev, xnext *node // exit queue, in order of exit
	cprev, cnext *node // indexed nodes in order of creation (Snapshot)
}

// Graph is the process-lineage graph. Its methods are safe for concurrent
// use, but Enrich must be called from one goroutine (the pipeline's), in
// event order, and a Proc's methods from that goroutine too (see the
// package doc).
type Graph struct {
	mu sync.Mutex

	host     string
	exitTTL  int64
	idleTTL  int64
	maxNodes int
	skew     int64

	index      map[int]*node
	head, tail *node // LRU
	xhead      *node // exit queue
	xtail      *node
	ctail      *node // the newest indexed node, see node.cprev
	exited     int

	now     int64 // latest event time seen
	tick    uint64
	walk    uint64
	scratch []*node
	stats   Stats

	onEvict []func(Proc) // see OnEvict
	gone    []*node      // left the index during this Enrich, for onEvict
}

// New returns an empty graph.
func New(cfg Config) *Graph {
	g := &Graph{
		host:     cfg.Host,
		exitTTL:  cfg.ExitTTL,
		idleTTL:  cfg.IdleTTL,
		maxNodes: cfg.MaxNodes,
		skew:     cfg.ClockSkew,
		index:    make(map[int]*node, 1024),
		scratch:  make([]*node, 0, MaxAncestry),
	}
	if g.exitTTL <= 0 {
		g.exitTTL = DefaultExitTTL
	}
	if g.idleTTL <= 0 {
		g.idleTTL = DefaultIdleTTL
	}
	if g.maxNodes <= 0 {
		g.maxNodes = DefaultMaxNodes
	}
	return g
}

// Enrich records what e says about its process and fills
// e.Process.EntityID, StartMsec, and (when the event lacks them) PPID,
// Executable, Args, Name and WorkingDirectory from the node, and sets
// e.Ancestry and e.Parent (= &e.Ancestry[0], nil without ancestry). It
// returns a handle on the process's node, for the consumers that keep
// state on it (see Proc); events with no process (PID <= 0) are left
// alone and get the zero Proc.
//
// The slices Enrich puts into e (Ancestry, the ProcRefs' Args, a filled
// Process.Args) are shared with the graph and with other events: they stay
// valid after later calls, but must be treated as read-only. Redaction
// must copy before it rewrites. Likewise Enrich keeps e.Process.Args of an
// exec (without copying, to save an allocation per exec): the caller must
// not modify that slice afterwards.
//
// Nodes that leave the index during the call are passed to the OnEvict
// callbacks before Enrich returns, once the graph's lock is released.
func (g *Graph) Enrich(e *event.Event) Proc {
	if e.Process.PID <= 0 {
		return Proc{}
	}
	g.mu.Lock()
	repeat := e.Action == actionExit
	n := g.enrich(e, &repeat)
	cbs := g.onEvict
	g.mu.Unlock()
	if len(g.gone) > 0 {
		g.notifyEvicted(cbs)
	}
	return Proc{n: n, g: g, repeatedExit: repeat}
}

// enrich is Enrich under the lock. *repeat, true on entry for an exit,
// stays true only when the process instance had already exited: the
// second source's report of the same exit.
func (g *Graph) enrich(e *event.Event, repeat *bool) *node {
	if e.TimeMsec > g.now {
		g.now = e.TimeMsec
	}
	n := g.index[e.Process.PID]
	if n != nil && g.newInstance(n, e) {
		g.unindex(n)
		g.stats.PIDReuse++
		n = g.create(e, n.entityID)
	} else if n == nil {
		n = g.create(e, "")
	}
	*repeat = *repeat && n.exited
	g.update(n, e)
	g.touch(n)
	g.fill(n, e)
	g.evict()

	anc := g.ancestry(n)
	e.Ancestry = anc
	if len(anc) > 0 {
		e.Parent = &anc[0]
	} else {
		e.Parent = nil
	}
	return n
}

// newInstance reports whether e belongs to a new process instance that has
// reused n's pid.
func (g *Graph) newInstance(n *node, e *event.Event) bool {
	if s := e.Process.StartMsec; s > 0 && n.srcStart && abs64(s-n.start) > g.skew {
		// The source knows the start time: it settles it. Within the
		// clock skew it is the same start seen by another clock: /proc's
		// starttime and the connector's fork stamp are truncated to the
		// same tick, so they differ by one tick across a tick boundary
		// (package proc), and a pid reused that fast would need the whole
		// pid space to wrap in ClockSkew.
		return true
	}
	if n.exited && e.TimeMsec > n.exitAt {
		// An event stamped at or before the exit is a late record of
		// the exited instance (sources interleave); after it, the pid
		// belongs to someone else. Except within the clock skew: the
		// other source's record of the same process (the connector's
		// fork or exit stamped a few ms after audit's exit_group) is
		// late, not new; a pid reused that fast would need the whole pid
		// space to wrap in ClockSkew.
		return e.TimeMsec-n.exitAt > g.skew
	}
	// The audit session id is fixed once the login uid is set (a LOGIN
	// moves it from unset to a number, once): a different session (or
	// none) where one was set, on
	// the same pid is another process, whatever its ppid says (a service
	// started by init after a user's command had that pid).
	if e.Audit != nil && e.Audit.Session != "" && n.ses != "" && e.Audit.Session != n.ses {
		return true
	}
	ppid := e.Process.PPID
	if ppid <= 0 || ppid == n.ppid || ppid == n.curPPID || n.ppid == 0 {
		return false // no claim, same parent, or the first ppid we learn
	}
	if ppid == 1 {
		return false // orphan reparented to init
	}
	return !g.reparentedToAncestor(n, ppid, e.TimeMsec)
}

// eventSession is e's audit session id when it is set.
func eventSession(e *event.Event) string {
	if e.Audit == nil || e.Audit.Session == "unset" {
		return ""
	}
	return e.Audit.Session
}

// reparentedToAncestor reports whether n's change of parent to ppid is the
// kernel reparenting an orphan to a child subreaper (systemd --user, a
// container's init, ...): the kernel hands orphans to the nearest living
// subreaper among their ancestors, so this is only believed when n's
// recorded parent has been seen to exit and ppid is a living ancestor.
func (g *Graph) reparentedToAncestor(n *node, ppid int, t int64) bool {
	p := n.parent
	if p == nil || !p.exited || t < p.exitAt {
		return false
	}
	// Links are made through the pid index, so x.parent, when set, has
	// pid x.ppid.
	for x, i := p, 0; x != nil && i < MaxAncestry; x, i = x.parent, i+1 {
		if x.ppid == ppid {
			return x.parent == nil || !x.parent.exited
		}
	}
	return false
}

// create makes and indexes a node for e's process. oldID is the entity id
// of the instance being replaced, if any.
func (g *Graph) create(e *event.Event, oldID string) *node {
	n := &node{
		pid:   e.Process.PID,
		ppid:  e.Process.PPID,
		start: e.TimeMsec,
	}
	if n.ppid < 0 {
		n.ppid = 0
	}
	if s := e.Process.StartMsec; s > 0 {
		n.start, n.srcStart = s, true
	}
	host := g.host
	if host == "" {
		host = e.Host
	}
	n.entityID = entityID(host, n.pid, n.start, false)
	if n.entityID == oldID {
		// Same pid, same start msec: only bad input does this, but two
		// instances must not share an id.
		n.entityID = entityID(host, n.pid, n.start, true)
	}

	g.stats.Created++
	n.linkTried = g.stats.Created
	if n.ppid > 0 && n.ppid != n.pid {
		if p := g.index[n.ppid]; p != nil && bornBefore(p, n, g.skew) {
			g.link(n, p, p.depth+1)
			n.container = p.container     // fork keeps the cgroup
			n.netns = p.netns             // and the namespaces, unless CLONE_NEWNET (then the source says)
			n.sid, n.pgid = p.sid, p.pgid // and the session and group, until setsid/setpgid (read again at exec)
			if n.depth > retainDepth {
				g.cutAbove(n)
			}
			// A new child proves its ancestors alive at fork time: keep
			// them at the LRU head, so a busy subtree's quiet parents (a
			// shell, sshd, make) are not the ones MaxNodes evicts. Bounded
			// walk, only on process creation.
			for a, hops := p, 0; a != nil && a.indexed && !a.exited && hops < touchAncestors; a, hops = a.parent, hops+1 {
				g.touch(a)
			}
		}
	}

	g.index[n.pid] = n
	n.indexed = true
	g.pushFront(n)
	n.cprev = g.ctail
	if g.ctail != nil {
		g.ctail.cnext = n
	}
	g.ctail = n
	return n
}

// bornBefore reports whether p could be the parent of c: p was first seen
// no later than c and had not exited before c appeared.
//
// Live, first-seen times come from different clocks (audit stamps records
// with the wall clock at syscall exit; the proc connector with the
// monotonic clock, converted once), so a parent may appear a few
// milliseconds "after" its child: Config.ClockSkew absorbs that (replay
// has one clock and no skew). A pid reused that fast is not a practical
// concern.
func bornBefore(p, c *node, skew int64) bool {
	return p.start <= c.start+skew && (!p.exited || p.exitAt+skew >= c.start)
}

func (g *Graph) link(c, p *node, depth int) {
	c.parent = p
	c.depth = depth
	p.children++
	g.changed(c)
}

// cutAbove drops the parent link MaxAncestry hops above n (see
// retainDepth) and sets n.depth to the hops it counted.
func (g *Graph) cutAbove(n *node) {
	x, hops := n, 0
	for hops < MaxAncestry && x.parent != nil {
		x = x.parent
		hops++
	}
	n.depth = hops
	if x.parent != nil {
		x.parent = nil
		x.cut = true
		g.changed(x)
	}
}

func (g *Graph) changed(n *node) {
	g.tick++
	n.mod = g.tick
}

// update records what e says about n.
func (g *Graph) update(n *node, e *event.Event) {
	p := &e.Process
	if ppid := p.PPID; ppid > 0 && ppid != n.ppid && ppid != n.curPPID {
		if n.ppid == 0 {
			n.ppid = ppid // first time we learn it
			n.linkTried = 0
			g.changed(n)
		} else {
			n.curPPID = ppid // reparented (newInstance said so)
		}
	}

	switch {
	case e.Action == actionExec && e.Outcome == event.OutcomeSuccess:
		// Two sources may report one exec (audit and the proc connector,
		// within the clock skew): the second completes the first rather
		// than counting as another exec.
		if k := len(n.execs); k > 0 && g.skew > 0 && abs64(e.TimeMsec-n.execs[k-1].TimeMsec) <= g.skew &&
			(n.execs[k-1].Executable == "" || p.Executable == "" || n.execs[k-1].Executable == p.Executable) {
			last := &n.execs[k-1]
			if p.Executable != "" {
				last.Executable, n.exe = p.Executable, p.Executable
			}
			if len(p.Args) > len(last.Args) {
				last.Args = boundArgs(p.Args)
				n.args = last.Args
			}
			if p.Name != "" {
				n.name = p.Name
			}
			g.changed(n)
			break
		}
		if p.Executable != "" || n.exe == "" {
			n.exe = p.Executable
		}
		n.args = boundArgs(p.Args) // Enrich takes ownership (see its doc): no copy
		n.name = p.Name
		ex := Exec{TimeMsec: e.TimeMsec, Executable: n.exe, Args: n.args}
		if len(n.execs) >= maxExecs {
			copy(n.execs[1:], n.execs[2:])
			n.execs[len(n.execs)-1] = ex
		} else {
			n.execs = append(n.execs, ex)
		}
		g.changed(n)
	case e.Action == actionExec:
		// A failed exec: the event's exe and args may name the file
		// that was refused, not what the process runs.
	case n.exe == "" && p.Executable != "":
		// First sighting without an exec (the log started after it,
		// or exec is not audited): take what the kernel says it runs.
		n.exe = p.Executable
		n.args = boundArgs(p.Args)
		g.changed(n)
	}
	if p.Name != "" {
		n.name = p.Name
	}
	if p.WorkingDirectory != "" {
		n.cwd = p.WorkingDirectory
	}
	if e.ContainerID != "" {
		n.container = e.ContainerID
	}
	if e.Process.NetNS != 0 {
		n.netns = e.Process.NetNS
	}
	if e.Process.SID != 0 {
		n.sid, n.pgid = e.Process.SID, e.Process.PGID
	}
	if ses := eventSession(e); ses != "" {
		n.ses = ses
	}
	if uid := e.User.ID; uid != "" && uid != n.uid {
		n.uid = uid
		g.changed(n)
	}
	if e.Action == actionExit {
		if !n.exited {
			n.exited = true
			n.exitAt = e.TimeMsec
			g.pushExit(n)
		}
		// The second source's report of the exit may be the one with
		// the code (audit's exit_group has it, a connector exit too).
		if c := p.ExitCode; c != nil && !n.hasCode {
			n.exitCode, n.hasCode = *c, true
		}
	}
}

// fill completes e.Process from n.
func (g *Graph) fill(n *node, e *event.Event) {
	p := &e.Process
	p.EntityID = n.entityID
	p.StartMsec = n.start
	if p.PPID <= 0 {
		if n.curPPID > 0 {
			p.PPID = n.curPPID
		} else {
			p.PPID = n.ppid
		}
	}
	// Args are only taken along with the exe they belong to.
	if p.Executable == "" {
		p.Executable = n.exe
	}
	if len(p.Args) == 0 && p.Executable == n.exe {
		p.Args = n.args
	}
	if p.Name == "" {
		p.Name = n.name
	}
	if p.WorkingDirectory == "" {
		p.WorkingDirectory = n.cwd
	}
	if e.ContainerID == "" {
		e.ContainerID = n.container
	}
	if p.NetNS == 0 {
		p.NetNS = n.netns
	}
	if p.SID == 0 {
		p.SID, p.PGID = n.sid, n.pgid
	}
	p.SessionLeader, p.GroupLeader = g.leader(p.SID), g.leader(p.PGID)
}

// leader is the entity id of the running process pid (a session or
// process group leader), "" when the graph has none.
func (g *Graph) leader(pid int) string {
	if pid <= 0 {
		return ""
	}
	if n := g.index[pid]; n != nil && !n.exited {
		return n.entityID
	}
	return ""
}

// ancestry returns n's ancestry, nearest parent first.
func (g *Graph) ancestry(n *node) []event.ProcRef {
	if n.pid == 1 {
		return nil
	}
	g.tryLink(n)
	if n.parent != nil {
		return g.chainOf(n.parent)
	}
	if n.ppid <= 0 || n.ppid == n.pid {
		return nil
	}
	if len(n.unk) == 0 || n.unk[0].PID != n.ppid {
		n.unk = []event.ProcRef{{PID: n.ppid, Unknown: true}}
	}
	return n.unk
}

// chainOf returns [p, p's parent, ...]: the ancestry of p's children. It
// reuses p.chain when nothing on the chain changed since it was built.
func (g *Graph) chainOf(p *node) []event.ProcRef {
	g.walk++
	ns := g.scratch[:0]
	valid := p.chain != nil
	unknown := 0 // ppid for the closing unknown entry
	for m := p; m != nil && m.visit != g.walk; m = m.parent {
		if len(ns) == MaxAncestry {
			break
		}
		g.tryLink(m)
		if m.mod > p.chainAt {
			valid = false
		}
		m.visit = g.walk
		ns = append(ns, m)
		if m.pid == 1 || m.ppid <= 0 || m.ppid == m.pid {
			break
		}
		if m.parent == nil {
			unknown = m.ppid
		}
	}
	g.scratch = ns[:0]

	size := len(ns)
	if unknown > 0 && size < MaxAncestry {
		size++
	}
	if valid && len(p.chain) == size {
		return p.chain
	}
	refs := make([]event.ProcRef, size)
	for i, m := range ns {
		refs[i] = event.ProcRef{
			EntityID:   m.entityID,
			PID:        m.pid,
			Executable: m.exe,
			Args:       m.args,
			UserID:     m.uid,
		}
	}
	if size > len(ns) {
		refs[len(ns)] = event.ProcRef{PID: unknown, Unknown: true}
	}
	p.chain = refs
	p.chainAt = g.tick
	return refs
}

// tryLink links a parentless node to the indexed node of its ppid, when
// that node can be its parent (see bornBefore) and is not its descendant.
func (g *Graph) tryLink(n *node) {
	if n.parent != nil || n.cut || n.ppid <= 0 || n.ppid == n.pid || n.linkTried == g.stats.Created {
		return
	}
	// Nodes are only created, never re-keyed: if none was created since
	// the last try, the answer is the same.
	n.linkTried = g.stats.Created
	p := g.index[n.ppid]
	if p == nil || p == n || !bornBefore(p, n, g.skew) {
		return
	}
	hops := 0
	for x := p; x != nil; x = x.parent {
		if x == n || hops == linkWalkLimit {
			return
		}
		hops++
	}
	g.link(n, p, hops+1)
}

// touch marks n as seen now and moves it to the LRU head.
func (g *Graph) touch(n *node) {
	n.lastSeen = g.now
	if g.head == n {
		return
	}
	g.unlinkLRU(n)
	g.pushFront(n)
}

func (g *Graph) pushFront(n *node) {
	n.prev, n.next = nil, g.head
	if g.head != nil {
		g.head.prev = n
	}
	g.head = n
	if g.tail == nil {
		g.tail = n
	}
}

func (g *Graph) unlinkLRU(n *node) {
	if n.prev != nil {
		n.prev.next = n.next
	} else if g.head == n {
		g.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else if g.tail == n {
		g.tail = n.prev
	}
	n.prev, n.next = nil, nil
}

func (g *Graph) pushExit(n *node) {
	n.inExitQ = true
	n.xprev, n.xnext = g.xtail, nil
	if g.xtail != nil {
		g.xtail.xnext = n
	} else {
		g.xhead = n
	}
	g.xtail = n
	g.exited++
}

func (g *Graph) unlinkExit(n *node) {
	if !n.inExitQ {
		return
	}
	if n.xprev != nil {
		n.xprev.xnext = n.xnext
	} else {
		g.xhead = n.xnext
	}
	if n.xnext != nil {
		n.xnext.xprev = n.xprev
	} else {
		g.xtail = n.xprev
	}
	n.xprev, n.xnext = nil, nil
	n.inExitQ = false
	g.exited--
}

// unindex removes n from the pid index and its lists. n stays reachable
// through its children's parent pointers.
func (g *Graph) unindex(n *node) {
	if !n.indexed {
		return
	}
	delete(g.index, n.pid)
	n.indexed = false
	g.unlinkLRU(n)
	g.unlinkExit(n)
	if n.cnext != nil {
		n.cnext.cprev = n.cprev
	} else {
		g.ctail = n.cprev
	}
	if n.cprev != nil {
		n.cprev.cnext = n.cnext
	}
	n.cprev, n.cnext = nil, nil
	if g.onEvict != nil {
		g.gone = append(g.gone, n)
	}
}

// evict enforces ExitTTL, IdleTTL and MaxNodes. Both lists are kept in
// order, so it looks only at their ends: O(1) per call plus O(1) per
// eviction.
func (g *Graph) evict() {
	for n := g.xhead; n != nil && g.now-n.exitAt >= g.exitTTL; n = g.xhead {
		g.unindex(n)
		g.stats.Evicted++
	}
	for n := g.tail; n != nil && g.now-n.lastSeen >= g.idleTTL; n = g.tail {
		g.unindex(n)
		g.stats.Evicted++
	}
	for len(g.index) > g.maxNodes {
		g.unindex(g.tail)
		g.stats.Evicted++
	}
}

// Stats returns the graph's counters.
func (g *Graph) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.stats
	s.Nodes = len(g.index)
	s.Exited = g.exited
	return s
}

// Lookup returns a copy of what the graph knows about the indexed instance
// of pid.
func (g *Graph) Lookup(pid int) (Node, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.index[pid]
	if n == nil {
		return Node{}, false
	}
	var out Node
	viewNode(n, &out)
	out.Args = cloneArgs(n.args)
	out.Peers = append([]Peer(nil), n.peers...)
	if n.hasCode {
		c := n.exitCode
		out.ExitCode = &c
	}
	if len(n.execs) > 0 {
		out.Execs = make([]Exec, len(n.execs))
		for i, x := range n.execs {
			out.Execs[i] = Exec{TimeMsec: x.TimeMsec, Executable: x.Executable, Args: cloneArgs(x.Args)}
		}
	}
	return out, true
}

// Bounds on the arguments a node keeps for ancestry and fills. The event
// of the exec itself carries all of them; a node's copy is repeated in the
// ancestry of every descendant, so a 100,000-argument exec must not be.
const (
	maxNodeArgs      = 64
	maxNodeArgsBytes = 4096
)

// boundArgs returns a, or a shortened copy whose last element says how
// many arguments were left out ("[+N more]").
func boundArgs(a []string) []string {
	total := 0
	for i, s := range a {
		total += len(s)
		if i == maxNodeArgs || total > maxNodeArgsBytes {
			out := make([]string, i+1)
			copy(out, a[:i])
			out[i] = "[+" + strconv.Itoa(len(a)-i) + " more]"
			return out
		}
	}
	return a
}

func cloneArgs(a []string) []string {
	if len(a) == 0 {
		return nil
	}
	return append([]string(nil), a...)
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// FNV-1a, 64 bit.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// entityID is FNV-1a-64 over host "\x00" pid "\x00" startMsec (decimal),
// with "\x00" "1" appended when salted, so any tool can recompute it:
// its 8 bytes big-endian in unpadded URL-safe base64 (RFC 4648 §5), 11
// characters. (Before ECS 9.4 lineaged wrote the same number as 16 hex
// digits; every line carries several ids, and the 5 bytes each saves are
// 2-3 % of a line.)
func entityID(host string, pid int, start int64, salt bool) string {
	var buf [48]byte
	h := uint64(fnvOffset)
	for i := 0; i < len(host); i++ {
		h = (h ^ uint64(host[i])) * fnvPrime
	}
	b := append(buf[:0], 0)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, 0)
	b = strconv.AppendInt(b, start, 10)
	if salt {
		b = append(b, 0, '1')
	}
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	var raw [8]byte
	binary.BigEndian.PutUint64(raw[:], h)
	var out [11]byte
	base64.RawURLEncoding.Encode(out[:], raw[:])
	return string(out[:])
}
