// Package arch holds no code: its tests check the shape of the whole
// module against SPEC §8 and the redesign's rules, so that a change which
// breaks one fails CI instead of drifting:
//
//   - the import graph: the ground floor (event, feature, internal/...)
//     imports nothing of lineaged above it, a kernel source imports no
//     other source and never the graph, and so on (TestImports);
//   - the typed vocabulary: no string or number literal is used as an
//     event.Action, Category, Type, Outcome, Module or Severity outside
//     event/vocab.go (TestVocabulary);
//   - function length: no function in agent/ or cmd/ is longer than 80
//     lines (TestFunctionLength).
//
// The tests type-check the module from source (golang.org/x/tools/go/packages),
// which takes a few seconds; they need the go command on PATH.
package arch
