// Package event defines the normalised event that every lineaged source
// emits and every consumer (graph, detections, outputs) reads.
//
// It is the ground floor of the project: it imports nothing of lineaged.
// Field names follow the Elastic Common Schema (ECS) where ECS has one;
// the output package maps each Go field to its ECS path (SPEC §5).
//
// Identifiers (uids, gids, session ids) are kept as the decimal strings the
// kernel printed, with the audit "unset" value (4294967295 / -1) spelled
// "unset", because ECS types user.id as a keyword and an unset auid must
// stay distinguishable from uid 0 (the encoder omits unset values: SPEC §5
// writes no placeholders).
package event

// Kind tells events and alerts apart in the one output stream.
type Kind uint8

const (
	KindEvent Kind = iota // event.kind "event"
	KindAlert             // event.kind "alert"
)

func (k Kind) String() string {
	if k == KindAlert {
		return "alert"
	}
	return "event"
}

// Event is one normalised occurrence: an exec, an exit, a file access, a
// network call, a login, a configuration change, or lineaged's own
// bookkeeping (loss, malformed input).
type Event struct {
	ID       string // event.id, unique within the output stream
	TimeMsec int64  // @timestamp, Unix milliseconds (audit resolution)
	Kind     Kind

	Category Category // event.category (single ECS value: process, file, network, authentication, iam, configuration, host, session)
	Type     Type     // event.type (start, end, access, change, creation, deletion, connection, info, ...)
	Action   Action   // event.action (executed, exited, opened-file, connected-to, ...)
	Outcome  Outcome  // event.outcome: success, failure or unknown

	Host string // host.name (the audit node= value or the local hostname)

	// Module names the kernel interface the event came from (ECS
	// event.module): "auditd", "proc" (proc connector), "fanotify",
	// "sock_diag", or "lineaged" for the agent's own events.
	Module Module

	Process  Process
	Parent   *ProcRef  // process.parent, nil when the event has no process
	Ancestry []ProcRef // lineaged.ancestry, nearest parent first

	User   User
	Target *User // user.target: the identity a setuid-family call or su/sudo switched to

	File    *File
	Source  *Endpoint // source.* (local end for bind/listen; client for accepts)
	Dest    *Endpoint // destination.* (remote end for connect/sendto)
	Network *Network

	ContainerID string // container.id

	Audit *Audit // auditd.* fields ECS lacks

	// Message is a short human summary (message); for lineaged's own
	// events it carries the report (e.g. malformed-line positions).
	Message string

	// Config is set on lineaged's settings event, written at start and on
	// every reload: what is in force (lineaged.config.*). The report's
	// audit-rule coverage section reads it.
	Config *ConfigInfo

	// Alert is set on alerts (Kind KindAlert): the rule, its verdict and
	// the evidence. The alert's other fields describe the process and
	// object it is about.
	Alert *Alert

	// Labels are extra key/value pairs carried verbatim under labels.*
	// (e.g. counters of a replay summary). Kept ordered for stable output.
	Labels []KV
}

// ConfigInfo is what lineaged runs with.
type ConfigInfo struct {
	Source   string   // the configuration file, or "built-in"
	Settings []KV     // every setting, dotted keys in a stable order
	Rules    []string // the audit rules in force, as auditctl -l prints them
}

// KV is an ordered key/value pair.
// Alert is what an alert adds to an event (SPEC §5).
type Alert struct {
	RuleID     string   // rule.id, e.g. "lineaged.reverse-shell" or a Sigma rule's id
	RuleName   string   // rule.name
	Ruleset    string   // rule.ruleset: "lineaged" (built-in) or "sigma"
	Techniques []string // threat.technique.id, MITRE ATT&CK ids (T1059.004)
	Severity   Severity // event.severity, 1 (low) to 4 (critical)
	RiskScore  int      // event.risk_score, 0-100
	Reason     string   // event.reason: one sentence, what and what was new
	// Key names what the alert is about, one per rule and subject: the
	// baseline key to approve (lineaged baseline approve FILE KEY) when it
	// is one, else the rule's own dedup key.
	Key string
	// Novel lists the event's baseline keys that the baseline lacks.
	Novel []string
	// Count is how many times the key fired in the window this alert
	// covers (1 for a first alert; more on a folded repeat).
	Count int
	// Evidence points at the events behind the alert by event.id.
	Evidence []Evidence
}

// Evidence is one event behind an alert.
type Evidence struct {
	ID      string // event.id
	Summary string // e.g. "executed /usr/bin/bash -i by pid 42"
}

type KV struct{ Key, Value string }

// Process is the process an event is about (ECS process.*).
type Process struct {
	EntityID         string
	PID              int
	PPID             int
	Executable       string
	Name             string // comm, as the kernel truncates it (16 bytes)
	Title            string // proctitle (argv joined by spaces)
	Args             []string
	WorkingDirectory string
	TTY              string
	ExitCode         *int
	StartMsec        int64 // first time lineaged saw this process instance
	// SID and PGID are the process's session and process group (the
	// pids of their leaders, ECS process.session_leader.pid and
	// process.group_leader.pid): live, from /proc/PID/stat at exec and at
	// start, inherited at fork; 0 when unknown (replay: audit records do
	// not carry them). SessionLeader and GroupLeader are the leaders'
	// entity ids, set by the graph when it has that process.
	SID, PGID                  int
	SessionLeader, GroupLeader string
	// NetNS is the inode of the process's network namespace
	// (lineaged.netns; live sources, 0 when unknown): the same number as
	// lineaged.network.netns of the sockets it owns.
	NetNS uint64
}

// ProcRef is one element of lineaged.ancestry (and process.parent): a
// process object with enough to recognise it. Unknown is set when the
// source has no record of that process; the other fields are then empty
// except PID, and nothing is guessed.
type ProcRef struct {
	EntityID   string
	PID        int
	Executable string
	Args       []string
	UserID     string
	Unknown    bool
}

// User holds the identities of the acting process (ECS user.*).
type User struct {
	ID          string // uid
	Name        string // account name where the record carries one (acct=, ENRICHED UID=)
	EffectiveID string // euid → user.effective.id
	SavedID     string // suid → process.saved_user.id
	FilesysID   string // fsuid → auditd.data.fsuid (ECS has no field for it)
	AuditID     string // auid → user.audit.id
	GroupID     string // gid → user.group.id
	GroupName   string // the group's name (ENRICHED GID=, or live the account database's)
	EffGroupID  string // egid → user.effective.group.id
}

// File is the object of a file event (ECS file.*).
type File struct {
	Path      string
	Operation string // what was done: read, write, exec, create, delete, rename, attr, ...
	Inode     string
	Mode      string
	UID       string
	GID       string
	Device    string
	NameType  string // audit PATH nametype: NORMAL, CREATE, DELETE, PARENT, ...
}

// Endpoint is one end of a network exchange.
type Endpoint struct {
	IP   string
	Port int    // 0 when the family has no port
	Path string // AF_UNIX socket path (abstract sockets start with "@")
}

// Network describes the exchange (ECS network.*).
type Network struct {
	Family    string // ipv4, ipv6, unix, netlink, or the number
	Transport string // tcp, udp, ... when known
	Direction string // egress (connect), ingress (accept), listening (bind/listen)
	NetNS     uint64 // network namespace inode (live sources), 0 when unknown
}

// Audit carries the raw audit fields ECS lacks (auditd.*).
type Audit struct {
	Sequence    uint32
	Session     string
	Result      string // success or fail
	Syscall     string
	Arch        string
	ExitValue   string // the syscall's return value, as printed (errno name for failures)
	Keys        []string
	RecordTypes []string // the record types that made up the event, in arrival order
	Data        []KV     // other useful fields of the records (op, acct, terminal, ...)
	Unparsed    []string // unknown record types' raw text (kept, not dropped)
}

// Clone returns a copy of e that shares no mutable memory with it: sources
// reuse the objects an event points to, so anything kept past the next
// event (alert evidence, tests) must be cloned. Strings are immutable and
// shared.
func (e *Event) Clone() *Event {
	c := *e
	if e.Parent != nil {
		p := *e.Parent
		c.Parent = &p
	}
	c.Ancestry = append([]ProcRef(nil), e.Ancestry...)
	c.Process.Args = append([]string(nil), e.Process.Args...)
	if e.Process.ExitCode != nil {
		x := *e.Process.ExitCode
		c.Process.ExitCode = &x
	}
	if e.Target != nil {
		t := *e.Target
		c.Target = &t
	}
	if e.File != nil {
		f := *e.File
		c.File = &f
	}
	if e.Source != nil {
		s := *e.Source
		c.Source = &s
	}
	if e.Dest != nil {
		d := *e.Dest
		c.Dest = &d
	}
	if e.Network != nil {
		nw := *e.Network
		c.Network = &nw
	}
	if e.Audit != nil {
		a := *e.Audit
		a.Keys = append([]string(nil), a.Keys...)
		a.RecordTypes = append([]string(nil), a.RecordTypes...)
		a.Data = append([]KV(nil), a.Data...)
		a.Unparsed = append([]string(nil), a.Unparsed...)
		c.Audit = &a
	}
	c.Labels = append([]KV(nil), e.Labels...)
	if e.Alert != nil {
		a := *e.Alert
		a.Techniques = append([]string(nil), a.Techniques...)
		a.Novel = append([]string(nil), a.Novel...)
		a.Evidence = append([]Evidence(nil), a.Evidence...)
		c.Alert = &a
	}
	return &c
}
