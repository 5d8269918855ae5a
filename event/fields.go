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
}

// Fields is the table, in the order the encoder writes.
var Fields = []Field{
	{"@timestamp", JSONString, "when it happened (the record's time), RFC 3339 UTC with milliseconds"},
	{"event.id", JSONString, "unique within the stream: run id and sequence"},
	{"event.kind", JSONString, "event or alert"},
	{"event.category", JSONStrings, "one Category"},
	{"event.type", JSONStrings, "one Type"},
	{"event.action", JSONString, "an Action"},
	{"event.outcome", JSONString, "an Outcome"},
	{"event.module", JSONString, "a Module: the source"},
	{"event.severity", JSONNumber, "alerts: a Severity, 1 to 4"},
	{"event.risk_score", JSONNumber, "alerts: 0 to 100"},
	{"event.reason", JSONString, "alerts: the sentence that explains it"},
	{"message", JSONString, "a short summary; lineaged's own events carry their report here"},
	{"host.name", JSONString, "the audit node= name or the local host name"},
	{"process.entity_id", JSONString, "the process instance, stable across pid reuse"},
	{"process.pid", JSONNumber, ""},
	{"process.executable", JSONString, ""},
	{"process.name", JSONString, "comm, as the kernel truncates it"},
	{"process.title", JSONString, "the proctitle"},
	{"process.args", JSONStrings, "argv, redacted"},
	{"process.working_directory", JSONString, ""},
	{"process.tty.name", JSONString, ""},
	{"process.exit_code", JSONNumber, ""},
	{"process.start", JSONString, "first sighting, or the start time the source gave"},
	{"process.netns", JSONNumber, "network namespace inode (live sources)"},
	{"process.parent.entity_id", JSONString, ""},
	{"process.parent.pid", JSONNumber, ""},
	{"process.parent.executable", JSONString, ""},
	{"process.parent.args", JSONStrings, ""},
	{"process.parent.user.id", JSONString, ""},
	{"process.parent.unknown", JSONBool, "the source had no record of the parent"},
	{"process.ancestry", JSONObjects, "nearest parent first"},
	{"process.ancestry.entity_id", JSONString, ""},
	{"process.ancestry.pid", JSONNumber, ""},
	{"process.ancestry.executable", JSONString, ""},
	{"process.ancestry.args", JSONStrings, "bounded (output.AncestryArgBytes)"},
	{"process.ancestry.user.id", JSONString, ""},
	{"process.ancestry.unknown", JSONBool, "an ancestor the source had no record of"},
	{"user.id", JSONString, "uid"},
	{"user.name", JSONString, "the account name where the record carries one"},
	{"user.effective.id", JSONString, "euid"},
	{"user.effective.group.id", JSONString, "egid"},
	{"user.audit.id", JSONString, "auid (login uid)"},
	{"user.saved.id", JSONString, "suid"},
	{"user.filesystem.id", JSONString, "fsuid"},
	{"user.group.id", JSONString, "gid"},
	{"user.target.id", JSONString, "the identity switched to"},
	{"user.target.name", JSONString, ""},
	{"user.target.effective.id", JSONString, ""},
	{"user.target.effective.group.id", JSONString, ""},
	{"user.target.audit.id", JSONString, ""},
	{"user.target.saved.id", JSONString, ""},
	{"user.target.filesystem.id", JSONString, ""},
	{"user.target.group.id", JSONString, ""},
	{"file.path", JSONString, ""},
	{"file.inode", JSONString, ""},
	{"file.mode", JSONString, ""},
	{"file.uid", JSONString, ""},
	{"file.gid", JSONString, ""},
	{"file.device", JSONString, ""},
	{"file.operation", JSONString, "read, write, exec, create, delete, rename, attr, ..."},
	{"source.ip", JSONString, ""},
	{"source.port", JSONNumber, ""},
	{"source.address", JSONString, "the IP, or the AF_UNIX path"},
	{"destination.ip", JSONString, ""},
	{"destination.port", JSONNumber, ""},
	{"destination.address", JSONString, "the IP, or the AF_UNIX path"},
	{"network.type", JSONString, "ipv4 or ipv6"},
	{"network.transport", JSONString, ""},
	{"network.direction", JSONString, "egress, ingress, listening"},
	{"network.netns", JSONNumber, "network namespace inode (live sources)"},
	{"container.id", JSONString, ""},
	{"auditd.sequence", JSONNumber, "the audit serial"},
	{"auditd.session", JSONString, ""},
	{"auditd.result", JSONString, "success or fail"},
	{"auditd.data.*", JSONString, "syscall, arch, exit and the records' other fields"},
	{"auditd.record_types", JSONStrings, "the records that made the event, in arrival order"},
	{"auditd.unparsed", JSONStrings, "unknown record types' raw text"},
	{"auditd.path.nametype", JSONString, ""},
	{"auditd.socket.family", JSONString, ""},
	{"rule.id", JSONString, "alerts"},
	{"rule.name", JSONString, "alerts"},
	{"rule.ruleset", JSONString, "alerts: lineaged or sigma"},
	{"threat.framework", JSONString, "alerts: MITRE ATT&CK"},
	{"threat.technique.id", JSONStrings, "alerts"},
	{"lineaged.alert.key", JSONString, "alerts: the key to approve, or the rule's dedup key"},
	{"lineaged.alert.count", JSONNumber, "alerts: sightings in the window"},
	{"lineaged.alert.novel", JSONStrings, "alerts: the baseline keys the baseline lacks"},
	{"lineaged.evidence", JSONObjects, "alerts: the events behind it"},
	{"lineaged.evidence.id", JSONString, "an event.id"},
	{"lineaged.evidence.summary", JSONString, ""},
	{"lineaged.config.source", JSONString, "settings events: the configuration file"},
	{"lineaged.config.settings.*", JSONString, "settings events: every setting in force"},
	{"lineaged.config.rules", JSONStrings, "settings events: the audit rules, as auditctl -l prints them"},
	{"labels.*", JSONString, "extra counters and facts"},
	{"tags", JSONStrings, "the audit rule keys"},
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
