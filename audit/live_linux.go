//go:build linux

package audit

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/elastic/go-libaudit/v2/rule"
	"github.com/elastic/go-libaudit/v2/rule/flags"

	"github.com/lineaged/lineaged/feature"
)

// Live is an open audit source. Receive is called from one goroutine;
// Close may be called from another while Receive is blocked (it restores
// the state through a socket of its own); Receive then returns an error or
// stays blocked until the process exits.
type Live struct {
	mode    Mode
	client  *libaudit.AuditClient
	saved   *savedState // own mode: what to put back
	nl      *nlClient   // client's socket, read in batches
	cfg     LiveConfig  // own mode: as opened (Reload keeps the settings' defaults)
	loaded  [][]byte    // own mode: the rules this run added (a reload may remove them)
	closed  atomic.Bool
	pending []rawRecord // records read by the multicast probe
	// stateDir holds the saved state while we own audit ("" : none).
	stateDir string
	// Takeover is set when an earlier run ended without restoring audit.
	Takeover *Takeover
	// readBuffer is the socket receive buffer the kernel granted.
	readBuffer int
	Notes      []string // what was decided at start, for the status event
}

type savedState struct {
	status libaudit.AuditStatus
	rules  [][]byte
}

// ErrAuditOwned is returned in own mode when another live daemon owns audit.
var ErrAuditOwned = errors.New("another audit daemon owns audit")

// check refuses a configuration before anything touches the kernel.
func (cfg *LiveConfig) check() error {
	if cfg.Failure != nil && *cfg.Failure == 2 {
		return errors.New("audit failure mode 2 (panic the kernel on lost records) is refused: use 0 or 1")
	}
	if cfg.StateDir != "" && cfg.BootID == "" && cfg.Mode != ModeOff && cfg.Mode != ModeMulticast {
		// Without it a state file left before a reboot would be taken
		// for a crashed run's of this boot, and its rules restored.
		return fmt.Errorf("audit state directory %s needs the boot id (LiveConfig.BootID)", cfg.StateDir)
	}
	return nil
}

// OpenLive opens the audit source in the configured mode. In own mode it
// saves the kernel's audit state first and Close restores it.
func OpenLive(cfg LiveConfig) (*Live, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	st, err := ReadStatus()
	if err != nil {
		return nil, err
	}
	mode := cfg.Mode
	l := &Live{}
	ownerAlive := st.PID != 0 && processAlive(int(st.PID)) && int(st.PID) != os.Getpid()
	switch mode {
	case ModeOff:
		l.mode = ModeOff
		return l, nil
	case ModeAuto, "":
		switch {
		case st.Immutable():
			mode = ModeMulticast
			l.Notes = append(l.Notes, "audit is immutable (-e 2): read-only, as found")
		case ownerAlive:
			mode = ModeMulticast
			l.Notes = append(l.Notes, fmt.Sprintf("audit daemon pid %d is running: multicast beside it", st.PID))
		default:
			mode = ModeOwn
		}
	case ModeOwn:
		if ownerAlive {
			return nil, fmt.Errorf("%w (pid %d): stop it, or use audit mode multicast", ErrAuditOwned, st.PID)
		}
		if st.Immutable() {
			return nil, errors.New("audit is immutable (-e 2) until reboot: own mode cannot change it; use multicast")
		}
	case ModeMulticast:
	default:
		return nil, fmt.Errorf("audit mode %q is not one of auto, own, multicast, off", mode)
	}
	l.mode = mode
	if mode == ModeMulticast {
		err := feature.Disabled(feature.AuditMulticast)
		var c *libaudit.AuditClient
		if err == nil {
			c, l.nl, err = newAuditClient(libaudit.NetlinkGroupReadLog)
			if err != nil {
				err = feature.NotSupported(feature.AuditMulticast, explain("joining the audit multicast group", err))
			}
		}
		if err != nil {
			if cfg.Mode == ModeAuto || cfg.Mode == "" {
				// Beside a daemon on a kernel without multicast (EL7):
				// never take audit from it; run on the other sources.
				l.mode = ModeOff
				l.Notes = append(l.Notes, "audit off: "+err.Error()+"; the proc connector, fanotify and sock_diag continue")
				return l, nil
			}
			return nil, err
		}
		l.client = c
		l.readBuffer = setReadBuffer(l.nl, readBufferSize)
		if err := l.probeDelivery(st); err != nil {
			c.Close()
			l.client = nil
			if cfg.Mode == ModeAuto || cfg.Mode == "" {
				l.mode = ModeOff
				l.Notes = append(l.Notes, "audit off: "+err.Error()+"; the proc connector, fanotify and sock_diag continue")
				return l, nil
			}
			return nil, err
		}
		return l, nil
	}
	if err := l.openOwn(cfg, st); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Reload puts rs in force in own mode, for a SIGHUP: its rules are added
// before the rules this run loaded and rs lacks are removed, so no
// watched syscall goes unrecorded meanwhile; with -D in rs every rule it
// lacks goes, except lineaged's own exclusion. Then the control lines (or
// the configured defaults) are applied. It works through a control socket
// of its own: replies on the reading socket would be mixed with records.
func (l *Live) Reload(rs *RuleSet) error {
	switch {
	case l.mode != ModeOwn:
		return fmt.Errorf("audit mode %s: rules are lineaged's to load only in own mode", l.mode)
	case l.client == nil:
		return errors.New("audit source closed")
	case l.saved == nil:
		return errors.New("audit is locked (-e 2): its rules cannot change until reboot")
	}
	st, err := ReadStatus()
	if err != nil {
		return err
	}
	c, _, err := newAuditClient(0)
	if err != nil {
		return explain("opening a control socket to reload the rules", err)
	}
	defer c.Close()
	current, err := c.GetRules()
	if err != nil {
		return explain("AUDIT_LIST_RULES", err)
	}
	in := func(set [][]byte, w []byte) bool {
		for _, x := range set {
			if string(x) == string(w) {
				return true
			}
		}
		return false
	}
	var want, added [][]byte
	for _, r := range rs.Rules {
		want = append(want, r.Wire)
		if in(current, r.Wire) {
			if in(l.loaded, r.Wire) {
				added = append(added, r.Wire) // ours, and still wanted
			}
			continue
		}
		if err := c.AddRule(r.Wire); err != nil && !strings.Contains(err.Error(), "rule exists") {
			return fmt.Errorf("%s: loading rule %q: %w", r.File, r.Text, err)
		}
		added = append(added, r.Wire)
	}
	for _, w := range current {
		if in(want, w) || isSelfRule(w) || !(rs.DeleteAll || in(l.loaded, w)) {
			continue
		}
		if err := c.DeleteRule(w); err != nil {
			return fmt.Errorf("removing a rule the new rule files no longer have: %w", err)
		}
	}
	l.loaded = added
	return l.applySettings(c, rs, st, true)
}

// Rules lists the rules in force, as auditctl -l prints them: for the
// event lineaged writes at start and on every reload.
func (l *Live) Rules() ([]string, error) {
	c, _, err := newAuditClient(0)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	wires, err := c.GetRules()
	if err != nil {
		return nil, explain("AUDIT_LIST_RULES", err)
	}
	out := make([]string, 0, len(wires))
	for _, w := range wires {
		txt, err := rule.ToCommandLine(w, true)
		if err != nil {
			txt = fmt.Sprintf("(a rule auditctl syntax cannot express: %v)", err)
		}
		out = append(out, txt)
	}
	return out, nil
}

// auditTrustedApp is AUDIT_TRUSTED_APP (1121), a free-text user message
// type: the probe's record reads as what it is in auditd's log.
const auditTrustedApp = 1121

// probeWait is how long the multicast probe waits for its own record.
const probeWait = 2 * time.Second

// probeDelivery proves the multicast group delivers: on EL7's 3.10 the
// subscription is accepted and nothing ever arrives. It sends a user
// message through the kernel (CAP_AUDIT_WRITE) and waits for it to come
// back on the group; records read meanwhile are kept for Receive. With
// audit disabled the kernel drops user messages, so nothing can be proved
// and the group is used as it is.
func (l *Live) probeDelivery(st Status) error {
	if st.Enabled == 0 {
		l.Notes = append(l.Notes, "multicast delivery not probed: audit is disabled")
		return nil
	}
	marker := fmt.Sprintf("lineaged multicast delivery probe pid=%d t=%d", os.Getpid(), time.Now().UnixNano())
	_, err := l.client.Netlink.Send(syscall.NetlinkMessage{
		Header: syscall.NlMsghdr{Type: auditTrustedApp, Flags: syscall.NLM_F_REQUEST},
		// NUL-terminated, as libaudit sends: the kernel drops the last
		// byte of a user message (its terminator).
		Data: append([]byte(marker), 0),
	})
	if err != nil {
		l.Notes = append(l.Notes, "multicast delivery not probed: sending the probe: "+err.Error())
		return nil
	}
	deadline := time.Now().Add(probeWait)
	for time.Now().Before(deadline) {
		msg, err := l.client.Receive(true)
		if err != nil {
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return fmt.Errorf("reading the multicast group: %w", err)
		}
		t := uint16(msg.Type)
		if t == auditTrustedApp && strings.Contains(string(msg.Data), marker) {
			l.Notes = append(l.Notes, "multicast delivery confirmed")
			return nil
		}
		if t >= TypeFirstUser {
			l.pending = append(l.pending, rawRecord{typ: t, data: append([]byte(nil), msg.Data...)})
		}
	}
	return feature.NotSupported(feature.AuditMulticast,
		fmt.Errorf("the multicast subscription was accepted but delivered nothing in %s (EL7's 3.10 behaviour)", probeWait))
}

// rawRecord is a record read before Receive was called.
type rawRecord struct {
	typ  uint16
	data []byte
}

// Mode returns the mode in use.
func (l *Live) Mode() Mode { return l.mode }

func (l *Live) openOwn(cfg LiveConfig, st Status) error {
	c, nl, err := newAuditClient(0)
	if err != nil {
		return explain("opening NETLINK_AUDIT", err)
	}
	l.client, l.nl = c, nl
	l.readBuffer = setReadBuffer(nl, readBufferSize)
	raw, err := c.GetStatus()
	if err != nil {
		return explain("AUDIT_GET", err)
	}
	rules, err := c.GetRules()
	if err != nil {
		return explain("AUDIT_LIST_RULES", err)
	}
	// Rules of a killed earlier run: drop them from what we restore, and
	// from the kernel.
	var keep [][]byte
	for _, r := range rules {
		if isSelfRule(r) {
			if err := c.DeleteRule(r); err != nil {
				return fmt.Errorf("removing a stale %s rule: %w", SelfKey, err)
			}
			l.Notes = append(l.Notes, "removed a stale "+SelfKey+" rule left by an earlier run")
			continue
		}
		keep = append(keep, r)
	}
	l.saved = &savedState{status: *raw, rules: keep}
	if cfg.StateDir != "" {
		// An earlier run killed while it owned audit left the state it
		// found: that, not what it loaded, is what the host had.
		prev, err := l.loadTakeover(cfg.StateDir, cfg.BootID, raw.Lost)
		if err != nil {
			return err
		}
		if prev != nil {
			l.saved = prev
		}
		if err := writeState(cfg.StateDir, cfg.BootID, l.saved, raw.Lost); err != nil {
			return fmt.Errorf("saving the audit state to %s (a crash would leave audit as this run sets it): %w", cfg.StateDir, err)
		}
		l.stateDir = cfg.StateDir
	}

	rs := cfg.Rules
	if rs == nil {
		if rs, err = ParseRules("built-in default.rules", strings.NewReader(DefaultRules)); err != nil {
			return err
		}
	}
	if rs.DeleteAll {
		if _, err := c.DeleteRules(); err != nil {
			return explain("deleting rules (-D)", err)
		}
	}
	// Our own syscalls first, so no rule below can report them (a
	// feedback loop through our own output). AUDIT_PID matches the tgid:
	// all our threads.
	self, err := flags.Parse("-A never,exit -F pid=" + strconv.Itoa(os.Getpid()) + " -k " + SelfKey)
	if err != nil {
		return err
	}
	wire, err := rule.Build(self)
	if err != nil {
		return err
	}
	if err := c.AddRule(wire); err != nil {
		return fmt.Errorf("adding the %s rule: %w", SelfKey, err)
	}
	for _, r := range rs.Rules {
		if err := c.AddRule(r.Wire); err != nil {
			if strings.Contains(err.Error(), "rule exists") {
				continue
			}
			return fmt.Errorf("%s: loading rule %q: %w", r.File, r.Text, err)
		}
		l.loaded = append(l.loaded, r.Wire)
	}
	l.cfg = cfg
	return l.applySettings(c, rs, st, false)
}

// applySettings applies the rule files' control lines, or the configured
// values where the files have none, and then enables audit and registers
// us as its daemon (both idempotent on a reload).
func (l *Live) applySettings(c *libaudit.AuditClient, rs *RuleSet, st Status, reload bool) error {
	cfg := l.cfg
	backlog := cfg.BacklogLimit
	if rs.BacklogLimit != nil {
		backlog = *rs.BacklogLimit
	}
	if backlog == 0 {
		backlog = 8192
	}
	if err := c.SetBacklogLimit(backlog, libaudit.WaitForReply); err != nil {
		return explain("setting the backlog limit", err)
	}
	rate := cfg.RateLimit
	if rs.RateLimit != nil {
		rate = *rs.RateLimit
	}
	if err := c.SetRateLimit(rate, libaudit.WaitForReply); err != nil {
		return explain("setting the rate limit", err)
	}
	failure := uint32(1) // printk: a lost record is at least in the kernel log
	if cfg.Failure != nil {
		failure = *cfg.Failure
	}
	if rs.Failure != nil {
		failure = *rs.Failure
	}
	if failure == 2 {
		return errors.New("audit failure mode 2 (panic) is refused")
	}
	if err := c.SetFailure(libaudit.FailureMode(failure), libaudit.WaitForReply); err != nil {
		return explain("setting the failure mode", err)
	}
	wait := cfg.BacklogWaitTime
	if rs.BacklogWaitTime != nil {
		wait = rs.BacklogWaitTime
	}
	if wait != nil {
		if st.HasBacklogWaitTime {
			if err := c.SetBacklogWaitTime(int32(*wait), libaudit.WaitForReply); err != nil {
				return explain("setting backlog_wait_time", err)
			}
		} else {
			l.Notes = append(l.Notes, "backlog_wait_time not set: "+ProbeBacklogWaitTime(st).Reason)
		}
	}
	if err := c.SetEnabled(true, libaudit.WaitForReply); err != nil {
		return explain("enabling audit", err)
	}
	if !reload {
		// Registered already on a reload (the kernel answers EEXIST).
		if err := c.SetPID(libaudit.WaitForReply); err != nil {
			return explain("registering as the audit daemon", err)
		}
	}
	if rs.Enabled != nil && *rs.Enabled == 2 {
		if cfg.AllowImmutable {
			if err := c.SetImmutable(libaudit.WaitForReply); err != nil {
				return explain("locking audit (-e 2)", err)
			}
			l.saved = nil // cannot restore a locked configuration
			l.removeState()
			l.Notes = append(l.Notes, "audit locked (-e 2) as configured: rules stay until reboot")
		} else {
			l.Notes = append(l.Notes, "-e 2 in the rule files not applied (not allowed by configuration)")
		}
	}
	return nil
}

func isSelfRule(wire []byte) bool {
	s, err := rule.ToCommandLine(wire, false)
	return err == nil && strings.Contains(s, "key="+SelfKey)
}

// processAlive reports whether pid exists (signal 0).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Receive reads the next audit record into r. Netlink control messages
// (replies to our own requests, types below 1100) are skipped. The error
// from a closed source wraps os.ErrClosed.
func (l *Live) Receive(r *Record) error {
	if n := len(l.pending); n > 0 {
		p := l.pending[0]
		l.pending = l.pending[1:]
		return r.ParseKernel(p.typ, p.data)
	}
	if l.client == nil {
		return os.ErrClosed
	}
	for {
		msg, err := l.client.Receive(false)
		if err != nil {
			if errors.Is(err, syscall.EBADF) || errors.Is(err, os.ErrClosed) {
				return fmt.Errorf("audit source closed: %w", os.ErrClosed)
			}
			return err
		}
		t := uint16(msg.Type)
		if t < TypeFirstUser {
			continue
		}
		return r.ParseKernel(t, msg.Data)
	}
}

// Close stops the source. In own mode it restores the audit state saved
// at start: the rules, the settings, the enabled flag, and gives up the
// audit PID (go-libaudit's Close sends PID 0). Safe to call more than once.
func (l *Live) Close() error {
	if l.client == nil {
		return nil
	}
	main := l.client
	l.closed.Store(true)
	var errs []error
	if l.mode == ModeOwn && l.saved != nil {
		s := l.saved
		l.saved = nil
		// Restore through a socket of its own: a reader may still be
		// blocked in Receive on the main socket, and it would swallow the
		// replies to these requests.
		c, err := libaudit.NewAuditClient(nil)
		if err != nil {
			errs = append(errs, explain("opening a control socket to restore the audit state", err))
			c = main
		} else {
			defer c.Close()
		}
		if _, err := c.DeleteRules(); err != nil {
			errs = append(errs, fmt.Errorf("restoring rules: %w", err))
		}
		for _, r := range s.rules {
			if err := c.AddRule(r); err != nil && !strings.Contains(err.Error(), "rule exists") {
				errs = append(errs, fmt.Errorf("restoring a rule: %w", err))
			}
		}
		set := []struct {
			what string
			f    func() error
		}{
			{"backlog limit", func() error { return c.SetBacklogLimit(s.status.BacklogLimit, libaudit.WaitForReply) }},
			{"rate limit", func() error { return c.SetRateLimit(s.status.RateLimit, libaudit.WaitForReply) }},
			{"failure mode", func() error { return c.SetFailure(libaudit.FailureMode(s.status.Failure), libaudit.WaitForReply) }},
			{"enabled", func() error { return c.SetEnabled(s.status.Enabled == 1, libaudit.WaitForReply) }},
		}
		if s.status.FeatureBitmap&auditFeatureBacklogWaitTime != 0 {
			set = append(set, struct {
				what string
				f    func() error
			}{"backlog_wait_time", func() error {
				return c.SetBacklogWaitTime(int32(s.status.BacklogWaitTime), libaudit.WaitForReply)
			}})
		}
		for _, x := range set {
			if err := x.f(); err != nil {
				errs = append(errs, fmt.Errorf("restoring %s: %w", x.what, err))
			}
		}
		if len(errs) == 0 {
			// Restored: nothing left for a later run to put right. On
			// failure the file stays, and the next start retries.
			l.removeState()
		}
	}
	l.client = nil
	// Closing the main socket gives up the audit PID.
	if err := main.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
