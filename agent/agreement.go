package agent

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/lineaged/lineaged/audit"
	"github.com/lineaged/lineaged/event"
	"github.com/lineaged/lineaged/output"
)

// Agreement checks SPEC §8's promise that live and replay are one
// pipeline: it runs a recorded audit.log (RAW or ENRICHED, no node=)
// through Replay, and through the live path (the live audit source's
// record stage fed each record as the kernel sent it, on the log's clock;
// the exec merge; the pipeline with the live graph's bounds), and returns
// the lines that differ once entity ids and event ids are renamed
// consistently (they differ by design, SPEC §2), with the number of lines
// compared. open is called once per run, and so is detector when set (a
// detector keeps state: each run needs its own). The tests run it on the
// recorded devbox log and on the scenario suite's log.
func Agreement(open func() io.Reader, cfg ReplayConfig, detector func() Detector) (diffs []string, lines int, err error) {
	if detector != nil {
		cfg.Detector = detector()
	}
	var rep bytes.Buffer
	w := output.NewWriter(&rep)
	if _, err := Replay(context.Background(), cfg, []audit.Input{{Name: "recorded", R: open()}}, w); err != nil {
		return nil, 0, fmt.Errorf("replay: %w", err)
	}
	if err := w.Flush(); err != nil {
		return nil, 0, err
	}
	if detector != nil {
		cfg.Detector = detector()
	}
	var live bytes.Buffer
	lw := output.NewWriter(&live)
	if err := replayLivePath(open(), cfg, lw); err != nil {
		return nil, 0, fmt.Errorf("live path: %w", err)
	}
	if err := lw.Flush(); err != nil {
		return nil, 0, err
	}
	a, b := renameIDs(rep.Bytes(), true), renameIDs(live.Bytes(), false)
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			diffs = append(diffs, fmt.Sprintf("line %d\n  replay: %s\n  live:   %s", i+1, x, y))
		}
	}
	return diffs, max(len(a), len(b)), nil
}

// replayLivePath feeds a recorded log through the live path. /proc is not
// read (the recorded processes are long gone): the fake reports nothing.
func replayLivePath(r io.Reader, cfg ReplayConfig, sink Sink) error {
	var clock time.Time
	p := NewPipeline(PipelineConfig{Host: cfg.Host, IDPrefix: cfg.IDPrefix, Redact: cfg.Redact, Detector: cfg.Detector,
		Graph: liveGraph()}, sink)
	m := newExecMerge(p, noProc{}, func() time.Time { return clock })
	m.auditExecs = true
	rec := audit.NewRecords(cfg.Host, nil)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		typ, payload, err := audit.KernelRecord(line)
		if err != nil {
			return fmt.Errorf("%q: %w", line, err)
		}
		if t := recordTime(payload); t.After(clock) {
			clock = t
		}
		rec.Feed(typ, payload, clock.UnixMilli(), m.audit)
		m.release(false)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	rec.Flush(m.audit)
	m.release(true)
	p.Flush()
	return p.Err()
}

// noProc is a /proc that has nothing.
type noProc struct{}

func (noProc) NetNS(int) uint64            { return 0 }
func (noProc) Leaders(int) (int, int)      { return 0, 0 }
func (noProc) Exec(int) (string, []string) { return "", nil }

var stampRe = regexp.MustCompile(`^audit\((\d+)\.(\d+):`)

// recordTime is a kernel payload's timestamp ("audit(SEC.MSEC:SERIAL):").
func recordTime(payload []byte) time.Time {
	m := stampRe.FindSubmatch(payload)
	if m == nil {
		return time.Time{}
	}
	var sec, ms int64
	fmt.Sscan(string(m[1]), &sec)
	fmt.Sscan(string(m[2]), &ms)
	return time.UnixMilli(sec*1000 + ms)
}

var idRe = regexp.MustCompile(`"(entity_id)":"([^"]*)"`)

// renameIDs splits JSON lines and renames every entity id and event id
// to its order of first appearance; replay's closing summary (which live
// has no equivalent of) is dropped.
func renameIDs(b []byte, replay bool) []string {
	names := map[string]string{}
	var out []string
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if replay && bytes.Contains(l, []byte(`"action":"`+string(event.ActionReplaySummary)+`"`)) {
			continue
		}
		l = idRe.ReplaceAllFunc(l, func(m []byte) []byte {
			sub := idRe.FindSubmatch(m)
			k := string(sub[1]) + ":" + string(sub[2])
			n, ok := names[k]
			if !ok {
				n = fmt.Sprintf("%s-%d", sub[1], len(names))
				names[k] = n
			}
			return []byte(`"` + string(sub[1]) + `":"` + n + `"`)
		})
		out = append(out, string(l))
	}
	return out
}
