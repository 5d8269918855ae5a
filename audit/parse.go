package audit

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/elastic/go-libaudit/v2/auparse"
)

// Errors returned by Parse. They say which part of the line was wrong so a
// replay can report "file:line: <reason>".
var (
	errNoType      = errors.New(`no "type=" at the start of the line (after an optional "node=HOST ")`)
	errNoMsg       = errors.New(`no " msg=audit(" after the record type`)
	errBadStamp    = errors.New(`malformed audit(SEC.MSEC:SERIAL) header`)
	errEmptyLine   = errors.New("empty line")
	errBadTypeName = errors.New("empty record type name")
)

// ParseError is a line that could not be parsed, with the reason.
type ParseError struct {
	Err  error
	Line []byte // a short prefix of the offending line, for the report
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%v (line starts %q)", e.Err, e.Line)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Record types this package treats specially. The numbers are the kernel's
// (include/uapi/linux/audit.h) and never change.
const (
	TypeUserAcct    = 1101
	TypeLogin       = 1006
	TypeUserStart   = 1105
	TypeUserEnd     = 1106
	TypeCredDisp    = 1104
	TypeLastDaemon  = 1299
	TypeSyscall     = 1300
	TypePath        = 1302
	TypeSockaddr    = 1306
	TypeCwd         = 1307
	TypeExecve      = 1309
	TypeEOE         = 1320
	TypeProctitle   = 1327
	TypeAVC         = 1400
	TypeAnomFirst   = 2100 // AUDIT_ANOM_LOGIN_FAILURES: first of the single-record anomaly/response types
	TypeFirstUser   = 1100
	TypeLastUser    = 1199
	TypeFirstUser2  = 2100
	TypeLastUser2   = 2999
	TypeDaemonStart = 1200
)

// typeByName maps record type names to numbers. It is built once from
// go-libaudit's generated table so both agree on every name.
var typeByName = func() map[string]uint16 {
	m := make(map[string]uint16, 300)
	for i := 1000; i < 3000; i++ {
		name := auparse.AuditMessageType(i).String()
		if !strings.HasPrefix(name, "UNKNOWN[") {
			m[name] = uint16(i)
		}
	}
	return m
}()

// TypeName returns the name of a numeric record type ("UNKNOWN[n]" when the
// number is not known to this build).
func TypeName(t uint16) string { return auparse.AuditMessageType(t).String() }

// Parse parses one raw or ENRICHED audit.log line into r, replacing what r
// held. The line is copied into r's own buffer, so the caller may reuse line.
//
// Accepted: an optional "node=HOST " prefix; "type=NAME msg=audit(S.M:N):"
// with a known or unknown NAME (UNKNOWN[1334] included); key=value pairs with
// unquoted, "double" or 'single' quoted values (quoted values may hold
// spaces); user-space messages' msg='...' flattened in place; the ENRICHED
// section after 0x1D. Parse allocates only while r's buffers grow.
func (r *Record) Parse(line []byte) error {
	r.Line = append(r.Line[:0], line...)
	r.Node, r.TypeName, r.Type = nil, nil, 0
	r.Sec, r.Msec, r.Serial = 0, 0, 0
	r.Fields = r.Fields[:0]
	r.Interp = r.Interp[:0]
	r.scratch = r.scratch[:0]

	b := r.Line
	// Trim the line end (CR LF, trailing blanks).
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	r.Line = b
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i == len(b) {
		return r.fail(errEmptyLine)
	}
	if hasPrefix(b[i:], "node=") {
		j := i + 5
		k := j
		for k < len(b) && b[k] != ' ' {
			k++
		}
		r.Node = b[j:k:k]
		i = k
		for i < len(b) && b[i] == ' ' {
			i++
		}
	}
	if !hasPrefix(b[i:], "type=") {
		return r.fail(errNoType)
	}
	i += 5
	j := i
	for j < len(b) && b[j] != ' ' {
		j++
	}
	if j == i {
		return r.fail(errBadTypeName)
	}
	r.TypeName = b[i:j:j]
	r.Type = lookupType(r.TypeName)
	for j < len(b) && b[j] == ' ' {
		j++
	}
	if !hasPrefix(b[j:], "msg=audit(") {
		return r.fail(errNoMsg)
	}
	j += len("msg=audit(")
	// SEC.MSEC:SERIAL)
	sec, n, ok := parseUint(b[j:], '.')
	if !ok {
		return r.fail(errBadStamp)
	}
	j += n + 1
	msec, n, ok := parseUint(b[j:], ':')
	if !ok || msec > 999 {
		return r.fail(errBadStamp)
	}
	j += n + 1
	serial, n, ok := parseUint(b[j:], ')')
	if !ok || serial > 1<<32-1 {
		return r.fail(errBadStamp)
	}
	j += n + 1
	r.Sec, r.Msec, r.Serial = int64(sec), int32(msec), uint32(serial)
	// The header ends with "):" on kernel records; tolerate a missing colon.
	if j < len(b) && b[j] == ':' {
		j++
	}
	r.parseFields(b, j)
	return nil
}

func (r *Record) fail(err error) error {
	l := r.Line
	if len(l) > 80 {
		l = l[:80]
	}
	return &ParseError{Err: err, Line: l}
}

func lookupType(name []byte) uint16 {
	if t, ok := typeByName[string(name)]; ok {
		return t
	}
	// UNKNOWN[1334]: auditd's spelling of a type its build does not know.
	if len(name) > 9 && hasPrefix(name, "UNKNOWN[") && name[len(name)-1] == ']' {
		if v, _, ok := parseUint(name[8:], ']'); ok && v < 1<<16 {
			return uint16(v)
		}
	}
	return 0
}

// parseFields splits the body of a record into fields.
//
// The rules mirror what go-libaudit's kvRegex accepts, so the oracle test
// can compare field by field, with three deliberate differences: 0x1D ends a
// value and starts the ENRICHED section (the regex would glue it to an
// unquoted value), EXECVE's aN[i]= chunk keys are kept (the regex drops them,
// losing long arguments), and empty values are kept as empty fields.
func (r *Record) parseFields(b []byte, i int) {
	interp := false
	nested := false
	paren := false // inside a "(hostname=... res=x)" group of old PAM messages
	avc := r.Type == TypeAVC
	login := r.Type == TypeLogin
	var prefix string // LOGIN's "old "/"new " qualifiers become "old_"/"new_"
	var nestEnd int   // end of the msg='...' body while nested
	for {
		if nested && i >= nestEnd {
			nested, paren = false, false
			i = nestEnd + 1 // skip the closing quote
		}
		end := len(b)
		if nested {
			end = nestEnd
		}
		// Skip separators.
		for i < end && class[b[i]]&clSep != 0 {
			if b[i] == 0x1d {
				interp = true
			}
			i++
		}
		if i >= end {
			if nested {
				continue
			}
			return
		}
		// Scan a word up to '=' or a separator.
		start := i
		for i < end && class[b[i]]&clWordEnd == 0 {
			i++
		}
		if i >= end || b[i] != '=' {
			word := b[start:i]
			if avc && !interp && !nested && hasPrefix(word, "avc:") {
				i = r.parseAVCPrefix(b, i, end)
				continue
			}
			if login && !interp {
				switch string(word) {
				case "old":
					prefix = "old"
				case "new":
					prefix = "new"
				}
			}
			// A bare word with a quote in it (e.g. a quoted message text)
			// must not leave us inside the quotes.
			if len(word) > 0 && (word[0] == '"' || word[0] == '\'') {
				i = skipQuoted(b, start, end)
			}
			continue
		}
		key := b[start:i]
		// Keep only the trailing run of key characters, as the regex would
		// ("(hostname" → "hostname").
		k := len(key)
		for k > 0 && class[key[k-1]]&clKey != 0 {
			k--
		}
		if k > 0 && key[k-1] == '(' && nested {
			paren = true
		}
		key = key[k:len(key):len(key)]
		i++ // '='
		// Value.
		var val []byte
		var quote byte
		if i < end && (b[i] == '"' || b[i] == '\'') {
			quote = b[i]
			vs := i + 1
			ve := vs
			for {
				// The closing quote, found with the vectorised IndexByte;
				// a quote escaped by a backslash does not close (as in
				// go-libaudit's kvRegex). The kernel never escapes, so the
				// loop almost always runs once.
				j := bytes.IndexByte(b[ve:end], quote)
				if j < 0 {
					ve = end
					break
				}
				ve += j
				if ve > vs && b[ve-1] == '\\' {
					ve++
					continue
				}
				break
			}
			if ve >= end {
				// Unterminated quote: take the rest of the line as the
				// value, like a reader would, and keep the quote marker.
				val = b[vs:end:end]
				i = end
			} else {
				val = b[vs:ve:ve]
				i = ve + 1
			}
			if !interp && !nested && quote == '\'' && string(key) == "msg" {
				// A user-space message: its body holds more pairs. A
				// message cut short (no closing quote) still does.
				nested = true
				nestEnd = ve
				i = vs
				continue
			}
		} else {
			vs := i
			for i < end && class[b[i]]&clValEnd == 0 {
				i++
			}
			val = b[vs:i:i]
			if paren && len(val) > 0 && val[len(val)-1] == ')' {
				val = val[: len(val)-1 : len(val)-1]
			}
		}
		if len(key) == 0 {
			continue
		}
		if prefix != "" {
			key = r.synth(prefix, "_", key)
			prefix = ""
		}
		f := Field{Key: key, Value: val, Quote: quote, Nested: nested}
		if interp {
			r.Interp = append(r.Interp, f)
		} else {
			r.Fields = append(r.Fields, f)
		}
	}
}

// parseAVCPrefix turns SELinux's "avc:  denied  { read write } for " into
// seresult=denied seperms=read,write (go-libaudit's normalisation), and
// returns the index after "for". AppArmor AVCs have no braces and are plain
// key=value records.
func (r *Record) parseAVCPrefix(b []byte, i, end int) int {
	j := i
	for j < end && isSpace(b[j]) {
		j++
	}
	rs := j
	for j < end && !isSpace(b[j]) && b[j] != '{' {
		j++
	}
	result := b[rs:j:j]
	for j < end && isSpace(b[j]) {
		j++
	}
	if j >= end || b[j] != '{' || len(result) == 0 {
		return i
	}
	j++
	ps := len(r.scratch)
	first := true
	for j < end && b[j] != '}' {
		for j < end && isSpace(b[j]) {
			j++
		}
		ws := j
		for j < end && !isSpace(b[j]) && b[j] != '}' {
			j++
		}
		if j > ws {
			if !first {
				r.scratch = append(r.scratch, ',')
			}
			r.scratch = append(r.scratch, b[ws:j]...)
			first = false
		}
	}
	if j >= end {
		r.scratch = r.scratch[:ps]
		return i
	}
	j++ // '}'
	perms := r.scratch[ps:len(r.scratch):len(r.scratch)]
	// "for" follows; the pairs after it are ordinary.
	for j < end && isSpace(b[j]) {
		j++
	}
	if hasPrefix(b[j:end], "for") {
		j += 3
	}
	r.Fields = append(r.Fields,
		Field{Key: keySeresult, Value: result},
		Field{Key: keySeperms, Value: perms})
	return j
}

var keySeresult, keySeperms = []byte("seresult"), []byte("seperms")

// synth builds a key in the scratch buffer.
func (r *Record) synth(a, sep string, b []byte) []byte {
	s := len(r.scratch)
	r.scratch = append(r.scratch, a...)
	r.scratch = append(r.scratch, sep...)
	r.scratch = append(r.scratch, b...)
	return r.scratch[s:len(r.scratch):len(r.scratch)]
}

func skipQuoted(b []byte, i, end int) int {
	q := b[i]
	i++
	for i < end && b[i] != q {
		i++
	}
	if i < end {
		i++
	}
	return i
}

// Byte classes for the scanning loops: one table lookup per byte instead
// of a chain of comparisons.
const (
	clSep     = 1 << iota // separates fields: blanks and 0x1D
	clWordEnd             // ends a word: '=' or a separator
	clValEnd              // ends an unquoted value: a separator or a quote
	clKey                 // may appear in a key
)

var class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		if isSpace(b) || b == 0x1d {
			t[c] |= clSep | clWordEnd | clValEnd
		}
		if b == '=' {
			t[c] |= clWordEnd
		}
		if b == '"' || b == '\'' {
			t[c] |= clValEnd
		}
		if isKeyByte(b) {
			t[c] |= clKey
		}
	}
	return t
}()

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isKeyByte reports whether c may appear in a field name. Lower-case is the
// kernel's; upper-case appears in ENRICHED fields; '[' and ']' in EXECVE's
// aN[i] chunk keys.
func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '[' || c == ']'
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

// parseUint parses decimal digits up to the terminator term and returns the
// value and the number of digits.
func parseUint(b []byte, term byte) (uint64, int, bool) {
	var v uint64
	i := 0
	for ; i < len(b) && b[i] != term; i++ {
		c := b[i]
		if c < '0' || c > '9' || i >= 19 {
			return 0, 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if i == 0 || i >= len(b) {
		return 0, 0, false
	}
	return v, i, true
}

// ParseInt parses a decimal (optionally negative) integer field value.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	v, err := strconv.ParseUint(string(b), 10, 63)
	if err != nil {
		return 0, false
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}
