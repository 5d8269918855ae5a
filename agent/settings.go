package agent

import (
	"fmt"
	"reflect"
	"time"

	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/config"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/fanotify"
)

// Settings is what the agent runs with: the configuration as loaded (the
// embedded default config holds every default, so a zero here means what
// the file's comment says it means, never "use a default"), plus what is
// built from it once, for start and reload alike.
type Settings struct {
	// Config is the configuration in force; Source names its file, or
	// "built-in".
	Config *config.Config
	Source string

	// Rules are the audit rules loaded in own mode: the rules directory's
	// files, or nil for the built-in set when it has none.
	Rules *audit.RuleSet
	// RuleNotes are rule lines that parse but cannot be loaded here.
	RuleNotes []string
	// Files is the fanotify policy (nil: files.enabled false), lineaged's
	// own paths excluded.
	Files *fanotify.Policy
	// Redact hides secrets in command lines (nil: no redactions).
	Redact func(string) string
	// KV lists the settings for the settings event (SPEC §5).
	KV []event.KV
}

// FromConfig builds the agent's settings from a loaded configuration.
// It reads the audit rules directory (own mode only reads it, but a
// broken file is reported now, whatever the mode) and validates the file
// watch policy; it changes nothing on the host.
func FromConfig(c *config.Config, source string) (*Settings, error) {
	s := &Settings{Config: c, Source: source}
	if s.Source == "" {
		s.Source = "built-in"
	}
	if c.Audit.Mode != string(audit.ModeOff) && c.Audit.RulesDir != "" {
		rs, notes, err := LoadRules(c.Audit.RulesDir)
		if err != nil {
			return nil, err
		}
		s.Rules, s.RuleNotes = rs, notes
	}
	if c.Files.Enabled {
		pol, err := FilePolicy(c.Files, OwnPaths(c))
		if err != nil {
			return nil, err
		}
		s.Files = &pol
	}
	if len(c.Redactions) > 0 {
		s.Redact = c.Redact
	}
	for _, kv := range c.Settings() {
		s.KV = append(s.KV, event.KV{Key: kv.Key, Value: kv.Value})
	}
	return s, nil
}

// OwnPaths are lineaged's own output and state, never reported by
// fanotify: no feedback loop through its own writes.
func OwnPaths(c *config.Config) []string {
	var own []string
	if c.Output.File != "-" && c.Output.File != "" {
		own = append(own, c.Output.File)
	}
	if c.StateDir != "" {
		own = append(own, c.StateDir)
	}
	if c.AuditLog.File != "" {
		own = append(own, c.AuditLog.File)
	}
	if c.Output.Syslog.Address != "" && c.Output.Syslog.SpoolDir != "" {
		own = append(own, c.Output.Syslog.SpoolDir)
	}
	if len(c.Output.Kafka.Brokers) > 0 && c.Output.Kafka.SpoolDir != "" {
		own = append(own, c.Output.Kafka.SpoolDir)
	}
	return own
}

// LoadRules reads the *.rules files of dir in augenrules order: nil when
// there are none (the built-in rules then apply). Lines that parse but
// cannot be loaded here come back as notes for the log.
func LoadRules(dir string) (*audit.RuleSet, []string, error) {
	files, err := audit.RuleFiles(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("rules directory %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, nil, nil
	}
	rs, err := audit.LoadRuleFiles(files)
	if err != nil {
		return nil, nil, err
	}
	var notes []string
	for _, sk := range rs.Skipped {
		notes = append(notes, fmt.Sprintf("audit rule skipped: %v", sk))
	}
	return rs, notes, nil
}

// ownRules is the rule set own mode puts in force: the rules directory's,
// or the built-in set (without exit_group when the proc connector runs:
// audit.DefaultRuleSet).
func (s *Settings) ownRules(connector bool) (*audit.RuleSet, error) {
	if s.Rules != nil {
		return s.Rules, nil
	}
	return audit.DefaultRuleSet(connector)
}

// auditConfig is the live audit source's configuration; bootID is this
// boot's (the audit state file is void after a reboot).
func (s *Settings) auditConfig(bootID string, connector bool) (audit.LiveConfig, error) {
	c := s.Config
	rules, err := s.ownRules(connector)
	if err != nil {
		return audit.LiveConfig{}, err
	}
	failure := c.Audit.Failure
	return audit.LiveConfig{
		Mode:            audit.Mode(c.Audit.Mode),
		Rules:           rules,
		StateDir:        c.StateDir,
		BootID:          bootID,
		BacklogLimit:    c.Audit.BacklogLimit,
		RateLimit:       c.Audit.RateLimit,
		Failure:         &failure,
		BacklogWaitTime: c.Audit.BacklogWaitTime,
		AllowImmutable:  c.Audit.AllowImmutable,
	}, nil
}

// KeepRestartOnly gives next the running values of the settings a reload
// cannot change (the host name, the state directory, the audit mode and
// rules directory, the sources opened at start, the output file, the
// listeners), so that the settings event says what is in force, and
// returns one note per setting that was changed in the file: it takes
// effect at the next start.
func KeepRestartOnly(running, next *config.Config) []string {
	var notes []string
	keep := func(key string, old, new any, put func()) {
		if !reflect.DeepEqual(old, new) {
			notes = append(notes, fmt.Sprintf("%s changed (%v -> %v): takes effect at the next start", key, old, new))
			put()
		}
	}
	r, n := running, next
	keep("host", r.Host, n.Host, func() { n.Host = r.Host })
	keep("state_dir", r.StateDir, n.StateDir, func() { n.StateDir = r.StateDir })
	keep("audit.mode", r.Audit.Mode, n.Audit.Mode, func() { n.Audit.Mode = r.Audit.Mode })
	keep("audit.rules_dir", r.Audit.RulesDir, n.Audit.RulesDir, func() { n.Audit.RulesDir = r.Audit.RulesDir })
	keep("proc.enabled", r.Proc.Enabled, n.Proc.Enabled, func() { n.Proc.Enabled = r.Proc.Enabled })
	keep("network.snapshot_every", r.Network.SnapshotEvery, n.Network.SnapshotEvery, func() { n.Network.SnapshotEvery = r.Network.SnapshotEvery })
	keep("output.file", r.Output.File, n.Output.File, func() { n.Output.File = r.Output.File })
	keep("output.max_size", r.Output.MaxSize, n.Output.MaxSize, func() { n.Output.MaxSize = r.Output.MaxSize })
	keep("output.keep", r.Output.Keep, n.Output.Keep, func() { n.Output.Keep = r.Output.Keep })
	keep("output.syslog", r.Output.Syslog, n.Output.Syslog, func() { n.Output.Syslog = r.Output.Syslog })
	keep("output.kafka", r.Output.Kafka, n.Output.Kafka, func() { n.Output.Kafka = r.Output.Kafka })
	keep("audit_log", r.AuditLog, n.AuditLog, func() { n.AuditLog = r.AuditLog })
	keep("detect", r.Detect, n.Detect, func() { n.Detect = r.Detect })
	keep("log", r.Log, n.Log, func() { n.Log = r.Log })
	keep("metrics.listen", r.Metrics.Listen, n.Metrics.Listen, func() { n.Metrics.Listen = r.Metrics.Listen })
	keep("ui.listen", r.UI.Listen, n.UI.Listen, func() { n.UI.Listen = r.UI.Listen })
	keep("ui.allow_remote", r.UI.AllowRemote, n.UI.AllowRemote, func() { n.UI.AllowRemote = r.UI.AllowRemote })
	keep("ui.token_file", r.UI.TokenFile, n.UI.TokenFile, func() { n.UI.TokenFile = r.UI.TokenFile })
	return notes
}

// batchWindow is how long the loop sleeps once a source is readable (0:
// no pause). Without audit an exec's program comes from /proc, read when
// the connector reports it: a pause would miss every process shorter
// than it, so there is none.
func (s *Settings) batchWindow(auditOn bool) time.Duration {
	if !auditOn {
		return 0
	}
	return s.Config.BatchWindow
}
