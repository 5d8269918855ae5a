package detect

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lineaged/lineaged/baseline"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
)

// Rule is a built-in detection.
type Rule struct {
	ID         string
	Name       string
	Ruleset    string // "lineaged" for built-ins (the default), "sigma"
	Techniques []string
	Severity   event.Severity
	// NeedsBaseline: the rule judges novelty, so it is silent while
	// learning and without a baseline.
	NeedsBaseline bool
	// Doc says in one line what fires it (lineaged rules).
	Doc   string
	judge func(en *Engine, c *judgement) *finding
}

// finding is one rule's verdict on one event.
type finding struct {
	rule       *Rule
	severity   event.Severity // 0: the rule's
	techniques []string       // nil: the rule's
	key        string         // what the alert is about (dedup and approve)
	reason     string         // the sentence, without the baseline clause
	evidence   []event.Evidence
}

// judgement is what the rules see of one event.
type judgement struct {
	e        *event.Event
	p        graph.Proc // the node whose parent links e's ancestry follows: e's process (zero when the graph had none)
	st       *procState // what is remembered of e's process, nil if nothing
	keys     []string   // baseline.EventKeys(e)
	novel    []string   // keys the baseline lacks (nil without a baseline)
	learning bool
	// packageManager: the event is below a package manager's lineage.
	packageManager bool
	// ruleKeys are the rule-match keys of low-severity external matches
	// (learned while learning).
	ruleKeys []string
}

// Builtins lists the built-in detections in the order they are judged.
var Builtins = []*Rule{
	{ID: "lineaged.reverse-shell", Name: "Reverse shell", Techniques: []string{"T1059.004"}, Severity: event.SeverityCritical,
		Doc: "a shell connects out over TCP/UDP, or starts in a process (or below a network tool or interpreter) that just connected out", judge: reverseShell},
	{ID: "lineaged.webshell", Name: "Shell spawned by a network-facing service", Techniques: []string{"T1505.003", "T1059"}, Severity: event.SeverityHigh,
		Doc: "a shell or interpreter starts below a process that listens on an IP port or a known server, with no login in between, and the edge is not common in the baseline", judge: webshell},
	{ID: "lineaged.exec-deleted", Name: "Program run from a deleted or memory-only file", Techniques: []string{"T1620", "T1036"}, Severity: event.SeverityCritical,
		Doc: "execve of a memfd or of a file deleted before it ran", judge: execDeleted},
	{ID: "lineaged.exec-from-tmp", Name: "Program run from a temporary directory", Techniques: []string{"T1105"}, Severity: event.SeverityHigh,
		Doc: "execve of a file in /tmp, /var/tmp, /dev/shm, unless that lineage does so commonly in the baseline", judge: execFromTmp},
	{ID: "lineaged.setuid-root", Name: "Root gained through an unusual set-user-ID program", Techniques: []string{"T1548.001"}, Severity: event.SeverityHigh,
		Doc: "an exec by a non-root user runs with euid 0 from a program that is not a distribution's set-user-ID tool and not common in the baseline", judge: setuidRoot},
	{ID: "lineaged.persistence-write", Name: "Write to a persistence location", Techniques: []string{"T1053.003", "T1543.002", "T1098.004", "T1574.006", "T1136.001", "T1548.003", "T1037.004", "T1546.004"}, Severity: event.SeverityHigh,
		Doc: "a write, create, rename or delete of cron, systemd units, rc files, shell profiles, authorized_keys, ld.so.preload, sudoers, passwd/shadow/group, outside a package manager and not common in the baseline", judge: persistenceWrite},
	{ID: "lineaged.credential-read", Name: "Credential file read by a new reader", Techniques: []string{"T1003.008"}, Severity: event.SeverityHigh,
		Doc: "/etc/shadow, /etc/gshadow or opasswd read by a program that is not a known reader and never read it in the baseline", judge: credentialRead},
	{ID: "lineaged.audit-tamper", Name: "Audit or log tampering", Techniques: []string{"T1562.012", "T1070.002"}, Severity: event.SeverityCritical,
		Doc: "audit rules removed or audit disabled by another program; audit logs written, truncated or deleted by anything but the audit daemons, log rotation or lineaged", judge: auditTamper},
	{ID: "lineaged.self-tamper", Name: "Tampering with lineaged", Techniques: []string{"T1562.001"}, Severity: event.SeverityCritical,
		Doc: "another program writes, deletes or renames lineaged's binary, configuration, rules or baseline, ptraces lineaged, or takes the audit PID from it", judge: selfTamper},
	{ID: "lineaged.module-load", Name: "Kernel module loaded", Techniques: []string{"T1547.006"}, Severity: event.SeverityHigh,
		Doc: "init_module or finit_module succeeded", judge: moduleLoad},
	{ID: "lineaged.masquerade", Name: "Process masquerading", Techniques: []string{"T1036.004", "T1036.005"}, Severity: event.SeverityHigh,
		Doc: "a process named like a kernel thread, or like a system daemon while its program lives outside the system directories", judge: masquerade},
	{ID: "lineaged.new-listener", Name: "New listening port", Techniques: []string{"T1571"}, Severity: event.SeverityMedium, NeedsBaseline: true,
		Doc: "a program listens on an IP port it never listened on in the baseline", judge: newListener},
}

// Novelty and patch-day summaries are not judged per event but raised by
// the engine; they are listed for lineaged rules.
var (
	RuleNovel = &Rule{ID: "lineaged.novel", Name: "New and rare behaviour", Severity: event.SeverityLow, NeedsBaseline: true,
		Doc: "anything the baseline lacks that no other rule names: a new program in a lineage, user, uid change or connection class"}
	RulePackageManager = &Rule{ID: "lineaged.package-manager", Name: "Package manager run (summary)", Severity: event.SeverityLow,
		Doc: "one summary per package-manager run; what ran below it is learned, not alerted, unless a rule names it"}
	RuleSuppressed = &Rule{ID: "lineaged.rate-limited", Name: "Alerts suppressed by the rate limit", Severity: event.SeverityMedium,
		Doc: "a rule fired more often than its rate limit allows; says how many alerts were held back"}
)

func describe(e *event.Event) string {
	s := e.Process.Executable
	if s == "" {
		s = e.Process.Name
	}
	if s == "" {
		s = "an unknown program"
	}
	return s + " (pid " + strconv.Itoa(e.Process.PID) + ")"
}

func endpoint(ep *event.Endpoint) string {
	if ep == nil {
		return "?"
	}
	if ep.Path != "" && ep.IP == "" {
		return ep.Path
	}
	if strings.IndexByte(ep.IP, ':') >= 0 {
		return "[" + ep.IP + "]:" + strconv.Itoa(ep.Port)
	}
	return ep.IP + ":" + strconv.Itoa(ep.Port)
}

func inet(e *event.Event) bool {
	return e.Network != nil && (e.Network.Family == "ipv4" || e.Network.Family == "ipv6")
}

func isConnectOut(e *event.Event) bool {
	switch e.Action {
	case event.ActionConnectedTo, event.ActionSocketConnected:
	default:
		return false
	}
	if !inet(e) || e.Dest == nil || e.Dest.Port == 53 || e.Dest.Port == 0 || e.Dest.IP == "" {
		return false
	}
	if e.Outcome == event.OutcomeFailure && (e.Audit == nil || e.Audit.ExitValue != "EINPROGRESS") {
		return false
	}
	return e.Network.Direction == "egress" || e.Network.Direction == ""
}

func reverseShell(en *Engine, c *judgement) *finding {
	e := c.e
	if isConnectOut(e) && isShell(e.Process.Executable) {
		return &finding{key: baseline.ConnectKey(e.Process.Executable, e.Dest.IP, e.Dest.Port),
			reason: fmt.Sprintf("the shell %s connected out to %s: a shell talking to the network is a reverse shell", describe(e), endpoint(e.Dest))}
	}
	if e.Action != event.ActionExecuted || !isShell(e.Process.Executable) {
		return nil
	}
	// nc -e /bin/sh: the connect came before the exec, in this process.
	if st := c.st; st != nil && st.connectID != "" && e.TimeMsec-st.connectMsec <= connectMemoryMsec {
		return &finding{key: "exec-after-connect|" + baseline.Exe(e.Process.Executable) + "|" + st.connectExe,
			reason:   fmt.Sprintf("%s became the shell %s right after connecting out to %s", st.connectExe, describe(e), st.connectTo),
			evidence: []event.Evidence{{ID: st.connectID, Summary: st.connectSummary}}}
	}
	// python -c '...connect...pty.spawn("/bin/sh")': the parent connected.
	if p := e.Parent; p != nil && !p.Unknown {
		pb := base(p.Executable)
		if netTools[pb] || interpreters[trimVersion(pb)] || shells[pb] {
			if st := en.ancestorState(c.p.Parent(), p); st != nil && st.connectID != "" && e.TimeMsec-st.connectMsec <= connectMemoryMsec {
				return &finding{key: "spawn-after-connect|" + baseline.Exe(p.Executable) + "|" + baseline.Exe(e.Process.Executable),
					reason:   fmt.Sprintf("%s (pid %d) connected out to %s and then started the shell %s", p.Executable, p.PID, st.connectTo, describe(e)),
					evidence: []event.Evidence{{ID: st.connectID, Summary: st.connectSummary}}}
			}
		}
	}
	return nil
}

// connectMemoryMsec: how long a connect out marks a process for
// reverseShell.
const connectMemoryMsec = 60_000

func webshell(en *Engine, c *judgement) *finding {
	e := c.e
	if e.Action != event.ActionExecuted || !isShellOrInterpreter(e.Process.Executable) {
		return nil
	}
	edge := ""
	if len(c.keys) > 0 && strings.HasPrefix(c.keys[0], "exec-edge|") {
		edge = c.keys[0]
	}
	if en.common(edge) {
		return nil // this service runs this program routinely here
	}
	anc := e.Ancestry
	if len(anc) == 0 && e.Parent != nil {
		anc = []event.ProcRef{*e.Parent}
	}
	up := c.p // walks up beside anc: up is anc[i]'s node
	for i := 0; i < len(anc) && i < 3; i++ {
		a := &anc[i]
		up = up.Parent()
		if a.Unknown || a.Executable == "" {
			return nil
		}
		b := base(a.Executable)
		if loginBoundary[b] {
			return nil
		}
		st := en.ancestorState(up, a)
		listening := st != nil && st.listenID != ""
		if listening || webServers[b] || webServers[trimVersion(b)] {
			why := "a known server"
			var ev []event.Evidence
			if listening {
				why = "listening on " + st.listenOn
				ev = []event.Evidence{{ID: st.listenID, Summary: st.listenSummary}}
			}
			return &finding{key: edge,
				reason:   fmt.Sprintf("%s started %s below %s (pid %d), %s", base(e.Process.Executable), describe(e), a.Executable, a.PID, why),
				evidence: ev}
		}
		if !isShellOrInterpreter(a.Executable) {
			// A shell below a shell below the server still counts; a
			// shell below some other program (make, git) is that
			// program's business.
			return nil
		}
	}
	return nil
}

func execDeleted(en *Engine, c *judgement) *finding {
	e := c.e
	if e.Action != event.ActionExecuted || !deletedExe(e.Process.Executable) {
		return nil
	}
	return &finding{key: firstKey(c.keys, e),
		reason: fmt.Sprintf("%s runs a program that has no file on disk (memfd or deleted)", describe(e))}
}

func execFromTmp(en *Engine, c *judgement) *finding {
	e := c.e
	if e.Action != event.ActionExecuted || !inTempDir(e.Process.Executable) {
		return nil
	}
	k := firstKey(c.keys, e)
	if en.common(k) {
		return nil
	}
	return &finding{key: k, reason: fmt.Sprintf("%s was run from a world-writable temporary directory", describe(e))}
}

func setuidRoot(en *Engine, c *judgement) *finding {
	e := c.e
	if e.Action != event.ActionExecuted || e.User.EffectiveID != "0" || e.User.ID == "" || e.User.ID == "0" || e.User.ID == "unset" {
		return nil
	}
	exe := e.Process.Executable
	k := baseline.UIDTransitionKey(exe, e.User.ID, "0")
	if setuidPrograms[base(exe)] && inSystemDir(exe) {
		return nil
	}
	if en.common(k) {
		return nil
	}
	f := &finding{key: k, reason: fmt.Sprintf("uid %s ran %s with effective uid 0: a set-user-ID program that is not one a distribution ships", e.User.ID, describe(e))}
	if inTempDir(exe) || !inSystemDir(exe) {
		f.severity = event.SeverityCritical
	}
	return f
}

func fileWritten(e *event.Event) bool {
	return e.File != nil && e.File.Path != "" && e.Outcome != event.OutcomeFailure && baseline.FileOp(e.File.Operation) == "write"
}

func persistenceWrite(en *Engine, c *judgement) *finding {
	e := c.e
	if !fileWritten(e) || c.packageManager {
		return nil
	}
	tech, what, ok := persistence(e.File.Path)
	if !ok {
		return nil
	}
	k := baseline.FileAccessKey(e.Process.Executable, e.File.Path, e.File.Operation)
	if en.common(k) {
		return nil
	}
	sev := event.SeverityHigh
	if tech == "T1574.006" {
		sev = event.SeverityCritical
	}
	return &finding{key: k, severity: sev, techniques: []string{tech},
		reason: fmt.Sprintf("%s %s %s, %s", describe(e), opVerb(e.File.Operation), e.File.Path, what)}
}

func opVerb(op string) string {
	switch op {
	case "create":
		return "created"
	case "delete":
		return "deleted"
	case "rename":
		return "renamed a file onto"
	case "attr":
		return "changed the attributes of"
	case "link":
		return "linked"
	}
	return "wrote to"
}

func credentialRead(en *Engine, c *judgement) *finding {
	e := c.e
	if e.File == nil || e.Outcome == event.OutcomeFailure || baseline.FileOp(e.File.Operation) != "read" || !credentialFiles[e.File.Path] {
		return nil
	}
	if credentialReaders[base(e.Process.Executable)] && inSystemDir(e.Process.Executable) {
		return nil
	}
	k := baseline.FileAccessKey(e.Process.Executable, e.File.Path, e.File.Operation)
	if en.known(k) {
		return nil // this program reads it here, by the baseline
	}
	return &finding{key: k, reason: fmt.Sprintf("%s read %s, which it never read on this host", describe(e), e.File.Path)}
}

func auditTamper(en *Engine, c *judgement) *finding {
	e := c.e
	if en.cfg.OwnPID > 0 && e.Process.PID == en.cfg.OwnPID {
		return nil
	}
	b := base(e.Process.Executable)
	if e.Action == event.ActionChangedAuditConfiguration && e.Outcome != event.OutcomeFailure {
		if b == "lineaged" || b == "auditd" {
			return nil
		}
		op, enabled := "", ""
		if e.Audit != nil {
			for _, kv := range e.Audit.Data {
				switch kv.Key {
				case "op":
					op = kv.Value
				case "audit_enabled":
					enabled = kv.Value
				}
			}
		}
		switch {
		case strings.Contains(op, "remove"): // remove_rule, and "remove rule" of old kernels
			return &finding{key: "audit-rules-removed|" + baseline.Exe(e.Process.Executable),
				reason: fmt.Sprintf("%s removed an audit rule", describe(e))}
		case enabled == "0":
			return &finding{key: "audit-disabled|" + baseline.Exe(e.Process.Executable),
				reason: fmt.Sprintf("%s disabled the audit system", describe(e))}
		case op == "add_rule":
			return &finding{key: "audit-rules-added|" + baseline.Exe(e.Process.Executable), severity: event.SeverityMedium,
				reason: fmt.Sprintf("%s changed the audit rules (added one)", describe(e))}
		}
		return nil
	}
	if e.File == nil || e.Outcome == event.OutcomeFailure || auditDaemons[b] || c.packageManager {
		return nil
	}
	p := e.File.Path
	op := e.File.Operation
	isAuditLog := strings.HasPrefix(p, "/var/log/audit/") || strings.HasPrefix(p, "/var/log/lineaged/")
	isLog := strings.HasPrefix(p, "/var/log/")
	switch {
	case isAuditLog && (op == "write" || op == "delete" || op == "rename" || op == "truncate" || op == "create"):
		return &finding{key: "log-tamper|" + baseline.Exe(e.Process.Executable) + "|" + baseline.Path(p),
			reason: fmt.Sprintf("%s %s the audit log file %s", describe(e), opVerb(op), p)}
	case isLog && (op == "delete" || truncated(e)):
		verb := "deleted"
		if op != "delete" {
			verb = "truncated"
		}
		k := "log-tamper|" + baseline.Exe(e.Process.Executable) + "|" + baseline.Path(p)
		if en.common(baseline.FileAccessKey(e.Process.Executable, p, op)) {
			return nil
		}
		return &finding{key: k, severity: event.SeverityHigh, reason: fmt.Sprintf("%s %s the log file %s", describe(e), verb, p)}
	}
	return nil
}

// DefaultOwnFiles are where a packaged lineaged keeps its program,
// configuration, rules and state (baseline): writes there by anyone else
// are tampering. Directories end in "/".
var DefaultOwnFiles = []string{"/usr/sbin/lineaged", "/usr/bin/lineaged", "/etc/lineaged/", "/var/lib/lineaged/"}

func (en *Engine) ownFile(p string) bool {
	for _, f := range en.ownFiles {
		if p == f || (strings.HasSuffix(f, "/") && strings.HasPrefix(p, f)) || p+"/" == f {
			return true
		}
	}
	return false
}

func selfTamper(en *Engine, c *judgement) *finding {
	e := c.e
	own := en.cfg.OwnPID
	if own > 0 && e.Process.PID == own {
		return nil
	}
	b := base(e.Process.Executable)
	switch {
	case e.Action == event.ActionTracedProcess && own > 0:
		if tracedPID(e) == own {
			return &finding{key: "ptrace-lineaged|" + baseline.Exe(e.Process.Executable),
				reason: fmt.Sprintf("%s attached to lineaged (pid %d) with ptrace", describe(e), own)}
		}
	case e.Action == event.ActionChangedAuditConfiguration && e.Audit != nil && b != "lineaged" && b != "auditd":
		pid, old := "", ""
		for _, kv := range e.Audit.Data {
			switch kv.Key {
			case "audit_pid":
				pid = kv.Value
			case "old":
				old = kv.Value
			}
		}
		if pid == "" || pid == "0" && old == "0" {
			return nil
		}
		what := "registered pid " + pid + " as the audit daemon"
		if own > 0 && old == strconv.Itoa(own) {
			what = "took the audit PID from lineaged (pid " + old + ") for pid " + pid
		}
		return &finding{key: "audit-pid|" + baseline.Exe(e.Process.Executable), reason: fmt.Sprintf("%s %s", describe(e), what)}
	case e.File != nil && e.File.Path != "" && e.Outcome != event.OutcomeFailure && !c.packageManager && en.ownFile(e.File.Path):
		op := baseline.FileOp(e.File.Operation)
		if op != "write" {
			return nil
		}
		return &finding{key: "self-tamper|" + baseline.Exe(e.Process.Executable) + "|" + e.File.Path,
			reason: fmt.Sprintf("%s %s %s, one of lineaged's own files", describe(e), opVerb(e.File.Operation), e.File.Path)}
	}
	return nil
}

// tracedPID is the pid a ptrace event names: audit's a1 (hex), or the
// proc connector's target_pid label.
func tracedPID(e *event.Event) int {
	for _, kv := range e.Labels {
		if kv.Key == "target_pid" {
			n, _ := strconv.Atoi(kv.Value)
			return n
		}
	}
	if e.Audit != nil {
		for _, kv := range e.Audit.Data {
			if kv.Key == "a1" {
				n, err := strconv.ParseUint(kv.Value, 16, 31)
				if err == nil {
					return int(n)
				}
			}
		}
	}
	return 0
}

// truncated: a truncate(2)/ftruncate(2), creat(2) over a file, or an open
// with O_TRUNC (flags are audit's a1, or a2 for openat).
func truncated(e *event.Event) bool {
	if e.Audit == nil {
		return false
	}
	switch e.Audit.Syscall {
	case "truncate", "ftruncate", "creat":
		return true
	case "open", "openat":
		arg := "a1"
		if e.Audit.Syscall == "openat" {
			arg = "a2"
		}
		for _, kv := range e.Audit.Data {
			if kv.Key == arg {
				fl, err := strconv.ParseUint(kv.Value, 16, 64)
				return err == nil && fl&0o1000 != 0 // O_TRUNC
			}
		}
	}
	return false
}

func moduleLoad(en *Engine, c *judgement) *finding {
	e := c.e
	if e.Action != event.ActionLoadedKernelModule || e.Outcome == event.OutcomeFailure {
		return nil
	}
	name := "?"
	if e.File != nil && e.File.Path != "" {
		name = e.File.Path
	}
	return &finding{key: "module-load|" + baseline.Exe(e.Process.Executable) + "|" + name,
		reason: fmt.Sprintf("%s loaded the kernel module %s", describe(e), name)}
}

func masquerade(en *Engine, c *judgement) *finding {
	e := c.e
	exe := e.Process.Executable
	if exe == "" || strings.HasPrefix(string(e.Action), "socket-") {
		return nil // kernel threads have no executable; sock_diag names no comm
	}
	names := [2]string{e.Process.Name, ""}
	if e.Action == event.ActionExecuted && len(e.Process.Args) > 0 {
		names[1] = e.Process.Args[0]
	}
	for _, n := range names {
		if n == "" {
			continue
		}
		if looksLikeKernelThread(n) {
			return &finding{key: "masquerade|" + baseline.Exe(exe) + "|" + n,
				reason: fmt.Sprintf("%s calls itself %q, like a kernel thread, but runs the program %s", describe(e), n, exe)}
		}
		if nb := base(n); daemonNames[nb] && !inSystemDir(exe) {
			return &finding{key: "masquerade|" + baseline.Exe(exe) + "|" + nb,
				reason: fmt.Sprintf("%s is named %q like the system daemon %s, but runs %s", describe(e), n, nb, exe)}
		}
	}
	return nil
}

func newListener(en *Engine, c *judgement) *finding {
	e := c.e
	for _, k := range c.novel {
		if strings.HasPrefix(k, "listen|") && !strings.Contains(k, "|unix:") {
			return &finding{key: k, reason: fmt.Sprintf("%s listens on %s, a port it never listened on here", describe(e), endpoint(e.Source))}
		}
	}
	return nil
}

// firstKey is the event's exec-edge key when it has one (what approve
// takes), else the executable.
func firstKey(keys []string, e *event.Event) string {
	for _, k := range keys {
		if strings.HasPrefix(k, "exec-edge|") {
			return k
		}
	}
	return "exe|" + baseline.Exe(e.Process.Executable)
}
