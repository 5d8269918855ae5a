// Package audit reads Linux audit (NETLINK_AUDIT, through
// github.com/elastic/go-libaudit/v2, and audit.log files) and turns its
// records into lineaged's events.
//
// It has two sources (event.Source) and the stages they share:
//
//   - Source, live: the kernel's records in the configured Mode. In own
//     mode lineaged is the audit daemon (it registers its pid, sets the
//     backlog, rate limit and failure mode, loads the rules in auditctl
//     syntax, and restores the state found at start when it closes, or at
//     the next start after a crash, from the state file in the state
//     directory); in multicast mode it reads the read-only group beside
//     auditd, changing nothing; auto picks one.
//   - LogSource, replay: raw audit.log files (RAW and ENRICHED, node=
//     prefixes, gzip), one reassembler per node, on the records' own clock.
//   - The stages: Parse (log lines) and ParseKernel (netlink payloads)
//     make a Record; the Reassembler groups a serial's records into one
//     event, in order, across interleaving and reordering, counting gaps;
//     the Normalizer turns a group into an event.Event (ECS names,
//     Auditbeat's actions, decoded hex, ids as the kernel printed them).
//     Records is the live source's record stage on its own, so recorded
//     records can be fed through the exact live path (agent.Agreement).
//
// Rules (auditctl syntax) are read with internal/auditrule and built into
// the kernel's wire format with go-libaudit's rule package; RuleFiles
// orders a rules directory as augenrules does.
//
// # Privileges
//
// Own mode needs CAP_AUDIT_CONTROL (rules, settings, the audit pid);
// multicast needs CAP_AUDIT_READ. Reading log files needs nothing but
// read access to them.
//
// # Kernel support
//
// Every feature is probed, never inferred from the kernel version:
// multicast (3.16+; EL7's 3.10 accepts the subscription and delivers
// nothing, so delivery is proved by a probe message before the mode is
// used, and auto falls back to off beside a daemon), backlog_wait_time
// (3.14+, read from the status reply's length and the feature bitmap).
// An immutable configuration (-e 2) is used as found, read-only; lineaged
// refuses to set failure mode 2 (panic) and applies a rule file's -e 2
// only when allowed.
//
// # Concurrency
//
// The package starts no goroutines. A Source is read by one goroutine
// (the agent's loop polls its FD); Close may be called from another and
// restores the audit state through a socket of its own. Parsers,
// reassemblers and normalisers belong to one goroutine each.
package audit
