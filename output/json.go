package output

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/lineaged/lineaged/event"
)

// AppendJSON appends e as one JSON object, without a trailing newline, to
// dst and returns the extended slice, as an Encoder with the default
// Options writes it (compact ancestry, no local host or agent facts).
// The mapping is in the package doc.
func AppendJSON(dst []byte, e *event.Event) []byte { return std.Append(dst, e) }

var std = NewEncoder(Options{})

// Append appends e as one JSON object, without a trailing newline, to dst
// and returns the extended slice.
//
// It uses no reflection and does not allocate when dst has room for the
// object. A nil e appends the JSON literal null.
func (enc *Encoder) Append(dst []byte, e *event.Event) []byte {
	if e == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"@timestamp":`...)
	dst = appendTime(dst, e.TimeMsec)
	dst = append(dst, `,"ecs":{"version":"`+event.ECSVersion+`"}`...)
	dst = appendEventObject(dst, e)
	dst = appendStr(dst, "message", e.Message)
	details := enc.hostDetails || e.Module == event.ModuleLineaged || e.Kind == event.KindAlert
	if details {
		dst = append(dst, enc.agentWithID...)
	} else {
		dst = append(dst, enc.agent...)
	}
	if e.Host != "" {
		dst = append(dst, `,"host":{"name":`...)
		dst = appendString(dst, e.Host)
		if details && enc.hostName != "" && e.Host == enc.hostName {
			dst = append(dst, enc.hostFacts...)
		}
		dst = append(dst, '}')
	}

	dst = enc.appendProcess(dst, e)
	dst = appendUser(dst, &e.User, e.Target)
	if !isModule(e.File) {
		dst = appendFile(dst, e.File)
	}
	dst = appendEndpoint(dst, "source", e.Source)
	dst = appendEndpoint(dst, "destination", e.Dest)
	dst = appendNetwork(dst, e.Network)
	if e.ContainerID != "" {
		dst = append(dst, `,"container":{"id":`...)
		dst = appendString(dst, e.ContainerID)
		dst = append(dst, '}')
	}
	dst = appendRelated(dst, e)
	dst = enc.appendAuditd(dst, e)
	if a := e.Alert; a != nil {
		dst = appendAlertObjects(dst, a)
	}
	dst = enc.appendLineaged(dst, e)
	if len(e.Labels) > 0 {
		dst = appendKVObject(dst, "labels", e.Labels, nil)
	}
	if e.Audit != nil {
		dst = appendStrArray(dst, "tags", e.Audit.Keys)
	}
	return append(dst, '}')
}

// appendEventObject writes event.*. event.kind is always present, so the
// object is never empty.
func appendEventObject(dst []byte, e *event.Event) []byte {
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
	if e.Kind == event.KindAlert {
		dst = appendStr(dst, "dataset", event.DatasetAlerts)
	} else {
		dst = appendStr(dst, "dataset", e.Module.Dataset())
	}
	if a := e.Alert; a != nil {
		if a.Severity > event.SeverityInfo {
			dst = appendInt(dst, "severity", int64(a.Severity))
		}
		if a.RiskScore > 0 {
			dst = appendInt(dst, "risk_score", int64(a.RiskScore))
		}
		dst = appendStr(dst, "reason", a.Reason)
	}
	return append(dst, '}')
}

// appendLineaged writes lineaged.*: what ECS has no field for (the
// ancestry, namespaces, the file operation, a switched-to identity's other
// ids) and the alert's and settings event's own members.
func (enc *Encoder) appendLineaged(dst []byte, e *event.Event) []byte {
	dst, lin := openObject(dst, "lineaged")
	dst = enc.appendAncestry(dst, e)
	if e.Parent != nil && e.Parent.Unknown {
		dst = appendKey(dst, "parent_unknown")
		dst = append(dst, "true"...)
	}
	if ns := e.Process.NetNS; ns != 0 && ns != enc.hostNetNS {
		dst = appendKey(dst, "netns")
		dst = strconv.AppendUint(dst, ns, 10)
	}
	if f := e.File; f != nil && !isModule(f) && f.Operation != "" && !(f.Operation == "exec" && e.Action == event.ActionExecuted) {
		// An exec line's file is the program run: event.action says so.
		dst = appendKey(dst, "file")
		dst = append(dst, `{"operation":`...)
		dst = appendString(dst, f.Operation)
		dst = append(dst, '}')
	}
	if n := e.Network; n != nil {
		var m int
		dst, m = openObject(dst, "network")
		if n.Direction == "listening" {
			dst = appendStr(dst, "state", n.Direction)
		}
		if n.NetNS != 0 && n.NetNS != enc.hostNetNS {
			dst = appendKey(dst, "netns")
			dst = strconv.AppendUint(dst, n.NetNS, 10)
		}
		dst = closeObject(dst, m)
	}
	if t := e.Target; t != nil {
		var m int
		dst, m = openObject(dst, "target")
		dst = appendID(dst, "effective_id", t.EffectiveID)
		dst = appendID(dst, "saved_id", t.SavedID)
		dst = appendID(dst, "filesystem_id", t.FilesysID)
		dst = appendID(dst, "effective_group_id", t.EffGroupID)
		dst = appendID(dst, "audit_id", t.AuditID)
		dst = closeObject(dst, m)
	}
	if a := e.Alert; a != nil {
		dst = appendLineagedAlert(dst, a)
	}
	if c := e.Config; c != nil {
		dst = appendConfig(dst, c)
	}
	return closeObject(dst, lin)
}

// appendConfig writes lineaged.config of the settings event.
func appendConfig(dst []byte, c *event.ConfigInfo) []byte {
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
	return append(dst, "]}"...)
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
// key or value are skipped, and so is a key already written (first wins),
// in kvs or in written (members the caller wrote before):
// Elasticsearch rejects a whole document for an empty field name or a
// duplicate key.
func appendKVs(dst []byte, kvs []event.KV, written []event.KV) []byte {
next:
	for i, kv := range kvs {
		if kv.Key == "" || kv.Value == "" {
			continue
		}
		for _, w := range written {
			if sameKey(w.Key, kv.Key) {
				continue next
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
	dst = appendStringBody(dst, s)
	return append(dst, '"')
}

// appendStringBody appends s escaped as appendString does, without the
// quotes.
func appendStringBody(dst []byte, s string) []byte {
	// Fast path: a run of plain ASCII is copied whole.
	i := 0
	for i < len(s) && plain[s[i]] {
		i++
	}
	if i == len(s) {
		return append(dst, s...)
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
	return append(dst, s[start:]...)
}
