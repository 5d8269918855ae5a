package audit

// Mode is how lineaged reads the kernel's audit records (SPEC §1).
type Mode string

const (
	ModeAuto      Mode = "auto"      // own when audit is free, multicast beside a daemon or when locked
	ModeOwn       Mode = "own"       // be the audit daemon: set the PID, settings and rules; restore at exit
	ModeMulticast Mode = "multicast" // read-only listener beside auditd (3.16+)
	ModeOff       Mode = "off"       // no audit source
)

// SelfKey is the rule key of the rule that keeps lineaged's own syscalls
// out of the audit stream in own mode. A rule with this key left by a
// killed run is removed at the next start (its pid may belong to another
// process by then).
const SelfKey = "lineaged-self"

// LiveConfig configures the live audit source.
type LiveConfig struct {
	Mode  Mode
	Rules *RuleSet // own mode: the rules to load (nil: DefaultRules)
	// Settings applied in own mode unless the rule files set them.
	BacklogLimit uint32  // default 8192
	RateLimit    uint32  // default 0 (no limit)
	Failure      *uint32 // nil: 1 (printk); 0 silent; 2 (panic) is refused; -f in the rule files wins
	// BacklogWaitTime, when set, is applied where the kernel has it
	// (3.14+); nil keeps the kernel's value.
	BacklogWaitTime *uint32
	// StateDir, in own mode, keeps the audit state found at start on disk
	// while lineaged owns audit (StateFileName), so a run after a crash
	// restores the host's state, not the crashed run's ("": not kept).
	StateDir string
	// BootID is this boot's id (/proc/sys/kernel/random/boot_id, a random
	// UUID the kernel makes at boot), required with StateDir outside off
	// and multicast modes: a state file written under another boot id is
	// void, since the reboot reset audit to what the host configures at
	// boot. The caller reads it (proc.FS.BootID): audit reads netlink
	// only, and a source never imports another (SPEC §8).
	BootID string
	// AllowImmutable lets a rule file's "-e 2" lock the configuration;
	// without it "-e 2" is applied as "-e 1" and reported.
	AllowImmutable bool
}
