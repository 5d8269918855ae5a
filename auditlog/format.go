package auditlog

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// Line limits of auditd's format_raw (auditd-event.c): the line is built
// with snprintf into MAX_AUDIT_MESSAGE_LENGTH-32 bytes, or, with a node
// name, FORMAT_BUF_LEN-32 (FORMAT_BUF_LEN = MAX_AUDIT_MESSAGE_LENGTH +
// _POSIX_HOST_NAME_MAX); the terminating NUL takes one byte of each.
const (
	maxAuditMessageLength = 8970
	posixHostNameMax      = 255
	maxLine               = maxAuditMessageLength - 32 - 1
	maxLineNode           = maxAuditMessageLength + posixHostNameMax - 32 - 1
	// maxDaemonPayload is auditd's DMSG_SIZE-1: send_audit_event formats
	// its own records into DMSG_SIZE (448+48) bytes.
	maxDaemonPayload = 448 + 48 - 1
)

// known309 lists the record types Debian's libaudit1 3.0.9 names
// (audit_msg_type_to_name), as ranges. auditd 3.0.9 writes any other
// type as UNKNOWN[n], even where go-libaudit's newer table has a name
// (DM_CTRL 1338, DM_EVENT 1339, ...). testdata/libaudit-3.0.9-types.txt
// is the full dump this table is checked against.
var known309 = [...][2]uint16{
	{1005, 1006}, {1100, 1138}, {1200, 1203}, {1205, 1209}, {1300, 1300},
	{1302, 1307}, {1309, 1309}, {1311, 1328}, {1330, 1337}, {1400, 1419},
	{1500, 1507}, {1700, 1703}, {1800, 1807}, {2000, 2000}, {2100, 2121},
	{2200, 2215}, {2300, 2313}, {2400, 2409}, {2500, 2507},
}

// typeNames holds the name of every type auditd 3.0.9 knows (known309),
// as the caller's type table gives them (Config.TypeName: audit.TypeName
// in lineaged, passed in because an output never imports a source, SPEC
// §8). Built once per Writer, so a line costs a map lookup.
type typeNames map[uint16]string

// newTypeNames asks name for every type of known309. A name that would
// break the line ("", spaces, '=') is refused: ausearch splits the line
// on them.
func newTypeNames(name func(uint16) string) (typeNames, error) {
	if name == nil {
		return nil, errors.New("auditlog: Config.TypeName is required (audit.TypeName names the record types)")
	}
	m := make(typeNames, 200)
	for _, r := range known309 {
		for t := r[0]; t <= r[1]; t++ {
			n := name(t)
			if n == "" || !validToken(n, 64) {
				return nil, fmt.Errorf("auditlog: Config.TypeName(%d) = %q: not a record type name", t, n)
			}
			m[t] = n
		}
	}
	return m, nil
}

// name is the name auditd 3.0.9 writes for a record type: the type
// table's name, or UNKNOWN[n] for a type that libaudit 3.0.9 does not
// name.
func (tn typeNames) name(t uint16) string {
	if n, ok := tn[t]; ok {
		return n
	}
	return "UNKNOWN[" + strconv.Itoa(int(t)) + "]"
}

func (tn typeNames) appendName(dst []byte, t uint16) []byte {
	if n, ok := tn[t]; ok {
		return append(dst, n...)
	}
	dst = append(dst, "UNKNOWN["...)
	dst = strconv.AppendUint(dst, uint64(t), 10)
	return append(dst, ']')
}

// appendLine appends the audit.log line auditd 3.0.9 (log_format = RAW)
// writes for one kernel record, newline included, and returns the
// extended buffer. node is the name_format prefix ("" for none).
//
// As auditd's format_raw: "node=NODE type=NAME msg=PAYLOAD"; the payload
// ends at its first NUL (snprintf's %.*s); the line is cut at auditd's
// buffer size; newlines become spaces; one trailing space is dropped.
// Before that, trailing NULs and newlines are trimmed, as lineaged's
// audit parser does (audit.Record.ParseKernel). The result is always exactly one line.
func (tn typeNames) appendLine(dst []byte, node string, typ uint16, payload []byte) []byte {
	for len(payload) > 0 && (payload[len(payload)-1] == 0 || payload[len(payload)-1] == '\n') {
		payload = payload[:len(payload)-1]
	}
	if i := bytes.IndexByte(payload, 0); i >= 0 {
		payload = payload[:i]
	}
	start := len(dst)
	limit := maxLine
	if node != "" {
		dst = append(dst, "node="...)
		dst = append(dst, node...)
		dst = append(dst, ' ')
		limit = maxLineNode
	}
	dst = append(dst, "type="...)
	dst = tn.appendName(dst, typ)
	dst = append(dst, " msg="...)
	room := limit - (len(dst) - start)
	if room < 0 {
		room = 0
	}
	if len(payload) > room {
		payload = payload[:room]
	}
	dst = append(dst, payload...)
	for i := start; i < len(dst); i++ {
		if dst[i] == '\n' {
			dst[i] = ' '
		}
	}
	if len(dst) > start && dst[len(dst)-1] == ' ' {
		dst = dst[:len(dst)-1]
	}
	return append(dst, '\n')
}
