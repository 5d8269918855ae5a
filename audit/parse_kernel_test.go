package audit

import "testing"

// TestParseKernelMatchesLogForm: a record received from the kernel parses
// to the same fields as the line auditd writes for it.
func TestParseKernelMatchesLogForm(t *testing.T) {
	payload := []byte(`audit(1795748077.758:293920): arch=c000003e syscall=59 success=yes exit=0 pid=17040 comm="bash" exe="/usr/bin/bash" key="exec"` + "\x00")
	var k, l Record
	if err := k.ParseKernel(1300, payload); err != nil {
		t.Fatal(err)
	}
	if err := l.Parse([]byte(`type=SYSCALL msg=audit(1795748077.758:293920): arch=c000003e syscall=59 success=yes exit=0 pid=17040 comm="bash" exe="/usr/bin/bash" key="exec"`)); err != nil {
		t.Fatal(err)
	}
	if k.Type != 1300 || k.Serial != l.Serial || k.TimeMsec() != l.TimeMsec() || len(k.Fields) != len(l.Fields) {
		t.Fatalf("kernel form %+v\nlog form %+v", k, l)
	}
	for i := range k.Fields {
		if string(k.Fields[i].Key) != string(l.Fields[i].Key) || string(k.Fields[i].Value) != string(l.Fields[i].Value) {
			t.Errorf("field %d: %s=%s vs %s=%s", i, k.Fields[i].Key, k.Fields[i].Value, l.Fields[i].Key, l.Fields[i].Value)
		}
	}
	if string(k.Line) != string(l.Line) {
		t.Errorf("rebuilt line %q\nauditd writes %q", k.Line, l.Line)
	}
	// A type this build does not name is written as auditd does.
	if err := k.ParseKernel(1999, []byte("audit(1.000:2): x=y")); err != nil || string(k.TypeName) != "UNKNOWN[1999]" || k.Type != 1999 {
		t.Errorf("unknown type: %v %q %d", err, k.TypeName, k.Type)
	}
}
