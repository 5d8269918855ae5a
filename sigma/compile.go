package sigma

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/elastic/go-libaudit/v2/auparse"
)

// A rule's detection is compiled into a tree of nodes whose leaves are
// searches; a search is an OR of AND-lists of field matchers.

type nodeOp uint8

const (
	opAnd nodeOp = iota
	opOr
	opNot
	opSearch
)

type node struct {
	op     nodeOp
	kids   []*node
	search *search
}

type search struct {
	anyOf [][]fieldMatcher // the search matches when every matcher of one list does
}

type fieldMatcher struct {
	slot int  // index of the field in the Set's field table
	all  bool // every value must match (|all), else any
	vals []valueMatcher
}

type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpContains
	cmpPrefix
	cmpSuffix
	cmpRe
	cmpGlob
)

type valueMatcher struct {
	op      cmpOp
	cased   bool   // compare case-sensitively (|cased, and always for |re)
	s       string // the needle, case-folded unless cased
	re      *regexp.Regexp
	glob    glob
	base    string // for a glob: the basename of every value it matches,
	hasBase bool   // when there is one (see globBase)
}

// compiler turns parsed rules into matchers, assigning each distinct
// (logsource, field) a slot of the Set's field table.
type compiler struct {
	slots   map[string]int
	getters []getter
	names   []string // field name of each slot
}

func (c *compiler) slot(ls, field string) (int, bool) {
	key := ls + "\x00" + field
	if i, ok := c.slots[key]; ok {
		return i, true
	}
	g, ok := lookupField(ls, field)
	if !ok {
		return 0, false
	}
	if c.slots == nil {
		c.slots = map[string]int{}
	}
	c.slots[key] = len(c.getters)
	c.getters = append(c.getters, g)
	c.names = append(c.names, field)
	return len(c.getters) - 1, true
}

// compile returns the detection tree of r, or why lineaged cannot evaluate
// it. (A rejected rule may leave slots no rule uses: they cost nothing, as
// fields are only read when a rule asks.)
func (c *compiler) compile(ls string, r *sigmago.Rule) (*node, error) {
	d := &r.Detection
	if len(d.Conditions) == 0 {
		return nil, fmt.Errorf("no condition")
	}
	for _, cond := range d.Conditions {
		if cond.Aggregation != nil {
			return nil, fmt.Errorf("aggregation conditions (count(), near, ...) are not supported")
		}
	}
	names := make([]string, 0, len(d.Searches))
	for name := range d.Searches {
		names = append(names, name)
	}
	sort.Strings(names)
	searches := make(map[string]*search, len(names))
	for _, name := range names {
		s, err := c.search(ls, d.Searches[name])
		if err != nil {
			return nil, fmt.Errorf("search %s: %w", name, err)
		}
		searches[name] = s
	}
	root := &node{op: opOr}
	for _, cond := range d.Conditions {
		n, err := condition(cond.Search, names, searches)
		if err != nil {
			return nil, err
		}
		root.kids = append(root.kids, n)
	}
	if len(root.kids) == 1 {
		return root.kids[0], nil
	}
	return root, nil
}

func condition(e sigmago.SearchExpr, names []string, searches map[string]*search) (*node, error) {
	leaf := func(name string) *node { return &node{op: opSearch, search: searches[name]} }
	// of expands "1 of"/"all of" a set of searches.
	of := func(op nodeOp, match func(string) bool, what string) (*node, error) {
		n := &node{op: op}
		for _, name := range names {
			if match(name) {
				n.kids = append(n.kids, leaf(name))
			}
		}
		if len(n.kids) == 0 {
			return nil, fmt.Errorf("condition: %s names no search", what)
		}
		return n, nil
	}
	them := func(name string) bool { return !strings.HasPrefix(name, "_") }
	pattern := func(p string) func(string) bool {
		return func(name string) bool { ok, _ := path.Match(p, name); return ok }
	}
	switch e := e.(type) {
	case sigmago.SearchIdentifier:
		if searches[e.Name] == nil {
			return nil, fmt.Errorf("condition: unknown search %q", e.Name)
		}
		return leaf(e.Name), nil
	case sigmago.OneOfIdentifier:
		return condition(e.Ident, names, searches)
	case sigmago.AllOfIdentifier:
		return condition(e.Ident, names, searches)
	case sigmago.OneOfThem:
		return of(opOr, them, "1 of them")
	case sigmago.AllOfThem:
		return of(opAnd, them, "all of them")
	case sigmago.OneOfPattern:
		return of(opOr, pattern(e.Pattern), "1 of "+e.Pattern)
	case sigmago.AllOfPattern:
		return of(opAnd, pattern(e.Pattern), "all of "+e.Pattern)
	case sigmago.Not:
		k, err := condition(e.Expr, names, searches)
		if err != nil {
			return nil, err
		}
		return &node{op: opNot, kids: []*node{k}}, nil
	case sigmago.And, sigmago.Or:
		n := &node{op: opAnd}
		list := []sigmago.SearchExpr(nil)
		if a, ok := e.(sigmago.And); ok {
			list = a
		} else {
			n.op, list = opOr, e.(sigmago.Or)
		}
		for _, x := range list {
			k, err := condition(x, names, searches)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
		}
		return n, nil
	}
	return nil, fmt.Errorf("condition: unsupported expression %T", e)
}

func (c *compiler) search(ls string, s sigmago.Search) (*search, error) {
	out := &search{}
	if len(s.Keywords) > 0 {
		slot, ok := c.slot(ls, "")
		if !ok {
			return nil, fmt.Errorf("keywords are not supported")
		}
		fm := fieldMatcher{slot: slot}
		for _, k := range s.Keywords {
			v, err := compileValue(k, cmpContains, false)
			if err != nil {
				return nil, err
			}
			fm.vals = append(fm.vals, v)
		}
		out.anyOf = append(out.anyOf, []fieldMatcher{fm})
		return out, nil
	}
	if len(s.EventMatchers) == 0 {
		return nil, fmt.Errorf("empty search")
	}
	for _, em := range s.EventMatchers {
		if len(em) == 0 {
			return nil, fmt.Errorf("empty search")
		}
		var and []fieldMatcher
		for _, f := range em {
			fm, err := c.field(ls, f)
			if err != nil {
				return nil, err
			}
			and = append(and, fm)
		}
		out.anyOf = append(out.anyOf, and)
	}
	return out, nil
}

func (c *compiler) field(ls string, f sigmago.FieldMatcher) (fieldMatcher, error) {
	slot, ok := c.slot(ls, f.Field)
	if !ok {
		return fieldMatcher{}, fmt.Errorf("unsupported field %s", f.Field)
	}
	fm := fieldMatcher{slot: slot}
	op, cased, isRe := cmpEq, false, false
	if f.Field == "" {
		op = cmpContains // a keyword list with modifiers ('|all': [...])
	}
	reFlags := ""
	for _, m := range f.Modifiers {
		switch m {
		case "contains":
			op = cmpContains
		case "startswith":
			op = cmpPrefix
		case "endswith":
			op = cmpSuffix
		case "re":
			isRe = true
		case "i", "m", "s":
			if !isRe {
				return fm, fmt.Errorf("modifier %s without re on field %s", m, f.Field)
			}
			reFlags += m
		case "all":
			fm.all = true
		case "cased":
			cased = true
		default:
			return fm, fmt.Errorf("unsupported modifier %s on field %s", m, f.Field)
		}
	}
	if len(f.Values) == 0 {
		return fm, fmt.Errorf("field %s has no value", f.Field)
	}
	for _, raw := range f.Values {
		var v valueMatcher
		var err error
		switch {
		case isRe:
			s, ok := raw.(string)
			if !ok {
				return fm, fmt.Errorf("field %s: regular expression is not a string", f.Field)
			}
			if reFlags != "" {
				s = "(?" + reFlags + ")" + s
			}
			v.op, v.cased = cmpRe, true
			if v.re, err = regexp.Compile(s); err != nil {
				return fm, fmt.Errorf("field %s: regular expression Go cannot compile: %v", f.Field, err)
			}
		case f.Field == "syscall" && isNumber(raw):
			return fm, fmt.Errorf("syscall numbers are not supported (lineaged keeps syscall names: use SYSCALL)")
		default:
			if f.Field == "exit" && ls == lsAuditd {
				raw = errnoName(raw)
			}
			if v, err = compileValue(raw, op, cased); err != nil {
				return fm, fmt.Errorf("field %s: %w", f.Field, err)
			}
		}
		fm.vals = append(fm.vals, v)
	}
	return fm, nil
}

// errnoName turns a failed syscall's exit value (-13) into the errno name
// lineaged records for it (EACCES).
func errnoName(v any) any {
	n, err := strconv.Atoi(fmt.Sprint(v))
	if name := auparse.AuditErrnoToName[-n]; err == nil && n < 0 && name != "" {
		return name
	}
	return v
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int64, uint64, float64:
		return true
	}
	return false
}

// compileValue compiles one Sigma value: a string with Sigma's wildcards
// (* any run, ? one character, \ escaping them) or a scalar compared as
// its text. null (a YAML ~) matches an empty or missing field.
func compileValue(raw any, op cmpOp, cased bool) (valueMatcher, error) {
	var s string
	switch x := raw.(type) {
	case nil:
		return valueMatcher{op: cmpEq}, nil
	case string:
		s = x
	case int, int64, uint64, float64, bool:
		s = fmt.Sprint(x)
	default:
		return valueMatcher{}, fmt.Errorf("unsupported value type %T", raw)
	}
	if !cased {
		s = fold(s) // '*', '?' and '\\' fold to themselves
	}
	g, wild := parseGlob(s)
	if !wild {
		var lit strings.Builder
		for _, t := range g {
			lit.WriteRune(t.r)
		}
		return valueMatcher{op: op, cased: cased, s: lit.String()}, nil
	}
	star := globTok{kind: '*'}
	switch op {
	case cmpContains:
		g = append(append(glob{star}, g...), star)
	case cmpPrefix:
		g = append(g, star)
	case cmpSuffix:
		g = append(glob{star}, g...)
	}
	base, ok := globBase(g)
	return valueMatcher{op: cmpGlob, cased: cased, glob: g, base: base, hasBase: ok}, nil
}

// A glob is a Sigma wildcard pattern matched against a whole value.
type glob []globTok

type globTok struct {
	kind byte // 0 the literal r, '*' any run, '?' any one character
	r    rune
}

// parseGlob reads Sigma's wildcards: \*, \? and \\ are the literal
// characters, any other backslash is itself.
func parseGlob(s string) (g glob, wild bool) {
	for _, r := range s {
		g = append(g, globTok{r: r})
	}
	out := g[:0]
	for i := 0; i < len(g); i++ {
		t := g[i]
		switch {
		case t.r == '\\' && i+1 < len(g) && strings.ContainsRune(`*?\`, g[i+1].r):
			i++
			t = g[i]
		case t.r == '*' || t.r == '?':
			t.kind, wild = byte(t.r), true
		}
		out = append(out, t)
	}
	return out, wild
}

// globBase returns the basename every value a whole-value glob matches
// has: the text after its last '/', when that text holds no wildcard.
func globBase(g glob) (string, bool) {
	for i := len(g) - 1; i >= 0; i-- {
		if g[i].kind != 0 {
			return "", false
		}
		if g[i].r == '/' {
			var b strings.Builder
			for _, t := range g[i+1:] {
				b.WriteRune(t.r)
			}
			return b.String(), true
		}
	}
	return "", false
}

func (g glob) match(s string) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(g) && g[p].kind == '*' {
			starP, starI = p, i
			p++
			continue
		}
		if p < len(g) {
			r, n := utf8.DecodeRuneInString(s[i:])
			if g[p].kind == '?' || g[p].r == r {
				p++
				i += n
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last star take one more character and retry.
		_, n := utf8.DecodeRuneInString(s[starI:])
		starI += n
		p, i = starP+1, starI
	}
	for p < len(g) && g[p].kind == '*' {
		p++
	}
	return p == len(g)
}
