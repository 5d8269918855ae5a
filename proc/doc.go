// Package proc reads the Linux proc connector (NETLINK_CONNECTOR,
// CN_IDX_PROC): fork, exec, uid/gid change, setsid, ptrace, comm,
// coredump and exit events for every thread on the host, even one that
// lives a microsecond; and it walks /proc to seed the lineage graph with
// the processes already running.
//
// # Connector
//
// Dial subscribes (PROC_CN_MCAST_LISTEN); the caller drives Receive, which
// returns decoded Events, and Close, which unsubscribes
// (PROC_CN_MCAST_IGNORE) and unblocks a pending Receive. The package starts
// no goroutines. Event.ToEvent normalises an event (event.Event, Module
// "proc").
//
// The kernel reports threads too: a thread's creation is a fork event and
// every thread's end an exit event, with PID (thread id) != TGID (process
// id). Both are returned; Event.IsThread tells them apart, and ToEvent
// gives them thread-started and thread-exited actions.
//
// The connector carries pids and ids, no paths: an exec event does not
// say what was executed. The caller reads /proc/PID/exe and cmdline
// (FS.Process) or merges the audit record of the same exec.
//
// When the reader falls behind, the kernel drops events and Receive
// returns an error wrapping ErrOverrun (ENOBUFS); Stats.Overruns counts
// them. Netlink then drops everything until the socket's queue is
// drained, so the caller reads on at once and repairs from /proc
// (FS.Walk) once caught up. Dial asks for a large receive buffer
// (SO_RCVBUFFORCE as root) to make that rare.
//
// # Time
//
// Event.TimestampNS is CLOCK_MONOTONIC: nanoseconds since boot, suspend
// excluded. Event.Time and ToEvent convert it with CLOCK_REALTIME minus
// CLOCK_MONOTONIC read once per process, so conversions are stable (a
// start time always maps to the same millisecond) at the price of
// following no later NTP step. /proc/PID/stat's starttime is in clock
// ticks (USER_HZ, 100: read from AT_CLKTCK) of CLOCK_BOOTTIME; a fork
// event's start time is truncated to the same tick, so both sources give
// a process the same StartMsec except across a tick boundary.
//
// # Entity ids
//
// A live process instance is identified by the boot id (BootID) with its
// pid and start time (SPEC §2); the graph hashes them. This package
// provides the parts and no hash.
//
// # Privileges
//
// Up to 6.5 Dial and Probe need CAP_NET_ADMIN in the initial user
// namespace: without it bind(2) answers EPERM (or the kernel acknowledges
// the LISTEN with EPERM); 6.6 opened the connector to unprivileged
// listeners. The kernel ignores a LISTEN from inside a container's user or
// pid namespace without answering; Probe then reports the connector
// unavailable. Walking /proc works unprivileged but leaves other users'
// exe, cwd and namespaces empty.
//
// # Kernel support
//
// The connector and fork, exec, uid, gid and exit events date from
// 2.6.15, sid from 2.6.32, ptrace and comm from 2.6.36, coredump from
// 3.10, and the parent pid of exit and coredump events from 4.18 (0
// before). Probe checks the connector by subscribing and waiting for the
// kernel's acknowledgement (EPROTONOSUPPORT from socket(2): no
// CONFIG_CONNECTOR; no answer: no CONFIG_PROC_EVENTS or not in the initial
// namespaces). A kernel that lacks an event kind just never sends it, so
// ProcEventComm and ProcEventCoredump cannot be probed by an errno: Probe
// reports them from the legacy profile (feature.Disabled) and Conn.Seen
// confirms each once an event of its kind arrives. Under
// LINEAGED_KERNEL_PROFILE, Receive drops the kinds the profile switches
// off (Stats.Filtered) and clears the 4.18 parent fields, as the old
// kernel would. 6.6's per-listener event filter is not used: the legacy
// 4-byte LISTEN is the only request every kernel accepts.
//
// # Concurrency
//
// One goroutine calls Receive at a time; Close, Stats, Seen and
// SetReadDeadline are safe from any goroutine. FS is a value and safe for
// concurrent use.
package proc
