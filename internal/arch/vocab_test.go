package arch

import (
	"go/ast"
	"go/types"
	"strings"
	"testing"
)

const eventPath = module + "/event"

// vocabTypes are the event package's vocabulary types.
var vocabTypes = map[string]bool{"Category": true, "Type": true, "Action": true, "Outcome": true, "Module": true, "Severity": true}

// TestVocabulary fails on a literal that becomes one of the vocabulary
// types outside event/vocab.go, such as Action: "executed" or
// e.Outcome == "success": it must name the constant (event.ActionExecuted),
// so that a value changed in one place is changed in all. Tests may pin
// wire values with literals; the empty string (no value) is allowed.
func TestVocabulary(t *testing.T) {
	for _, p := range loadModule(t) {
		for _, f := range p.Syntax {
			name := p.Fset.Position(f.Pos()).Filename
			if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "/event/vocab.go") {
				continue
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Value == `""` {
					return true
				}
				tv, ok := p.TypesInfo.Types[lit]
				if !ok {
					return true
				}
				named, ok := tv.Type.(*types.Named)
				if !ok || named.Obj().Pkg() == nil || named.Obj().Pkg().Path() != eventPath || !vocabTypes[named.Obj().Name()] {
					return true
				}
				t.Errorf("%s: literal %s used as event.%s: name its constant in event/vocab.go (add one if it is new)",
					p.Fset.Position(lit.Pos()), lit.Value, named.Obj().Name())
				return true
			})
		}
	}
}
