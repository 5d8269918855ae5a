// Package ecs holds lineaged's JSON lines to the Elastic Common Schema:
// it reads Elastic's own field list (ecs_flat.yml, ECS 9.4 in
// ../shared/testdata/public/ecs) and checks that every member of a line
// is either an ECS field with ECS's type and allowed values, or under
// lineaged.* (lineaged's own) or auditd.* (Auditbeat's raw audit fields),
// plus Auditbeat's user.audit.*, the one exception SPEC §5 allows; and
// that labels.* are strings.
//
// The tests of every package that writes lines (output, replay, the
// integration runs) pass their output through Check, and `lineaged
// schema` builds its index template from event.Fields, whose ECS types a
// test compares with this list.
package ecs

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Field is one ECS field of ecs_flat.yml.
type Field struct {
	Name      string
	Type      string   // keyword, long, date, ip, ...
	Normalize []string // "array" when the field holds a list
	Allowed   map[string][]string
}

// Schema is ECS's field list.
type Schema struct {
	Fields map[string]*Field
}

type rawField struct {
	Type          string   `yaml:"type"`
	Normalize     []string `yaml:"normalize"`
	AllowedValues []struct {
		Name               string   `yaml:"name"`
		ExpectedEventTypes []string `yaml:"expected_event_types"`
	} `yaml:"allowed_values"`
}

// Load reads ecs_flat.yml.
func Load(path string) (*Schema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ecs: %w", err)
	}
	var raw map[string]rawField
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("ecs: %s: %w", path, err)
	}
	s := &Schema{Fields: make(map[string]*Field, len(raw))}
	for name, r := range raw {
		f := &Field{Name: name, Type: r.Type, Normalize: r.Normalize}
		if len(r.AllowedValues) > 0 {
			f.Allowed = map[string][]string{}
			for _, v := range r.AllowedValues {
				f.Allowed[v.Name] = v.ExpectedEventTypes
			}
		}
		s.Fields[name] = f
	}
	if s.Fields["@timestamp"] == nil || s.Fields["event.category"] == nil {
		return nil, fmt.Errorf("ecs: %s is not ECS's ecs_flat.yml (no @timestamp or event.category)", path)
	}
	return s, nil
}

// Find returns the path of ecs_flat.yml beside the repository holding dir
// (../shared/testdata/public/ecs/ecs_flat.yml from the directory with
// go.mod).
func Find(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(d, "..", "shared", "testdata", "public", "ecs", "ecs_flat.yml")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("ecs: %w", err)
			}
			return p, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", fmt.Errorf("ecs: no go.mod above %s", dir)
		}
		d = up
	}
}

// JSONKind is what a member of a line is in JSON.
type JSONKind string

// JSON kinds.
const (
	KindString  JSONKind = "string"
	KindNumber  JSONKind = "number"
	KindBool    JSONKind = "boolean"
	KindStrings JSONKind = "string[]"
	KindNumbers JSONKind = "number[]"
	KindObjects JSONKind = "object[]"
	KindNull    JSONKind = "null"
	KindMixed   JSONKind = "mixed[]"
)

// Own reports whether path is outside ECS's jurisdiction: lineaged's own
// (lineaged.*), Auditbeat's (auditd.*, user.audit.*).
func Own(path string) bool {
	return strings.HasPrefix(path, "lineaged.") || strings.HasPrefix(path, "auditd.") || strings.HasPrefix(path, "user.audit.")
}

// Check returns what in one JSON line is not ECS 9.4 (nil when all is).
func (s *Schema) Check(line []byte) []string {
	var v map[string]any
	d := json.NewDecoder(strings.NewReader(string(line)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return []string{"not a JSON object: " + err.Error()}
	}
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	if _, ok := v["@timestamp"]; !ok {
		bad("no @timestamp")
	}
	if ev, _ := v["ecs"].(map[string]any); ev == nil || ev["version"] == nil {
		bad("no ecs.version")
	}
	walk("", v, func(path string, kind JSONKind, val any) {
		s.checkMember(path, kind, val, bad)
	})
	s.checkEvent(v, bad)
	sort.Strings(problems)
	return problems
}

// walk calls fn for every leaf (and every array of objects) of v.
func walk(prefix string, v any, fn func(path string, kind JSONKind, val any)) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			walk(join(k), y, fn)
		}
	case []any:
		kind := arrayKind(x)
		fn(prefix, kind, x)
		if kind == KindObjects {
			for _, y := range x {
				walk(prefix, y, fn)
			}
		}
	case string:
		fn(prefix, KindString, x)
	case json.Number:
		fn(prefix, KindNumber, x)
	case bool:
		fn(prefix, KindBool, x)
	default:
		fn(prefix, KindNull, x)
	}
}

func arrayKind(x []any) JSONKind {
	var k JSONKind
	for _, y := range x {
		var e JSONKind
		switch y.(type) {
		case string:
			e = KindStrings
		case json.Number:
			e = KindNumbers
		case map[string]any:
			e = KindObjects
		default:
			return KindMixed
		}
		if k != "" && e != k {
			return KindMixed
		}
		k = e
	}
	if k == "" {
		return KindStrings
	}
	return k
}

func (s *Schema) checkMember(path string, kind JSONKind, val any, bad func(string, ...any)) {
	if strings.HasPrefix(path, "labels.") {
		if kind != KindString {
			bad("%s is %s: labels.* values are strings", path, kind)
		}
		return
	}
	if Own(path) {
		if kind == KindNull || kind == KindMixed {
			bad("%s is %s", path, kind)
		}
		return
	}
	f := s.Fields[path]
	if f == nil {
		bad("%s is not an ECS field (nor lineaged.*, auditd.* or user.audit.*)", path)
		return
	}
	array := kind == KindStrings || kind == KindNumbers
	if array && !contains(f.Normalize, "array") {
		bad("%s is an array; ECS %s holds one value", path, path)
	}
	elem := kind
	switch kind {
	case KindStrings:
		elem = KindString
	case KindNumbers:
		elem = KindNumber
	}
	if want := jsonKindOf(f.Type); want != elem {
		bad("%s is %s; ECS types it %s (%s)", path, kind, f.Type, want)
		return
	}
	vals := []any{val}
	if a, ok := val.([]any); ok {
		vals = a
	}
	for _, x := range vals {
		s.checkValue(f, x, bad)
	}
}

// checkValue checks one value against its ECS type and allowed values.
func (s *Schema) checkValue(f *Field, x any, bad func(string, ...any)) {
	switch f.Type {
	case "ip":
		if _, err := netip.ParseAddr(fmt.Sprint(x)); err != nil {
			bad("%s %q is not an IP address", f.Name, x)
		}
	case "date":
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(x)); err != nil {
			bad("%s %q is not an RFC 3339 date", f.Name, x)
		}
	case "long", "integer", "short", "byte", "unsigned_long":
		if _, err := x.(json.Number).Int64(); err != nil {
			bad("%s %v is not an integer", f.Name, x)
		}
	}
	if f.Allowed != nil {
		if _, ok := f.Allowed[fmt.Sprint(x)]; !ok {
			bad("%s %q is not one of ECS's allowed values", f.Name, x)
		}
	}
	if f.Name == "network.direction" && !contains([]string{"ingress", "egress", "inbound", "outbound", "internal", "external", "unknown"}, fmt.Sprint(x)) {
		bad("network.direction %q is not one of ECS's expected values", x)
	}
}

// checkEvent checks that each event.type is one ECS expects for the
// line's event.category.
func (s *Schema) checkEvent(v map[string]any, bad func(string, ...any)) {
	ev, _ := v["event"].(map[string]any)
	if ev == nil {
		bad("no event object")
		return
	}
	cats, _ := ev["category"].([]any)
	types, _ := ev["type"].([]any)
	cat := s.Fields["event.category"]
	for _, t := range types {
		ok := len(cats) == 0
		for _, c := range cats {
			if contains(cat.Allowed[fmt.Sprint(c)], fmt.Sprint(t)) {
				ok = true
			}
		}
		if !ok {
			bad("event.type %v is not one ECS expects for event.category %v", t, cats)
		}
	}
}

func jsonKindOf(ecsType string) JSONKind {
	switch ecsType {
	case "long", "integer", "short", "byte", "unsigned_long", "float", "double", "scaled_float", "half_float":
		return KindNumber
	case "boolean":
		return KindBool
	case "object", "nested", "flattened":
		return KindObjects
	}
	return KindString
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
