// Package sigma evaluates Sigma rules (https://sigmahq.io) against
// lineaged's normalised events.
//
// Load reads rule files, Set.Match returns the rules an event matches. A
// rule lineaged cannot evaluate faithfully is not loaded: Set.Skipped lists
// it with a one-line reason, so an operator sees what is not covered rather
// than believing it is.
//
// # What is evaluated
//
// Two logsources, the ones lineaged has data for:
//
//   - product linux, category process_creation: exec events (action
//     "executed"), from auditd or the proc connector. A failed execve
//     (outcome failure) created no process and is not matched.
//   - product linux, service auditd: every event. Alerts are never matched.
//
// Every other logsource (windows, network_connection, file_event, ...) is
// skipped, as are aggregations (count() ... by, timeframe), unknown
// modifiers, regular expressions Go's RE2 cannot compile (lookarounds,
// backreferences), conditions naming searches that do not exist, and
// unknown levels. Severity follows the level: informational 0 (record, do
// not alert), low 1, medium 2, high 3, critical 4; a rule without a level
// counts as medium. Techniques are the attack.tNNNN[.NNN] tags.
//
// Matching follows the Sigma specification: strings compare
// case-insensitively (Unicode simple folding) unless |cased; * and ? are
// wildcards (\*, \? and \\ escape them) in every value except |re; |re is
// case-sensitive unless |re|i; a list of values means any of them, |all
// every one; null matches a missing or empty field; lists of maps are ORed;
// a list of conditions is ORed; "them" leaves out searches whose name
// starts with "_". Supported modifiers: contains, startswith, endswith,
// all, re (with i, m, s), cased.
//
// # Field mapping
//
// process_creation (Sigma's Sysmon-style names):
//
//	Image              Process.Executable
//	CommandLine        Process.Args joined by spaces (Process.Title when no args)
//	CurrentDirectory   Process.WorkingDirectory
//	ProcessId          Process.PID
//	ParentImage        Parent.Executable
//	ParentCommandLine  Parent.Args joined by spaces
//	ParentProcessId    Parent.PID, else Process.PPID
//	User               User.Name, else "root" for uid 0, else User.ID
//	LogonId            User.AuditID (the auid)
//
// Any other process_creation field (OriginalFileName, Hashes, Product,
// IntegrityLevel, ParentUser, ...) is Windows or Sysmon data lineaged never
// has: the rule is skipped with "unsupported field X".
//
// auditd (the raw record field names auditd rules use). One lineaged event
// is a whole record group (SYSCALL + EXECVE + CWD + PATH + PROCTITLE ...),
// where a Sigma auditd rule was written against single records; the
// mapping answers a field from whichever record of the group carries it:
//
//	type               any of Audit.RecordTypes (so both type: SYSCALL and
//	                   type: EXECVE match an exec event)
//	a0, a1, ... aN     for an exec: argv[N]; otherwise the SYSCALL record's
//	                   argument aN (hex, as printed; lineaged keeps a0..a3)
//	argc               the EXECVE argc
//	SYSCALL, syscall   Audit.Syscall, the syscall name (rules that write
//	                   syscall numbers are skipped: the number depends on
//	                   the architecture)
//	exit               Audit.ExitValue; a rule's negative errno (-13) is
//	                   read as the name lineaged records (EACCES)
//	success            yes / no from the outcome
//	key                any of Audit.Keys
//	exe, comm, cwd, proctitle, tty, pid, ppid
//	                   the acting process (proctitle decoded, not hex)
//	uid, euid, suid, fsuid, auid, gid, egid, ses
//	                   the identities; lineaged's "unset" also matches
//	                   4294967295 and -1
//	name, nametype     File.Path and File.NameType: the one PATH item the
//	                   event is about (the executable of an exec, the
//	                   created file, ...). Other PATH items of the group
//	                   (the ELF interpreter, a parent directory) are not
//	                   kept by lineaged and cannot match.
//	acct, addr         Target.Name, Source.IP (user-space records)
//	op, unit, cmd, terminal, hostname, grantors, ...
//	                   the record fields audit.Normalizer keeps in
//	                   Audit.Data under their own names (see dataKeys)
//
// Other auditd fields are skipped with "unsupported field X".
//
// Keywords (a search that is a plain list of strings, or the field-less
// '|all': [...] form) would match anywhere in the raw log line. lineaged
// keeps no raw lines, so a keyword matches (contains) the command line,
// the executable or the file path of the event: the text an auditd
// keyword rule is after in practice, but an approximation.
//
// # Why not sigma-go's evaluator
//
// sigma-go (github.com/bradleyjkemp/sigma-go) parses the rules and their
// conditions; matching is done here. sigma-go v0.6.6's evaluator compares
// wildcard values literally (a /home/*/.bashrc rule never matches), has no
// keyword support, compiles a |re pattern on every comparison, and its
// ForRules bundle caches results per string without bound, a leak in a
// long-running agent; it also needs modules lineaged does not otherwise
// use.
//
// # Speed
//
// Match runs on every event. Each rule is compiled once to a tree of
// matchers over a table of fields; an event's field values are computed on
// first use and case-folded once. Most rules can only match when a field's
// basename is one of a few values (Image ends in /nc, type is EXECVE): Load
// indexes rules by such a necessary condition, and Match evaluates only the
// rules the event's values open, plus those without one. Against the 175
// public SigmaHQ Linux rules that is about 6 µs per exec event (some 35
// process_creation rules test only CommandLine substrings and run on every
// exec) and 2 µs per other audit event (BenchmarkMatch, BenchmarkMatchExec).
package sigma
