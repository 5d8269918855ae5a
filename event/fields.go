package event

import (
	"strings"
	"sync"
)

// The field table: every path of lineaged's JSON lines, with the JSON
// type it has there. It is the one schema the producer and the consumers
// agree on: output's encoder writes only these paths with these types,
// the report's reader reads only these, and the live view shows what
// they carry (event/schema_test.go holds all three to it, so a field
// renamed on one side fails a test instead of going missing on the
// other). Paths are dotted as in ECS (process.parent.pid); arrays of
// objects list their members under the array's path
// (process.ancestry.pid); a path ending in ".*" stands for any key below
// it, each with the row's type.
//
// The names follow ECS where ECS has the field (SPEC §5); the table is
// where a later change to stricter ECS names is made once.

// JSONType is a field's JSON type.
type JSONType string

// JSON types.
const (
	JSONString  JSONType = "string"   // a string (keywords, times in RFC 3339)
	JSONNumber  JSONType = "number"   // an integer
	JSONBool    JSONType = "boolean"  // true (lineaged writes no false)
	JSONStrings JSONType = "string[]" // an array of strings
	JSONObjects JSONType = "object[]" // an array of objects (members listed below it)
)

// Field is one row of the table.
type Field struct {
	Path string
	JSON JSONType
	Doc  string
	// ES is the Elasticsearch mapping type of an index template (lineaged
	// schema); "" takes the JSON type's usual one (keyword, long,
	// boolean, object). ECS fields have ECS's own type (a test holds the
	// two together).
	ES string
}

// ECSVersion is the version of the Elastic Common Schema lineaged's lines
// follow (ecs.version); ../shared/testdata/public/ecs/ecs_flat.yml is
// its field list.
const ECSVersion = "9.4.0"

// Fields is the table, in the order the encoder writes.
var Fields = []Field{
	{"@timestamp", JSONString, "when it happened (the record's time), RFC 3339 UTC with milliseconds", "date"},
	{"ecs.version", JSONString, "the ECS version the line follows", ""},
	{"event.id", JSONString, "unique within the stream: run id and sequence", ""},
	{"event.kind", JSONString, "event or alert", ""},
	{"event.category", JSONStrings, "one Category", ""},
	{"event.type", JSONStrings, "one Type", ""},
	{"event.action", JSONString, "an Action", ""},
	{"event.outcome", JSONString, "an Outcome", ""},
	{"event.module", JSONString, "a Module: the source (auditd, proc, fanotify, sock_diag, lineaged)", ""},
	{"event.dataset", JSONString, "lineaged.MODULE, or lineaged.alerts", ""},
	{"event.severity", JSONNumber, "alerts: a Severity, 1 to 4", ""},
	{"event.risk_score", JSONNumber, "alerts: 0 to 100", "float"},
	{"event.reason", JSONString, "alerts: the sentence that explains it", ""},
	{"message", JSONString, "a short summary; lineaged's own events carry their report here", "match_only_text"},
	{"agent.type", JSONString, "lineaged", ""},
	{"agent.version", JSONString, "lineaged's version", ""},
	{"agent.id", JSONString, "live: this installation's id (the state directory's agent-id); with the host facts", ""},
	{"host.name", JSONString, "the audit node= name, replay's --host, or the local host name", ""},
	{"host.hostname", JSONString, "live: the local host name (uname); this and the host facts below on lineaged's own events and alerts, on every line with output.host_details", ""},
	{"host.id", JSONString, "live: /etc/machine-id", ""},
	{"host.architecture", JSONString, "live: uname machine (x86_64, aarch64)", ""},
	{"host.os.type", JSONString, "live: linux", ""},
	{"host.os.kernel", JSONString, "live: uname release", ""},
	{"host.os.name", JSONString, "live: os-release NAME", ""},
	{"host.os.version", JSONString, "live: os-release VERSION (VERSION_ID when it has none)", ""},
	{"host.os.family", JSONString, "live: debian, redhat, suse, ... (os-release ID_LIKE)", ""},
	{"host.os.platform", JSONString, "live: os-release ID", ""},
	{"process.entity_id", JSONString, "the process instance, stable across pid reuse", ""},
	{"process.pid", JSONNumber, "", ""},
	{"process.executable", JSONString, "", ""},
	{"process.name", JSONString, "comm, as the kernel truncates it", ""},
	{"process.title", JSONString, "the audit proctitle, written when argv is not known", ""},
	{"process.command_line", JSONString, "argv joined by spaces, redacted", "wildcard"},
	{"process.args", JSONStrings, "argv, redacted", ""},
	{"process.args_count", JSONNumber, "", ""},
	{"process.working_directory", JSONString, "", ""},
	{"process.exit_code", JSONNumber, "", ""},
	{"process.start", JSONString, "first sighting, or the start time the source gave; omitted where it is the line's @timestamp", "date"},
	{"process.saved_user.id", JSONString, "suid, where it differs from the euid", ""},
	{"process.session_leader.entity_id", JSONString, "live: the session leader, when the graph has it", ""},
	{"process.session_leader.pid", JSONNumber, "live: the session id (/proc/PID/stat at exec and start, inherited at fork)", ""},
	{"process.group_leader.entity_id", JSONString, "live: the process group leader, when the graph has it", ""},
	{"process.group_leader.pid", JSONNumber, "live: the process group id", ""},
	{"process.parent.entity_id", JSONString, "", ""},
	{"process.parent.pid", JSONNumber, "", ""},
	{"process.parent.executable", JSONString, "", ""},
	{"process.parent.name", JSONString, "the parent executable's file name", ""},
	{"process.parent.args", JSONStrings, "bounded as the ancestors' (compact; whole in full)", ""},
	{"process.parent.user.id", JSONString, "", ""},
	{"user.id", JSONString, "uid", ""},
	{"user.name", JSONString, "the account name: the record's (acct=, ENRICHED UID=) or, live, the account database's", ""},
	{"user.effective.id", JSONString, "euid, written where the effective ids differ from the real ones (absent: the same)", ""},
	{"user.effective.group.id", JSONString, "egid, written with user.effective.id", ""},
	{"user.audit.id", JSONString, "auid (login uid; omitted when unset)", ""},
	{"user.group.id", JSONString, "gid", ""},
	{"user.group.name", JSONString, "the group name (ENRICHED GID=, or live the account database's)", ""},
	{"user.target.id", JSONString, "the identity switched to", ""},
	{"user.target.name", JSONString, "", ""},
	{"user.target.group.id", JSONString, "", ""},
	{"file.path", JSONString, "", ""},
	{"file.name", JSONString, "the path's last element", ""},
	{"file.directory", JSONString, "the path without its last element", ""},
	{"file.extension", JSONString, "the name's suffix after its last dot, without the dot", ""},
	{"file.inode", JSONString, "", ""},
	{"file.mode", JSONString, "", ""},
	{"file.uid", JSONString, "", ""},
	{"file.gid", JSONString, "", ""},
	{"file.device", JSONString, "", ""},
	{"source.ip", JSONString, "", "ip"},
	{"source.port", JSONNumber, "", ""},
	{"source.address", JSONString, "the IP, or the AF_UNIX path", ""},
	{"destination.ip", JSONString, "", "ip"},
	{"destination.port", JSONNumber, "", ""},
	{"destination.address", JSONString, "the IP, or the AF_UNIX path", ""},
	{"network.type", JSONString, "ipv4 or ipv6", ""},
	{"network.transport", JSONString, "", ""},
	{"network.direction", JSONString, "egress (connect) or ingress (accept)", ""},
	{"container.id", JSONString, "", ""},
	{"related.user", JSONStrings, "every user id and name of the event", ""},
	{"related.ip", JSONStrings, "every IP of the event", "ip"},
	{"related.hosts", JSONStrings, "host names the records name (hostname=)", ""},
	{"auditd.sequence", JSONNumber, "the audit serial", ""},
	{"auditd.session", JSONString, "the audit session id (omitted when unset)", ""},
	{"auditd.result", JSONString, "success or fail, on lines without event.outcome", ""},
	{"auditd.data.*", JSONString, "syscall, arch, exit (not for a successful execve), tty, fsuid (where it differs from the euid), a kernel module's name and the records' other fields (not an execve's pointers a0-a3 and items)", ""},
	{"auditd.record_types", JSONStrings, "the records that made the event, in arrival order (output.record_types: true)", ""},
	{"auditd.unparsed", JSONStrings, "unknown record types' raw text", ""},
	{"auditd.path.nametype", JSONString, "a PATH record's nametype other than NORMAL (CREATE, DELETE, ...)", ""},
	{"auditd.socket.family", JSONString, "", ""},
	{"rule.id", JSONString, "alerts", ""},
	{"rule.name", JSONString, "alerts", ""},
	{"rule.ruleset", JSONString, "alerts: lineaged or sigma", ""},
	{"threat.framework", JSONString, "alerts: MITRE ATT&CK", ""},
	{"threat.technique.id", JSONStrings, "alerts", ""},
	{"lineaged.ancestry", JSONObjects, "nearest parent first; output.ancestry chooses how much each carries (compact and ids: none on a process's end, whose exec line has it)", ""},
	{"lineaged.ancestry.entity_id", JSONString, "", ""},
	{"lineaged.ancestry.pid", JSONNumber, "", ""},
	{"lineaged.ancestry.executable", JSONString, "compact and full", ""},
	{"lineaged.ancestry.args", JSONStrings, "full only; bounded (output.AncestryArgBytes)", ""},
	{"lineaged.ancestry.user.id", JSONString, "full only", ""},
	{"lineaged.ancestry.unknown", JSONBool, "an ancestor the source had no record of", ""},
	{"lineaged.parent_unknown", JSONBool, "the source had no record of the parent", ""},
	{"lineaged.netns", JSONNumber, "live: the process's network namespace inode, when it is not the host's (pid 1's)", ""},
	{"lineaged.file.operation", JSONString, "read, write, exec, create, delete, rename, attr, ... (implied on an exec line: event.action executed)", ""},
	{"lineaged.network.state", JSONString, "listening: a bind or listen (ECS network.direction has no such value)", ""},
	{"lineaged.network.netns", JSONNumber, "live: the socket's network namespace inode, when it is not the host's", ""},
	{"lineaged.target.effective_id", JSONString, "the euid switched to", ""},
	{"lineaged.target.saved_id", JSONString, "the suid switched to", ""},
	{"lineaged.target.filesystem_id", JSONString, "the fsuid switched to", ""},
	{"lineaged.target.effective_group_id", JSONString, "the egid switched to", ""},
	{"lineaged.target.audit_id", JSONString, "the auid set (a login)", ""},
	{"lineaged.alert.key", JSONString, "alerts: the key to approve, or the rule's dedup key", ""},
	{"lineaged.alert.count", JSONNumber, "alerts: sightings in the window", ""},
	{"lineaged.alert.novel", JSONStrings, "alerts: the baseline keys the baseline lacks", ""},
	{"lineaged.evidence", JSONObjects, "alerts: the events behind it", ""},
	{"lineaged.evidence.id", JSONString, "an event.id", ""},
	{"lineaged.evidence.summary", JSONString, "", ""},
	{"lineaged.config.source", JSONString, "settings events: the configuration file", ""},
	{"lineaged.config.settings.*", JSONString, "settings events: every setting in force", ""},
	{"lineaged.config.rules", JSONStrings, "settings events: the audit rules, as auditctl -l prints them", ""},
	{"labels.*", JSONString, "extra counters and facts", ""},
	{"tags", JSONStrings, "the audit rule keys", ""},
}

// Rename is a field an earlier lineaged wrote under another path. The
// report reads both, and docs/fields.md lists them for an upgrade.
type Rename struct {
	Old, New string
	Note     string
}

// Renamed lists every path lineaged 0.x wrote before ECS 9.4 (issue 14)
// with where the fact is now.
var Renamed = []Rename{
	{"process.ancestry", "lineaged.ancestry", "compact by default: see output.ancestry"},
	{"process.ancestry.entity_id", "lineaged.ancestry.entity_id", ""},
	{"process.ancestry.pid", "lineaged.ancestry.pid", ""},
	{"process.ancestry.executable", "lineaged.ancestry.executable", ""},
	{"process.ancestry.args", "lineaged.ancestry.args", "output.ancestry: full only"},
	{"process.ancestry.user.id", "lineaged.ancestry.user.id", "output.ancestry: full only"},
	{"process.ancestry.unknown", "lineaged.ancestry.unknown", ""},
	{"process.parent.unknown", "lineaged.parent_unknown", ""},
	{"process.netns", "lineaged.netns", ""},
	{"network.netns", "lineaged.network.netns", ""},
	{"file.operation", "lineaged.file.operation", ""},
	{"process.tty.name", "auditd.data.tty", ""},
	{"user.saved.id", "process.saved_user.id", ""},
	{"user.filesystem.id", "auditd.data.fsuid", ""},
	{"user.target.effective.id", "lineaged.target.effective_id", ""},
	{"user.target.effective.group.id", "lineaged.target.effective_group_id", ""},
	{"user.target.saved.id", "lineaged.target.saved_id", ""},
	{"user.target.filesystem.id", "lineaged.target.filesystem_id", ""},
	{"user.target.audit.id", "lineaged.target.audit_id", ""},
	{"file.path", "auditd.data.name", "a kernel module's name (event.category driver)"},
	{"network.direction", "lineaged.network.state", "the value listening"},
	{"process.title", "process.command_line", "written only when argv is not known"},
	{"user.audit.id", "user.audit.id", "the value unset is omitted"},
	{"auditd.session", "auditd.session", "the value unset is omitted"},
}

// LookupRenamed returns the row of an old path the report still reads.
func LookupRenamed(path string) (Rename, bool) {
	for _, r := range Renamed {
		if r.Old == path {
			return r, true
		}
	}
	return Rename{}, false
}

// ESType is the Elasticsearch mapping type of f in an index template.
func ESType(f Field) string {
	if f.ES != "" {
		return f.ES
	}
	switch f.JSON {
	case JSONNumber:
		return "long"
	case JSONBool:
		return "boolean"
	case JSONObjects:
		return "object"
	}
	return "keyword"
}

// LookupField returns the row of path: its own, or the nearest ".*" row
// above it.
func LookupField(path string) (Field, bool) {
	idx := fieldIndex()
	if f, ok := idx[path]; ok {
		return f, true
	}
	for p := path; ; {
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return Field{}, false
		}
		p = p[:i]
		if f, ok := idx[p+".*"]; ok {
			return f, true
		}
	}
}

var fieldIndex = sync.OnceValue(func() map[string]Field {
	m := make(map[string]Field, len(Fields))
	for _, f := range Fields {
		m[f.Path] = f
	}
	return m
})
