package report

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/lineaged/lineaged/internal/auditrule"
)

// auditRule is one rule in force, as lineaged's settings event (or
// `auditctl -l`) lists it, read by internal/auditrule: the reader package
// audit loads rule files with, so that the report and the agent agree on
// what a line says.
type auditRule struct {
	text string
	auditrule.Rule
}

// parseRules reads the rules in force. A line that cannot be read meets
// no expectation, nor does a never rule (lineaged's own exclusion, say):
// it records nothing. Control lines are not rules.
func parseRules(texts []string) []*auditRule {
	rules := make([]*auditRule, 0, len(texts))
	for _, t := range texts {
		r, err := auditrule.Parse(t)
		if err != nil || r.Action == "never" || (r.Kind != auditrule.Syscall && r.Kind != auditrule.Watch) {
			continue
		}
		rules = append(rules, &auditRule{text: t, Rule: r})
	}
	return rules
}

// expect is one rule a CIS item expects.
type expect struct {
	desc string
	// watch: a -w on path (or -F path/dir) with at least perms.
	path, perms string
	// syscall: every name audited for arch (a rule without arch= counts
	// for both), by rules that pass filter.
	arch     string
	syscalls []string
	filter   func(*auditRule) bool
}

func watchOf(p, perms string) expect {
	return expect{desc: fmt.Sprintf("-w %s -p %s", p, perms), path: p, perms: perms}
}

func sysOf(arch string, names ...string) expect {
	return expect{desc: fmt.Sprintf("-a always,exit -F arch=%s -S %s", arch, strings.Join(names, ",")), arch: arch, syscalls: names}
}

func both(names ...string) []expect {
	return []expect{sysOf("b64", names...), sysOf("b32", names...)}
}

func exitIs(errno string, num string) func(*auditRule) bool {
	return func(r *auditRule) bool { return r.HasField("exit", "=", "-"+errno) || r.HasField("exit", "=", "-"+num) }
}

// meet checks e against the rules: the rules that meet it (their text) and
// what no rule meets.
func (e expect) meet(rules []*auditRule) (by []*auditRule, missing []string) {
	if e.path != "" {
		for _, r := range rules {
			if strings.TrimSuffix(r.WatchedPath(), "/") == strings.TrimSuffix(e.path, "/") && hasPerms(r.Permissions(), e.perms) {
				return []*auditRule{r}, nil
			}
		}
		return nil, []string{e.desc}
	}
	seen := map[*auditRule]bool{}
	for _, sc := range e.syscalls {
		found := false
		for _, r := range rules {
			// A rule on one path (-F path=, -F dir=; auditctl -l prints
			// them with -S all) audits the syscalls made on that path,
			// not the syscall at large.
			if (r.Arch() == e.arch || r.Arch() == "") && r.HasSyscall(sc) && r.WatchedPath() == "" && (e.filter == nil || e.filter(r)) {
				found = true
				if !seen[r] {
					seen[r] = true
					by = append(by, r)
				}
				break
			}
		}
		if !found {
			missing = append(missing, sc)
		}
	}
	if len(missing) > 0 {
		return by, []string{fmt.Sprintf("%s (no rule for %s)", e.desc, strings.Join(missing, ", "))}
	}
	return by, nil
}

func hasPerms(have, want string) bool {
	for _, c := range want {
		if !strings.ContainsRune(have, c) {
			return false
		}
	}
	return true
}

// cisRuleItems are CIS RHEL 7 v3.1.1 4.1.3-4.1.16: the rules each expects
// (ComplianceAsCode's controls/cis_rhel7.yml and its rule texts).
var cisRuleItems = []struct {
	id, title string
	expects   []expect
}{
	{"4.1.3", "Events that modify date and time are collected", append(append([]expect{
		sysOf("b64", "adjtimex", "settimeofday"), sysOf("b32", "adjtimex", "settimeofday", "stime")},
		both("clock_settime")...), watchOf("/etc/localtime", "wa"))},
	{"4.1.4", "Events that modify user/group information are collected", []expect{
		watchOf("/etc/group", "wa"), watchOf("/etc/passwd", "wa"), watchOf("/etc/gshadow", "wa"),
		watchOf("/etc/shadow", "wa"), watchOf("/etc/security/opasswd", "wa")}},
	{"4.1.5", "Events that modify the network environment are collected", append(both("sethostname", "setdomainname"),
		watchOf("/etc/issue", "wa"), watchOf("/etc/issue.net", "wa"), watchOf("/etc/hosts", "wa"), watchOf("/etc/sysconfig/network", "wa"))},
	{"4.1.6", "Events that modify the mandatory access controls are collected", []expect{
		watchOf("/etc/selinux/", "wa"), watchOf("/usr/share/selinux/", "wa")}},
	{"4.1.7", "Login and logout events are collected", []expect{
		watchOf("/var/log/lastlog", "wa"), watchOf("/var/run/faillock/", "wa")}},
	{"4.1.8", "Session initiation information is collected", []expect{
		watchOf("/var/run/utmp", "wa"), watchOf("/var/log/wtmp", "wa"), watchOf("/var/log/btmp", "wa")}},
	{"4.1.9", "Discretionary access control permission modification events are collected", append(append(
		both("chmod", "fchmod", "fchmodat"), both("chown", "fchown", "fchownat", "lchown")...),
		both("setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr")...)},
	{"4.1.10", "Unsuccessful unauthorised file access attempts are collected", accessExpects()},
	{"4.1.12", "Successful file system mounts are collected", both("mount")},
	{"4.1.13", "File deletion events by users are collected", both("unlink", "unlinkat", "rename", "renameat")},
	{"4.1.14", "Changes to system administration scope (sudoers) are collected", []expect{
		watchOf("/etc/sudoers", "wa"), watchOf("/etc/sudoers.d/", "wa")}},
	{"4.1.16", "Kernel module loading and unloading is collected", []expect{
		watchOf("/sbin/insmod", "x"), watchOf("/sbin/rmmod", "x"), watchOf("/sbin/modprobe", "x"),
		sysOf("b64", "init_module", "delete_module")}},
}

func accessExpects() []expect {
	var out []expect
	for _, arch := range []string{"b64", "b32"} {
		for _, e := range [][2]string{{"EACCES", "13"}, {"EPERM", "1"}} {
			x := sysOf(arch, "creat", "open", "openat", "truncate", "ftruncate")
			x.desc += " -F exit=-" + e[0]
			x.filter = exitIs(e[0], e[1])
			out = append(out, x)
		}
	}
	return out
}

// evaluateCIS compares the rules in force with section 4.1, item by item.
// settings are lineaged's (nil when no settings event was read); tags
// counts events per audit key; extra counts events that evidence an item
// without a key.
func evaluateCIS(ruleTexts []string, source string, settings map[string]string, tags, extra map[string]int) []*CISItem {
	rules := parseRules(ruleTexts)
	have := settings != nil
	set := func(k string) (string, bool) { v, ok := settings[k]; return v, ok }
	var out []*CISItem
	add := func(it *CISItem) { out = append(out, it) }

	// 4.1.1 and 4.1.2: the collector itself, from lineaged's settings.
	if !have {
		for _, x := range [][2]string{
			{"4.1.1.1", "Audit is installed"}, {"4.1.1.2", "The audit service is enabled"},
			{"4.1.1.3", "Auditing for processes that start before the daemon is enabled"},
			{"4.1.2.1", "Audit log storage size is configured"}, {"4.1.2.2", "Audit logs are not automatically deleted"},
			{"4.1.2.3", "System is disabled or alerts when audit logs are full"}, {"4.1.2.4", "audit_backlog_limit is sufficient"},
		} {
			add(&CISItem{ID: x[0], Title: x[1], Status: "manual",
				Detail: "No lineaged settings event in the inputs: check on the host (a replay's output has none; report on the live agent's events file)."})
		}
	} else {
		add(&CISItem{ID: "4.1.1.1", Title: "Audit is installed", Status: "covered",
			Detail: "lineaged is the audit collector on this host: its settings events are in the inputs (configuration: " + orDash(source) + ")."})
		add(&CISItem{ID: "4.1.1.2", Title: "The audit service is enabled", Status: "compensated",
			Detail: "A compensating control: lineaged runs as the audit service (mode " + orDash(settings["audit.mode"]) + "), whether or not auditd is enabled; its heartbeats show it running."})
		it := &CISItem{ID: "4.1.1.3", Title: "Auditing for processes that start before the daemon is enabled"}
		if v, ok := set("kernel.cmdline_audit"); ok {
			if v == "1" {
				it.Status, it.Detail = "covered", "audit=1 is on the kernel command line."
			} else {
				it.Status, it.Detail = "missing", "audit=1 is not on the kernel command line (found: "+orDash(v)+"); processes started before lineaged are seen only from /proc when it starts."
			}
		} else {
			it.Status, it.Detail = "manual", "This lineaged does not report the kernel command line: check /proc/cmdline for audit=1."
		}
		add(it)
		it = &CISItem{ID: "4.1.2.1", Title: "Audit log storage size is configured"}
		if n, _ := strconv.ParseInt(settings["output.max_size"], 10, 64); n > 0 {
			it.Status = "covered"
			it.Detail = fmt.Sprintf("%s rotates at %s bytes, keeping %s files.", orDash(settings["output.file"]), settings["output.max_size"], orDash(settings["output.keep"]))
		} else {
			it.Status, it.Detail = "missing", "output.max_size is not set: the events file grows without bound."
		}
		add(it)
		it = &CISItem{ID: "4.1.2.2", Title: "Audit logs are not automatically deleted"}
		if a := settings["output.syslog.address"]; a != "" {
			it.Status = "compensated"
			it.Detail = "Rotation keeps " + orDash(settings["output.keep"]) + " files locally and deletes older ones, but every line is also forwarded to " + a + " (spooled while it is down)."
		} else if settings["output.keep"] == "0" {
			it.Status, it.Detail = "covered", "output.keep is 0: rotated files are never deleted."
		} else {
			it.Status = "partial"
			it.Detail = "Rotation keeps " + orDash(settings["output.keep"]) + " files and deletes older ones; forward them (output.syslog) or set output.keep to 0."
		}
		add(it)
		add(&CISItem{ID: "4.1.2.3", Title: "System is disabled or alerts when audit logs are full", Status: "compensated",
			Detail: "lineaged does not halt the host; when its output cannot be written it counts the lines dropped and reports them (output-lines-dropped events, lineaged_output_dropped_lines_total) once writing works again."})
		it = &CISItem{ID: "4.1.2.4", Title: "audit_backlog_limit is sufficient"}
		bl, _ := strconv.Atoi(settings["audit.backlog_limit"])
		cl, _ := strconv.Atoi(settings["kernel.cmdline_audit_backlog_limit"])
		switch {
		case bl >= 8192 || cl >= 8192:
			it.Status, it.Detail = "covered", fmt.Sprintf("backlog limit set by lineaged: %d; on the kernel command line: %s (8192 or more expected).", bl, orDash(settings["kernel.cmdline_audit_backlog_limit"]))
		default:
			it.Status, it.Detail = "missing", fmt.Sprintf("backlog limit %d is below 8192 (audit.backlog_limit, or audit_backlog_limit= on the kernel command line).", bl)
		}
		add(it)
	}

	// 4.1.3-4.1.16: the rules in force.
	for _, ri := range cisRuleItems {
		it := &CISItem{ID: ri.id, Title: ri.title}
		keys := map[string]bool{}
		for _, e := range ri.expects {
			by, miss := e.meet(rules)
			if miss != nil {
				it.Missing = append(it.Missing, miss...)
			}
			if len(by) > 0 && miss == nil {
				var txt []string
				for _, r := range by {
					txt = append(txt, r.text)
					for _, k := range r.AllKeys() {
						keys[k] = true
					}
				}
				it.Met = append(it.Met, e.desc+"  ⇐  "+strings.Join(txt, " | "))
			}
		}
		for k := range keys {
			it.Events += tags[k]
		}
		it.Events += extra[ri.id]
		switch {
		case len(ruleTexts) == 0:
			it.Status = "missing"
			it.Detail = "No audit rules in force were found in the inputs."
		case len(it.Missing) == 0:
			it.Status = "covered"
			it.Detail = fmt.Sprintf("All %d expected rules are in force.", len(ri.expects))
		case len(it.Met) > 0:
			it.Status = "partial"
			it.Detail = fmt.Sprintf("%d of %d expected rules are in force.", len(it.Met), len(ri.expects))
		default:
			it.Status = "missing"
			it.Detail = fmt.Sprintf("None of the %d expected rules is in force.", len(ri.expects))
		}
		if ri.id == "4.1.12" || ri.id == "4.1.16" || ri.id == "4.1.10" || ri.id == "4.1.4" {
			if n := extra[ri.id]; n > 0 {
				it.Detail += fmt.Sprintf(" %d such events were recorded in the period.", n)
			}
		}
		out = append(out, it)
	}

	// 4.1.11 and 4.1.15 need the host's list of privileged programs; the
	// exec rules and the proc connector record every execution anyway.
	execRule := false
	for _, r := range rules {
		if slices.Contains(r.Syscalls, "execve") && r.Arch() != "b32" {
			execRule = true
		}
	}
	procOn := settings["proc.enabled"] == "true"
	var pathRules []string
	sudoLog := false
	for _, r := range rules {
		if r.WatchedPath() != "" && strings.Contains(r.Permissions(), "x") && r.HasField("perm", "=", "x") {
			pathRules = append(pathRules, r.WatchedPath())
		}
		if r.WatchedPath() == "/var/log/sudo.log" && hasPerms(r.Permissions(), "wa") {
			sudoLog = true
		}
	}
	it := &CISItem{ID: "4.1.11", Title: "Use of privileged commands is collected"}
	switch {
	case len(pathRules) > 0:
		sort.Strings(pathRules)
		it.Status = "partial"
		it.Detail = fmt.Sprintf("%d privileged programs are audited by path rules; compare with the host's setuid/setgid programs (find / -xdev -perm /6000 -type f).", len(pathRules))
		it.Met = pathRules
	case execRule || procOn:
		it.Status = "compensated"
		it.Detail = "No per-program rules, but every execution is recorded with uid, effective uid and login uid (" + execSources(execRule, procOn) + "), privileged programs included."
	default:
		it.Status, it.Detail = "missing", "No rule audits the execution of privileged programs."
	}
	out = append(out, it)
	it = &CISItem{ID: "4.1.15", Title: "System administrator command executions (sudo) are collected", Events: extra["4.1.15"]}
	switch {
	case sudoLog:
		it.Status, it.Detail = "covered", "-w /var/log/sudo.log -p wa is in force."
	case execRule || procOn:
		it.Status = "compensated"
		it.Detail = fmt.Sprintf("Every execution is recorded with uid, effective uid and login uid (%s); %d sudo/su/pkexec runs in the period.", execSources(execRule, procOn), extra["4.1.15"])
	default:
		it.Status, it.Detail = "missing", "Neither -w /var/log/sudo.log nor an execve rule is in force."
	}
	out = append(out, it)

	it = &CISItem{ID: "4.1.17", Title: "The audit configuration is immutable"}
	switch {
	case settings["kernel.audit_enabled"] == "2":
		it.Status, it.Detail = "covered", "The kernel's audit configuration is locked (enabled=2): rules cannot change until reboot."
	case !have:
		it.Status, it.Detail = "manual", "No lineaged settings event in the inputs: check auditctl -s for enabled 2."
	case settings["kernel.audit_enabled"] == "":
		it.Status, it.Detail = "manual", "This lineaged does not report the kernel's audit state: check auditctl -s for enabled 2."
	default:
		it.Status = "missing"
		it.Detail = "The audit configuration is not immutable (enabled=" + settings["kernel.audit_enabled"] + "). lineaged lets a rule file's -e 2 lock it only when audit.allow_immutable is true; tampering with the rules is alerted instead."
	}
	out = append(out, it)
	sort.SliceStable(out, func(i, j int) bool { return cisLess(out[i].ID, out[j].ID) })
	return out
}

func execSources(rule, proc bool) string {
	switch {
	case rule && proc:
		return "audit execve rules and the proc connector"
	case rule:
		return "audit execve rules"
	}
	return "the proc connector"
}

// cisLess orders dotted item numbers numerically (4.1.2.4 < 4.1.3 < 4.1.10).
func cisLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
