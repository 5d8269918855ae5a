package audit

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/elastic/go-libaudit/v2/rule"

	"github.com/lineaged/lineaged/internal/auditrule"
)

// RuleSet is a parsed set of audit rules in auditctl syntax: the rules in
// kernel wire format, in load order, and the control settings the files
// carry. Lines are read by internal/auditrule (the one reader of the
// syntax, shared with the report) and built by go-libaudit's rule.Build.
type RuleSet struct {
	Rules []LoadedRule
	// Control lines; nil when the files do not set them.
	DeleteAll       bool    // -D seen: delete existing rules first
	BacklogLimit    *uint32 // -b
	Failure         *uint32 // -f 0|1|2
	RateLimit       *uint32 // -r
	Enabled         *uint32 // -e 0|1|2
	BacklogWaitTime *uint32 // --backlog_wait_time
	// Skipped are lines that parsed but cannot be loaded here (e.g. a
	// syscall this architecture lacks), with the reason; they are reported,
	// not silently dropped.
	Skipped []RuleError
}

// LoadedRule is one rule and where it came from.
type LoadedRule struct {
	Text string          // the line as written (after trimming)
	File string          // file:line of origin
	Wire rule.WireFormat // what the kernel receives
}

// RuleError is a rule file line that was refused or skipped.
type RuleError struct {
	File string
	Line int
	Text string
	Err  error
}

func (e RuleError) Error() string {
	return fmt.Sprintf("%s:%d: %v (rule: %s)", e.File, e.Line, e.Err, e.Text)
}

// RuleFiles lists the *.rules files of dir in augenrules order (sorted by
// name, as augenrules concatenates them).
func RuleFiles(dir string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(dir, "*.rules"))
	if err != nil {
		return nil, err
	}
	sort.Strings(m)
	return m, nil
}

// LoadRuleFiles parses the files in order into one RuleSet. A line that
// cannot be parsed is an error naming file:line (the whole load fails: a
// half-loaded rule set would leave gaps an operator does not know about);
// rules the running kernel's architecture cannot express go to Skipped.
func LoadRuleFiles(files []string) (*RuleSet, error) {
	rs := &RuleSet{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		// Rules decide what the kernel reports: a file anyone may edit
		// is a way to blind the agent.
		if fi, err := f.Stat(); err != nil {
			f.Close()
			return nil, err
		} else if !fi.Mode().IsRegular() {
			f.Close()
			return nil, fmt.Errorf("%s: not a regular file: refused", name)
		} else if fi.Mode().Perm()&0o002 != 0 {
			f.Close()
			return nil, fmt.Errorf("%s: writable by others (mode %#o): refused; fix with chmod o-w %s", name, fi.Mode().Perm(), name)
		}
		err = rs.parse(name, f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// ParseRules parses rules text (one file's worth) into a RuleSet.
func ParseRules(name string, r io.Reader) (*RuleSet, error) {
	rs := &RuleSet{}
	return rs, rs.parse(name, r)
}

func (rs *RuleSet) parse(name string, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if err := rs.parseLine(name, n, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: reading after line %d: %w", name, n, err)
	}
	return nil
}

func (rs *RuleSet) parseLine(name string, n int, line string) error {
	fail := func(err error) error { return RuleError{File: name, Line: n, Text: line, Err: err} }
	r, err := auditrule.Parse(line)
	if err != nil {
		return fail(err)
	}
	switch r.Kind {
	case auditrule.DeleteAll:
		if len(r.Keys) > 0 {
			return fail(errors.New("-D with arguments (delete by key) is not supported in rule files"))
		}
		rs.DeleteAll = true
		rs.Rules = nil // what came before is deleted too
		return nil
	case auditrule.Control:
		if err := rs.control(r); err != nil {
			return fail(err)
		}
		if r.Value == "" && r.Option != "-i" && r.Option != "-c" {
			// auditctl options that do not change the rule set: -i
			// (ignore errors) and -c (continue) are ignored as augenrules
			// does; the rest are reported as skipped so the operator sees
			// them.
			rs.Skipped = append(rs.Skipped, RuleError{File: name, Line: n, Text: line, Err: errors.New("option not applied by lineaged")})
		}
		return nil
	}
	wire, err := rule.Build(libauditRule(r))
	if err != nil {
		// Syscalls unknown on this arch (e.g. b32-only names) are skipped
		// with the reason, not fatal: rule sets are shared across
		// architectures.
		if strings.Contains(err.Error(), "unknown syscall") {
			rs.Skipped = append(rs.Skipped, RuleError{File: name, Line: n, Text: line, Err: err})
			return nil
		}
		return fail(err)
	}
	rs.Rules = append(rs.Rules, LoadedRule{Text: line, File: name + ":" + strconv.Itoa(n), Wire: wire})
	return nil
}

// control applies a control line that sets a value (-b, -f, -r, -e,
// --backlog_wait_time), in auditctl's ranges.
func (rs *RuleSet) control(r auditrule.Rule) error {
	num := func(dst **uint32, min, max uint64) error {
		v, err := strconv.ParseUint(r.Value, 10, 32)
		if err != nil || v < min || v > max {
			return fmt.Errorf("%s %q: want a number from %d to %d", r.Option, r.Value, min, max)
		}
		u := uint32(v)
		*dst = &u
		return nil
	}
	switch r.Option {
	case "-b":
		return num(&rs.BacklogLimit, 0, 1<<31)
	case "-f":
		return num(&rs.Failure, 0, 2)
	case "-r":
		return num(&rs.RateLimit, 0, 1<<31)
	case "-e":
		return num(&rs.Enabled, 0, 2)
	case "--backlog_wait_time":
		return num(&rs.BacklogWaitTime, 0, 600000)
	}
	return nil
}

// libauditRule turns a parsed syscall rule or watch into go-libaudit's
// form, for rule.Build: go-libaudit holds the field, syscall and
// architecture tables, so the wire format is built where it is tested
// against the kernel's own bytes.
func libauditRule(r auditrule.Rule) rule.Rule {
	if r.Kind == auditrule.Watch {
		var perms []rule.AccessType
		for _, c := range r.Perms {
			switch c {
			case 'r':
				perms = append(perms, rule.ReadAccessType)
			case 'w':
				perms = append(perms, rule.WriteAccessType)
			case 'x':
				perms = append(perms, rule.ExecuteAccessType)
			case 'a':
				perms = append(perms, rule.AttributeChangeAccessType)
			}
		}
		return &rule.FileWatchRule{Type: rule.FileWatchRuleType, Path: r.Path, Permissions: perms, Keys: r.Keys}
	}
	typ := rule.AppendSyscallRuleType
	if r.Prepend {
		typ = rule.PrependSyscallRuleType
	}
	filters := make([]rule.FilterSpec, len(r.Fields))
	for i, f := range r.Fields {
		ft := rule.ValueFilterType
		if f.Compare {
			ft = rule.InterFieldFilterType
		}
		filters[i] = rule.FilterSpec{Type: ft, LHS: f.Name, Comparator: f.Op, RHS: f.Value}
	}
	return &rule.SyscallRule{Type: typ, List: r.List, Action: r.Action, Filters: filters, Syscalls: r.Syscalls, Keys: r.Keys}
}

// DefaultRuleSet is the built-in rule set parsed. With connector (the
// proc connector is running) it leaves out the exit_group rules: the
// connector reports every exit, with its code, so auditing them too would
// write each exit twice and make the kernel build an audit record per
// exit for nothing. Without the connector they close each process.
func DefaultRuleSet(connector bool) (*RuleSet, error) {
	rs, err := ParseRules("built-in default.rules", strings.NewReader(DefaultRules))
	if err != nil || !connector {
		return rs, err
	}
	kept := rs.Rules[:0]
	for _, r := range rs.Rules {
		if !strings.Contains(r.Text, " -S exit_group ") {
			kept = append(kept, r)
		}
	}
	rs.Rules = kept
	return rs, nil
}

// DefaultRules is lineaged's built-in rule set (default.rules).
//
//go:embed default.rules
var DefaultRules string
