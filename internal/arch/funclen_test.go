package arch

import (
	"go/ast"
	"strings"
	"testing"
)

// maxFuncLines bounds a function in the wiring (agent, cmd): one a
// reader can hold in mind. The leaves are judged by review, not by a
// number: a decoder's switch over every record type reads best whole.
const maxFuncLines = 80

// TestFunctionLength fails on a function (or method, or function
// literal's enclosing declaration) in agent/ or cmd/ longer than
// maxFuncLines, counted from its func line to its closing brace.
func TestFunctionLength(t *testing.T) {
	for _, p := range loadModule(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.PkgPath, module), "/")
		if rel != "agent" && !strings.HasPrefix(rel, "cmd/") {
			continue
		}
		for _, f := range p.Syntax {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				start, end := p.Fset.Position(fn.Pos()), p.Fset.Position(fn.End())
				if n := end.Line - start.Line + 1; n > maxFuncLines {
					t.Errorf("%s: %s is %d lines (at most %d in agent/ and cmd/): split it", start, fn.Name.Name, n, maxFuncLines)
				}
			}
		}
	}
}
