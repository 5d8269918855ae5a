package event

import (
	"reflect"
	"testing"
)

func TestCloneSharesNothingMutable(t *testing.T) {
	code := 3
	e := &Event{
		ID: "x", Process: Process{PID: 1, Args: []string{"a"}, ExitCode: &code},
		Parent: &ProcRef{PID: 2}, Ancestry: []ProcRef{{PID: 2}}, Target: &User{ID: "0"},
		File: &File{Path: "/p"}, Source: &Endpoint{IP: "1.2.3.4"}, Dest: &Endpoint{Port: 80},
		Network: &Network{Family: "ipv4"}, Labels: []KV{{"k", "v"}},
		Audit: &Audit{Sequence: 7, Keys: []string{"k"}, RecordTypes: []string{"SYSCALL"}, Data: []KV{{"a", "b"}}, Unparsed: []string{"u"}},
	}
	c := e.Clone()
	if !reflect.DeepEqual(e, c) {
		t.Fatalf("clone differs:\n%+v\n%+v", e, c)
	}
	// Mutate everything the original points to; the clone must not change.
	e.Process.Args[0], *e.Process.ExitCode, e.Parent.PID, e.Ancestry[0].PID = "z", 9, 9, 9
	e.Target.ID, e.File.Path, e.Source.IP, e.Dest.Port, e.Network.Family = "9", "/z", "z", 9, "z"
	e.Audit.Sequence, e.Audit.Keys[0], e.Audit.RecordTypes[0], e.Audit.Data[0].Key, e.Audit.Unparsed[0] = 9, "z", "z", "z", "z"
	e.Labels[0].Key = "z"
	if c.Process.Args[0] != "a" || *c.Process.ExitCode != 3 || c.Parent.PID != 2 || c.Ancestry[0].PID != 2 ||
		c.Target.ID != "0" || c.File.Path != "/p" || c.Source.IP != "1.2.3.4" || c.Dest.Port != 80 || c.Network.Family != "ipv4" ||
		c.Audit.Sequence != 7 || c.Audit.Keys[0] != "k" || c.Audit.RecordTypes[0] != "SYSCALL" || c.Audit.Data[0].Key != "a" ||
		c.Audit.Unparsed[0] != "u" || c.Labels[0].Key != "k" {
		t.Errorf("clone changed with the original: %+v", c)
	}
}
