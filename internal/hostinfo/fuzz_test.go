package hostinfo

import (
	"maps"
	"strings"
	"testing"
)

// FuzzParseOSRelease feeds arbitrary files to the os-release parser: no
// panic; keys are shell variable names; values hold no newline or NUL;
// and the variables written back in double quotes parse to the same.
func FuzzParseOSRelease(f *testing.F) {
	for _, s := range []string{
		"NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\n",
		"# comment\n\nPRETTY_NAME='Rocky Linux 9.3 (Blue Onyx)'\nID_LIKE=\"rhel centos fedora\"\n",
		"ESC=\"a \\\"b\\\" \\\\ \\$x \\` \\q\"\nBARE=a\\ b\nMIX=\"x\"'y'z\n",
		"UNTERMINATED=\"x\nTWO=a b\nEND=x\\\n9X=1\n K = v \r\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v := parseOSRelease(data)
		var b strings.Builder
		for k, val := range v {
			if !isVarName([]byte(k)) {
				t.Fatalf("key %q", k)
			}
			if strings.ContainsAny(val, "\n\x00") {
				t.Fatalf("%s = %q", k, val)
			}
			b.WriteString(k + "=" + quote(val) + "\n")
		}
		if back := parseOSRelease([]byte(b.String())); !maps.Equal(back, v) {
			t.Fatalf("%q written back as %q parsed as %q", v, b.String(), back)
		}
	})
}

// quote writes a value in double quotes as os-release(5) says.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if strings.IndexByte("\"\\`$", s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// FuzzParseRedhatRelease: no panic; what is filled comes from the first
// line and holds no newline; a name and version only with family redhat.
func FuzzParseRedhatRelease(f *testing.F) {
	for _, s := range []string{
		"CentOS release 6.10 (Final)\n",
		"Red Hat Enterprise Linux Server release 6.10 (Santiago)\n",
		"CentOS Linux release 7.9.2009 (Core)\n",
		" release \n", "release 6\n", "x release y release z\nsecond line release 2\n", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var o OS
		fromRedhatRelease(&o, data)
		first, _, _ := strings.Cut(string(data), "\n")
		for _, s := range []string{o.Name, o.Version, o.Full, o.Platform, o.Family} {
			if strings.ContainsAny(s, "\n\x00") {
				t.Fatalf("%q: %+v", data, o)
			}
		}
		if o.Full != "" && !strings.Contains(first, o.Full) {
			t.Fatalf("full %q is not the first line %q", o.Full, first)
		}
		if (o.Name != "") != (o.Family == "redhat") || (o.Name != "") != (o.Version != "") {
			t.Fatalf("%q: %+v", data, o)
		}
		if o.Name != "" && (!strings.HasPrefix(o.Full, o.Name) || !strings.HasSuffix(o.Full, o.Version)) {
			t.Fatalf("%q: %+v", data, o)
		}
	})
}

// FuzzParseID: the machine-id and agent-id file readers accept only
// their exact forms.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{
		"3d1219c7c4c5404aaa1f6d2a48adfda4\n", "uninitialized\n", "",
		"2eba3dae-06d3-4939-8dc8-ec27769ee947\n", "2EBA3DAE-06D3-4939-8DC8-EC27769EE947",
		"2eba3dae-06d3-4939-8dc8-ec27769ee94\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if id, ok := parseMachineID(data); ok {
			if len(id) != 32 || !isLowerHex(id) || strings.TrimSuffix(string(data), "\n") != id {
				t.Fatalf("machine id %q from %q", id, data)
			}
		}
		if id, ok := parseUUID(data); ok {
			if !strings.EqualFold(strings.TrimSuffix(string(data), "\n"), id) || id != strings.ToLower(id) {
				t.Fatalf("agent id %q from %q", id, data)
			}
			if p := strings.Split(id, "-"); len(p) != 5 || len(p[0]) != 8 || len(p[1]) != 4 || len(p[2]) != 4 || len(p[3]) != 4 || len(p[4]) != 12 ||
				!isLowerHex(strings.ReplaceAll(id, "-", "")) {
				t.Fatalf("agent id %q", id)
			}
		}
	})
}
