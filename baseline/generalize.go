package baseline

import (
	"net/netip"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Placeholders that generalisation puts in place of volatile parts. They
// are atomic: a later pass leaves them alone, so every function here is
// idempotent (f(f(x)) == f(x)).
const (
	PhPID  = "<pid>"  // a process id under /proc
	PhUID  = "<uid>"  // a numeric uid under /run/user
	PhNum  = "<n>"    // another volatile number (fd, pts, snap revision, long digit run)
	PhVer  = "<ver>"  // a dotted version number
	PhHex  = "<hex>"  // a run of 8 or more hex digits
	PhUUID = "<uuid>" // a UUID
	PhRand = "<rand>" // a random-looking name (mktemp and friends)
	PhHome = "*"      // the user name in /home/NAME
	PhAnon = "memfd:<anon>"
)

// Ephemeral port bounds: the kernel's default net.ipv4.ip_local_port_range
// (32768–60999). These functions are pure: they do not read /proc.
const (
	EphemeralLow  = 32768
	EphemeralHigh = 60999
)

// Path generalises a file path so that paths differing only in volatile
// parts share one key. The path is first cleaned (path.Clean); then, per
// slash-separated segment:
//
// Context rules (absolute paths):
//   - /home/NAME/...            → /home/*/...   (/root is kept: it is one user)
//   - /proc/DIGITS/...          → /proc/<pid>/..., also .../task/DIGITS → <pid>,
//     .../fd/DIGITS and .../fdinfo/DIGITS → <n>
//   - /run/user/DIGITS/...      → /run/user/<uid>/... (also /var/run/user)
//   - /dev/pts/DIGITS           → /dev/pts/<n>
//   - /snap/NAME/DIGITS/...     → /snap/NAME/<n>/... (also /var/snap)
//
// Segment rules, in this order:
//  1. in a temporary directory (below /tmp, /var/tmp, /dev/shm,
//     /run/user/UID): mktemp names "tmp.XXXXXX…" and Python tempfile
//     names "tmpXXXXXXXX" (8 of [a-z0-9_], with a digit or "_") become
//     <rand> as a whole;
//  2. UUIDs (8-4-4-4-12 hex) → <uuid>;
//  3. dotted versions → <ver>: a digit run starting a word (or following
//     a letter, as in "python3.11"), then one or more ".DIGITS", then an
//     optional Debian-style revision "-1", "+deb12u4", "-1ubuntu2"
//     ("python3.11" → "python<ver>", "app-1.2.3" → "app-<ver>",
//     "libfoo.so.1.2" → "libfoo.so.<ver>"; "libc.so.6" stays). A
//     version glued to a word needs a word of letters only before it
//     (not itself glued to a digit or placeholder), so the hash in
//     "0f5dc4f3.0" is not cut;
//  4. the segment is then split into words: runs of ASCII letters and
//     digits, separated by anything else. A word becomes
//     - <hex> if it has 8 or more hex digits, at least one a-f and one 0-9;
//     - <n> if it is all digits and at least 5 long (3 in a temp dir);
//     - runs of 8 or more digits inside it (5 in a temp dir) become <n>
//     and the pieces between are judged as words ("go-build<n>");
//     - <rand> if it looks random (see below);
//     and is kept otherwise.
//
// A word of 6 or more letters and digits looks random when it mixes
// letters and digits and changes character class often. Classes are
// upper case, lower case and digit; a capital followed by lower case
// ("Kirigami") is one run, so CamelCase words are not penalised. With R the
// number of runs (not counting a trailing digit run: "TopAndL2",
// "S01x11") and L the length, the word is random when
//   - it mixes upper and lower case: R >= 4 and 2R >= L
//     ("Xk3j9QzP1a", "Ab3XyZ"; not "libQt5Core", "libKF5Kirigami2");
//   - otherwise: R >= 5 and 4R >= 3L ("k2m9a8f3"; not "nvme0n1p1", "utf8mb4").
//
// In temp directories the rule is looser: letters and digits with R >= 3,
// or mixed case without digits with R >= 4. Ordinary words ("python3",
// "x86_64-linux-gnu", "sshd_config", "sha256sum") are kept elsewhere.
// The heuristics are deliberately conservative outside temp
// directories: a missed random name costs one novel key, a mangled
// system path would hide a real difference.
func Path(p string) string {
	if p == "" {
		return ""
	}
	p = path.Clean(p)
	segs := strings.Split(p, "/")
	off := 0
	if strings.HasPrefix(p, "/") {
		off = 1
	}
	// at returns the r-th segment below the root ("" when absent or the
	// path is relative).
	at := func(r int) string {
		if off == 0 || r+off >= len(segs) {
			return ""
		}
		return segs[r+off]
	}
	tempFrom := -1 // first relative index inside a temp directory
	if off == 1 {
		switch {
		case at(0) == "tmp":
			tempFrom = 1
		case at(0) == "var" && at(1) == "tmp", at(0) == "dev" && at(1) == "shm":
			tempFrom = 2
		case at(0) == "run" && at(1) == "user":
			tempFrom = 3
		case at(0) == "var" && at(1) == "run" && at(2) == "user":
			tempFrom = 4
		}
	}
	var b strings.Builder
	b.Grow(len(p) + 8)
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('/')
		}
		r := i - off
		if off == 1 && r >= 1 {
			if g, ok := contextSegment(at, r, s); ok {
				b.WriteString(g)
				continue
			}
		}
		b.WriteString(segment(s, tempFrom >= 0 && r >= tempFrom))
	}
	return b.String()
}

// contextSegment applies the context rules to segment r (r >= 1) of an
// absolute path.
func contextSegment(at func(int) string, r int, s string) (string, bool) {
	root := at(0)
	switch {
	case root == "home" && r == 1:
		return PhHome, true
	case root == "proc" && r == 1 && allDigits(s):
		return PhPID, true
	case root == "proc" && r == 3 && at(2) == "task" && allDigits(s):
		return PhPID, true
	case root == "proc" && r >= 2 && (at(r-1) == "fd" || at(r-1) == "fdinfo") && allDigits(s):
		return PhNum, true
	case root == "run" && r == 2 && at(1) == "user" && allDigits(s):
		return PhUID, true
	case root == "var" && r == 3 && at(1) == "run" && at(2) == "user" && allDigits(s):
		return PhUID, true
	case root == "dev" && r == 2 && at(1) == "pts" && allDigits(s):
		return PhNum, true
	case root == "snap" && r == 2 && allDigits(s):
		return PhNum, true
	case root == "var" && r == 3 && at(1) == "snap" && allDigits(s):
		return PhNum, true
	}
	return "", false
}

var uuidRE = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// segment generalises one path segment (no slashes).
func segment(s string, temp bool) string {
	if s == "" || s == "." || s == ".." {
		return s
	}
	if temp && tempName(s) {
		return PhRand
	}
	if len(s) >= 36 && strings.Count(s, "-") >= 4 {
		s = uuidRE.ReplaceAllLiteralString(s, PhUUID)
	}
	s = versions(s)
	return words(s, temp)
}

// tempName matches mktemp's "tmp.XXXXXXXXXX" (6 or more letters and
// digits) and Python tempfile's "tmpXXXXXXXX" (8 of [a-z0-9_] with a digit
// or an underscore).
func tempName(s string) bool {
	if !strings.HasPrefix(s, "tmp") {
		return false
	}
	rest := s[3:]
	if strings.HasPrefix(rest, ".") {
		rest = rest[1:]
		if len(rest) < 6 {
			return false
		}
		for i := 0; i < len(rest); i++ {
			if !isAlnum(rest[i]) {
				return false
			}
		}
		return true
	}
	if len(rest) != 8 {
		return false
	}
	special := false
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case c >= 'a' && c <= 'z':
		case isDigit(c) || c == '_':
			special = true
		default:
			return false
		}
	}
	return special
}

// versions replaces dotted version numbers by <ver> (rule 3 of Path).
func versions(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	var b strings.Builder
	last := 0 // s[last:i] not yet copied
	for i := 0; i < len(s); {
		if !isDigit(s[i]) || (i > 0 && isDigit(s[i-1])) || !versionStart(s, i) {
			i++
			continue
		}
		j := digitsEnd(s, i)
		dots := 0
		for j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
			j = digitsEnd(s, j+1)
			dots++
		}
		if dots == 0 {
			i = j
			continue
		}
		// Optional revision: [-+~] digit, then [a-z0-9+~]*.
		if j+1 < len(s) && (s[j] == '-' || s[j] == '+' || s[j] == '~') && isDigit(s[j+1]) {
			j += 2
			for j < len(s) && (isDigit(s[j]) || (s[j] >= 'a' && s[j] <= 'z') || s[j] == '+' || s[j] == '~') {
				j++
			}
		}
		b.WriteString(s[last:i])
		b.WriteString(PhVer)
		last, i = j, j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// versionStart reports whether a version may start at s[i] (a digit not
// preceded by a digit): at the start, after a letter or a separator other
// than '.', or after '.' that itself follows a letter ("so.1.2").
func versionStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	switch c := s[i-1]; {
	case c == '.':
		return i >= 2 && isLetter(s[i-2])
	case isLetter(c):
		// Inside a word, only after letters: "python3.11", not the
		// tail of a hash as in "0f5dc4f3.0".
		j := i - 1
		for j >= 0 && isLetter(s[j]) {
			j--
		}
		return j < 0 || !(isDigit(s[j]) || s[j] == '>')
	}
	return s[i-1] != '>' // not glued to a placeholder
}

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// words applies rule 4 of Path to each word of s.
func words(s string, temp bool) string {
	var b strings.Builder
	changed := false
	for i := 0; i < len(s); {
		c := s[i]
		if c == '<' {
			if j := placeholderEnd(s, i); j > 0 {
				b.WriteString(s[i:j])
				i = j
				continue
			}
		}
		if !isAlnum(c) {
			b.WriteByte(c)
			i++
			continue
		}
		j := i
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
		w := s[i:j]
		if g := word(w, temp); g != "" {
			b.WriteString(g)
			changed = true
		} else {
			b.WriteString(w)
		}
		i = j
	}
	if !changed {
		return s
	}
	return b.String()
}

// placeholderEnd returns the end of a placeholder "<lowercase>" starting at
// s[i], or 0.
func placeholderEnd(s string, i int) int {
	j := i + 1
	for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
		j++
	}
	if j == i+1 || j >= len(s) || s[j] != '>' {
		return 0
	}
	return j + 1
}

// word returns the placeholder for a volatile word, or "".
func word(w string, temp bool) string {
	var upper, lower, digit, hexLetter, nonHex int
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case isDigit(c):
			digit++
		case c >= 'A' && c <= 'Z':
			upper++
			if c > 'F' {
				nonHex++
			} else {
				hexLetter++
			}
		default:
			lower++
			if c > 'f' {
				nonHex++
			} else {
				hexLetter++
			}
		}
	}
	n := len(w)
	switch {
	case n >= 8 && nonHex == 0 && digit > 0 && hexLetter > 0:
		return PhHex
	case digit == n:
		if n >= 5 || (temp && n >= 3) {
			return PhNum
		}
		return ""
	}
	if g, ok := longDigits(w, temp); ok {
		return g
	}
	if n < 6 {
		return ""
	}
	runs := classRuns(w)
	mixedCase := upper > 0 && lower > 0
	letters := upper + lower
	if temp {
		if (letters > 0 && digit > 0 && runs >= 3) || (mixedCase && runs >= 4) {
			return PhRand
		}
		return ""
	}
	if digit == 0 || letters == 0 {
		return ""
	}
	if isDigit(w[n-1]) {
		runs-- // a trailing number is a version or an index, not noise
	}
	if mixedCase {
		if runs >= 4 && 2*runs >= n {
			return PhRand
		}
		return ""
	}
	if runs >= 5 && 4*runs >= 3*n {
		return PhRand
	}
	return ""
}

// longDigits replaces the runs of 8 or more digits (5 in a temp
// directory) inside a word by <n> and generalises the pieces between them
// as words of their own ("go-build1234567890" → "go-build<n>"); ok is
// false when the word has no such run.
func longDigits(w string, temp bool) (string, bool) {
	min := 8
	if temp {
		min = 5
	}
	var b strings.Builder
	found := false
	last := 0
	for i := 0; i < len(w); {
		if !isDigit(w[i]) {
			i++
			continue
		}
		j := digitsEnd(w, i)
		if j-i >= min {
			if last < i {
				b.WriteString(piece(w[last:i], temp))
			}
			b.WriteString(PhNum)
			last = j
			found = true
		}
		i = j
	}
	if !found {
		return "", false
	}
	if last < len(w) {
		b.WriteString(piece(w[last:], temp))
	}
	return b.String(), true
}

func piece(w string, temp bool) string {
	if g := word(w, temp); g != "" {
		return g
	}
	return w
}

// classRuns counts the runs of upper case, lower case and digits in w,
// where a capital followed by lower case continues into one run.
func classRuns(w string) int {
	class := func(c byte) int {
		switch {
		case isDigit(c):
			return 0
		case c >= 'A' && c <= 'Z':
			return 1
		}
		return 2
	}
	runs := 1
	for i := 1; i < len(w); i++ {
		a, b := class(w[i-1]), class(w[i])
		if a != b && !(a == 1 && b == 2) {
			runs++
		}
	}
	return runs
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// Exe generalises an executable path: Path, after dropping the kernel's
// " (deleted)" suffix (an upgraded binary still running is the same
// program); an anonymous memory file ("/memfd:NAME (deleted)", "memfd:NAME")
// is "memfd:<anon>" whatever its name, since the name is the creator's
// choice.
func Exe(p string) string {
	if p == "" {
		return ""
	}
	if g, ok := exeMemo.Load(p); ok {
		return g.(string)
	}
	g := exe(p)
	if exeMemoN.Add(1) <= exeMemoMax {
		exeMemo.Store(p, g)
	}
	return g
}

// exeMemo remembers Exe's answers: a host runs a few hundred distinct
// programs, and every event asks for its executable's (and ancestors')
// generalised form several times. Bounded: past exeMemoMax distinct paths
// (a flood of random names) the rest are computed each time.
var (
	exeMemo    sync.Map
	exeMemoN   atomic.Int64
	exeMemoMax = int64(1 << 14)
)

func exe(p string) string {
	for {
		q := path.Clean(p)
		for strings.HasSuffix(q, " (deleted)") {
			q = strings.TrimSuffix(q, " (deleted)")
		}
		if q == p || q == "" {
			break
		}
		p = q
	}
	if strings.HasPrefix(strings.TrimPrefix(p, "/"), "memfd:") {
		return PhAnon
	}
	return Path(p)
}

// Port classifies a port. A listening port is kept as its number unless it
// is in the kernel's default ephemeral range (32768–60999, what bind to
// port 0 picks), then "ephemeral"; ports above that range are kept, since
// a listener there was configured. Any other port (a peer's, a client's)
// from 32768 up is "ephemeral". 0 is "0"; out-of-range numbers "invalid".
func Port(port int, listening bool) string {
	switch {
	case port < 0 || port > 65535:
		return "invalid"
	case listening && port >= EphemeralLow && port <= EphemeralHigh:
		return "ephemeral"
	case !listening && port >= EphemeralLow:
		return "ephemeral"
	}
	return strconv.Itoa(port)
}

// Endpoint classifies a remote endpoint as "CLASS:PORT", PORT being
// Port(port, false) and CLASS one of
//   - loopback    127.0.0.0/8, ::1
//   - private     RFC 1918, fc00::/7 (ULA), link-local (169.254.0.0/16,
//     fe80::/10), and 100.64.0.0/10 (carrier-grade NAT)
//   - multicast   multicast and 255.255.255.255
//   - unspecified 0.0.0.0, ::
//   - public      anything else
//   - unknown     not an IP address
//
// IPv4-mapped IPv6 addresses are classified as IPv4.
func Endpoint(ip string, port int) string {
	return ipClass(ip) + ":" + Port(port, false)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func ipClass(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	a = a.WithZone("").Unmap()
	switch {
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate(), a.IsLinkLocalUnicast(), a.Is4() && cgnat.Contains(a):
		return "private"
	case a.IsMulticast(), a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "multicast"
	}
	return "public"
}

// ChainDepth is how many ancestors Chain keeps.
const ChainDepth = 3

// Chain renders the lineage above a process: ancestry is the ancestors'
// executables nearest parent first (as event.Event.Ancestry); the
// ChainDepth nearest are kept, each as the base name of its generalised
// executable ("?" when unknown), and written oldest first joined by ">"
// so the chain reads in the direction of descent: ancestry
// [/usr/bin/bash, /usr/sbin/sshd, /usr/lib/systemd/systemd] renders
// "systemd>sshd>bash". No ancestry renders "-".
//
// Base names keep the key short and survive /bin vs /usr/bin; a parent
// run from an odd place is still caught by its own exec-edge and
// user-exe keys, which carry the full generalised path.
func Chain(ancestry []string) string {
	if len(ancestry) == 0 {
		return "-"
	}
	if len(ancestry) > ChainDepth {
		ancestry = ancestry[:ChainDepth]
	}
	var b strings.Builder
	for i := len(ancestry) - 1; i >= 0; i-- {
		b.WriteString(chainName(ancestry[i]))
		if i > 0 {
			b.WriteByte('>')
		}
	}
	return b.String()
}

func chainName(exe string) string {
	g := Exe(exe)
	if g == "" {
		return "?"
	}
	if g == PhAnon {
		return g
	}
	return path.Base(g)
}
