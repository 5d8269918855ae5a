package sigma

import (
	"strconv"
	"strings"

	"github.com/lineaged/lineaged/event"
)

// getter appends the values of one Sigma field of e to dst. A field lineaged
// has no value for yields nothing; the matcher then compares against "".
type getter func(e *event.Event, dst []string) []string

func str(f func(e *event.Event) string) getter {
	return func(e *event.Event, dst []string) []string {
		if v := f(e); v != "" {
			dst = append(dst, v)
		}
		return dst
	}
}

func itoa(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// commandLine is argv joined by spaces, or the proctitle when argv is
// unknown.
func commandLine(e *event.Event) string {
	if len(e.Process.Args) > 0 {
		return strings.Join(e.Process.Args, " ")
	}
	return e.Process.Title
}

func parentPID(e *event.Event) int {
	if e.Parent != nil && e.Parent.PID > 0 {
		return e.Parent.PID
	}
	return e.Process.PPID
}

// id returns an identity value getter. lineaged spells the audit "unset"
// id "unset"; a rule may write it as the kernel prints it.
func id(f func(e *event.Event) string) getter {
	return func(e *event.Event, dst []string) []string {
		switch v := f(e); v {
		case "":
		case "unset":
			dst = append(dst, v, "4294967295", "-1")
		default:
			dst = append(dst, v)
		}
		return dst
	}
}

// keywords is what a Sigma keyword (a search without field names) is looked
// for in: lineaged keeps no raw log line, so the command line, executable and
// file path stand in for it.
func keywords(e *event.Event, dst []string) []string {
	for _, v := range [...]string{commandLine(e), e.Process.Executable, filePath(e)} {
		if v != "" {
			dst = append(dst, v)
		}
	}
	return dst
}

func filePath(e *event.Event) string {
	if e.File != nil {
		return e.File.Path
	}
	return ""
}

// processFields maps the Sigma process_creation taxonomy onto an exec
// event. Fields not listed (OriginalFileName, Hashes, IntegrityLevel, ...)
// describe Windows or Sysmon data lineaged never has.
var processFields = map[string]getter{
	"":                  keywords,
	"Image":             str(func(e *event.Event) string { return e.Process.Executable }),
	"CommandLine":       str(commandLine),
	"CurrentDirectory":  str(func(e *event.Event) string { return e.Process.WorkingDirectory }),
	"ProcessId":         str(func(e *event.Event) string { return itoa(e.Process.PID) }),
	"ParentProcessId":   str(func(e *event.Event) string { return itoa(parentPID(e)) }),
	"LogonId":           id(func(e *event.Event) string { return e.User.AuditID }),
	"ParentImage":       str(func(e *event.Event) string { return parentRef(e).Executable }),
	"ParentCommandLine": str(func(e *event.Event) string { return strings.Join(parentRef(e).Args, " ") }),
	"User": str(func(e *event.Event) string {
		switch {
		case e.User.Name != "":
			return e.User.Name
		case e.User.ID == "0":
			return "root" // uid 0 is root whatever the passwd file says
		}
		return e.User.ID
	}),
}

var noParent event.ProcRef

func parentRef(e *event.Event) *event.ProcRef {
	if e.Parent != nil {
		return e.Parent
	}
	return &noParent
}

func audit(e *event.Event) *event.Audit {
	if e.Audit != nil {
		return e.Audit
	}
	return &noAudit
}

var noAudit event.Audit

// data looks key up in the audit fields the normaliser kept.
func data(key string) getter {
	return func(e *event.Event, dst []string) []string {
		for _, kv := range audit(e).Data {
			if kv.Key == key && kv.Value != "" {
				dst = append(dst, kv.Value)
			}
		}
		return dst
	}
}

var dataName, dataArgc = data("name"), data("argc")

// dataKeys are the record fields audit.Normalizer keeps in Audit.Data
// (audit/normalize.go, otherData and dataKV) under their own names.
var dataKeys = []string{"hostname", "terminal", "op", "unit", "grantors", "cmd", "audit_enabled", "audit_pid",
	"audit_backlog_limit", "audit_failure", "list", "old", "new", "ver", "format", "kernel",
	"new-auid", "old-auid", "new-ses", "old-ses", "old_auid", "new_auid", "old_ses", "new_ses", "seresult", "seperms",
	"profile", "operation", "apparmor", "denied_mask", "requested_mask", "sig", "reason", "tclass", "scontext",
	"tcontext", "dev", "prom", "old_prom", "family", "table", "entries", "items", "old_path"}

// auditdFields maps raw auditd record field names (as the Sigma auditd
// rules use them) onto the event. One lineaged event is a whole record
// group, so a field is looked for across its records: "type" lists every
// record type of the group.
var auditdFields = func() map[string]getter {
	m := map[string]getter{
		"": keywords,
		"type": func(e *event.Event, dst []string) []string {
			return append(dst, audit(e).RecordTypes...)
		},
		"key": func(e *event.Event, dst []string) []string {
			return append(dst, audit(e).Keys...)
		},
		// lineaged resolves the syscall number to its name; SYSCALL is
		// the name as ausearch -i prints it. syscall (the raw number) is
		// accepted only with names (see compileField).
		"SYSCALL":   str(func(e *event.Event) string { return audit(e).Syscall }),
		"syscall":   str(func(e *event.Event) string { return audit(e).Syscall }),
		"exit":      str(func(e *event.Event) string { return audit(e).ExitValue }),
		"ses":       id(func(e *event.Event) string { return audit(e).Session }),
		"exe":       str(func(e *event.Event) string { return e.Process.Executable }),
		"comm":      str(func(e *event.Event) string { return e.Process.Name }),
		"cwd":       str(func(e *event.Event) string { return e.Process.WorkingDirectory }),
		"proctitle": str(func(e *event.Event) string { return e.Process.Title }),
		"tty":       str(func(e *event.Event) string { return e.Process.TTY }),
		"pid":       str(func(e *event.Event) string { return itoa(e.Process.PID) }),
		"ppid":      str(func(e *event.Event) string { return itoa(e.Process.PPID) }),
		"uid":       id(func(e *event.Event) string { return e.User.ID }),
		"euid":      id(func(e *event.Event) string { return e.User.EffectiveID }),
		"suid":      id(func(e *event.Event) string { return e.User.SavedID }),
		"fsuid":     id(func(e *event.Event) string { return e.User.FilesysID }),
		"auid":      id(func(e *event.Event) string { return e.User.AuditID }),
		"gid":       id(func(e *event.Event) string { return e.User.GroupID }),
		"egid":      id(func(e *event.Event) string { return e.User.EffGroupID }),
		"success": str(func(e *event.Event) string {
			switch e.Outcome {
			case event.OutcomeSuccess:
				return "yes"
			case event.OutcomeFailure:
				return "no"
			}
			return ""
		}),
		"acct": str(func(e *event.Event) string {
			if e.Target != nil {
				return e.Target.Name
			}
			return ""
		}),
		"addr": str(func(e *event.Event) string {
			if e.Source != nil {
				return e.Source.IP
			}
			return ""
		}),
		// PATH: lineaged keeps the one PATH item the event is about.
		"name": func(e *event.Event, dst []string) []string {
			if p := filePath(e); p != "" {
				return append(dst, p)
			}
			return dataName(e, dst)
		},
		"nametype": str(func(e *event.Event) string {
			if e.File != nil {
				return e.File.NameType
			}
			return ""
		}),
		"argc": func(e *event.Event, dst []string) []string {
			if dst = dataArgc(e, dst); len(dst) > 0 {
				return dst
			}
			if e.Action == event.ActionExecuted && len(e.Process.Args) > 0 {
				dst = append(dst, strconv.Itoa(len(e.Process.Args)))
			}
			return dst
		},
	}
	for _, k := range dataKeys {
		m[k] = data(k)
	}
	return m
}()

// argField returns the getter of aN: argv[N] of an exec (the EXECVE
// record), else the syscall argument aN (hex, as the SYSCALL record prints
// it). ok is false when name is not of the form aN.
func argField(name string) (g getter, ok bool) {
	if len(name) < 2 || len(name) > 8 || name[0] != 'a' || (len(name) > 2 && name[1] == '0') {
		return nil, false
	}
	n := 0
	for _, c := range name[1:] {
		if c < '0' || c > '9' {
			return nil, false
		}
		n = n*10 + int(c-'0')
	}
	sys := data(name)
	return func(e *event.Event, dst []string) []string {
		if e.Action == event.ActionExecuted {
			if n < len(e.Process.Args) && e.Process.Args[n] != "" {
				dst = append(dst, e.Process.Args[n])
			}
			return dst
		}
		return sys(e, dst)
	}, true
}

// lookupField returns the getter of a Sigma field in a logsource.
func lookupField(ls string, name string) (getter, bool) {
	if ls == lsProcess {
		g, ok := processFields[name]
		return g, ok
	}
	if g, ok := auditdFields[name]; ok {
		return g, true
	}
	return argField(name)
}
