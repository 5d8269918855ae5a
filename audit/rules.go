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
	"github.com/elastic/go-libaudit/v2/rule/flags"
)

// RuleSet is a parsed set of audit rules in auditctl syntax: the rules in
// kernel wire format, in load order, and the control settings the files
// carry, which go-libaudit's rule parser leaves to its caller.
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
	fields := strings.Fields(line)
	// Control lines (auditctl options that are not rules).
	num := func(min, max uint64) (*uint32, error) {
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s takes one number", fields[0])
		}
		v, err := strconv.ParseUint(fields[1], 10, 32)
		if err != nil || v < min || v > max {
			return nil, fmt.Errorf("%s %q: want a number from %d to %d", fields[0], fields[1], min, max)
		}
		u := uint32(v)
		return &u, nil
	}
	var err error
	switch fields[0] {
	case "-D":
		if len(fields) == 1 {
			rs.DeleteAll = true
			rs.Rules = nil // what came before is deleted too
			return nil
		}
		// -D -k key: delete by key, not supported as a control line.
		return fail(errors.New("-D with arguments (delete by key) is not supported in rule files"))
	case "-b":
		rs.BacklogLimit, err = num(0, 1<<31)
	case "-f":
		rs.Failure, err = num(0, 2)
	case "-r":
		rs.RateLimit, err = num(0, 1<<31)
	case "-e":
		rs.Enabled, err = num(0, 2)
	case "--backlog_wait_time":
		rs.BacklogWaitTime, err = num(0, 600000)
	case "-i", "-c", "--loginuid-immutable", "--reset-lost", "--reset_backlog_wait_time_actual":
		// auditctl options that do not change the rule set: ignore -i
		// (ignore errors) and -c (continue) like augenrules; the rest are
		// reported as skipped so the operator sees them.
		if fields[0] != "-i" && fields[0] != "-c" {
			rs.Skipped = append(rs.Skipped, RuleError{File: name, Line: n, Text: line, Err: errors.New("option not applied by lineaged")})
		}
		return nil
	default:
		r, perr := flags.Parse(line)
		if perr != nil {
			return fail(perr)
		}
		wire, berr := rule.Build(r)
		if berr != nil {
			// Syscalls unknown on this arch (e.g. b32-only names) are
			// skipped with the reason, not fatal: rule sets are shared
			// across architectures.
			if strings.Contains(berr.Error(), "unknown syscall") {
				rs.Skipped = append(rs.Skipped, RuleError{File: name, Line: n, Text: line, Err: berr})
				return nil
			}
			return fail(berr)
		}
		rs.Rules = append(rs.Rules, LoadedRule{Text: line, File: name + ":" + strconv.Itoa(n), Wire: wire})
		return nil
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// DefaultRules is lineaged's built-in rule set (default.rules).
//
//go:embed default.rules
var DefaultRules string
