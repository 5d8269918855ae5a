package accounts

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseLine feeds arbitrary lines (of /etc/passwd, /etc/group, or
// getent's output) to the line parser: no panic; an accepted line gives a
// clean name and an id that is the line's third field, and a line
// written back from them parses to the same.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"root:x:0:0:root:/root:/bin/bash",
		"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
		"sudo:x:27:alice,bob",
		"  # comment",
		"+@netgroup:::::",
		"ldapuser:*:1234567:1234567:LDAP User:/home/ldapuser:/bin/bash",
		"x:x:4294967295:0:::",
		"x:x:00000000042:0:::",
		"ü:x:1:1:::",
		"",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, line string, passwd bool) {
		fields := groupFields
		if passwd {
			fields = passwdFields
		}
		name, id, ok := parseLine([]byte(line), fields)
		if !ok {
			if name != "" || id != 0 {
				t.Fatalf("refused line gave %q %d", name, id)
			}
			return
		}
		if name == "" || len(name) > maxNameLen || !utf8.ValidString(name) || strings.ContainsAny(name, ":\n\x00\x7f") || name[0] == '+' || name[0] == '-' {
			t.Fatalf("%q: name %q", line, name)
		}
		for _, c := range []byte(name) {
			if c < 0x20 {
				t.Fatalf("%q: control character in name %q", line, name)
			}
		}
		parts := strings.Split(strings.TrimLeft(line, " \t"), ":")
		if len(parts) != fields || parts[0] != name {
			t.Fatalf("%q: %d fields, name %q", line, len(parts), name)
		}
		if v, err := strconv.ParseUint(parts[2], 10, 64); err != nil || v != uint64(id) || id == unsetID {
			t.Fatalf("%q: id %d from field %q", line, id, parts[2])
		}
		back := name + ":x:" + strconv.FormatUint(uint64(id), 10) + strings.Repeat(":", fields-3)
		if n2, id2, ok2 := parseLine([]byte(back), fields); !ok2 || n2 != name || id2 != id {
			t.Fatalf("%q written back as %q parsed as %q %d %v", line, back, n2, id2, ok2)
		}
	})
}

// FuzzParseTable feeds arbitrary files to the table parser: no panic,
// every entry is what its first line says, and no line is both an entry
// and counted bad.
func FuzzParseTable(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/sbin/nologin\n"), true)
	f.Add([]byte("root:x:0:\nsudo:x:27:alice\n# c\n\n+:::\n"), false)
	f.Add([]byte("a:x:5:5:::\nb:x:5:5:::\r\nc:x:6:6:::"), true)
	f.Add([]byte("\n\n\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, passwd bool) {
		fields := groupFields
		if passwd {
			fields = passwdFields
		}
		m, bad := parseTable(data, fields)
		lines := bytes.Split(data, []byte{'\n'})
		first := map[uint32]string{}
		others := 0
		for _, l := range lines {
			name, id, ok := parseLine(l, fields)
			if !ok {
				if t := bytes.TrimLeft(l, " \t"); len(t) > 0 && t[0] != '#' {
					others++
				}
				continue
			}
			if _, dup := first[id]; !dup {
				first[id] = name
			}
		}
		if len(m) != len(first) || bad != others {
			t.Fatalf("%d entries and %d bad, want %d and %d", len(m), bad, len(first), others)
		}
		for id, name := range first {
			if m[id] != name {
				t.Fatalf("id %d: %q, want the first line's %q", id, m[id], name)
			}
		}
		// And independently of parseLine: each entry is some line's
		// first and third fields.
		for id, name := range m {
			seen := false
			for _, l := range lines {
				p := strings.Split(strings.TrimLeft(string(l), " \t"), ":")
				if len(p) == fields && p[0] == name {
					if v, err := strconv.ParseUint(p[2], 10, 32); err == nil && uint32(v) == id {
						seen = true
						break
					}
				}
			}
			if !seen {
				t.Fatalf("entry %d %q is no line of the file", id, name)
			}
		}
	})
}
