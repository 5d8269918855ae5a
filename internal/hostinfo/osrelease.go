package hostinfo

import (
	"bytes"
	"errors"
	"strings"
)

var errNotRegular = errors.New("not a regular file")

// parseOSRelease reads os-release(5): lines of KEY=VALUE, where the value
// follows shell quoting ("…" with \" \\ \` \$ escaped, '…' literal, a
// backslash escaping any one character outside quotes, quoted and
// unquoted parts joined); blank lines and lines starting with # are
// ignored. A line that is none of these (no =, a key that is not a shell
// variable name, an unterminated quote, a trailing backslash, unquoted
// blanks inside the value, a NUL) is skipped rather than guessed at. A
// later line for a key replaces an earlier one, as the shell that may
// source the file does.
func parseOSRelease(data []byte) map[string]string {
	v := make(map[string]string)
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		k, val, ok := bytes.Cut(line, []byte{'='})
		// Blanks around the = are allowed, as systemd's parser allows them.
		k, val = bytes.TrimRight(k, " \t"), bytes.TrimLeft(val, " \t")
		if !ok || !isVarName(k) {
			continue
		}
		if s, ok := unquote(val); ok {
			v[string(k)] = s
		}
	}
	return v
}

// isVarName: [A-Za-z_][A-Za-z0-9_]*.
func isVarName(k []byte) bool {
	if len(k) == 0 || (k[0] >= '0' && k[0] <= '9') {
		return false
	}
	for _, c := range k {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// unquote reads one shell word.
func unquote(w []byte) (string, bool) {
	var b strings.Builder
	const (
		bare = iota
		double
		single
	)
	state := bare
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c == 0 {
			return "", false
		}
		switch state {
		case bare:
			switch c {
			case '"':
				state = double
			case '\'':
				state = single
			case '\\':
				if i+1 == len(w) {
					return "", false // a line continuation: not supported
				}
				i++
				if w[i] == 0 {
					return "", false
				}
				b.WriteByte(w[i])
			case ' ', '\t', '\r', '\v', '\f':
				return "", false // two words: not one value
			default:
				b.WriteByte(c)
			}
		case double:
			switch {
			case c == '"':
				state = bare
			case c == '\\' && i+1 < len(w) && strings.IndexByte("\"\\`$", w[i+1]) >= 0:
				i++
				b.WriteByte(w[i])
			case c == '\\' && i+1 == len(w):
				return "", false
			default:
				b.WriteByte(c) // a backslash before another character stays
			}
		case single:
			if c == '\'' {
				state = bare
			} else {
				b.WriteByte(c)
			}
		}
	}
	if state != bare {
		return "", false
	}
	return b.String(), true
}

// redhatPlatforms maps the start of /etc/redhat-release's line to
// os-release's ID for the same distribution.
var redhatPlatforms = []struct{ prefix, id string }{
	{"Red Hat Enterprise Linux", "rhel"},
	{"CentOS", "centos"},
	{"Fedora", "fedora"},
	{"Scientific Linux", "scientific"},
	{"Oracle Linux", "ol"},
	{"Rocky Linux", "rocky"},
	{"AlmaLinux", "almalinux"},
}

// fromRedhatRelease fills os from /etc/redhat-release's first line,
// "NAME release VERSION (CODENAME)", as RHEL, CentOS and Scientific Linux
// 6 write it ("CentOS release 6.10 (Final)"): the name before
// " release ", the version after it (with the codename, as os-release's
// VERSION has it), the family redhat (the file is Red Hat's convention),
// and the platform when the name is a known one. A line without
// " release " gives only host.os.full.
func fromRedhatRelease(o *OS, data []byte) {
	line, _, _ := bytes.Cut(data, []byte{'\n'})
	s := strings.TrimSpace(string(line))
	if s == "" || strings.IndexByte(s, 0) >= 0 {
		return
	}
	o.Full = s
	name, version, ok := strings.Cut(s, " release ")
	name, version = strings.TrimSpace(name), strings.TrimSpace(version)
	if !ok || name == "" || version == "" {
		return
	}
	o.Name, o.Version, o.Family = name, version, "redhat"
	for _, p := range redhatPlatforms {
		if strings.HasPrefix(name, p.prefix) {
			o.Platform = p.id
			break
		}
	}
}
