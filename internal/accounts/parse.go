package accounts

import (
	"bytes"
	"unicode/utf8"
)

// maxNameLen bounds an account name: LOGIN_NAME_MAX is 256 with its NUL,
// and useradd refuses names longer than 32; a longer field is not a name.
const maxNameLen = 255

// unsetID is (uid_t)-1, the kernel's "no id" (audit writes it as
// 4294967295, or "unset" when it interprets the field). No account has it:
// setuid(-1) means "leave unchanged", and shadow's tools refuse it.
const unsetID = 1<<32 - 1

// parseID reads a decimal uid or gid as the events carry it: digits only
// (leading zeros allowed, as the C library's strtoul takes them), below
// 4294967295. "unset", "-1", "4294967295", "" and anything else are not
// ids. It allocates nothing: it runs on every lookup.
func parseID[T string | []byte](s T) (uint32, bool) {
	if len(s) == 0 || len(s) > 10 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if v >= unsetID {
		return 0, false
	}
	return uint32(v), true
}

// parseLine reads one line of /etc/passwd (name:passwd:uid:gid:gecos:dir:shell)
// or /etc/group (name:passwd:gid:members), or one line of getent's
// output, which is the same format: the name is field 1 and the id field
// 3 in both. It follows glibc's nss_files where it matters for which
// lines count: leading blanks are skipped, an empty line or one starting
// with '#' is no entry. It is stricter where a name would be doubtful:
// the line needs all the fields of its file (7 or 4), the id must be
// decimal, and the name must be valid UTF-8 without control characters
// or a colon. A name starting with '+' or '-' is NIS compat syntax
// ("+@group", "-user"), not an account, and is skipped.
func parseLine(line []byte, fields int) (name string, id uint32, ok bool) {
	line = bytes.TrimLeft(line, " \t")
	if len(line) == 0 || line[0] == '#' {
		return "", 0, false
	}
	if bytes.Count(line, []byte{':'}) != fields-1 {
		return "", 0, false
	}
	n, rest, _ := bytes.Cut(line, []byte{':'})
	_, rest, _ = bytes.Cut(rest, []byte{':'}) // the password field
	idf, _, _ := bytes.Cut(rest, []byte{':'})
	if !validName(n) {
		return "", 0, false
	}
	id, ok = parseID(idf)
	if !ok {
		return "", 0, false
	}
	return string(n), id, true
}

// validName: what parseLine accepts as an account name.
func validName(n []byte) bool {
	if len(n) == 0 || len(n) > maxNameLen || n[0] == '+' || n[0] == '-' || !utf8.Valid(n) {
		return false
	}
	for _, c := range n {
		if c < 0x20 || c == 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// Fields per line.
const (
	passwdFields = 7
	groupFields  = 4
)

// parseTable reads a whole passwd or group file into id → name. The
// first line with an id wins, as getpwuid(3) returns the first match in
// nss_files. bad counts the lines that were neither an entry, a blank,
// nor a comment.
func parseTable(data []byte, fields int) (m map[uint32]string, bad int) {
	m = make(map[uint32]string)
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		name, id, ok := parseLine(line, fields)
		if !ok {
			if t := bytes.TrimLeft(line, " \t"); len(t) > 0 && t[0] != '#' {
				bad++
			}
			continue
		}
		if _, dup := m[id]; !dup {
			m[id] = name
		}
	}
	return m, bad
}
