package auditrule

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParse: any line is parsed or refused, never a panic; what is
// parsed has the parts its Kind needs, and writes back (String) to a
// line that parses to the same rule.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"-a always,exit -F arch=b64 -S execve -F auid>=1000 -F auid!=unset -k exec",
		"-a always,exit -F arch=b32 -S adjtimex,settimeofday,stime -F key=time-change",
		"-A exit,never -S 59 -S all -F exit=-EACCES -F a0&=0x1 -C auid!=obj_uid -k a -k b,c",
		`-w "/folder with space" -p wa -k path-double-quoted`,
		`-w '/a b' -p wa`,
		`-w /a\ b\\c\d -p x`,
		"-D -k x",
		"-b 8192",
		"--reset-lost",
		"-a always,exit -S execve - F auid>=1000",
		`-w "/etc -p wa`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := Parse(line)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		switch r.Kind {
		case Syscall:
			if r.List == "" || r.Action == "" {
				t.Fatalf("syscall rule without list or action: %+v", r)
			}
		case Watch:
			if r.Path == "" {
				t.Fatalf("watch without a path: %+v", r)
			}
		case DeleteAll:
		case Control:
			if r.Option == "" || len(r.Keys) > 0 {
				t.Fatalf("control line %+v", r)
			}
		default:
			t.Fatalf("kind %d", r.Kind)
		}
		for _, k := range r.Keys {
			if k == "" || strings.IndexByte(k, 1) >= 0 {
				t.Fatalf("key %q", k)
			}
		}
		s := r.String()
		back, err := Parse(s)
		if err != nil {
			t.Fatalf("%q parsed as %+v, written as %q, which does not parse: %v", line, r, s, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("%q parsed as %+v, written as %q, read back as %+v", line, r, s, back)
		}
		if back.String() != s {
			t.Fatalf("String is not stable: %q then %q", s, back.String())
		}
	})
}
