package output

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/lineaged/lineaged/event"
)

// AppendJSON appends e as one JSON object, without a trailing newline, to
// dst and returns the extended slice. The mapping is in the package doc.
//
// It uses no reflection and does not allocate when dst has room for the
// object. A nil e appends the JSON literal null.
func AppendJSON(dst []byte, e *event.Event) []byte {
	if e == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"@timestamp":`...)
	dst = appendTime(dst, e.TimeMsec)

	// event.kind is always present, so the event object is never empty.
	dst = append(dst, `,"event":{`...)
	dst = appendStr(dst, "id", e.ID)
	dst = appendKey(dst, "kind")
	dst = append(dst, '"')
	dst = append(dst, e.Kind.String()...)
	dst = append(dst, '"')
	dst = appendStrArray1(dst, "category", string(e.Category))
	dst = appendStrArray1(dst, "type", string(e.Type))
	dst = appendStr(dst, "action", string(e.Action))
	dst = appendStr(dst, "outcome", string(e.Outcome))
	dst = appendStr(dst, "module", string(e.Module))
	if a := e.Alert; a != nil {
		if a.Severity > event.SeverityInfo {
			dst = appendInt(dst, "severity", int64(a.Severity))
		}
		if a.RiskScore > 0 {
			dst = appendInt(dst, "risk_score", int64(a.RiskScore))
		}
		dst = appendStr(dst, "reason", a.Reason)
	}
	dst = append(dst, '}')

	dst = appendStr(dst, "message", e.Message)

	if e.Host != "" {
		dst = append(dst, `,"host":{"name":`...)
		dst = appendString(dst, e.Host)
		dst = append(dst, '}')
	}

	dst = appendProcess(dst, e)
	dst = appendUser(dst, "user", &e.User, e.Target)

	dst = appendFile(dst, e.File)
	dst = appendEndpoint(dst, "source", e.Source)
	dst = appendEndpoint(dst, "destination", e.Dest)

	dst = appendNetwork(dst, e.Network)

	if e.ContainerID != "" {
		dst = append(dst, `,"container":{"id":`...)
		dst = appendString(dst, e.ContainerID)
		dst = append(dst, '}')
	}

	dst = appendAuditd(dst, e)

	if a := e.Alert; a != nil {
		dst = appendAlertObjects(dst, a)
	}

	lin := -1
	if a := e.Alert; a != nil {
		dst, lin = openObject(dst, "lineaged")
		dst = appendLineagedAlert(dst, a)
	}
	if c := e.Config; c != nil {
		if lin < 0 {
			dst, lin = openObject(dst, "lineaged")
		}
		dst = appendKey(dst, "config")
		dst = append(dst, '{')
		dst = appendStr(dst, "source", c.Source)
		if len(c.Settings) > 0 {
			dst = appendKVObject(dst, "settings", c.Settings, nil)
		}
		// The rules list is written even when empty: "no rules" is
		// evidence too.
		dst = appendKey(dst, "rules")
		dst = append(dst, '[')
		for i, r := range c.Rules {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, r)
		}
		dst = append(dst, "]}"...)
	}
	if lin >= 0 {
		dst = closeObject(dst, lin)
	}

	if len(e.Labels) > 0 {
		dst = appendKVObject(dst, "labels", e.Labels, nil)
	}

	if e.Audit != nil {
		dst = appendStrArray(dst, "tags", e.Audit.Keys)
	}
	return append(dst, '}')
}

// appendAlertObjects writes rule.* and threat.* of an alert.
func appendAlertObjects(dst []byte, a *event.Alert) []byte {
	dst, m := openObject(dst, "rule")
	dst = appendStr(dst, "id", a.RuleID)
	dst = appendStr(dst, "name", a.RuleName)
	dst = appendStr(dst, "ruleset", a.Ruleset)
	dst = closeObject(dst, m)
	if len(a.Techniques) > 0 {
		dst = append(dst, `,"threat":{"framework":"MITRE ATT&CK","technique":{`...)
		dst = appendStrArray(dst, "id", a.Techniques)
		dst = append(dst, "}}"...)
	}
	return dst
}

// appendLineagedAlert writes lineaged.alert (key, count, novel) and
// lineaged.evidence inside an open lineaged object.
func appendLineagedAlert(dst []byte, a *event.Alert) []byte {
	dst, m := openObject(dst, "alert")
	dst = appendStr(dst, "key", a.Key)
	if a.Count > 0 {
		dst = appendInt(dst, "count", int64(a.Count))
	}
	dst = appendStrArray(dst, "novel", a.Novel)
	dst = closeObject(dst, m)
	if len(a.Evidence) > 0 {
		dst = appendKey(dst, "evidence")
		dst = append(dst, '[')
		for i := range a.Evidence {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '{')
			dst = appendStr(dst, "id", a.Evidence[i].ID)
			dst = appendStr(dst, "summary", a.Evidence[i].Summary)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return dst
}

// appendFile writes file.*. Operation is lineaged's addition
// (file.operation); ECS has no field for it. NameType goes to auditd.*.
func appendFile(dst []byte, f *event.File) []byte {
	if f == nil {
		return dst
	}
	dst, m := openObject(dst, "file")
	dst = appendStr(dst, "path", f.Path)
	dst = appendStr(dst, "inode", f.Inode)
	dst = appendStr(dst, "mode", f.Mode)
	dst = appendStr(dst, "uid", f.UID)
	dst = appendStr(dst, "gid", f.GID)
	dst = appendStr(dst, "device", f.Device)
	dst = appendStr(dst, "operation", f.Operation)
	return closeObject(dst, m)
}

// appendNetwork writes network.*. ECS network.type takes ipv4 or ipv6
// only; every family, those included, is also kept as auditd.socket.family.
func appendNetwork(dst []byte, n *event.Network) []byte {
	if n == nil {
		return dst
	}
	dst, m := openObject(dst, "network")
	if n.Family == "ipv4" || n.Family == "ipv6" {
		dst = appendStr(dst, "type", n.Family)
	}
	dst = appendStr(dst, "transport", n.Transport)
	dst = appendStr(dst, "direction", n.Direction)
	if n.NetNS != 0 {
		// lineaged's addition: the network namespace inode ("net:[N]").
		dst = appendInt(dst, "netns", int64(n.NetNS))
	}
	return closeObject(dst, m)
}

// appendKVObject writes kvs as the object key (see appendKVs).
func appendKVObject(dst []byte, key string, kvs []event.KV, a *event.Audit) []byte {
	dst, m := openObject(dst, key)
	if a != nil {
		dst = appendStr(dst, "syscall", a.Syscall)
		dst = appendStr(dst, "arch", a.Arch)
		dst = appendStr(dst, "exit", a.ExitValue)
	}
	dst = appendKVs(dst, kvs, a)
	return closeObject(dst, m)
}

// The encoder writes straight into dst. A comma is needed before a member
// exactly when the byte before it is not the '{' that opened the object,
// so no "first member" flags are carried around.

// appendKey appends `,"key":` (or `"key":` as an object's first member).
// key must be a constant that needs no escaping.
func appendKey(dst []byte, key string) []byte {
	if dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// openObject appends `"key":{` and returns where that member began.
// closeObject(dst, mark) then ends the object, or, when nothing was
// written into it, removes the member again (with its comma), so an
// object whose fields are all absent is omitted rather than written as {}.
func openObject(dst []byte, key string) ([]byte, int) {
	mark := len(dst)
	dst = appendKey(dst, key)
	return append(dst, '{'), mark
}

// closeObject ends the object opened at mark. Only an object with no
// members ends in its own '{': a member always ends in '"', a digit, 'e',
// ']' or '}'.
func closeObject(dst []byte, mark int) []byte {
	if dst[len(dst)-1] == '{' {
		return dst[:mark]
	}
	return append(dst, '}')
}

func appendStr(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	dst = appendKey(dst, key)
	return appendString(dst, v)
}

func appendInt(dst []byte, key string, v int64) []byte {
	dst = appendKey(dst, key)
	return strconv.AppendInt(dst, v, 10)
}

// appendStrArray1 writes the single-valued Category and Type as the
// one-element arrays ECS defines event.category and event.type to be.
func appendStrArray1(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	dst = appendKey(dst, key)
	dst = append(dst, '[')
	dst = appendString(dst, v)
	return append(dst, ']')
}

// AncestryArgBytes bounds the argument bytes written for each element of
// process.ancestry. Every event repeats its whole ancestry, and one
// ancestor with a long command line (a service started with its
// environment as a JSON argument, say) made each line of an exec storm
// 3.6 KB, most of it that one ancestor over and over. The ancestor's own
// exec event, found by entity_id, has its full args; process.args and
// process.parent.args are never cut.
const AncestryArgBytes = 256

// appendBoundedArgs writes args up to budget bytes: the argument that
// crosses it is cut (at a UTF-8 boundary) and ends in "…", and a last
// element "…(N more)" counts the arguments left out.
func appendBoundedArgs(dst []byte, v []string, budget int) []byte {
	if len(v) == 0 {
		return dst
	}
	dst = appendKey(dst, "args")
	dst = append(dst, '[')
	used := 0
	for i, s := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		if used+len(s) > budget {
			cut := budget - used
			for cut > 0 && cut < len(s) && !utf8.RuneStart(s[cut]) {
				cut--
			}
			dst = appendString(dst, s[:cut]+"…")
			if rest := len(v) - i - 1; rest > 0 {
				dst = append(dst, ',')
				dst = appendString(dst, "…("+strconv.Itoa(rest)+" more)")
			}
			break
		}
		used += len(s)
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

// appendStrArray writes a non-empty slice whole: empty elements are kept,
// because an empty argv element is still an argument.
func appendStrArray(dst []byte, key string, v []string) []byte {
	if len(v) == 0 {
		return dst
	}
	dst = appendKey(dst, key)
	dst = append(dst, '[')
	for i, s := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

// appendKVs writes kvs as members of the open object. Pairs with an empty
// key or value are skipped, and so is a key already written (first wins):
// Elasticsearch rejects a whole document for an empty field name or a
// duplicate key. With a non-nil a (auditd.data), the keys syscall, arch
// and exit are already written when a's own fields set them.
func appendKVs(dst []byte, kvs []event.KV, a *event.Audit) []byte {
next:
	for i, kv := range kvs {
		if kv.Key == "" || kv.Value == "" {
			continue
		}
		if a != nil {
			switch kv.Key {
			case "syscall":
				if a.Syscall != "" {
					continue
				}
			case "arch":
				if a.Arch != "" {
					continue
				}
			case "exit":
				if a.ExitValue != "" {
					continue
				}
			}
		}
		for _, p := range kvs[:i] {
			if p.Value != "" && sameKey(p.Key, kv.Key) {
				continue next
			}
		}
		if c := dst[len(dst)-1]; c != '{' {
			dst = append(dst, ',')
		}
		dst = appendString(dst, kv.Key)
		dst = append(dst, ':')
		dst = appendString(dst, kv.Value)
	}
	return dst
}

// sameKey reports whether a and b are written as the same JSON string.
// Distinct strings collide only through the \xNN escape (the byte 0xff
// and the text `\xff`), so the slow comparison runs only when one of
// them is not valid UTF-8.
func sameKey(a, b string) bool {
	if a == b {
		return true
	}
	if utf8.ValidString(a) && utf8.ValidString(b) {
		return false
	}
	da, db := decodedBytes{s: a}, decodedBytes{s: b}
	for {
		ca, oka := da.next()
		cb, okb := db.next()
		if ca != cb || oka != okb {
			return false
		}
		if !oka {
			return true
		}
	}
}

// decodedBytes yields, byte by byte, the string a consumer decodes from
// appendString(s): s with \xNN in place of each invalid byte.
type decodedBytes struct {
	s       string
	i       int
	pending [3]byte // rest of an escape or of a multi-byte rune
	n, k    int
}

func (d *decodedBytes) next() (byte, bool) {
	if d.k < d.n {
		d.k++
		return d.pending[d.k-1], true
	}
	if d.i >= len(d.s) {
		return 0, false
	}
	c := d.s[d.i]
	if c < utf8.RuneSelf {
		d.i++
		return c, true
	}
	r, size := utf8.DecodeRuneInString(d.s[d.i:])
	if r == utf8.RuneError && size == 1 {
		d.pending = [3]byte{'x', hexDigits[c>>4], hexDigits[c&0xf]}
		d.n, d.k = 3, 0
		d.i++
		return '\\', true
	}
	d.n, d.k = copy(d.pending[:], d.s[d.i+1:d.i+size]), 0
	d.i += size
	return c, true
}

func appendProcess(dst []byte, e *event.Event) []byte {
	p := &e.Process
	dst, m := openObject(dst, "process")
	dst = appendStr(dst, "entity_id", p.EntityID)
	if p.PID != 0 {
		dst = appendInt(dst, "pid", int64(p.PID))
	}
	dst = appendStr(dst, "executable", p.Executable)
	dst = appendStr(dst, "name", p.Name)
	dst = appendStr(dst, "title", p.Title)
	dst = appendStrArray(dst, "args", p.Args)
	dst = appendStr(dst, "working_directory", p.WorkingDirectory)
	if p.TTY != "" {
		dst = appendKey(dst, "tty")
		dst = append(dst, `{"name":`...)
		dst = appendString(dst, p.TTY)
		dst = append(dst, '}')
	}
	if p.ExitCode != nil {
		dst = appendInt(dst, "exit_code", int64(*p.ExitCode))
	}
	if p.StartMsec != 0 {
		dst = appendKey(dst, "start")
		dst = appendTime(dst, p.StartMsec)
	}
	if p.NetNS != 0 {
		dst = appendKey(dst, "netns")
		dst = strconv.AppendUint(dst, p.NetNS, 10)
	}

	// process.parent: the Parent reference, with the bare PPID standing in
	// for a missing Parent or a Parent without a pid.
	dst, pm := openObject(dst, "parent")
	ppid := p.PPID
	if e.Parent != nil {
		if e.Parent.PID != 0 {
			ppid = e.Parent.PID
		}
		dst = appendProcRefFields(dst, e.Parent, ppid, 0)
	} else if ppid != 0 {
		dst = appendInt(dst, "pid", int64(ppid))
	}
	dst = closeObject(dst, pm)

	if len(e.Ancestry) > 0 {
		dst = appendKey(dst, "ancestry")
		dst = append(dst, '[')
		for i := range e.Ancestry {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '{')
			r := &e.Ancestry[i]
			dst = appendProcRefFields(dst, r, r.PID, AncestryArgBytes)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return closeObject(dst, m)
}

// appendProcRefFields writes the members of one process object of
// process.parent or process.ancestry (SPEC §5: entity_id, pid, executable,
// args, user.id), plus lineaged's "unknown":true when the source had no
// record of that process.
//
// argBudget bounds the bytes of args written (0: no bound); see
// AncestryArgBytes.
func appendProcRefFields(dst []byte, r *event.ProcRef, pid int, argBudget int) []byte {
	dst = appendStr(dst, "entity_id", r.EntityID)
	if pid != 0 {
		dst = appendInt(dst, "pid", int64(pid))
	}
	dst = appendStr(dst, "executable", r.Executable)
	if argBudget > 0 {
		dst = appendBoundedArgs(dst, r.Args, argBudget)
	} else {
		dst = appendStrArray(dst, "args", r.Args)
	}
	if r.UserID != "" {
		dst = appendKey(dst, "user")
		dst = append(dst, `{"id":`...)
		dst = appendString(dst, r.UserID)
		dst = append(dst, '}')
	}
	if r.Unknown {
		dst = appendKey(dst, "unknown")
		dst = append(dst, "true"...)
	}
	return dst
}

// appendIDObject appends `"key":{"id":v}` when v is set.
func appendIDObject(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	dst = appendKey(dst, key)
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, v)
	return append(dst, '}')
}

// appendUser writes user.* for u, and user.target.* for target (which has
// no target of its own).
func appendUser(dst []byte, key string, u *event.User, target *event.User) []byte {
	dst, m := openObject(dst, key)
	dst = appendStr(dst, "id", u.ID)
	dst = appendStr(dst, "name", u.Name)
	if u.EffectiveID != "" || u.EffGroupID != "" {
		dst = appendKey(dst, "effective")
		dst = append(dst, '{')
		dst = appendStr(dst, "id", u.EffectiveID)
		dst = appendIDObject(dst, "group", u.EffGroupID)
		dst = append(dst, '}')
	}
	dst = appendIDObject(dst, "audit", u.AuditID)
	dst = appendIDObject(dst, "saved", u.SavedID)
	dst = appendIDObject(dst, "filesystem", u.FilesysID)
	dst = appendIDObject(dst, "group", u.GroupID)
	if target != nil {
		dst = appendUser(dst, "target", target, nil)
	}
	return closeObject(dst, m)
}

// appendEndpoint writes source.* or destination.*: ip and port for inet
// families, and address, which ECS defines as the raw address: the IP, or
// the AF_UNIX path when there is no IP.
func appendEndpoint(dst []byte, key string, ep *event.Endpoint) []byte {
	if ep == nil {
		return dst
	}
	dst, m := openObject(dst, key)
	dst = appendStr(dst, "ip", ep.IP)
	if ep.Port != 0 {
		dst = appendInt(dst, "port", int64(ep.Port))
	}
	if ep.IP != "" {
		dst = appendStr(dst, "address", ep.IP)
	} else {
		dst = appendStr(dst, "address", ep.Path)
	}
	return closeObject(dst, m)
}

func appendAuditd(dst []byte, e *event.Event) []byte {
	dst, m := openObject(dst, "auditd")
	if a := e.Audit; a != nil {
		if a.Sequence != 0 {
			dst = appendKey(dst, "sequence")
			dst = strconv.AppendUint(dst, uint64(a.Sequence), 10)
		}
		dst = appendStr(dst, "session", a.Session)
		dst = appendStr(dst, "result", a.Result)

		dst = appendKVObject(dst, "data", a.Data, a)

		dst = appendStrArray(dst, "record_types", a.RecordTypes)
		dst = appendStrArray(dst, "unparsed", a.Unparsed)
	}
	if f := e.File; f != nil && f.NameType != "" {
		dst = appendKey(dst, "path")
		dst = append(dst, `{"nametype":`...)
		dst = appendString(dst, f.NameType)
		dst = append(dst, '}')
	}
	if n := e.Network; n != nil && n.Family != "" {
		dst = appendKey(dst, "socket")
		dst = append(dst, `{"family":`...)
		dst = appendString(dst, n.Family)
		dst = append(dst, '}')
	}
	return closeObject(dst, m)
}

// appendTime appends ms (Unix milliseconds) as a quoted RFC 3339 UTC time
// with exactly three fractional digits: "2026-11-27T03:16:58.123Z".
// Years 0000–9999 are formatted by hand; anything else (a corrupt clock)
// falls back to time.Time.AppendFormat with the same layout.
func appendTime(dst []byte, ms int64) []byte {
	secs := floorDiv(ms, 1000)
	milli := ms - secs*1000
	days := floorDiv(secs, 86400)
	sod := secs - days*86400

	y, mo, d := civilFromDays(days)
	if y < 0 || y > 9999 {
		dst = append(dst, '"')
		dst = time.UnixMilli(ms).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
		return append(dst, '"')
	}
	hh, mm, ss := sod/3600, sod/60%60, sod%60
	return append(dst, '"',
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+mo/10), byte('0'+mo%10), '-',
		byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+hh/10), byte('0'+hh%10), ':',
		byte('0'+mm/10), byte('0'+mm%10), ':',
		byte('0'+ss/10), byte('0'+ss%10), '.',
		byte('0'+milli/100), byte('0'+milli/10%10), byte('0'+milli%10), 'Z', '"')
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian
// date (Howard Hinnant's civil_from_days). Days from int64 milliseconds
// stay within ±1.1e11, far from overflowing any product below.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100) // [0, 365]
	mp := (5*doy + 2) / 153                  // [0, 11], March-based
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// plain[c] is true for the bytes copied into a JSON string as they are:
// printable ASCII other than '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString appends s as a quoted JSON string. The output is always
// valid UTF-8: valid input is copied (escaping '"', '\\', control
// characters, U+2028 and U+2029); each byte that is not part of valid
// UTF-8 becomes the four characters \xNN (written as `\\xNN` in JSON).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	// Fast path: a run of plain ASCII is copied whole.
	i := 0
	for i < len(s) && plain[s[i]] {
		i++
	}
	if i == len(s) {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			// Valid JSON, but not valid JavaScript before ES2019, and
			// line separators to some log viewers.
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
