package auditd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// ErrNotRoot is returned by Replace and Undo run without root and
// without DryRun: they would fail half-way through.
var ErrNotRoot = errors.New("must run as root (or use --dry-run)")

// ErrNotReplaced is returned (wrapped, with the marker's path) by Undo
// when there is no marker: Replace did not replace auditd here.
var ErrNotReplaced = errors.New("replace-auditd did not replace auditd here, nothing to undo")

// Replacer stops and disables auditd (Replace) and gives it back (Undo).
type Replacer struct {
	Host   Host
	Marker string // MarkerPath, or a test's
	// DryRun prints the commands that would change the host and runs
	// none of them; read-only probes still run.
	DryRun bool
	// Out receives what the operator reads as it goes: each command run
	// (or, dry, that would run) with its output, what was done and what
	// to do next. lineaged replace-auditd passes its standard output.
	Out io.Writer
	// Warn receives trouble that does not stop the run, one message a
	// call (the command prints it on standard error). nil: to Out.
	Warn func(msg string)
}

func (r *Replacer) warn(msg string) {
	if r.Warn == nil {
		fmt.Fprintln(r.Out, msg)
		return
	}
	r.Warn(msg)
}

// change runs a command that changes the host, or prints it when dry.
func (r *Replacer) change(name string, args ...string) error {
	line := strings.Join(append([]string{name}, args...), " ")
	if r.DryRun {
		fmt.Fprintf(r.Out, "would run: %s\n", line)
		return nil
	}
	fmt.Fprintf(r.Out, "running: %s\n", line)
	out, err := r.Host.Run(name, args...)
	if out = strings.TrimSpace(out); out != "" {
		fmt.Fprintf(r.Out, "  %s\n", strings.ReplaceAll(out, "\n", "\n  "))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", line, err)
	}
	return nil
}

// probe runs a read-only command (dry or not) and reports whether it
// exited 0.
func (r *Replacer) probe(name string, args ...string) bool {
	_, err := r.Host.Run(name, args...)
	return err == nil
}

func (r *Replacer) has(name string) bool {
	_, err := r.Host.LookPath(name)
	return err == nil
}

// flavour finds what manages auditd here.
func (r *Replacer) flavour() string {
	switch {
	case r.Host.Systemd():
		return InitSystemd
	case r.has("update-rc.d"):
		return InitUpdateRcd
	case r.has("chkconfig"):
		return InitChkconfig
	}
	return InitSysV
}

// installed: the daemon's binary or its init script is there.
func (r *Replacer) installed() bool {
	for _, p := range []string{"/sbin/auditd", "/usr/sbin/auditd", "/etc/init.d/auditd"} {
		if r.Host.Exists(p) {
			return true
		}
	}
	return false
}

// service runs "service auditd VERB", or the init script where there is
// no service(8).
func (r *Replacer) service(verb string) error {
	if r.has("service") {
		return r.change("service", "auditd", verb)
	}
	return r.change("/etc/init.d/auditd", verb)
}

func (r *Replacer) serviceProbe(verb string) bool {
	if r.has("service") {
		return r.probe("service", "auditd", verb)
	}
	if !r.Host.Exists("/etc/init.d/auditd") {
		return false
	}
	return r.probe("/etc/init.d/auditd", verb)
}

// sysvEnabled: auditd starts in a multi-user runlevel.
func (r *Replacer) sysvEnabled(init string) bool {
	if init == InitChkconfig {
		// chkconfig auditd (no level) exits 0 when on in the current runlevel.
		return r.probe("chkconfig", "auditd")
	}
	for _, lvl := range []string{"2", "3", "5"} {
		if m, _ := r.Host.Glob("/etc/rc" + lvl + ".d/S*auditd"); len(m) > 0 {
			return true
		}
	}
	return false
}

// Replace stops and disables auditd and records what it found in the
// marker. Run again, it changes nothing (the marker keeps the first
// state). When some command fails, what was done is still recorded, so
// that Undo restores all of it, and the failure is returned.
func (r *Replacer) Replace() error {
	if !r.DryRun && r.Host.Euid() != 0 {
		return ErrNotRoot
	}
	if r.Host.Exists(r.Marker) {
		fmt.Fprintf(r.Out, "auditd is already replaced (%s exists); nothing done. \"lineaged replace-auditd --undo\" gives it back.\n", r.Marker)
		r.next()
		return nil
	}
	if !r.installed() {
		fmt.Fprintln(r.Out, "auditd is not installed here: nothing to stop.")
		r.next()
		return nil
	}
	st := State{Init: r.flavour()}
	var failed error
	if st.Init == InitSystemd {
		failed = r.stopSystemd(&st)
	} else {
		failed = r.stopSysV(&st)
	}
	if !st.WasEnabled && !st.WasActive {
		fmt.Fprintln(r.Out, "auditd is neither running nor enabled: nothing to stop, no marker written.")
		r.next()
		return nil
	}
	if r.DryRun {
		fmt.Fprintf(r.Out, "would write %s: init=%s was_enabled=%s was_active=%s\n", r.Marker, st.Init, yesNo(st.WasEnabled), yesNo(st.WasActive))
		r.next()
		return nil
	}
	if err := writeMarker(r.Marker, st, r.Host.Now()); err != nil {
		return errors.Join(failed, fmt.Errorf("writing the marker: %w\nauditd was stopped/disabled (%s) but --undo will not know: re-enable it by hand to undo", err, st.Init))
	}
	if failed != nil {
		fmt.Fprintf(r.Out, "auditd only partly stopped or disabled (see the errors); recorded in %s: fix and retry after \"lineaged replace-auditd --undo\".\n", r.Marker)
		return failed
	}
	fmt.Fprintf(r.Out, "auditd stopped and disabled; recorded in %s (lineaged replace-auditd --undo gives it back).\n", r.Marker)
	r.next()
	return nil
}

// stopSystemd records whether auditd.service is enabled and active, then
// disables and stops it.
func (r *Replacer) stopSystemd(st *State) error {
	var errs []error
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
				fmt.Fprintln(r.Out, "systemctl refused to stop auditd (RefuseManualStop=yes on RHEL); trying service(8)")
				err = r.change("service", "auditd", "stop")
			}
			errs = append(errs, err)
		}
		if r.DryRun && r.has("service") {
			fmt.Fprintln(r.Out, "  (if systemctl refuses, as RHEL's RefuseManualStop=yes does: service auditd stop)")
		}
	}
	return errors.Join(errs...)
}

// stopSysV records whether auditd starts at boot and runs, then stops it
// and disables it where update-rc.d or chkconfig can.
func (r *Replacer) stopSysV(st *State) error {
	var errs []error
	st.WasEnabled = r.sysvEnabled(st.Init)
	st.WasActive = r.serviceProbe("status")
	if st.WasActive {
		errs = append(errs, r.service("stop"))
	}
	if st.WasEnabled {
		switch st.Init {
		case InitUpdateRcd:
			errs = append(errs, r.change("update-rc.d", "auditd", "disable"))
		case InitChkconfig:
			errs = append(errs, r.change("chkconfig", "auditd", "off"))
		default:
			r.warn("no update-rc.d or chkconfig here: auditd stays enabled at boot; disable it in your init system")
		}
	}
	return errors.Join(errs...)
}

// next tells the operator the two steps that make lineaged the audit daemon.
func (r *Replacer) next() {
	fmt.Fprintln(r.Out, `Next: set "audit.mode: own" (under audit:) in /etc/lineaged/lineaged.yml, then restart lineaged:`)
	if r.Host.Systemd() {
		fmt.Fprintln(r.Out, "  systemctl restart lineaged.service")
	} else {
		fmt.Fprintln(r.Out, "  /etc/init.d/lineaged restart")
	}
}

// Undo gives auditd back as the marker records it: enables it again if
// it was enabled, starts it again if it ran, and removes the marker. If a
// command fails the marker is kept, for a retry.
func (r *Replacer) Undo() error {
	if !r.DryRun && r.Host.Euid() != 0 {
		return ErrNotRoot
	}
	data, err := os.ReadFile(r.Marker)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s does not exist: %w", r.Marker, ErrNotReplaced)
	}
	if err != nil {
		return err
	}
	st, err := parseMarker(data)
	if err != nil {
		return fmt.Errorf("%s: %w", r.Marker, err)
	}
	var errs []error
	switch st.Init {
	case InitSystemd:
		if st.WasEnabled {
			errs = append(errs, r.change("systemctl", "enable", "auditd.service"))
		}
		if st.WasActive {
			errs = append(errs, r.change("systemctl", "start", "auditd.service"))
		}
	default:
		if st.WasEnabled {
			switch st.Init {
			case InitUpdateRcd:
				errs = append(errs, r.change("update-rc.d", "auditd", "enable"))
			case InitChkconfig:
				errs = append(errs, r.change("chkconfig", "auditd", "on"))
			}
		}
		if st.WasActive {
			errs = append(errs, r.service("start"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w\nthe marker %s is kept; auditd cannot register while lineaged owns audit: set audit.mode back to auto and restart lineaged (or stop it), then retry", err, r.Marker)
	}
	if r.DryRun {
		fmt.Fprintf(r.Out, "would remove %s\n", r.Marker)
		return nil
	}
	// Not followed by an fsync of the directory: a marker that comes back
	// after a crash only makes the next --undo enable and start auditd
	// again, which changes nothing.
	if err := os.Remove(r.Marker); err != nil {
		return err
	}
	fmt.Fprintf(r.Out, "auditd given back (init %s, enabled=%s, started=%s); %s removed.\n", st.Init, yesNo(st.WasEnabled), yesNo(st.WasActive), r.Marker)
	fmt.Fprintln(r.Out, `If /etc/lineaged/lineaged.yml says "audit.mode: own", set it back to auto so lineaged reads beside auditd, and restart lineaged.`)
	return nil
}
