package report

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lineaged/lineaged/event"
)

// Options shape a report.
type Options struct {
	Title        string
	Since, Until time.Time // zero: unbounded
	MaxRows      int       // evidence rows kept per section (default 25)
	MaxTrees     int       // alerts drawn with a tree (default 1000)
	MaxAlerts    int       // alerts kept at all (default 10000; the rest counted)
	Now          time.Time // the report's date (default time.Now)
	// Rules, when set, are the audit rules in force (as auditctl -l prints
	// them), for inputs without lineaged's settings event (a replay of an
	// auditd host's log); RulesSource names where they came from. A
	// settings event in the inputs still wins for its period.
	Rules       []string
	RulesSource string
	// Progress, when set, is told the bytes read so far of total, over
	// both passes (each input is read twice: once for the figures, once
	// for the alerts' trees).
	Progress func(done, total int64)
}

func (o *Options) defaults() {
	if o.MaxRows <= 0 {
		o.MaxRows = 25
	}
	if o.MaxTrees <= 0 {
		o.MaxTrees = 1000
	}
	if o.MaxAlerts <= 0 {
		o.MaxAlerts = 10000
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Title == "" {
		o.Title = "lineaged audit and compliance report"
	}
}

// Build reads lineaged's JSON lines from files and makes the report.
func Build(files []string, opt Options) (*Report, error) {
	var total int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("report: %v", err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("report: %s is not a regular file (the report reads its inputs twice)", f)
		}
		total += st.Size()
	}
	var passes int64
	r, err := build(opt, func(fn func(*Doc) error) (*Reader, error) {
		rd := &Reader{}
		if p := opt.Progress; p != nil {
			done := passes * total // progress counts both passes
			rd.Progress = func(n int64) { p(done+n, 2*total) }
		}
		passes++
		return rd, rd.Each(files, fn)
	})
	if err != nil {
		return nil, err
	}
	if opt.Progress != nil {
		opt.Progress(2*total, 2*total) // also when no alert needed the second pass
	}
	r.Inputs = append([]string(nil), files...)
	return r, nil
}

// build makes the report from each, which calls fn for every line of the
// inputs, from the start each time, and returns its Reader. The first pass
// makes the figures and finds the alerts; a second one, when there are
// alerts, collects what their trees need (an alerted process's children,
// siblings, files and sockets can come before or after the alert).
func build(opt Options, each func(fn func(*Doc) error) (*Reader, error)) (*Report, error) {
	opt.defaults()
	b := newBuilder(opt)
	rd, err := each(b.add)
	if err != nil {
		return nil, err
	}
	b.r.Lines, b.r.BadLines, b.r.Bad = rd.Lines, rd.BadCount, rd.Bad
	if b.r.Rules == nil && opt.Rules != nil {
		b.r.Rules, b.r.ConfigSource = opt.Rules, opt.RulesSource
	}
	b.finish()

	tb := newTreeBuilder(b.r.Alerts, opt.MaxTrees)
	if tb.wanted() {
		if _, err := each(func(d *Doc) error {
			if b.inPeriod(d) {
				tb.add(d)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	b.r.TreesOmitted = len(b.r.Alerts) - tb.draw()
	b.r.CIS = evaluateCIS(b.r.Rules, b.r.ConfigSource, b.r.Settings, b.tagCounts, b.cisEvidence)
	return b.r, nil
}

type builder struct {
	opt       Options
	r         *Report
	hosts     map[string]bool
	hours     map[int64]*Hour
	cats      map[string]int
	execs     map[string]int
	users     map[string]int
	novel     map[string]*NovelKey
	pci       map[string]*Section
	secUsers  map[string]map[string]int // per section: events by user
	tagCounts map[string]int
	// cisEvidence counts events that evidence an item without a rule key
	// (a module load seen, say).
	cisEvidence map[string]int

	// Loss counters: heartbeat counters are running totals per host and
	// start (the last value counts); loss events add up.
	beats   map[string]map[string]uint64
	losses  map[string]uint64
	lossSrc map[string]string
	fields  []FieldCoverage
}

func newBuilder(opt Options) *builder {
	b := &builder{
		opt: opt,
		r: &Report{Title: opt.Title, Generated: opt.Now.UTC(), Since: opt.Since, Until: opt.Until,
			Hosts: []string{}, Alerts: []*Alert{}, Timeline: []Hour{}},
		hosts: map[string]bool{}, hours: map[int64]*Hour{}, cats: map[string]int{},
		execs: map[string]int{}, users: map[string]int{}, novel: map[string]*NovelKey{},
		pci: map[string]*Section{}, secUsers: map[string]map[string]int{}, tagCounts: map[string]int{}, cisEvidence: map[string]int{},
		beats: map[string]map[string]uint64{}, losses: map[string]uint64{}, lossSrc: map[string]string{},
	}
	for _, s := range pciSections() {
		b.pci[s.ID] = s
		b.r.PCI = append(b.r.PCI, s)
	}
	for _, f := range pciFields {
		b.fields = append(b.fields, FieldCoverage{Element: f.element, Field: f.field})
	}
	return b
}

func (b *builder) inPeriod(d *Doc) bool {
	if !b.opt.Since.IsZero() && d.Time.Before(b.opt.Since) {
		return false
	}
	if !b.opt.Until.IsZero() && !d.Time.Before(b.opt.Until) {
		return false
	}
	return true
}

func (b *builder) add(d *Doc) error {
	if d.Lineaged != nil && d.Lineaged.Config != nil {
		// The rules in force during the period are those of the last
		// settings event before its end, even one before it starts.
		if b.opt.Until.IsZero() || d.Time.Before(b.opt.Until) {
			c := d.Lineaged.Config
			b.r.Rules = append([]string{}, c.Rules...)
			b.r.Settings = c.Settings
			b.r.ConfigSource = c.Source
			if b.inPeriod(d) {
				b.r.Config = append(b.r.Config, ConfigEvent{Time: d.Time, Host: d.Host.Name, Action: string(d.Event.Action),
					Source: c.Source, Rules: len(c.Rules), ID: d.Event.ID})
			}
		}
	}
	if !b.inPeriod(d) {
		b.r.OutOfPeriod++
		return nil
	}
	if d.Host.Name != "" {
		b.hosts[d.Host.Name] = true
	}
	if b.r.First.IsZero() || d.Time.Before(b.r.First) {
		b.r.First = d.Time
	}
	if d.Time.After(b.r.Last) {
		b.r.Last = d.Time
	}
	hk := d.Time.Unix() / 3600
	h := b.hours[hk]
	if h == nil {
		h = &Hour{Start: time.Unix(hk*3600, 0).UTC()}
		b.hours[hk] = h
	}
	for _, t := range d.Tags {
		b.tagCounts[t]++
	}
	if d.IsAlert() {
		h.Alerts++
		b.alert(d)
		return nil
	}
	h.Events++
	b.r.Events++
	b.cats[string(d.Category())]++
	if d.Event.Action == event.ActionExecuted && d.Process.Executable != "" {
		b.execs[d.Process.Executable]++
	}
	if d.Process.PID != 0 || d.Process.Executable != "" {
		if u := userName(d); u != "" {
			b.users[u]++
		}
	}
	b.loss(d)
	b.classify(d)
	b.coverage(d)
	return nil
}

// userName is "name (uid)" when the record named the account, else the
// uid, with the login uid when it differs ("uid 0, auid 1000").
func userName(d *Doc) string {
	u := d.User.ID
	if u == "" {
		return ""
	}
	s := "uid " + u
	if d.User.Name != "" {
		s = d.User.Name + " (" + u + ")"
	}
	if a := d.User.Audit.ID; a != "" && a != u && a != "unset" {
		s += ", auid " + a
	}
	return s
}

func (b *builder) alert(d *Doc) {
	b.r.AlertsTotal++
	if s := d.Event.Severity; s >= event.SeverityLow && s <= event.SeverityCritical {
		b.r.Severities[s]++
	}
	a := &Alert{ID: d.Event.ID, Time: d.Time, Host: d.Host.Name, Severity: int(d.Event.Severity),
		RiskScore: d.Event.RiskScore, Reason: d.Event.Reason,
		EntityID: d.Process.EntityID, PID: d.Process.PID, Executable: d.Process.Executable,
		Args: d.Process.Args, User: userName(d), Ancestry: d.Process.Ancestry}
	if a.Reason == "" {
		a.Reason = d.Message
	}
	if d.Rule != nil {
		a.RuleID, a.RuleName, a.Ruleset = d.Rule.ID, d.Rule.Name, d.Rule.Ruleset
	}
	if d.Threat != nil {
		a.Techniques = d.Threat.Technique.ID
	}
	if p := d.Process.Parent; p != nil {
		a.parentID = p.EntityID
		if len(a.Ancestry) == 0 {
			a.Ancestry = []Ref{*p}
		}
	}
	a.Object = object(d)
	if l := d.Lineaged; l != nil {
		a.Evidence = l.Evidence
		if al := l.Alert; al != nil {
			a.Key, a.Count, a.Novel = al.Key, al.Count, al.Novel
			for _, k := range al.Novel {
				n := b.novel[k]
				if n == nil {
					n = &NovelKey{Key: k, First: d.Time, Rule: a.RuleID}
					b.novel[k] = n
				}
				n.Count++
			}
		}
	}
	if len(b.r.Alerts) < b.opt.MaxAlerts {
		b.r.Alerts = append(b.r.Alerts, a)
	}
}

// object names what an event is about: its file, or the remote or local
// endpoint.
func object(d *Doc) string {
	if d.File != nil && d.File.Path != "" {
		return d.File.Path
	}
	if ep := d.Destination; ep != nil {
		return endpoint(ep)
	}
	if ep := d.Source; ep != nil {
		return endpoint(ep)
	}
	return ""
}

func endpoint(ep *Endpoint) string {
	a := ep.IP
	if a == "" {
		a = ep.Address
	}
	if ep.Port != 0 {
		if strings.Contains(a, ":") {
			a = "[" + a + "]"
		}
		a += ":" + strconv.Itoa(ep.Port)
	}
	return a
}

// lossActions are lineaged's events that say something was lost or
// stopped working, with the label that carries how much.
var lossActions = map[event.Action]struct{ label, means string }{
	event.ActionAuditRecordsLost:   {"count", "audit records the kernel dropped (backlog full or rate limit)"},
	event.ActionAuditSequenceGap:   {"count", "audit serial numbers never received"},
	event.ActionQueueOverflow:      {"fanotify.overflows", "fanotify queue overflows: file events dropped by the kernel"},
	event.ActionProcOverrun:        {"", "proc connector overruns (ENOBUFS): events lost, graph repaired from /proc"},
	event.ActionOutputLinesDropped: {"count", "event lines not written (disk full or I/O error)"},
	event.ActionAuditTakeover:      {"lost", "audit records lost while a killed lineaged left a gap"},
	event.ActionReloadFailed:       {"", "reloads refused (bad configuration or rules)"},
}

// beatLosses are the heartbeat's running counters that mean loss.
var beatLosses = map[string]string{
	"audit_receive_errors": "audit receive errors (netlink ENOBUFS and the like)",
	"audit_sequence_gaps":  "audit serial numbers never received",
	"proc_overruns":        "proc connector overruns (ENOBUFS)",
	"fanotify_overflows":   "fanotify queue overflows",
}

// replayLosses are the replay summary's counters that mean loss or bad
// input.
var replayLosses = map[string]string{
	"malformed_lines":   "audit log lines that could not be parsed",
	"sequence_gaps":     "audit serial numbers missing from the log",
	"late_records":      "records that arrived after their event was complete",
	"exec_args_missing": "execs whose EXECVE record was missing",
}

func (b *builder) loss(d *Doc) {
	switch d.Event.Action {
	case event.ActionHeartbeat:
		m := b.beats[d.Host.Name]
		if m == nil {
			m = map[string]uint64{}
			b.beats[d.Host.Name] = m
		}
		for k := range beatLosses {
			if v, err := strconv.ParseUint(d.Labels[k], 10, 64); err == nil {
				// A restart starts the counters again: keep the sum of
				// each run's last value.
				if v < m[k+"#cur"] {
					m[k+"#done"] += m[k+"#cur"]
				}
				m[k+"#cur"] = v
			}
		}
		return
	case event.ActionReplaySummary:
		for k := range replayLosses {
			if v, err := strconv.ParseUint(d.Labels[k], 10, 64); err == nil {
				b.losses["replay "+k] += v
				b.lossSrc["replay "+k] = "replay summaries"
			}
		}
		return
	}
	la, ok := lossActions[d.Event.Action]
	if !ok {
		return
	}
	n := uint64(1)
	if la.label != "" {
		if v, err := strconv.ParseUint(d.Labels[la.label], 10, 64); err == nil {
			n = v
		}
	}
	b.losses[string(d.Event.Action)] += n
	b.lossSrc[string(d.Event.Action)] = "events with event.action " + string(d.Event.Action)
}

func (b *builder) finish() {
	r := b.r
	for h := range b.hosts {
		r.Hosts = append(r.Hosts, h)
	}
	sort.Strings(r.Hosts)
	keys := make([]int64, 0, len(b.hours))
	for k := range b.hours {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	if len(keys) > 0 {
		// Every hour of the span, empty ones too, so gaps show.
		for k := keys[0]; k <= keys[len(keys)-1] && len(r.Timeline) < 24*366; k++ {
			if h := b.hours[k]; h != nil {
				r.Timeline = append(r.Timeline, *h)
			} else {
				r.Timeline = append(r.Timeline, Hour{Start: time.Unix(k*3600, 0).UTC()})
			}
		}
	}
	r.Categories = top(b.cats, 0)
	r.TopExecs = top(b.execs, 15)
	r.TopUsers = top(b.users, 15)
	for _, n := range b.novel {
		r.Novel = append(r.Novel, *n)
	}
	sort.Slice(r.Novel, func(i, j int) bool {
		if !r.Novel[i].First.Equal(r.Novel[j].First) {
			return r.Novel[i].First.Before(r.Novel[j].First)
		}
		return r.Novel[i].Key < r.Novel[j].Key
	})

	// Loss counters: every known one is listed, 0 included: a 0 is a
	// finding too.
	beat := map[string]uint64{}
	for _, m := range b.beats {
		for k := range beatLosses {
			beat[k] += m[k+"#done"] + m[k+"#cur"]
		}
	}
	for _, k := range sortedKeys(beatLosses) {
		src := "heartbeats (running totals)"
		if len(b.beats) == 0 {
			src = "no heartbeat in the period"
		}
		r.Loss = append(r.Loss, Counter{Name: k, Value: beat[k], Source: src, Means: beatLosses[k]})
	}
	for _, k := range sortedKeys(lossActions) {
		src := b.lossSrc[string(k)]
		if src == "" {
			src = "no such event"
		}
		r.Loss = append(r.Loss, Counter{Name: string(k), Value: b.losses[string(k)], Source: src, Means: lossActions[k].means})
	}
	for _, k := range sortedKeys(replayLosses) {
		if src := b.lossSrc["replay "+k]; src != "" {
			r.Loss = append(r.Loss, Counter{Name: "replay " + k, Value: b.losses["replay "+k], Source: src, Means: replayLosses[k]})
		}
	}
	r.Loss = append(r.Loss, Counter{Name: "report_bad_lines", Value: uint64(r.BadLines), Source: "this report's reader",
		Means: "input lines that were not lineaged JSON (listed with file:line)"})

	b.finishPCI()
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// top returns the n most frequent names (all when n is 0), ties by name.
func top(m map[string]int, n int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		if k == "" {
			k = "(none)"
		}
		out = append(out, Count{Name: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}
