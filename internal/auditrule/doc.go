// Package auditrule reads the auditctl rule syntax: one line of a rules
// file (augenrules' rules.d/*.rules, lineaged's own) or of `auditctl -l`,
// into the parts the line names: a syscall rule's list and action, its
// syscalls, fields with their operators and comparisons, a file watch's
// path and permissions, the keys, or a control option and its value.
//
// It is the one reader of that syntax in lineaged. Package audit builds
// the kernel's wire rules from a Rule (through go-libaudit's rule.Build,
// which knows the field and syscall tables); package report matches the
// rules in force, as lineaged's settings event or `auditctl -l` lists
// them, against the CIS expectations. Both read the same text, so they
// must agree on what it says; and report reads JSON lines and must not
// import a kernel-facing package, so the reader sits on the ground floor,
// importing nothing of lineaged and nothing outside the standard
// library. It knows the grammar only: whether a field name exists or a
// syscall is known on an architecture is the builder's to say.
//
// # Syntax
//
// A line is split into words at spaces and tabs. As auditctl does, a
// backslash before a space or a backslash makes it part of the word
// (/path\ with\ space); as go-libaudit's reader does, '…' and "…" group
// a word (inside "…" a backslash escapes " and \). Every word must be an
// option or an option's value: the Go flag package, which go-libaudit's
// reader used, stops at the first stray word and silently drops the rest
// of the line (a typo such as "- F auid>=1000" loses every filter after
// it), which for a rule that decides what the kernel reports is a gap an
// operator would never see.
//
// Options, as auditctl(8) names them:
//
//	-a LIST,ACTION / -A   append / prepend a syscall rule (either order)
//	-S NAME[,NAME]...     syscalls, names, numbers or "all"; repeatable
//	-F NAME OP VALUE      a field: OP is = != < > <= >= & &=
//	-C NAME OP NAME       a comparison of two fields: OP is = or !=
//	-w PATH [-p rwxa]     a file watch
//	-k KEY                a key; repeatable (each -k is one key, commas
//	                      included, as auditctl stores it)
//	-D [-k KEY]           delete all rules (or those with the key)
//	-b -f -r -e --backlog_wait_time VALUE, and -i -c
//	--loginuid-immutable --reset-lost --reset_backlog_wait_time_actual:
//	                      control options, one per line
package auditrule
