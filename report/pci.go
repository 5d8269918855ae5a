package report

import (
	"fmt"
	"path"
	"strings"

	"github.com/lineaged/lineaged/event"
)

// pciSections are PCI DSS v4.0 requirement 10.2's items, with the two
// adjacent ones a host agent also evidences
// (../shared/compliance/README.md).
func pciSections() []*Section {
	return []*Section{
		{ID: "10.2.1", Title: "Audit logs are enabled and active",
			Shows: "lineaged's settings events (at start and on every reload) with the audit rules in force, and takeovers after a crash."},
		{ID: "10.2.1.1", Title: "Individual user access to cardholder data",
			Shows: "file events on watched paths (fanotify watches and audit -w rules), with the user and login uid."},
		{ID: "10.2.1.2", Title: "Actions taken by anyone with root or administrative access",
			Shows: "programs run as uid 0 or with effective uid 0, sudo/su/pkexec, and processes whose login uid differs from their uid."},
		{ID: "10.2.1.3", Title: "Access to all audit logs",
			Shows: "file events on /var/log/audit, lineaged's own logs and state, and the audit configuration."},
		{ID: "10.2.1.4", Title: "Invalid logical access attempts",
			Shows: "failed authentications and logins (PAM via audit), and system calls refused with EACCES or EPERM."},
		{ID: "10.2.1.5", Title: "Changes to identification and authentication credentials",
			Shows: "account and group creation, change and deletion, password changes, writes to passwd/shadow/group/gshadow/opasswd, and the programs that make them."},
		{ID: "10.2.1.6", Title: "Initialisation, stopping or pausing of the audit logs",
			Shows: "audit daemon start, stop and rotation, audit configuration changes (enable/disable), lineaged starts, reloads, stops and takeovers."},
		{ID: "10.2.1.7", Title: "Creation and deletion of system-level objects",
			Shows: "kernel module loads and unloads, mounts, and files created, deleted, renamed or written in system paths (binaries, libraries, unit files, init scripts)."},
		{ID: "10.2.2", Title: "Audit logs record the details of each event",
			Shows: "for each element the requirement names, the JSON field that carries it and how many events have it."},
		{ID: "10.7.2", Title: "Failures of critical security controls are detected (adjacent)",
			Shows: "lineaged's loss events: audit records lost, fanotify overflows, proc connector overruns, output lines dropped, refused reloads."},
		{ID: "11.5.2", Title: "Change detection on critical files (adjacent)",
			Shows: "writes, creations, deletions, renames and attribute changes of files under /etc, /boot and the system binary and library paths."},
	}
}

// pciFields is 10.2.2's list of elements.
var pciFields = []struct{ element, field string }{
	{"user identification", "user.id"},
	{"type of event", "event.category + event.action"},
	{"date and time", "@timestamp"},
	{"success or failure", "event.outcome"},
	{"origination of event", "host.name + process.executable (or source.ip)"},
	{"identity or name of affected data, component or resource", "file.path, destination.*, or process.executable"},
}

func (b *builder) coverage(d *Doc) {
	has := [...]bool{
		d.User.ID != "",
		d.Category() != "" && d.Event.Action != "",
		!d.Time.IsZero(),
		d.Event.Outcome != "",
		d.Host.Name != "" && (d.Process.Executable != "" || (d.Source != nil && d.Source.IP != "") || d.Process.PID != 0),
		(d.File != nil && d.File.Path != "") || d.Destination != nil || d.Source != nil || d.Process.Executable != "",
	}
	for i := range b.fields {
		b.fields[i].Of++
		if has[i] {
			b.fields[i].Events++
		}
	}
}

var (
	adminTools    = map[string]bool{"sudo": true, "su": true, "pkexec": true, "doas": true, "runuser": true}
	accountTools  = map[string]bool{"useradd": true, "usermod": true, "userdel": true, "groupadd": true, "groupmod": true, "groupdel": true, "passwd": true, "chpasswd": true, "chage": true, "gpasswd": true, "adduser": true, "deluser": true, "addgroup": true, "delgroup": true, "vipw": true, "chsh": true, "chfn": true, "newusers": true}
	credFiles     = map[string]bool{"/etc/passwd": true, "/etc/shadow": true, "/etc/group": true, "/etc/gshadow": true, "/etc/security/opasswd": true, "/etc/sudoers": true}
	auditLogDirs  = []string{"/var/log/audit/", "/var/log/lineaged/", "/var/lib/lineaged/", "/etc/audit/", "/etc/lineaged/"}
	systemDirs    = []string{"/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/", "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/etc/systemd/", "/etc/init.d/", "/etc/rc.d/", "/lib/modules/", "/boot/"}
	criticalDirs  = []string{"/etc/", "/boot/", "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/", "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/"}
	auditActions  = map[event.Action]bool{event.ActionStartedAudit: true, event.ActionStoppedAudit: true, event.ActionAbortedAudit: true, event.ActionRotatedLogs: true, event.ActionResumedAudit: true, event.ActionConfiguredAudit: true, event.ActionChangedAuditConfiguration: true}
	lineagedLife  = map[event.Action]bool{event.ActionStarted: true, event.ActionReloaded: true, event.ActionStopped: true, event.ActionAuditTakeover: true, event.ActionReloadFailed: true}
	objectActions = map[event.Action]bool{event.ActionLoadedKernelModule: true, event.ActionUnloadedKernelModule: true, event.ActionMounted: true, event.ActionUnmounted: true}
)

func under(p string, dirs []string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(p, d) || p == strings.TrimSuffix(d, "/") {
			return true
		}
	}
	return false
}

// changes reports whether a file operation changes the file (rather than
// reading it).
func changes(op string) bool {
	switch op {
	case "read", "open", "exec", "":
		return false
	}
	return true
}

// classify files an event under the PCI-DSS items (and the CIS items that
// count events without a rule key) it evidences.
func (b *builder) classify(d *Doc) {
	act := d.Event.Action
	exe := path.Base(d.Process.Executable)
	var fpath, op string
	if d.File != nil {
		fpath, op = d.File.Path, d.File.Operation
	}
	lineaged := d.Lineaged != nil && d.Lineaged.Config != nil
	// Events under an audit key count for CIS through their key; the
	// others (fanotify, the proc connector) count here.
	cis := func(id string) {
		if len(d.Tags) == 0 {
			b.cisEvidence[id]++
		}
	}

	if lineaged || act == event.ActionAuditTakeover {
		b.evidence("10.2.1", d, "")
	}
	if d.Category() == event.CategoryFile && fpath != "" {
		b.evidence("10.2.1.1", d, fpath)
		if under(fpath, auditLogDirs) {
			b.evidence("10.2.1.3", d, fpath)
		}
	}
	if act == event.ActionExecuted && (d.User.ID == "0" || d.User.Effective.ID == "0" || adminTools[exe]) {
		b.evidence("10.2.1.2", d, strings.Join(d.Process.Args, " "))
		if adminTools[exe] {
			cis("4.1.15")
		}
	} else if act == event.ActionExecuted && d.User.Audit.ID != "" && d.User.Audit.ID != "unset" && d.User.Audit.ID != d.User.ID {
		b.evidence("10.2.1.2", d, strings.Join(d.Process.Args, " "))
	}
	if d.Event.Outcome == event.OutcomeFailure && d.Category() == event.CategoryAuthentication {
		b.evidence("10.2.1.4", d, "")
	} else if d.Auditd != nil && (d.Auditd.Data["exit"] == "EACCES" || d.Auditd.Data["exit"] == "EPERM") {
		b.evidence("10.2.1.4", d, fpath)
		if fpath != "" {
			cis("4.1.10")
		}
	}
	if d.Category() == event.CategoryIam || (credFiles[fpath] && changes(op)) || (act == event.ActionExecuted && accountTools[exe]) {
		b.evidence("10.2.1.5", d, fpath)
		if credFiles[fpath] && changes(op) {
			cis("4.1.4")
		}
	}
	if auditActions[act] || lineagedLife[act] {
		b.evidence("10.2.1.6", d, "")
	}
	if objectActions[act] || (fpath != "" && under(fpath, systemDirs) && changes(op) && d.Category() == event.CategoryFile) {
		b.evidence("10.2.1.7", d, fpath)
		switch act {
		case event.ActionLoadedKernelModule, event.ActionUnloadedKernelModule:
			cis("4.1.16")
		case event.ActionMounted:
			cis("4.1.12")
		}
	}
	if _, ok := lossActions[act]; ok {
		b.evidence("10.7.2", d, "")
	}
	if fpath != "" && d.Category() == event.CategoryFile && changes(op) && under(fpath, criticalDirs) {
		b.evidence("11.5.2", d, fpath)
	}
}

func (b *builder) evidence(id string, d *Doc, obj string) {
	s := b.pci[id]
	s.Count++
	u := userName(d)
	if u == "" {
		u = "-"
	}
	m := b.secUsers[id]
	if m == nil {
		m = map[string]int{}
		b.secUsers[id] = m
	}
	m[u]++
	if len(s.Rows) >= b.opt.MaxRows {
		return
	}
	out := d.Event.Outcome
	if obj == "" {
		obj = d.Message
	}
	if len(obj) > 160 {
		obj = obj[:157] + "..."
	}
	s.Rows = append(s.Rows, Row{Time: d.Time, ID: d.Event.ID, User: u, Exe: d.Process.Executable,
		Action: string(d.Event.Action), Object: obj, Outcome: string(out)})
}

func (b *builder) finishPCI() {
	r := b.r
	s := b.pci["10.2.1"]
	mode := r.Settings["audit.mode"]
	switch {
	case len(r.Config) == 0 && r.Rules == nil:
		s.Note = "No settings event in the inputs: they do not show which audit rules were in force (a replay's output has none; report on the live agent's events file, or give the rules with --rules)."
	case len(r.Config) == 0:
		s.Note = fmt.Sprintf("No settings event in the inputs; %d audit rules in force are taken from %s.", len(r.Rules), r.ConfigSource)
	default:
		s.Note = fmt.Sprintf("%d settings events in the period; the last in force lists %d audit rules", len(r.Config), len(r.Rules))
		if mode != "" {
			s.Note += "; audit mode " + mode
		}
		s.Note += "."
	}
	b.pci["10.2.2"].Fields = b.fields
	b.pci["10.2.2"].Count = r.Events
	for id, m := range b.secUsers {
		b.pci[id].Summary = top(m, 10)
	}
}
