package arch

import (
	"sync"
	"testing"

	"golang.org/x/tools/go/packages"
)

const module = "github.com/lineaged/lineaged"

var (
	loadOnce sync.Once
	loaded   []*packages.Package
	loadErr  error
)

// loadModule type-checks every package of the module (non-test files
// only), once per test binary.
func loadModule(t *testing.T) []*packages.Package {
	t.Helper()
	loadOnce.Do(func() {
		cfg := &packages.Config{
			Mode: packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedSyntax |
				packages.NeedTypes | packages.NeedTypesInfo,
			Dir: "../..",
		}
		loaded, loadErr = packages.Load(cfg, "./...")
	})
	if loadErr != nil {
		t.Fatalf("loading the module: %v", loadErr)
	}
	for _, p := range loaded {
		for _, e := range p.Errors {
			t.Fatalf("package %s: %v", p.PkgPath, e)
		}
	}
	return loaded
}
