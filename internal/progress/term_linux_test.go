package progress

import (
	"os"
	"testing"
)

// TestTerminal: /dev/null and a file are not terminals (a character
// device is not enough: TCGETS must work).
func TestTerminal(t *testing.T) {
	if terminal(devNull(t)) {
		t.Error("/dev/null taken for a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	must(t, err)
	defer f.Close()
	if terminal(f) {
		t.Error("a file taken for a terminal")
	}
}
