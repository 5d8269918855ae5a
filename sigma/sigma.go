package sigma

import (
	"fmt"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	sigmago "github.com/bradleyjkemp/sigma-go"

	"github.com/lineaged/lineaged/event"
)

// Logsources lineaged evaluates (RuleInfo.Logsource).
const (
	lsProcess = "process_creation"
	lsAuditd  = "auditd"
)

// maxRuleSize bounds a rule file; Sigma rules are a few kilobytes.
const maxRuleSize = 1 << 20

// Set is a loaded set of Sigma rules. It is immutable after Load and safe
// for concurrent use.
type Set struct {
	rules   []RuleInfo
	skipped []Skipped

	process ruleList // process_creation: exec events
	auditd  ruleList // auditd: every event

	getters []getter  // field table, indexed by fieldMatcher.slot
	pool    sync.Pool // *state
}

// RuleInfo describes a loaded rule.
type RuleInfo struct {
	ID, Title, Path, Level string
	Logsource              string         // "process_creation" or "auditd"
	Severity               event.Severity // informational 0 (do not alert), low 1, medium 2, high 3, critical 4
	Techniques             []string       // MITRE ATT&CK technique ids from the tags (T1059.004)
}

// Skipped is a rule file Load did not load, and why.
type Skipped struct{ Path, ID, Title, Reason string }

// Match is a rule an event matched.
type Match struct{ RuleInfo }

type rule struct {
	info RuleInfo
	root *node
}

var severities = map[string]event.Severity{"informational": event.SeverityInfo, "low": event.SeverityLow, "medium": event.SeverityMedium, "high": event.SeverityHigh, "critical": event.SeverityCritical}

var techniqueTag = regexp.MustCompile(`^attack\.t(\d{4}(\.\d{3})?)$`)

// Load reads every *.yml and *.yaml file below each dir. A rule lineaged
// cannot evaluate is listed by Skipped with the reason; Load fails only when
// a dir cannot be read at all.
func Load(dirs ...string) (*Set, error) {
	s := &Set{}
	c := &compiler{}
	seen := map[string]string{} // rule id → path
	for _, dir := range dirs {
		if _, err := os.ReadDir(dir); err != nil {
			return nil, fmt.Errorf("sigma: %w", err)
		}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				s.skip(Skipped{Path: p, Reason: "cannot read: " + oneLine(err.Error())})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			ext := strings.ToLower(filepath.Ext(p))
			if d.IsDir() || (ext != ".yml" && ext != ".yaml") {
				return nil
			}
			r, sk := load(c, p)
			if sk != nil {
				s.skip(*sk)
				return nil
			}
			if r.info.ID != "" {
				if first, ok := seen[r.info.ID]; ok {
					s.skip(Skipped{Path: p, ID: r.info.ID, Title: r.info.Title, Reason: "duplicate rule id (also " + first + ")"})
					return nil
				}
				seen[r.info.ID] = p
			}
			s.rules = append(s.rules, r.info)
			if r.info.Logsource == lsProcess {
				s.process.rules = append(s.process.rules, r)
			} else {
				s.auditd.rules = append(s.auditd.rules, r)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("sigma: %w", err)
		}
	}
	s.getters = c.getters
	sort.SliceStable(s.rules, func(i, j int) bool { return s.rules[i].Path < s.rules[j].Path })
	sort.SliceStable(s.skipped, func(i, j int) bool { return s.skipped[i].Path < s.skipped[j].Path })
	s.process.index(c.names)
	s.auditd.index(c.names)
	n, nr := len(s.getters), max(len(s.process.rules), len(s.auditd.rules))
	s.pool.New = func() any { return newState(n, nr) }
	return s, nil
}

func (s *Set) skip(sk Skipped) { s.skipped = append(s.skipped, sk) }

// load reads and compiles one rule file.
func load(c *compiler, p string) (r *rule, sk *Skipped) {
	sk = &Skipped{Path: p}
	fi, err := os.Stat(p)
	if err == nil && fi.Size() > maxRuleSize {
		sk.Reason = fmt.Sprintf("file larger than %d bytes", maxRuleSize)
		return nil, sk
	}
	b, err := os.ReadFile(p)
	if err != nil {
		sk.Reason = "cannot read: " + oneLine(err.Error())
		return nil, sk
	}
	sr, err := parse(b)
	if err != nil {
		sk.Reason = oneLine(err.Error())
		return nil, sk
	}
	sk.ID, sk.Title = sr.ID, oneLine(sr.Title)
	info := RuleInfo{ID: sr.ID, Title: sk.Title, Path: p, Level: sr.Level}
	ls := sr.Logsource
	switch {
	case ls.Product == "linux" && ls.Category == lsProcess && ls.Service == "":
		info.Logsource = lsProcess
	case ls.Product == "linux" && ls.Service == lsAuditd && ls.Category == "":
		info.Logsource = lsAuditd
	default:
		sk.Reason = oneLine(fmt.Sprintf("logsource product=%q category=%q service=%q not supported (only linux process_creation and linux auditd)",
			ls.Product, ls.Category, ls.Service))
		return nil, sk
	}
	sev, ok := severities[strings.ToLower(sr.Level)]
	switch {
	case sr.Level == "":
		sev = severities["medium"]
	case !ok:
		sk.Reason = oneLine(fmt.Sprintf("unknown level %q", sr.Level))
		return nil, sk
	}
	info.Severity = sev
	for _, t := range sr.Tags {
		if m := techniqueTag.FindStringSubmatch(strings.ToLower(t)); m != nil {
			info.Techniques = appendUnique(info.Techniques, "T"+m[1])
		}
	}
	root, err := c.compile(info.Logsource, &sr)
	if err != nil {
		sk.Reason = oneLine(err.Error())
		return nil, sk
	}
	return &rule{info: info, root: root}, nil
}

// parse runs sigma-go's parser, which may panic on odd input.
func parse(b []byte) (r sigmago.Rule, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parser panicked: %v", p)
		}
	}()
	r, err = sigmago.ParseRule(b)
	if err != nil && strings.Contains(err.Error(), "time.Duration") {
		// sigma-go fails on a detection timeframe; it only serves
		// aggregations, which lineaged does not evaluate anyway.
		return r, fmt.Errorf("detection timeframe (aggregation over time) is not supported")
	}
	if err != nil {
		return r, fmt.Errorf("cannot parse: %w", err)
	}
	if r.Title == "" && len(r.Detection.Searches) == 0 && len(r.Detection.Conditions) == 0 {
		return r, fmt.Errorf("not a Sigma rule (no title, no detection)")
	}
	return r, nil
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// Rules returns the loaded rules, sorted by path.
func (s *Set) Rules() []RuleInfo { return slices.Clone(s.rules) }

// Skipped returns the rule files not loaded, sorted by path.
func (s *Set) Skipped() []Skipped { return slices.Clone(s.skipped) }

// Match returns the rules e matches, in path order. process_creation rules
// see only exec events (action "executed", not failed); auditd rules see
// every event. Alerts are not matched.
func (s *Set) Match(e *event.Event) []Match {
	if s == nil || e == nil || e.Kind == event.KindAlert {
		return nil
	}
	exec := e.Action == event.ActionExecuted && e.Outcome != event.OutcomeFailure
	if len(s.auditd.rules) == 0 && (!exec || len(s.process.rules) == 0) {
		return nil
	}
	st := s.pool.Get().(*state)
	st.reset(e, s.getters)
	var out []Match
	if exec {
		out = st.run(&s.process, out)
	}
	out = st.run(&s.auditd, out)
	st.reset(nil, nil) // drop the event pointer
	s.pool.Put(st)
	return out
}

// state is the per-event cache of field values, filled on first use.
type state struct {
	e          *event.Event
	getters    []getter
	have       []bool
	vals       [][]string
	haveFolded []bool
	folded     [][]string
	cand       []uint64 // bit set of the rules to evaluate
	foldCache  map[string]string
}

func newState(fields, rules int) *state {
	return &state{have: make([]bool, fields), vals: make([][]string, fields),
		haveFolded: make([]bool, fields), folded: make([][]string, fields), cand: make([]uint64, (rules+63)/64),
		foldCache: map[string]string{}}
}

func (st *state) reset(e *event.Event, g []getter) {
	st.e, st.getters = e, g
	clear(st.have)
	clear(st.haveFolded)
}

// run evaluates the rules of l the event's gates open, in path order.
func (st *state) run(l *ruleList, out []Match) []Match {
	if len(l.rules) == 0 {
		return out
	}
	cand := st.cand[:(len(l.rules)+63)/64]
	clear(cand)
	for _, i := range l.always {
		cand[i/64] |= 1 << (i % 64)
	}
	for _, g := range l.gates {
		for _, v := range st.foldedValues(g.slot) {
			for _, i := range g.rules[basename(v)] {
				cand[i/64] |= 1 << (i % 64)
			}
		}
	}
	for w, word := range cand {
		for word != 0 {
			i := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if r := l.rules[i]; st.eval(r.root) {
				out = append(out, Match{r.info})
			}
		}
	}
	return out
}

// values returns the field's values; a field without one reads as "".
func (st *state) values(slot int) []string {
	if !st.have[slot] {
		v := st.getters[slot](st.e, st.vals[slot][:0])
		if len(v) == 0 {
			v = append(v, "")
		}
		st.vals[slot], st.have[slot] = v, true
	}
	return st.vals[slot]
}

// foldedValues returns the field's values case-folded.
func (st *state) foldedValues(slot int) []string {
	if !st.haveFolded[slot] {
		f := st.folded[slot][:0]
		for _, v := range st.values(slot) {
			f = append(f, st.fold(v))
		}
		st.folded[slot], st.haveFolded[slot] = f, true
	}
	return st.folded[slot]
}

// fold is fold with a bounded cache of the short values that need a copy
// (record types, names): they repeat from event to event.
func (st *state) fold(v string) string {
	if len(v) > 32 || folded(v) {
		return fold(v)
	}
	f, ok := st.foldCache[v]
	if !ok {
		if len(st.foldCache) >= 1024 {
			clear(st.foldCache)
		}
		f = fold(v)
		st.foldCache[v] = f
	}
	return f
}

func (st *state) eval(n *node) bool {
	switch n.op {
	case opAnd:
		for _, k := range n.kids {
			if !st.eval(k) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if st.eval(k) {
				return true
			}
		}
		return false
	case opNot:
		return !st.eval(n.kids[0])
	}
next:
	for _, and := range n.search.anyOf {
		for i := range and {
			if !st.field(&and[i]) {
				continue next
			}
		}
		return true
	}
	return false
}

func (st *state) field(fm *fieldMatcher) bool {
	raw := st.values(fm.slot)
	var folded []string
	for i := range fm.vals {
		vm := &fm.vals[i]
		vals := raw
		if !vm.cased {
			if folded == nil {
				folded = st.foldedValues(fm.slot)
			}
			vals = folded
		}
		hit := false
		for _, v := range vals {
			if vm.match(v) {
				hit = true
				break
			}
		}
		if hit != fm.all {
			return hit // any: the first hit wins; all: the first miss loses
		}
	}
	return fm.all
}

// match compares one event value, case-folded unless vm.cased.
func (vm *valueMatcher) match(v string) bool {
	switch vm.op {
	case cmpEq:
		return v == vm.s
	case cmpContains:
		return strings.Contains(v, vm.s)
	case cmpPrefix:
		return strings.HasPrefix(v, vm.s)
	case cmpSuffix:
		return strings.HasSuffix(v, vm.s)
	case cmpGlob:
		return vm.glob.match(v)
	}
	return vm.re.MatchString(v)
}
