package audit

// Field is one key=value pair of an audit record. Key and Value point into
// the record's line buffer (or, for the few keys and values the parser has to
// build, into the record's scratch buffer); they are valid until the record
// is parsed again.
type Field struct {
	Key   []byte
	Value []byte // without the surrounding quotes
	// Quote is the quote character the value was written with: '"', '\''
	// or 0 for an unquoted value. The kernel quotes a string it printed as
	// text and leaves hex-encoded strings unquoted (audit_log_untrustedstring
	// in kernel/audit.c), so Quote == 0 is what makes a value a hex candidate.
	Quote byte
	// Nested is set for pairs that came from inside a user-space message's
	// msg='...' (USER_*, CRED_*, LOGIN records written by PAM, sshd, ...).
	Nested bool
}

// Record is one parsed line (one kernel audit record).
//
// A Record is reused across lines: Parse resets it and its slices keep their
// capacity, so parsing allocates nothing once the slices have grown.
type Record struct {
	// Line is the line the record was parsed from (without the newline).
	Line []byte
	// Node is the value of a "node=HOST " prefix (auditd's name_format), or nil.
	Node []byte
	// TypeName is the record type as written ("SYSCALL", "UNKNOWN[1334]").
	TypeName []byte
	// Type is the numeric record type, or 0 when the name is not known to
	// this build. Records of unknown types are kept and passed on.
	Type uint16
	// Sec and Msec are the audit timestamp (audit(SEC.MSEC:SERIAL)).
	Sec  int64
	Msec int32
	// Serial is the event serial: all records of one event share it.
	Serial uint32
	// Fields are the raw key=value pairs in line order, nested msg='...'
	// pairs flattened in place (with Nested set).
	Fields []Field
	// Interp are the interpreted fields auditd's ENRICHED format appends
	// after a 0x1D byte (upper-case keys: AUID="root" SYSCALL=execve ...).
	Interp []Field

	scratch []byte // storage for keys/values the parser synthesises
	kbuf    []byte // ParseKernel's rebuilt line
}

// TimeMsec returns the record time in Unix milliseconds.
func (r *Record) TimeMsec() int64 { return r.Sec*1000 + int64(r.Msec) }

// Get returns the value of the last raw field named key (last wins, as in
// go-libaudit's map), and whether it was found.
func (r *Record) Get(key string) ([]byte, bool) {
	for i := len(r.Fields) - 1; i >= 0; i-- {
		if string(r.Fields[i].Key) == key {
			return r.Fields[i].Value, true
		}
	}
	return nil, false
}

// Field returns the last raw field named key.
func (r *Record) Field(key string) (Field, bool) {
	for i := len(r.Fields) - 1; i >= 0; i-- {
		if string(r.Fields[i].Key) == key {
			return r.Fields[i], true
		}
	}
	return Field{}, false
}

// Interpreted returns the ENRICHED (interpreted) value for key, e.g. "UID".
func (r *Record) Interpreted(key string) ([]byte, bool) {
	for i := len(r.Interp) - 1; i >= 0; i-- {
		if string(r.Interp[i].Key) == key {
			return r.Interp[i].Value, true
		}
	}
	return nil, false
}

// Clone returns a deep copy of r that owns its memory. Parse copies its
// input, so re-parsing the line is an exact copy.
func (r *Record) Clone() *Record {
	c := &Record{}
	_ = c.Parse(r.Line)
	return c
}
