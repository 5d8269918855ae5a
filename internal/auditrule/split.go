package auditrule

import (
	"errors"
	"strings"
)

// split cuts a line into words (see the package doc): spaces and tabs
// separate; a backslash before a space, a tab or a backslash keeps it in
// the word, and before anything else is itself (auditctl's rule, so
// that -F path=/a\b keeps its backslash); '…' groups literally; "…"
// groups with \" and \\ as escapes.
func split(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	// auditctl reads C strings: a NUL would end the line there, silently.
	if strings.IndexByte(line, 0) >= 0 {
		return nil, errors.New("a NUL byte in the line")
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '\\':
			inWord = true
			if i+1 < len(line) && (line[i+1] == ' ' || line[i+1] == '\t' || line[i+1] == '\\') {
				i++
				c = line[i]
			}
			w.WriteByte(c)
		case c == '\'':
			inWord = true
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("a ' is not closed")
			}
			w.WriteString(line[i+1 : i+1+end])
			i += 1 + end
		case c == '"':
			inWord = true
			closed := false
			for i++; i < len(line); i++ {
				c = line[i]
				if c == '"' {
					closed = true
					break
				}
				if c == '\\' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\\') {
					i++
					c = line[i]
				}
				w.WriteByte(c)
			}
			if !closed {
				return nil, errors.New(`a " is not closed`)
			}
		default:
			inWord = true
			w.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// quote returns s as one word split reads back as s: as it is when it
// needs no quoting, else in "…".
func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\\'\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
