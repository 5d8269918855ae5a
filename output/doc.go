// Package output encodes normalised events as JSON lines (SPEC §5): one
// nested Elastic Common Schema (ECS) object per line, never flat dotted
// keys.
//
// AppendJSON is a hand-written encoder: no reflection and no
// encoding/json, and no allocation when the destination buffer has room.
// Writer puts one object and a '\n' per event over any io.Writer.
//
// # Field mapping
//
// Members appear in this order. A member is omitted when its Go value is
// empty: an empty string, a nil pointer, an empty slice, a zero pid or
// port, a zero auditd.sequence, a zero start time. An object with no
// members left is omitted too. Inside arrays, empty strings are kept (an
// empty argv element is still an argument).
//
//	@timestamp                  TimeMsec, RFC 3339 UTC with milliseconds; always present (0 is 1970-01-01T00:00:00.000Z)
//	event.id                    ID
//	event.kind                  Kind: "event" or "alert"; always present
//	event.category              [Category] (ECS defines it as an array)
//	event.type                  [Type]
//	event.action                Action
//	event.outcome               Outcome
//	message                     Message
//	host.name                   Host
//	process.entity_id           Process.EntityID
//	process.pid                 Process.PID
//	process.executable          Process.Executable
//	process.name                Process.Name
//	process.title               Process.Title
//	process.args                Process.Args
//	process.working_directory   Process.WorkingDirectory
//	process.tty.name            Process.TTY (ECS's process.tty is an object; name is lineaged's)
//	process.exit_code           *Process.ExitCode (0 is written when set)
//	process.start               Process.StartMsec, formatted as @timestamp
//	process.parent.*            Parent: entity_id, pid, executable, args, user.id, unknown;
//	                            pid is Parent.PID, or Process.PPID when Parent is nil or has no pid
//	process.ancestry            Ancestry, nearest parent first, each {entity_id, pid,
//	                            executable, args, user:{id}, unknown:true when Unknown};
//	                            an element is kept (even as {}) so positions stay depths
//	user.id, user.name          User.ID, User.Name
//	user.effective.id           User.EffectiveID
//	user.effective.group.id     User.EffGroupID
//	user.audit.id               User.AuditID
//	user.saved.id               User.SavedID (not ECS, kept beside user.effective)
//	user.filesystem.id          User.FilesysID (not ECS)
//	user.group.id               User.GroupID
//	user.target.*               Target, the same members as user.* (no nested target)
//	file.path, file.inode, file.mode, file.uid, file.gid, file.device
//	file.operation              File.Operation (lineaged's addition: ECS has no such field;
//	                            event.action carries the verb as ECS intends)
//	source.*, destination.*     Source, Dest: ip, port, and address (the IP, or the
//	                            AF_UNIX Path when there is no IP; ECS's "raw address")
//	network.type                Network.Family when it is "ipv4" or "ipv6"
//	network.transport           Network.Transport
//	network.direction           Network.Direction
//	container.id                ContainerID
//	auditd.sequence             Audit.Sequence
//	auditd.session              Audit.Session
//	auditd.result               Audit.Result
//	auditd.data.syscall         Audit.Syscall (where Auditbeat puts it)
//	auditd.data.arch            Audit.Arch
//	auditd.data.exit            Audit.ExitValue
//	auditd.data.*               Audit.Data, in order
//	auditd.record_types         Audit.RecordTypes
//	auditd.unparsed             Audit.Unparsed
//	auditd.path.nametype        File.NameType
//	auditd.socket.family        Network.Family, every family
//	labels.*                    Labels, in order
//	tags                        Audit.Keys, the audit rule keys, as Auditbeat does
//
// The key/value lists (labels.*, auditd.data.*) skip pairs with an empty
// key or value, and a key already written in the same object (the first
// wins; syscall, arch and exit from Audit's own fields come first).
// Elasticsearch rejects a whole document for an empty field name or a
// duplicate key. Duplicates are found by a quadratic scan, meant for the
// handful of pairs an event carries.
//
// Alerts (Kind KindAlert, Alert set) add the members of SPEC §5:
//
//	event.severity              Alert.Severity, 1 (low) to 4 (critical)
//	event.risk_score            Alert.RiskScore, 0-100
//	event.reason                Alert.Reason, one sentence
//	rule.id, rule.name          Alert.RuleID, Alert.RuleName
//	rule.ruleset                Alert.Ruleset: "lineaged" (built-in) or "sigma"
//	threat.framework            "MITRE ATT&CK" when there are techniques
//	threat.technique.id         Alert.Techniques
//	lineaged.alert.key          Alert.Key: the baseline key to approve, or the rule's dedup key
//	lineaged.alert.count        Alert.Count: sightings folded into this alert
//	lineaged.alert.novel        Alert.Novel: the event's keys the baseline lacks
//	lineaged.evidence           Alert.Evidence, [{id, summary}], the events behind it by event.id
//
// # Strings
//
// Every string is written as valid UTF-8, escaped per RFC 8259: '"' and
// '\\' with a backslash; '\n', '\r' and '\t' as such; other control
// characters as \u00XX; U+2028 and U+2029 as \u2028 and \u2029, for
// consumers that treat them as line ends. Everything else valid is copied,
// and a string of plain printable ASCII is copied whole.
//
// Audit data is not always UTF-8 (a file name, an argv element), and such
// bytes are neither dropped nor replaced with U+FFFD. Each byte that is
// not part of valid UTF-8 (overlong forms and encoded surrogates included)
// is written as the four characters \xNN, lowercase hex: in JSON text that
// is `\\xNN`, so the line stays valid JSON and a consumer reads the
// familiar \xNN. The byte values are recoverable, but the escape is not
// marked apart from the same four characters in valid input: the input
// bytes "\xff" (four ASCII characters) and the single byte 0xff both
// decode to the string \xff.
//
// # Writer
//
// Writer buffers about 32 KiB and hands the underlying io.Writer whole
// lines only, so a rotating file or a syslog framer below it never splits
// a line. An error from the underlying writer is sticky. A Writer is not
// safe for concurrent use.
package output
