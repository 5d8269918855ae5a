package baseline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lineaged/lineaged/internal/atomicfile"
)

// The file format (version 1) is JSON lines, UTF-8, one object per line:
//
//	{"lineaged_baseline":1,"hosts":["web1"],"created":"2025-03-01T10:00:00Z","updated":"2025-03-02T10:00:00Z","entries":2}
//	{"key":"exec-edge|systemd>sshd>bash|/usr/bin/id","count":14,"first":"2025-03-01T10:05:00Z","last":"2025-03-02T09:00:00Z"}
//	{"key":"listen|/usr/sbin/sshd|22","count":1,"first":"2025-03-01T10:00:01Z","last":"2025-03-01T10:00:01Z","approved":true}
//
// Version 2 adds an optional header field, learn_until: when a live
// learning window ends (lineaged run --learn-for), so a restart resumes it
// rather than starting over; and the rule-match kind of entry. A baseline
// with neither is written as version 1.
//
// The first line is the header: lineaged_baseline is the format version
// (required), entries the number of entry lines that follow (required: a
// file cut short is refused, not half-loaded). Entries are written sorted
// by key, so two files diff line by line. Times are RFC 3339 in UTC.
//
// Reading: a version newer than FormatVersion is refused with a message
// saying so; unknown fields are refused too (a newer writer that adds a
// field bumps the version, and a typo in a hand edit is caught rather than
// silently dropped). Blank lines are skipped; entries need not be sorted;
// a duplicate key is refused. Every error names FILE:LINE.

const maxLine = 1 << 20

type fileHeader struct {
	Version *int      `json:"lineaged_baseline"`
	Hosts   []string  `json:"hosts"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Entries *int      `json:"entries"`
	// LearnUntil (version 2) is when live learning of this baseline ends.
	LearnUntil *time.Time `json:"learn_until,omitempty"`
}

type fileEntry struct {
	Key      string     `json:"key"`
	Count    *uint64    `json:"count"`
	First    *time.Time `json:"first"`
	Last     *time.Time `json:"last"`
	Approved bool       `json:"approved,omitempty"`
}

func (b *Baseline) hasKind(k Kind) bool {
	for _, e := range b.entries {
		if e.Kind == k {
			return true
		}
	}
	return false
}

// Encode writes b in the file format.
func Encode(w io.Writer, b *Baseline) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // keep "<ver>" readable
	n := len(b.entries)
	v := FormatVersion
	hosts := b.Hosts
	if hosts == nil {
		hosts = []string{}
	}
	h := fileHeader{Version: &v, Hosts: hosts, Created: clampTime(b.Created), Updated: clampTime(b.Updated), Entries: &n}
	if !b.LearnUntil.IsZero() {
		lu := clampTime(b.LearnUntil)
		h.LearnUntil = &lu
	} else if !b.hasKind(KindRuleMatch) {
		v = 1 // nothing of version 2 in it: readable by version-1 readers
	}
	if err := enc.Encode(h); err != nil {
		return err
	}
	for _, k := range sortedKeys(b.entries) {
		e := b.entries[k]
		c, f, l := e.Count, clampTime(e.First), clampTime(e.Last)
		if err := enc.Encode(fileEntry{Key: e.Key, Count: &c, First: &f, Last: &l, Approved: e.Approved}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// clampTime keeps t within what RFC 3339 (and so the file) can hold.
func clampTime(t time.Time) time.Time {
	t = t.UTC()
	if t.Before(minTime) {
		return minTime
	}
	if t.After(maxTime) {
		return maxTime
	}
	return t
}

// Decode reads a baseline in the file format; name is used in errors
// ("name:line: what is wrong").
func Decode(r io.Reader, name string) (*Baseline, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	line := 0
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, a...))
	}
	next := func() ([]byte, bool) {
		for sc.Scan() {
			line++
			if t := bytes.TrimSpace(sc.Bytes()); len(t) > 0 {
				return t, true
			}
		}
		return nil, false
	}

	hl, ok := next()
	if !ok {
		if err := sc.Err(); err != nil {
			return nil, scanErr(name, line+1, err)
		}
		return nil, fmt.Errorf("%s: empty file, not a lineaged baseline", name)
	}
	var probe struct {
		Version *int `json:"lineaged_baseline"`
	}
	if err := json.Unmarshal(hl, &probe); err != nil || probe.Version == nil {
		return nil, fail("not a lineaged baseline: the first line must be a JSON object with a \"lineaged_baseline\" format version")
	}
	if v := *probe.Version; v > FormatVersion {
		return nil, fail("format version %d is newer than this lineaged reads (%d): upgrade lineaged", v, FormatVersion)
	} else if v < 1 {
		return nil, fail("format version %d is not valid", v)
	}
	var h fileHeader
	if err := strictUnmarshal(hl, &h); err != nil {
		return nil, fail("header: %v", err)
	}
	if h.Entries == nil || *h.Entries < 0 {
		return nil, fail("header: \"entries\" (the number of entry lines) is missing or negative")
	}
	for _, hst := range h.Hosts {
		if hst == "" {
			return nil, fail("header: empty host name")
		}
	}
	if err := checkTime(h.Created); err != nil {
		return nil, fail("header: created: %v", err)
	}
	if err := checkTime(h.Updated); err != nil {
		return nil, fail("header: updated: %v", err)
	}
	if h.LearnUntil != nil {
		if *h.Version < 2 {
			return nil, fail("header: learn_until needs format version 2")
		}
		if err := checkTime(*h.LearnUntil); err != nil {
			return nil, fail("header: learn_until: %v", err)
		}
	}
	b := &Baseline{
		Version: *h.Version,
		Created: h.Created.UTC(),
		Updated: h.Updated.UTC(),
		entries: make(map[string]*Entry),
		groups:  make(map[string]uint64),
	}
	if h.LearnUntil != nil {
		b.LearnUntil = h.LearnUntil.UTC()
	}
	for _, hst := range h.Hosts {
		b.AddHost(hst)
	}
	seenAt := make(map[string]int)
	for {
		l, ok := next()
		if !ok {
			break
		}
		var fe fileEntry
		if err := strictUnmarshal(l, &fe); err != nil {
			return nil, fail("%v", err)
		}
		switch {
		case fe.Key == "":
			return nil, fail("entry without a \"key\"")
		case fe.Count == nil:
			return nil, fail("entry %q without a \"count\"", fe.Key)
		case fe.First == nil || fe.Last == nil:
			return nil, fail("entry %q without \"first\" and \"last\"", fe.Key)
		}
		if _, _, err := ParseKey(fe.Key); err != nil {
			return nil, fail("%v", err)
		}
		if at, dup := seenAt[fe.Key]; dup {
			return nil, fail("duplicate key %q (first at line %d)", fe.Key, at)
		}
		seenAt[fe.Key] = line
		if *fe.Count == 0 && !fe.Approved {
			return nil, fail("entry %q has count 0 and is not approved", fe.Key)
		}
		if err := checkTime(*fe.First); err != nil {
			return nil, fail("entry %q: first: %v", fe.Key, err)
		}
		if err := checkTime(*fe.Last); err != nil {
			return nil, fail("entry %q: last: %v", fe.Key, err)
		}
		if fe.Last.Before(*fe.First) {
			return nil, fail("entry %q: last %s is before first %s", fe.Key, fe.Last.UTC().Format(time.RFC3339Nano), fe.First.UTC().Format(time.RFC3339Nano))
		}
		b.put(&Entry{Kind: kindOf(fe.Key), Key: fe.Key, Count: *fe.Count, First: fe.First.UTC(), Last: fe.Last.UTC(), Approved: fe.Approved})
	}
	if err := sc.Err(); err != nil {
		return nil, scanErr(name, line+1, err)
	}
	if len(b.entries) != *h.Entries {
		return nil, fmt.Errorf("%s: the header says %d entries but %d follow: the file is truncated or was edited (fix \"entries\" after a hand edit)", name, *h.Entries, len(b.entries))
	}
	return b, nil
}

func scanErr(name string, line int, err error) error {
	if errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("%s:%d: line longer than %d bytes", name, line, maxLine)
	}
	return fmt.Errorf("%s:%d: %w", name, line, err)
}

// strictUnmarshal decodes one JSON object, refusing unknown fields and
// anything after it.
func strictUnmarshal(data []byte, v any) error {
	if len(data) == 0 || data[0] != '{' {
		return errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("text after the JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("text after the JSON object")
	}
	return nil
}

// checkTime refuses times that do not survive a round trip through the
// file (years outside 1–9999 once in UTC).
func checkTime(t time.Time) error {
	u := t.UTC()
	if u.Before(minTime) || u.After(maxTime) {
		return fmt.Errorf("time %s is out of range (UTC years 1–9999)", t.Format(time.RFC3339Nano))
	}
	return nil
}

// Load reads the baseline file at path.
func Load(path string) (*Baseline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Decode(f, path)
}

// Save writes b to path crash-safely through atomicfile (a temporary
// file in the same directory, mode 0600, fsynced, renamed over path, the
// directory fsynced), so a crash or kill -9 at any moment leaves either
// the old file or the new one whole at path. A kill between create and
// rename can leave the temporary file (".NAME.tmp…") behind; it is never
// read. If path is a symbolic link the link itself is replaced.
func Save(path string, b *Baseline) error {
	return atomicfile.Write(path, 0o600, func(w io.Writer) error { return Encode(w, b) })
}
