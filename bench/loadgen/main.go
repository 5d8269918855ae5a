// Command loadgen is the load generator of the live benchmark
// (bench/live.sh): it spawns /bin/true at a set rate and, optionally,
// follows a tool's output file to time each exec from fork to line.
//
// Each child runs as
//
//	/bin/true MARKER-SEQ-UNIXNS
//
// where SEQ counts from 1 and UNIXNS is the wall clock in nanoseconds taken
// just before the fork, so a reader can find every exec in a tool's output
// and compute its latency. Children are spawned from a ticker (no busy
// loop): at each tick loadgen starts as many as are due by then, so the
// achieved rate holds even when a tick comes late. A reaper goroutine waits
// for every child.
//
// Usage:
//
//	loadgen [-rate N] [-duration D] [-marker M] [-tail FILE [-grace D] [-poll D] [-lat FILE]]
//	loadgen -count FILE -marker M
//
// With -tail, a reader follows FILE from its start while the load runs and
// records when it first saw each marked exec; after the load it waits up to
// -grace for the missing ones. -count reads FILE once and counts the marked
// execs in it (no timing). FILE is lineaged's JSON lines (a line counts if
// event.action is "executed" and process.args holds a marker argument),
// go-audit's JSON lines (a line whose EXECVE message, type 1309, holds a
// marker argument) or a RAW audit log (a type=EXECVE line holding a marker
// argument). Each exec is counted once (unique SEQ). For JSON lines the
// bytes of the marked lines are summed too (bytes.ACTION for lineaged,
// bytes.go-audit), newline included.
//
// Results go to stdout as "key value" lines (started, elapsed_s, rate,
// seen, p50_ms, ...), progress and errors to stderr.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	rate := flag.Float64("rate", 1000, "execs per second")
	duration := flag.Duration("duration", 10*time.Second, "how long to generate load")
	marker := flag.String("marker", "", "marker prefix of each child's argument (default lgbench-PID)")
	tick := flag.Duration("tick", 0, "pacing ticker period (default 1/rate, clamped to 1ms..100ms)")
	tail := flag.String("tail", "", "follow `FILE` during the load and time each marked exec")
	grace := flag.Duration("grace", 5*time.Second, "with -tail: how long to wait for missing execs after the load")
	poll := flag.Duration("poll", 2*time.Millisecond, "with -tail: how often to look for new data at end of file")
	latOut := flag.String("lat", "", "with -tail: write \"seq sent_ns seen_ns latency_ms\" per exec to `FILE`")
	count := flag.String("count", "", "count the marked execs in `FILE` and exit (no load)")
	flag.Parse()
	if flag.NArg() > 0 {
		fail("unexpected arguments: %v", flag.Args())
	}
	if *marker == "" {
		*marker = "lgbench-" + strconv.Itoa(os.Getpid())
	}
	if strings.ContainsAny(*marker, " \t\n\"'\\") {
		fail("-marker must not hold spaces, quotes or backslashes")
	}

	if *count != "" {
		m := newMatcher(*marker)
		f, err := os.Open(*count)
		if err != nil {
			fail("%v", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			m.line(sc.Bytes(), 0)
		}
		if err := sc.Err(); err != nil {
			fail("reading %s: %v", *count, err)
		}
		m.report(os.Stdout, false)
		return
	}

	if !(*rate > 0) || *duration <= 0 {
		fail("-rate and -duration must be positive")
	}
	total := int(math.Round(*rate * duration.Seconds()))
	if *tick <= 0 {
		*tick = time.Duration(float64(time.Second) / *rate)
		*tick = max(*tick, time.Millisecond)
		*tick = min(*tick, 100*time.Millisecond)
	}

	var rd *reader
	if *tail != "" {
		var err error
		if rd, err = openReader(*tail, newMatcher(*marker), *poll); err != nil {
			fail("%v", err)
		}
		go rd.run()
	}

	g := generate(*marker, *rate, total, *tick)
	w := os.Stdout
	fmt.Fprintf(w, "started %d\n", g.started)
	fmt.Fprintf(w, "spawn_errors %d\n", g.errors)
	fmt.Fprintf(w, "elapsed_s %.3f\n", g.elapsed.Seconds())
	fmt.Fprintf(w, "rate %.1f\n", float64(g.started)/g.elapsed.Seconds())
	fmt.Fprintf(w, "behind_max %d\n", g.behindMax)
	fmt.Fprintf(os.Stderr, "loadgen: started %d execs in %.3f s (%.1f/s, target %.0f/s), %d spawn errors, at most %d behind schedule\n",
		g.started, g.elapsed.Seconds(), float64(g.started)/g.elapsed.Seconds(), *rate, g.errors, g.behindMax)
	if g.firstErr != nil {
		fmt.Fprintf(os.Stderr, "loadgen: first spawn error: %v\n", g.firstErr)
	}
	if rd == nil {
		return
	}

	// Wait for the stragglers.
	t0 := time.Now()
	deadline := t0.Add(*grace)
	for rd.seenCount() < g.started && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	rd.stop()
	fmt.Fprintf(w, "waited_s %.3f\n", time.Since(t0).Seconds())
	rd.m.report(w, true)
	if rd.err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: reading %s: %v\n", *tail, rd.err)
	}
	if *latOut != "" {
		if err := rd.m.writeLatencies(*latOut); err != nil {
			fail("%v", err)
		}
	}
	seen := rd.seenCount()
	fmt.Fprintf(os.Stderr, "loadgen: %d of %d execs seen in %s\n", seen, g.started, *tail)
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", a...)
	os.Exit(2)
}

// ---------------------------------------------------------------- load

type genResult struct {
	started, errors, behindMax int
	elapsed                    time.Duration
	firstErr                   error
}

// generate spawns total children at rate per second, paced by a ticker,
// and returns once all are started and reaped.
func generate(marker string, rate float64, total int, tick time.Duration) genResult {
	devnull, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	if err != nil {
		fail("%v", err)
	}
	fd := devnull.Fd()
	attr := &syscall.ProcAttr{Env: []string{}, Files: []uintptr{fd, fd, fd}}

	// Reaper: one token per started child; wait4(-1) for each.
	tokens := make(chan struct{}, 1<<20) // zero-size elements: no memory
	reaped := make(chan struct{})
	go func() {
		var ws syscall.WaitStatus
		for range tokens {
			for {
				_, err := syscall.Wait4(-1, &ws, 0, nil)
				if err != syscall.EINTR {
					break
				}
			}
		}
		close(reaped)
	}()

	var r genResult
	prefix := marker + "-"
	start := time.Now()
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for r.started+r.errors < total {
		due := int(time.Since(start).Seconds()*rate) + 1 // the first one at t=0
		due = min(due, total)
		r.behindMax = max(r.behindMax, due-r.started-r.errors)
		for r.started+r.errors < due {
			seq := r.started + r.errors + 1
			arg := prefix + strconv.Itoa(seq) + "-" + strconv.FormatInt(time.Now().UnixNano(), 10)
			if _, err := syscall.ForkExec("/bin/true", []string{"/bin/true", arg}, attr); err != nil {
				if r.firstErr == nil {
					r.firstErr = err
				}
				r.errors++
				continue
			}
			r.started++
			tokens <- struct{}{}
		}
		if r.started+r.errors < total {
			<-tk.C
		}
	}
	r.elapsed = time.Since(start)
	close(tokens)
	<-reaped
	devnull.Close()
	return r
}

// ---------------------------------------------------------------- matching

// matcher finds marked execs in output lines and keeps, per SEQ, the send
// time (from the argument) and when it was first seen.
type matcher struct {
	needle  []byte // MARKER-
	sent    map[int]int64
	seenAt  map[int]int64
	actions map[string]int // marked JSON lines by event.action
	sources map[string]int // executed events by labels.sources / event.module
	bytes   map[string]int // bytes of marked JSON lines (newline included) by event.action, or "go-audit"
	lines   int
}

func newMatcher(marker string) *matcher {
	return &matcher{needle: []byte(marker + "-"), sent: map[int]int64{}, seenAt: map[int]int64{},
		actions: map[string]int{}, sources: map[string]int{}, bytes: map[string]int{}}
}

// token parses "SEQ-UNIXNS" (what follows the marker) at the start of b.
func token(b []byte) (seq int, ns int64, ok bool) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == 0 || i >= len(b) || b[i] != '-' {
		return 0, 0, false
	}
	s, err := strconv.Atoi(string(b[:i]))
	if err != nil {
		return 0, 0, false
	}
	j := i + 1
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j == i+1 {
		return 0, 0, false
	}
	n, err := strconv.ParseInt(string(b[i+1:j]), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return s, n, true
}

func (m *matcher) record(seq int, ns, now int64) {
	m.lines++
	if _, dup := m.seenAt[seq]; dup {
		return
	}
	m.sent[seq] = ns
	m.seenAt[seq] = now
}

// line looks at one output line seen at wall time now (ns).
func (m *matcher) line(l []byte, now int64) {
	if !bytes.Contains(l, m.needle) {
		return
	}
	if len(l) > 0 && l[0] == '{' {
		var e struct {
			Event struct {
				Action string `json:"action"`
				Module string `json:"module"`
			} `json:"event"`
			Process struct {
				Args []string `json:"args"`
			} `json:"process"`
			Labels map[string]any `json:"labels"`
			// go-audit: the event's records as they came, type and text
			Messages []struct {
				Type int    `json:"type"`
				Data string `json:"data"`
			} `json:"messages"`
		}
		if json.Unmarshal(l, &e) != nil {
			return
		}
		for _, r := range e.Messages {
			if r.Type != 1309 { // EXECVE
				continue
			}
			if seq, ns, ok := m.find([]byte(r.Data)); ok {
				m.actions["go-audit"]++
				m.bytes["go-audit"] += len(l) + 1
				m.sources["EXECVE"]++
				m.record(seq, ns, now)
				return
			}
		}
		for _, a := range e.Process.Args {
			rest, found := strings.CutPrefix(a, string(m.needle))
			if !found {
				continue
			}
			seq, ns, ok := token([]byte(rest))
			if !ok {
				continue
			}
			m.actions[e.Event.Action]++
			m.bytes[e.Event.Action] += len(l) + 1
			if e.Event.Action != "executed" {
				break
			}
			src := e.Event.Module
			if s, ok := e.Labels["sources"].(string); ok && s != "" {
				src = s
			}
			m.sources[src]++
			m.record(seq, ns, now)
			break
		}
		return
	}
	// RAW audit log: the EXECVE record carries the arguments.
	if !bytes.Contains(l, []byte("type=EXECVE ")) {
		return
	}
	if seq, ns, ok := m.find(l); ok {
		m.sources["EXECVE"]++
		m.record(seq, ns, now)
	}
}

// find returns the first marker argument's SEQ and UNIXNS in b.
func (m *matcher) find(b []byte) (seq int, ns int64, ok bool) {
	for rest := b; ; {
		i := bytes.Index(rest, m.needle)
		if i < 0 {
			return 0, 0, false
		}
		rest = rest[i+len(m.needle):]
		if seq, ns, ok := token(rest); ok {
			return seq, ns, true
		}
	}
}

func (m *matcher) latencies() []float64 {
	ms := make([]float64, 0, len(m.seenAt))
	for seq, at := range m.seenAt {
		ms = append(ms, float64(at-m.sent[seq])/1e6)
	}
	sort.Float64s(ms)
	return ms
}

// pct is the nearest-rank percentile p (0..100) of sorted v.
func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	k := int(math.Ceil(p/100*float64(len(v)))) - 1
	return v[max(0, min(k, len(v)-1))]
}

func (m *matcher) report(w io.Writer, timed bool) {
	fmt.Fprintf(w, "seen %d\n", len(m.seenAt))
	fmt.Fprintf(w, "marked_lines %d\n", m.lines)
	if len(m.seenAt) > 0 {
		lo, hi := math.MaxInt, 0
		for s := range m.seenAt {
			lo, hi = min(lo, s), max(hi, s)
		}
		fmt.Fprintf(w, "seq_min %d\nseq_max %d\n", lo, hi)
	}
	for _, kv := range sortedKeys(m.actions) {
		fmt.Fprintf(w, "action.%s %d\n", kv, m.actions[kv])
	}
	for _, kv := range sortedKeys(m.sources) {
		fmt.Fprintf(w, "source.%s %d\n", kv, m.sources[kv])
	}
	for _, kv := range sortedKeys(m.bytes) {
		fmt.Fprintf(w, "bytes.%s %d\n", kv, m.bytes[kv])
	}
	if !timed {
		return
	}
	v := m.latencies()
	if len(v) == 0 {
		fmt.Fprintf(w, "p50_ms NA\np90_ms NA\np99_ms NA\nmax_ms NA\n")
		return
	}
	fmt.Fprintf(w, "p50_ms %.1f\np90_ms %.1f\np99_ms %.1f\nmax_ms %.1f\n", pct(v, 50), pct(v, 90), pct(v, 99), v[len(v)-1])
}

func sortedKeys(m map[string]int) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

func (m *matcher) writeLatencies(path string) error {
	seqs := make([]int, 0, len(m.seenAt))
	for s := range m.seenAt {
		seqs = append(seqs, s)
	}
	sort.Ints(seqs)
	var b bytes.Buffer
	for _, s := range seqs {
		fmt.Fprintf(&b, "%d %d %d %.3f\n", s, m.sent[s], m.seenAt[s], float64(m.seenAt[s]-m.sent[s])/1e6)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// ---------------------------------------------------------------- tail

// reader follows a file from its start, handing each complete line to the
// matcher with the wall time it was read.
type reader struct {
	f    *os.File
	m    *matcher
	poll time.Duration

	mu   sync.Mutex // guards m while run is going
	quit chan struct{}
	done chan struct{}
	err  error
}

func openReader(path string, m *matcher, poll time.Duration) (*reader, error) {
	// The tool may create its output a moment after we start.
	var f *os.File
	var err error
	for range 100 {
		if f, err = os.Open(path); err == nil || !errors.Is(err, os.ErrNotExist) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	return &reader{f: f, m: m, poll: poll, quit: make(chan struct{}), done: make(chan struct{})}, nil
}

func (r *reader) run() {
	defer close(r.done)
	defer r.f.Close()
	buf := make([]byte, 1<<20)
	var part []byte // an incomplete last line
	for {
		n, err := r.f.Read(buf)
		if n > 0 {
			now := time.Now().UnixNano()
			data := buf[:n]
			r.mu.Lock()
			for {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					part = append(part, data...)
					break
				}
				if len(part) > 0 {
					part = append(part, data[:i]...)
					r.m.line(part, now)
					part = part[:0]
				} else {
					r.m.line(data[:i], now)
				}
				data = data[i+1:]
			}
			r.mu.Unlock()
			continue
		}
		if err != nil && err != io.EOF {
			r.err = err
			return
		}
		select {
		case <-r.quit:
			return
		case <-time.After(r.poll):
		}
	}
}

func (r *reader) seenCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m.seenAt)
}

func (r *reader) stop() {
	close(r.quit)
	<-r.done
}
