// Package graph keeps the process-lineage graph (SPEC §2) and enriches each
// event with its process's entity id and ancestry (process.entity_id,
// process.parent, process.ancestry in SPEC §5).
//
// It knows nothing of sources, baselines or outputs: it reads what an
// event says about its process and answers from what earlier events said.
// Time is the events' own TimeMsec, never the wall clock, so a replay of
// the same input gives the same ids, ancestries and evictions.
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
//   - the source gave a start time and it differs from the node's.
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
// in memory only while a child still points at it; the Go GC frees the
// rest. So that a process that forks and exits forever cannot pin an
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
// All methods are safe for concurrent use (Stats and Lookup may be called
// from a metrics or view goroutine); Enrich expects events of one host in
// roughly time order from one goroutine.
package graph
