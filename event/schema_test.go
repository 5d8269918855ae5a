package event_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/internal/ecs"
	"github.com/lineaged/lineaged/output"
	"github.com/lineaged/lineaged/report"
	"github.com/lineaged/lineaged/ui"
)

// corpus is events covering every field the encoder can write: each kind
// lineaged emits, every optional member set.
func corpus(t *testing.T) []*event.Event {
	code := 3
	full := &event.Event{
		ID: "c-1", TimeMsec: 1_800_000_000_123, Kind: event.KindEvent,
		Category: event.CategoryProcess, Type: event.TypeStart, Action: event.ActionExecuted, Outcome: event.OutcomeSuccess,
		Module: event.ModuleAudit, Host: "h", Message: "m", ContainerID: "c0ffee",
		Process: event.Process{EntityID: "e1", PID: 10, PPID: 9, Executable: "/bin/sh", Name: "sh", Title: "sh -c x",
			Args: []string{"sh", "-c", "x"}, WorkingDirectory: "/", TTY: "pts0", ExitCode: &code, StartMsec: 1_800_000_000_000, NetNS: 4026531833,
			SID: 7, PGID: 9, SessionLeader: "e7", GroupLeader: "e0"},
		Ancestry: []event.ProcRef{{EntityID: "e0", PID: 9, Executable: "/bin/bash", Args: []string{"bash"}, UserID: "0"}, {PID: 1, Unknown: true}},
		User:     event.User{ID: "1000", Name: "alice", EffectiveID: "0", SavedID: "1", FilesysID: "2", AuditID: "1000", GroupID: "100", GroupName: "users", EffGroupID: "0"},
		Target:   &event.User{ID: "1", Name: "daemon", EffectiveID: "1", SavedID: "1", FilesysID: "1", AuditID: "1000", GroupID: "1", EffGroupID: "1"},
		File:     &event.File{Path: "/etc/x.conf", Operation: "write", Inode: "1", Mode: "0100644", UID: "0", GID: "0", Device: "fe:00", NameType: "NORMAL"},
		Source:   &event.Endpoint{IP: "127.0.0.1", Port: 80},
		Dest:     &event.Endpoint{Path: "/run/x.sock"},
		Network:  &event.Network{Family: "ipv4", Transport: "tcp", Direction: "egress", NetNS: 4026531833},
		Audit: &event.Audit{Sequence: 7, Session: "1", Result: "success", Syscall: "execve", Arch: "x86_64", ExitValue: "0",
			Keys: []string{"exec"}, RecordTypes: []string{"SYSCALL"}, Data: []event.KV{{Key: "a0", Value: "1"}, {Key: "hostname", Value: "client.example"}}, Unparsed: []string{"type=X"}},
		Labels: []event.KV{{Key: "count", Value: "1"}},
	}
	full.Parent = &full.Ancestry[0]
	unknownParent := &event.Event{ID: "c-2", TimeMsec: 1, Kind: event.KindEvent, Process: event.Process{PID: 5},
		Audit:    &event.Audit{Result: "fail"}, // no event.outcome: auditd.result says it
		Ancestry: []event.ProcRef{{PID: 4, Unknown: true}}}
	unknownParent.Parent = &unknownParent.Ancestry[0]
	alert := full.Clone()
	alert.ID, alert.Kind = "c-3", event.KindAlert
	alert.Alert = &event.Alert{RuleID: "lineaged.x", RuleName: "X", Ruleset: "lineaged", Techniques: []string{"T1059"},
		Severity: event.SeverityHigh, RiskScore: 73, Reason: "why", Key: "k", Novel: []string{"n"}, Count: 2,
		Evidence: []event.Evidence{{ID: "c-1", Summary: "s"}}}
	settings := &event.Event{ID: "c-4", TimeMsec: 1, Kind: event.KindEvent, Category: event.CategoryConfiguration,
		Action: event.ActionSettings, Module: event.ModuleLineaged,
		Config: &event.ConfigInfo{Source: "built-in", Settings: []event.KV{{Key: "audit.mode", Value: "auto"}}, Rules: []string{"-a always,exit -S execve"}}}
	listen := &event.Event{ID: "c-5", TimeMsec: 1, Kind: event.KindEvent, Category: event.CategoryNetwork, Type: event.TypeStart,
		Module: event.ModuleSockDiag, Process: event.Process{PID: 6},
		Source: &event.Endpoint{IP: "0.0.0.0", Port: 22}, Network: &event.Network{Family: "ipv4", Transport: "tcp", Direction: "listening"}}
	evs := []*event.Event{full, unknownParent, alert, settings, listen}
	// And every line of the replay golden file, as replay writes it.
	f, err := os.Open("../testdata/sample/audit.log.golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		evs = append(evs, decodeLine(t, sc.Bytes()))
	}
	return evs
}

// decodeLine rebuilds nothing: a golden line is kept as raw JSON in
// Message of a marker event, which lines() writes out as it is.
func decodeLine(t *testing.T, b []byte) *event.Event {
	return &event.Event{ID: "raw", Message: string(b)}
}

// lines encodes the corpus.
func lines(evs []*event.Event) [][]byte {
	var out [][]byte
	for _, e := range evs {
		if e.ID == "raw" {
			out = append(out, []byte(e.Message))
			continue
		}
		out = append(out, fullEnc.Append(nil, e), output.AppendJSON(nil, e))
	}
	return out
}

// full writes every member the encoder can: each ancestor whole, the
// local host's facts and the agent's id.
var fullEnc = output.NewEncoder(output.Options{Ancestry: output.AncestryFull, RecordTypes: true,
	Host: &output.Host{Name: "h", Hostname: "h", ID: "m", Architecture: "x86_64", OSType: "linux", OSKernel: "6.1.0",
		OSName: "Debian GNU/Linux", OSVersion: "12", OSFamily: "debian", OSPlatform: "debian"},
	Agent: output.Agent{Version: "1.0.0", ID: "a"}})

// paths flattens a JSON value into path → JSON types seen.
func paths(prefix string, v any, into map[string]map[event.JSONType]bool) {
	add := func(t event.JSONType) {
		if into[prefix] == nil {
			into[prefix] = map[event.JSONType]bool{}
		}
		into[prefix][t] = true
	}
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			paths(join(k), y, into)
		}
	case []any:
		objects := len(x) > 0
		for _, y := range x {
			if _, ok := y.(map[string]any); !ok {
				objects = false
			}
		}
		if !objects {
			add(event.JSONStrings)
			return
		}
		add(event.JSONObjects)
		for _, y := range x {
			for k, z := range y.(map[string]any) {
				paths(join(k), z, into)
			}
		}
	case string:
		add(event.JSONString)
	case float64:
		add(event.JSONNumber)
	case bool:
		add(event.JSONBool)
	default:
		add("null")
	}
}

// TestEncoderFields: every path the encoder writes is in the field table
// with its JSON type, and every row of the table (but the ".*" ones) is
// written by some event of the corpus, so the table cannot rot.
func TestEncoderFields(t *testing.T) {
	seen := map[string]map[event.JSONType]bool{}
	for _, l := range lines(corpus(t)) {
		var v map[string]any
		if err := json.Unmarshal(l, &v); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		paths("", v, seen)
	}
	used := map[string]bool{}
	for p, types := range seen {
		f, ok := event.LookupField(p)
		if !ok {
			t.Errorf("the encoder writes %s, which is not in event.Fields", p)
			continue
		}
		used[f.Path] = true
		for ty := range types {
			if ty != f.JSON {
				t.Errorf("%s is written as %s; event.Fields says %s", p, ty, f.JSON)
			}
		}
	}
	for _, f := range event.Fields {
		if !used[f.Path] {
			t.Errorf("event.Fields lists %s, which no event of the corpus writes (remove it, or add an event that has it)", f.Path)
		}
	}
}

// TestReportReadsFields: every path the report's reader (report.Doc)
// reads is in the field table, with a Go type that can hold its JSON type.
func TestReportReadsFields(t *testing.T) {
	var walk func(prefix string, ty reflect.Type)
	walk = func(prefix string, ty reflect.Type) {
		for ty.Kind() == reflect.Pointer {
			ty = ty.Elem()
		}
		for i := 0; i < ty.NumField(); i++ {
			sf := ty.Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			ft := sf.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Struct:
				walk(p, ft)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				checkRead(t, p, event.JSONObjects)
				walk(p, ft.Elem())
			case ft.Kind() == reflect.Map:
				checkRead(t, p+".*", event.JSONString)
			case ft.Kind() == reflect.Slice:
				checkRead(t, p, event.JSONStrings)
			case ft.Kind() == reflect.String:
				checkRead(t, p, event.JSONString)
			case ft.Kind() == reflect.Int || ft.Kind() == reflect.Int64:
				checkRead(t, p, event.JSONNumber)
			case ft.Kind() == reflect.Bool:
				checkRead(t, p, event.JSONBool)
			default:
				t.Errorf("report.Doc reads %s as %s: teach this test the type", p, ft)
			}
		}
	}
	walk("", reflect.TypeOf(report.Doc{}))
}

func checkRead(t *testing.T, path string, as event.JSONType) {
	t.Helper()
	if r, ok := event.LookupRenamed(path); ok {
		// An earlier lineaged's name, read from old events files.
		path = r.New
	}
	f, ok := event.LookupField(path)
	if !ok {
		t.Errorf("the report reads %s, which is not in event.Fields (the encoder never writes it)", path)
		return
	}
	if f.JSON != as {
		t.Errorf("the report reads %s as %s; event.Fields says %s", path, as, f.JSON)
	}
}

// TestFieldsUnique: no path twice, no row shadowed by a wildcard.
func TestFieldsUnique(t *testing.T) {
	seen := map[string]bool{}
	var paths []string
	for _, f := range event.Fields {
		if seen[f.Path] {
			t.Errorf("%s is listed twice", f.Path)
		}
		seen[f.Path] = true
		paths = append(paths, f.Path)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if strings.HasSuffix(p, ".*") {
			continue
		}
		if f, _ := event.LookupField(p); f.Path != p {
			t.Errorf("%s resolves to %s", p, f.Path)
		}
	}
}

// viewFields maps each member of the live view's alert (/api/alerts) to
// the path of the JSON lines that carries the same fact.
var viewFields = map[string]string{
	"id": "event.id", "time": "@timestamp", "rule_id": "rule.id", "rule_name": "rule.name",
	"severity": "event.severity", "reason": "event.reason", "techniques": "threat.technique.id",
	"entity_id": "process.entity_id", "pid": "process.pid", "executable": "process.executable", "args": "process.args",
}

// TestViewShowsFields: the live view shows an alert with the same facts,
// under the same field table, as the line the encoder writes and the
// report reads: every member it serves maps to a row of event.Fields, and
// the three agree on the values.
func TestViewShowsFields(t *testing.T) {
	var alert *event.Event
	for _, e := range corpus(t) {
		if e.Kind == event.KindAlert {
			alert = e
		}
	}
	line := output.AppendJSON(nil, alert)
	var enc map[string]any
	if err := json.Unmarshal(line, &enc); err != nil {
		t.Fatal(err)
	}
	var doc report.Doc
	if err := json.Unmarshal(line, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Rule == nil || doc.Rule.ID != alert.Alert.RuleID || doc.Event.Severity != alert.Alert.Severity || doc.Process.EntityID != alert.Process.EntityID {
		t.Errorf("the report reads %+v %+v from the encoded alert", doc.Rule, doc.Event)
	}

	s := ui.New(ui.Config{Host: "h"})
	s.Observe(alert)
	r := httptest.NewRequest(http.MethodGet, "/api/alerts", nil)
	r.Host = "127.0.0.1:7300"
	r.Header.Set("Authorization", "Bearer "+s.Token())
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	var shown struct{ Alerts []map[string]any }
	if err := json.Unmarshal(w.Body.Bytes(), &shown); err != nil || len(shown.Alerts) != 1 {
		t.Fatalf("/api/alerts: %v %s", err, w.Body.String())
	}
	for member, v := range shown.Alerts[0] {
		path, ok := viewFields[member]
		if !ok {
			t.Errorf("the view serves %q, which names no field of event.Fields (add it to viewFields)", member)
			continue
		}
		if _, ok := event.LookupField(path); !ok {
			t.Errorf("viewFields maps %q to %s, which is not in event.Fields", member, path)
			continue
		}
		want := lookup(enc, path)
		if member == "time" {
			want = float64(alert.TimeMsec) // the view serves Unix msec, the line RFC 3339
		}
		if !reflect.DeepEqual(v, want) {
			t.Errorf("the view shows %s = %v; the line has %s = %v", member, v, path, want)
		}
	}
}

// lookup finds a dotted path in a decoded JSON line.
func lookup(v map[string]any, path string) any {
	var cur any = v
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// ecsSchema is ECS 9.4's field list (../shared/testdata/public/ecs).
func ecsSchema(t *testing.T) *ecs.Schema {
	t.Helper()
	p, err := ecs.Find(".")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ecs.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLinesAreECS: every line of the corpus (every member the encoder
// can write, in every ancestry mode, and the replay golden file) is ECS
// 9.4, lineaged.*, auditd.* or user.audit.*.
func TestLinesAreECS(t *testing.T) {
	s := ecsSchema(t)
	for _, l := range lines(corpus(t)) {
		if p := s.Check(l); len(p) > 0 {
			t.Errorf("%s\n%s", strings.Join(p, "\n"), l)
		}
	}
}

// TestFieldsHaveECSTypes: every row of the field table outside lineaged's
// and Auditbeat's own names is an ECS field, and the index template type
// it gives (lineaged schema) is ECS's.
func TestFieldsHaveECSTypes(t *testing.T) {
	s := ecsSchema(t)
	for _, f := range event.Fields {
		if ecs.Own(f.Path) || strings.HasPrefix(f.Path, "labels.") {
			continue
		}
		e := s.Fields[f.Path]
		if e == nil {
			t.Errorf("%s is not an ECS field", f.Path)
			continue
		}
		if got := event.ESType(f); got != e.Type {
			t.Errorf("%s: the template maps it as %s; ECS types it %s", f.Path, got, e.Type)
		}
	}
}
