package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestReplaceAuditdFlags: what cmd does itself, before package auditd
// touches the host (its tests are there).
func TestReplaceAuditdFlags(t *testing.T) {
	for _, args := range [][]string{{"extra"}, {"--undo", "extra"}, {"--force"}} {
		var out, errOut bytes.Buffer
		if code := cmdReplaceAuditd(args, &out, &errOut); code != 2 || out.Len() != 0 {
			t.Errorf("%q: exit %d, output %q, want 2 and none", args, code, out.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := cmdReplaceAuditd([]string{"-h"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "Usage: lineaged replace-auditd [--undo] [--dry-run]") ||
		!strings.Contains(errOut.String(), "/var/lib/lineaged/replaced-auditd") {
		t.Errorf("-h: exit %d:\n%s", code, errOut.String())
	}
}
