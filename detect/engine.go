package detect

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lineaged/lineaged/baseline"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/graph"
)

// ExternalRules are rules from outside lineaged (Sigma) judged beside the
// built-ins on every event.
type ExternalRules interface {
	Match(e *event.Event, dst []ExternalMatch) []ExternalMatch
}

// ExternalMatch is one external rule that matched.
type ExternalMatch struct {
	ID, Name, Ruleset string
	Severity          event.Severity // 0 is informational and never alerts
	Techniques        []string
}

// Config configures an Engine.
type Config struct {
	// Baseline is what is normal here; nil runs only the rules that need
	// none. Learning observes into it, so it must not be nil then.
	Baseline *baseline.Baseline
	// Learning: observe what is seen into Baseline and raise no novelty
	// alerts; detections at medium severity or above still alert, and
	// what they name is not learned.
	Learning bool
	// LearnUntilMsec ends learning at that event time (Unix ms); 0 keeps
	// Learning as set.
	LearnUntilMsec int64
	// Rare tells rare from common (default baseline.DefaultRare).
	Rare baseline.RareRule
	// External rules (Sigma), or nil.
	External ExternalRules
	// FoldWindow: one alert per rule and key per window; repeats inside
	// it are counted and reported once when it closes (default 1 h).
	FoldWindow time.Duration
	// RateLimit alerts per rule per RateWindow (defaults 20 per 10 min);
	// the rest are counted and reported in one lineaged.rate-limited
	// alert when the window closes.
	RateLimit  int
	RateWindow time.Duration
	// PackageIdle closes a package-manager run that went quiet without
	// an exit record (default 5 min).
	PackageIdle time.Duration
	// OwnPID is lineaged's pid when live: its own audit changes are not
	// tampering.
	OwnPID int
	// Disabled switches rules off by id.
	Disabled map[string]bool
	// OwnFiles are lineaged's program, configuration, rules and state
	// ("/"-ended: a directory and all below it); nil: DefaultOwnFiles.
	OwnFiles []string
}

// Stats are the engine's counters.
type Stats struct {
	Events      uint64            // events judged
	Alerts      uint64            // alerts emitted (summaries included, repeats not)
	ByRule      map[string]uint64 // alerts per rule id
	Folded      uint64            // sightings folded into an earlier alert
	Repeats     uint64            // alert-repeated events reporting them
	RateLimited uint64            // alerts held back by the rate limit
	Learned     uint64            // keys observed into the baseline (new or known)
	Withheld    uint64            // keys not learned because a detection named their event
	PackageRuns uint64            // package-manager runs summarised
}

// Engine judges enriched events. It is not safe for concurrent use: the
// pipeline that owns the graph calls it.
type Engine struct {
	cfg   Config
	b     *baseline.Baseline
	stats Stats
	now   int64

	j        judgement
	external []ExternalMatch
	found    []*finding

	slot      graph.Slot        // where each process's procState lives, on the graph's node
	folds     map[string]*fold  // by rule id + "\x00" + key
	rates     map[string]*rate  // by rule id
	pm        map[string]*pmRun // by the root package manager's entity id
	novelSeen map[string]uint32
	pending   map[string]*pendingAlert // by rule id + "\x00" + file path
	ownFiles  []string
	nextRoll  int64
	ended     bool // learning ended (LearnUntilMsec passed)
}

// procState is what the rules remember of one process, kept on its graph
// node (Engine.slot): it lives and goes with the node.
type procState struct {
	listenID, listenOn, listenSummary string
	connectID, connectTo              string
	connectSummary, connectExe        string
	connectMsec                       int64
	recent                            [4]evRef
	nrecent                           int
}

// exitGraceMsec: a package-manager run outlives its root's exit by this
// much event time, and an exec this long before an unknown actor's event
// may still name it. Live sources interleave: the proc connector may
// report an exit before audit's batch with what the process did a moment
// earlier.
const exitGraceMsec = 5000

type fold struct {
	first, last int64
	count       int // sightings after the first
	alert       *event.Event
}

type rate struct {
	start      int64
	n          int
	suppressed int
	sample     *event.Event
}

type pmRun struct {
	exe             string
	args            []string
	pid             int
	first, last     int64
	events, learned uint64
	template        *event.Event
	evidence        []event.Evidence // the first events of the run
	exitedMsec      int64            // when the root exited (0: running)
}

const (
	maxFolds      = 10000
	maxNovelSeen  = 100000
	maxEvidence   = 8
	rollEveryMsec = 1000
)

// New returns an engine.
func New(cfg Config) *Engine {
	if cfg.Rare == (baseline.RareRule{}) {
		cfg.Rare = baseline.DefaultRare
	}
	if cfg.FoldWindow <= 0 {
		cfg.FoldWindow = time.Hour
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = 20
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = 10 * time.Minute
	}
	if cfg.PackageIdle <= 0 {
		cfg.PackageIdle = 5 * time.Minute
	}
	if cfg.Learning && cfg.Baseline == nil {
		cfg.Baseline = baseline.New()
	}
	own := cfg.OwnFiles
	if own == nil {
		own = DefaultOwnFiles
	}
	return &Engine{cfg: cfg, b: cfg.Baseline, slot: graph.NewSlot(), folds: map[string]*fold{},
		rates: map[string]*rate{}, pm: map[string]*pmRun{}, novelSeen: map[string]uint32{}, pending: map[string]*pendingAlert{},
		stats: Stats{ByRule: map[string]uint64{}}, ownFiles: own}
}

// Baseline is the baseline the engine learns into and judges against.
func (en *Engine) Baseline() *baseline.Baseline { return en.b }

// Stats returns the counters (ByRule is a copy).
func (en *Engine) Stats() Stats {
	s := en.stats
	s.ByRule = make(map[string]uint64, len(en.stats.ByRule))
	for k, v := range en.stats.ByRule {
		s.ByRule[k] = v
	}
	return s
}

// Learning reports whether the engine is still learning at event time t.
func (en *Engine) Learning(t int64) bool {
	return en.cfg.Learning && (en.cfg.LearnUntilMsec == 0 || t < en.cfg.LearnUntilMsec)
}

// LearningEnded reports whether a learning window set by LearnUntilMsec
// has passed (by event time).
func (en *Engine) LearningEnded() bool { return en.ended }

// common: key is known and not rare. An empty key, or no baseline, is
// not common.
func (en *Engine) common(key string) bool {
	return key != "" && en.b != nil && en.b.Status(key, en.cfg.Rare) == baseline.Common
}

// known: key is in the baseline, however rarely seen.
func (en *Engine) known(key string) bool {
	return key != "" && en.b != nil && en.b.Status(key, en.cfg.Rare) != baseline.Novel
}

// state is what is remembered of p, nil if nothing (or p is no process).
func (en *Engine) state(p graph.Proc) *procState {
	st, _ := p.Get(en.slot).(*procState)
	return st
}

// ancestorState is what is remembered of e's ancestor r, reached as a from
// e's process by Parent steps: the graph's node of r when a is it (the
// chain Enrich put into e is the node's, unless it changed since).
func (en *Engine) ancestorState(a graph.Proc, r *event.ProcRef) *procState {
	if r.Unknown || a.EntityID() != r.EntityID {
		return nil
	}
	return en.state(a)
}

// Observe judges e, which must already carry its event.id (alerts point at
// it), and passes any alerts to emit. Alerts are new events: emit assigns
// their ids and writes them. Events of kind alert and lineaged's own
// events are not judged.
//
// p is e's process as graph.Enrich returned it (the zero Proc when e has
// none): the engine keeps its memory of the process on that node, and
// finds its ancestors' through p.Parent. Like Enrich, Observe runs in the
// pipeline's goroutine. e's Ancestry is the graph's read-only chain and
// may be kept by reference (a pending alert's copy does).
func (en *Engine) Observe(e *event.Event, p graph.Proc, emit func(*event.Event)) {
	if e == nil || e.Kind != event.KindEvent || e.Module == event.ModuleLineaged || e.Alert != nil {
		return
	}
	en.stats.Events++
	if e.TimeMsec > en.now {
		en.now = e.TimeMsec
	}
	if en.now >= en.nextRoll {
		en.nextRoll = en.now + rollEveryMsec
		en.roll(en.now, emit)
	}
	c := &en.j
	root, rootRef := en.fill(c, e, p)
	learning := c.learning
	if en.cfg.Learning && !learning {
		en.ended = true
	}

	en.found = en.found[:0]
	for _, r := range Builtins {
		if en.cfg.Disabled[r.ID] || (r.NeedsBaseline && (learning || en.b == nil)) {
			continue
		}
		if f := r.judge(en, c); f != nil {
			f.rule = r
			en.found = append(en.found, f)
		}
	}
	c.ruleKeys = c.ruleKeys[:0]
	if en.cfg.External != nil {
		en.external = en.cfg.External.Match(e, en.external[:0])
		for i := range en.external {
			m := &en.external[i]
			if m.Severity <= event.SeverityInfo || en.cfg.Disabled[m.ID] {
				continue
			}
			key := baseline.RuleMatchKey(m.ID, e.Process.Executable)
			if m.Severity < event.SeverityMedium {
				c.ruleKeys = append(c.ruleKeys, key) // learnable
			}
			if en.b != nil && !learning {
				// Baseline as context: a match the operator approved,
				// or a low/medium one this host showed while learning
				// or on behaviour whose every key is known, is this
				// host's normal whatever a generic rule thinks of it.
				if ent, ok := en.b.Lookup(key); ok && (ent.Approved || m.Severity <= event.SeverityMedium) {
					continue
				}
				if m.Severity <= event.SeverityMedium && len(c.keys) > 0 && !c.anyNovel() {
					continue
				}
			}
			r := &Rule{ID: m.ID, Name: m.Name, Ruleset: m.Ruleset, Techniques: m.Techniques, Severity: m.Severity}
			en.found = append(en.found, &finding{rule: r, key: key,
				reason: fmt.Sprintf("%s matched the %s rule %q", describe(e), m.Ruleset, m.Name)})
		}
	}
	named := event.SeverityInfo
	for _, f := range en.found {
		named = max(named, f.sev())
	}

	switch {
	case learning:
		for _, f := range en.found {
			if f.sev() >= event.SeverityMedium {
				en.raise(f, c, emit)
			}
		}
		if named >= event.SeverityMedium {
			en.stats.Withheld += uint64(len(c.keys))
		} else {
			en.learn(c.keys, e)
			en.learn(c.ruleKeys, e)
		}
		if root != "" {
			en.packageEvent(root, rootRef, e, 0)
		}
	case root != "" && named < event.SeverityMedium:
		// Patch day: learned and summarised, not alerted.
		n := len(c.novel)
		en.learn(c.keys, e)
		en.packageEvent(root, rootRef, e, n)
	default:
		for _, f := range en.found {
			en.raise(f, c, emit)
		}
		if len(en.found) == 0 && en.b != nil {
			en.novelty(c, emit)
		}
		if en.b != nil {
			// Known entries stay fresh (expiry); novel ones wait for
			// an operator's approve.
			t := time.UnixMilli(e.TimeMsec).UTC()
			for _, k := range c.keys {
				if en.b.Status(k, en.cfg.Rare) != baseline.Novel {
					en.b.ObserveKey(k, t)
				}
			}
		}
	}
	en.track(e, p)
	if root != "" && e.Action == event.ActionExited && e.Process.EntityID == root {
		// Closed exitGraceMsec later: its children's records may still
		// be on their way from another source.
		if r := en.pm[root]; r != nil && r.exitedMsec == 0 {
			r.exitedMsec = max(e.TimeMsec, 1)
		}
	}
}

// anyNovel: a key new to the baseline, an exec-edge with an unknown
// ancestor aside (see unknownChain).
func (c *judgement) anyNovel() bool {
	for _, k := range c.novel {
		if !unknownChain(k) {
			return true
		}
	}
	return false
}

func (f *finding) sev() event.Severity {
	if f.severity > event.SeverityInfo {
		return f.severity
	}
	return f.rule.Severity
}

func (en *Engine) learn(keys []string, e *event.Event) {
	if en.b == nil || len(keys) == 0 {
		return
	}
	t := time.UnixMilli(e.TimeMsec).UTC()
	for _, k := range keys {
		en.b.ObserveKey(k, t)
	}
	en.b.AddHost(e.Host)
	en.stats.Learned += uint64(len(keys))
}

// noveltyKinds are the kinds a novelty alert is raised for. File access
// is left to the rules that name sensitive paths: which files a program
// touches varies too much with its input to alert on each new one.
func noveltyKind(k string) bool {
	return strings.HasPrefix(k, "exec-edge|") || strings.HasPrefix(k, "user-exe|") ||
		strings.HasPrefix(k, "uid-transition|") || strings.HasPrefix(k, "connect|")
}

// unknownChain: an exec-edge whose chain has an ancestor the source never
// showed ("?": a replay that starts mid-log, a parent older than the
// agent). Its novelty says more about the log than the host; the
// program's user-exe key still judges whether the program is new.
func unknownChain(k string) bool {
	if !strings.HasPrefix(k, "exec-edge|") {
		return false
	}
	chain := k[len("exec-edge|"):]
	if i := strings.IndexByte(chain, '|'); i >= 0 {
		chain = chain[:i]
	}
	for _, seg := range strings.Split(chain, ">") {
		if seg == baseline.Unknown {
			return true
		}
	}
	return false
}

func (en *Engine) novelty(c *judgement, emit func(*event.Event)) {
	var keys []string
	for _, k := range c.novel {
		if !noveltyKind(k) || unknownChain(k) {
			continue
		}
		n := en.novelSeen[k]
		if n == 0 && len(en.novelSeen) >= maxNovelSeen {
			clear(en.novelSeen)
		}
		if n < ^uint32(0) {
			en.novelSeen[k] = n + 1
		}
		// New and rare: it has not become frequent since detection
		// began (a frequent one was alerted at its first sighting).
		if uint64(n) < en.cfg.Rare.MinCount {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	f := &finding{rule: RuleNovel, key: keys[0],
		reason: fmt.Sprintf("%s did something this host's baseline has never seen", describe(c.e))}
	en.raise(f, c, emit)
}

// pendingAlert is an alert whose actor the graph did not know yet.
type pendingAlert struct {
	f    *finding
	ev   *event.Event // a copy of the event that raised it
	p    graph.Proc   // its process
	time int64
}

// unknownActorWait is how long an alert whose process the graph did not
// know yet (no executable) waits. Live, fanotify reports a write, and the
// proc connector a ptrace, as it happens, while audit's or the
// connector's exec of the process may come a batch later. If the same
// alert arrives with the process known, it replaces the waiting one;
// otherwise, when the wait is over, the rule judges the event again with
// what the exec taught since, so the alert names the program.
const unknownActorWait = 2000

func pendingKey(ruleID string, e *event.Event) string {
	k := ruleID + "\x00" + e.Process.EntityID
	if e.Process.EntityID == "" {
		k += strconv.Itoa(e.Process.PID)
	}
	if e.File != nil {
		k += "\x00" + e.File.Path
	}
	return k
}

// judgeOf builds the judgement of a (copied) event outside Observe: its
// ancestry is chain's, and what is remembered of the process is own's
// (two nodes when the sources named one process twice).
func (en *Engine) judgeOf(e *event.Event, chain, own graph.Proc) *judgement {
	c := &judgement{}
	en.fill(c, e, chain)
	c.st = en.state(own)
	return c
}

// fill prepares c to judge e of process p (reusing its slices): e's
// baseline keys, the novel ones, learning, what is remembered of p, and
// the package manager above e, which it returns.
func (en *Engine) fill(c *judgement, e *event.Event, p graph.Proc) (root string, rootRef event.ProcRef) {
	c.e = e
	c.p = p
	c.st = en.state(p)
	c.keys = baseline.AppendEventKeys(c.keys[:0], e)
	c.novel = c.novel[:0]
	if en.b != nil {
		for _, k := range c.keys {
			if en.b.Status(k, en.cfg.Rare) == baseline.Novel {
				c.novel = append(c.novel, k)
			}
		}
	}
	c.learning = en.Learning(e.TimeMsec)
	root, rootRef = en.packageRoot(e)
	c.packageManager = root != ""
	return root, rootRef
}

// raise folds, rate-limits and emits one alert.
func (en *Engine) raise(f *finding, c *judgement, emit func(*event.Event)) {
	e := c.e
	if e.Process.PID > 0 {
		pk := pendingKey(f.rule.ID, e)
		if e.Process.Executable == "" {
			if _, ok := en.pending[pk]; !ok && len(en.pending) < maxFolds {
				en.pending[pk] = &pendingAlert{f: f, ev: e.Clone(), p: c.p, time: e.TimeMsec}
			}
			return
		}
		delete(en.pending, pk) // the same alert, its actor known
	}
	en.raiseBuilt(f, e.TimeMsec, func() *event.Event { return en.build(f, c) }, emit)
}

// raiseBuilt is raise once the alert can be built: fold, rate limit, emit.
func (en *Engine) raiseBuilt(f *finding, t int64, build func() *event.Event, emit func(*event.Event)) {
	fk := f.rule.ID + "\x00" + f.key
	window := en.cfg.FoldWindow.Milliseconds()
	if fd, ok := en.folds[fk]; ok {
		if t-fd.first < window {
			fd.count++
			fd.last = max(fd.last, t)
			en.stats.Folded++
			return
		}
		en.closeFold(fk, fd, emit)
	}
	rs := en.rates[f.rule.ID]
	if rs == nil {
		rs = &rate{start: t}
		en.rates[f.rule.ID] = rs
	}
	if t-rs.start >= en.cfg.RateWindow.Milliseconds() {
		en.closeRate(f.rule.ID, rs, emit)
		rs.start = t
	}
	a := build()
	if rs.n >= en.cfg.RateLimit {
		rs.suppressed++
		if rs.sample == nil {
			rs.sample = a
		}
		en.stats.RateLimited++
		return
	}
	rs.n++
	if len(en.folds) >= maxFolds {
		en.closeOldestFolds(emit)
	}
	en.emit(a, emit)
	// Cloned after emit, which gave it its id: a repeat points at it.
	en.folds[fk] = &fold{first: t, last: t, alert: a.Clone()}
}

func (en *Engine) emit(a *event.Event, emit func(*event.Event)) {
	en.stats.Alerts++
	en.stats.ByRule[a.Alert.RuleID]++
	emit(a)
}

// build makes the alert event for f: the event's process, ancestry, user
// and object, with the rule's verdict and the evidence.
func (en *Engine) build(f *finding, c *judgement) *event.Event {
	e := c.e
	a := e.Clone()
	a.ID = ""
	a.Kind = event.KindAlert
	a.Config = nil
	techs := f.techniques
	if techs == nil {
		techs = f.rule.Techniques
	}
	sev := f.sev()
	ruleset := f.rule.Ruleset
	if ruleset == "" {
		ruleset = "lineaged"
	}
	reason := f.reason + en.baselineClause(c)
	a.Message = reason
	al := &event.Alert{RuleID: f.rule.ID, RuleName: f.rule.Name, Ruleset: ruleset, Techniques: techs,
		Severity: sev, RiskScore: riskScore(sev), Reason: reason, Key: f.key, Count: 1}
	if len(c.novel) > 0 {
		al.Novel = append([]string(nil), c.novel...)
	}
	al.Evidence = append(al.Evidence, event.Evidence{ID: e.ID, Summary: summarize(e)})
	for _, ev := range f.evidence {
		if len(al.Evidence) < maxEvidence && ev.ID != "" && !hasEvidence(al.Evidence, ev.ID) {
			al.Evidence = append(al.Evidence, ev)
		}
	}
	if st := c.st; st != nil {
		// The process's recent events, newest first.
		for j := 1; j <= min(st.nrecent, len(st.recent)) && len(al.Evidence) < maxEvidence; j++ {
			if r := &st.recent[(st.nrecent-j)%len(st.recent)]; !hasEvidence(al.Evidence, r.id) {
				al.Evidence = append(al.Evidence, event.Evidence{ID: r.id, Summary: r.summary()})
			}
		}
	}
	a.Alert = al
	return a
}

func hasEvidence(list []event.Evidence, id string) bool {
	for _, ev := range list {
		if ev.ID == id {
			return true
		}
	}
	return false
}

// baselineClause says what was new against the baseline.
func (en *Engine) baselineClause(c *judgement) string {
	switch {
	case en.b == nil:
		return " (no baseline loaded)."
	case c.learning:
		return "; seen while learning, so not learned."
	case len(c.novel) == 0:
		return "; everything else about it is known to this host's baseline."
	}
	return "; new against the baseline: " + strings.Join(c.novel, ", ") + "."
}

func riskScore(sev event.Severity) int {
	switch sev {
	case event.SeverityLow:
		return 21
	case event.SeverityMedium:
		return 47
	case event.SeverityHigh:
		return 73
	case event.SeverityCritical:
		return 99
	}
	return 0
}

// summarize describes an evidence event in a few words.
func summarize(e *event.Event) string {
	r := refOf(e)
	return r.summary()
}

// evRef is what an evidence summary needs of an event, kept cheaply for
// every event of a process (the normaliser's strings are immutable, so
// only an exec's arguments and an address are built; the sentence is
// written when an alert needs it).
type evRef struct {
	id, object, exe, comm string
	action                event.Action
	pid                   int
}

func refOf(e *event.Event) evRef {
	r := evRef{id: e.ID, action: e.Action, exe: e.Process.Executable, comm: e.Process.Name, pid: e.Process.PID}
	switch {
	case e.Action == event.ActionExecuted && len(e.Process.Args) > 0:
		args := strings.Join(e.Process.Args, " ")
		if len(args) > 160 {
			args = args[:160] + "…"
		}
		r.object = args
	case e.File != nil && e.File.Path != "":
		r.object = e.File.Path
	case e.Dest != nil:
		r.object = endpoint(e.Dest)
	case e.Source != nil:
		r.object = endpoint(e.Source)
	}
	return r
}

func (r *evRef) summary() string {
	who := r.exe
	if who == "" {
		who = r.comm
	}
	if who == "" {
		who = "an unknown program"
	}
	s := string(r.action)
	if r.object != "" {
		s += " " + r.object
	}
	return s + " by " + who + " (pid " + strconv.Itoa(r.pid) + ")"
}

// track updates what the rules remember about p: whether it listens,
// whether it connected out, and its recent events for evidence.
func (en *Engine) track(e *event.Event, p graph.Proc) {
	if !p.Valid() || e.Action == event.ActionExited {
		return
	}
	st := en.state(p)
	if st == nil {
		st = &procState{}
		p.Set(en.slot, st)
	}
	switch e.Action {
	case event.ActionBoundSocket, event.ActionSocketListening, event.ActionListenForConnections:
		if inet(e) && e.Source != nil && e.Source.Port > 0 && (e.Network.Transport != "udp") {
			st.listenID, st.listenOn, st.listenSummary = e.ID, endpoint(e.Source), summarize(e)
		}
	}
	if isConnectOut(e) {
		st.connectID, st.connectTo, st.connectSummary = e.ID, endpoint(e.Dest), summarize(e)
		st.connectExe, st.connectMsec = e.Process.Executable, e.TimeMsec
	}
	if e.ID != "" {
		st.recent[st.nrecent%len(st.recent)] = refOf(e)
		st.nrecent++
	}
}

// packageRoot finds the outermost package manager in e's lineage (e's
// own process included): its entity id and what is known of it.
func (en *Engine) packageRoot(e *event.Event) (string, event.ProcRef) {
	root, ref := "", event.ProcRef{}
	for i := len(e.Ancestry) - 1; i >= 0; i-- {
		a := &e.Ancestry[i]
		if !a.Unknown && isPackageManager(a.Executable) {
			return a.EntityID, *a
		}
	}
	if isPackageManager(e.Process.Executable) {
		root = e.Process.EntityID
		ref = event.ProcRef{EntityID: root, PID: e.Process.PID, Executable: e.Process.Executable, Args: e.Process.Args, UserID: e.User.ID}
	}
	return root, ref
}

func (en *Engine) packageEvent(root string, ref event.ProcRef, e *event.Event, learned int) {
	r := en.pm[root]
	if r == nil {
		r = &pmRun{exe: ref.Executable, args: ref.Args, pid: ref.PID, first: e.TimeMsec, template: e.Clone()}
		t := r.template
		// The summary is about the package manager: its process, and
		// the ancestry above it.
		if t.Process.EntityID != root {
			for i := range t.Ancestry {
				if t.Ancestry[i].EntityID == root {
					t.Ancestry = t.Ancestry[i+1:]
					break
				}
			}
			if len(t.Ancestry) > 0 {
				p := t.Ancestry[0]
				t.Parent = &p
			} else {
				t.Parent = nil
			}
			t.Process = event.Process{EntityID: root, PID: ref.PID, Executable: ref.Executable, Args: ref.Args}
			t.User = event.User{ID: ref.UserID}
			t.File, t.Source, t.Dest, t.Network = nil, nil, nil, nil
		}
		en.pm[root] = r
	}
	r.last = max(r.last, e.TimeMsec)
	r.events++
	if len(r.evidence) < maxEvidence && e.ID != "" {
		r.evidence = append(r.evidence, event.Evidence{ID: e.ID, Summary: summarize(e)})
	}
	r.learned += uint64(learned)
	if r.exe == "" && e.Process.EntityID == root {
		r.exe, r.args = e.Process.Executable, e.Process.Args
	}
}

func (en *Engine) closePackageRun(root string, emit func(*event.Event)) {
	r := en.pm[root]
	if r == nil {
		return
	}
	delete(en.pm, root)
	en.stats.PackageRuns++
	a := r.template
	a.ID, a.Kind, a.Config = "", event.KindAlert, nil
	a.TimeMsec = r.last
	cmd := strings.Join(r.args, " ")
	if cmd == "" {
		cmd = r.exe
	}
	reason := fmt.Sprintf("package manager run %q (pid %d): %d events below it over %s, %d new baseline entries learned; no detection named any of them",
		cmd, r.pid, r.events, time.Duration(r.last-r.first)*time.Millisecond, r.learned)
	a.Message = reason
	a.Action = event.ActionPackageManagerRun
	a.Alert = &event.Alert{RuleID: RulePackageManager.ID, RuleName: RulePackageManager.Name, Ruleset: "lineaged",
		Severity: RulePackageManager.Severity, RiskScore: riskScore(RulePackageManager.Severity), Reason: reason,
		Key: "package-manager|" + baseline.Exe(r.exe), Count: int(min(r.events, 1<<31-1)), Evidence: r.evidence}
	en.emit(a, emit)
}

// Tick closes folds, rate windows and quiet package-manager runs as of
// nowMsec (live: the wall clock, once a second or so).
func (en *Engine) Tick(nowMsec int64, emit func(*event.Event)) {
	if nowMsec > en.now {
		en.now = nowMsec
	}
	en.roll(en.now, emit)
	if en.cfg.Learning && !en.Learning(en.now) {
		en.ended = true
	}
}

func (en *Engine) roll(now int64, emit func(*event.Event)) {
	en.releasePending(now, false, emit)
	window := en.cfg.FoldWindow.Milliseconds()
	for _, k := range dueKeys(en.folds, func(fd *fold) bool { return now-fd.first >= window }) {
		en.closeFold(k, en.folds[k], emit)
	}
	rw := en.cfg.RateWindow.Milliseconds()
	for _, id := range dueKeys(en.rates, func(rs *rate) bool { return now-rs.start >= rw }) {
		en.closeRate(id, en.rates[id], emit)
		delete(en.rates, id)
	}
	idle := en.cfg.PackageIdle.Milliseconds()
	for _, root := range dueKeys(en.pm, func(r *pmRun) bool {
		return now-r.last >= idle || (r.exitedMsec > 0 && now-r.exitedMsec >= exitGraceMsec)
	}) {
		en.closePackageRun(root, emit)
	}
}

// dueKeys lists, sorted (output order must not depend on map order), the
// keys of m whose value is due.
func dueKeys[V any](m map[string]V, due func(V) bool) []string {
	var ks []string
	for k, v := range m {
		if due(v) {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// releasePending raises the alerts whose actor was unknown once their
// wait is over (all of them at the end), judged again with what the
// process's exec taught the graph since.
func (en *Engine) releasePending(now int64, all bool, emit func(*event.Event)) {
	if len(en.pending) == 0 {
		return
	}
	for _, k := range sortedKeys(en.pending) {
		p := en.pending[k]
		if !all && now-p.time < unknownActorWait {
			continue
		}
		delete(en.pending, k)
		ev, f := p.ev, p.f
		chain := p.p // the node whose ancestry the alert shows
		if x, xe, ok := actorExec(p); ok {
			chain = x
			ev.Process.Executable, ev.Process.Args = xe.Executable, xe.Args
			if anc := x.Ancestry(); len(anc) > 0 {
				ev.Ancestry = anc
				a := anc[0]
				ev.Parent = &a
			}
			if f.rule.judge != nil {
				if f = f.rule.judge(en, en.judgeOf(ev, chain, p.p)); f == nil {
					continue // known now, it is not suspicious (its own, a package manager)
				}
				f.rule = p.f.rule
			}
		}
		c := en.judgeOf(ev, chain, p.p)
		en.raiseBuilt(f, p.time, func() *event.Event { return en.build(f, c) }, emit)
	}
}

// actorExec finds the exec that names the pending alert's actor: its own
// node's, once an exec reached the graph, else (the sources named the
// instance differently) the exec of the current instance of its pid in
// the same graph, if it came around that time. It returns the node and
// the exec.
func actorExec(p *pendingAlert) (graph.Proc, graph.Exec, bool) {
	if xe, ok := p.p.LastExec(); ok && xe.Executable != "" {
		return p.p, xe, true
	}
	g := p.p.Graph()
	if g == nil {
		return graph.Proc{}, graph.Exec{}, false
	}
	x := g.Find(p.ev.Process.PID)
	if xe, ok := x.LastExec(); ok && xe.Executable != "" &&
		xe.TimeMsec-p.time < unknownActorWait && p.time-xe.TimeMsec < exitGraceMsec {
		return x, xe, true
	}
	return graph.Proc{}, graph.Exec{}, false
}

// closeFold reports the repeats a fold held, if any, and forgets it. The
// report is an event (kind event, action alert-repeated) carrying the
// rule, the key and the count, whose first evidence is the alert it
// repeats: one alert per key per window, however often it fired.
func (en *Engine) closeFold(k string, fd *fold, emit func(*event.Event)) {
	delete(en.folds, k)
	if fd.count == 0 {
		return
	}
	a := fd.alert
	first := a.ID
	a.ID = ""
	a.Kind = event.KindEvent
	a.Action = event.ActionAlertRepeated
	a.TimeMsec = fd.last
	a.Alert.Count = fd.count
	a.Alert.Evidence = []event.Evidence{{ID: first, Summary: "the alert repeated"}}
	a.Alert.Reason = fmt.Sprintf("repeated %d more times in %s after alert %s: %s", fd.count,
		time.Duration(fd.last-fd.first)*time.Millisecond, first, a.Alert.Reason)
	a.Message = a.Alert.Reason
	en.stats.Repeats++
	emit(a)
}

func (en *Engine) closeOldestFolds(emit func(*event.Event)) {
	type kv struct {
		k string
		t int64
	}
	all := make([]kv, 0, len(en.folds))
	for k, fd := range en.folds {
		all = append(all, kv{k, fd.first})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].t < all[j].t })
	for _, x := range all[:len(all)/2] {
		en.closeFold(x.k, en.folds[x.k], emit)
	}
}

func (en *Engine) closeRate(id string, rs *rate, emit func(*event.Event)) {
	if rs.suppressed > 0 && rs.sample != nil {
		a := rs.sample
		a.ID = ""
		a.Alert = &event.Alert{RuleID: RuleSuppressed.ID, RuleName: RuleSuppressed.Name, Ruleset: "lineaged",
			Severity: max(RuleSuppressed.Severity, a.Alert.Severity), Key: "rate-limited|" + id, Count: rs.suppressed,
			Evidence: a.Alert.Evidence[:min(1, len(a.Alert.Evidence))]}
		a.Alert.RiskScore = riskScore(a.Alert.Severity)
		a.Alert.Reason = fmt.Sprintf("rule %s fired %s more times than its limit of %d per %s allows; the first held back is attached",
			id, strconv.Itoa(rs.suppressed), en.cfg.RateLimit, en.cfg.RateWindow)
		a.Message = a.Alert.Reason
		en.emit(a, emit)
	}
	rs.n, rs.suppressed, rs.sample = 0, 0, nil
}

// Flush closes everything still open (end of a replay, shutdown).
func (en *Engine) Flush(emit func(*event.Event)) {
	en.releasePending(0, true, emit)
	for _, k := range sortedKeys(en.folds) {
		en.closeFold(k, en.folds[k], emit)
	}
	for _, id := range sortedKeys(en.rates) {
		en.closeRate(id, en.rates[id], emit)
	}
	clear(en.rates)
	for _, r := range sortedKeys(en.pm) {
		en.closePackageRun(r, emit)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
