package baseline

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is the kind of a baseline entry: the first field of its key.
type Kind string

const (
	KindExecEdge      Kind = "exec-edge"      // exec-edge|CHAIN|EXE
	KindUserExe       Kind = "user-exe"       // user-exe|UID|EXE
	KindFileAccess    Kind = "file-access"    // file-access|EXE|OP|PATH
	KindListen        Kind = "listen"         // listen|EXE|PORT
	KindConnect       Kind = "connect"        // connect|EXE|ENDPOINT
	KindUIDTransition Kind = "uid-transition" // uid-transition|EXE|FROM|TO
	KindRuleMatch     Kind = "rule-match"     // rule-match|RULE|EXE (format version 2)
)

// Kinds lists the kinds, in key order.
var Kinds = []Kind{KindConnect, KindExecEdge, KindFileAccess, KindListen, KindRuleMatch, KindUIDTransition, KindUserExe}

// fieldCount is the number of fields after the kind.
func (k Kind) fieldCount() int {
	switch k {
	case KindExecEdge, KindUserExe, KindListen, KindConnect, KindRuleMatch:
		return 2
	case KindFileAccess, KindUIDTransition:
		return 3
	}
	return 0
}

// Unknown is the field written for an unknown value (an empty uid, an
// unknown ancestor).
const Unknown = "?"

// makeKey joins kind and fields with "|", escaping each field: "%", "|",
// control characters and bytes of invalid UTF-8 are written %XX, so a key
// is one printable line whatever a path holds. An empty field is "?".
func makeKey(kind Kind, fields ...string) string {
	var b strings.Builder
	b.WriteString(string(kind))
	for _, f := range fields {
		b.WriteByte('|')
		if f == "" {
			f = Unknown
		}
		escape(&b, f)
	}
	return b.String()
}

func escape(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || n > 1 {
				b.WriteString(s[i : i+n])
				i += n
				continue
			}
		}
		if c == '%' || c == '|' || c < 0x20 || c == 0x7f || c >= utf8.RuneSelf {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else {
			b.WriteByte(c)
		}
		i++
	}
}

func unescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("truncated %%-escape in %q", s)
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("bad %%-escape %q", s[i:i+3])
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}

// ParseKey splits a key into its kind and its (unescaped) fields, checking
// its structure: a known kind, the kind's number of fields, none empty,
// valid escapes, one line. It does not check that the key is canonical
// (see Canonical).
func ParseKey(key string) (Kind, []string, error) {
	parts := strings.Split(key, "|")
	kind := Kind(parts[0])
	n := kind.fieldCount()
	if n == 0 {
		return "", nil, fmt.Errorf("unknown key kind %q (want one of %s)", parts[0], kindList())
	}
	if len(parts)-1 != n {
		return "", nil, fmt.Errorf("%s key has %d fields, want %d", kind, len(parts)-1, n)
	}
	fields := make([]string, n)
	for i, p := range parts[1:] {
		if p == "" {
			return "", nil, fmt.Errorf("%s key has an empty field %d", kind, i+1)
		}
		for j := 0; j < len(p); j++ {
			if p[j] < 0x20 || p[j] == 0x7f {
				return "", nil, fmt.Errorf("%s key has an unescaped control character", kind)
			}
		}
		if !utf8.ValidString(p) {
			return "", nil, fmt.Errorf("%s key has unescaped invalid UTF-8", kind)
		}
		f, err := unescape(p)
		if err != nil {
			return "", nil, fmt.Errorf("%s key: %v", kind, err)
		}
		fields[i] = f
	}
	return kind, fields, nil
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Canonical checks key as an alert would name it and returns its kind.
// Beyond ParseKey it re-generalises the fields and requires the same key
// back, and checks the closed vocabularies (file operation, port and
// endpoint classes), so that an approved key is one that observation can
// produce. The chain of an exec-edge and the uids are checked for
// structure only.
func Canonical(key string) (Kind, error) {
	kind, f, err := ParseKey(key)
	if err != nil {
		return "", err
	}
	var want string
	switch kind {
	case KindExecEdge:
		want = makeKey(kind, f[0], exeField(f[1]))
	case KindUserExe:
		want = makeKey(kind, f[0], exeField(f[1]))
	case KindFileAccess:
		if f[1] != "read" && f[1] != "write" && f[1] != "exec" {
			return "", fmt.Errorf("file-access operation %q is not read, write or exec", f[1])
		}
		want = makeKey(kind, exeField(f[0]), f[1], Path(f[2]))
	case KindListen:
		if !validPortClass(f[1], true) && !validUnix(f[1]) {
			return "", fmt.Errorf("listen port %q is not a port number, \"ephemeral\" or unix:PATH", f[1])
		}
		want = makeKey(kind, exeField(f[0]), canonUnix(f[1]))
	case KindConnect:
		if !validEndpoint(f[1]) && !validUnix(f[1]) {
			return "", fmt.Errorf("connect endpoint %q is not CLASS:PORT (class loopback, private, public, multicast, unspecified, unknown) or unix:PATH", f[1])
		}
		want = makeKey(kind, exeField(f[0]), canonUnix(f[1]))
	case KindUIDTransition:
		want = makeKey(kind, exeField(f[0]), f[1], f[2])
	case KindRuleMatch:
		want = makeKey(kind, f[0], exeField(f[1]))
	}
	if want != key {
		return "", fmt.Errorf("key %q is not canonical; generalised it reads %q", key, want)
	}
	return kind, nil
}

func exeField(s string) string {
	if s == Unknown {
		return s
	}
	return Exe(s)
}

func validPortClass(s string, listening bool) bool {
	if s == "ephemeral" || s == "invalid" {
		return true
	}
	n, err := strconv.Atoi(s)
	return err == nil && strconv.Itoa(n) == s && Port(n, listening) == s
}

func validEndpoint(s string) bool {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return false
	}
	switch s[:i] {
	case "loopback", "private", "public", "multicast", "unspecified", "unknown":
		return validPortClass(s[i+1:], false)
	}
	return false
}

func validUnix(s string) bool { return strings.HasPrefix(s, "unix:") && len(s) > len("unix:") }

func canonUnix(s string) string {
	if !strings.HasPrefix(s, "unix:") {
		return s
	}
	return "unix:" + sockPath(s[len("unix:"):])
}

// sockPath generalises an AF_UNIX socket path; an abstract name keeps its
// leading "@".
func sockPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "@"); ok {
		if rest == "" {
			return "@"
		}
		return "@" + Path(rest)
	}
	return Path(p)
}

// RuleMatchKey is the key of an external (Sigma) rule matching what exe
// did: learned from low-severity matches while learning, or approved, it
// tells detection the match is this host's normal.
func RuleMatchKey(ruleID, exe string) string { return makeKey(KindRuleMatch, ruleID, Exe(exe)) }

// Key builders: each generalises its arguments and returns the canonical
// key. Detection can compute a key without observing it.

// ExecEdgeKey is the key of exe being executed below ancestry (the
// ancestors' executables, nearest parent first).
func ExecEdgeKey(ancestry []string, exe string) string {
	return makeKey(KindExecEdge, Chain(ancestry), Exe(exe))
}

// UserExeKey is the key of uid running exe.
func UserExeKey(uid, exe string) string { return makeKey(KindUserExe, uid, Exe(exe)) }

// FileAccessKey is the key of exe doing op on file p; "" when op does not
// collapse to read, write or exec (see FileOp).
func FileAccessKey(exe, p, op string) string {
	o := FileOp(op)
	if o == "" {
		return ""
	}
	return makeKey(KindFileAccess, Exe(exe), o, Path(p))
}

// ListenKey is the key of exe listening on an inet port.
func ListenKey(exe string, port int) string {
	return makeKey(KindListen, Exe(exe), Port(port, true))
}

// ListenUnixKey is the key of exe listening on (or binding) a unix socket.
func ListenUnixKey(exe, sock string) string {
	return makeKey(KindListen, Exe(exe), "unix:"+sockPath(sock))
}

// ConnectKey is the key of exe connecting to ip:port.
func ConnectKey(exe, ip string, port int) string {
	return makeKey(KindConnect, Exe(exe), Endpoint(ip, port))
}

// ConnectUnixKey is the key of exe connecting to a unix socket.
func ConnectUnixKey(exe, sock string) string {
	return makeKey(KindConnect, Exe(exe), "unix:"+sockPath(sock))
}

// UIDTransitionKey is the key of exe going from uid from to uid to.
func UIDTransitionKey(exe, from, to string) string {
	return makeKey(KindUIDTransition, Exe(exe), from, to)
}

// FileOp collapses an event.File.Operation to a file-access class:
// read and open → "read"; write, create, delete, rename, link, attr,
// truncate → "write"; exec → "exec"; anything else (module loads, which
// name a module rather than a file; mounts; unknown words) → "".
func FileOp(op string) string {
	switch op {
	case "read", "open":
		return "read"
	case "write", "create", "delete", "rename", "link", "attr", "truncate":
		return "write"
	case "exec":
		return "exec"
	}
	return ""
}
