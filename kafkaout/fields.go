package kafkaout

import (
	"encoding/json"
	"unicode/utf8"
)

// fields reads what the writer routes a line by, without decoding the
// line: host.name (the record key; nil when the line has none, or it is
// not a string) and whether event.kind is "alert" (the alert topic).
//
// It walks the top-level object member by member, skipping every value
// but the first "host" and the first "event" object (strings included, so
// a command line holding `"host":{"name":"x"}` cannot pass for the
// field), and stops once it has seen both: lineaged writes them third and
// second, so a line costs a few hundred bytes of scanning. Of a repeated
// key the first counts. Lines come from lineaged or, after a restart,
// from the spool (files on disk): anything else is read without panic
// and gives what it gives; FuzzHostName holds the valid-JSON case to
// encoding/json.
func fields(line []byte) (host []byte, alert bool) {
	s := scanner{b: line}
	if !s.eat('{') {
		return nil, false
	}
	seenHost, seenEvent := false, false
	for i := 0; !seenHost || !seenEvent; i++ {
		if s.eat('}') || (i > 0 && !s.eat(',')) {
			break
		}
		raw, plain, ok := s.str()
		if !ok || !s.eat(':') {
			break
		}
		switch {
		case !seenHost && keyIs(raw, plain, "host"):
			seenHost = true
			sub := scanner{b: s.b, i: s.i}
			if sub.find("name") {
				if v, plain, ok := sub.str(); ok {
					host, _ = text(v, plain)
				}
			}
		case !seenEvent && keyIs(raw, plain, "event"):
			seenEvent = true
			sub := scanner{b: s.b, i: s.i}
			if sub.find("kind") {
				if v, plain, ok := sub.str(); ok {
					k, _ := text(v, plain)
					alert = string(k) == "alert"
				}
			}
		}
		if !s.skip() {
			break
		}
	}
	return host, alert
}

// scanner reads JSON text at b[i:] just enough for fields: it checks
// what it reads, not what it skips.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// eat consumes c after white space, if it is there.
func (s *scanner) eat(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string: raw is what stands between its quotes, plain that
// raw is its value as is (no escape, valid UTF-8).
func (s *scanner) str() (raw []byte, plain, ok bool) {
	if !s.eat('"') {
		return nil, false, false
	}
	start, esc := s.i, false
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, !esc && utf8.Valid(raw), true
		case '\\':
			esc = true
			s.i++ // the escaped byte cannot end the string
		}
		s.i++
	}
	return nil, false, false
}

// text is a string's value: raw itself when plain, else decoded as
// encoding/json decodes it (escapes, surrogates, invalid UTF-8 replaced).
// Not plain is rare in lineaged's own keys and host names.
func text(raw []byte, plain bool) ([]byte, bool) {
	if plain {
		return raw, true
	}
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	var v string
	if json.Unmarshal(q, &v) != nil {
		return nil, false
	}
	return []byte(v), true
}

func keyIs(raw []byte, plain bool, name string) bool {
	if plain {
		return string(raw) == name
	}
	k, ok := text(raw, plain)
	return ok && string(k) == name
}

// find moves to the value of the first member called name of the object
// at s.i; false when there is none (or no object).
func (s *scanner) find(name string) bool {
	if !s.eat('{') {
		return false
	}
	for i := 0; ; i++ {
		if s.eat('}') || (i > 0 && !s.eat(',')) {
			return false
		}
		raw, plain, ok := s.str()
		if !ok || !s.eat(':') {
			return false
		}
		if keyIs(raw, plain, name) {
			s.ws()
			return true
		}
		if !s.skip() {
			return false
		}
	}
}

// skip moves past the value at s.i: a string, an object or array with
// everything in it, or a scalar up to the ',', '}' or ']' after it. It
// does not check what it skips; false when the input ends inside it.
func (s *scanner) skip() bool {
	s.ws()
	depth := 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			if _, _, ok := s.str(); !ok {
				return false
			}
			if depth == 0 {
				return true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return true // ends the object around a scalar: not ours
			}
			depth--
			if depth == 0 {
				s.i++
				return true
			}
		case ',':
			if depth == 0 {
				return true
			}
		}
		s.i++
	}
	return depth == 0
}
