package auditd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lineaged/lineaged/internal/atomicfile"
)

// MarkerPath is where Replace records what it did, for Undo (the
// package's removal script looks for it there).
const MarkerPath = "/var/lib/lineaged/replaced-auditd"

// How auditd is managed on the host, as the marker records it.
const (
	InitSystemd   = "systemd"     // systemctl
	InitUpdateRcd = "update-rc.d" // Debian sysvinit: update-rc.d and service
	InitChkconfig = "chkconfig"   // EL6, SLES 11: chkconfig and service
	InitSysV      = "sysv"        // an init script only: cannot disable at boot
)

// State is what the marker records: how auditd is managed and what
// Replace found, which is what Undo puts back.
type State struct {
	Init       string // one of the Init* values
	WasEnabled bool   // auditd was enabled at boot
	WasActive  bool   // auditd was running
}

// writeMarker writes the marker, key=value lines, crash-safely: a marker
// half written would leave --undo unable to give auditd back.
func writeMarker(path string, st State, now time.Time) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# written by \"lineaged replace-auditd\" at %s; \"lineaged replace-auditd --undo\" reads it\n", now.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "init=%s\nwas_enabled=%s\nwas_active=%s\n", st.Init, yesNo(st.WasEnabled), yesNo(st.WasActive))
	return atomicfile.WriteFile(path, b.Bytes(), 0o600)
}

// parseMarker reads a marker. Unknown keys are skipped (a later
// version's); a missing init= line, an unknown init or a value other
// than yes or no is an error: Undo must not guess what to start.
func parseMarker(data []byte) (State, error) {
	var st State
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return st, fmt.Errorf("bad line %q", line)
		}
		switch k {
		case "init":
			switch v {
			case InitSystemd, InitUpdateRcd, InitChkconfig, InitSysV:
				st.Init = v
			default:
				return st, fmt.Errorf("unknown init %q", v)
			}
		case "was_enabled", "was_active":
			if v != "yes" && v != "no" {
				return st, fmt.Errorf("%s=%q: want yes or no", k, v)
			}
			if k == "was_enabled" {
				st.WasEnabled = v == "yes"
			} else {
				st.WasActive = v == "yes"
			}
		default:
			continue // a later version's key
		}
		seen[k] = true
	}
	if err := sc.Err(); err != nil {
		return st, err
	}
	if !seen["init"] {
		return st, errors.New("no init= line")
	}
	return st, nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
