package fanotify

import (
	"reflect"
	"testing"
	"time"

	"github.com/lineaged/lineaged/event"
)

func TestAppendEvents(t *testing.T) {
	at := time.UnixMilli(1700000000123)
	e := Event{Time: at, Ops: OpOpen | OpModify | OpCloseWrite | OpExec, PID: 4242, Path: "/etc/shadow", Class: ClassCredential}
	got := AppendEvents(nil, e)
	want := []struct {
		typ    event.Type
		action event.Action
		op     string
	}{
		{"access", "executed-file", "exec"},
		{"access", "opened-file", "open"},
		{"change", "modified-file", "write"},
		{"change", "wrote-to-file", "write"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Module != "fanotify" || g.Category != "file" || g.Kind != event.KindEvent || g.Outcome != "success" {
			t.Errorf("%d: module %q category %q kind %v outcome %q", i, g.Module, g.Category, g.Kind, g.Outcome)
		}
		if g.Type != w.typ || g.Action != w.action || g.File == nil || g.File.Operation != w.op {
			t.Errorf("%d: type %q action %q file %+v; want %+v", i, g.Type, g.Action, g.File, w)
		}
		if g.File.Path != "/etc/shadow" || g.Process.PID != 4242 || g.TimeMsec != 1700000000123 {
			t.Errorf("%d: path %q pid %d time %d", i, g.File.Path, g.Process.PID, g.TimeMsec)
		}
		if !reflect.DeepEqual(g.Labels, []event.KV{{Key: "fanotify.class", Value: "credential"}}) {
			t.Errorf("%d: labels %v", i, g.Labels)
		}
	}
	// Events share no File: a consumer may change one.
	got[0].File.Path = "changed"
	if got[1].File.Path != "/etc/shadow" {
		t.Error("events share their File")
	}

	one := AppendEvents(got[:0:0], Event{Time: at, Ops: OpCloseWrite, PID: 1, Path: "/tmp/x"})
	if len(one) != 1 || one[0].Action != "wrote-to-file" || one[0].Labels != nil {
		t.Errorf("close-write alone: %+v", one)
	}
	if none := AppendEvents(nil, Event{Time: at, PID: 1, Path: "/tmp/x"}); len(none) != 0 {
		t.Errorf("no operation, yet %d events", len(none))
	}
}

func TestAppendOverflow(t *testing.T) {
	got := AppendEvents(nil, Event{Time: time.UnixMilli(5), Overflow: true, Overflows: 3, Mask: fanQOverflow})
	if len(got) != 1 {
		t.Fatalf("%d events", len(got))
	}
	g := got[0]
	if g.Module != "fanotify" || g.Action != "queue-overflow" || g.Outcome != "failure" || g.File != nil {
		t.Errorf("%+v", g)
	}
	if !reflect.DeepEqual(g.Labels, []event.KV{{Key: "fanotify.overflows", Value: "3"}}) {
		t.Errorf("labels %v", g.Labels)
	}
}
