package accounts

import (
	"maps"
	"testing"
)

func TestParseID(t *testing.T) {
	for s, want := range map[string]uint32{"0": 0, "1000": 1000, "01000": 1000, "4294967294": 4294967294, "65534": 65534} {
		if got, ok := parseID(s); !ok || got != want {
			t.Errorf("parseID(%q) = %d, %v, want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "unset", "-1", "4294967295", "4294967296", "99999999999", "12a", " 1", "1 ", "+1", "0x10"} {
		if got, ok := parseID(s); ok {
			t.Errorf("parseID(%q) = %d, want no id", s, got)
		}
	}
}

func TestParseLine(t *testing.T) {
	type res struct {
		name string
		id   uint32
	}
	good := map[string]res{
		"root:x:0:0:root:/root:/bin/bash":                            {"root", 0},
		"  alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash":         {"alice", 1000},
		"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin": {"nobody", 65534},
		"jöran:x:1001:1001::/home/j:/bin/sh":                         {"jöran", 1001},
		"ldap user:*:5001:5001:::":                                   {"ldap user", 5001},
	}
	for line, want := range good {
		name, id, ok := parseLine([]byte(line), passwdFields)
		if !ok || name != want.name || id != want.id {
			t.Errorf("%q: %q %d %v, want %q %d", line, name, id, ok, want.name, want.id)
		}
	}
	bad := []string{
		"", "   ", "# root:x:0:0:root:/root:/bin/bash", "\t#c",
		"+@netgroup:::::",           // NIS compat
		"-bob:x:1002:1002:::",       // NIS compat
		"+:::::",                    // NIS compat
		":x:0:0:root:/root:/bin/sh", // no name
		"root:x::0:root:/root:/bin/sh",
		"root:x:-1:0:root:/root:/bin/sh",
		"root:x:4294967295:0:root:/root:/bin/sh",
		"root:x:0:0:root:/root",          // a field short
		"root:x:0:0:root:/root:/bin:sh",  // a field too many
		"ro\x01ot:x:0:0:root:/root:/bin", // control character
		"ro\xffot:x:0:0:root:/root:/bin", // not UTF-8
	}
	for _, line := range bad {
		if name, id, ok := parseLine([]byte(line), passwdFields); ok {
			t.Errorf("%q accepted as %q %d", line, name, id)
		}
	}
	if name, id, ok := parseLine([]byte("sudo:x:27:alice,bob"), groupFields); !ok || name != "sudo" || id != 27 {
		t.Errorf("group line: %q %d %v", name, id, ok)
	}
	if _, _, ok := parseLine([]byte("sudo:x:27:alice,bob"), passwdFields); ok {
		t.Error("a group line accepted as a passwd line")
	}
}

func TestParseTable(t *testing.T) {
	data := "root:x:0:0:root:/root:/bin/bash\n" +
		"# comment\n" +
		"\n" +
		"toor:x:0:0:second root:/root:/bin/sh\n" + // the first line with an id wins
		"alice:x:1000:1000::/home/alice:/bin/bash\n" +
		"+@admins::::::\n" +
		"garbage\n" +
		"bob:x:1001:1001::/home/bob:/bin/sh" // no final newline
	m, bad := parseTable([]byte(data), passwdFields)
	want := map[uint32]string{0: "root", 1000: "alice", 1001: "bob"}
	if !maps.Equal(m, want) {
		t.Errorf("table %v, want %v", m, want)
	}
	if bad != 2 {
		t.Errorf("bad lines %d, want 2 (the NIS line and garbage)", bad)
	}
}
