package auditrule

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Kind is what a line does.
type Kind uint8

const (
	Syscall   Kind = iota + 1 // -a or -A: a rule on one of the kernel's filter lists
	Watch                     // -w: a file watch
	DeleteAll                 // -D: delete every rule (or, with -k, those with the key)
	Control                   // an option that sets the audit system, not a rule
)

// Rule is one line, parsed. Only the fields of its Kind are set.
type Rule struct {
	Kind Kind

	// Syscall rules.
	Prepend  bool     // -A rather than -a
	List     string   // one of Lists
	Action   string   // always or never
	Syscalls []string // -S: names, numbers or "all", in order, commas split
	Fields   []Field  // -F and -C, in order

	// Watches.
	Path  string // -w
	Perms string // -p as written: r, w, x and a; "" when not given

	// Syscall rules, watches and -D.
	Keys []string // -k, in order

	// Control lines.
	Option string // as written: "-b", "--backlog_wait_time", ...
	Value  string // its value; "" for the options that take none
}

// Field is one -F or -C.
type Field struct {
	Name  string
	Op    string // one of FieldOps (-F) or = and != (-C)
	Value string // for -C, the other field's name
	// Compare is set for -C: Value names a field, compared with Name's.
	Compare bool
}

// Lists are the filter lists auditctl knows; go-libaudit builds task,
// exit, user and exclude (the others are refused when a rule is built).
var Lists = []string{"task", "exit", "user", "exclude", "filesystem", "io_uring"}

// Actions are the actions of a syscall rule.
var Actions = []string{"always", "never"}

// FieldOps are -F's operators, longest first so that "<=" is not read as
// "<" followed by a value "=...".
var FieldOps = []string{"!=", "<=", ">=", "&=", "=", "<", ">", "&"}

// ControlOptions take one value; FlagOptions take none. Both change the
// audit system or auditctl's handling, not the rule list.
var (
	ControlOptions = []string{"-b", "-f", "-r", "-e", "--backlog_wait_time"}
	FlagOptions    = []string{"-i", "-c", "--loginuid-immutable", "--reset-lost", "--reset_backlog_wait_time_actual"}
)

// The option groups a line may not mix: auditctl sends one request per
// line.
const (
	groupSyscall = "a syscall rule (-a, -A, -S, -F, -C)"
	groupWatch   = "a watch (-w, -p)"
	groupDelete  = "delete all (-D)"
	groupControl = "a control option"
)

// Parse reads one line. Blank lines and comments are the caller's to
// skip: here they are an error, as is anything auditctl would refuse on
// syntax alone. Errors name the option and quote the word at fault.
func Parse(line string) (Rule, error) {
	words, err := split(line)
	if err != nil {
		return Rule{}, err
	}
	if len(words) == 0 {
		return Rule{}, errors.New("empty rule")
	}
	var r Rule
	groups := map[string]bool{}
	seen := map[string]bool{}
	for i := 0; i < len(words); i++ {
		opt := words[i]
		value := func() (string, error) {
			if i+1 >= len(words) {
				return "", fmt.Errorf("%s needs a value", opt)
			}
			i++
			return words[i], nil
		}
		once := func() error {
			if seen[opt] {
				return fmt.Errorf("%s given twice", opt)
			}
			seen[opt] = true
			return nil
		}
		var v string
		switch {
		case opt == "-a" || opt == "-A":
			groups[groupSyscall] = true
			if seen["-a"] || seen["-A"] {
				return Rule{}, errors.New("-a or -A given twice: one rule per line")
			}
			seen[opt] = true
			if v, err = value(); err == nil {
				r.Prepend = opt == "-A"
				r.List, r.Action, err = listAction(v)
			}
		case opt == "-S":
			groups[groupSyscall] = true
			if v, err = value(); err == nil {
				err = r.addSyscalls(v)
			}
		case opt == "-F" || opt == "-C":
			groups[groupSyscall] = true
			if v, err = value(); err == nil {
				var f Field
				if f, err = parseField(opt, v); err == nil {
					r.Fields = append(r.Fields, f)
				}
			}
		case opt == "-w":
			groups[groupWatch] = true
			if err = once(); err == nil {
				if r.Path, err = value(); err == nil && r.Path == "" {
					err = errors.New("-w: empty path")
				}
			}
		case opt == "-p":
			groups[groupWatch] = true
			if err = once(); err == nil {
				if r.Perms, err = value(); err == nil {
					err = checkPerms(r.Perms)
				}
			}
		case opt == "-k":
			if v, err = value(); err == nil {
				err = checkKey(v)
				r.Keys = append(r.Keys, v)
			}
		case opt == "-D":
			groups[groupDelete] = true
			err = once()
		case slices.Contains(ControlOptions, opt):
			groups[groupControl] = true
			if r.Option != "" {
				return Rule{}, fmt.Errorf("%s after %s: one control option per line", opt, r.Option)
			}
			r.Option = opt
			if r.Value, err = value(); err == nil && r.Value == "" {
				err = fmt.Errorf("%s: empty value", opt)
			}
		case slices.Contains(FlagOptions, opt):
			groups[groupControl] = true
			if r.Option != "" {
				return Rule{}, fmt.Errorf("%s after %s: one control option per line", opt, r.Option)
			}
			r.Option = opt
		case strings.HasPrefix(opt, "-") && len(opt) > 1:
			err = fmt.Errorf("%q: not an option of a rules file (known: -a -A -S -F -C -w -p -k -D and the control options)", opt)
		default:
			err = fmt.Errorf("%q: a word without an option (quote a value that holds spaces)", opt)
		}
		if err != nil {
			return Rule{}, err
		}
	}
	return r, r.kind(groups)
}

// kind sets r.Kind from the options given, refusing a mix.
func (r *Rule) kind(groups map[string]bool) error {
	if len(groups) > 1 {
		var g []string
		for _, name := range []string{groupSyscall, groupWatch, groupDelete, groupControl} {
			if groups[name] {
				g = append(g, name)
			}
		}
		return fmt.Errorf("%s cannot be on one line", strings.Join(g, " and "))
	}
	switch {
	case groups[groupSyscall]:
		if r.List == "" {
			return errors.New("a syscall rule needs -a or -A (LIST,ACTION)")
		}
		r.Kind = Syscall
	case groups[groupWatch]:
		if r.Path == "" {
			return errors.New("-p needs -w (the path it applies to)")
		}
		r.Kind = Watch
	case groups[groupDelete]:
		r.Kind = DeleteAll
	case groups[groupControl]:
		if len(r.Keys) > 0 {
			return fmt.Errorf("%s takes no -k", r.Option)
		}
		r.Kind = Control
	default:
		return errors.New("-k alone: a key needs a rule (-a, -A, -w or -D)")
	}
	return nil
}

// listAction reads -a's "list,action", in either order as auditctl takes it.
func listAction(v string) (list, action string, err error) {
	parts := strings.Split(v, ",")
	if len(parts) == 2 {
		a, b := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
		if slices.Contains(Actions, a) {
			a, b = b, a
		}
		if slices.Contains(Lists, a) && slices.Contains(Actions, b) {
			return a, b, nil
		}
	}
	return "", "", fmt.Errorf("-a %q: want LIST,ACTION: a list (%s) and an action (%s)", v,
		strings.Join(Lists, ", "), strings.Join(Actions, ", "))
}

func (r *Rule) addSyscalls(v string) error {
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" || !isName(s) {
			return fmt.Errorf("-S %q: want syscall names or numbers separated by commas, or all", v)
		}
		r.Syscalls = append(r.Syscalls, s)
	}
	return nil
}

// parseField reads -F's name OP value or -C's name OP name.
func parseField(opt, v string) (Field, error) {
	n := 0
	for n < len(v) && isNameByte(v[n]) {
		n++
	}
	ops := FieldOps
	if opt == "-C" {
		ops = []string{"!=", "="}
	}
	f := Field{Name: v[:n], Compare: opt == "-C"}
	for _, op := range ops {
		if strings.HasPrefix(v[n:], op) {
			f.Op, f.Value = op, v[n+len(op):]
			break
		}
	}
	if f.Name == "" || f.Op == "" || f.Value == "" || (f.Compare && !isName(f.Value)) {
		if f.Compare {
			return Field{}, fmt.Errorf("-C %q: want FIELD=FIELD or FIELD!=FIELD", v)
		}
		return Field{}, fmt.Errorf("-F %q: want NAME OP VALUE with OP one of %s", v, strings.Join(FieldOps, " "))
	}
	return f, nil
}

func checkPerms(p string) error {
	if p == "" || strings.Trim(p, "rwxa") != "" {
		return fmt.Errorf("-p %q: want some of r, w, x and a", p)
	}
	return nil
}

// checkKey refuses what auditctl refuses: an empty key, and the byte
// that separates keys on the wire.
func checkKey(k string) error {
	switch {
	case k == "":
		return errors.New("-k: empty key")
	case strings.IndexByte(k, 0x01) >= 0:
		return fmt.Errorf("-k %q: holds the key separator \\x01", k)
	}
	return nil
}

func isNameByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return s != ""
}

// Field returns the first field named name given with -F (not -C).
func (r *Rule) Field(name string) (Field, bool) {
	for _, f := range r.Fields {
		if f.Name == name && !f.Compare {
			return f, true
		}
	}
	return Field{}, false
}

// HasField reports whether the rule has -F name op value exactly as
// given (exit=-EACCES, say; values are compared as written).
func (r *Rule) HasField(name, op, value string) bool {
	for _, f := range r.Fields {
		if !f.Compare && f.Name == name && f.Op == op && f.Value == value {
			return true
		}
	}
	return false
}

// Arch is the value of -F arch= ("b64", "b32", a machine name), or ""
// when the rule applies to every ABI.
func (r *Rule) Arch() string {
	if f, ok := r.Field("arch"); ok && f.Op == "=" {
		return f.Value
	}
	return ""
}

// AllKeys are the rule's keys: those of -k, then those of -F key= (the
// form `auditctl -l` prints).
func (r *Rule) AllKeys() []string {
	keys := slices.Clone(r.Keys)
	for _, f := range r.Fields {
		if !f.Compare && f.Name == "key" && f.Op == "=" {
			keys = append(keys, f.Value)
		}
	}
	return keys
}

// WatchedPath is the path a rule watches: -w's, or a syscall rule's
// -F path= or -F dir= (the form `auditctl -l` prints a watch in when it
// was loaded as a syscall rule); "" for none.
func (r *Rule) WatchedPath() string {
	if r.Kind == Watch {
		return r.Path
	}
	for _, f := range r.Fields {
		if !f.Compare && (f.Name == "path" || f.Name == "dir") && f.Op == "=" {
			return f.Value
		}
	}
	return ""
}

// Permissions are the access types a watch reports: -p's, or a syscall
// rule's -F perm=.
func (r *Rule) Permissions() string {
	if r.Kind == Watch {
		return r.Perms
	}
	if f, ok := r.Field("perm"); ok && f.Op == "=" {
		return f.Value
	}
	return ""
}

// HasSyscall reports whether -S names the syscall, or "all".
func (r *Rule) HasSyscall(name string) bool {
	return slices.Contains(r.Syscalls, name) || slices.Contains(r.Syscalls, "all")
}

// String writes the rule back in auditctl syntax, quoting where a value
// needs it, so that Parse(r.String()) gives r again: the action before
// the list, as `auditctl -l` prints them; all -S as one.
func (r Rule) String() string {
	var w []string
	add := func(s ...string) { w = append(w, s...) }
	switch r.Kind {
	case Syscall:
		opt := "-a"
		if r.Prepend {
			opt = "-A"
		}
		add(opt, r.Action+","+r.List)
		if len(r.Syscalls) > 0 {
			add("-S", quote(strings.Join(r.Syscalls, ",")))
		}
		for _, f := range r.Fields {
			opt := "-F"
			if f.Compare {
				opt = "-C"
			}
			add(opt, quote(f.Name+f.Op+f.Value))
		}
	case Watch:
		add("-w", quote(r.Path))
		if r.Perms != "" {
			add("-p", r.Perms)
		}
	case DeleteAll:
		add("-D")
	case Control:
		add(r.Option)
		if r.Value != "" {
			add(quote(r.Value))
		}
	}
	for _, k := range r.Keys {
		add("-k", quote(k))
	}
	return strings.Join(w, " ")
}
