package sigma

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Most rules can only match when one field has one of a few values: an
// Image ending in /nc or /ncat, a record type EXECVE. Such a necessary
// condition is a gate: the basename (text after the last '/') of one of the
// field's values, case-folded, is one of the keys. Match looks the event's
// basenames up and evaluates only the rules they open, plus the rules
// without a gate.

// ruleList is the rules of one logsource in path order, indexed by gate.
type ruleList struct {
	rules  []*rule
	always []int       // rules without a gate
	gates  []gateIndex // the others, by the field their gate is on
}

type gateIndex struct {
	slot  int
	rules map[string][]int // folded basename → rules it opens
}

// index builds the gate index; names are the field names of the slots.
func (l *ruleList) index(names []string) {
	sort.SliceStable(l.rules, func(i, j int) bool { return l.rules[i].info.Path < l.rules[j].info.Path })
	bySlot := map[int]int{} // slot → position in l.gates
	for i, r := range l.rules {
		slot, keys := -1, map[string]bool(nil)
		for s, k := range gateOf(r.root) {
			if slot < 0 || betterGate(names[s] == "type", len(k), s, names[slot] == "type", len(keys), slot) {
				slot, keys = s, k
			}
		}
		if slot < 0 {
			l.always = append(l.always, i)
			continue
		}
		p, ok := bySlot[slot]
		if !ok {
			p = len(l.gates)
			bySlot[slot] = p
			l.gates = append(l.gates, gateIndex{slot: slot, rules: map[string][]int{}})
		}
		for k := range keys {
			l.gates[p].rules[k] = append(l.gates[p].rules[k], i)
		}
	}
}

// betterGate orders a rule's gates: any field before the record type
// (every exec has an EXECVE record, every file event a PATH one), then
// fewer keys, then the lower slot (for a stable choice).
func betterGate(aType bool, aKeys, aSlot int, bType bool, bKeys, bSlot int) bool {
	if aType != bType {
		return bType
	}
	if aKeys != bKeys {
		return aKeys < bKeys
	}
	return aSlot < bSlot
}

type gate map[int]map[string]bool // slot → keys; any one slot's condition is necessary

// gateOf returns the necessary gates of a detection tree (nil if none).
func gateOf(n *node) gate {
	switch n.op {
	case opNot:
		return nil
	case opAnd:
		g := gate{}
		for _, k := range n.kids {
			g.and(gateOf(k))
		}
		return g
	case opOr:
		var g gate
		for i, k := range n.kids {
			if i == 0 {
				g = gateOf(k)
			} else {
				g = g.or(gateOf(k))
			}
		}
		return g
	}
	var g gate
	for i, list := range n.search.anyOf {
		lg := gate{}
		for j := range list {
			if slot, keys := matcherGate(&list[j]); keys != nil {
				lg.and(gate{slot: keys})
			}
		}
		if i == 0 {
			g = lg
		} else {
			g = g.or(lg)
		}
	}
	return g
}

// and records that both g and h are necessary: every gate of either is.
func (g gate) and(h gate) {
	for slot, keys := range h {
		if old, ok := g[slot]; !ok || len(keys) < len(old) {
			g[slot] = keys
		}
	}
}

// or returns the gates necessary for g or h: same-slot gates, keys united.
func (g gate) or(h gate) gate {
	out := gate{}
	for slot, keys := range g {
		if hk, ok := h[slot]; ok {
			u := make(map[string]bool, len(keys)+len(hk))
			for k := range keys {
				u[k] = true
			}
			for k := range hk {
				u[k] = true
			}
			out[slot] = u
		}
	}
	return out
}

// matcherGate returns the basenames one of which a field must have for the
// matcher to match: its values are all whole values, suffixes holding a '/',
// or globs whose text after the last '/' is literal.
func matcherGate(fm *fieldMatcher) (int, map[string]bool) {
	keys := map[string]bool{}
	for _, v := range fm.vals {
		switch {
		case v.op == cmpEq:
			keys[fold(basename(v.s))] = true
		case v.op == cmpSuffix && strings.Contains(v.s, "/"):
			keys[fold(basename(v.s))] = true
		case v.op == cmpGlob && v.hasBase:
			keys[fold(v.base)] = true
		default:
			return 0, nil
		}
	}
	return fm.slot, keys
}

func basename(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }

// fold maps s to a canonical case: strings.EqualFold(a, b) exactly when
// fold(a) == fold(b). Each rune becomes the lower case of the smallest rune
// of its Unicode case-folding orbit (plain lower case for ASCII).
func fold(s string) string {
	if folded(s) {
		return s
	}
	if isASCII(s) {
		return strings.ToLower(s)
	}
	return strings.Map(func(r rune) rune {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		return unicode.ToLower(min)
	}, s)
}

// folded reports whether s is ASCII without upper case: fold(s) == s.
func folded(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
