package audit

// ParseKernel parses one record as the kernel sends it over NETLINK_AUDIT:
// the record type from the netlink header and a payload that starts
// "audit(SEC.MSEC:SERIAL): ". The record is rebuilt in auditd's log form
// ("type=NAME msg=audit(...): ...") in r's buffer, so live and replayed
// records go through the same parser and give the same fields, and a
// native audit.log writer can write r.Line as it is.
func (r *Record) ParseKernel(typ uint16, payload []byte) error {
	// Kernel payloads may carry a trailing NUL (user messages relayed
	// from sendto with their terminator) and a newline.
	for len(payload) > 0 && (payload[len(payload)-1] == 0 || payload[len(payload)-1] == '\n') {
		payload = payload[:len(payload)-1]
	}
	buf := append(r.kbuf[:0], "type="...)
	if name := TypeName(typ); name != "" {
		buf = append(buf, name...)
	}
	buf = append(buf, " msg="...)
	buf = append(buf, payload...)
	r.kbuf = buf
	return r.Parse(buf)
}
