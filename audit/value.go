package audit

// Hex-encoded values.
//
// The kernel prints a string field quoted when it holds only printable
// characters other than '"', and as upper-case hex of the raw bytes
// otherwise (audit_log_n_untrustedstring, kernel/audit.c). Fields that can
// carry such strings: proctitle, EXECVE aN and aN[i], PATH name, cwd, exe,
// comm, USER_CMD cmd, TTY data, acct, key, saddr (always hex), and others.
// A hex value is therefore recognised by being unquoted and all upper-case
// hex digits of even length; "(null)" and numbers in decimal that happen to
// be all digits are only decoded for fields that can carry strings.

// IsHex reports whether v is a non-empty, even-length run of upper-case hex
// digits, which is how the kernel writes an untrusted string.
func IsHex(v []byte) bool {
	if len(v) == 0 || len(v)%2 != 0 {
		return false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// AppendHexDecoded appends the bytes v encodes to dst. v must satisfy IsHex.
func AppendHexDecoded(dst, v []byte) []byte {
	for i := 0; i+1 < len(v); i += 2 {
		dst = append(dst, unhex(v[i])<<4|unhex(v[i+1]))
	}
	return dst
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 0
}

// AppendString appends the string a field carries to dst: hex decoded when
// the value is unquoted hex, else the value as written. A decoded string is
// cut at its first NUL (a C string), as the kernel's own consumers do; use
// AppendArgv for NUL-separated lists such as proctitle.
func AppendString(dst []byte, f Field) []byte {
	if f.Quote == 0 && IsHex(f.Value) {
		s := len(dst)
		dst = AppendHexDecoded(dst, f.Value)
		for i := s; i < len(dst); i++ {
			if dst[i] == 0 {
				return dst[:i]
			}
		}
		return dst
	}
	return append(dst, f.Value...)
}

// String returns the string a field carries (see AppendString).
func (f Field) String() string {
	if f.Quote == 0 && IsHex(f.Value) {
		return string(AppendString(nil, f))
	}
	return string(f.Value)
}

// Argv splits a proctitle value (argv joined by NULs, hex encoded when it
// holds any NUL) into its arguments. A quoted proctitle is one argument.
func Argv(f Field) []string {
	if f.Quote != 0 || !IsHex(f.Value) {
		if len(f.Value) == 0 {
			return nil
		}
		return []string{string(f.Value)}
	}
	raw := AppendHexDecoded(make([]byte, 0, len(f.Value)/2), f.Value)
	// A trailing NUL is the terminator of the last argument, not an empty one.
	for len(raw) > 0 && raw[len(raw)-1] == 0 {
		raw = raw[:len(raw)-1]
	}
	var out []string
	s := string(raw)
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
