// Package fuzzcorpus writes seed corpus entries in the format Go's native
// fuzzing reads from testdata/fuzz/FuzzX/ ("go test fuzz v1"), for the
// tools that turn real input into seeds (tools/fuzzseed, tools/kernelseeds).
package fuzzcorpus

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
)

// Write stores v as one entry of a fuzz target whose single argument is
// []byte (asString false) or string, in dir, named by its content's hash
// so the same input is never stored twice. It reports whether the entry
// is new.
func Write(dir string, v []byte, asString bool) (bool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	body := "go test fuzz v1\n"
	if asString {
		body += "string(" + strconv.Quote(string(v)) + ")\n"
	} else {
		body += "[]byte(" + strconv.Quote(string(v)) + ")\n"
	}
	sum := sha256.Sum256([]byte(body))
	p := filepath.Join(dir, "seed-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(p); err == nil {
		return false, nil
	}
	return true, os.WriteFile(p, []byte(body), 0o644)
}
