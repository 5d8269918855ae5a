package ecs

import (
	"strings"
	"sync"
	"testing"
)

var load = sync.OnceValues(func() (*Schema, error) {
	p, err := Find(".")
	if err != nil {
		return nil, err
	}
	return Load(p)
})

func schema(t *testing.T) *Schema {
	t.Helper()
	s, err := load()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const good = `{"@timestamp":"2026-11-27T03:16:58.123Z","ecs":{"version":"9.4.0"},` +
	`"event":{"kind":"event","category":["process"],"type":["start"],"outcome":"success"},` +
	`"process":{"pid":4,"args":["a","b"],"start":"2026-11-27T03:16:58.123Z"},"source":{"ip":"::1","port":22},` +
	`"user":{"id":"0","audit":{"id":"1000"}},"auditd":{"data":{"x":"1"}},"lineaged":{"ancestry":[{"pid":1}]},"labels":{"a":"b"}}`

func TestCheckGood(t *testing.T) {
	if p := schema(t).Check([]byte(good)); p != nil {
		t.Errorf("problems in a good line: %q", p)
	}
}

func TestCheckBad(t *testing.T) {
	s := schema(t)
	for _, tc := range []struct{ from, to, want string }{
		{`"pid":4`, `"pid":"4"`, "process.pid is string; ECS types it long"},
		{`"pid":4`, `"pid":4.5`, "process.pid 4.5 is not an integer"},
		{`"ip":"::1"`, `"ip":"localhost"`, `source.ip "localhost" is not an IP address`},
		{`"start":"2026-11-27T03:16:58.123Z"`, `"start":"yesterday"`, `process.start "yesterday" is not an RFC 3339 date`},
		{`"type":["start"]`, `"type":["connection"]`, "event.type connection is not one ECS expects for event.category [process]"},
		{`"kind":"event"`, `"kind":"incident"`, `event.kind "incident" is not one of ECS's allowed values`},
		{`"outcome":"success"`, `"outcome":"ok"`, `event.outcome "ok" is not one of ECS's allowed values`},
		{`"user":{"id":"0"`, `"user":{"id":"0","saved":{"id":"0"}`, "user.saved.id is not an ECS field"},
		{`"pid":4,`, `"pid":4,"ancestry":[{"pid":1}],`, "process.ancestry is not an ECS field"},
		{`"labels":{"a":"b"}`, `"labels":{"a":1}`, "labels.a is number: labels.* values are strings"},
		{`"pid":4,`, `"pid":4,"executable":["x"],`, "process.executable is an array"},
		{`"ecs":{"version":"9.4.0"},`, ``, "no ecs.version"},
	} {
		line := strings.Replace(good, tc.from, tc.to, 1)
		if line == good {
			t.Fatalf("%q not in the good line", tc.from)
		}
		p := s.Check([]byte(line))
		if !strings.Contains(strings.Join(p, "\n"), tc.want) {
			t.Errorf("%s: problems %q, want one with %q", tc.to, p, tc.want)
		}
	}
}
