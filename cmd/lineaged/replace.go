package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// replace-auditd: the explicit step from coexistence (lineaged reads
// beside auditd, or alone) to lineaged being the only audit daemon. It
// stops and disables auditd, records what it did in a marker file, and
// --undo puts back what the marker records. Installing the package never
// does this; removing it runs --undo when the marker exists.

// hostOps is everything replace-auditd reads from or does to the host.
// Tests replace replaceHost to check the command sequence without
// running anything.
type hostOps struct {
	// run runs a system command and returns its combined output; err is
	// non-nil (an *exec.ExitError for a non-zero exit) when it failed.
	run func(name string, args ...string) (string, error)
	// systemd reports whether systemd is PID 1.
	systemd func() bool
	// lookPath finds a command (also in /usr/sbin and /sbin).
	lookPath func(name string) (string, error)
	// exists reports whether a path exists.
	exists func(path string) bool
	// glob lists the paths matching a pattern (filepath.Glob).
	glob func(pattern string) ([]string, error)
	// euid is the effective user id.
	euid func() int
	// now is the time written into the marker.
	now func() time.Time
	// marker is the marker file's path.
	marker string
}

// replaceHost is the command runner and host view of replace-auditd.
var replaceHost = hostOps{
	run: func(name string, args ...string) (string, error) {
		out, err := exec.Command(name, args...).CombinedOutput()
		return string(out), err
	},
	systemd: func() bool {
		fi, err := os.Stat("/run/systemd/system")
		return err == nil && fi.IsDir()
	},
	lookPath: func(name string) (string, error) {
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
	exists: func(path string) bool {
		_, err := os.Stat(path)
		return err == nil
	},
	glob:   filepath.Glob,
	euid:   os.Geteuid,
	now:    time.Now,
	marker: "/var/lib/lineaged/replaced-auditd",
}

// Init flavours recorded in the marker.
const (
	initSystemd   = "systemd"     // systemctl
	initUpdateRcd = "update-rc.d" // Debian sysvinit: update-rc.d and service
	initChkconfig = "chkconfig"   // EL6, SLES 11: chkconfig and service
	initPlain     = "sysv"        // an init script only: cannot disable at boot
)

// replaceState is what the marker records.
type replaceState struct {
	Init       string // one of the init* flavours
	WasEnabled bool   // auditd was enabled at boot
	WasActive  bool   // auditd was running
}

func cmdReplaceAuditd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replace-auditd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	undo := fs.Bool("undo", false, "give auditd back: re-enable and start it as the marker records, remove the marker")
	dryRun := fs.Bool("dry-run", false, "print the commands that would change the host, run none of them")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: lineaged replace-auditd [--undo] [--dry-run]")
		fmt.Fprintln(stderr, "Stops and disables auditd so that lineaged can own audit (audit.mode: own);")
		fmt.Fprintf(stderr, "records what it did in %s for --undo (run by package removal).\n", replaceHost.marker)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lineaged replace-auditd: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	h := replaceHost
	if !*dryRun && h.euid() != 0 {
		fmt.Fprintln(stderr, "lineaged replace-auditd: must run as root (or use --dry-run)")
		return 1
	}
	r := &replacer{h: h, dry: *dryRun, stdout: stdout, stderr: stderr}
	if *undo {
		return r.undo()
	}
	return r.replace()
}

type replacer struct {
	h              hostOps
	dry            bool
	stdout, stderr io.Writer
}

// change runs a command that changes the host, or prints it under
// --dry-run.
func (r *replacer) change(name string, args ...string) error {
	line := strings.Join(append([]string{name}, args...), " ")
	if r.dry {
		fmt.Fprintf(r.stdout, "would run: %s\n", line)
		return nil
	}
	fmt.Fprintf(r.stdout, "running: %s\n", line)
	out, err := r.h.run(name, args...)
	if out = strings.TrimSpace(out); out != "" {
		fmt.Fprintf(r.stdout, "  %s\n", strings.ReplaceAll(out, "\n", "\n  "))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", line, err)
	}
	return nil
}

// probe runs a read-only command (also under --dry-run) and reports
// whether it exited 0.
func (r *replacer) probe(name string, args ...string) bool {
	_, err := r.h.run(name, args...)
	return err == nil
}

func (r *replacer) has(name string) bool {
	_, err := r.h.lookPath(name)
	return err == nil
}

// flavour picks how auditd is managed here.
func (r *replacer) flavour() string {
	switch {
	case r.h.systemd():
		return initSystemd
	case r.has("update-rc.d"):
		return initUpdateRcd
	case r.has("chkconfig"):
		return initChkconfig
	}
	return initPlain
}

// auditdInstalled: the daemon's binary or its init script is there.
func (r *replacer) auditdInstalled() bool {
	for _, p := range []string{"/sbin/auditd", "/usr/sbin/auditd", "/etc/init.d/auditd"} {
		if r.h.exists(p) {
			return true
		}
	}
	return false
}

// service runs "service auditd VERB", or the init script without
// service(8).
func (r *replacer) service(verb string) error {
	if r.has("service") {
		return r.change("service", "auditd", verb)
	}
	return r.change("/etc/init.d/auditd", verb)
}

func (r *replacer) serviceProbe(verb string) bool {
	if r.has("service") {
		return r.probe("service", "auditd", verb)
	}
	if !r.h.exists("/etc/init.d/auditd") {
		return false
	}
	return r.probe("/etc/init.d/auditd", verb)
}

// sysvEnabled: an S link for auditd in a multi-user runlevel.
func (r *replacer) sysvEnabled(fl string) bool {
	if fl == initChkconfig {
		// chkconfig auditd (no level) exits 0 when on in the current runlevel.
		return r.probe("chkconfig", "auditd")
	}
	for _, lvl := range []string{"2", "3", "5"} {
		if m, _ := r.h.glob("/etc/rc" + lvl + ".d/S*auditd"); len(m) > 0 {
			return true
		}
	}
	return false
}

func (r *replacer) replace() int {
	if r.h.exists(r.h.marker) {
		fmt.Fprintf(r.stdout, "auditd is already replaced (%s exists); nothing done. \"lineaged replace-auditd --undo\" gives it back.\n", r.h.marker)
		r.next()
		return 0
	}
	if !r.auditdInstalled() {
		fmt.Fprintln(r.stdout, "auditd is not installed here: nothing to stop.")
		r.next()
		return 0
	}
	st := replaceState{Init: r.flavour()}
	var errs []error
	switch st.Init {
	case initSystemd:
		st.WasEnabled = r.probe("systemctl", "is-enabled", "--quiet", "auditd.service")
		st.WasActive = r.probe("systemctl", "is-active", "--quiet", "auditd.service")
		if st.WasEnabled {
			errs = append(errs, r.change("systemctl", "disable", "auditd.service"))
		}
		if st.WasActive {
			if err := r.change("systemctl", "stop", "auditd.service"); err != nil {
				// RHEL's auditd.service has RefuseManualStop=yes; its
				// "service auditd stop" is the supported way.
				if r.has("service") {
					fmt.Fprintln(r.stdout, "systemctl refused to stop auditd (RefuseManualStop=yes on RHEL); trying service(8)")
					err = r.change("service", "auditd", "stop")
				}
				errs = append(errs, err)
			}
			if r.dry && r.has("service") {
				fmt.Fprintln(r.stdout, "  (if systemctl refuses, as RHEL's RefuseManualStop=yes does: service auditd stop)")
			}
		}
	case initUpdateRcd, initChkconfig, initPlain:
		st.WasEnabled = r.sysvEnabled(st.Init)
		st.WasActive = r.serviceProbe("status")
		if st.WasActive {
			errs = append(errs, r.service("stop"))
		}
		if st.WasEnabled {
			switch st.Init {
			case initUpdateRcd:
				errs = append(errs, r.change("update-rc.d", "auditd", "disable"))
			case initChkconfig:
				errs = append(errs, r.change("chkconfig", "auditd", "off"))
			default:
				fmt.Fprintln(r.stderr, "lineaged replace-auditd: no update-rc.d or chkconfig here: auditd stays enabled at boot; disable it in your init system")
			}
		}
	}
	failed := errors.Join(errs...)
	if failed != nil {
		// Part of it may have been done: the marker records it all, so
		// that --undo restores it all.
		fmt.Fprintf(r.stderr, "lineaged replace-auditd: %v\n", failed)
	}
	if !st.WasEnabled && !st.WasActive {
		fmt.Fprintln(r.stdout, "auditd is neither running nor enabled: nothing to stop, no marker written.")
		r.next()
		return 0
	}
	if r.dry {
		fmt.Fprintf(r.stdout, "would write %s: init=%s was_enabled=%s was_active=%s\n", r.h.marker, st.Init, yesNo(st.WasEnabled), yesNo(st.WasActive))
		r.next()
		return 0
	}
	if err := writeMarker(r.h.marker, st, r.h.now()); err != nil {
		fmt.Fprintf(r.stderr, "lineaged replace-auditd: writing the marker: %v\n", err)
		fmt.Fprintf(r.stderr, "auditd was stopped/disabled (%s) but --undo will not know: re-enable it by hand to undo\n", st.Init)
		return 1
	}
	if failed != nil {
		fmt.Fprintf(r.stdout, "auditd only partly stopped or disabled (see the errors); recorded in %s: fix and retry after \"lineaged replace-auditd --undo\".\n", r.h.marker)
		return 1
	}
	fmt.Fprintf(r.stdout, "auditd stopped and disabled; recorded in %s (lineaged replace-auditd --undo gives it back).\n", r.h.marker)
	r.next()
	return 0
}

// next tells the operator the two steps that make lineaged the audit daemon.
func (r *replacer) next() {
	fmt.Fprintln(r.stdout, `Next: set "audit.mode: own" (under audit:) in /etc/lineaged/lineaged.yml, then restart lineaged:`)
	if r.h.systemd() {
		fmt.Fprintln(r.stdout, "  systemctl restart lineaged.service")
	} else {
		fmt.Fprintln(r.stdout, "  /etc/init.d/lineaged restart")
	}
}

func (r *replacer) undo() int {
	data, err := os.ReadFile(r.h.marker)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(r.stderr, "lineaged replace-auditd --undo: %s does not exist: replace-auditd did not replace auditd here, nothing to undo\n", r.h.marker)
		return 1
	}
	if err != nil {
		fmt.Fprintf(r.stderr, "lineaged replace-auditd --undo: %v\n", err)
		return 1
	}
	st, err := parseMarker(data)
	if err != nil {
		fmt.Fprintf(r.stderr, "lineaged replace-auditd --undo: %s: %v\n", r.h.marker, err)
		return 1
	}
	var errs []error
	switch st.Init {
	case initSystemd:
		if st.WasEnabled {
			errs = append(errs, r.change("systemctl", "enable", "auditd.service"))
		}
		if st.WasActive {
			errs = append(errs, r.change("systemctl", "start", "auditd.service"))
		}
	case initUpdateRcd, initChkconfig, initPlain:
		if st.WasEnabled {
			switch st.Init {
			case initUpdateRcd:
				errs = append(errs, r.change("update-rc.d", "auditd", "enable"))
			case initChkconfig:
				errs = append(errs, r.change("chkconfig", "auditd", "on"))
			}
		}
		if st.WasActive {
			errs = append(errs, r.service("start"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(r.stderr, "lineaged replace-auditd --undo: %v\n", err)
		fmt.Fprintf(r.stderr, "the marker %s is kept; auditd cannot register while lineaged owns audit: set audit.mode back to auto and restart lineaged (or stop it), then retry\n", r.h.marker)
		return 1
	}
	if r.dry {
		fmt.Fprintf(r.stdout, "would remove %s\n", r.h.marker)
		return 0
	}
	if err := os.Remove(r.h.marker); err != nil {
		fmt.Fprintf(r.stderr, "lineaged replace-auditd --undo: %v\n", err)
		return 1
	}
	fmt.Fprintf(r.stdout, "auditd given back (init %s, enabled=%s, started=%s); %s removed.\n", st.Init, yesNo(st.WasEnabled), yesNo(st.WasActive), r.h.marker)
	fmt.Fprintln(r.stdout, `If /etc/lineaged/lineaged.yml says "audit.mode: own", set it back to auto so lineaged reads beside auditd, and restart lineaged.`)
	return 0
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// writeMarker writes the marker: key=value lines, fsynced and renamed
// into place.
func writeMarker(path string, st replaceState, now time.Time) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# written by \"lineaged replace-auditd\" at %s; \"lineaged replace-auditd --undo\" reads it\n", now.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "init=%s\nwas_enabled=%s\nwas_active=%s\n", st.Init, yesNo(st.WasEnabled), yesNo(st.WasActive))
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func parseMarker(data []byte) (replaceState, error) {
	var st replaceState
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
			case initSystemd, initUpdateRcd, initChkconfig, initPlain:
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
	if !seen["init"] {
		return st, errors.New("no init= line")
	}
	return st, nil
}
