package baseline

import (
	"bytes"
	"strings"
	"testing"
)

func FuzzLoad(f *testing.F) {
	var buf bytes.Buffer
	b := New()
	b.Created, b.Updated = t0, t0
	b.AddHost("web1")
	b.ObserveExec([]string{"/usr/bin/bash", "/usr/sbin/sshd"}, "/usr/bin/id", at(1))
	b.ObserveFile("/bin/cat", "/srv/a|b\n\xff", "read", at(2))
	b.ObserveConnect("/usr/bin/curl", "1.1.1.1", 443, at(3))
	if err := b.Approve("listen|/usr/sbin/sshd|22"); err != nil {
		f.Fatal(err)
	}
	if err := Encode(&buf, b); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.String())
	f.Add(`{"lineaged_baseline":1,"entries":0}`)
	f.Add(`{"lineaged_baseline":2}`)
	f.Add("{\"lineaged_baseline\":1,\"entries\":1}\n{\"key\":\"listen|/x|%7C\",\"count\":1,\"first\":\"2025-01-01T00:00:00+14:00\",\"last\":\"9999-12-31T23:59:59Z\"}\n")
	f.Fuzz(func(t *testing.T, data string) {
		b, err := Decode(strings.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		var one, two bytes.Buffer
		if err := Encode(&one, b); err != nil {
			t.Fatalf("a loaded baseline does not encode: %v", err)
		}
		b2, err := Decode(bytes.NewReader(one.Bytes()), "again")
		if err != nil {
			t.Fatalf("a saved baseline does not reload: %v\n%s", err, one.String())
		}
		if err := Encode(&two, b2); err != nil {
			t.Fatal(err)
		}
		if one.String() != two.String() {
			t.Fatalf("reload differs:\n%s\n%s", one.String(), two.String())
		}
		if len(Diff(b, b2)) != 0 || b.Len() != b2.Len() {
			t.Fatalf("reload differs: %+v", Diff(b, b2))
		}
	})
}

func FuzzPath(f *testing.F) {
	for _, c := range pathCases {
		f.Add(c.in)
	}
	for _, p := range keepPaths {
		f.Add(p)
	}
	for _, s := range []string{"/memfd:x (deleted)", "<ver>1.2", "a.1.2.3-4.5.6", "-.5.6", "<Xk3j9QzP>", "x (deleted)/ (deleted)", "/tmp/tmp.<n>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		g := Path(p)
		if gg := Path(g); gg != g {
			t.Fatalf("Path not idempotent: %q → %q → %q", p, g, gg)
		}
		e := Exe(p)
		if ee := Exe(e); ee != e {
			t.Fatalf("Exe not idempotent: %q → %q → %q", p, e, ee)
		}
		s := sockPath(p)
		if ss := sockPath(s); ss != s {
			t.Fatalf("sockPath not idempotent: %q → %q → %q", p, s, ss)
		}
		// Keys built from the generalised path are canonical.
		if k := FileAccessKey(p, p, "read"); k != "" {
			if _, err := Canonical(k); err != nil {
				t.Fatalf("FileAccessKey(%q) = %q: %v", p, k, err)
			}
		}
		if k := ExecEdgeKey([]string{p, p}, p); k != "" {
			if _, _, err := ParseKey(k); err != nil {
				t.Fatalf("ExecEdgeKey(%q) = %q: %v", p, k, err)
			}
		}
	})
}
