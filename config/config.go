package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// DefaultPath is where lineaged run looks for its configuration.
const DefaultPath = "/etc/lineaged/lineaged.yml"

// defaultYML is the documented default file: the defaults are parsed from
// it, so the documentation and the values cannot drift apart.
//
//go:embed default.yml
var defaultYML []byte

// DefaultYAML returns the embedded default file, for an installer to
// write out or an operator to start from.
func DefaultYAML() []byte { return bytes.Clone(defaultYML) }

// maxSize bounds what Load reads: a configuration is a few KiB, and a
// huge file is a mistake (or a device) better refused than parsed.
const maxSize = 1 << 20

// maxErrors bounds the errors one Parse reports.
const maxErrors = 20

// Config is lineaged's configuration. Field comments give the YAML key;
// default.yml documents each one.
type Config struct {
	Host     string // host: "" for the machine's hostname
	StateDir string // state_dir: absolute
	Audit    Audit
	Proc     Proc
	Files    Files
	Network  Network
	Output   Output
	AuditLog AuditLog // audit_log:
	Metrics  Metrics  // metrics:
	UI       UI       // ui:
	Detect   Detect   // detect:
	Log      Log      // log:
	// BatchWindow (batch_window) is how long the agent waits once a
	// source is readable, so that one read takes a batch. 0 to 1s.
	BatchWindow time.Duration
	// HeartbeatEvery (heartbeat_every) is the period of the alive event;
	// 0 turns it off.
	HeartbeatEvery time.Duration
	// Redactions (redact) are applied in order by Redact. The field is
	// not called Redact because the method is.
	Redactions []Redaction
}

// Audit is the audit: section.
type Audit struct {
	Mode         string // mode: auto, own, multicast or off (the values of audit.Mode)
	RulesDir     string // rules_dir: absolute
	BacklogLimit uint32 // backlog_limit: 1 to 10000000
	RateLimit    uint32 // rate_limit: 0 for no limit
	Failure      uint32 // failure: 0 (silent) or 1 (printk); 2 (panic) is refused
	// BacklogWaitTime (backlog_wait_time) is in the kernel's unit,
	// jiffies, as auditctl --backlog_wait_time takes it: their length
	// depends on the kernel's HZ, which userspace cannot read, so a
	// duration could not be converted honestly. nil keeps the kernel's.
	BacklogWaitTime *uint32
	AllowImmutable  bool // allow_immutable
}

// Proc is the proc: section.
type Proc struct {
	Enabled bool // enabled
}

// Files is the files: section, as written: the agent turns it into
// fanotify's policy (agent.FilePolicy), adding the built-in watches when
// Defaults is set and lineaged's own paths to the exclusions. config
// stays plain data so that reading a file imports no kernel source.
type Files struct {
	Enabled        bool     // enabled
	Defaults       bool     // defaults: include the built-in watches
	Watches        []Watch  // watches: in addition to the defaults
	Exclude        []string // exclude: absolute, clean paths, no patterns
	UnlimitedQueue bool     // unlimited_queue
}

// Watch is one entry of files.watches.
type Watch struct {
	// Path (path) is absolute and clean, and not / itself; any element
	// may be a filepath.Match pattern (/home/*/.ssh).
	Path string
	// Ops (ops) are the operations reported, each one of FileOps, in
	// FileOps's order and without repeats, whatever order the file gave
	// them in; "all" is written out as every one.
	Ops       []string
	Class     string // class: a word carried by the events ("" for none)
	Recursive bool   // recursive: the directory's whole subtree
}

// FileOps are the operation names files.watches[].ops takes (besides
// "all", every one of them), in the order Settings prints them. They are
// fanotify's names; config keeps its own copy so that it imports no
// kernel source, and a test in package agent fails if the two differ.
var FileOps = []string{"open", "modify", "close-write", "exec"}

// Network is the network: section.
type Network struct {
	SnapshotEvery time.Duration // snapshot_every: 0 turns sock_diag off, else >= 100ms
}

// Output is the output: section.
type Output struct {
	File       string        // file: "-" for standard output, else absolute
	FlushEvery time.Duration // flush_every: 1ms to 10s
	MaxSize    int64         // max_size: rotate the file past this many bytes (0: never)
	Keep       uint32        // keep: rotated files kept (file.1 .. file.N)
	Ancestry   string        // ancestry: full, compact or ids (SPEC §5)
	// RecordTypes (record_types) writes auditd.record_types on each line.
	RecordTypes bool
	// HostDetails (host_details) writes host.* and agent.id on every
	// line, not only on lineaged's own events and alerts.
	HostDetails bool
	Syslog      Syslog // syslog: a copy of every line to a syslog receiver
	Kafka       Kafka  // kafka: a copy of every line to Kafka
}

// Syslog is output.syslog: RFC 5424 over TCP or TLS, spooled to disk
// while the receiver is down.
type Syslog struct {
	Address    string // address: host:port; "" = off
	TLS        bool   // tls: RFC 5425
	CAFile     string // ca_file: PEM bundle the receiver's certificate must chain to ("" = the system's)
	ServerName string // server_name: the name in the receiver's certificate ("" = the address's host)
	SpoolDir   string // spool_dir: where lines wait while the receiver is down
	MaxSpool   int64  // max_spool: bytes; beyond it the oldest lines are dropped, counted
	Facility   uint32 // facility: 0..23 (13: log audit)
}

// Kafka is output.kafka: one record per line to Kafka (idempotent,
// acks=all), spooled to disk while the brokers fail.
type Kafka struct {
	Brokers     []string    // brokers: host:port of the seed brokers; empty = off
	Topics      KafkaTopics // topics:
	Compression string      // compression: one of KafkaCompressions
	TLS         bool        // tls
	CAFile      string      // ca_file: PEM bundle the brokers' certificates must chain to ("" = the system's)
	ServerName  string      // server_name: the name in the brokers' certificates ("" = each broker's host)
	SASL        KafkaSASL   // sasl:
	SpoolDir    string      // spool_dir: where lines wait while the brokers fail
	MaxSpool    int64       // max_spool: bytes; beyond it the oldest lines are dropped, counted
}

// KafkaTopics is output.kafka.topics: valid Kafka topic names, the same
// or not.
type KafkaTopics struct {
	Event string // event: every line but alerts
	Alert string // alert: lines whose event.kind is "alert"
}

// KafkaSASL is output.kafka.sasl. The password is never in the
// configuration: PasswordFile holds it.
type KafkaSASL struct {
	Mechanism    string // mechanism: "" (none) or one of KafkaMechanisms
	Username     string // username
	PasswordFile string // password_file: absolute; its first line is the password
}

// KafkaCompressions and KafkaMechanisms are the values
// output.kafka.compression and output.kafka.sasl.mechanism take.
var (
	KafkaCompressions = []string{"zstd", "lz4"}
	KafkaMechanisms   = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}
)

// AuditLog is the audit_log: section: the kernel's records in auditd's
// own format, for ausearch and aureport.
type AuditLog struct {
	File    string // file: "" = off; else absolute
	MaxSize int64  // max_size: rotate past this many bytes
	Keep    uint32 // keep: rotated files kept (audit.log.1 ..), like auditd's num_logs - 1
}

// Metrics is the metrics: section: a Prometheus text endpoint.
type Metrics struct {
	Listen      string // listen: host:port; "" = off
	AllowRemote bool   // allow_remote: a non-loopback listen address is refused without it
}

// UI is the ui: section: the live local view (lineaged run --ui).
type UI struct {
	Listen      string // listen: host:port; "" = off
	AllowRemote bool   // allow_remote: a non-loopback listen address is refused without it
	TokenFile   string // token_file: where the access token is written (0600); "" = STATE_DIR/ui.token
}

// Detect is the detect: section: the baseline and the detections.
type Detect struct {
	Enabled     bool          // enabled: run the detections at all
	Baseline    string        // baseline: the baseline file, absolute; "" = none (rules that need no baseline only)
	LearnFor    time.Duration // learn_for: how long a new baseline learns before detecting
	SaveEvery   time.Duration // save_every: how often a changed baseline is saved
	ExpireAfter time.Duration // expire_after: entries unseen this long are dropped at start (0: never)
	SigmaDirs   []string      // sigma_dirs: absolute directories of Sigma rules
	FoldWindow  time.Duration // fold_window: one alert per rule and key per window
	RateLimit   uint32        // rate_limit: alerts per rule per rate_window
	RateWindow  time.Duration // rate_window
	Disable     []string      // disable: rule ids switched off
}

// Log is the log: section: lineaged's own log (what it does and the
// trouble it survives), not the events.
type Log struct {
	Format string // format: one of LogFormats
	Level  string // level: one of LogLevels, the least severe entry written
}

// LogFormats and LogLevels are the values log.format and log.level take:
// internal/logging's, copied so that config imports nothing of lineaged
// (a test in package agent fails if the two differ).
var (
	LogFormats = []string{"console", "json"}
	LogLevels  = []string{"debug", "info", "warn", "error"}
)

// Redaction is one entry of redact:.
type Redaction struct {
	Name        string
	Pattern     string
	Replacement string // as regexp.Regexp.ReplaceAllString takes it: ${1} is a group
	// Re is Pattern compiled by Parse.
	Re *regexp.Regexp
	// need is a literal every match contains ("" when the pattern has
	// none that is certain): Redact skips the regexp for a string without
	// it, which is nearly every command line.
	need string
	// needAny lists words, lower case, one of which every match contains
	// ignoring case (nil: no such list): a second, finer sieve, for the
	// strings that hold need ("=" is common in arguments; "password=" is
	// not).
	needAny []string
}

// requiredLiteral returns a literal that every match of pattern contains,
// or "" when it cannot tell. Case-folded literals with letters are not
// used (a plain substring test would miss other cases).
func requiredLiteral(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return ""
	}
	var req func(*syntax.Regexp) string
	req = func(n *syntax.Regexp) string {
		switch n.Op {
		case syntax.OpLiteral:
			lit := string(n.Rune)
			if n.Flags&syntax.FoldCase != 0 && strings.ToLower(lit) != strings.ToUpper(lit) {
				return ""
			}
			return lit
		case syntax.OpCapture, syntax.OpPlus:
			return req(n.Sub[0])
		case syntax.OpRepeat:
			if n.Min >= 1 {
				return req(n.Sub[0])
			}
		case syntax.OpConcat:
			best := ""
			for _, sub := range n.Sub {
				if l := req(sub); len(l) > len(best) {
					best = l
				}
			}
			return best
		}
		return ""
	}
	return req(re.Simplify())
}

// requiredAnyFold returns words one of which, ignoring case, every match
// of pattern contains, lower case: the alternatives of an alternation of
// literals (password|token|api...), or nil when it cannot tell. Only
// ASCII letters are folded (so the check can compare bytes); a pattern
// whose words hold other letters gets nil.
func requiredAnyFold(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	var req func(*syntax.Regexp) []string
	req = func(n *syntax.Regexp) []string {
		switch n.Op {
		case syntax.OpLiteral:
			lit := string(n.Rune)
			for _, r := range lit {
				if r > unicode.MaxASCII {
					return nil
				}
			}
			return []string{strings.ToLower(lit)}
		case syntax.OpCapture, syntax.OpPlus:
			return req(n.Sub[0])
		case syntax.OpRepeat:
			if n.Min >= 1 {
				return req(n.Sub[0])
			}
		case syntax.OpAlternate:
			var all []string
			for _, sub := range n.Sub {
				w := req(sub)
				if w == nil {
					return nil // a branch with no word: no sieve
				}
				all = append(all, w...)
			}
			return all
		case syntax.OpConcat:
			// The sub-pattern whose shortest word is longest sieves best.
			var best []string
			for _, sub := range n.Sub {
				if w := req(sub); w != nil && shortest(w) > shortest(best) {
					best = w
				}
			}
			return best
		}
		return nil
	}
	return req(re.Simplify())
}

func shortest(ws []string) int {
	if len(ws) == 0 {
		return 0
	}
	n := len(ws[0])
	for _, w := range ws[1:] {
		n = min(n, len(w))
	}
	return n
}

// containsAnyFold reports whether s contains one of words (lower-case
// ASCII) ignoring ASCII case.
func containsAnyFold(s string, words []string) bool {
	for _, w := range words {
		for i := 0; i+len(w) <= len(s); i++ {
			if equalFoldASCII(s[i:i+len(w)], w) {
				return true
			}
		}
	}
	return false
}

// equalFoldASCII compares s with lower-case w, folding ASCII letters of s.
func equalFoldASCII(s, w string) bool {
	for i := 0; i < len(w); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

// KV is one setting in force, as Settings lists them.
type KV struct {
	Key, Value string
}

// Default returns the configuration of the embedded default.yml.
func Default() *Config { return parsedDefault().clone() }

// parsedDefault parses default.yml once: Parse starts from it on every
// call, and parsing the commented file costs more than most overlays.
var parsedDefault = sync.OnceValue(func() *Config {
	c := new(Config)
	p := parser{name: "default.yml"}
	p.apply(c, defaultYML)
	if err := p.err(); err != nil {
		// Only a broken build gets here; a test parses the file.
		panic("config: embedded " + err.Error())
	}
	return c
})

// clone copies c deeply enough that the copy can be changed freely; the
// compiled regexps are shared, which regexp allows.
func (c *Config) clone() *Config {
	d := *c
	if c.Audit.BacklogWaitTime != nil {
		w := *c.Audit.BacklogWaitTime
		d.Audit.BacklogWaitTime = &w
	}
	d.Files.Watches = slices.Clone(c.Files.Watches)
	for i := range d.Files.Watches {
		d.Files.Watches[i].Ops = slices.Clone(d.Files.Watches[i].Ops)
	}
	d.Files.Exclude = slices.Clone(c.Files.Exclude)
	d.Output.Kafka.Brokers = slices.Clone(c.Output.Kafka.Brokers)
	d.Redactions = slices.Clone(c.Redactions)
	return &d
}

// Parse reads a configuration file's contents over the defaults. name is
// used in errors, which read "name:line: key: problem"; empty data, or
// only comments, gives the defaults.
func Parse(name string, data []byte) (*Config, error) {
	c := Default()
	p := parser{name: name, lines: map[string]int{}}
	p.apply(c, data)
	if len(p.errs) == 0 {
		p.checkFiles(c)
		p.checkKafka(c)
		// The counters and the view tell what the host is doing.
		p.checkLoopback(c.Metrics.Listen, c.Metrics.AllowRemote, "metrics")
		p.checkLoopback(c.UI.Listen, c.UI.AllowRemote, "ui")
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Load reads the file at path and parses it. A missing file gives an
// error that wraps fs.ErrNotExist, so the caller can choose to run with
// the defaults. A file others can write is refused: whoever can edit it
// can switch off what lineaged watches.
func Load(path string) (*Config, error) {
	// Stat before opening: opening a FIFO would block.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	if err := checkMode(path, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	defer f.Close()
	// Again on the open file: the path may have been replaced between.
	if fi, err = f.Stat(); err != nil {
		return nil, pathError(path, err)
	}
	if err := checkMode(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, pathError(path, err)
	}
	if len(data) > maxSize {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a lineaged configuration", path, maxSize)
	}
	return Parse(path, data)
}

func pathError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", path, err)
}

func checkMode(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file (%s): refused", path, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); perm&0o002 != 0 {
		return fmt.Errorf("%s: writable by others (mode %04o): refused; fix with chmod o-w %s", path, perm, path)
	}
	return nil
}

// Redact applies the redactions to s, in order.
func (c *Config) Redact(s string) string {
	for _, r := range c.Redactions {
		// Most command lines hold no secret: matching first spares the
		// replacement's allocations on the hot path.
		if r.need != "" && !strings.Contains(s, r.need) {
			continue
		}
		if r.needAny != nil && !containsAnyFold(s, r.needAny) {
			continue
		}
		if r.Re != nil && r.Re.MatchString(s) {
			s = r.Re.ReplaceAllString(s, r.Replacement)
		}
	}
	return s
}

// Settings lists every setting in force, in the order of default.yml,
// for the event lineaged writes at start and at reload. Values read as
// they would in the file; user watches follow files.watches, one line
// each, as files.watches[i]. The keys are read by the report's CIS
// section and by operators' tooling: keep them stable.
func (c *Config) Settings() []KV {
	d := func(v time.Duration) string { return v.String() }
	u := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
	b := strconv.FormatBool
	sz := func(v int64) string { return strconv.FormatInt(v, 10) }
	wait := "null"
	if c.Audit.BacklogWaitTime != nil {
		wait = u(*c.Audit.BacklogWaitTime)
	}
	// The built-in watches are the agent's (fanotify's) to count; config
	// only knows that they are included.
	watches := strconv.Itoa(len(c.Files.Watches))
	if c.Files.Defaults {
		watches += " (+ defaults)"
	}
	var names []string
	for _, r := range c.Redactions {
		names = append(names, r.Name)
	}
	kv := []KV{
		{"host", c.Host},
		{"state_dir", c.StateDir},
		{"audit.mode", c.Audit.Mode},
		{"audit.rules_dir", c.Audit.RulesDir},
		{"audit.backlog_limit", u(c.Audit.BacklogLimit)},
		{"audit.rate_limit", u(c.Audit.RateLimit)},
		{"audit.failure", u(c.Audit.Failure)},
		{"audit.backlog_wait_time", wait},
		{"audit.allow_immutable", b(c.Audit.AllowImmutable)},
		{"proc.enabled", b(c.Proc.Enabled)},
		{"files.enabled", b(c.Files.Enabled)},
		{"files.defaults", b(c.Files.Defaults)},
		{"files.watches", watches},
	}
	for i, w := range c.Files.Watches {
		v := w.Path + " ops=" + strings.Join(w.Ops, ",")
		if w.Class != "" {
			v += " class=" + w.Class
		}
		if w.Recursive {
			v += " recursive"
		}
		kv = append(kv, KV{fmt.Sprintf("files.watches[%d]", i), v})
	}
	return append(kv,
		KV{"files.exclude", strings.Join(c.Files.Exclude, ", ")},
		KV{"files.unlimited_queue", b(c.Files.UnlimitedQueue)},
		KV{"network.snapshot_every", d(c.Network.SnapshotEvery)},
		KV{"output.file", c.Output.File},
		KV{"output.flush_every", d(c.Output.FlushEvery)},
		KV{"output.ancestry", c.Output.Ancestry},
		KV{"output.record_types", b(c.Output.RecordTypes)},
		KV{"output.host_details", b(c.Output.HostDetails)},
		KV{"output.max_size", sz(c.Output.MaxSize)},
		KV{"output.keep", u(c.Output.Keep)},
		KV{"output.syslog.address", c.Output.Syslog.Address},
		KV{"output.syslog.tls", b(c.Output.Syslog.TLS)},
		KV{"output.syslog.ca_file", c.Output.Syslog.CAFile},
		KV{"output.syslog.server_name", c.Output.Syslog.ServerName},
		KV{"output.syslog.spool_dir", c.Output.Syslog.SpoolDir},
		KV{"output.syslog.max_spool", sz(c.Output.Syslog.MaxSpool)},
		KV{"output.syslog.facility", u(c.Output.Syslog.Facility)},
		KV{"output.kafka.brokers", strings.Join(c.Output.Kafka.Brokers, ", ")},
		KV{"output.kafka.topics.event", c.Output.Kafka.Topics.Event},
		KV{"output.kafka.topics.alert", c.Output.Kafka.Topics.Alert},
		KV{"output.kafka.compression", c.Output.Kafka.Compression},
		KV{"output.kafka.tls", b(c.Output.Kafka.TLS)},
		KV{"output.kafka.ca_file", c.Output.Kafka.CAFile},
		KV{"output.kafka.server_name", c.Output.Kafka.ServerName},
		KV{"output.kafka.sasl.mechanism", c.Output.Kafka.SASL.Mechanism},
		KV{"output.kafka.sasl.username", c.Output.Kafka.SASL.Username},
		KV{"output.kafka.sasl.password_file", c.Output.Kafka.SASL.PasswordFile},
		KV{"output.kafka.spool_dir", c.Output.Kafka.SpoolDir},
		KV{"output.kafka.max_spool", sz(c.Output.Kafka.MaxSpool)},
		KV{"audit_log.file", c.AuditLog.File},
		KV{"audit_log.max_size", sz(c.AuditLog.MaxSize)},
		KV{"audit_log.keep", u(c.AuditLog.Keep)},
		KV{"metrics.listen", c.Metrics.Listen},
		KV{"metrics.allow_remote", b(c.Metrics.AllowRemote)},
		KV{"ui.listen", c.UI.Listen},
		KV{"ui.allow_remote", b(c.UI.AllowRemote)},
		KV{"ui.token_file", c.UI.TokenFile},
		KV{"detect.enabled", b(c.Detect.Enabled)},
		KV{"detect.baseline", c.Detect.Baseline},
		KV{"detect.learn_for", d(c.Detect.LearnFor)},
		KV{"detect.save_every", d(c.Detect.SaveEvery)},
		KV{"detect.expire_after", d(c.Detect.ExpireAfter)},
		KV{"detect.sigma_dirs", strings.Join(c.Detect.SigmaDirs, ", ")},
		KV{"detect.fold_window", d(c.Detect.FoldWindow)},
		KV{"detect.rate_limit", u(c.Detect.RateLimit)},
		KV{"detect.rate_window", d(c.Detect.RateWindow)},
		KV{"detect.disable", strings.Join(c.Detect.Disable, ", ")},
		KV{"log.format", c.Log.Format},
		KV{"log.level", c.Log.Level},
		KV{"batch_window", d(c.BatchWindow)},
		KV{"heartbeat_every", d(c.HeartbeatEvery)},
		KV{"redact", strings.Join(names, ", ")},
	)
}

// parser walks a yaml.Node tree against the fields below, collecting
// errors rather than stopping at the first, so one edit fixes them all.
type parser struct {
	name  string
	errs  []error
	lines map[string]int // dotted key -> line, for checks made after the walk
}

func (p *parser) err() error { return errors.Join(p.errs...) }

// fail records an error about key at the line of node n.
func (p *parser) fail(n *yaml.Node, key, format string, a ...any) {
	switch {
	case len(p.errs) < maxErrors:
		p.errs = append(p.errs, fmt.Errorf("%s:%d: %s: %s", p.name, n.Line, key, fmt.Sprintf(format, a...)))
	case len(p.errs) == maxErrors:
		p.errs = append(p.errs, fmt.Errorf("%s: more errors not shown", p.name))
	}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// apply decodes data and sets the keys it holds on c.
func (p *parser) apply(c *Config, data []byte) {
	doc, err := decode(data)
	if err != nil {
		// Give syntax errors the same name:line: form as the others.
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			msg = p.name + ":" + m[1] + ": " + strings.TrimPrefix(msg, m[0])
		} else {
			msg = p.name + ": " + strings.TrimPrefix(msg, "yaml: ")
		}
		p.errs = append(p.errs, errors.New(msg+" (YAML syntax)"))
		return
	}
	if doc == nil {
		return
	}
	p.mapping(doc, "", []field{
		{"host", func(k string, v *yaml.Node) { p.str(k, v, &c.Host, true) }},
		{"state_dir", func(k string, v *yaml.Node) { p.path(k, v, &c.StateDir, false) }},
		{"audit", func(k string, v *yaml.Node) {
			a := &c.Audit
			p.mapping(v, k, []field{
				{"mode", func(k string, v *yaml.Node) { p.oneOf(k, v, &a.Mode, "auto", "own", "multicast", "off") }},
				{"rules_dir", func(k string, v *yaml.Node) { p.path(k, v, &a.RulesDir, false) }},
				{"backlog_limit", func(k string, v *yaml.Node) { p.uint32(k, v, &a.BacklogLimit, 1, 10000000) }},
				{"rate_limit", func(k string, v *yaml.Node) { p.uint32(k, v, &a.RateLimit, 0, 1<<32-1) }},
				{"failure", func(k string, v *yaml.Node) {
					var f uint32
					if !p.uint32(k, v, &f, 0, 1<<32-1) {
						return
					}
					switch f {
					case 0, 1:
						a.Failure = f
					case 2:
						p.fail(v, k, "2 (panic) is refused: lost audit records would halt the host; use 1 (kernel log line) or 0 (nothing)")
					default:
						p.fail(v, k, "%d is not 0 (nothing) or 1 (kernel log line)", f)
					}
				}},
				{"backlog_wait_time", func(k string, v *yaml.Node) {
					if isNull(v) {
						a.BacklogWaitTime = nil
						return
					}
					var w uint32
					if p.uint32(k, v, &w, 0, 600000) {
						a.BacklogWaitTime = &w
					}
				}},
				{"allow_immutable", func(k string, v *yaml.Node) { p.bool(k, v, &a.AllowImmutable) }},
			})
		}},
		{"proc", func(k string, v *yaml.Node) {
			p.mapping(v, k, []field{
				{"enabled", func(k string, v *yaml.Node) { p.bool(k, v, &c.Proc.Enabled) }},
			})
		}},
		{"files", func(k string, v *yaml.Node) {
			f := &c.Files
			p.mapping(v, k, []field{
				{"enabled", func(k string, v *yaml.Node) { p.bool(k, v, &f.Enabled) }},
				{"defaults", func(k string, v *yaml.Node) { p.bool(k, v, &f.Defaults) }},
				{"watches", func(k string, v *yaml.Node) { p.watches(k, v, &f.Watches) }},
				{"exclude", func(k string, v *yaml.Node) { p.exclude(k, v, &f.Exclude) }},
				{"unlimited_queue", func(k string, v *yaml.Node) { p.bool(k, v, &f.UnlimitedQueue) }},
			})
		}},
		{"network", func(k string, v *yaml.Node) {
			p.mapping(v, k, []field{
				{"snapshot_every", func(k string, v *yaml.Node) {
					p.duration(k, v, &c.Network.SnapshotEvery, "0 (off) or at least 100ms",
						func(d time.Duration) bool { return d == 0 || d >= 100*time.Millisecond })
				}},
			})
		}},
		{"output", func(k string, v *yaml.Node) {
			p.mapping(v, k, []field{
				{"file", func(k string, v *yaml.Node) { p.path(k, v, &c.Output.File, true) }},
				{"flush_every", func(k string, v *yaml.Node) {
					p.duration(k, v, &c.Output.FlushEvery, "1ms to 10s",
						func(d time.Duration) bool { return d >= time.Millisecond && d <= 10*time.Second })
				}},
				{"max_size", func(k string, v *yaml.Node) { p.size(k, v, &c.Output.MaxSize, 0, 1<<20) }},
				{"keep", func(k string, v *yaml.Node) { p.uint32(k, v, &c.Output.Keep, 1, 1000) }},
				{"ancestry", func(k string, v *yaml.Node) { p.oneOf(k, v, &c.Output.Ancestry, "full", "compact", "ids") }},
				{"record_types", func(k string, v *yaml.Node) { p.bool(k, v, &c.Output.RecordTypes) }},
				{"host_details", func(k string, v *yaml.Node) { p.bool(k, v, &c.Output.HostDetails) }},
				{"syslog", func(k string, v *yaml.Node) {
					sl := &c.Output.Syslog
					p.mapping(v, k, []field{
						{"address", func(k string, v *yaml.Node) {
							var a string
							if !p.str(k, v, &a, true) {
								return
							}
							if a != "" {
								if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
									p.fail(v, k, "%q is not host:port", a)
									return
								}
							}
							sl.Address = a
						}},
						{"tls", func(k string, v *yaml.Node) { p.bool(k, v, &sl.TLS) }},
						{"ca_file", func(k string, v *yaml.Node) { p.optPath(k, v, &sl.CAFile) }},
						{"server_name", func(k string, v *yaml.Node) { p.str(k, v, &sl.ServerName, true) }},
						{"spool_dir", func(k string, v *yaml.Node) { p.path(k, v, &sl.SpoolDir, false) }},
						{"max_spool", func(k string, v *yaml.Node) { p.size(k, v, &sl.MaxSpool, 1<<20, 1<<40) }},
						{"facility", func(k string, v *yaml.Node) { p.uint32(k, v, &sl.Facility, 0, 23) }},
					})
				}},
				{"kafka", func(k string, v *yaml.Node) { p.kafka(k, v, &c.Output.Kafka) }},
			})
		}},
		{"audit_log", func(k string, v *yaml.Node) {
			al := &c.AuditLog
			p.mapping(v, k, []field{
				{"file", func(k string, v *yaml.Node) { p.optPath(k, v, &al.File) }},
				{"max_size", func(k string, v *yaml.Node) { p.size(k, v, &al.MaxSize, 1<<20, 1<<40) }},
				{"keep", func(k string, v *yaml.Node) { p.uint32(k, v, &al.Keep, 1, 998) }},
			})
		}},
		{"metrics", func(k string, v *yaml.Node) {
			m := &c.Metrics
			p.mapping(v, k, []field{
				{"listen", func(k string, v *yaml.Node) { p.listen(k, v, &m.Listen) }},
				{"allow_remote", func(k string, v *yaml.Node) { p.bool(k, v, &m.AllowRemote) }},
			})
		}},
		{"ui", func(k string, v *yaml.Node) {
			m := &c.UI
			p.mapping(v, k, []field{
				{"listen", func(k string, v *yaml.Node) { p.listen(k, v, &m.Listen) }},
				{"allow_remote", func(k string, v *yaml.Node) { p.bool(k, v, &m.AllowRemote) }},
				{"token_file", func(k string, v *yaml.Node) { p.optPath(k, v, &m.TokenFile) }},
			})
		}},
		{"detect", func(k string, v *yaml.Node) {
			dt := &c.Detect
			p.mapping(v, k, []field{
				{"enabled", func(k string, v *yaml.Node) { p.bool(k, v, &dt.Enabled) }},
				{"baseline", func(k string, v *yaml.Node) { p.optPath(k, v, &dt.Baseline) }},
				{"learn_for", func(k string, v *yaml.Node) {
					p.duration(k, v, &dt.LearnFor, "0 (detect at once) or at least 1m",
						func(d time.Duration) bool { return d == 0 || d >= time.Minute })
				}},
				{"save_every", func(k string, v *yaml.Node) {
					p.duration(k, v, &dt.SaveEvery, "10s to 24h",
						func(d time.Duration) bool { return d >= 10*time.Second && d <= 24*time.Hour })
				}},
				{"expire_after", func(k string, v *yaml.Node) {
					p.duration(k, v, &dt.ExpireAfter, "0 (never) or at least 24h",
						func(d time.Duration) bool { return d == 0 || d >= 24*time.Hour })
				}},
				{"sigma_dirs", func(k string, v *yaml.Node) {
					dt.SigmaDirs = nil
					p.list(k, v, "absolute directories", func(k string, e *yaml.Node) {
						var d string
						p.path(k, e, &d, false)
						if d != "" {
							dt.SigmaDirs = append(dt.SigmaDirs, d)
						}
					})
				}},
				{"fold_window", func(k string, v *yaml.Node) {
					p.duration(k, v, &dt.FoldWindow, "1s to 7d",
						func(d time.Duration) bool { return d >= time.Second && d <= 7*24*time.Hour })
				}},
				{"rate_limit", func(k string, v *yaml.Node) { p.uint32(k, v, &dt.RateLimit, 1, 100000) }},
				{"rate_window", func(k string, v *yaml.Node) {
					p.duration(k, v, &dt.RateWindow, "1s to 24h",
						func(d time.Duration) bool { return d >= time.Second && d <= 24*time.Hour })
				}},
				{"disable", func(k string, v *yaml.Node) {
					dt.Disable = nil
					p.list(k, v, "rule ids (lineaged rules lists them)", func(k string, e *yaml.Node) {
						var id string
						if p.str(k, e, &id, false) && id != "" {
							dt.Disable = append(dt.Disable, id)
						}
					})
				}},
			})
		}},
		{"log", func(k string, v *yaml.Node) {
			p.mapping(v, k, []field{
				{"format", func(k string, v *yaml.Node) { p.oneOf(k, v, &c.Log.Format, LogFormats...) }},
				{"level", func(k string, v *yaml.Node) { p.oneOf(k, v, &c.Log.Level, LogLevels...) }},
			})
		}},
		{"batch_window", func(k string, v *yaml.Node) {
			p.duration(k, v, &c.BatchWindow, "0 to 1s",
				func(d time.Duration) bool { return d <= time.Second })
		}},
		{"heartbeat_every", func(k string, v *yaml.Node) {
			p.duration(k, v, &c.HeartbeatEvery, "0 (off) or at least 1s",
				func(d time.Duration) bool { return d == 0 || d >= time.Second })
		}},
		{"redact", func(k string, v *yaml.Node) { p.redactions(k, v, &c.Redactions) }},
	})
}

// decode returns the document's top node, or nil for an empty document.
func decode(data []byte) (doc *yaml.Node, err error) {
	// A configuration parser must not take the agent down on a bad file,
	// whatever the YAML library does with it.
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("yaml: cannot parse: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == io.EOF:
	case err != nil:
		return nil, err
	default:
		return nil, fmt.Errorf("yaml: line %d: a second YAML document (after ---): put everything in one", extra.Line)
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil, nil
		}
		return n.Content[0], nil
	}
	return &n, nil
}

// field is one key of a mapping and what to do with its value; set gets
// the full dotted key, for errors.
type field struct {
	name string
	set  func(key string, v *yaml.Node)
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// mapping checks that n is a mapping of known, distinct keys and calls
// each one's set. An empty value (a section whose keys are all commented
// out) keeps the defaults. It returns the value nodes by key.
func (p *parser) mapping(n *yaml.Node, prefix string, fields []field) map[string]*yaml.Node {
	if isNull(n) {
		return nil
	}
	if !p.notAlias(n, prefix) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, orTop(prefix), "%s is not a mapping; want keys: %s", describe(n), names(fields))
		return nil
	}
	seen := map[string]*yaml.Node{}
	keyLine := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			p.fail(k, orTop(prefix), "a key must be a plain name; allowed: %s", names(fields))
			continue
		}
		key := join(prefix, k.Value)
		if first, dup := keyLine[k.Value]; dup {
			p.fail(k, key, "duplicate key (first at line %d): keep one", first)
			continue
		}
		keyLine[k.Value] = k.Line
		var f *field
		for i := range fields {
			if fields[i].name == k.Value {
				f = &fields[i]
			}
		}
		if f == nil {
			p.fail(k, key, "unknown key (allowed: %s)", names(fields))
			continue
		}
		if p.lines != nil {
			p.lines[key] = k.Line
		}
		seen[k.Value] = v
		if p.notAlias(v, key) {
			f.set(key, v)
		}
	}
	return seen
}

func orTop(prefix string) string {
	if prefix == "" {
		return "(top level)"
	}
	return prefix
}

func names(fields []field) string {
	s := make([]string, len(fields))
	for i, f := range fields {
		s[i] = f.name
	}
	return strings.Join(s, ", ")
}

// notAlias refuses YAML aliases (*name): no configuration needs them, and
// following them would let a small file expand into a huge one.
func (p *parser) notAlias(v *yaml.Node, key string) bool {
	if v.Kind == yaml.AliasNode {
		p.fail(v, orTop(key), "aliases (*%s) are not supported: write the value out", v.Value)
		return false
	}
	return true
}

func isNull(v *yaml.Node) bool { return v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" }

// describe names a value the way an error should show it.
func describe(v *yaml.Node) string {
	switch v.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	if isNull(v) {
		return "empty"
	}
	return strconv.Quote(v.Value)
}

// scalar returns v's text if it is a scalar of tag tag ("!!str", ...).
func scalar(v *yaml.Node, tag string) (string, bool) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != tag {
		return "", false
	}
	return v.Value, true
}

func (p *parser) str(key string, v *yaml.Node, dst *string, nullOK bool) bool {
	if nullOK && isNull(v) {
		*dst = ""
		return true
	}
	s, ok := scalar(v, "!!str")
	if !ok {
		hint := ""
		if v.Kind == yaml.ScalarNode && !isNull(v) {
			hint = " (quote it if it is meant as text)"
		}
		p.fail(v, key, "%s is not a string%s", describe(v), hint)
		return false
	}
	if strings.IndexByte(s, 0) >= 0 {
		p.fail(v, key, "contains a NUL byte")
		return false
	}
	*dst = s
	return true
}

// path reads an absolute path, cleaned; dash allows "-" (standard output).
func (p *parser) path(key string, v *yaml.Node, dst *string, dash bool) {
	want := "an absolute path"
	if dash {
		want = `an absolute path or "-" for standard output`
	}
	if isNull(v) {
		p.fail(v, key, "no value; want %s", want)
		return
	}
	var s string
	if !p.str(key, v, &s, false) {
		return
	}
	switch {
	case dash && s == "-":
	case !filepath.IsAbs(s):
		p.fail(v, key, "%q is not %s", s, want)
		return
	default:
		s = filepath.Clean(s)
	}
	*dst = s
}

func (p *parser) oneOf(key string, v *yaml.Node, dst *string, allowed ...string) {
	s, ok := scalar(v, "!!str")
	if ok {
		for _, a := range allowed {
			if s == a {
				*dst = s
				return
			}
		}
	}
	p.fail(v, key, "%s is not one of %s", describe(v), strings.Join(allowed, ", "))
}

func (p *parser) uint32(key string, v *yaml.Node, dst *uint32, lo, hi uint64) bool {
	var n int64
	if _, ok := scalar(v, "!!int"); !ok || v.Decode(&n) != nil || n < 0 || uint64(n) < lo || uint64(n) > hi {
		p.fail(v, key, "%s is not a whole number from %d to %d", describe(v), lo, hi)
		return false
	}
	*dst = uint32(n)
	return true
}

// optPath reads an absolute path or "" (off).
func (p *parser) optPath(key string, v *yaml.Node, dst *string) {
	var s string
	if !p.str(key, v, &s, true) {
		return
	}
	if s != "" && !filepath.IsAbs(s) {
		p.fail(v, key, "%q is not an absolute path (or \"\" for off)", s)
		return
	}
	if s != "" {
		s = filepath.Clean(s)
	}
	*dst = s
}

// size reads a byte count: a whole number, or one with a binary suffix
// K, M or G ("100M" is 100 MiB). 0 is allowed when lo is 0.
func (p *parser) size(key string, v *yaml.Node, dst *int64, lo, hi int64) {
	allowed := fmt.Sprintf("a size such as 512K, 100M or 2G, from %d to %d bytes", lo, hi)
	if lo == 0 {
		allowed = "0 (never) or " + fmt.Sprintf("a size such as 512K, 100M or 2G, at least %d bytes", hi)
	}
	if v.Kind != yaml.ScalarNode || isNull(v) {
		p.fail(v, key, "%s is not %s", describe(v), allowed)
		return
	}
	s := strings.TrimSpace(v.Value)
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		p.fail(v, key, "%s is not %s", describe(v), allowed)
		return
	}
	n *= mult
	if lo == 0 {
		if n != 0 && n < hi {
			p.fail(v, key, "%d bytes is too small (allowed: %s)", n, allowed)
			return
		}
	} else if n < lo || n > hi {
		p.fail(v, key, "%d bytes is out of range (allowed: %s)", n, allowed)
		return
	}
	*dst = n
}

func (p *parser) bool(key string, v *yaml.Node, dst *bool) {
	if _, ok := scalar(v, "!!bool"); !ok || v.Decode(dst) != nil {
		p.fail(v, key, "%s is not true or false", describe(v))
	}
}

// duration reads a Go duration ("100ms", "5m"); a bare 0 needs no unit.
func (p *parser) duration(key string, v *yaml.Node, dst *time.Duration, allowed string, ok func(time.Duration) bool) {
	var d time.Duration
	var err error
	if s, isStr := scalar(v, "!!str"); isStr {
		d, err = time.ParseDuration(s)
	} else if s, isInt := scalar(v, "!!int"); isInt && strings.Trim(s, "0+-") == "" {
		d = 0
	} else {
		err = errors.New("not a duration")
	}
	if err != nil || d < 0 {
		p.fail(v, key, "%s is not a duration such as 100ms, 10s or 5m (allowed: %s)", describe(v), allowed)
		return
	}
	if !ok(d) {
		p.fail(v, key, "%s is out of range (allowed: %s)", d, allowed)
		return
	}
	*dst = d
}

// list calls each for every entry of a list value; empty is an empty list.
func (p *parser) list(key string, v *yaml.Node, what string, each func(key string, e *yaml.Node)) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.SequenceNode {
		p.fail(v, key, "%s is not a list; want a list of %s (one \"- \" line each, or [] for none)", describe(v), what)
		return
	}
	for i, e := range v.Content {
		k := fmt.Sprintf("%s[%d]", key, i)
		if isNull(e) {
			p.fail(e, k, "empty entry; want one of %s", what)
			continue
		}
		if p.notAlias(e, k) {
			each(k, e)
		}
	}
}

// parseFileOps reads operation names separated by commas or spaces, as
// fanotify.ParseOps does, into the canonical form Watch.Ops documents.
func parseFileOps(text string) ([]string, error) {
	set := map[string]bool{}
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		switch {
		case f == "all":
			for _, o := range FileOps {
				set[o] = true
			}
		case slices.Contains(FileOps, f):
			set[f] = true
		default:
			return nil, fmt.Errorf("unknown file operation %q (want %s or all)", f, strings.Join(FileOps, ", "))
		}
	}
	if len(set) == 0 {
		return nil, errors.New("no file operation named")
	}
	var ops []string
	for _, o := range FileOps {
		if set[o] {
			ops = append(ops, o)
		}
	}
	return ops, nil
}

// checkFilePath is fanotify's rule for a watched or excluded path, which
// config applies itself so that the error carries the file's line: ""
// when p is fine, else what is wrong. agent.FilePolicy checks again with
// fanotify's own Validate, and a fuzz test there fails if config ever
// accepts what fanotify refuses.
func checkFilePath(p string) string {
	switch {
	case p == "":
		return "empty"
	case strings.IndexByte(p, 0) >= 0:
		return "contains a NUL byte"
	case !filepath.IsAbs(p):
		return "not absolute"
	case filepath.Clean(p) != p:
		return fmt.Sprintf("not clean (write %q)", filepath.Clean(p))
	case p == "/":
		// A recursive mark on / would send every file operation of the
		// root filesystem.
		return "/ itself cannot be watched: name the directories"
	}
	return ""
}

// hasPattern reports whether p holds filepath.Match metacharacters.
func hasPattern(p string) bool { return strings.ContainsAny(p, `*?[\`) }

func (p *parser) watches(key string, v *yaml.Node, dst *[]Watch) {
	ws := []Watch{}
	p.list(key, v, "watches (path, ops, class, recursive)", func(k string, e *yaml.Node) {
		var w Watch
		var bad bool
		seen := p.mapping(e, k, []field{
			{"path", func(k string, v *yaml.Node) { bad = !p.str(k, v, &w.Path, false) || bad }},
			{"ops", func(k string, v *yaml.Node) {
				text, ok := v.Value, true
				if v.Kind == yaml.SequenceNode {
					var parts []string
					for _, o := range v.Content {
						s, isStr := scalar(o, "!!str")
						ok = ok && isStr
						parts = append(parts, s)
					}
					text = strings.Join(parts, ",")
				} else if _, isStr := scalar(v, "!!str"); !isStr {
					ok = false
				}
				var err error
				if ok {
					w.Ops, err = parseFileOps(text)
				}
				if !ok || err != nil {
					why := "want " + strings.Join(FileOps, ", ") + " or all, as a list or separated by commas"
					if err != nil {
						why = err.Error()
					}
					p.fail(v, k, "%s: %s", describe(v), why)
					bad = true
				}
			}},
			{"class", func(k string, v *yaml.Node) { bad = !p.str(k, v, &w.Class, true) || bad }},
			{"recursive", func(k string, v *yaml.Node) { p.bool(k, v, &w.Recursive) }},
		})
		if e.Kind != yaml.MappingNode {
			return
		}
		for _, req := range []string{"path", "ops"} {
			if seen[req] == nil {
				p.fail(e, k, "%s is missing (each watch needs path and ops)", req)
				bad = true
			}
		}
		if bad {
			return
		}
		why := checkFilePath(w.Path)
		if why == "" && hasPattern(w.Path) {
			if _, err := filepath.Match(w.Path, ""); err != nil {
				why = err.Error()
			}
		}
		if why != "" {
			p.fail(seen["path"], k, "path %q: %s", w.Path, why)
			return
		}
		ws = append(ws, w)
	})
	*dst = ws
}

func (p *parser) exclude(key string, v *yaml.Node, dst *[]string) {
	ex := []string{}
	p.list(key, v, "absolute paths", func(k string, e *yaml.Node) {
		var s string
		if !p.str(k, e, &s, false) {
			return
		}
		why := checkFilePath(s)
		if why == "" && hasPattern(s) {
			// Exclusions are matched as path prefixes, not patterns.
			why = "patterns are not supported here"
		}
		if why != "" {
			p.fail(e, k, "%q: %s", s, why)
			return
		}
		ex = append(ex, s)
	})
	*dst = ex
}

var redactionName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func (p *parser) redactions(key string, v *yaml.Node, dst *[]Redaction) {
	rs := []Redaction{}
	names := map[string]int{}
	p.list(key, v, "redactions (name, pattern, replacement)", func(k string, e *yaml.Node) {
		r := Redaction{Replacement: "[REDACTED]"}
		bad := false
		seen := p.mapping(e, k, []field{
			{"name", func(k string, v *yaml.Node) {
				if !p.str(k, v, &r.Name, false) {
					bad = true
					return
				}
				if !redactionName.MatchString(r.Name) {
					p.fail(v, k, "%q: use letters, digits, \"-\", \"_\" or \".\"", r.Name)
					bad = true
				} else if first, dup := names[r.Name]; dup {
					p.fail(v, k, "%q is already the name of the entry at line %d: names must be unique", r.Name, first)
					bad = true
				} else {
					names[r.Name] = v.Line
				}
			}},
			{"pattern", func(k string, v *yaml.Node) {
				if !p.str(k, v, &r.Pattern, false) {
					bad = true
					return
				}
				re, err := regexp.Compile(r.Pattern)
				if err != nil {
					p.fail(v, k, "%v (Go RE2 syntax)", err)
					bad = true
					return
				}
				if re.MatchString("") {
					p.fail(v, k, "%q matches the empty string, so it would insert its replacement everywhere", r.Pattern)
					bad = true
					return
				}
				r.Re = re
				r.need = requiredLiteral(r.Pattern)
				r.needAny = requiredAnyFold(r.Pattern)
			}},
			{"replacement", func(k string, v *yaml.Node) { bad = !p.str(k, v, &r.Replacement, true) || bad }},
		})
		if e.Kind != yaml.MappingNode {
			return
		}
		for _, req := range []string{"name", "pattern"} {
			if seen[req] == nil {
				p.fail(e, k, "%s is missing (each redaction needs name and pattern)", req)
				bad = true
			}
		}
		if bad {
			return
		}
		if msg := checkReplacement(r.Re, r.Replacement); msg != "" {
			p.fail(seen["replacement"], k+".replacement", "%s", msg)
			return
		}
		rs = append(rs, r)
	})
	*dst = rs
}

// replacementRef finds what regexp.Expand reads as a group reference:
// $name or ${name}, name made of letters, digits and _; $$ is a dollar.
var replacementRef = regexp.MustCompile(`\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))`)

// checkReplacement reports a reference to a group the pattern does not
// have: Expand would silently put nothing there.
func checkReplacement(re *regexp.Regexp, repl string) string {
	for _, m := range replacementRef.FindAllStringSubmatch(repl, -1) {
		if m[1] == "$" {
			continue
		}
		name := m[2] + m[3]
		// Expand's rule: digits without a leading zero are a number.
		if n, err := strconv.Atoi(name); err == nil && (name[0] != '0' || len(name) == 1) && len(name) <= 8 {
			if n > re.NumSubexp() {
				return fmt.Sprintf("%q refers to group %d, but the pattern has %d; write $$ for a literal $", repl, n, re.NumSubexp())
			}
			continue
		}
		if re.SubexpIndex(name) < 0 {
			return fmt.Sprintf("%q refers to a group named %q, which the pattern does not have (write ${1}x, not $1x, when letters follow; $$ for a literal $)", repl, name)
		}
	}
	return ""
}

// checkFiles checks what no single entry shows: that there is something
// to watch at all. The error goes to the line of files.watches, else
// files.defaults, else files. The rest of the policy's validity (the
// built-in watches, lineaged's own paths) is agent.FilePolicy's.
func (p *parser) checkFiles(c *Config) {
	if !c.Files.Enabled || c.Files.Defaults || len(c.Files.Watches) > 0 {
		return
	}
	line := 1
	for _, k := range []string{"files.watches", "files.defaults", "files"} {
		if l, ok := p.lines[k]; ok {
			line = l
			break
		}
	}
	p.fail(&yaml.Node{Line: line}, "files.watches", "no path to watch: files.defaults is false and files.watches is empty; add a watch, set files.defaults: true, or files.enabled: false")
}

// kafka reads output.kafka; checkKafka checks it as a whole.
func (p *parser) kafka(key string, v *yaml.Node, kc *Kafka) {
	p.mapping(v, key, []field{
		{"brokers", func(k string, v *yaml.Node) {
			bs := []string{}
			p.list(k, v, "host:port addresses", func(k string, e *yaml.Node) {
				var a string
				if !p.str(k, e, &a, false) {
					return
				}
				if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
					p.fail(e, k, "%q is not host:port", a)
					return
				}
				bs = append(bs, a)
			})
			kc.Brokers = bs
		}},
		{"topics", func(k string, v *yaml.Node) {
			p.mapping(v, k, []field{
				{"event", func(k string, v *yaml.Node) { p.kafkaTopic(k, v, &kc.Topics.Event) }},
				{"alert", func(k string, v *yaml.Node) { p.kafkaTopic(k, v, &kc.Topics.Alert) }},
			})
		}},
		{"compression", func(k string, v *yaml.Node) { p.oneOf(k, v, &kc.Compression, KafkaCompressions...) }},
		{"tls", func(k string, v *yaml.Node) { p.bool(k, v, &kc.TLS) }},
		{"ca_file", func(k string, v *yaml.Node) { p.optPath(k, v, &kc.CAFile) }},
		{"server_name", func(k string, v *yaml.Node) { p.str(k, v, &kc.ServerName, true) }},
		{"sasl", func(k string, v *yaml.Node) {
			p.mapping(v, k, []field{
				{"mechanism", func(k string, v *yaml.Node) {
					if s, ok := scalar(v, "!!str"); isNull(v) || (ok && s == "") {
						kc.SASL.Mechanism = ""
						return
					}
					p.oneOf(k, v, &kc.SASL.Mechanism, KafkaMechanisms...)
				}},
				{"username", func(k string, v *yaml.Node) { p.str(k, v, &kc.SASL.Username, true) }},
				{"password_file", func(k string, v *yaml.Node) { p.optPath(k, v, &kc.SASL.PasswordFile) }},
			})
		}},
		{"spool_dir", func(k string, v *yaml.Node) { p.path(k, v, &kc.SpoolDir, false) }},
		{"max_spool", func(k string, v *yaml.Node) { p.size(k, v, &kc.MaxSpool, 1<<20, 1<<40) }},
	})
}

// kafkaTopic reads a topic name as Kafka allows it: 1 to 249 of ASCII
// letters, digits, ".", "_" and "-", and not "." or "..".
func (p *parser) kafkaTopic(key string, v *yaml.Node, dst *string) {
	var s string
	if !p.str(key, v, &s, false) {
		return
	}
	if !kafkaTopicName.MatchString(s) || s == "." || s == ".." {
		p.fail(v, key, "%q is not a Kafka topic name (1 to 249 of letters, digits, \".\", \"_\" and \"-\")", s)
		return
	}
	*dst = s
}

var kafkaTopicName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)

// checkKafka checks what no single key of output.kafka shows: that SASL
// has what it needs, and that the spool is the Kafka output's own.
func (p *parser) checkKafka(c *Config) {
	kc := c.Output.Kafka
	if len(kc.Brokers) == 0 {
		return
	}
	line := func(keys ...string) *yaml.Node {
		for _, k := range keys {
			if l, ok := p.lines[k]; ok {
				return &yaml.Node{Line: l}
			}
		}
		return &yaml.Node{Line: 1}
	}
	s := kc.SASL
	switch {
	case s.Mechanism != "" && (s.Username == "" || s.PasswordFile == ""):
		p.fail(line("output.kafka.sasl.mechanism"), "output.kafka.sasl", "mechanism %s needs username and password_file", s.Mechanism)
	case s.Mechanism == "" && (s.Username != "" || s.PasswordFile != ""):
		p.fail(line("output.kafka.sasl.username", "output.kafka.sasl.password_file", "output.kafka.sasl"), "output.kafka.sasl.mechanism",
			"empty, but username or password_file is set: name the mechanism (%s)", strings.Join(KafkaMechanisms, ", "))
	}
	if c.Output.Syslog.Address != "" && kc.SpoolDir == c.Output.Syslog.SpoolDir {
		p.fail(line("output.kafka.spool_dir", "output.syslog.spool_dir", "output.kafka"), "output.kafka.spool_dir",
			"%s is output.syslog.spool_dir too: each output needs a spool of its own", kc.SpoolDir)
	}
}

// listen reads a host:port ("" is off).
func (p *parser) listen(k string, v *yaml.Node, dst *string) {
	var a string
	if !p.str(k, v, &a, true) {
		return
	}
	if a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			p.fail(v, k, "%q is not host:port", a)
			return
		}
	}
	*dst = a
}

// checkLoopback refuses a listen address off loopback unless allowed.
func (p *parser) checkLoopback(addr string, allow bool, section string) {
	if addr == "" || allow || IsLoopback(addr) {
		return
	}
	line := 1
	for _, k := range []string{section + ".listen", section} {
		if l, ok := p.lines[k]; ok {
			line = l
			break
		}
	}
	p.fail(&yaml.Node{Line: line}, section+".listen", "%q is not a loopback address; set %s.allow_remote: true to serve other hosts", addr, section)
}

// IsLoopback reports whether a host:port listens on loopback only
// (127.0.0.0/8, ::1 or localhost).
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
