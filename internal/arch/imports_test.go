package arch

import (
	"sort"
	"strings"
	"testing"
)

// Layers of SPEC §8 (amended: feature and internal are ground floor).
// Data flows one way: kernel → source → event → graph → detections →
// outputs; agent wires them, cmd parses flags.
var (
	ground  = []string{"event", "feature", "internal/*"}
	sources = []string{"audit", "proc", "fanotify", "netlink"}
)

// allowed lists, per package (a trailing /* covers a tree), the packages
// of this module it may import. A package of the module that is not
// listed fails the test: a new package must be given its place.
var allowed = map[string][]string{
	// Ground floor: nothing above it.
	"event":      ground,
	"feature":    ground,
	"internal/*": ground,
	// Leaves of the ground floor: nothing of lineaged, or only the
	// helpers named.
	"internal/accounts": {},
	"internal/hostinfo": {"internal/atomicfile"},
	// One kernel interface each: the ground floor only, never another
	// source, never the graph (what a source needs of another, such as
	// the boot id, the agent passes in).
	"audit":    ground,
	"proc":     ground,
	"fanotify": ground,
	"netlink":  ground,
	// The lineage graph: the only process table.
	"graph": ground,
	// Judging enriched events.
	"baseline": ground,
	"sigma":    ground,
	"detect":   append([]string{"graph", "baseline"}, ground...),
	// Writing and presenting: never the kernel. report reads JSON lines.
	"output":    ground,
	"auditlog":  ground,
	"syslogout": ground,
	"kafkaout":  ground,
	"report":    ground,
	"ui":        append([]string{"graph"}, ground...),
	// Plain data and the host's audit daemon.
	"config": ground,
	"auditd": ground,
	// The wiring, and the command line above it.
	"agent": append(append([]string{"graph", "baseline", "sigma", "detect", "output", "auditlog", "syslogout", "kafkaout", "ui", "config", "auditd"}, sources...), ground...),
	"cmd/*": {"*"},
	// Tests and tools stand outside the layers.
	"integration":   {"*"},
	"integration/*": {"*"},
	"tools/*":       {"*"},
	"bench/*":       {"*"},
}

// TestImports fails on an import the layers do not allow.
func TestImports(t *testing.T) {
	for _, p := range loadModule(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.PkgPath, module), "/")
		rule, ok := ruleFor(rel)
		if !ok {
			t.Errorf("package %s has no place in internal/arch's layers: add it to allowed", rel)
			continue
		}
		var bad []string
		for path := range p.Imports {
			if !strings.HasPrefix(path, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(path, module+"/")
			if !matchAny(rule, dep) {
				bad = append(bad, dep)
			}
		}
		sort.Strings(bad)
		may := strings.Join(rule, ", ")
		if may == "" {
			may = "nothing of lineaged"
		}
		for _, dep := range bad {
			t.Errorf("%s imports %s, which its layer does not allow (SPEC §8; allowed: %s)", rel, dep, may)
		}
	}
}

// ruleFor finds the rule of a package: its own entry, else the nearest
// "dir/*" above it.
func ruleFor(rel string) ([]string, bool) {
	if r, ok := allowed[rel]; ok {
		return r, true
	}
	for dir := rel; dir != "."; {
		i := strings.LastIndex(dir, "/")
		if i < 0 {
			break
		}
		dir = dir[:i]
		if r, ok := allowed[dir+"/*"]; ok {
			return r, true
		}
	}
	return nil, false
}

func matchAny(patterns []string, dep string) bool {
	for _, p := range patterns {
		switch {
		case p == "*" || p == dep:
			return true
		case strings.HasSuffix(p, "/*") && strings.HasPrefix(dep, strings.TrimSuffix(p, "*")):
			return true
		}
	}
	return false
}
