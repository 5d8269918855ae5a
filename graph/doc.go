// Package graph keeps the process-lineage graph (SPEC §2) and enriches each
// event with its process's entity id and ancestry (process.entity_id,
// process.parent, process.ancestry in SPEC §5). It is lineaged's only
// process table: detection and the live view keep no table of their own
// (see The process model).
//
// It knows nothing of sources, baselines or outputs: it reads what an
// event says about its process and answers from what earlier events said.
// Time is the events' own TimeMsec, never the wall clock, so a replay of
// the same input gives the same ids, ancestries and evictions.
//
// # The process model
//
// Enrich returns a Proc, a two-word handle on the event's node, which the
// pipeline passes on with the event. What each consumer keeps:
//   - the graph: identity, lineage, exe and args, execs, exit time and
//     code, IPC peers, and the retention below;
//   - detection (package detect) keeps its per-process memory (listen and
//     connect, the last few events for evidence) in a Slot on the node
//     (Proc.Get, Proc.Set), found again from the next event's Proc or an
//     ancestor's (Proc.Parent). It forgets a process when the graph does,
//     with no list of its own;
//   - the live view (package ui) keeps no per-process state: it draws the
//     tree from Snapshot, joins its alerts' entity ids with it, and keeps
//     the last exited processes the graph evicted (OnEvict), so that a
//     short-lived process stays in sight longer than the live ExitTTL.
//
// Slots are not tied to one graph (replay keeps a graph per audit host):
// a consumer makes its Slot once and reads it on the Proc of whatever
// graph the event came from.
//
// # Nodes and entity ids
//
// There is one node per process instance. Its entity id is the FNV-1a-64
// hash, as 16 lowercase hex digits, of
//
//	Config.Host "\x00" pid "\x00" startMsec
//
// (decimals), where startMsec is the time of the first event that showed
// the instance, or the process start time when the source put one in
// Process.StartMsec (live: the proc connector or /proc/PID/stat; with
// Config.Host set to the boot id this is the SPEC's live id). If
// Config.Host is empty the event's Host is used. One Graph serves one
// host: a log that mixes hosts must be split before it reaches the graph,
// since pids of different hosts would collide in one index.
//
// A first-sighting id is only as stable as the sighting: a process that
// was evicted (see Memory) and shows up again gets a new node and a new
// id, and replay and live give different ids for the same process.
//
// # Pid reuse
//
// The indexed node for a pid is replaced by a new instance (Stats.PIDReuse)
// when
//   - it was seen to exit (Action "exited") and the event is stamped after
//     the exit; an event stamped at or before the exit is taken as a late
//     record of the exited process;
//   - the event carries a PPID other than the node's, unless the new PPID
//     is 1, or the node's recorded parent was seen to exit and the new PPID
//     is a living ancestor of it: the kernel reparents orphans to init or
//     to the nearest child subreaper (systemd --user, a container's init),
//     so the process is the same;
//   - the source gave a start time and it differs from the node's by more
//     than Config.ClockSkew (within it, it is one start read through two
//     clocks: /proc and the proc connector round to a tick, so they may
//     disagree by one).
//
// An event with PPID 0 makes no claim about its parent. Without exit
// events (audit rules often omit exit_group) reuse is only seen when the
// parent differs; a reuse by a child of the same parent looks like the same
// process until it execs, and its exec is then recorded as an exec of the
// old node. The proc connector reports every exit (unless its socket
// overflows and drops some), so live the gap narrows to lost messages.
//
// # Parents and ancestry
//
// A node is linked to its parent node by pointer when it is created, if
// the parent pid has an indexed node first seen no later than the child
// and not exited before it. The link is never re-resolved by pid, so the
// ancestry stays right after the parent's pid is reused. A node created
// without a parent node keeps only its ppid; if a node for that pid is
// created later and could be the parent (first seen no later than the
// child, not its descendant), the link is made when an ancestry is next
// built through it.
//
// process.ancestry is nearest parent first, following the pointers: up to
// the node of pid 1 when the graph has one (live), or to the oldest node
// the input showed (replay). When the top of the chain has a ppid but no
// parent node, the chain ends with a ProcRef{PID: ppid, Unknown: true}
// with every other field empty: the graph never guesses an executable. A
// ppid of 0 (or equal to the pid) ends the chain without one. The chain
// is capped at MaxAncestry entries and walked with a cycle guard.
//
// Each ProcRef carries the ancestor's current executable and args (its
// latest exec), not those it had when it forked the child: an ancestor
// that later execs shows the new program. A process reparented to init or
// a subreaper keeps its original parent in its ancestry.
//
// # What replay knows and live will know
//
// In replay, the graph sees a process only through audited syscalls:
// processes that started before the log, or that never made an audited
// call, are unknown entries (or missing); exe and args come from the
// execve records seen, and a process first seen without one gets the
// exe= of its first event and no args (until it execs). A non-exec event
// never changes a node's exe or args once it has one (audit may spell the
// same file differently, e.g. a symlink and its target); only an exec
// does. Live, the proc connector
// reports every fork, exec and exit, so once the live source seeds the
// graph with the processes alive at start (read from /proc), chains reach
// pid 1; until it does, live chains end in unknown entries as replay's do.
//
// # Memory
//
// The pid index holds at most Config.MaxNodes nodes; the least recently
// seen goes first. An exited node leaves it ExitTTL after its exit, any
// node IdleTTL after it was last seen; both lists are kept in order so
// each event costs O(1) bookkeeping, never a scan. An evicted node stays
// in memory only while a child still points at it or a consumer keeps its
// Proc; the Go GC frees the rest, with the consumers' slot values on it
// (the graph never reads or clears those: they are as bounded as the
// nodes).
//
// A consumer that must act when a node leaves the index (the live view
// keeping exited processes in sight) registers OnEvict at setup. Its
// callback gets the Proc of every node that leaves: exited past ExitTTL,
// idle past IdleTTL, least recently seen past MaxNodes, or replaced by a
// new instance of its pid. Callbacks run in the goroutine that calls
// Enrich, inside that call, after the graph's lock is released: they may
// call any method but Enrich, and must be quick. So that a process that forks and exits forever cannot pin an
// unbounded chain, a child's chain is cut MaxAncestry hops up once it
// grows past twice that; other processes whose ancestry ran through the
// cut then see an unknown entry there. A node's exec history keeps the
// first exec and the latest ones, 16 in all.
//
// # Sharing and concurrency
//
// Enrich puts slices owned by the graph into the event (Ancestry, the
// Args of each ProcRef, a filled Process.Args). They are never changed
// after they are handed out, so an event may be kept (as alert evidence,
// say) after later Enrich calls, but they must be treated as read-only:
// redaction must copy before it rewrites. Ancestries are cached per
// parent and rebuilt only when a node on the chain changes, so Enrich
// allocates only when a process is first seen, execs, or its chain changes.
//
// Enrich expects events of one host in roughly time order from one
// goroutine: the pipeline's. A Proc's methods read its node without the
// lock and are for that goroutine too (the consumers it calls, the
// OnEvict callbacks), except Ancestry, which locks. Stats, Lookup, Find,
// ProcOf and Snapshot lock, and may be called from any goroutine (a
// metrics endpoint, a view's HTTP handlers).
//
// Snapshot copies the limit most recently created indexed nodes and their
// ancestors into plain Nodes (JSON-tagged, capped args, no pointers into
// the graph but shared immutable strings), so a view can serve them or
// send them to another process. It holds the lock for O(limit·log limit),
// whatever the graph's size (about half a millisecond for 2,000 nodes),
// and allocates the answer only.
package graph
