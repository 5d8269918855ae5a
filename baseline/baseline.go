package baseline

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// FormatVersion is the version of the baseline file format this package
// writes and the newest it reads.
const FormatVersion = 2

// DefaultLimit is the default cap on the number of entries.
const DefaultLimit = 200_000

// Entry is one learned item: a key and how often and when it was seen.
type Entry struct {
	Kind  Kind
	Key   string    // canonical: KIND|FIELD|..., see Kind
	Count uint64    // observations (0 for an entry only approved)
	First time.Time // first observation (or approval), UTC
	Last  time.Time // last observation (or approval), UTC
	// Approved is set when an operator folded the key in (Approve): an
	// approved entry is never Rare.
	Approved bool
}

// Baseline is what is normal on one host, or on hosts of one role after
// Merge. It is not safe for concurrent use: the caller serialises.
type Baseline struct {
	Version int      // format version it was read with or will be written with
	Hosts   []string // the hosts it learned from, sorted
	Created time.Time
	// Updated is the latest observation time, or the time of the latest
	// Approve, Expire or Merge.
	Updated time.Time
	// LearnUntil is when live learning ends (zero: no learning window
	// recorded); see lineaged run --learn-for.
	LearnUntil time.Time
	// Limit caps the number of entries (0 = DefaultLimit). Observing a
	// new key beyond it records nothing and counts a refusal.
	Limit int

	entries map[string]*Entry
	groups  map[string]uint64 // group (KIND|FIRST-FIELD) → summed counts
	refused uint64
}

// clock is the clock of Approve, New and an empty Merge (a variable for
// tests).
var clock = func() time.Time { return time.Now().UTC() }

// New returns an empty baseline created now.
func New() *Baseline {
	t := clock()
	return &Baseline{
		Version: FormatVersion,
		Created: t,
		Updated: t,
		entries: make(map[string]*Entry),
		groups:  make(map[string]uint64),
	}
}

func (b *Baseline) limit() int {
	if b.Limit > 0 {
		return b.Limit
	}
	return DefaultLimit
}

// Len is the number of entries.
func (b *Baseline) Len() int { return len(b.entries) }

// Refused is how many observations of new keys the entry cap turned away
// since the baseline was made or loaded.
func (b *Baseline) Refused() uint64 { return b.refused }

// group is the prefix of key up to its second "|": the kind and the first
// field (exec-edge: the chain; user-exe: the uid; the other kinds: the
// executable).
func group(key string) string {
	i := strings.IndexByte(key, '|')
	if i < 0 {
		return key
	}
	j := strings.IndexByte(key[i+1:], '|')
	if j < 0 {
		return key
	}
	return key[:i+1+j]
}

func kindOf(key string) Kind {
	k, _, _ := strings.Cut(key, "|")
	return Kind(k)
}

func addSat(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

// observe counts one sighting of a structurally valid key at t.
func (b *Baseline) observe(key string, t time.Time) (novel bool) {
	t = clampTime(t)
	if e, ok := b.entries[key]; ok {
		e.Count = addSat(e.Count, 1)
		if t.Before(e.First) {
			e.First = t
		}
		if t.After(e.Last) {
			e.Last = t
		}
		g := group(key)
		b.groups[g] = addSat(b.groups[g], 1)
		b.touch(t)
		return false
	}
	if len(b.entries) >= b.limit() {
		b.refused++
		return true
	}
	b.put(&Entry{Kind: kindOf(key), Key: key, Count: 1, First: t, Last: t})
	b.touch(t)
	return true
}

func (b *Baseline) touch(t time.Time) {
	if t.After(b.Updated) {
		b.Updated = t
	}
}

// put inserts a new entry (the key must be absent).
func (b *Baseline) put(e *Entry) {
	if b.entries == nil {
		b.entries = make(map[string]*Entry)
		b.groups = make(map[string]uint64)
	}
	b.entries[e.Key] = e
	g := group(e.Key)
	b.groups[g] = addSat(b.groups[g], e.Count)
}

func (b *Baseline) remove(key string) {
	e := b.entries[key]
	if e == nil {
		return
	}
	delete(b.entries, key)
	g := group(key)
	if b.groups[g] <= e.Count {
		delete(b.groups, g)
	} else {
		b.groups[g] -= e.Count
	}
}

// ObserveKey records one sighting of key at t. The key must be
// structurally valid (ParseKey); it is not re-generalised.
func (b *Baseline) ObserveKey(key string, t time.Time) (novel bool, err error) {
	if _, _, err := ParseKey(key); err != nil {
		return false, err
	}
	return b.observe(key, t), nil
}

// ObserveExec records exe executed below ancestry (the ancestors'
// executables, nearest parent first): the exec-edge entry.
func (b *Baseline) ObserveExec(ancestry []string, exe string, t time.Time) (key string, novel bool) {
	key = ExecEdgeKey(ancestry, exe)
	return key, b.observe(key, t)
}

// ObserveUserExe records uid running exe: the user-exe entry.
func (b *Baseline) ObserveUserExe(uid, exe string, t time.Time) (key string, novel bool) {
	key = UserExeKey(uid, exe)
	return key, b.observe(key, t)
}

// ObserveFile records exe doing op on path p. An op that does not
// collapse to read, write or exec (FileOp) records nothing and returns "".
func (b *Baseline) ObserveFile(exe, p, op string, t time.Time) (key string, novel bool) {
	key = FileAccessKey(exe, p, op)
	if key == "" {
		return "", false
	}
	return key, b.observe(key, t)
}

// ObserveListen records exe listening on port.
func (b *Baseline) ObserveListen(exe string, port int, t time.Time) (key string, novel bool) {
	key = ListenKey(exe, port)
	return key, b.observe(key, t)
}

// ObserveConnect records exe connecting to ip:port.
func (b *Baseline) ObserveConnect(exe, ip string, port int, t time.Time) (key string, novel bool) {
	key = ConnectKey(exe, ip, port)
	return key, b.observe(key, t)
}

// ObserveUIDChange records exe going from uid from to uid to.
func (b *Baseline) ObserveUIDChange(exe, from, to string, t time.Time) (key string, novel bool) {
	key = UIDTransitionKey(exe, from, to)
	return key, b.observe(key, t)
}

// AddHost adds a host name to Hosts (kept sorted, no duplicates).
func (b *Baseline) AddHost(h string) {
	if h == "" {
		return
	}
	i := sort.SearchStrings(b.Hosts, h)
	if i < len(b.Hosts) && b.Hosts[i] == h {
		return
	}
	b.Hosts = append(b.Hosts, "")
	copy(b.Hosts[i+1:], b.Hosts[i:])
	b.Hosts[i] = h
}

// Lookup returns the entry of key.
func (b *Baseline) Lookup(key string) (Entry, bool) {
	e, ok := b.entries[key]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// RareRule says when a known entry is still rare.
type RareRule struct {
	// MinCount: an entry seen fewer times is rare.
	MinCount uint64
	// MinFraction: an entry whose count is below this fraction of its
	// group's total is rare. The group is the kind and the first field
	// of the key: for exec-edge the chain (what runs below sshd>bash),
	// for user-exe the uid, for the other kinds the executable (what
	// this program reads, listens on, connects to, changes uid to).
	// 0 disables the test.
	MinFraction float64
}

// DefaultRare: seen fewer than 3 times, or less than 0.1% of its group.
var DefaultRare = RareRule{MinCount: 3, MinFraction: 0.001}

// Status is what the baseline says of a key.
type Status int

const (
	Novel  Status = iota // not in the baseline
	Rare                 // known but rare (RareRule)
	Common               // known, approved or not rare
)

func (s Status) String() string {
	switch s {
	case Novel:
		return "novel"
	case Rare:
		return "rare"
	}
	return "common"
}

// Status classifies key: Novel when absent; Common when approved;
// otherwise Rare when Count < r.MinCount or Count < r.MinFraction × the
// group's total count; Common otherwise.
func (b *Baseline) Status(key string, r RareRule) Status {
	e, ok := b.entries[key]
	if !ok {
		return Novel
	}
	if e.Approved {
		return Common
	}
	if e.Count < r.MinCount {
		return Rare
	}
	if r.MinFraction > 0 && float64(e.Count) < r.MinFraction*float64(b.groups[group(key)]) {
		return Rare
	}
	return Common
}

// Rare reports whether key is known but rare under r (see Status). An
// unknown key is not rare: it is novel.
func (b *Baseline) Rare(key string, r RareRule) bool { return b.Status(key, r) == Rare }

// GroupTotal is the summed count of the entries in key's group (see
// RareRule.MinFraction).
func (b *Baseline) GroupTotal(key string) uint64 { return b.groups[group(key)] }

// Expire removes the entries last seen before now-olderThan (approved
// ones too, counting the approval as a sighting) and returns how many.
func (b *Baseline) Expire(olderThan time.Duration, now time.Time) int {
	cut := now.Add(-olderThan)
	var old []string
	for k, e := range b.entries {
		if e.Last.Before(cut) {
			old = append(old, k)
		}
	}
	for _, k := range old {
		b.remove(k)
	}
	if len(old) > 0 {
		b.touch(now.UTC())
	}
	return len(old)
}

// Approve folds keys into the baseline as known: each must be canonical
// (Canonical; an alert names its key). A new key gets Count 0 and
// First = Last = now; an existing one keeps its count and First, and its
// Last becomes now (an approval is a sighting, for Expire). Every key is
// marked Approved. Nothing is changed unless all keys are valid; the
// error names each bad key.
func (b *Baseline) Approve(keys ...string) error {
	var errs []error
	for _, k := range keys {
		if _, err := Canonical(k); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	fresh := make(map[string]bool)
	for _, k := range keys {
		if _, ok := b.entries[k]; !ok {
			fresh[k] = true
		}
	}
	if len(b.entries)+len(fresh) > b.limit() {
		return fmt.Errorf("baseline has %d entries: approving %d new keys would pass its limit of %d", len(b.entries), len(fresh), b.limit())
	}
	t := clock()
	for _, k := range keys {
		if e, ok := b.entries[k]; ok {
			e.Approved = true
			if t.After(e.Last) {
				e.Last = t
			}
			continue
		}
		b.put(&Entry{Kind: kindOf(k), Key: k, First: t, Last: t, Approved: true})
	}
	b.touch(t)
	return nil
}

// Entries returns copies of the entries sorted by key.
func (b *Baseline) Entries() []Entry {
	out := make([]Entry, 0, len(b.entries))
	for _, e := range b.entries {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Merge combines baselines (hosts of one role) into a new one: counts
// summed (saturating), First the earliest, Last the latest, Approved if
// any is; Hosts the union; Created the earliest, Updated the latest;
// Limit the largest (entries beyond it are refused and counted). The
// inputs are not changed.
func Merge(bs ...*Baseline) *Baseline {
	m := &Baseline{Version: FormatVersion, entries: make(map[string]*Entry), groups: make(map[string]uint64)}
	first := true
	for _, b := range bs {
		if b == nil {
			continue
		}
		if first || b.Created.Before(m.Created) {
			m.Created = b.Created
		}
		if first || b.Updated.After(m.Updated) {
			m.Updated = b.Updated
		}
		first = false
		if b.Limit > m.Limit {
			m.Limit = b.Limit
		}
		for _, h := range b.Hosts {
			m.AddHost(h)
		}
		for _, k := range sortedKeys(b.entries) {
			e := b.entries[k]
			if x, ok := m.entries[k]; ok {
				x.Count = addSat(x.Count, e.Count)
				m.groups[group(k)] = addSat(m.groups[group(k)], e.Count)
				if e.First.Before(x.First) {
					x.First = e.First
				}
				if e.Last.After(x.Last) {
					x.Last = e.Last
				}
				x.Approved = x.Approved || e.Approved
				continue
			}
			if len(m.entries) >= m.limit() {
				m.refused++
				continue
			}
			c := *e
			m.put(&c)
		}
	}
	if first {
		t := clock()
		m.Created, m.Updated = t, t
	}
	return m
}

func sortedKeys(m map[string]*Entry) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// ChangeOp says how an entry differs between two baselines.
type ChangeOp string

const (
	Added   ChangeOp = "added"   // only in the second
	Removed ChangeOp = "removed" // only in the first
	Changed ChangeOp = "changed" // in both, with another count, first, last or approval
)

// Change is one difference found by Diff. Old is zero for Added, New for
// Removed.
type Change struct {
	Op       ChangeOp
	Key      string
	Old, New Entry
}

// Diff lists the differences from a to b, sorted by key.
func Diff(a, b *Baseline) []Change {
	var out []Change
	ea, eb := entryMap(a), entryMap(b)
	for k, x := range ea {
		y, ok := eb[k]
		switch {
		case !ok:
			out = append(out, Change{Op: Removed, Key: k, Old: *x})
		case x.Count != y.Count || !x.First.Equal(y.First) || !x.Last.Equal(y.Last) || x.Approved != y.Approved:
			out = append(out, Change{Op: Changed, Key: k, Old: *x, New: *y})
		}
	}
	for k, y := range eb {
		if _, ok := ea[k]; !ok {
			out = append(out, Change{Op: Added, Key: k, New: *y})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func entryMap(b *Baseline) map[string]*Entry {
	if b == nil {
		return nil
	}
	return b.entries
}
