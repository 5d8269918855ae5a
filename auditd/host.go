package auditd

import (
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Host is everything the package reads from or does to the host. System
// returns the real one; tests pass a fake that records commands and runs
// none.
type Host struct {
	// Run runs a system command and returns its combined output; the
	// error is non-nil (an *exec.ExitError for a non-zero exit) when it
	// failed.
	Run func(name string, args ...string) (string, error)
	// Systemd reports whether systemd is PID 1.
	Systemd func() bool
	// LookPath finds a command, in PATH and in the sbin directories a
	// package scriptlet's PATH may lack.
	LookPath func(name string) (string, error)
	// Exists reports whether a path exists.
	Exists func(path string) bool
	// Glob lists the paths matching a pattern (filepath.Glob).
	Glob func(pattern string) ([]string, error)
	// Euid is the effective user id.
	Euid func() int
	// Now is the time written into the marker.
	Now func() time.Time
}

// System is this host.
func System() Host {
	return Host{
		Run: func(name string, args ...string) (string, error) {
			out, err := exec.Command(name, args...).CombinedOutput()
			return string(out), err
		},
		Systemd: func() bool {
			// sd_booted(3)'s test.
			fi, err := os.Stat("/run/systemd/system")
			return err == nil && fi.IsDir()
		},
		LookPath: func(name string) (string, error) {
			if p, err := exec.LookPath(name); err == nil {
				return p, nil
			}
			for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
				p := filepath.Join(d, name)
				if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
					return p, nil
				}
			}
			return "", exec.ErrNotFound
		},
		Exists: func(path string) bool {
			_, err := os.Stat(path)
			return err == nil
		},
		Glob: filepath.Glob,
		Euid: os.Geteuid,
		Now:  time.Now,
	}
}
